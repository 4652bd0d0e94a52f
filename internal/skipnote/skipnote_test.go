package skipnote

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

func TestLines(t *testing.T) {
	var n Notes
	if !n.Empty() || len(n.Lines("p")) != 0 {
		t.Fatal("a new Notes is not empty")
	}
	n.add("no b: install b", "TestB")
	n.add("no a: install a", "TestA1")
	n.add("no a: install a", "TestA2")
	n.add("no a: install a", "TestA2")
	n.Add("no c: install c")
	got := strings.Join(n.Lines("example.com/p"), "\n")
	want := "SKIP example.com/p: 1 test skipped: no b: install b\n" +
		"SKIP example.com/p: 2 tests skipped: no a: install a\n" +
		"SKIP example.com/p: tests skipped: no c: install c"
	if got != want {
		t.Fatalf("Lines:\n%s\nwant:\n%s", got, want)
	}
}

func TestCallerPackage(t *testing.T) {
	if got, want := callerPackage(1), "github.com/b27de697/stripegateway/internal/skipnote"; got != want {
		t.Fatalf("callerPackage = %q, want %q", got, want)
	}
}

// go test without -v shows the skips, every time: the run is not cached.
func TestShownByGoTest(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the skips reach go test's default output on Linux only")
	}
	if testing.Short() {
		t.Skip("runs go test")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command in PATH: %v", err)
	}
	for run := 1; run <= 2; run++ {
		cmd := exec.Command(goBin, "test", "./testdata/skipper")
		cmd.Env = append(os.Environ(), "GOFLAGS=")
		// Output through a pipe, as in a terminal or a CI log.
		out, err := cmd.CombinedOutput()
		text := string(out)
		if err != nil {
			t.Fatalf("run %d: go test: %v\n%s", run, err, text)
		}
		want := "SKIP github.com/b27de697/stripegateway/internal/skipnote/testdata/skipper: 2 tests skipped: no thing in PATH: install thing\n"
		if !strings.Contains(text, want) {
			t.Fatalf("run %d: go test's output does not show the skips:\n%s", run, text)
		}
		if strings.Contains(text, "(cached)") {
			t.Fatalf("run %d: a run that skipped was cached:\n%s", run, text)
		}
		if !strings.Contains(text, "ok  \tgithub.com/b27de697/stripegateway/internal/skipnote/testdata/skipper") {
			t.Fatalf("run %d: no ok line:\n%s", run, text)
		}
	}
}
