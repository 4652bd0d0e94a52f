package stripegateway_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// Mount the webhook handler with one callback per outcome the shop acts on.
// Each callback runs at most once per event, however often Stripe delivers
// it; returning an error makes Stripe deliver it again later.
func ExampleGateway_WebhookHandler() {
	cfg := stripegateway.Config{
		DisplayName:    "Credit Card",
		Status:         stripegateway.StatusActive,
		Mode:           stripegateway.ModeTest,
		PublishableKey: "pk_test_51Hexamplepublishablekey00",
		SecretKey:      "sk_test_51Hexamplesecretkey000000",
		WebhookSecret:  "whsec_xxxxexampleendpointsigningsecret",
	}
	g, err := stripegateway.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/gateways/stripe/notification", g.WebhookHandler(stripegateway.Handlers{
		OnPaymentSucceeded: func(ctx context.Context, o *stripegateway.Outcome) error {
			// Mark the order paid, idempotently: checkout.session.completed
			// and payment_intent.succeeded both report this payment.
			fmt.Printf("order %s paid: %s %s\n", o.OrderID, o.Amount, strings.ToUpper(o.Currency))
			return nil
		},
		OnPaymentPending: func(ctx context.Context, o *stripegateway.Outcome) error {
			fmt.Printf("order %s awaits its payment\n", o.OrderID)
			return nil
		},
		OnPaymentFailed: func(ctx context.Context, o *stripegateway.Outcome) error {
			if o.Final {
				fmt.Printf("order %s cannot be paid: cancel it\n", o.OrderID)
			} else {
				fmt.Printf("order %s: %q, the customer may try again\n", o.OrderID, o.FailureMessage)
			}
			return nil
		},
		Default: func(ctx context.Context, o *stripegateway.Outcome) error {
			fmt.Printf("%s: nothing to do\n", o.Kind)
			return nil
		},
	}))

	// Deliver events as Stripe would, with the test kit.
	deliver := func(ev stripegatewaytest.Event) {
		req := stripegatewaytest.NewRequest("/gateways/stripe/notification", ev.MustJSON(), string(cfg.WebhookSecret))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println("->", rec.Code)
	}
	paid := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "order-42", decimal.RequireFromString("19.99"), "eur")
	deliver(paid)
	deliver(paid) // a duplicate delivery: answered 200, no second call
	declined := stripegatewaytest.ForKind(stripegateway.PaymentFailed, "order-43", decimal.RequireFromString("5000"), "jpy")
	declined.DeclineCode, declined.FailureMessage = "insufficient_funds", "Your card has insufficient funds."
	deliver(declined)
	deliver(stripegatewaytest.ForKind(stripegateway.PaymentRefunded, "order-41", decimal.RequireFromString("12.34"), "kwd"))

	// Output:
	// order order-42 paid: 19.99 EUR
	// -> 200
	// -> 200
	// order order-43: "Your card has insufficient funds.", the customer may try again
	// -> 200
	// payment_refunded: nothing to do
	// -> 200
}

// VerifyAndParse is the building block under WebhookHandler, for a host that
// routes requests itself. Pass it the raw body, unmodified.
func ExampleGateway_VerifyAndParse() {
	cfg := stripegateway.Config{
		DisplayName:    "Credit Card",
		Status:         stripegateway.StatusActive,
		Mode:           stripegateway.ModeTest,
		PublishableKey: "pk_test_51Hexamplepublishablekey00",
		SecretKey:      "sk_test_51Hexamplesecretkey000000",
		WebhookSecret:  "whsec_xxxxexampleendpointsigningsecret",
	}
	g, err := stripegateway.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	payload := stripegatewaytest.ForKind(stripegateway.PaymentAuthorized, "order-7", decimal.RequireFromString("250"), "usd").MustJSON()
	header := stripegatewaytest.SignatureHeader(payload, string(cfg.WebhookSecret))

	o, err := g.VerifyAndParse(payload, header)
	if err != nil {
		log.Fatal(err) // answer 400
	}
	fmt.Println(o.EventType, o.Kind, o.OrderID, o.Amount)

	_, err = g.VerifyAndParse(payload, stripegatewaytest.SignatureHeader(payload, string(cfg.WebhookSecret), stripegatewaytest.WrongSecret()))
	fmt.Println(err != nil)
	// Output:
	// checkout.session.completed payment_authorized order-7 250
	// true
}

// A subscription's renewal, as an endpoint at a newer API version sends it:
// an invoice outcome with Renewal set and the period it pays for. Extend the
// customer's access to PeriodEnd, keyed by SubscriptionID and deduplicated
// by InvoiceID; the order that started the subscription stays as it is.
func ExampleOutcome_renewal() {
	cfg := stripegateway.Config{
		DisplayName:    "Credit Card",
		Status:         stripegateway.StatusActive,
		Mode:           stripegateway.ModeTest,
		PublishableKey: "pk_test_51Hexamplepublishablekey00",
		SecretKey:      "sk_test_51Hexamplesecretkey000000",
		WebhookSecret:  "whsec_xxxxexampleendpointsigningsecret",
	}
	g, err := stripegateway.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	ev := stripegatewaytest.NewEvent(stripe.EventTypeInvoicePaid, "order-42", decimal.RequireFromString("19.99"), "eur",
		stripegatewaytest.WithAPIVersion("2025-08-27.basil"), stripegatewaytest.Renewal())
	ev.PeriodStart = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ev.PeriodEnd = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	payload := ev.MustJSON()

	o, err := g.VerifyAndParse(payload, stripegatewaytest.SignatureHeader(payload, string(cfg.WebhookSecret)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(o.APIVersion, o.Kind, o.BillingReason, o.Renewal)
	fmt.Println("order", o.OrderID, "active until", o.PeriodEnd.Format(time.DateOnly))
	fmt.Println("typed invoice:", o.Invoice != nil, "raw object:", len(o.RawObject) > 0)
	// Output:
	// 2025-08-27.basil payment_succeeded subscription_cycle true
	// order order-42 active until 2027-01-01
	// typed invoice: false raw object: true
}
