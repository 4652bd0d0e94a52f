// Command quickstart runs the library's whole payment journey without a
// Stripe account or network: it starts stripe-mock (Stripe's official API
// mock, built from the version pinned in tools/go.mod), creates a Checkout
// Session for an order, then delivers a signed checkout.session.completed
// webhook, built with the stripegatewaytest kit, to the library's handler
// over HTTP, twice, as Stripe may. The order is marked paid exactly once.
//
// Run it from the repository root:
//
//	go run ./examples/quickstart
//
// Set STRIPE_MOCK_URL to use a stripe-mock that is already running. The
// full example store, with a simulated hosted checkout page, is
// examples/storefront.
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/internal/stripemock"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	mock, err := stripemock.Start(ctx, func(f string, a ...any) { log.Printf(f, a...) })
	if err != nil {
		return err
	}
	defer mock.Close()
	fmt.Println("stripe-mock listening at", mock.URL)

	const webhookSecret = "whsec_xxxxxxquickstartsigningsecret000"
	cfg := stripegateway.Config{
		DisplayName:    "Credit Card",
		MinimumAmount:  decimal.RequireFromString("1.00"),
		Status:         stripegateway.StatusActive,
		Mode:           stripegateway.ModeTest,
		PublishableKey: "pk_test_quickstartpublishable000",
		SecretKey:      "sk_test_quickstartsecretkey00000",
		WebhookSecret:  webhookSecret,
	}
	gw, err := stripegateway.New(cfg, stripegateway.WithAPIURL(mock.URL))
	if err != nil {
		return err
	}
	fmt.Println("gateway:", gw.Config())
	if err := gw.CheckCredentials(ctx); err != nil {
		return fmt.Errorf("test connection: %w", err)
	}
	fmt.Println("test connection: OK")

	// 1. The customer clicks Pay: create a Checkout Session for the order.
	const orderID = "order-1001"
	sess, err := gw.CreateCheckout(ctx, stripegateway.CheckoutRequest{
		OrderID:  orderID,
		Currency: "EUR",
		Items: []stripegateway.LineItem{
			{Name: "T-shirt", UnitAmount: decimal.RequireFromString("19.99"), Quantity: 2},
			{Name: "Sticker", UnitAmount: decimal.RequireFromString("0.50"), Quantity: 1},
		},
		SuccessURL: "https://shop.example/success?session_id={CHECKOUT_SESSION_ID}",
		CancelURL:  "https://shop.example/cart",
	})
	if err != nil {
		return err
	}
	fmt.Printf("checkout session %s: redirect the customer to %s\n", sess.ID, sess.URL)
	// stripe-mock answers with a fixture session, not the one sent, so the
	// example uses the order's own total; with real Stripe, sess.AmountTotal
	// is that total.
	total := decimal.RequireFromString("40.48")

	// Invalid money never reaches Stripe.
	_, err = gw.CreateCheckout(ctx, stripegateway.CheckoutRequest{
		OrderID: "order-1002", Currency: "kwd", SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cart",
		Items: []stripegateway.LineItem{{Name: "Dates", UnitAmount: decimal.RequireFromString("1.234"), Quantity: 1}},
	})
	fmt.Println("refused before calling Stripe:", err)

	// 2. Stripe calls the webhook endpoint. The handler verifies the
	// signature, claims the event, and runs the callback exactly once.
	var mu sync.Mutex
	paid := map[string]decimal.Decimal{}
	handler := gw.WebhookHandler(stripegateway.Handlers{
		OnPaymentSucceeded: func(ctx context.Context, o *stripegateway.Outcome) error {
			mu.Lock()
			defer mu.Unlock()
			paid[o.OrderID] = paid[o.OrderID].Add(o.Amount)
			fmt.Printf("callback: order %s paid %s %s (event %s)\n", o.OrderID, o.Amount.StringFixed(2), o.Currency, o.EventID)
			return nil
		},
	})
	mux := http.NewServeMux()
	mux.Handle("/gateways/stripe/notification", handler)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	event := stripegatewaytest.NewEvent("checkout.session.completed", orderID, total, "eur").MustJSON()
	for attempt := 1; attempt <= 2; attempt++ {
		req := stripegatewaytest.NewRequest(srv.URL+"/gateways/stripe/notification", event, webhookSecret)
		req.RequestURI = ""
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			return err
		}
		resp.Body.Close()
		fmt.Printf("delivery %d: HTTP %d\n", attempt, resp.StatusCode)
	}
	forged := stripegatewaytest.NewRequest(srv.URL+"/gateways/stripe/notification", event, webhookSecret, stripegatewaytest.WrongSecret())
	forged.RequestURI = ""
	resp, err := http.DefaultClient.Do(forged.WithContext(ctx))
	if err != nil {
		return err
	}
	resp.Body.Close()
	fmt.Printf("forged delivery: HTTP %d\n", resp.StatusCode)

	mu.Lock()
	defer mu.Unlock()
	fmt.Printf("order %s: paid %s EUR in total (expected %s)\n", orderID, paid[orderID].StringFixed(2), total.StringFixed(2))
	if !paid[orderID].Equal(total) {
		return fmt.Errorf("order %s was not paid exactly once", orderID)
	}
	return nil
}
