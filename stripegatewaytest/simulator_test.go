package stripegatewaytest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/internal/stripemock"
	"github.com/b27de697/stripegateway/internal/wire"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

const (
	simSK    = "sk_test_51Hsimulatorsecretkey0001"
	simPK    = "pk_test_51Hsimulatorpublishable001"
	simWHSEC = "whsec_xxxxxxsimulatorsigningsecret0001"
)

// simEnv is a Simulator in front of stripe-mock, a Gateway using it, and
// the Gateway's webhook handler recording what it was told, all on one
// httptest server, as a host application would mount them.
type simEnv struct {
	t      *testing.T
	srv    *httptest.Server
	sim    *stripegatewaytest.Simulator
	gw     *stripegateway.Gateway
	client *http.Client // does not follow redirects

	mu       sync.Mutex
	outcomes []*stripegateway.Outcome
}

// newSimEnv builds the environment; opts change the Simulator's
// configuration (a clock given as Now is the Gateway's too).
func newSimEnv(t *testing.T, mockURL string, webhookSecret string, opts ...func(*stripegatewaytest.SimulatorConfig)) *simEnv {
	t.Helper()
	e := &simEnv{t: t}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	cfg := stripegatewaytest.SimulatorConfig{
		UpstreamURL:   mockURL,
		PublicURL:     e.srv.URL + "/stripe-sim",
		WebhookURL:    e.srv.URL + "/gateways/stripe/notification",
		WebhookSecret: webhookSecret,
		BusinessName:  "Gopher Goods",
	}
	for _, o := range opts {
		o(&cfg)
	}
	sim, err := stripegatewaytest.NewSimulator(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })
	e.sim = sim
	gwOpts := []stripegateway.Option{stripegateway.WithAPIURL(sim.APIURL()), stripegateway.WithMaxNetworkRetries(0)}
	if cfg.Now != nil {
		gwOpts = append(gwOpts, stripegateway.WithClock(cfg.Now))
	}
	gw, err := stripegateway.New(stripegateway.Config{
		DisplayName: "Credit Card", Status: stripegateway.StatusActive, Mode: stripegateway.ModeTest,
		PublishableKey: simPK, SecretKey: simSK, WebhookSecret: simWHSEC,
	}, gwOpts...)
	require.NoError(t, err)
	e.gw = gw
	mux.Handle("/stripe-sim/", sim)
	mux.Handle("/gateways/stripe/notification", gw.WebhookHandler(e.handlers()))
	e.client = &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return e
}

// handlers are the webhook route's callbacks: they record each outcome.
func (e *simEnv) handlers() stripegateway.Handlers {
	return stripegateway.Handlers{
		Default: func(_ context.Context, o *stripegateway.Outcome) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.outcomes = append(e.outcomes, o)
			return nil
		},
	}
}

func (e *simEnv) received() []*stripegateway.Outcome {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*stripegateway.Outcome(nil), e.outcomes...)
}

// outcomesFor returns the outcomes received for an order.
func (e *simEnv) outcomesFor(orderID string) []*stripegateway.Outcome {
	var out []*stripegateway.Outcome
	for _, o := range e.received() {
		if o.OrderID == orderID {
			out = append(out, o)
		}
	}
	return out
}

func (e *simEnv) checkout(req stripegateway.CheckoutRequest) *stripegateway.CheckoutSession {
	e.t.Helper()
	if req.SuccessURL == "" {
		req.SuccessURL = e.srv.URL + "/done?order=" + url.QueryEscape(req.OrderID) + "&session_id={CHECKOUT_SESSION_ID}"
	}
	if req.CancelURL == "" {
		req.CancelURL = e.srv.URL + "/cancel?order=" + url.QueryEscape(req.OrderID)
	}
	cs, err := e.gw.CreateCheckout(context.Background(), req)
	require.NoError(e.t, err)
	return cs
}

func (e *simEnv) get(u string) (int, string) {
	e.t.Helper()
	resp, err := e.client.Get(u)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp.StatusCode, string(b)
}

// post submits a form on the payment page and returns the status, the
// redirect target and the body.
func (e *simEnv) post(u string, form url.Values) (int, string, string) {
	e.t.Helper()
	resp, err := e.client.PostForm(u, form)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func pay(card string) url.Values { return url.Values{"cardNumber": {card}} }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func eurOrder(id string) stripegateway.CheckoutRequest {
	return stripegateway.CheckoutRequest{
		OrderID:  id,
		Currency: "eur",
		Items: []stripegateway.LineItem{
			{Name: "Coffee beans 1 kg", Description: "Single origin", UnitAmount: dec("24.90"), Quantity: 2},
			{Name: "Ceramic mug", UnitAmount: dec("12.50"), Quantity: 1},
		},
		Metadata: map[string]string{"channel": "web"},
	}
}

func startMock(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	mock, err := stripemock.Start(ctx, t.Logf)
	require.NoError(t, err, "stripe-mock is required for the simulator tests")
	t.Cleanup(func() { _ = mock.Close() })
	return mock.URL
}

func TestSimulator(t *testing.T) {
	mockURL := startMock(t)

	t.Run("card 4242 pays, and the session and events are the real ones", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC)
		ctx := context.Background()
		cs := e.checkout(eurOrder("order-4242"))
		other := e.checkout(eurOrder("order-other"))
		assert.NotEqual(t, cs.ID, other.ID, "every session has its own ID")
		assert.True(t, strings.HasPrefix(cs.ID, "cs_test_"), cs.ID)
		assert.Equal(t, e.sim.CheckoutURL(cs.ID), cs.URL)
		assert.True(t, strings.HasPrefix(cs.URL, e.srv.URL+"/stripe-sim/c/pay/"), cs.URL)
		assert.True(t, cs.AmountTotal.Equal(dec("62.30")), cs.AmountTotal.String())
		assert.Equal(t, "eur", cs.Currency)

		rec, ok := e.sim.Session(cs.ID)
		require.True(t, ok)
		assert.Equal(t, "order-4242", rec.OrderID)
		assert.Equal(t, "payment", rec.Mode)
		assert.Equal(t, "automatic", rec.CaptureMethod)
		assert.Equal(t, int64(6230), rec.AmountTotal)
		assert.Equal(t, "web", rec.Metadata["channel"])
		assert.Equal(t, "order-4242", rec.Metadata[wire.MetadataOrderID])
		require.Len(t, rec.Lines, 2)
		assert.Equal(t, stripegatewaytest.SimulatedLine{Name: "Coffee beans 1 kg", Description: "Single origin", UnitAmount: 2490, Quantity: 2, AmountTotal: 4980}, rec.Lines[0])
		assert.Equal(t, "open", rec.Status)
		assert.Empty(t, rec.PaymentIntentID, "no PaymentIntent before the customer pays")

		o, err := e.gw.ConfirmCheckout(ctx, stripegateway.ConfirmRequest{SessionID: cs.ID, OrderID: "order-4242"})
		require.NoError(t, err)
		assert.Equal(t, stripegateway.PaymentPending, o.Kind)
		assert.True(t, o.Amount.Equal(dec("62.30")))
		_, err = e.gw.ConfirmCheckout(ctx, stripegateway.ConfirmRequest{SessionID: cs.ID, OrderID: "order-other"})
		assert.ErrorIs(t, err, stripegateway.ErrSessionMismatch, "the recorded session belongs to its own order only")

		status, page := e.get(cs.URL)
		assert.Equal(t, http.StatusOK, status)
		for _, want := range []string{"Gopher Goods", "Coffee beans 1 kg", "Single origin", "Qty 2", "€24.90 each", "€49.80", "Ceramic mug", "€12.50", "€62.30"} {
			assert.Contains(t, page, want)
		}

		status, loc, _ := e.post(cs.URL, pay("4242 4242 4242 4242"))
		assert.Equal(t, http.StatusSeeOther, status)
		assert.Equal(t, e.srv.URL+"/done?order=order-4242&session_id="+cs.ID, loc)

		rec, _ = e.sim.Session(cs.ID)
		assert.Equal(t, "complete", rec.Status)
		assert.Equal(t, "paid", rec.PaymentStatus)
		assert.Equal(t, "succeeded", rec.PaymentIntentStatus)
		require.NotEmpty(t, rec.PaymentIntentID)

		got := e.outcomesFor("order-4242")
		require.Len(t, got, 2, "checkout.session.completed and payment_intent.succeeded, delivered before the redirect")
		assert.Equal(t, stripe.EventTypeCheckoutSessionCompleted, got[0].EventType)
		assert.Equal(t, stripe.EventTypePaymentIntentSucceeded, got[1].EventType)
		for _, o := range got {
			assert.Equal(t, stripegateway.PaymentSucceeded, o.Kind)
			assert.True(t, o.Amount.Equal(dec("62.30")), o.Amount.String())
			assert.Equal(t, int64(6230), o.AmountMinor)
			assert.Equal(t, "eur", o.Currency)
			assert.Equal(t, rec.PaymentIntentID, o.PaymentIntentID)
			assert.False(t, o.Livemode)
		}
		assert.Equal(t, cs.ID, got[0].SessionID, "the event carries the real session ID")
		assert.Equal(t, "web", got[0].CheckoutSession.Metadata["channel"])
		assert.Equal(t, "order-4242", got[1].PaymentIntent.Metadata[wire.MetadataOrderID])

		o, err = e.gw.ConfirmCheckout(ctx, stripegateway.ConfirmRequest{SessionID: cs.ID, OrderID: "order-4242"})
		require.NoError(t, err)
		assert.Equal(t, stripegateway.PaymentSucceeded, o.Kind)
		assert.Equal(t, rec.PaymentIntentID, o.PaymentIntentID)
		assert.NotNil(t, o.CheckoutSession.PaymentIntent)
		assert.Equal(t, stripe.PaymentIntentStatusSucceeded, o.CheckoutSession.PaymentIntent.Status)
		assert.Empty(t, o.CheckoutSession.URL)

		// Submitting again (a double click) changes nothing.
		status, loc, _ = e.post(cs.URL, pay(stripegatewaytest.CardSucceeds))
		assert.Equal(t, http.StatusSeeOther, status)
		assert.Contains(t, loc, cs.ID)
		assert.Len(t, e.outcomesFor("order-4242"), 2)
		for _, d := range e.sim.Deliveries() {
			assert.Equal(t, http.StatusOK, d.StatusCode, "%+v", d)
			assert.Empty(t, d.Err)
			assert.Equal(t, 1, d.Attempts)
		}
		status, page = e.get(cs.URL)
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, page, "This payment is complete.")
	})

	t.Run("JPY has no decimals", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC)
		cs := e.checkout(stripegateway.CheckoutRequest{
			OrderID: "order-jpy", Currency: "JPY",
			Items: []stripegateway.LineItem{{Name: "Uji matcha 100 g", UnitAmount: dec("1500"), Quantity: 1}},
		})
		assert.True(t, cs.AmountTotal.Equal(dec("1500")))
		_, page := e.get(cs.URL)
		assert.Contains(t, page, "¥1,500")
		assert.NotContains(t, page, "¥1,500.")
		assert.NotContains(t, page, "¥15.00")
		status, _, _ := e.post(cs.URL, pay(stripegatewaytest.CardSucceeds))
		assert.Equal(t, http.StatusSeeOther, status)
		got := e.outcomesFor("order-jpy")
		require.NotEmpty(t, got)
		assert.Equal(t, int64(1500), got[0].AmountMinor)
		assert.True(t, got[0].Amount.Equal(dec("1500")))
		assert.Equal(t, "jpy", got[0].Currency)
	})

	t.Run("card 0002 is declined, shown, and the session stays open", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC)
		cs := e.checkout(eurOrder("order-0002"))
		status, loc, page := e.post(cs.URL, pay("4000 0000 0000 0002"))
		assert.Equal(t, http.StatusPaymentRequired, status)
		assert.Empty(t, loc, "a declined card stays on the payment page")
		assert.Contains(t, page, "Your card was declined.")
		assert.Contains(t, page, `href="`+e.srv.URL+`/cancel?order=order-0002"`, "the page links back to the cancel URL")

		got := e.outcomesFor("order-0002")
		require.Len(t, got, 1)
		assert.Equal(t, stripegateway.PaymentFailed, got[0].Kind)
		assert.Equal(t, stripe.EventTypePaymentIntentPaymentFailed, got[0].EventType)
		assert.Equal(t, "Your card was declined.", got[0].FailureMessage)
		assert.Equal(t, "card_declined", got[0].FailureCode)
		assert.Equal(t, "generic_decline", got[0].DeclineCode)
		assert.False(t, got[0].Final)
		assert.True(t, got[0].Amount.Equal(dec("62.30")))

		rec, _ := e.sim.Session(cs.ID)
		assert.Equal(t, "open", rec.Status)
		assert.Equal(t, "unpaid", rec.PaymentStatus)
		assert.Equal(t, got[0].PaymentIntentID, rec.PaymentIntentID)
		o, err := e.gw.ConfirmCheckout(context.Background(), stripegateway.ConfirmRequest{SessionID: cs.ID, OrderID: "order-0002"})
		require.NoError(t, err)
		assert.Equal(t, stripegateway.PaymentPending, o.Kind, "the order is left unpaid")
		require.NotNil(t, o.CheckoutSession.PaymentIntent)
		assert.Equal(t, stripe.PaymentIntentStatusRequiresPaymentMethod, o.CheckoutSession.PaymentIntent.Status)
		require.NotNil(t, o.CheckoutSession.PaymentIntent.LastPaymentError)

		// Another card then pays, on the same PaymentIntent.
		status, loc, _ = e.post(cs.URL, pay(stripegatewaytest.CardSucceeds))
		assert.Equal(t, http.StatusSeeOther, status)
		assert.Contains(t, loc, cs.ID)
		got = e.outcomesFor("order-0002")
		require.Len(t, got, 3)
		assert.Equal(t, stripegateway.PaymentSucceeded, got[2].Kind)
		assert.Equal(t, rec.PaymentIntentID, got[2].PaymentIntentID)
	})

	t.Run("card 3155 asks for 3-D Secure: Complete pays, Fail does not", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC)
		ok := e.checkout(eurOrder("order-3ds-ok"))
		status, _, page := e.post(ok.URL, pay(stripegatewaytest.CardThreeDSecure))
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, page, ">Complete</button>")
		assert.Contains(t, page, ">Fail</button>")
		assert.Empty(t, e.received(), "no event while authenticating")
		rec, _ := e.sim.Session(ok.ID)
		assert.Equal(t, "requires_action", rec.PaymentIntentStatus)
		_, page = e.get(ok.URL)
		assert.Contains(t, page, ">Complete</button>", "reloading shows the step again")

		status, loc, _ := e.post(ok.URL+"/authenticate", url.Values{"action": {"complete"}})
		assert.Equal(t, http.StatusSeeOther, status)
		assert.Contains(t, loc, ok.ID)
		got := e.outcomesFor("order-3ds-ok")
		require.Len(t, got, 2)
		assert.Equal(t, stripegateway.PaymentSucceeded, got[0].Kind)

		bad := e.checkout(eurOrder("order-3ds-fail"))
		e.post(bad.URL, pay("4000002500003155"))
		status, loc, page = e.post(bad.URL+"/authenticate", url.Values{"action": {"fail"}})
		assert.Equal(t, http.StatusPaymentRequired, status)
		assert.Empty(t, loc)
		assert.Contains(t, page, "We are unable to authenticate your payment method.")
		got = e.outcomesFor("order-3ds-fail")
		require.Len(t, got, 1)
		assert.Equal(t, stripegateway.PaymentFailed, got[0].Kind)
		assert.Equal(t, "payment_intent_authentication_failure", got[0].FailureCode)
		o, err := e.gw.ConfirmCheckout(context.Background(), stripegateway.ConfirmRequest{SessionID: bad.ID, OrderID: "order-3ds-fail"})
		require.NoError(t, err)
		assert.Equal(t, stripegateway.PaymentPending, o.Kind)

		// The step cannot be answered twice, nor without being shown.
		status, loc, _ = e.post(bad.URL+"/authenticate", url.Values{"action": {"complete"}})
		assert.Equal(t, http.StatusPaymentRequired, status)
		assert.Empty(t, loc)
		assert.Len(t, e.outcomesFor("order-3ds-fail"), 1)
	})

	t.Run("unknown and invalid cards are refused without an event", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC)
		cs := e.checkout(eurOrder("order-badcard"))
		status, _, page := e.post(cs.URL, pay("1234"))
		assert.Equal(t, http.StatusPaymentRequired, status)
		assert.Contains(t, page, "Your card number is incomplete.")
		status, _, page = e.post(cs.URL, pay("4242 4242 4242 4241"))
		assert.Equal(t, http.StatusPaymentRequired, status)
		assert.Contains(t, page, "Your card number is invalid.")
		status, _, page = e.post(cs.URL, pay("4111 1111 1111 1111"))
		assert.Equal(t, http.StatusPaymentRequired, status)
		assert.Contains(t, page, "non test card")
		assert.Empty(t, e.received())
	})

	t.Run("idempotency keys are honoured", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC)
		first := e.checkout(eurOrder("order-idem"))
		again := e.checkout(eurOrder("order-idem"))
		assert.Equal(t, first.ID, again.ID)
		assert.False(t, first.Replayed)
		assert.True(t, again.Replayed)
		assert.Len(t, e.sim.Sessions(), 1)
	})

	t.Run("stripe-mock validates every request", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC)
		req, err := http.NewRequest(http.MethodPost, e.sim.APIURL()+"/v1/checkout/sessions", strings.NewReader("mode=payment&not_a_parameter=1"))
		require.NoError(t, err)
		req.SetBasicAuth(simSK, "")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := e.client.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, string(body), "invalid_request_error")
		assert.Empty(t, e.sim.Sessions())

		// Without a key, stripe-mock's 401 comes back.
		resp, err = e.client.Get(e.sim.APIURL() + "/v1/checkout/sessions/cs_test_x")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

		// Other endpoints are stripe-mock's.
		require.NoError(t, e.gw.CheckCredentials(context.Background()))

		// A session the Simulator did not create does not exist.
		_, err = e.gw.ConfirmCheckout(context.Background(), stripegateway.ConfirmRequest{SessionID: "cs_test_neverCreated", OrderID: "order-1"})
		assert.ErrorIs(t, err, stripegateway.ErrStripeAPI)
		var se *stripe.Error
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 404, se.HTTPStatusCode)
	})

	t.Run("expiring a session", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC)
		cs := e.checkout(eurOrder("order-expire"))
		exp, err := e.gw.ExpireCheckout(context.Background(), cs.ID)
		require.NoError(t, err)
		assert.Equal(t, cs.ID, exp.ID)
		assert.Equal(t, stripe.CheckoutSessionStatusExpired, exp.Session.Status)
		assert.Empty(t, exp.URL)
		_, page := e.get(cs.URL)
		assert.Contains(t, page, "expired")
		status, loc, _ := e.post(cs.URL, pay(stripegatewaytest.CardSucceeds))
		assert.Equal(t, http.StatusOK, status)
		assert.Empty(t, loc, "an expired session cannot be paid")
		require.NoError(t, e.sim.Close()) // waits for the checkout.session.expired delivery
		got := e.outcomesFor("order-expire")
		require.Len(t, got, 1)
		assert.Equal(t, stripegateway.CheckoutExpired, got[0].Kind)
		assert.Equal(t, cs.ID, got[0].SessionID)

		paid := e.checkout(eurOrder("order-paid"))
		e.post(paid.URL, pay(stripegatewaytest.CardSucceeds))
		_, err = e.gw.ExpireCheckout(context.Background(), paid.ID)
		assert.ErrorIs(t, err, stripegateway.ErrStripeAPI, "a complete session cannot be expired")
	})

	t.Run("subscription", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC)
		cs := e.checkout(stripegateway.CheckoutRequest{
			OrderID: "order-sub", Currency: "eur", Mode: stripegateway.CheckoutSubscription,
			Interval: stripe.PriceRecurringIntervalMonth,
			Items:    []stripegateway.LineItem{{Name: "Coffee club", UnitAmount: dec("19.99"), Quantity: 1}},
		})
		_, page := e.get(cs.URL)
		assert.Contains(t, page, "€19.99")
		assert.Contains(t, page, "per month")
		assert.Contains(t, page, "Subscribe")
		status, _, _ := e.post(cs.URL, pay(stripegatewaytest.CardSucceeds))
		assert.Equal(t, http.StatusSeeOther, status)
		rec, _ := e.sim.Session(cs.ID)
		assert.Equal(t, "subscription", rec.Mode)
		assert.NotEmpty(t, rec.SubscriptionID)
		assert.Equal(t, "month", rec.Lines[0].Interval)
		got := e.outcomesFor("order-sub")
		require.Len(t, got, 3, "checkout.session.completed, and invoice.paid and invoice.payment_succeeded of the first invoice")
		assert.Equal(t, stripe.EventTypeCheckoutSessionCompleted, got[0].EventType)
		assert.Equal(t, stripe.EventTypeInvoicePaid, got[1].EventType)
		assert.Equal(t, stripe.EventTypeInvoicePaymentSucceeded, got[2].EventType)
		for _, o := range got {
			assert.Equal(t, stripegateway.PaymentSucceeded, o.Kind)
			assert.Equal(t, rec.SubscriptionID, o.SubscriptionID)
			assert.False(t, o.Renewal, "the first payment is not a renewal")
		}
		assert.Equal(t, "subscription_create", got[1].BillingReason)
		assert.Equal(t, rec.LatestInvoiceID, got[1].InvoiceID)
		assert.Equal(t, rec.PaymentIntentID, got[1].PaymentIntentID)
		assert.True(t, got[1].PeriodEnd.Equal(rec.CurrentPeriodEnd), "%s, want %s", got[1].PeriodEnd, rec.CurrentPeriodEnd)
		assert.True(t, got[1].Amount.Equal(dec("19.99")))
		o, err := e.gw.ConfirmCheckout(context.Background(), stripegateway.ConfirmRequest{SessionID: cs.ID, OrderID: "order-sub"})
		require.NoError(t, err)
		assert.Equal(t, stripegateway.PaymentSucceeded, o.Kind)
	})

	t.Run("deferred capture", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC)
		req := eurOrder("order-hold")
		req.Mode = stripegateway.CheckoutDeferredCapture
		cs := e.checkout(req)
		rec, _ := e.sim.Session(cs.ID)
		assert.Equal(t, "manual", rec.CaptureMethod)
		e.post(cs.URL, pay(stripegatewaytest.CardSucceeds))
		got := e.outcomesFor("order-hold")
		require.Len(t, got, 2)
		assert.Equal(t, stripegateway.PaymentAuthorized, got[0].Kind)
		assert.Equal(t, stripegateway.PaymentAuthorized, got[1].Kind)
		o, err := e.gw.ConfirmCheckout(context.Background(), stripegateway.ConfirmRequest{SessionID: cs.ID, OrderID: "order-hold"})
		require.NoError(t, err)
		assert.Equal(t, stripegateway.PaymentAuthorized, o.Kind)

		part := dec("50.00")
		res, err := e.gw.Capture(context.Background(), stripegateway.CaptureRequest{PaymentIntentID: o.PaymentIntentID, Amount: part})
		require.NoError(t, err)
		assert.Equal(t, o.PaymentIntentID, res.ID)
		assert.Equal(t, stripe.PaymentIntentStatusSucceeded, res.Status)
		assert.True(t, res.AmountReceived.Equal(part), res.AmountReceived.String())
		_, err = e.gw.Capture(context.Background(), stripegateway.CaptureRequest{PaymentIntentID: o.PaymentIntentID})
		assert.ErrorIs(t, err, stripegateway.ErrStripeAPI, "a captured PaymentIntent cannot be captured again")
		require.NoError(t, e.sim.Close())
		got = e.outcomesFor("order-hold")
		require.Len(t, got, 3)
		assert.Equal(t, stripegateway.PaymentSucceeded, got[2].Kind)
		assert.True(t, got[2].Amount.Equal(part))
	})

	t.Run("a failing webhook endpoint is reported, and the browser still goes on", func(t *testing.T) {
		e := newSimEnv(t, mockURL, "whsec_xxxxxnotthesecretthegatewayhas00")
		cs := e.checkout(eurOrder("order-badsecret"))
		status, loc, _ := e.post(cs.URL, pay(stripegatewaytest.CardSucceeds))
		assert.Equal(t, http.StatusSeeOther, status)
		assert.Contains(t, loc, cs.ID)
		assert.Empty(t, e.received())
		ds := e.sim.Deliveries()
		require.Len(t, ds, 2)
		for _, d := range ds {
			assert.Equal(t, http.StatusBadRequest, d.StatusCode)
			assert.Equal(t, 1, d.Attempts, "a 400 is not retried")
			assert.Contains(t, d.Err, "400")
			assert.Equal(t, "order-badsecret", d.OrderID)
		}
		_, page := e.get(e.sim.APIURL() + "/")
		assert.Contains(t, page, cs.ID)
		assert.Contains(t, page, "checkout.session.completed")
	})
}

func TestNewSimulatorChecksItsConfig(t *testing.T) {
	_, err := stripegatewaytest.NewSimulator(stripegatewaytest.SimulatorConfig{})
	require.Error(t, err)
	for _, field := range []string{"UpstreamURL", "PublicURL", "WebhookURL", "WebhookSecret"} {
		assert.Contains(t, err.Error(), field)
	}
	_, err = stripegatewaytest.NewSimulator(stripegatewaytest.SimulatorConfig{
		UpstreamURL: "http://127.0.0.1:1", PublicURL: "/relative", WebhookURL: "http://127.0.0.1:2/hook", WebhookSecret: "whsec_x",
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PublicURL")
	assert.NotContains(t, err.Error(), "UpstreamURL")
	assert.False(t, errors.Is(err, stripegateway.ErrInvalidConfig))
}
