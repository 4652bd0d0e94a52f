//go:build !linux

package skipnote

// toGoCommand reports false: only Linux lets the test reach the go
// command's output; elsewhere the skips show with go test -v.
func toGoCommand(string) bool { return false }
