// Command quickstart runs the library's whole payment journey in the
// terminal, without a Stripe account or network, and says at each step what
// happened and why. It starts stripe-mock (Stripe's official API mock,
// built from the version pinned in tools/go.mod) behind the simulated
// Stripe of stripegatewaytest.NewSimulator, as the example storefront does
// offline, so that the Checkout Session's ID, its URL and the webhook events
// are the real ones and agree with each other:
//
//  1. the store creates a Checkout Session for an order;
//  2. the customer pays on the simulated hosted page with a test card;
//  3. the simulator signs checkout.session.completed and
//     payment_intent.succeeded and POSTs them to the store's webhook
//     endpoint, whose callback marks the order paid, once;
//  4. the success page confirms the session from its URL;
//  5. a redelivered event, a forged one and a declined card change nothing
//     they should not.
//
// Run it from the repository root:
//
//	go run ./examples/quickstart
//
// Set STRIPE_MOCK_URL to use a stripe-mock that is already running. The
// same journey in a browser is examples/storefront.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/internal/stripemock"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

const (
	webhookSecret = "whsec_quickstart_signing_secret_not_real_0"
	webhookPath   = "/gateways/stripe/notification"
)

// store is the example's order book: what the webhook callbacks change.
type store struct {
	mu     sync.Mutex
	paid   map[string]decimal.Decimal // order ID: amount paid
	notes  []string                   // what the callbacks did, for the next step's line
	calls  int                        // callbacks run
	failed map[string]string          // order ID: last decline
}

func (s *store) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

// flush prints what the callbacks did since the last step.
func (s *store) flush(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.notes {
		fmt.Fprintln(w, "   webhook:", n)
	}
	s.notes = nil
}

func money(d decimal.Decimal, currency string) string {
	return strings.ToUpper(currency) + " " + d.StringFixed(2)
}

func (s *store) handlers() stripegateway.Handlers {
	return stripegateway.Handlers{
		OnPaymentSucceeded: func(_ context.Context, o *stripegateway.Outcome) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.calls++
			if _, ok := s.paid[o.OrderID]; ok {
				s.note("%s (%s): order %s is already paid: nothing to do (it reports the same payment)", o.EventType, o.EventID, o.OrderID)
				return nil
			}
			s.paid[o.OrderID] = o.Amount
			s.note("%s (%s): order %s paid %s: marked paid", o.EventType, o.EventID, o.OrderID, money(o.Amount, o.Currency))
			return nil
		},
		OnPaymentFailed: func(_ context.Context, o *stripegateway.Outcome) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.calls++
			s.failed[o.OrderID] = o.FailureMessage
			s.note("%s (%s): order %s not paid: %q (%s/%s); the customer may try another card", o.EventType, o.EventID, o.OrderID, o.FailureMessage, o.FailureCode, o.DeclineCode)
			return nil
		},
	}
}

func run(ctx context.Context, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	// stripe-mock answers Stripe's API as its OpenAPI specification says,
	// but statelessly, with fixtures: alone, it would return a session that
	// is not the one created. The simulator in front of it records what
	// was created, serves the hosted payment page and sends the webhooks.
	mock, err := stripemock.Start(ctx, nil) // a first run says on stderr that it builds stripe-mock
	if err != nil {
		return err
	}
	defer mock.Close()

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	sim, err := stripegatewaytest.NewSimulator(stripegatewaytest.SimulatorConfig{
		UpstreamURL:   mock.URL,
		PublicURL:     srv.URL + "/stripe-sim",
		WebhookURL:    srv.URL + webhookPath,
		WebhookSecret: webhookSecret,
		BusinessName:  "Quickstart shop",
	})
	if err != nil {
		return err
	}
	defer sim.Close()
	fmt.Fprintf(w, "0. Started stripe-mock at %s (Stripe's API mock: it validates every call) and a simulated Stripe in front of it at %s (it remembers the sessions, shows the payment page and sends signed webhooks), so nothing leaves this machine.\n", mock.URL, sim.APIURL())

	gw, err := stripegateway.New(stripegateway.Config{
		DisplayName:    "Credit Card",
		MinimumAmount:  decimal.RequireFromString("1.00"),
		Status:         stripegateway.StatusActive,
		Mode:           stripegateway.ModeTest,
		PublishableKey: "pk_test_quickstartpublishable000",
		SecretKey:      "sk_test_quickstartsecretkey00000",
		WebhookSecret:  webhookSecret,
	}, stripegateway.WithAPIURL(sim.APIURL()))
	if err != nil {
		return err
	}
	st := &store{paid: map[string]decimal.Decimal{}, failed: map[string]string{}}
	mux.Handle("/stripe-sim/", sim)
	mux.Handle(webhookPath, gw.WebhookHandler(st.handlers()))
	mux.HandleFunc("/success", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "thanks") })
	mux.HandleFunc("/cart", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "cart") })

	if err := gw.CheckCredentials(ctx); err != nil {
		return fmt.Errorf("test connection: %w", err)
	}
	fmt.Fprintf(w, "1. Test connection: OK. The gateway made one authenticated call with %v (keys are printed redacted), as the admin's \"Test connection\" button does.\n", gw.Config().SecretKey)

	// The customer clicks Pay: the store creates a Checkout Session.
	const orderID = "order-1001"
	order := stripegateway.CheckoutRequest{
		OrderID:  orderID,
		Currency: "EUR",
		Items: []stripegateway.LineItem{
			{Name: "T-shirt", UnitAmount: decimal.RequireFromString("19.99"), Quantity: 2},
			{Name: "Sticker", UnitAmount: decimal.RequireFromString("0.50"), Quantity: 1},
		},
		SuccessURL: srv.URL + "/success?session_id={CHECKOUT_SESSION_ID}",
		CancelURL:  srv.URL + "/cart",
	}
	sess, err := gw.CreateCheckout(ctx, order)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "2. Created Checkout Session %s for %s (%s): the store redirects the customer to %s, the simulated hosted page (with real keys, a checkout.stripe.com page).\n",
		sess.ID, orderID, money(sess.AmountTotal, sess.Currency), sess.URL)

	_, err = gw.CreateCheckout(ctx, stripegateway.CheckoutRequest{
		OrderID: "order-1002", Currency: "kwd", SuccessURL: order.SuccessURL, CancelURL: order.CancelURL,
		Items: []stripegateway.LineItem{{Name: "Dates", UnitAmount: decimal.RequireFromString("1.234"), Quantity: 1}},
	})
	if err == nil {
		return fmt.Errorf("order-1002: an amount with too many decimals was accepted")
	}
	fmt.Fprintf(w, "3. Refused order-1002 before calling Stripe, because invalid money never reaches it: %v\n", err)

	// The customer pays on the hosted page.
	browser := &http.Client{
		Timeout:       time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	status, loc, err := payOnPage(ctx, browser, sess.URL, "4242 4242 4242 4242")
	if err != nil {
		return err
	}
	if status != http.StatusSeeOther {
		return fmt.Errorf("paying %s: HTTP %d, want a redirect to the success URL", sess.ID, status)
	}
	var types []string
	for _, d := range sim.Deliveries() {
		if d.SessionID == sess.ID {
			types = append(types, fmt.Sprintf("%s → HTTP %d", d.EventType, d.StatusCode))
		}
	}
	fmt.Fprintf(w, "4. The customer paid with test card 4242 4242 4242 4242: the simulator signed %d events for session %s and POSTed them to %s (%s), then sent the browser to %s.\n",
		len(types), sess.ID, webhookPath, strings.Join(types, ", "), loc)
	st.flush(w)

	// The customer lands on the success page, maybe before the webhook:
	// it confirms the session named in its URL.
	u, err := url.Parse(loc)
	if err != nil {
		return err
	}
	back := u.Query().Get("session_id")
	o, err := gw.ConfirmCheckout(ctx, stripegateway.ConfirmRequest{SessionID: back, OrderID: orderID})
	if err != nil {
		return err
	}
	if back != sess.ID {
		return fmt.Errorf("the success URL names session %s, not %s", back, sess.ID)
	}
	fmt.Fprintf(w, "5. The success page confirmed session %s, the ID in its URL, with ConfirmCheckout: %s, %s, the same outcome as the webhook's, for a browser that arrives first.\n",
		back, o.Kind, money(o.Amount, o.Currency))

	// Stripe may deliver an event again: the callback must not run twice.
	events := sim.Events()
	if len(events) == 0 {
		return fmt.Errorf("the simulator recorded no event")
	}
	first := events[0]
	before := st.callbacks()
	code, err := deliver(ctx, srv.URL+webhookPath, first.Payload)
	if err != nil {
		return err
	}
	ran := "no callback ran"
	if n := st.callbacks() - before; n > 0 {
		ran = fmt.Sprintf("%d callback(s) ran", n)
	}
	fmt.Fprintf(w, "6. Delivered %s (%s) again, as Stripe may: HTTP %d and %s, because the gateway's event store remembers processed events.\n",
		first.Type, first.ID, code, ran)
	st.flush(w)

	// A forged event: signed with another secret.
	forged := stripegatewaytest.NewRequest(srv.URL+webhookPath, stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "order-9999", decimal.RequireFromString("1.00"), "eur").MustJSON(), webhookSecret, stripegatewaytest.WrongSecret())
	forged.RequestURI = ""
	resp, err := http.DefaultClient.Do(forged.WithContext(ctx))
	if err != nil {
		return err
	}
	resp.Body.Close()
	fmt.Fprintf(w, "7. A forged event for order-9999, signed with another secret: HTTP %d, because its signature does not verify; nothing changed.\n", resp.StatusCode)

	// A declined card.
	declined := order
	declined.OrderID = "order-1003"
	dsess, err := gw.CreateCheckout(ctx, declined)
	if err != nil {
		return err
	}
	status, _, err = payOnPage(ctx, browser, dsess.URL, "4000 0000 0000 0002")
	if err != nil {
		return err
	}
	rec, _ := sim.Session(dsess.ID)
	fmt.Fprintf(w, "8. order-1003 (session %s) paid with test card 4000 0000 0000 0002: declined (HTTP %d on the page); payment_intent.payment_failed reached the store, and the session is %s for another card, as on Stripe's page.\n",
		dsess.ID, status, rec.Status)
	st.flush(w)

	st.mu.Lock()
	defer st.mu.Unlock()
	paid, ok := st.paid[orderID]
	if !ok || !paid.Equal(sess.AmountTotal) || st.failed["order-1003"] == "" {
		return fmt.Errorf("unexpected end state: paid %v, failed %v", st.paid, st.failed)
	}
	fmt.Fprintf(w, "Done: %s paid %s exactly once; order-1003 unpaid. See examples/storefront for the same journey in a browser.\n", orderID, money(paid, sess.Currency))
	return nil
}

func (s *store) callbacks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// payOnPage submits the simulated payment page's card form, as the
// customer's browser does, and returns the status and the redirect.
func payOnPage(ctx context.Context, c *http.Client, pageURL, card string) (int, string, error) {
	form := url.Values{"cardNumber": {card}, "cardExpiry": {"12 / 34"}, "cardCvc": {"123"}, "billingName": {"Jenny Rosen"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, pageURL, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

// deliver POSTs an event to the webhook endpoint, signed now with the
// endpoint's secret, as Stripe's redelivery does.
func deliver(ctx context.Context, endpoint string, payload []byte) (int, error) {
	req := stripegatewaytest.NewRequest(endpoint, payload, webhookSecret)
	req.RequestURI = ""
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
