package stripegateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
)

// This file scripts failures of Stripe's API (or of what sits between the
// gateway and it) on an httptest server and checks, for each, what the
// caller gets, that the call ends within its deadline, that every attempt
// carries the same idempotency key (so Stripe cannot create a second
// session, capture or refund), and that the gateway works normally once the
// fault clears.

// faultRetries is the gateway's WithMaxNetworkRetries in the fault tests.
const faultRetries = 2

// faultAPI is a fake Stripe API that answers the gateway's writes like
// Stripe, idempotently (one object per idempotency key, replayed with
// Idempotent-Replayed: true), and injects a fault into its next answers.
type faultAPI struct {
	srv *httptest.Server
	// fault writes the faulty answer.
	fault func(w http.ResponseWriter, r *http.Request)
	// afterCreate makes the fault happen after the request was processed:
	// the object exists at "Stripe" but its answer is lost.
	afterCreate bool
	// faults is how many answers are still faulty; negative means all.
	faults atomic.Int64
	// release ends hanging handlers when the test ends.
	release chan struct{}

	mu      sync.Mutex
	reqs    []recordedAPIRequest
	objects map[string]string // idempotency key → ID of the object created
}

func newFaultAPI(t *testing.T, fault func(w http.ResponseWriter, r *http.Request), afterCreate bool, faults int64) *faultAPI {
	t.Helper()
	api := &faultAPI{fault: fault, afterCreate: afterCreate, release: make(chan struct{}), objects: map[string]string{}}
	api.faults.Store(faults)
	api.srv = httptest.NewServer(api)
	t.Cleanup(api.srv.Close)
	t.Cleanup(func() { close(api.release) }) // runs first: unblocks hanging handlers
	return api
}

func (a *faultAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	a.mu.Lock()
	a.reqs = append(a.reqs, recordedAPIRequest{Method: r.Method, Path: r.URL.Path, Form: form, Header: r.Header.Clone()})
	n := len(a.reqs)
	a.mu.Unlock()
	w.Header().Set("Request-Id", fmt.Sprintf("req_fault_%d", n))

	faulty := a.takeFault()
	if faulty && !a.afterCreate {
		a.fault(w, r)
		return
	}
	obj, replayed := a.process(r)
	if faulty {
		a.fault(w, r)
		return
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, obj)
}

func (a *faultAPI) takeFault() bool {
	for {
		n := a.faults.Load()
		switch {
		case n == 0:
			return false
		case n < 0:
			return true
		case a.faults.CompareAndSwap(n, n-1):
			return true
		}
	}
}

// process performs the request idempotently and returns its JSON answer.
func (a *faultAPI) process(r *http.Request) (obj string, replayed bool) {
	key := r.Header.Get("Idempotency-Key")
	a.mu.Lock()
	id, replayed := a.objects[key]
	if !replayed {
		id = fmt.Sprintf("%d", len(a.objects)+1)
		a.objects[key] = id
	}
	a.mu.Unlock()
	switch {
	case r.URL.Path == "/v1/checkout/sessions":
		return `{"id":"cs_test_fault` + id + `","object":"checkout.session","livemode":false,"mode":"payment","status":"open",` +
			`"currency":"eur","amount_total":3998,"url":"https://checkout.stripe.com/c/pay/cs_test_fault` + id + `"}`, replayed
	case strings.HasSuffix(r.URL.Path, "/capture"):
		return `{"id":"pi_123","object":"payment_intent","livemode":false,"status":"succeeded",` +
			`"currency":"eur","amount":3998,"amount_received":3998,"amount_capturable":0}`, replayed
	case r.URL.Path == "/v1/refunds":
		return `{"id":"re_fault` + id + `","object":"refund","status":"succeeded","currency":"eur","amount":3998,` +
			`"payment_intent":"pi_123","reason":"requested_by_customer"}`, replayed
	}
	return `{}`, replayed
}

func (a *faultAPI) requests() []recordedAPIRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]recordedAPIRequest(nil), a.reqs...)
}

func (a *faultAPI) objectCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.objects)
}

// Faults.

func faultStatus(status int, contentType, body string, header ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// faultReset starts a 200 answer, sends part of its body and resets the
// connection.
func faultReset(w http.ResponseWriter, _ *http.Request) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n" +
		`{"id":"cs_test_fault1","object":"checkout.sess`)
	_ = buf.Flush()
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // close with RST, not FIN
	}
	_ = conn.Close()
}

// faultHang never answers: it returns when the client gives up.
func (a *faultAPI) faultHang(_ http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-a.release:
	}
}

// faultOp is a gateway call under test.
type faultOp struct {
	name string
	op   string // APIError.Op
	call func(ctx context.Context, g *Gateway) (id, key string, replayed bool, err error)
}

var faultOps = []faultOp{
	{"CreateCheckout", "create checkout session", func(ctx context.Context, g *Gateway) (string, string, bool, error) {
		cs, err := g.CreateCheckout(ctx, baseCheckoutRequest())
		if err != nil {
			return "", "", false, err
		}
		return cs.ID, cs.IdempotencyKey, cs.Replayed, nil
	}},
	{"Capture", "capture payment", func(ctx context.Context, g *Gateway) (string, string, bool, error) {
		res, err := g.Capture(ctx, CaptureRequest{PaymentIntentID: "pi_123"})
		if err != nil {
			return "", "", false, err
		}
		return res.ID, res.IdempotencyKey, res.Replayed, nil
	}},
	{"Refund", "refund payment", func(ctx context.Context, g *Gateway) (string, string, bool, error) {
		res, err := g.Refund(ctx, RefundRequest{PaymentIntentID: "pi_123", Reason: stripe.RefundReasonRequestedByCustomer})
		if err != nil {
			return "", "", false, err
		}
		return res.ID, res.IdempotencyKey, res.Replayed, nil
	}},
}

// stripeErrWant is the *stripe.Error a fault must give.
type stripeErrWant struct {
	status int
	typ    stripe.ErrorType
	code   stripe.ErrorCode
}

// TestAPIFaults is the fault table. Each case runs in three phases:
//
//  1. the fault is permanent: the call fails with a typed, wrapped error,
//     within its context's deadline, after 1+faultRetries attempts when
//     stripe-go retries the fault, all with the same idempotency key;
//  2. the fault clears: the same call succeeds, with the same key, and
//     Stripe has created exactly one object;
//  3. (faults stripe-go retries) the fault happens once: the call succeeds
//     on its retry, with the same key, and one object.
//
// stripe-go's backoff sleep is turned off, except where the case is about
// it, to keep the test fast.
func TestAPIFaults(t *testing.T) {
	const apiErrorBody = `{"error":{"type":"api_error","message":"An unknown error occurred"}}`
	tests := []struct {
		name  string
		fault func(a *faultAPI) func(http.ResponseWriter, *http.Request)
		// afterCreate: "Stripe" processes the request, then the answer fails.
		afterCreate bool
		// retried: stripe-go retries the fault (faultRetries times).
		retried bool
		// allOps runs Capture and Refund too, not only CreateCheckout.
		allOps bool
		// deadline of the call's context in phase 1; 5s by default.
		deadline time.Duration
		// clientTimeout, if set, is the gateway's http.Client timeout.
		clientTimeout time.Duration
		// realSleep keeps stripe-go's backoff sleep between retries.
		realSleep  bool
		wantStripe *stripeErrWant // nil: no *stripe.Error may be reachable
		wantCtx    error
		check      func(t *testing.T, err error)
	}{
		{
			name: "500 api_error",
			fault: func(*faultAPI) func(http.ResponseWriter, *http.Request) {
				return faultStatus(500, "application/json", apiErrorBody)
			},
			// stripe-go does not retry a 500 to a POST: the idempotency
			// layer at Stripe stored the answer, so a retry gets the same.
			retried:    false,
			allOps:     true,
			wantStripe: &stripeErrWant{500, stripe.ErrorTypeAPI, ""},
		},
		{
			name: "500 with Stripe-Should-Retry",
			fault: func(*faultAPI) func(http.ResponseWriter, *http.Request) {
				return faultStatus(500, "application/json", apiErrorBody, "Stripe-Should-Retry", "true")
			},
			retried:    true,
			wantStripe: &stripeErrWant{500, stripe.ErrorTypeAPI, ""},
		},
		{
			name: "503",
			fault: func(*faultAPI) func(http.ResponseWriter, *http.Request) {
				return faultStatus(503, "application/json", `{"error":{"type":"api_error","message":"Service unavailable"}}`)
			},
			retried:    true,
			allOps:     true,
			wantStripe: &stripeErrWant{503, stripe.ErrorTypeAPI, ""},
		},
		{
			name: "503 while stripe-go sleeps past the deadline",
			fault: func(*faultAPI) func(http.ResponseWriter, *http.Request) {
				return faultStatus(503, "application/json", `{"error":{"type":"api_error","message":"Service unavailable"}}`)
			},
			retried:   true,
			realSleep: true, // the first backoff is 375-500ms
			deadline:  250 * time.Millisecond,
			wantCtx:   context.DeadlineExceeded,
		},
		{
			name: "429 rate limit with Retry-After",
			fault: func(*faultAPI) func(http.ResponseWriter, *http.Request) {
				return faultStatus(429, "application/json",
					`{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests hit the API too quickly."}}`,
					"Retry-After", "2")
			},
			// stripe-go does not retry rate limiting (it would add to the
			// contention), nor does it read Retry-After: the caller gets
			// the header through the *stripe.Error.
			retried:    false,
			allOps:     true,
			wantStripe: &stripeErrWant{429, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeRateLimit},
			check: func(t *testing.T, err error) {
				var se *stripe.Error
				require.ErrorAs(t, err, &se)
				require.NotNil(t, se.LastResponse)
				assert.Equal(t, "2", se.LastResponse.Header.Get("Retry-After"))
			},
		},
		{
			name: "429 lock timeout",
			fault: func(*faultAPI) func(http.ResponseWriter, *http.Request) {
				return faultStatus(429, "application/json",
					`{"error":{"type":"invalid_request_error","code":"lock_timeout","message":"This object cannot be accessed right now."}}`,
					"Retry-After", "1")
			},
			retried:    true,
			wantStripe: &stripeErrWant{429, stripe.ErrorTypeInvalidRequest, stripe.ErrorCodeLockTimeout},
		},
		{
			name:        "connection reset mid-response",
			fault:       func(*faultAPI) func(http.ResponseWriter, *http.Request) { return faultReset },
			afterCreate: true,
			retried:     true,
			allOps:      true,
		},
		{
			name:        "response never comes (context deadline)",
			fault:       func(a *faultAPI) func(http.ResponseWriter, *http.Request) { return a.faultHang },
			afterCreate: true,
			retried:     false, // the context has ended: no retry
			allOps:      true,
			deadline:    250 * time.Millisecond,
			wantCtx:     context.DeadlineExceeded,
		},
		{
			name:          "response never comes (HTTP client timeout)",
			fault:         func(a *faultAPI) func(http.ResponseWriter, *http.Request) { return a.faultHang },
			afterCreate:   true,
			retried:       true,
			clientTimeout: 150 * time.Millisecond,
			check: func(t *testing.T, err error) {
				var ne net.Error
				require.ErrorAs(t, err, &ne)
				assert.True(t, ne.Timeout(), "%v", err)
			},
		},
		{
			name: "truncated JSON body",
			fault: func(*faultAPI) func(http.ResponseWriter, *http.Request) {
				return faultStatus(200, "application/json", `{"id":"cs_test_fault1","object":"checkout.session","amount_total":39`)
			},
			afterCreate: true,
			// A complete 200 answer: stripe-go fails to decode it and does
			// not retry. Calling again replays the stored object.
			retried: false,
			allOps:  true,
			check: func(t *testing.T, err error) {
				assert.Contains(t, err.Error(), "deserialize JSON")
			},
		},
		{
			name: "HTML error page from a proxy",
			fault: func(*faultAPI) func(http.ResponseWriter, *http.Request) {
				return faultStatus(502, "text/html",
					"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
			},
			// Not a Stripe error: stripe-go retries it like a network error.
			retried: true,
			allOps:  true,
			check: func(t *testing.T, err error) {
				assert.Contains(t, err.Error(), "502")
			},
		},
	}

	for _, tt := range tests {
		for _, op := range faultOps {
			if op.name != "CreateCheckout" && !tt.allOps {
				continue
			}
			t.Run(tt.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				newGateway := func(api *faultAPI) *Gateway {
					client := api.srv.Client()
					if tt.clientTimeout > 0 {
						c := *client
						c.Timeout = tt.clientTimeout
						client = &c
					}
					g, err := New(validConfig(), WithAPIURL(api.srv.URL), WithHTTPClient(client),
						WithMaxNetworkRetries(faultRetries), checkoutClock())
					require.NoError(t, err)
					if !tt.realSleep {
						g.backend.(*stripe.BackendImplementation).SetNetworkRetriesSleep(false)
					}
					return g
				}
				wantAttempts := 1
				if tt.retried {
					wantAttempts += faultRetries
				}

				// Phase 1: the fault persists.
				api := newFaultAPI(t, nil, tt.afterCreate, -1)
				api.fault = tt.fault(api)
				g := newGateway(api)
				deadline := tt.deadline
				if deadline == 0 {
					deadline = 5 * time.Second
				}
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				start := time.Now()
				_, _, _, err := op.call(ctx, g)
				elapsed := time.Since(start)
				cancel()

				require.Error(t, err)
				t.Logf("error after %v: %v", elapsed.Round(time.Millisecond), err)
				assert.LessOrEqual(t, elapsed, deadline+100*time.Millisecond, "the call must end within its context's deadline")
				assert.ErrorIs(t, err, ErrStripeAPI)
				var ae *apiError
				if assert.ErrorAs(t, err, &ae) {
					assert.Equal(t, op.op, ae.Op)
				}
				assert.NotContains(t, err.Error(), testSK)
				var se *stripe.Error
				if tt.wantStripe != nil {
					if assert.ErrorAs(t, err, &se, "Stripe answered: its error must be reachable") {
						assert.Equal(t, tt.wantStripe.status, se.HTTPStatusCode)
						assert.Equal(t, tt.wantStripe.typ, se.Type)
						assert.Equal(t, tt.wantStripe.code, se.Code)
						assert.NotEmpty(t, se.RequestID)
						assert.Contains(t, err.Error(), se.RequestID)
					}
				} else {
					assert.False(t, errors.As(err, &se), "no *stripe.Error when Stripe did not answer with one: %v", err)
				}
				if tt.wantCtx != nil {
					assert.ErrorIs(t, err, tt.wantCtx)
				}
				if tt.check != nil {
					tt.check(t, err)
				}
				reqs := api.requests()
				if tt.realSleep {
					// stripe-go may still be asleep: its next attempt fails
					// without a request, as the context has ended.
					assert.GreaterOrEqual(t, len(reqs), 1)
				} else {
					assert.Len(t, reqs, wantAttempts, "attempts")
				}
				key := faultSameKey(t, reqs)

				// Phase 2: the fault clears; the gateway answers normally,
				// and Stripe still holds one object.
				api.faults.Store(0)
				ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
				id, gotKey, replayed, err := op.call(ctx, g)
				cancel()
				require.NoError(t, err)
				assert.NotEmpty(t, id)
				assert.Equal(t, key, gotKey, "the same request is sent with the same key")
				assert.Equal(t, tt.afterCreate, replayed, "Replayed: Stripe had processed the failed call")
				faultSameKey(t, api.requests())
				assert.Equal(t, 1, api.objectCount(), "exactly one object created")

				if !tt.retried || tt.realSleep {
					return
				}
				// Phase 3: one faulty answer, then the retry succeeds.
				api = newFaultAPI(t, nil, tt.afterCreate, 1)
				api.fault = tt.fault(api)
				g = newGateway(api)
				ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
				id, gotKey, replayed, err = op.call(ctx, g)
				cancel()
				require.NoError(t, err)
				assert.NotEmpty(t, id)
				assert.Equal(t, key, gotKey)
				assert.Equal(t, tt.afterCreate, replayed)
				assert.Len(t, api.requests(), 2, "one failed attempt and its retry")
				faultSameKey(t, api.requests())
				assert.Equal(t, 1, api.objectCount())
			})
		}
	}
}

// faultSameKey checks that every request carried the same, non-empty
// idempotency key, and returns it.
func faultSameKey(t *testing.T, reqs []recordedAPIRequest) string {
	t.Helper()
	require.NotEmpty(t, reqs)
	key := reqs[0].key()
	require.NotEmpty(t, key)
	for i, r := range reqs {
		assert.Equal(t, key, r.key(), "attempt %d", i+1)
		assert.Equal(t, http.MethodPost, r.Method)
	}
	return key
}
