// Package skipper is run by skipnote's test: one test skips for a missing
// system package, one runs.
package skipper_test

import (
	"os"
	"testing"

	"github.com/b27de697/stripegateway/internal/skipnote"
)

var skips skipnote.Notes

func TestMain(m *testing.M) { os.Exit(skipnote.Main(m, &skips)) }

func TestNeedsAThing(t *testing.T) { skips.Skip(t, "no thing in PATH: install thing") }

func TestAlsoNeedsIt(t *testing.T) { skips.Skip(t, "no thing in PATH: install thing") }

func TestRuns(t *testing.T) {}
