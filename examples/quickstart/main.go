// Command quickstart shows the library end to end without a Stripe account:
// it starts stripe-mock (Stripe's official API mock, built from the version
// pinned in tools/go.mod), builds a test-mode Gateway pointed at it, and
// checks the credentials the way an admin's "Test connection" button does.
//
// Run it from the repository root:
//
//	go run ./examples/quickstart
//
// Set STRIPE_MOCK_URL to use a stripe-mock that is already running.
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/shopspring/decimal"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/internal/stripemock"
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

	cfg := stripegateway.Config{
		DisplayName:    "Credit Card",
		MinimumAmount:  decimal.RequireFromString("1.00"),
		Status:         stripegateway.StatusActive,
		Mode:           stripegateway.ModeTest,
		PublishableKey: "pk_test_quickstartpublishable000",
		SecretKey:      "sk_test_quickstartsecretkey00000",
		WebhookSecret:  "whsec_quickstartsigningsecret000",
	}
	gw, err := stripegateway.New(cfg, stripegateway.WithAPIURL(mock.URL))
	if err != nil {
		return err
	}
	fmt.Println("gateway:", gw)
	if err := gw.CheckCredentials(ctx); err != nil {
		return fmt.Errorf("test connection: %w", err)
	}
	fmt.Println("test connection: OK")
	return nil
}
