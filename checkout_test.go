package stripegateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
)

// checkoutNow is the fixed clock of the checkout tests.
var checkoutNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func checkoutClock() Option { return WithClock(func() time.Time { return checkoutNow }) }

func decAmount(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// baseCheckoutRequest is a valid two-item EUR order.
func baseCheckoutRequest() CheckoutRequest {
	return CheckoutRequest{
		OrderID:  "order-1001",
		Currency: "EUR",
		Items: []LineItem{
			{Name: "T-shirt", Description: "Organic cotton", UnitAmount: decAmount("19.99"), Quantity: 2},
			{Name: "Sticker", UnitAmount: decimal.Zero, Quantity: 1},
		},
		SuccessURL:    "https://shop.example/checkout/done?session_id={CHECKOUT_SESSION_ID}",
		CancelURL:     "https://shop.example/cart",
		CustomerEmail: "jane@example.com",
		Metadata:      map[string]string{"store": "berlin"},
		Locale:        "de",
		ExpiresAt:     checkoutNow.Add(time.Hour),
	}
}

// basePaymentForm is what baseCheckoutRequest sends in payment mode.
func basePaymentForm() url.Values {
	return url.Values{
		"mode":                                   {"payment"},
		"currency":                               {"eur"},
		"client_reference_id":                    {"order-1001"},
		"success_url":                            {"https://shop.example/checkout/done?session_id={CHECKOUT_SESSION_ID}"},
		"cancel_url":                             {"https://shop.example/cart"},
		"customer_email":                         {"jane@example.com"},
		"locale":                                 {"de"},
		"expires_at":                             {strconv.FormatInt(checkoutNow.Add(time.Hour).Unix(), 10)},
		"metadata[order_id]":                     {"order-1001"},
		"metadata[store]":                        {"berlin"},
		"line_items[0][price_data][currency]":    {"eur"},
		"line_items[0][price_data][unit_amount]": {"1999"},
		"line_items[0][price_data][product_data][name]":        {"T-shirt"},
		"line_items[0][price_data][product_data][description]": {"Organic cotton"},
		"line_items[0][quantity]":                              {"2"},
		"line_items[1][price_data][currency]":                  {"eur"},
		"line_items[1][price_data][unit_amount]":               {"0"},
		"line_items[1][price_data][product_data][name]":        {"Sticker"},
		"line_items[1][quantity]":                              {"1"},
		"payment_intent_data[metadata][order_id]":              {"order-1001"},
		"payment_intent_data[metadata][store]":                 {"berlin"},
	}
}

func TestCreateCheckoutSendsExactParams(t *testing.T) {
	tests := []struct {
		name  string
		opts  []Option
		req   func(*CheckoutRequest)
		form  func(url.Values)
		where string // where the order ID goes besides the session
	}{
		{
			name:  "payment",
			req:   func(*CheckoutRequest) {},
			form:  func(url.Values) {},
			where: "payment_intent_data[metadata][order_id]",
		},
		{
			name: "payment with 3-D Secure on every card",
			req: func(r *CheckoutRequest) {
				r.ThreeDSecure = stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecureAny
			},
			form: func(v url.Values) {
				v.Set("payment_method_options[card][request_three_d_secure]", "any")
			},
			where: "payment_intent_data[metadata][order_id]",
		},
		{
			name: "store policy: 3-D Secure on every card",
			opts: []Option{WithThreeDSecure(stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecureAny)},
			req:  func(*CheckoutRequest) {},
			form: func(v url.Values) {
				v.Set("payment_method_options[card][request_three_d_secure]", "any")
			},
			where: "payment_intent_data[metadata][order_id]",
		},
		{
			name: "request overrides the store policy",
			opts: []Option{WithThreeDSecure(stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecureAny)},
			req: func(r *CheckoutRequest) {
				r.ThreeDSecure = stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecureAutomatic
			},
			form:  func(url.Values) {},
			where: "payment_intent_data[metadata][order_id]",
		},
		{
			name: "deferred capture",
			req:  func(r *CheckoutRequest) { r.Mode = CheckoutDeferredCapture },
			form: func(v url.Values) {
				v.Set("payment_intent_data[capture_method]", "manual")
				v.Set("metadata[stripegateway_capture]", "manual")
			},
			where: "payment_intent_data[metadata][order_id]",
		},
		{
			name: "subscription",
			req: func(r *CheckoutRequest) {
				r.Mode = CheckoutSubscription
				r.Interval, r.IntervalCount = stripe.PriceRecurringIntervalMonth, 3
			},
			form: func(v url.Values) {
				v.Set("mode", "subscription")
				for k := range v {
					if strings.HasPrefix(k, "payment_intent_data") {
						v.Del(k)
					}
				}
				v.Set("subscription_data[metadata][order_id]", "order-1001")
				v.Set("subscription_data[metadata][store]", "berlin")
				for _, i := range []string{"0", "1"} {
					v.Set("line_items["+i+"][price_data][recurring][interval]", "month")
					v.Set("line_items["+i+"][price_data][recurring][interval_count]", "3")
				}
			},
			where: "subscription_data[metadata][order_id]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, rec := newRecordedGateway(t, validConfig(), append(tt.opts, checkoutClock())...)
			req := baseCheckoutRequest()
			tt.req(&req)

			cs, err := g.CreateCheckout(context.Background(), req)
			require.NoError(t, err)

			sent := rec.only(t)
			assert.Equal(t, http.MethodPost, sent.Method)
			assert.Equal(t, "/v1/checkout/sessions", sent.Path)
			want := basePaymentForm()
			tt.form(want)
			assert.Equal(t, want, sent.Form)
			assertInSpec(t, sent)

			// The order ID in all four places (three in this mode).
			assert.Equal(t, "order-1001", sent.Form.Get("client_reference_id"))
			assert.Equal(t, "order-1001", sent.Form.Get("metadata[order_id]"))
			assert.Equal(t, "order-1001", sent.Form.Get(tt.where))

			// The idempotency key: derived, sent, and reported.
			key := sent.key()
			assert.Regexp(t, `^stripegateway-checkout-order-1001-[0-9a-f]{64}$`, key)
			assert.Equal(t, key, cs.IdempotencyKey)

			assert.NotEmpty(t, cs.ID)
			assert.NotEmpty(t, cs.URL)
			assert.Equal(t, "eur", cs.Currency)
			assert.NotNil(t, cs.Session)
			assert.False(t, cs.Replayed)
		})
	}
}

func TestCreateCheckoutIdempotencyKey(t *testing.T) {
	g, rec := newRecordedGateway(t, validConfig(), checkoutClock())
	ctx := context.Background()
	keyOf := func(req CheckoutRequest) string {
		t.Helper()
		before := len(rec.requests())
		cs, err := g.CreateCheckout(ctx, req)
		require.NoError(t, err)
		reqs := rec.requests()
		require.Len(t, reqs, before+1)
		require.Equal(t, reqs[before].key(), cs.IdempotencyKey)
		return cs.IdempotencyKey
	}

	base := baseCheckoutRequest()
	first := keyOf(base)
	assert.Equal(t, first, keyOf(baseCheckoutRequest()), "the same request retried must send the same key")

	changes := map[string]func(*CheckoutRequest){
		"quantity":   func(r *CheckoutRequest) { r.Items[0].Quantity = 3 },
		"unit price": func(r *CheckoutRequest) { r.Items[0].UnitAmount = decAmount("19.98") },
		"currency":   func(r *CheckoutRequest) { r.Currency = "usd" },
		"metadata":   func(r *CheckoutRequest) { r.Metadata = map[string]string{"store": "hamburg"} },
		"expiry":     func(r *CheckoutRequest) { r.ExpiresAt = r.ExpiresAt.Add(time.Minute) },
		"mode":       func(r *CheckoutRequest) { r.Mode = CheckoutDeferredCapture },
		"order ID":   func(r *CheckoutRequest) { r.OrderID = "order-1002" },
	}
	seen := map[string]string{first: "base"}
	for name, change := range changes {
		req := baseCheckoutRequest()
		change(&req)
		key := keyOf(req)
		prev, dup := seen[key]
		assert.False(t, dup, "changing the %s gave the same key as %s", name, prev)
		seen[key] = name
	}

	// Metadata order does not matter: maps have none.
	req := baseCheckoutRequest()
	req.Metadata = map[string]string{"a": "1", "b": "2", "c": "3"}
	k1 := keyOf(req)
	req.Metadata = map[string]string{"c": "3", "b": "2", "a": "1"}
	assert.Equal(t, k1, keyOf(req))

	// The caller's key is used as given.
	req = baseCheckoutRequest()
	req.IdempotencyKey = "my-shop-order-1001-attempt-2"
	assert.Equal(t, "my-shop-order-1001-attempt-2", keyOf(req))

	// A long order ID in any script still gives a key Stripe accepts.
	req = baseCheckoutRequest()
	req.OrderID = strings.Repeat("Bestellung-Ü/", 15)
	key := keyOf(req)
	assert.LessOrEqual(t, len(key), 255)
	assert.Regexp(t, `^stripegateway-checkout-[A-Za-z0-9_-]{1,100}-[0-9a-f]{64}$`, key)
}

// TestCreateCheckoutRetriesReuseKey checks that stripe-go's own network
// retries stay on and send the same idempotency key.
func TestCreateCheckoutRetriesReuseKey(t *testing.T) {
	var calls atomic.Int32
	keys := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys <- r.Header.Get("Idempotency-Key")
		if calls.Add(1) == 1 {
			w.Header().Set("Stripe-Should-Retry", "true")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"type":"api_error","message":"try again"}}`))
			return
		}
		w.Header().Set("Idempotent-Replayed", "true")
		_, _ = w.Write([]byte(`{"id":"cs_test_retry","object":"checkout.session","currency":"eur","amount_total":3998,"url":"https://checkout.stripe.com/c/pay/cs_test_retry"}`))
	}))
	defer srv.Close()
	g, err := New(validConfig(), WithAPIURL(srv.URL), checkoutClock())
	require.NoError(t, err)

	cs, err := g.CreateCheckout(context.Background(), baseCheckoutRequest())
	require.NoError(t, err)
	require.EqualValues(t, 2, calls.Load())
	first, second := <-keys, <-keys
	assert.Equal(t, first, second)
	assert.Equal(t, cs.IdempotencyKey, first)
	assert.True(t, cs.Replayed)
	assert.Equal(t, "cs_test_retry", cs.ID)
	assert.True(t, decAmount("39.98").Equal(cs.AmountTotal), "AmountTotal %s", cs.AmountTotal)
}

// TestCallsEndAtDeadline: every operation returns within twice its
// context's deadline when the API never answers, or keeps asking to retry
// (stripe-go sleeps between retries without watching the context).
func TestCallsEndAtDeadline(t *testing.T) {
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	retrying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Stripe-Should-Retry", "true")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(func() {
		close(release)
		hanging.Close()
		retrying.Close()
	})

	ops := map[string]func(context.Context, *Gateway) error{
		"CreateCheckout": func(ctx context.Context, g *Gateway) error {
			_, err := g.CreateCheckout(ctx, baseCheckoutRequest())
			return err
		},
		"CreateCheckout with a PriceID": func(ctx context.Context, g *Gateway) error {
			req := baseCheckoutRequest()
			req.Items = []LineItem{{PriceID: "price_123", Quantity: 1}}
			_, err := g.CreateCheckout(ctx, req)
			return err
		},
		"ConfirmCheckout": func(ctx context.Context, g *Gateway) error {
			_, err := g.ConfirmCheckout(ctx, ConfirmRequest{SessionID: "cs_test_123", OrderID: "order-1001"})
			return err
		},
		"Capture": func(ctx context.Context, g *Gateway) error {
			_, err := g.Capture(ctx, CaptureRequest{PaymentIntentID: "pi_123", Amount: decAmount("5.00")})
			return err
		},
		"CancelAuthorization": func(ctx context.Context, g *Gateway) error {
			_, err := g.CancelAuthorization(ctx, "pi_123")
			return err
		},
		"Refund": func(ctx context.Context, g *Gateway) error {
			_, err := g.Refund(ctx, RefundRequest{PaymentIntentID: "pi_123", Reason: stripe.RefundReasonRequestedByCustomer})
			return err
		},
		"ExpireCheckout": func(ctx context.Context, g *Gateway) error {
			_, err := g.ExpireCheckout(ctx, "cs_test_123")
			return err
		},
	}
	const deadline = 200 * time.Millisecond
	for _, srv := range []struct {
		name string
		url  string
	}{{"never answers", hanging.URL}, {"always retry", retrying.URL}} {
		g, err := New(validConfig(), WithAPIURL(srv.url), checkoutClock())
		require.NoError(t, err)
		for name, op := range ops {
			t.Run(srv.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				defer cancel()
				start := time.Now()
				err := op(ctx, g)
				elapsed := time.Since(start)
				require.Error(t, err)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Less(t, elapsed, 2*deadline, "returned after %v", elapsed)
			})
		}
	}
}

// fakeSessionAPI serves GET /v1/checkout/sessions/{id} from sessions and
// records the query of each request.
func fakeSessionAPI(t *testing.T, sessions map[string]string) (*httptest.Server, *atomic.Pointer[url.Values]) {
	t.Helper()
	var last atomic.Pointer[url.Values]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		last.Store(&q)
		id := strings.TrimPrefix(r.URL.Path, "/v1/checkout/sessions/")
		body, ok := sessions[id]
		if r.Method != http.MethodGet || !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such checkout.session"}}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &last
}

// sessionJSON renders a Checkout Session as Stripe would, with its
// PaymentIntent expanded.
func sessionJSON(id, ref, metaOrder string, livemode bool, status, paymentStatus, piStatus string) string {
	meta := map[string]string{}
	if metaOrder != "" {
		meta["order_id"] = metaOrder
	}
	s := map[string]any{
		"id": id, "object": "checkout.session", "livemode": livemode,
		"client_reference_id": nil, "metadata": meta,
		"status": status, "payment_status": paymentStatus, "mode": "payment",
		"currency": "eur", "amount_total": 3998, "created": 1893553445, "expires_at": 1893557045,
		"payment_intent": map[string]any{
			"id": "pi_3Confirm", "object": "payment_intent", "status": piStatus,
			"amount": 3998, "currency": "eur", "latest_charge": "ch_3Confirm",
		},
	}
	if ref != "" {
		s["client_reference_id"] = ref
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestConfirmCheckout(t *testing.T) {
	srv, lastQuery := fakeSessionAPI(t, map[string]string{
		"cs_test_paid":       sessionJSON("cs_test_paid", "order-1001", "order-1001", false, "complete", "paid", "succeeded"),
		"cs_test_authorized": sessionJSON("cs_test_authorized", "order-1001", "order-1001", false, "complete", "unpaid", "requires_capture"),
		"cs_test_open":       sessionJSON("cs_test_open", "order-1001", "order-1001", false, "open", "unpaid", "requires_payment_method"),
		"cs_test_metaonly":   sessionJSON("cs_test_metaonly", "", "order-1001", false, "complete", "paid", "succeeded"),
		"cs_test_metaother":  sessionJSON("cs_test_metaother", "order-1001", "order-2002", false, "complete", "paid", "succeeded"),
		"cs_test_anonymous":  sessionJSON("cs_test_anonymous", "", "", false, "complete", "paid", "succeeded"),
		"cs_live_paid":       sessionJSON("cs_live_paid", "order-1001", "order-1001", true, "complete", "paid", "succeeded"),
	})
	g, err := New(validConfig(), WithAPIURL(srv.URL))
	require.NoError(t, err)
	liveCfg := validConfig()
	liveCfg.Mode, liveCfg.PublishableKey, liveCfg.SecretKey = ModeLive, livePK, liveSK
	live, err := New(liveCfg, WithAPIURL(srv.URL))
	require.NoError(t, err)

	tests := []struct {
		name, session, order string
		live                 bool
		wantKind             Kind
		wantErr              error
	}{
		{name: "paid session of the order", session: "cs_test_paid", order: "order-1001", wantKind: PaymentSucceeded},
		{name: "authorized for deferred capture", session: "cs_test_authorized", order: "order-1001", wantKind: PaymentAuthorized},
		{name: "customer has not paid yet", session: "cs_test_open", order: "order-1001", wantKind: PaymentPending},
		{name: "order ID in metadata only", session: "cs_test_metaonly", order: "order-1001", wantKind: PaymentSucceeded},
		{name: "another order's session", session: "cs_test_paid", order: "order-1002", wantErr: ErrSessionMismatch},
		{name: "metadata names another order", session: "cs_test_metaother", order: "order-1001", wantErr: ErrSessionMismatch},
		{name: "session of no order", session: "cs_test_anonymous", order: "order-1001", wantErr: ErrSessionMismatch},
		{name: "live session on a test gateway", session: "cs_live_paid", order: "order-1001", wantErr: ErrLivemodeMismatch},
		{name: "test session on a live gateway", session: "cs_test_paid", order: "order-1001", live: true, wantErr: ErrLivemodeMismatch},
		{name: "live session on a live gateway", session: "cs_live_paid", order: "order-1001", live: true, wantKind: PaymentSucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := g
			if tt.live {
				gw = live
			}
			o, err := gw.ConfirmCheckout(context.Background(), ConfirmRequest{SessionID: tt.session, OrderID: tt.order})
			q := lastQuery.Load()
			require.NotNil(t, q)
			assert.Equal(t, []string{"payment_intent"}, (*q)["expand[0]"])
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, o)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantKind, o.Kind)
			assert.Equal(t, "order-1001", o.OrderID)
			assert.Equal(t, tt.session, o.SessionID)
			assert.Equal(t, "pi_3Confirm", o.PaymentIntentID)
			assert.Equal(t, "ch_3Confirm", o.ChargeID)
			assert.True(t, decAmount("39.98").Equal(o.Amount), "Amount %s", o.Amount)
			assert.Equal(t, "eur", o.Currency)
			assert.Empty(t, o.EventID)
		})
	}
}

func TestConfirmCheckoutAgainstStripeMock(t *testing.T) {
	t.Run("params, and a session of no order", func(t *testing.T) {
		g, rec := newRecordedGateway(t, validConfig())
		_, err := g.ConfirmCheckout(context.Background(), ConfirmRequest{SessionID: "cs_test_123", OrderID: "order-1001"})
		// stripe-mock's session has no client_reference_id or metadata.
		assert.ErrorIs(t, err, ErrSessionMismatch)
		sent := rec.only(t)
		assert.Equal(t, http.MethodGet, sent.Method)
		assert.Equal(t, "/v1/checkout/sessions/cs_test_123", sent.Path)
		assert.Equal(t, url.Values{"expand[0]": {"payment_intent"}}, sent.Form)
		assertInSpec(t, sent)
	})
	t.Run("session of the order", func(t *testing.T) {
		g, rec := newRecordedGateway(t, validConfig())
		rec.patch = patchAPIJSON(http.MethodGet, "/v1/checkout/sessions/cs_test_123", map[string]any{
			"client_reference_id": "order-1001", "status": "complete", "payment_status": "paid",
			"client_secret": "cs_test_123_secret_sessionsecret",
		})
		o, err := g.ConfirmCheckout(context.Background(), ConfirmRequest{SessionID: "cs_test_123", OrderID: "order-1001"})
		require.NoError(t, err)
		assert.Equal(t, PaymentSucceeded, o.Kind)
		js, err := json.Marshal(o)
		require.NoError(t, err)
		assert.NotContains(t, string(js)+fmt.Sprintf("%+v %+v", *o.CheckoutSession, *o.CheckoutSession.PaymentIntent), "_secret_",
			"an Outcome holds no client secret, the expanded PaymentIntent's included")
		assert.Equal(t, "order-1001", o.OrderID)
		assert.NotEmpty(t, o.PaymentIntentID, "the PaymentIntent is expanded")
		require.NotNil(t, o.CheckoutSession.PaymentIntent)
		assert.NotEmpty(t, o.CheckoutSession.PaymentIntent.Status)
	})
	t.Run("session of the other mode", func(t *testing.T) {
		// stripe-mock refuses live keys, so its test-mode session is
		// turned into a live one instead.
		g, rec := newRecordedGateway(t, validConfig())
		rec.patch = patchAPIJSON(http.MethodGet, "/v1/checkout/sessions/cs_test_123", map[string]any{
			"client_reference_id": "order-1001", "livemode": true,
		})
		_, err := g.ConfirmCheckout(context.Background(), ConfirmRequest{SessionID: "cs_test_123", OrderID: "order-1001"})
		assert.ErrorIs(t, err, ErrLivemodeMismatch)
	})
	t.Run("refused before any request", func(t *testing.T) {
		g, rec := newRecordedGateway(t, validConfig())
		_, err := g.ConfirmCheckout(context.Background(), ConfirmRequest{SessionID: "cs_test_123", OrderID: ""})
		assert.ErrorIs(t, err, ErrSessionMismatch)
		_, err = g.ConfirmCheckout(context.Background(), ConfirmRequest{SessionID: "pi_123", OrderID: "order-1001"})
		assert.ErrorIs(t, err, ErrInvalidRequest)
		_, err = g.ConfirmCheckout(context.Background(), ConfirmRequest{SessionID: "cs_test_123/../../v1/balance", OrderID: "order-1001"})
		assert.ErrorIs(t, err, ErrInvalidRequest)
		assert.Empty(t, rec.requests())
	})
}
