// Package stripemock runs Stripe's official API mock, stripe-mock, for the
// project's tests and examples. It builds the version pinned in the
// repository's tools/go.mod from its Go module, caches the binary, starts it
// on free loopback ports and stops it again.
//
// Set STRIPE_MOCK_URL to use a stripe-mock that is already running instead.
package stripemock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvURL names the variable that points at a running stripe-mock.
const EnvURL = "STRIPE_MOCK_URL"

// module is stripe-mock's module path, as pinned in tools/go.mod.
const module = "github.com/stripe/stripe-mock"

// Server is a running stripe-mock.
type Server struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:41234.
	URL  string
	proc *os.Process
	done chan struct{} // closed when the process has exited
}

// Close stops the server if this package started it, and waits for it to exit.
func (s *Server) Close() error {
	if s == nil || s.proc == nil {
		return nil
	}
	_ = s.proc.Kill()
	<-s.done
	return nil
}

// Start returns a stripe-mock to talk to: the one named by STRIPE_MOCK_URL,
// or a new one built from the pinned module and started on loopback. logf
// receives the progress messages of a build (the first one takes about a
// minute); when nil, they go to standard error.
func Start(ctx context.Context, logf func(format string, args ...any)) (*Server, error) {
	if u := strings.TrimSpace(os.Getenv(EnvURL)); u != "" {
		u = strings.TrimRight(u, "/")
		if err := waitReady(ctx, u); err != nil {
			return nil, fmt.Errorf("stripemock: %s=%s does not answer: %w", EnvURL, u, err)
		}
		return &Server{URL: u}, nil
	}
	bin, err := Binary(ctx, logf)
	if err != nil {
		return nil, err
	}
	return startBinary(ctx, bin)
}

// toolsDir is the repository's tools module, found from this source file.
func toolsDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("stripemock: cannot locate the source tree")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "tools")
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return "", fmt.Errorf("stripemock: tools module not found next to the source (%v); run from a checkout of the repository or set %s", err, EnvURL)
	}
	return dir, nil
}

var versionRE = regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + `\s+(v\S+)`)

// Version returns the stripe-mock version pinned in tools/go.mod.
func Version() (string, error) {
	dir, err := toolsDir()
	if err != nil {
		return "", err
	}
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("stripemock: %w", err)
	}
	m := versionRE.FindSubmatch(mod)
	if m == nil {
		return "", fmt.Errorf("stripemock: %s is not pinned in tools/go.mod", module)
	}
	return string(m[1]), nil
}

// stderr receives the progress messages when no logf is given; tests
// replace it.
var stderr io.Writer = os.Stderr

// stderrf writes a progress message to standard error.
func stderrf(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }

// buildMu makes the builds of one process wait for each other, so that one
// builds and says so, and the others find its binary.
var buildMu sync.Mutex

// build compiles stripe-mock into out; tests replace it.
var build = func(ctx context.Context, tools, out string) ([]byte, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("the go command is needed to build stripe-mock: %w", err)
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, module)
	cmd.Dir = tools
	// GOWORK=off: the tools module is not part of the repository's
	// workspace. CGO_ENABLED=0: no C compiler is needed.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
	return cmd.CombinedOutput()
}

// Binary returns the path of the pinned stripe-mock binary, building it into
// the user cache directory the first time. A build is announced once,
// through logf (standard error if nil), with how long it takes: it is the
// long silence of a first run otherwise. A cached binary is used silently.
func Binary(ctx context.Context, logf func(format string, args ...any)) (string, error) {
	if logf == nil {
		logf = stderrf
	}
	version, err := Version()
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "stripegateway", "stripe-mock-"+version)
	bin := filepath.Join(dir, "stripe-mock")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cached := func() bool {
		fi, err := os.Stat(bin)
		return err == nil && fi.Mode().IsRegular()
	}
	if cached() {
		return bin, nil
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if cached() {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("stripemock: cannot create cache directory: %w", err)
	}
	tools, err := toolsDir()
	if err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", bin, os.Getpid())
	logf("stripemock: building stripe-mock %s (Stripe's API mock) into %s: the first build takes about a minute; later runs use the cached binary", version, dir)
	start := time.Now()
	out, err := build(ctx, tools, tmp)
	if err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("stripemock: building %s@%s failed (it needs the Go toolchain and the Go module proxy): %w\n%s", module, version, err, out)
	}
	// Rename is atomic: concurrent test packages may race to build, and
	// each sees either no binary or a complete one.
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("stripemock: %w", err)
	}
	logf("stripemock: built stripe-mock %s in %s", version, time.Since(start).Round(time.Second))
	return bin, nil
}

var listenRE = regexp.MustCompile(`Listening for HTTP at address: (\S+)`)

func startBinary(ctx context.Context, bin string) (*Server, error) {
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	setPdeathsig(cmd)
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("stripemock: starting %s: %w", bin, err)
	}
	addrCh := make(chan string, 1)
	var output strings.Builder
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(pr)
		found := false
		for sc.Scan() {
			line := sc.Text()
			if !found {
				mu.Lock()
				output.WriteString(line + "\n")
				mu.Unlock()
				if m := listenRE.FindStringSubmatch(line); m != nil {
					found = true
					addrCh <- m[1]
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	exited := make(chan error, 1)
	srv := &Server{proc: cmd.Process, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		_ = pw.Close()
		exited <- err
		close(srv.done)
	}()

	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	select {
	case addr := <-addrCh:
		srv.URL = "http://" + addr
	case err := <-exited:
		mu.Lock()
		defer mu.Unlock()
		return nil, fmt.Errorf("stripemock: %s exited before listening: %v\n%s", bin, err, output.String())
	case <-timeout.C:
		_ = srv.Close()
		return nil, errors.New("stripemock: stripe-mock did not start listening within 60s")
	case <-ctx.Done():
		_ = srv.Close()
		return nil, ctx.Err()
	}
	if err := waitReady(ctx, srv.URL); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("stripemock: started but does not answer: %w", err)
	}
	return srv, nil
}

// waitReady polls the server until it answers an authenticated request.
func waitReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/balance", nil)
		req.SetBasicAuth("sk_test_stripemock", "")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			lastErr = fmt.Errorf("HTTP %d", resp.StatusCode)
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return lastErr
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// URL returns the base URL of the stripe-mock shared by the tests of one
// package, starting it on first use. It fails the test, never skips it, when
// stripe-mock cannot be built or started. Call Main from TestMain to stop it.
func URL(tb testing.TB) string {
	tb.Helper()
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		shared, sharedErr = Start(ctx, func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })
	})
	if sharedErr != nil {
		tb.Fatalf("stripe-mock is required for this test and could not be started: %v", sharedErr)
	}
	return shared.URL
}

// Main runs the tests and then stops the shared stripe-mock, if one was
// started. Use it as: func TestMain(m *testing.M) { os.Exit(stripemock.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		_ = shared.Close()
	}
	return code
}
