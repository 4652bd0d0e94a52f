// Package skipnote makes the tests that skip for a missing system package
// (PostgreSQL, Chromium) say so in the default output of go test.
//
// Without -v, go test prints nothing of a passing package but its "ok"
// line: a package whose tests all skipped looks exactly like one whose
// tests ran. Main, called from TestMain, prints after the tests one line
// per reason, such as
//
//	SKIP github.com/b27de697/stripegateway/sqlstore: 23 tests skipped: no PostgreSQL server binaries …: install the Debian package postgresql …
//
// To be seen, the line is written where the go command writes its own
// output: with -v (and -json) to the test's standard output, which go test
// then shows; otherwise, on Linux, to the go command's standard output (or
// its standard error, if its standard output is a file it would overwrite
// the line in), since go test discards the output of a passing test
// binary. And a run that skipped is not cached: otherwise the next
// go test would print "ok (cached)" and nothing else.
package skipnote

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Notes records why tests skipped. The zero value is ready to use; it is
// safe for concurrent use.
type Notes struct {
	mu      sync.Mutex
	reasons map[string]map[string]bool // reason: names of the tests skipped
}

// Skip records that t skips for reason, then skips it.
func (n *Notes) Skip(t testing.TB, reason string) {
	t.Helper()
	n.add(reason, t.Name())
	t.Skip(reason)
}

// Add records that tests skipped for reason, without naming them.
func (n *Notes) Add(reason string) { n.add(reason, "") }

// Empty reports whether no skip was recorded.
func (n *Notes) Empty() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.reasons) == 0
}

func (n *Notes) add(reason, test string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.reasons == nil {
		n.reasons = make(map[string]map[string]bool)
	}
	if n.reasons[reason] == nil {
		n.reasons[reason] = make(map[string]bool)
	}
	if test != "" {
		n.reasons[reason][test] = true
	}
}

// Lines returns the lines Main prints for package pkg, one per reason.
func (n *Notes) Lines(pkg string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for reason, tests := range n.reasons {
		what := "tests skipped"
		switch len(tests) {
		case 0:
		case 1:
			what = "1 test skipped"
		default:
			what = fmt.Sprintf("%d tests skipped", len(tests))
		}
		out = append(out, fmt.Sprintf("SKIP %s: %s: %s", pkg, what, reason))
	}
	sort.Strings(out)
	return out
}

// Main runs the tests and, if they passed and some skipped, prints why
// where go test shows it (see the package documentation). Use it from
// TestMain:
//
//	var skips skipnote.Notes
//
//	func TestMain(m *testing.M) { os.Exit(skipnote.Main(m, &skips)) }
func Main(m *testing.M, n *Notes) int {
	code := m.Run()
	if code == 0 {
		report(n, callerPackage(2))
	}
	return code
}

// Report prints n's lines where go test shows them, naming the package
// whose TestMain calls it, and keeps the run out of go test's cache. Call
// it from TestMain, after m.Run, when the tests passed.
func Report(n *Notes) { report(n, callerPackage(2)) }

func report(n *Notes, pkg string) {
	lines := n.Lines(pkg)
	if len(lines) == 0 {
		return
	}
	text := strings.Join(lines, "\n") + "\n"
	if testing.Verbose() || !toGoCommand(text) {
		// go test -v shows the test's output; so does a test binary run by
		// hand.
		fmt.Print(text)
	}
	uncache()
}

// uncache keeps this run's result out of go test's cache, so that the next
// go test runs the package again and says again why it skipped. The go
// command caches a passing result keyed by the inputs listed in the test
// log (-test.testlogfile); a line it cannot parse makes the run
// uncacheable.
func uncache() {
	f := flag.Lookup("test.testlogfile")
	if f == nil || f.Value.String() == "" {
		return
	}
	log, err := os.OpenFile(f.Value.String(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return
	}
	defer log.Close()
	_, _ = io.WriteString(log, "skipnote:not-cacheable\n")
}

// callerPackage is the import path of the package of the function skip
// frames up (TestMain), without the _test of an external test package.
func callerPackage(skip int) string {
	pc, _, _, ok := runtime.Caller(skip)
	if !ok {
		return "this package"
	}
	name := runtime.FuncForPC(pc).Name() // e.g. example.com/mod/pkg_test.TestMain
	dir, base := "", name
	if i := strings.LastIndex(name, "/"); i >= 0 {
		dir, base = name[:i+1], name[i+1:]
	}
	if i := strings.Index(base, "."); i >= 0 {
		base = base[:i]
	}
	return dir + strings.TrimSuffix(base, "_test")
}
