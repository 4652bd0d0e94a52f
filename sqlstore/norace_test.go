//go:build !race

package sqlstore_test

// raceEnabled: the tests run under the race detector (-race).
const raceEnabled = false
