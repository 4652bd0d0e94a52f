package stripegateway

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"
)

// Goroutine hygiene: nothing the gateway starts outlives its use. The tests
// here are not parallel, so that the goroutine count is theirs alone: Go
// runs every non-parallel top-level test before any parallel one.
//
// The checks wait for the count to come down (eventual consistency: closed
// connections take a moment to wind down); they do not time the library.

// hygieneWait bounds every wait: far above stripe-go's longest backoff
// sleep (5s) and far below its default HTTP timeout (80s).
const hygieneWait = 15 * time.Second

// ourGoroutines returns the stacks of the other goroutines that run code
// of this package's calls or of stripe-go.
func ourGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue // the calling goroutine
		}
		if strings.Contains(g, "stripegateway.callContext") ||
			strings.Contains(g, "stripe/stripe-go/v76") ||
			strings.Contains(g, "stripegateway.(*webhookHandler)") {
			out = append(out, g)
		}
	}
	return out
}

// settleGoroutines waits until no goroutine runs our code (earlier tests
// may have left stripe-go asleep between retries of a call whose context
// ended) and returns the goroutine count then.
func settleGoroutines(t *testing.T) int {
	t.Helper()
	waitFor(t, "goroutines of earlier tests to end", func() bool { return len(ourGoroutines()) == 0 })
	return runtime.NumGoroutine()
}

// checkNoGoroutineLeft waits until the goroutine count is back to baseline
// and no goroutine runs our code, and returns how long that took.
func checkNoGoroutineLeft(t *testing.T, baseline int) time.Duration {
	t.Helper()
	start := time.Now()
	ok := pollUntil(hygieneWait, func() bool {
		return runtime.NumGoroutine() <= baseline && len(ourGoroutines()) == 0
	})
	if !ok {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("goroutines left behind after %v: %d running, %d before\n%s", hygieneWait, runtime.NumGoroutine(), baseline, buf[:n])
	}
	return time.Since(start)
}

func waitFor(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	if !pollUntil(hygieneWait, cond) {
		t.Fatalf("timed out after %v waiting for %s", hygieneWait, what)
	}
	return time.Since(start)
}

func pollUntil(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestNoGoroutineLeftAfterGatewayUse: concurrent calls of every write,
// successful and failed, leave nothing running once the API server is gone.
// The gateway uses its default HTTP client (http.DefaultTransport).
func TestNoGoroutineLeftAfterGatewayUse(t *testing.T) {
	baseline := settleGoroutines(t)

	api := newFaultAPI(t, faultStatus(503, "application/json", `{"error":{"type":"api_error","message":"unavailable"}}`), false, 0)
	g, err := New(validConfig(), WithAPIURL(api.srv.URL), checkoutClock())
	require.NoError(t, err)

	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			_, err := g.CreateCheckout(ctx, baseCheckoutRequest())
			assert.NoError(t, err)
			_, err = g.Capture(ctx, CaptureRequest{PaymentIntentID: "pi_123"})
			assert.NoError(t, err)
			_, err = g.Refund(ctx, RefundRequest{PaymentIntentID: "pi_123"})
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	// A failing call (no retries) and one that times out.
	api.faults.Store(-1)
	g2, err := New(validConfig(), WithAPIURL(api.srv.URL), checkoutClock(), WithMaxNetworkRetries(0))
	require.NoError(t, err)
	_, err = g2.CreateCheckout(context.Background(), baseCheckoutRequest())
	require.ErrorIs(t, err, ErrStripeAPI)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = g.CreateCheckout(ctx, baseCheckoutRequest()) // stripe-go left asleep between retries
	require.ErrorIs(t, err, context.DeadlineExceeded)

	api.srv.Close()
	took := checkNoGoroutineLeft(t, baseline)
	t.Logf("goroutines back to %d (or fewer) %v after the server closed", baseline, took.Round(time.Millisecond))
}

// TestCanceledCallGoroutineEnds measures how long a call's background
// goroutine (see callContext) outlives the call once its context has
// ended:
//
//   - while stripe-go sleeps between retries (it does not watch the
//     context), the goroutine lives until the sleep ends, then stripe-go's
//     next attempt fails at once on the ended context and it stops: at most
//     one backoff sleep, 1s with the default two retries and 5s (stripe-go's
//     maxNetworkRetriesDelay) with many;
//   - while a request is in flight, the request carries the context
//     (params.Context) and is aborted at once: no waiting for the HTTP
//     client's 80s timeout.
func TestCanceledCallGoroutineEnds(t *testing.T) {
	baseline := settleGoroutines(t)

	t.Run("asleep between retries", func(t *testing.T) {
		api := newFaultAPI(t, faultStatus(503, "application/json", `{"error":{"type":"api_error","message":"unavailable"}}`), false, -1)
		g, err := New(validConfig(), WithAPIURL(api.srv.URL), checkoutClock()) // defaultMaxNetworkRetries, real backoff
		require.NoError(t, err)

		// Attempt 1 at 0, sleep 375-500ms, attempt 2, sleep 750-1000ms:
		// the context ends during the second, longest sleep.
		ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
		defer cancel()
		_, err = g.CreateCheckout(ctx, baseCheckoutRequest())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		lingered := waitFor(t, "the call's background goroutine to end", func() bool { return len(ourGoroutines()) == 0 })
		t.Logf("background goroutine ended %v after the call returned; %d attempts reached the server", lingered.Round(time.Millisecond), len(api.requests()))
		assert.LessOrEqual(t, len(api.requests()), 1+defaultMaxNetworkRetries)
		faultSameKey(t, api.requests())
	})

	t.Run("request in flight", func(t *testing.T) {
		api := newFaultAPI(t, nil, false, -1)
		var arrived sync.WaitGroup
		arrived.Add(1)
		var once sync.Once
		serverSawCancel := make(chan struct{})
		api.fault = func(w http.ResponseWriter, r *http.Request) {
			once.Do(arrived.Done)
			api.faultHang(w, r)
			if r.Context().Err() != nil {
				close(serverSawCancel)
			}
		}
		g, err := New(validConfig(), WithAPIURL(api.srv.URL), checkoutClock())
		require.NoError(t, err)

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := g.CreateCheckout(ctx, baseCheckoutRequest())
			done <- err
		}()
		arrived.Wait()
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		lingered := waitFor(t, "the call's background goroutine to end", func() bool { return len(ourGoroutines()) == 0 })
		t.Logf("background goroutine ended %v after the call returned", lingered.Round(time.Millisecond))
		select {
		case <-serverSawCancel:
		case <-time.After(hygieneWait):
			t.Fatal("the server never saw the request aborted")
		}
		assert.Len(t, api.requests(), 1, "no retry once the context has ended")
	})

	// The subtests' servers are closed by now (their Cleanup ran).
	took := checkNoGoroutineLeft(t, baseline)
	t.Logf("goroutines back to %d (or fewer) %v after the servers closed", baseline, took.Round(time.Millisecond))
}

// TestNoGoroutineLeftAfterHandlerShutdown: webhook deliveries over real
// connections (successes, duplicates at once, failures, a body over the
// limit, a client that hangs up) leave nothing running once the server
// has shut down.
func TestNoGoroutineLeftAfterHandlerShutdown(t *testing.T) {
	baseline := settleGoroutines(t)

	now := time.Date(2023, 11, 15, 12, 0, 0, 0, time.UTC)
	g, err := New(validConfig(), WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	var calls sync.Map // event ID → *atomic.Int32
	h := g.WebhookHandler(Handlers{Default: func(ctx context.Context, o *Outcome) error {
		n, _ := calls.LoadOrStore(o.EventID, new(atomic.Int32))
		if n.(*atomic.Int32).Add(1) == 1 && o.Kind == PaymentFailed {
			return io.ErrUnexpectedEOF // fails once
		}
		time.Sleep(time.Millisecond)
		return nil
	}})
	srv := httptest.NewServer(h)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 5 * time.Second}

	entries, err := os.ReadDir(filepath.Join("testdata", "events"))
	require.NoError(t, err)
	var payloads [][]byte
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", "events", e.Name()))
		require.NoError(t, err)
		payloads = append(payloads, b)
	}
	post := func(payload []byte, header string) int {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/webhook", bytes.NewReader(payload))
		require.NoError(t, err)
		req.Header.Set("Stripe-Signature", header)
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	var wg sync.WaitGroup
	for round := 0; round < 3; round++ { // every event three times, at once
		for _, p := range payloads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				header := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: p, Secret: testWHSEC, Timestamp: now}).Header
				post(p, header)
			}()
		}
	}
	wg.Wait()
	assert.Equal(t, http.StatusBadRequest, post([]byte(`{}`), "t=1,v1=00"))
	assert.Equal(t, http.StatusRequestEntityTooLarge, post(bytes.Repeat([]byte("x"), 2<<20), "t=1,v1=00"))

	// A client that sends half a body and hangs up.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	_, err = io.WriteString(conn, "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nStripe-Signature: t=1,v1=00\r\n\r\n{\"id\":")
	require.NoError(t, err)
	require.NoError(t, conn.Close())

	srv.Close()
	client.CloseIdleConnections()
	took := checkNoGoroutineLeft(t, baseline)
	t.Logf("goroutines back to %d (or fewer) %v after the server closed", baseline, took.Round(time.Millisecond))
}
