package e2e

import (
	"os"
	"os/exec"
	"testing"

	"github.com/b27de697/stripegateway/internal/skipnote"
)

// skips records the tests skipped for want of Chromium. A test that skips
// for a missing system package can record itself with skips.Skip(t,
// reason); TestMain also notes a missing Chromium on its own.
var skips skipnote.Notes

// chromiumMissing is the reason the browser tests skip when no Chromium is
// found the way findChromium looks for it, or "".
func chromiumMissing() string {
	if os.Getenv("CHROMIUM") != "" {
		return ""
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if _, err := exec.LookPath(name); err == nil {
			return ""
		}
	}
	return "Chromium not found: install it with `apt-get install -y chromium` (Debian/Ubuntu) or point CHROMIUM at a Chrome binary"
}

// TestMain runs the tests and, when they skipped for want of Chromium,
// says so in go test's default output (skipnote), which otherwise shows a
// plain "ok". Under CI=true a missing Chromium fails the tests instead.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if reason := chromiumMissing(); reason != "" && skips.Empty() && os.Getenv("CI") != "true" {
			skips.Add(reason)
		}
		skipnote.Report(&skips)
	}
	os.Exit(code)
}
