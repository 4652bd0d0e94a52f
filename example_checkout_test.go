package stripegateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/b27de697/stripegateway"
)

func ExampleGateway_CreateCheckout() {
	api := newFakeStripe() // stands in for https://api.stripe.com
	defer api.Close()

	g, err := stripegateway.New(exampleConfig(), stripegateway.WithAPIURL(api.URL))
	if err != nil {
		log.Fatal(err)
	}
	sess, err := g.CreateCheckout(context.Background(), stripegateway.CheckoutRequest{
		OrderID:  "order-1001",
		Currency: "JPY", // a zero-decimal currency: 1500 JPY is sent as 1500
		Items: []stripegateway.LineItem{
			{Name: "Matcha, 100 g", UnitAmount: decimal.RequireFromString("1500"), Quantity: 2},
			{Name: "Bamboo whisk", UnitAmount: decimal.RequireFromString("2400"), Quantity: 1},
		},
		SuccessURL: "https://shop.example/orders/1001/paid?session_id={CHECKOUT_SESSION_ID}",
		CancelURL:  "https://shop.example/cart",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("redirect to:", sess.URL)
	fmt.Println("total:", sess.AmountTotal, strings.ToUpper(sess.Currency))

	// A price that cannot be charged exactly is refused, not rounded, and
	// nothing is sent to Stripe.
	_, err = g.CreateCheckout(context.Background(), stripegateway.CheckoutRequest{
		OrderID:    "order-1002",
		Currency:   "KWD",
		Items:      []stripegateway.LineItem{{Name: "Dates", UnitAmount: decimal.RequireFromString("1.234"), Quantity: 1}},
		SuccessURL: "https://shop.example/orders/1002/paid",
	})
	fmt.Println(errors.Is(err, stripegateway.ErrInvalidAmount))
	fmt.Println(err)
	// Output:
	// redirect to: https://checkout.stripe.com/c/pay/cs_test_fake1
	// total: 5400 JPY
	// true
	// stripegateway: invalid amount: Items[0] ("Dates"): 1.234 KWD has 3 decimal places, but KWD allows at most 2 decimal places: Stripe requires the last of KWD's 3 minor digits to be 0
}

func ExampleGateway_ConfirmCheckout() {
	api := newFakeStripe()
	defer api.Close()
	g, err := stripegateway.New(exampleConfig(), stripegateway.WithAPIURL(api.URL))
	if err != nil {
		log.Fatal(err)
	}
	sess, err := g.CreateCheckout(context.Background(), stripegateway.CheckoutRequest{
		OrderID:    "order-1001",
		Currency:   "eur",
		Items:      []stripegateway.LineItem{{Name: "T-shirt", UnitAmount: decimal.RequireFromString("19.99"), Quantity: 2}},
		SuccessURL: "https://shop.example/orders/1001/paid?session_id={CHECKOUT_SESSION_ID}",
	})
	if err != nil {
		log.Fatal(err)
	}
	api.pay(sess.ID) // the customer pays on Stripe's page and comes back

	// The success page: session_id comes from the URL, the order ID from the
	// store's own records, never from the URL.
	o, err := g.ConfirmCheckout(context.Background(), stripegateway.ConfirmRequest{SessionID: sess.ID, OrderID: "order-1001"})
	if err != nil {
		log.Fatal(err)
	}
	switch o.Kind {
	case stripegateway.PaymentSucceeded:
		fmt.Println("paid:", o.OrderID, o.Amount.StringFixed(2), o.Currency)
	case stripegateway.PaymentPending:
		fmt.Println("waiting for the payment")
	}

	// Another order's session does not mark this order paid.
	_, err = g.ConfirmCheckout(context.Background(), stripegateway.ConfirmRequest{SessionID: sess.ID, OrderID: "order-1002"})
	fmt.Println(errors.Is(err, stripegateway.ErrSessionMismatch))
	// Output:
	// paid: order-1001 39.98 eur
	// true
}

func ExampleMinimumError() {
	api := newFakeStripe()
	defer api.Close()
	cfg := exampleConfig()
	cfg.MinimumAmount = decimal.RequireFromString("5") // the store's own minimum
	g, err := stripegateway.New(cfg, stripegateway.WithAPIURL(api.URL))
	if err != nil {
		log.Fatal(err)
	}
	_, err = g.CreateCheckout(context.Background(), stripegateway.CheckoutRequest{
		OrderID:    "order-1003",
		Currency:   "GBP",
		Items:      []stripegateway.LineItem{{Name: "Postcard", UnitAmount: decimal.RequireFromString("0.80"), Quantity: 3}},
		SuccessURL: "https://shop.example/orders/1003/paid",
	})
	var me *stripegateway.MinimumError
	if errors.As(err, &me) {
		fmt.Printf("add %s %s to the order (minimum set by the %s)\n",
			me.Minimum.Sub(me.Total).StringFixed(2), strings.ToUpper(me.Currency), me.Source)
	}
	// Output:
	// add 2.60 GBP to the order (minimum set by the store)
}

func exampleConfig() stripegateway.Config {
	return stripegateway.Config{
		DisplayName:    "Credit Card",
		Status:         stripegateway.StatusActive,
		Mode:           stripegateway.ModeTest,
		PublishableKey: "pk_test_exampleexampleexample00",
		SecretKey:      "sk_test_exampleexampleexample00",
		WebhookSecret:  "whsec_xxxxxxxexampleexampleexample0000",
	}
}

// fakeStripe is a tiny stand-in for Stripe's API, enough for the examples:
// it creates Checkout Sessions (honouring idempotency keys) and returns
// them, paid once pay was called.
type fakeStripe struct {
	*httptest.Server
	mu       sync.Mutex
	sessions map[string]map[string]any
	byKey    map[string]string
}

func newFakeStripe() *fakeStripe {
	f := &fakeStripe{sessions: map[string]map[string]any{}, byKey: map[string]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

func (f *fakeStripe) pay(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sessions[id]
	s["status"], s["payment_status"], s["url"] = "complete", "paid", nil
	s["payment_intent"] = map[string]any{"id": "pi_fake" + strings.TrimPrefix(id, "cs_test_fake"), "object": "payment_intent", "status": "succeeded"}
}

func (f *fakeStripe) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/checkout/sessions":
		if id, ok := f.byKey[r.Header.Get("Idempotency-Key")]; ok {
			w.Header().Set("Idempotent-Replayed", "true")
			_ = json.NewEncoder(w).Encode(f.sessions[id])
			return
		}
		_ = r.ParseForm()
		var total int64
		for i := 0; r.PostForm.Has(fmt.Sprintf("line_items[%d][quantity]", i)); i++ {
			unit, _ := strconv.ParseInt(r.PostForm.Get(fmt.Sprintf("line_items[%d][price_data][unit_amount]", i)), 10, 64)
			qty, _ := strconv.ParseInt(r.PostForm.Get(fmt.Sprintf("line_items[%d][quantity]", i)), 10, 64)
			total += unit * qty
		}
		id := "cs_test_fake" + strconv.Itoa(len(f.sessions)+1)
		s := map[string]any{
			"id": id, "object": "checkout.session", "livemode": false, "mode": r.PostForm.Get("mode"),
			"status": "open", "payment_status": "unpaid", "created": 1893553445, "expires_at": 1893639845,
			"url":      "https://checkout.stripe.com/c/pay/" + id,
			"currency": r.PostForm.Get("currency"), "amount_total": total,
			"client_reference_id": r.PostForm.Get("client_reference_id"),
			"metadata":            map[string]string{"order_id": r.PostForm.Get("metadata[order_id]")},
		}
		f.sessions[id] = s
		f.byKey[r.Header.Get("Idempotency-Key")] = id
		_ = json.NewEncoder(w).Encode(s)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/checkout/sessions/"):
		id, _ := url.PathUnescape(strings.TrimPrefix(r.URL.Path, "/v1/checkout/sessions/"))
		if s, ok := f.sessions[id]; ok {
			_ = json.NewEncoder(w).Encode(s)
			return
		}
		fallthrough
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","code":"resource_missing","message":"not found"}}`))
	}
}
