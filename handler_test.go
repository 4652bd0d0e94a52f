package stripegateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/internal/wire"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// Credentials of the handler tests, in the shapes of real ones.
const (
	hSecret     = "whsec_xxxxhandlertestsigningsecret0001"
	hSecretPrev = "whsec_xxxhandlertestprevioussecret0002"
	hPath       = "/gateways/stripe/notification"
)

var hNow = time.Date(2023, 11, 15, 12, 0, 0, 0, time.UTC)

func handlerConfig() stripegateway.Config {
	return stripegateway.Config{
		DisplayName:            "Credit Card",
		Status:                 stripegateway.StatusActive,
		Mode:                   stripegateway.ModeTest,
		PublishableKey:         "pk_test_51Hhandlerpublishablekey0001",
		SecretKey:              "sk_test_51Hhandlersecretkeyvalue0001",
		WebhookSecret:          hSecret,
		PreviousWebhookSecrets: []stripegateway.Secret{hSecretPrev},
	}
}

// clock is a settable clock for WithClock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture is a gateway with a handler whose callbacks are counted.
type fixture struct {
	g     *stripegateway.Gateway
	clock *clock
	logs  *syncBuffer
	calls atomic.Int32 // every callback call, of any kind

	mu       sync.Mutex
	outcomes []*stripegateway.Outcome
}

// newFixture builds a gateway. cb, if not nil, runs inside every callback
// (after counting); without it callbacks succeed.
func newFixture(t *testing.T, cb func(context.Context, *stripegateway.Outcome) error, opts ...stripegateway.Option) (*fixture, http.Handler) {
	t.Helper()
	f := &fixture{clock: newClock(hNow), logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts = append([]stripegateway.Option{stripegateway.WithClock(f.clock.now), stripegateway.WithLogger(logger)}, opts...)
	g, err := stripegateway.New(handlerConfig(), opts...)
	require.NoError(t, err)
	f.g = g
	count := func(ctx context.Context, o *stripegateway.Outcome) error {
		f.calls.Add(1)
		f.mu.Lock()
		f.outcomes = append(f.outcomes, o)
		f.mu.Unlock()
		if cb != nil {
			return cb(ctx, o)
		}
		return nil
	}
	// Every kind has a callback, through Default.
	return f, g.WebhookHandler(stripegateway.Handlers{Default: count})
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// paidEvent is a typical paid checkout, with a fixed event ID.
func paidEvent() stripegatewaytest.Event {
	ev := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "order-42", decimal.RequireFromString("19.99"), "eur")
	ev.ID = "evt_1OCzHandlerTestEvent01"
	ev.Created = hNow.Add(-time.Second)
	return ev
}

func TestHandlerHostileInput(t *testing.T) {
	valid := paidEvent().MustJSON()
	live := paidEvent()
	live.Livemode = true
	otherVersion := paidEvent()
	otherVersion.APIVersion = "2099-01-01.future"
	header := stripegatewaytest.SignatureHeader(valid, hSecret, stripegatewaytest.At(hNow))
	sig := header[strings.Index(header, "v1=")+3:]
	ts := fmt.Sprintf("t=%d", hNow.Unix())

	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, valid))
	var reordered map[string]any
	require.NoError(t, json.Unmarshal(valid, &reordered))
	reencoded, err := json.Marshal(reordered)
	require.NoError(t, err)
	big := bytes.Repeat([]byte(" "), 1<<20+1)
	copy(big, valid)

	signed := func(p []byte, opts ...stripegatewaytest.SignOption) *http.Request {
		return stripegatewaytest.NewRequest(hPath, p, hSecret, append([]stripegatewaytest.SignOption{stripegatewaytest.At(hNow)}, opts...)...)
	}
	withHeader := func(p []byte, h string) *http.Request {
		r := signed(p)
		r.Header.Set("Stripe-Signature", h)
		return r
	}
	withMethod := func(method string) *http.Request {
		r := signed(valid)
		r.Method = method
		return r
	}
	chunked := func(p []byte) *http.Request {
		r := signed(p)
		r.ContentLength = -1
		r.Body = io.NopCloser(bytes.NewReader(p)) // length unknown, as with chunked encoding
		return r
	}

	tests := []struct {
		name     string
		req      *http.Request
		opts     []stripegateway.Option
		want     int
		wantCall bool
	}{
		{"no header", func() *http.Request { r := signed(valid); r.Header.Del("Stripe-Signature"); return r }(), nil, 400, false},
		{"empty header", withHeader(valid, ""), nil, 400, false},
		{"malformed header", withHeader(valid, "garbage"), nil, 400, false},
		{"malformed timestamp", withHeader(valid, "t=now,v1="+sig), nil, 400, false},
		{"spaces in header", withHeader(valid, ts+", v1="+sig), nil, 400, false},
		{"timestamp only", withHeader(valid, ts), nil, 400, false},
		{"v0-only signature", withHeader(valid, ts+",v0="+sig), nil, 400, false},
		{"non-hex signature", withHeader(valid, ts+",v1=zz"+sig[2:]), nil, 400, false},
		{"truncated signature", withHeader(valid, ts+",v1="+sig[:32]), nil, 400, false},
		{"signature moved to another timestamp", withHeader(valid, fmt.Sprintf("t=%d,v1=%s", hNow.Unix()-1, sig)), nil, 400, false},
		{"wrong secret", signed(valid, stripegatewaytest.WrongSecret()), nil, 400, false},
		{"payload altered after signing", withHeader(bytes.Replace(valid, []byte("1999"), []byte("0001"), 1), header), nil, 400, false},
		{"payload re-encoded compact", withHeader(compact.Bytes(), header), nil, 400, false},
		{"payload re-encoded with other key order", withHeader(reencoded, header), nil, 400, false},
		{"payload with trailing newline", withHeader(append(append([]byte{}, valid...), '\n'), header), nil, 400, false},
		{"old timestamp", signed(valid, stripegatewaytest.Expired()), nil, 400, false},
		{"future timestamp", signed(valid, stripegatewaytest.At(hNow.Add(10*time.Minute))), nil, 400, false},
		{"stale t before a fresh t", withHeader(valid, fmt.Sprintf("t=%d,", hNow.Unix())+stripegatewaytest.SignatureHeader(valid, hSecret, stripegatewaytest.At(hNow.Add(-time.Hour)))), nil, 400, false},
		{"livemode mismatch", signed(live.MustJSON()), nil, 400, false},
		{"API version mismatch", signed(otherVersion.MustJSON()), nil, 400, false},
		{"body over the default limit", signed(big), nil, 413, false},
		{"body over the limit, length unknown", chunked(big), nil, 413, false},
		{"non-JSON body", signed([]byte("amount=1999&currency=eur")), nil, 400, false},
		{"JSON array", signed([]byte(`[` + string(valid) + `]`)), nil, 400, false},
		{"JSON null", signed([]byte(`null`)), nil, 400, false},
		{"empty body", signed(nil), nil, 400, false},
		{"not an event", signed([]byte(`{"id":"ch_1","object":"charge"}`)), nil, 400, false},
		{"GET", withMethod(http.MethodGet), nil, 405, false},
		{"PUT", withMethod(http.MethodPut), nil, 405, false},
		{"DELETE", withMethod(http.MethodDelete), nil, 405, false},
		{"HEAD", withMethod(http.MethodHead), nil, 405, false},
		{"two signatures, only the second valid", withHeader(valid, fmt.Sprintf("%s,v1=%s,v1=%s", ts, strings.Repeat("ab", 32), sig)), nil, 200, true},
		{"signed with the previous secret and an unknown one", stripegatewaytest.NewRequest(hPath, valid, "whsec_xxxxxunknownsecret00000000000000", stripegatewaytest.At(hNow), stripegatewaytest.AlsoSignedWith(hSecretPrev)), nil, 200, true},
		{"chunked valid body", chunked(valid), nil, 200, true},
	}
	require.GreaterOrEqual(t, len(tests), 25)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, h := newFixture(t, nil, tc.opts...)
			rec := serve(h, tc.req)
			assert.Equal(t, tc.want, rec.Code)
			if tc.wantCall {
				assert.Equal(t, int32(1), f.calls.Load(), "the callback runs")
			} else {
				assert.Equal(t, int32(0), f.calls.Load(), "no callback runs")
			}
			if tc.want == http.StatusMethodNotAllowed {
				assert.Equal(t, http.MethodPost, rec.Header().Get("Allow"))
			}
			assert.LessOrEqual(t, rec.Body.Len(), 64, "short fixed body")
			assert.NotContains(t, rec.Body.String(), "stripegateway")
			assert.NotContains(t, rec.Body.String(), "signature")
			assert.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
		})
	}
}

// TestHandlerUnderMaxBytesHandler: a host that wants a smaller body limit
// than 1 MiB wraps the handler in http.MaxBytesHandler, and a body over it
// is answered 413 with no callback.
func TestHandlerUnderMaxBytesHandler(t *testing.T) {
	f, h := newFixture(t, nil)
	valid := paidEvent().MustJSON()
	require.Greater(t, len(valid), 1024)
	rec := serve(http.MaxBytesHandler(h, 1024), stripegatewaytest.NewRequest(hPath, valid, hSecret, stripegatewaytest.At(hNow)))
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	assert.Equal(t, int32(0), f.calls.Load())
	rec = serve(http.MaxBytesHandler(h, 64<<10), stripegatewaytest.NewRequest(hPath, valid, hSecret, stripegatewaytest.At(hNow)))
	assert.Equal(t, http.StatusOK, rec.Code)
}

// TestHandlerMismatchLogsFix checks that a livemode or API-version mismatch
// is logged as an error that says how to fix it.
func TestHandlerMismatchLogsFix(t *testing.T) {
	f, h := newFixture(t, nil)
	ev := paidEvent()
	ev.APIVersion = "2099-01-01.future"
	rec := serve(h, stripegatewaytest.NewRequest(hPath, ev.MustJSON(), hSecret, stripegatewaytest.At(hNow)))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	logs := f.logs.String()
	assert.Contains(t, logs, "level=ERROR")
	assert.Contains(t, logs, "RegisterWebhookEndpoint")
	assert.Contains(t, logs, "2023-10-16")

	ev = paidEvent()
	ev.Livemode = true
	rec = serve(h, stripegatewaytest.NewRequest(hPath, ev.MustJSON(), hSecret, stripegatewaytest.At(hNow)))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, f.logs.String(), "configure the test-mode endpoint's signing secret")
}

// TestHandlerConcurrentDeliveries delivers one event 100 times at once: the
// callback runs exactly once. While it runs, the other deliveries are told
// to come back later (409), never 200.
func TestHandlerConcurrentDeliveries(t *testing.T) {
	release := make(chan struct{})
	f, h := newFixture(t, func(ctx context.Context, _ *stripegateway.Outcome) error {
		<-release
		return nil
	})
	payload := paidEvent().MustJSON()
	const n = 100
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- serve(h, stripegatewaytest.NewRequest(hPath, payload, hSecret, stripegatewaytest.At(hNow))).Code
		}()
	}
	// While the callback is held, the 99 others are answered 409.
	count := map[int]int{}
	for i := 0; i < n-1; i++ {
		count[<-codes]++
	}
	assert.Equal(t, map[int]int{http.StatusConflict: n - 1}, count)
	close(release)
	wg.Wait()
	assert.Equal(t, http.StatusOK, <-codes)
	assert.Equal(t, int32(1), f.calls.Load())

	// A later redelivery is answered 200 without calling back.
	rec := serve(h, stripegatewaytest.NewRequest(hPath, payload, hSecret, stripegatewaytest.At(hNow)))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, int32(1), f.calls.Load())
}

// TestHandlerConcurrentDeliveriesUngated is the same without holding the
// callback: whatever the interleaving, exactly one call, and every answer
// is 200 or 409.
func TestHandlerConcurrentDeliveriesUngated(t *testing.T) {
	f, h := newFixture(t, nil)
	payload := paidEvent().MustJSON()
	var wg sync.WaitGroup
	var ok, conflict atomic.Int32
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch code := serve(h, stripegatewaytest.NewRequest(hPath, payload, hSecret, stripegatewaytest.At(hNow))).Code; code {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusConflict:
				conflict.Add(1)
			default:
				t.Errorf("unexpected status %d", code)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), f.calls.Load())
	assert.Equal(t, int32(100), ok.Load()+conflict.Load())
	assert.GreaterOrEqual(t, ok.Load(), int32(1))
}

// TestHandlerFailureThenRedelivery: a failing (or panicking) callback is
// answered 500 and releases the event; Stripe's redelivery runs it again,
// and once it succeeded the event is done.
func TestHandlerFailureThenRedelivery(t *testing.T) {
	for _, mode := range []string{"error", "panic"} {
		t.Run(mode, func(t *testing.T) {
			var attempts atomic.Int32
			release := make(chan struct{})
			f, h := newFixture(t, func(ctx context.Context, _ *stripegateway.Outcome) error {
				<-release
				if attempts.Add(1) == 1 {
					if mode == "panic" {
						panic("database on fire")
					}
					return errors.New("database unavailable")
				}
				return nil
			})
			payload := paidEvent().MustJSON()
			deliver := func(n int) map[int]int {
				codes := make(chan int, n)
				for i := 0; i < n; i++ {
					go func() {
						codes <- serve(h, stripegatewaytest.NewRequest(hPath, payload, hSecret, stripegatewaytest.At(hNow))).Code
					}()
				}
				count := map[int]int{}
				for i := 0; i < n-1; i++ {
					count[<-codes]++
				}
				release <- struct{}{} // let the one callback finish
				count[<-codes]++
				return count
			}

			// First wave: 100 at once, the callback fails once.
			assert.Equal(t, map[int]int{http.StatusConflict: 99, http.StatusInternalServerError: 1}, deliver(100))
			assert.Equal(t, int32(1), f.calls.Load())
			// Redelivery wave: it runs again, and succeeds.
			assert.Equal(t, map[int]int{http.StatusConflict: 99, http.StatusOK: 1}, deliver(100))
			assert.Equal(t, int32(2), f.calls.Load())
			// Done: no more calls.
			close(release)
			for i := 0; i < 3; i++ {
				rec := serve(h, stripegatewaytest.NewRequest(hPath, payload, hSecret, stripegatewaytest.At(hNow)))
				assert.Equal(t, http.StatusOK, rec.Code)
			}
			assert.Equal(t, int32(2), f.calls.Load())
			assert.Contains(t, f.logs.String(), "webhook callback failed")
			if mode == "panic" {
				assert.Contains(t, f.logs.String(), "database on fire")
				assert.Contains(t, f.logs.String(), "stack=")
			}
		})
	}
}

// TestHandlerLeaseExpiry: a delivery that "died" holding the claim blocks
// the event until its lease ends; then a redelivery processes it.
func TestHandlerLeaseExpiry(t *testing.T) {
	store := new(stripegateway.MemoryEventStore)
	f, h := newFixture(t, nil, stripegateway.WithEventStore(store), stripegateway.WithEventLease(2*time.Minute))
	ev := paidEvent()
	st, err := store.Claim(context.Background(), stripegateway.EventClaim{
		EventID: ev.ID, Owner: "crashed-replica", Now: hNow, Expires: hNow.Add(2 * time.Minute),
	})
	require.NoError(t, err)
	require.Equal(t, stripegateway.ClaimAcquired, st)

	payload := ev.MustJSON()
	rec := serve(h, stripegatewaytest.NewRequest(hPath, payload, hSecret, stripegatewaytest.At(hNow)))
	assert.Equal(t, http.StatusConflict, rec.Code)
	assert.Equal(t, "60", rec.Header().Get("Retry-After"))
	assert.Equal(t, int32(0), f.calls.Load())

	later := hNow.Add(2 * time.Minute)
	f.clock.set(later)
	rec = serve(h, stripegatewaytest.NewRequest(hPath, payload, hSecret, stripegatewaytest.At(later)))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, int32(1), f.calls.Load())
}

// TestHandlerCallbackContext: the callback's context keeps the request's
// values, outlives the client hanging up, and ends with the lease.
func TestHandlerCallbackContext(t *testing.T) {
	type key struct{}
	var deadline time.Time
	var value any
	var errAtCall error
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	_, h := newFixture(t, func(cbCtx context.Context, _ *stripegateway.Outcome) error {
		cancel() // the client hangs up
		deadline, _ = cbCtx.Deadline()
		value = cbCtx.Value(key{})
		errAtCall = cbCtx.Err()
		return nil
	}, stripegateway.WithEventLease(3*time.Minute))
	req := stripegatewaytest.NewRequest(hPath, paidEvent().MustJSON(), hSecret, stripegatewaytest.At(hNow)).WithContext(ctx)
	rec := serve(h, req)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.WithinDuration(t, time.Now().Add(12*3*time.Minute), deadline, 30*time.Second, "renewed claims bound a callback at 12 leases")
	assert.Equal(t, "v", value)
	assert.NoError(t, errAtCall)
}

func TestHandlerCallbackSelection(t *testing.T) {
	var which []string
	on := func(name string) func(context.Context, *stripegateway.Outcome) error {
		return func(context.Context, *stripegateway.Outcome) error { which = append(which, name); return nil }
	}
	store := new(stripegateway.MemoryEventStore)
	g, err := stripegateway.New(handlerConfig(), stripegateway.WithClock(func() time.Time { return hNow }), stripegateway.WithEventStore(store))
	require.NoError(t, err)
	send := func(h http.Handler, kind stripegateway.Kind, id string) int {
		ev := stripegatewaytest.ForKind(kind, "order-7", decimal.RequireFromString("10"), "usd")
		ev.ID = id
		return serve(h, stripegatewaytest.NewRequest(hPath, ev.MustJSON(), hSecret, stripegatewaytest.At(hNow))).Code
	}

	h := g.WebhookHandler(stripegateway.Handlers{OnPaymentSucceeded: on("succeeded"), Default: on("default")})
	assert.Equal(t, 200, send(h, stripegateway.PaymentSucceeded, "evt_a"))
	assert.Equal(t, 200, send(h, stripegateway.PaymentRefunded, "evt_b"))
	assert.Equal(t, 200, send(h, stripegateway.Unhandled, "evt_c"))
	assert.Equal(t, []string{"succeeded", "default", "default"}, which)
	for _, id := range []string{"evt_a", "evt_b", "evt_c"} {
		assert.Equal(t, stripegateway.ClaimCompleted, claimStatus(t, store, id), id)
	}

	// No callback for the kind and no Default: 200, nothing recorded.
	which = nil
	h = g.WebhookHandler(stripegateway.Handlers{OnPaymentSucceeded: on("succeeded")})
	assert.Equal(t, 200, send(h, stripegateway.PaymentRefunded, "evt_d"))
	assert.Equal(t, 200, send(h, stripegateway.Unhandled, "evt_e"))
	assert.Empty(t, which)
	for _, id := range []string{"evt_d", "evt_e"} {
		assert.Equal(t, stripegateway.ClaimAcquired, claimStatus(t, store, id), "%s was not recorded", id)
	}

	// Every kind reaches its own callback.
	all := stripegateway.Handlers{
		OnPaymentSucceeded: on("PaymentSucceeded"), OnPaymentPending: on("PaymentPending"),
		OnPaymentAuthorized: on("PaymentAuthorized"), OnPaymentFailed: on("PaymentFailed"),
		OnPaymentCanceled: on("PaymentCanceled"), OnCheckoutExpired: on("CheckoutExpired"),
		OnPaymentRefunded: on("PaymentRefunded"), OnPaymentDisputed: on("PaymentDisputed"),
		OnSubscriptionCanceled: on("SubscriptionCanceled"), OnInvoiceCreated: on("InvoiceCreated"),
		OnUnhandled: on("Unhandled"),
	}
	kinds := []stripegateway.Kind{stripegateway.PaymentSucceeded, stripegateway.PaymentPending, stripegateway.PaymentAuthorized,
		stripegateway.PaymentFailed, stripegateway.PaymentCanceled, stripegateway.CheckoutExpired, stripegateway.PaymentRefunded,
		stripegateway.PaymentDisputed, stripegateway.SubscriptionCanceled, stripegateway.InvoiceCreated, stripegateway.Unhandled}
	which = nil
	h = g.WebhookHandler(all)
	for i, k := range kinds {
		assert.Equal(t, 200, send(h, k, fmt.Sprintf("evt_kind_%d", i)), k)
	}
	assert.Equal(t, []string{"PaymentSucceeded", "PaymentPending", "PaymentAuthorized", "PaymentFailed", "PaymentCanceled",
		"CheckoutExpired", "PaymentRefunded", "PaymentDisputed", "SubscriptionCanceled", "InvoiceCreated", "Unhandled"}, which)
}

// failingStore fails where told to.
type failingStore struct {
	claimErr      error
	claimStatus   stripegateway.ClaimStatus
	completeErr   error
	completeFails int32 // Complete fails this many times, then succeeds
	completes     atomic.Int32
	released      atomic.Int32
}

func (s *failingStore) Claim(context.Context, stripegateway.EventClaim) (stripegateway.ClaimStatus, error) {
	if s.claimErr != nil {
		return 0, s.claimErr
	}
	return s.claimStatus, nil
}

func (s *failingStore) Complete(context.Context, stripegateway.EventClaim) error {
	if n := s.completes.Add(1); s.completeFails > 0 && n > s.completeFails {
		return nil
	}
	return s.completeErr
}

func (s *failingStore) Release(context.Context, stripegateway.EventClaim, string) error {
	s.released.Add(1)
	return nil
}

func TestHandlerStoreFailures(t *testing.T) {
	payload := paidEvent().MustJSON()
	req := func() *http.Request {
		return stripegatewaytest.NewRequest(hPath, payload, hSecret, stripegatewaytest.At(hNow))
	}

	// Claim fails: 503, no callback.
	f, h := newFixture(t, nil, stripegateway.WithEventStore(&failingStore{claimErr: errors.New("connection refused to postgres://u:" + hSecret + "@db")}))
	rec := serve(h, req())
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, int32(0), f.calls.Load())
	assert.NotContains(t, f.logs.String(), hSecret, "store errors are redacted")

	// An unknown status: 503, no callback.
	f, h = newFixture(t, nil, stripegateway.WithEventStore(&failingStore{claimStatus: 42}))
	assert.Equal(t, http.StatusServiceUnavailable, serve(h, req()).Code)
	assert.Equal(t, int32(0), f.calls.Load())

	// Complete fails after the callback did its work: still 200 (so Stripe
	// does not deliver again), and logged.
	f, h = newFixture(t, nil, stripegateway.WithEventStore(&failingStore{claimStatus: stripegateway.ClaimAcquired, completeErr: errors.New("disk full")}))
	assert.Equal(t, http.StatusOK, serve(h, req()).Code)
	assert.Equal(t, int32(1), f.calls.Load())
	assert.Contains(t, f.logs.String(), "disk full")

	// Complete fails twice, then works: it is retried within the request.
	retried := &failingStore{claimStatus: stripegateway.ClaimAcquired, completeErr: errors.New("connection reset"), completeFails: 2}
	f, h = newFixture(t, nil, stripegateway.WithEventStore(retried))
	assert.Equal(t, http.StatusOK, serve(h, req()).Code)
	assert.Equal(t, int32(3), retried.completes.Load(), "two failures, then the record")
	assert.NotContains(t, f.logs.String(), "failed to record")

	// A lost claim is not retried.
	lost := &failingStore{claimStatus: stripegateway.ClaimAcquired, completeErr: stripegateway.ErrClaimLost}
	_, h = newFixture(t, nil, stripegateway.WithEventStore(lost))
	assert.Equal(t, http.StatusOK, serve(h, req()).Code)
	assert.Equal(t, int32(1), lost.completes.Load())

	// A failing callback releases the claim.
	fs := &failingStore{claimStatus: stripegateway.ClaimAcquired}
	_, h = newFixture(t, func(context.Context, *stripegateway.Outcome) error { return errors.New("no") }, stripegateway.WithEventStore(fs))
	assert.Equal(t, http.StatusInternalServerError, serve(h, req()).Code)
	assert.Equal(t, int32(1), fs.released.Load())
}

// TestHandlerNoSecretsOrCardDataLeak sends valid, invalid and failing
// deliveries of events carrying card data, and checks that no secret and no
// card detail reaches a response body or a log line.
func TestHandlerNoSecretsOrCardDataLeak(t *testing.T) {
	var mode atomic.Value
	mode.Store("ok")
	f, h := newFixture(t, func(_ context.Context, o *stripegateway.Outcome) error {
		switch mode.Load() {
		case "error":
			return fmt.Errorf("could not save order %s with key %s and %s", o.OrderID, hSecret, "sk_live_51Hlivesecretkeyvalue67890")
		case "panic":
			panic("boom with " + hSecretPrev)
		}
		return nil
	})

	refund := stripegatewaytest.ForKind(stripegateway.PaymentRefunded, "order-99", decimal.RequireFromString("25.00"), "usd")
	failed := stripegatewaytest.ForKind(stripegateway.PaymentFailed, "order-98", decimal.RequireFromString("12.50"), "usd")
	failed.DeclineCode, failed.FailureMessage = "insufficient_funds", "Your card has insufficient funds."
	live := refund
	live.Livemode = true
	otherVersion := refund
	otherVersion.APIVersion = "2024-06-20"
	payloads := [][]byte{refund.MustJSON(), failed.MustJSON()}
	for _, p := range payloads {
		require.Contains(t, string(p), `"last4": "4242"`, "the events carry card data")
	}
	require.Contains(t, string(payloads[1]), "_secret_", "and a client secret")
	var bodies []string
	send := func(r *http.Request) {
		rec := serve(h, r)
		bodies = append(bodies, rec.Body.String()+fmt.Sprint(rec.Header()))
	}
	at := stripegatewaytest.At(hNow)
	for _, p := range payloads {
		for _, m := range []string{"error", "panic", "ok", "ok"} {
			mode.Store(m)
			send(stripegatewaytest.NewRequest(hPath, p, hSecret, at))
		}
		send(stripegatewaytest.NewRequest(hPath, p, hSecret, at, stripegatewaytest.WrongSecret()))
		send(stripegatewaytest.NewRequest(hPath, p, hSecret, at, stripegatewaytest.Expired()))
		send(stripegatewaytest.NewRequest(hPath, p[:len(p)/2], hSecret, at))
		r := stripegatewaytest.NewRequest(hPath, p, hSecret, at)
		r.Header.Set("Stripe-Signature", r.Header.Get("Stripe-Signature")+",v1="+strings.Repeat("0", 64))
		send(r)
		send(stripegatewaytest.NewRequest(hPath, append(p, bytes.Repeat([]byte(" "), 2<<20)...), hSecret, at))
	}
	send(stripegatewaytest.NewRequest(hPath, live.MustJSON(), hSecret, at))
	send(stripegatewaytest.NewRequest(hPath, otherVersion.MustJSON(), hSecret, at))
	require.Greater(t, f.calls.Load(), int32(0))

	logs := f.logs.String()
	require.Contains(t, logs, "could not save order order-99", "the callback error is logged")
	require.Contains(t, logs, "boom with")
	// A panic's stack trace holds pointers, which may spell 4242 by chance.
	logs = regexp.MustCompile(`stack="[^"]*"`).ReplaceAllString(logs, "")
	forbidden := []string{
		hSecret, hSecretPrev, "handlertestsigningsecret", "handlertestprevioussecret",
		"sk_live_51Hlivesecretkeyvalue67890", "livesecretkeyvalue",
		string(handlerConfig().SecretKey), "_secret_",
		"4242", "last4", "Fk4Dq9LzR2Wm7Xp1", "fingerprint", "exp_month", "exp_year", "2034",
		"jenny.rosen@example.com",
	}
	for _, s := range forbidden {
		assert.NotContains(t, logs, s, "log")
		for _, b := range bodies {
			assert.NotContains(t, b, s, "response")
		}
	}
}

// TestHandlerResponses checks the fixed bodies of the answers.
func TestHandlerResponses(t *testing.T) {
	_, h := newFixture(t, nil)
	payload := paidEvent().MustJSON()
	rec := serve(h, stripegatewaytest.NewRequest(hPath, payload, hSecret, stripegatewaytest.At(hNow)))
	assert.Equal(t, "ok\n", rec.Body.String())
	rec = serve(h, stripegatewaytest.NewRequest(hPath, payload, hSecret, stripegatewaytest.At(hNow)))
	assert.Equal(t, "ok: already processed\n", rec.Body.String())
	rec = serve(h, stripegatewaytest.NewRequest(hPath, payload, hSecret, stripegatewaytest.At(hNow), stripegatewaytest.WrongSecret()))
	assert.Equal(t, "bad request\n", rec.Body.String())
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
}

// TestVerifyAndParseWithKit checks every builder of the test kit through
// VerifyAndParse, in currencies of 0, 2 and 3 decimals.
// TestVerifyAndParseWithKit: every event the test kit builds, at every API
// version this package knows, in three currencies, gives its order, amount
// and version.
func TestVerifyAndParseWithKit(t *testing.T) {
	g, err := stripegateway.New(handlerConfig(), stripegateway.WithClock(func() time.Time { return hNow }))
	require.NoError(t, err)
	noOrder := map[stripe.EventType]bool{ // Stripe copies no metadata to these objects
		stripe.EventTypeChargeDisputeCreated: true, stripe.EventTypeChargeDisputeClosed: true, stripe.EventTypeChargeRefundUpdated: true,
	}
	noAmount := map[stripe.EventType]bool{
		stripe.EventTypeCustomerSubscriptionDeleted: true, stripe.EventTypeCustomerSubscriptionUpdated: true,
	}
	for _, v := range wire.APIVersions {
		for _, typ := range stripegateway.EventTypes() {
			for _, c := range []struct{ amount, currency string }{{"19.99", "eur"}, {"5000", "jpy"}, {"12.34", "kwd"}} {
				t.Run(v.Name+"/"+string(typ)+"/"+c.currency, func(t *testing.T) {
					ev := stripegatewaytest.NewEvent(typ, "order-1", decimal.RequireFromString(c.amount), c.currency, stripegatewaytest.WithAPIVersion(v.Name))
					p := ev.MustJSON()
					o, err := g.VerifyAndParse(p, stripegatewaytest.SignatureHeader(p, hSecret, stripegatewaytest.At(hNow)))
					require.NoError(t, err)
					assert.Equal(t, typ, o.EventType)
					assert.Equal(t, v.Name, o.APIVersion)
					assert.Equal(t, c.currency, o.Currency)
					if noOrder[typ] {
						assert.Empty(t, o.OrderID, "no order ID on a dispute or a refund")
					} else {
						assert.Equal(t, "order-1", o.OrderID)
					}
					if !noAmount[typ] {
						assert.Truef(t, decimal.RequireFromString(c.amount).Equal(o.Amount), "amount %s", o.Amount)
					}
					assert.Equal(t, v.Name == "2023-10-16", o.RawObject == nil, "RawObject only away from 2023-10-16")
				})
			}
		}
	}
}

// TestSignatureHeaderMatchesStripeGo checks the kit's header against
// stripe-go's own validation.
func TestSignatureHeaderMatchesStripeGo(t *testing.T) {
	p := paidEvent().MustJSON()
	assert.NoError(t, webhook.ValidatePayloadIgnoringTolerance(p, stripegatewaytest.SignatureHeader(p, hSecret), hSecret))
	h := stripegatewaytest.SignatureHeader(p, "whsec_a", stripegatewaytest.AlsoSignedWith("whsec_b"))
	assert.NoError(t, webhook.ValidatePayloadIgnoringTolerance(p, h, "whsec_a"))
	assert.NoError(t, webhook.ValidatePayloadIgnoringTolerance(p, h, "whsec_b"))
	assert.Error(t, webhook.ValidatePayloadIgnoringTolerance(p, stripegatewaytest.SignatureHeader(p, hSecret, stripegatewaytest.WrongSecret()), hSecret))
	assert.ErrorIs(t, webhook.ValidatePayload(p, stripegatewaytest.SignatureHeader(p, hSecret, stripegatewaytest.Expired()), hSecret), webhook.ErrTooOld)
}

// claimStatus claims id in store, to see whether the event was recorded.
func claimStatus(t *testing.T, store stripegateway.EventStore, id string) stripegateway.ClaimStatus {
	t.Helper()
	st, err := store.Claim(context.Background(), stripegateway.EventClaim{EventID: id, Owner: "probe", Now: hNow, Expires: hNow.Add(time.Minute)})
	require.NoError(t, err)
	return st
}

// TestHandlerRenewsTheClaimOfASlowCallback: a callback that runs three
// times as long as the lease keeps its claim, so that deliveries meanwhile
// are told to come back later and the callback runs once.
func TestHandlerRenewsTheClaimOfASlowCallback(t *testing.T) {
	start := time.Now()
	clock := func() time.Time { return hNow.Add(time.Since(start)) } // the real clock, moved to hNow
	release := make(chan struct{})
	var calls atomic.Int32
	g, err := stripegateway.New(handlerConfig(), stripegateway.WithClock(clock), stripegateway.WithEventLease(time.Second))
	require.NoError(t, err)
	h := g.WebhookHandler(stripegateway.Handlers{Default: func(ctx context.Context, _ *stripegateway.Outcome) error {
		calls.Add(1)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}})
	payload := paidEvent().MustJSON()
	req := func() *http.Request {
		return stripegatewaytest.NewRequest(hPath, payload, hSecret, stripegatewaytest.At(hNow))
	}
	first := make(chan int)
	go func() { first <- serve(h, req()).Code }()
	for _, after := range []time.Duration{1500 * time.Millisecond, 3 * time.Second} {
		time.Sleep(time.Until(start.Add(after)))
		assert.Equal(t, http.StatusConflict, serve(h, req()).Code, "a delivery %s in, past the first lease", after)
	}
	close(release)
	assert.Equal(t, http.StatusOK, <-first)
	assert.Equal(t, http.StatusOK, serve(h, req()).Code)
	assert.Equal(t, int32(1), calls.Load(), "the callback ran once")
}

// TestHandlerBodyMemoryFollowsTheBytesRead: a request that declares a large
// Content-Length but sends little makes the server hold only what it sent.
func TestHandlerBodyMemoryFollowsTheBytesRead(t *testing.T) {
	_, h := newFixture(t, nil)
	send := func() {
		r := httptest.NewRequest(http.MethodPost, hPath, strings.NewReader(strings.Repeat("x", 150)))
		r.ContentLength = 1 << 20 // as claimed; only 150 bytes follow
		serve(h, r)
	}
	send()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 50
	for range n {
		send()
	}
	runtime.ReadMemStats(&after)
	perRequest := (after.TotalAlloc - before.TotalAlloc) / n
	assert.Less(t, perRequest, uint64(64<<10), "bytes allocated per request: %d", perRequest)
}
