package stripegateway

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stripe/stripe-go/v76"
)

func TestOutcomeFromCheckoutSession(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		session    stripe.CheckoutSession
		wantKind   Kind
		wantAmount string
		wantOrder  string
	}{
		{"paid", stripe.CheckoutSession{Status: "complete", PaymentStatus: "paid", AmountTotal: 1999, Currency: "eur", ClientReferenceID: "o-1"}, PaymentSucceeded, "19.99", "o-1"},
		{"no payment required", stripe.CheckoutSession{Status: "complete", PaymentStatus: "no_payment_required", Currency: "usd", Metadata: map[string]string{MetadataOrderID: "o-2"}}, PaymentSucceeded, "0", "o-2"},
		{"unpaid is pending", stripe.CheckoutSession{Status: "complete", PaymentStatus: "unpaid", AmountTotal: 500, Currency: "jpy", ClientReferenceID: "o-3"}, PaymentPending, "500", "o-3"},
		{"deferred capture is authorized", stripe.CheckoutSession{Status: "complete", PaymentStatus: "unpaid", AmountTotal: 12340, Currency: "kwd", Metadata: map[string]string{MetadataCaptureMethod: "manual", MetadataOrderID: "o-4"}}, PaymentAuthorized, "12.34", "o-4"},
		{"expanded intent requiring capture", stripe.CheckoutSession{Status: "complete", PaymentStatus: "unpaid", AmountTotal: 100, Currency: "usd", PaymentIntent: &stripe.PaymentIntent{ID: "pi_1", Status: "requires_capture"}}, PaymentAuthorized, "1", ""},
		{"expired", stripe.CheckoutSession{Status: "expired", PaymentStatus: "unpaid", AmountTotal: 100, Currency: "gbp"}, CheckoutExpired, "1", ""},
		{"still open", stripe.CheckoutSession{Status: "open", PaymentStatus: "unpaid", AmountTotal: 100, Currency: "gbp"}, PaymentPending, "1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.session
			o := outcomeFromCheckoutSession(&s)
			assert.Equal(t, tt.wantKind, o.Kind)
			assert.Equal(t, tt.wantOrder, o.OrderID)
			assert.True(t, decimal.RequireFromString(tt.wantAmount).Equal(o.Amount), "amount %s", o.Amount)
			assert.Same(t, &s, o.CheckoutSession)
		})
	}
}

func TestConfigWebhookSecretsOrder(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.PreviousWebhookSecrets = []string{testWHSEC2}
	assert.Equal(t, []string{testWHSEC, testWHSEC2}, c.webhookSecrets())
	c.WebhookSecret = ""
	assert.Equal(t, []string{testWHSEC2}, c.webhookSecrets())
}
