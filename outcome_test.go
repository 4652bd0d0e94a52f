package stripegateway

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stripe/stripe-go/v76"

	"os"
	"strings"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/b27de697/stripegateway/internal/wire"
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
		{"no payment required", stripe.CheckoutSession{Status: "complete", PaymentStatus: "no_payment_required", Currency: "usd", Metadata: map[string]string{wire.MetadataOrderID: "o-2"}}, PaymentSucceeded, "0", "o-2"},
		{"unpaid is pending", stripe.CheckoutSession{Status: "complete", PaymentStatus: "unpaid", AmountTotal: 500, Currency: "jpy", ClientReferenceID: "o-3"}, PaymentPending, "500", "o-3"},
		{"deferred capture is authorized", stripe.CheckoutSession{Status: "complete", PaymentStatus: "unpaid", AmountTotal: 12340, Currency: "kwd", Metadata: map[string]string{wire.MetadataCaptureMethod: "manual", wire.MetadataOrderID: "o-4"}}, PaymentAuthorized, "12.34", "o-4"},
		{"expanded intent requiring capture", stripe.CheckoutSession{Status: "complete", PaymentStatus: "unpaid", AmountTotal: 100, Currency: "usd", PaymentIntent: &stripe.PaymentIntent{ID: "pi_1", Status: "requires_capture"}}, PaymentAuthorized, "1", ""},
		{"expired", stripe.CheckoutSession{Status: "expired", PaymentStatus: "unpaid", AmountTotal: 100, Currency: "gbp"}, CheckoutExpired, "1", ""},
		{"still open", stripe.CheckoutSession{Status: "open", PaymentStatus: "unpaid", AmountTotal: 100, Currency: "gbp"}, PaymentPending, "1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.session
			o := outcomeOfSession(viewCheckoutSession(&s))
			assert.Equal(t, tt.wantKind, o.Kind)
			assert.Equal(t, tt.wantOrder, o.OrderID)
			assert.True(t, decimal.RequireFromString(tt.wantAmount).Equal(o.Amount), "amount %s", o.Amount)
			assert.Equal(t, s.ID, o.SessionID)
		})
	}
}

// signedNow signs payload for validConfig's webhook secret at now.
func signedNow(payload []byte, now time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload: payload, Secret: testWHSEC, Timestamp: now,
	}).Header
}

func TestCompletedSessionEventKinds(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	g, err := New(validConfig(), WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	event := func(object string) []byte {
		return []byte(`{"id":"evt_1","object":"event","api_version":"2023-10-16","created":1700000000,"livemode":false,"type":"checkout.session.completed","data":{"object":` + object + `}}`)
	}
	tests := []struct {
		name   string
		object string
		want   Kind
	}{
		{"paid without a status field", `{"id":"cs_test_1","object":"checkout.session","payment_status":"paid","amount_total":1999,"currency":"eur","client_reference_id":"o1"}`, PaymentSucceeded},
		{"no payment required", `{"id":"cs_test_1","object":"checkout.session","status":"complete","payment_status":"no_payment_required","currency":"eur"}`, PaymentSucceeded},
		{"unpaid", `{"id":"cs_test_1","object":"checkout.session","status":"complete","payment_status":"unpaid","currency":"eur"}`, PaymentPending},
		{"deferred capture, whatever payment_status says", `{"id":"cs_test_1","object":"checkout.session","status":"complete","payment_status":"paid","currency":"eur","metadata":{"stripegateway_capture":"manual"}}`, PaymentAuthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := event(tt.object)
			o, err := g.VerifyAndParse(p, signedNow(p, now))
			require.NoError(t, err)
			assert.Equal(t, tt.want, o.Kind)
		})
	}

	t.Run("object of another type is refused", func(t *testing.T) {
		p := []byte(`{"id":"evt_2","object":"event","api_version":"2023-10-16","created":1700000000,"livemode":false,"type":"payment_intent.succeeded","data":{"object":{"id":"cs_test_1","object":"checkout.session","metadata":{"order_id":"o1"}}}}`)
		_, err := g.VerifyAndParse(p, signedNow(p, now))
		require.ErrorIs(t, err, ErrInvalidPayload)
		assert.ErrorContains(t, err, `"checkout.session"`)
	})

	t.Run("currency is lowercased", func(t *testing.T) {
		p := event(`{"id":"cs_test_1","object":"checkout.session","payment_status":"paid","amount_total":500,"currency":"JPY"}`)
		o, err := g.VerifyAndParse(p, signedNow(p, now))
		require.NoError(t, err)
		assert.Equal(t, "jpy", o.Currency)
		assert.True(t, decimal.NewFromInt(500).Equal(o.Amount))
	})
}

func TestRefundAmountOfThisEvent(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	g, err := New(validConfig(), WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	fixture, err := os.ReadFile("testdata/events/charge.refunded.partial.json")
	require.NoError(t, err)
	first := fixture
	second := []byte(strings.Replace(strings.Replace(string(fixture),
		`"amount_refunded": 5120,`, `"amount_refunded": 7000,`, 1),
		`"amount_refunded": 0`, `"amount_refunded": 5120`, 1))
	tests := []struct {
		name               string
		payload            []byte
		wantTotal, wantNow string
	}{
		{"first partial refund", first, "5.12", "5.12"},
		{"second partial refund", second, "7", "1.88"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := g.VerifyAndParse(tt.payload, signedNow(tt.payload, now))
			require.NoError(t, err)
			assert.Equal(t, PaymentRefunded, o.Kind)
			assert.True(t, decimal.RequireFromString(tt.wantTotal).Equal(o.Amount), "Amount %s", o.Amount)
			assert.True(t, decimal.RequireFromString(tt.wantNow).Equal(o.RefundAmount), "RefundAmount %s", o.RefundAmount)
		})
	}
}

// TestNegativeAmountsAreRefused: a signed event with a negative amount is
// ErrInvalidPayload, at 2023-10-16 and at a newer version alike, whichever
// amount field carries it.
func TestNegativeAmountsAreRefused(t *testing.T) {
	t.Parallel()
	g := newWebhookGateway(t)
	tests := []struct{ file, field string }{
		{"checkout.session.completed", `"amount_total": 4999`},
		{"payment_intent.succeeded.kwd", `"amount_received": 12340`},
		{"invoice.paid", `"amount_paid": 2900`},
		{"charge.refunded", `"amount_refunded": 4999`},
		{"charge.dispute.created", `"amount": 10000`},
		{"charge.refund.updated", `"amount": 4999`},
	}
	for _, tc := range tests {
		for _, version := range []string{"2023-10-16", "2025-08-27.basil"} {
			t.Run(tc.file+"/"+version, func(t *testing.T) {
				p := readFixture(t, tc.file)
				require.Contains(t, string(p), tc.field)
				neg := strings.Replace(tc.field, ": ", ": -", 1)
				p = bytes.Replace(p, []byte(tc.field), []byte(neg), 1)
				p = bytes.Replace(p, []byte(`"api_version": "2023-10-16"`), []byte(`"api_version": "`+version+`"`), 1)
				o, err := g.VerifyAndParse(p, sign(p, testWHSEC, testNow))
				require.ErrorIs(t, err, ErrInvalidPayload, "outcome: %+v", o)
				assert.Contains(t, err.Error(), "negative")
			})
		}
	}
}

// TestSessionOrderConflict: when a session's client_reference_id and its
// order_id metadata name different orders, the payment is attributed to
// neither, and a warning names both; ConfirmCheckout refuses the session.
func TestSessionOrderConflict(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	g := newWebhookGateway(t, WithLogger(newTestLogger(&logs)))
	for _, version := range []string{"2023-10-16", "2026-08-26.dahlia"} {
		p := readFixture(t, "checkout.session.completed.order_conflict")
		p = bytes.Replace(p, []byte(`"api_version": "2023-10-16"`), []byte(`"api_version": "`+version+`"`), 1)
		o, err := g.VerifyAndParse(p, sign(p, testWHSEC, testNow))
		require.NoError(t, err)
		assert.Equal(t, PaymentSucceeded, o.Kind)
		assert.Empty(t, o.OrderID, version)
		assert.Contains(t, logs.String(), "level=WARN")
		assert.Contains(t, logs.String(), "order-9999")
		assert.Contains(t, logs.String(), "order-1001")
	}
}

// TestSetupSessionIsNoPayment: a completed setup-mode session saves a card
// and moves no money: it is never reported as a payment, at any version.
func TestSetupSessionIsNoPayment(t *testing.T) {
	t.Parallel()
	g := newWebhookGateway(t)
	for _, version := range []string{"2023-10-16", "2025-03-31.basil", "2026-08-26.dahlia"} {
		p := readFixture(t, "checkout.session.completed.setup")
		p = bytes.Replace(p, []byte(`"api_version": "2023-10-16"`), []byte(`"api_version": "`+version+`"`), 1)
		o, err := g.VerifyAndParse(p, sign(p, testWHSEC, testNow))
		require.NoError(t, err)
		assert.Equal(t, Unhandled, o.Kind, version)
		assert.Equal(t, "order-1011", o.OrderID)
		assert.True(t, o.Amount.IsZero())
	}
}

// TestOutcomeHoldsNoClientSecret: a PaymentIntent's client_secret, which
// lets a browser complete a payment, never reaches an Outcome: not through
// fmt at any verb, slog or JSON, at 2023-10-16 or at a newer version.
func TestOutcomeHoldsNoClientSecret(t *testing.T) {
	t.Parallel()
	g := newWebhookGateway(t)
	for _, version := range []string{"2023-10-16", "2025-08-27.basil"} {
		p := readFixture(t, "payment_intent.succeeded.kwd")
		require.Contains(t, string(p), "_secret_")
		p = bytes.Replace(p, []byte(`"api_version": "2023-10-16"`), []byte(`"api_version": "`+version+`"`), 1)
		orig := bytes.Clone(p)
		o, err := g.VerifyAndParse(p, sign(p, testWHSEC, testNow))
		require.NoError(t, err)
		assert.Equal(t, orig, p, "the caller's payload is not changed")
		var shown []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			shown = append(shown, fmt.Sprintf(verb, o), fmt.Sprintf(verb, *o))
		}
		j, err := json.Marshal(o)
		require.NoError(t, err)
		var logs bytes.Buffer
		for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
			slog.New(h).Info("outcome", "o", o)
		}
		shown = append(shown, string(j), logs.String(), string(o.RawObject))
		for _, s := range shown {
			assert.NotContains(t, s, "_secret_", version)
			assert.NotContains(t, s, hex.EncodeToString([]byte("_secret_")), version)
		}
		if version != "2023-10-16" {
			assert.Contains(t, string(o.RawObject), "[redacted client secret]")
		}
	}
}
