package stripegateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"
)

// signedNow signs payload for validConfig's webhook secret at now.
func signedNow(payload []byte, now time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload: payload, Secret: testWHSEC, Timestamp: now,
	}).Header
}

func TestCheckoutRequestOrderIDAndMetadataRules(t *testing.T) {
	t.Parallel()
	g := newMockGateway(t, validConfig())
	base := CheckoutRequest{
		OrderID: "o-1", Currency: "eur", SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cart",
		Items: []LineItem{{Name: "Tea", UnitAmount: decimal.RequireFromString("4.50"), Quantity: 2}},
	}
	tests := []struct {
		name    string
		mutate  func(*CheckoutRequest)
		wantErr error
		wantMsg string
	}{
		{"order_id metadata equal to OrderID is accepted", func(r *CheckoutRequest) { r.Metadata = map[string]string{MetadataOrderID: "o-1", "note": "x"} }, nil, ""},
		{"order_id metadata of another order is refused", func(r *CheckoutRequest) { r.Metadata = map[string]string{MetadataOrderID: "o-2"} }, ErrInvalidRequest, "cannot be overwritten"},
		{"capture marker is refused", func(r *CheckoutRequest) { r.Metadata = map[string]string{MetadataCaptureMethod: "manual"} }, ErrInvalidRequest, "set by the gateway"},
		{"order ID with whitespace is refused", func(r *CheckoutRequest) { r.OrderID = " o-1 " }, ErrInvalidRequest, "whitespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := base
			tt.mutate(&req)
			cs, err := g.CreateCheckout(context.Background(), req)
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.True(t, decimal.RequireFromString("9").Equal(cs.AmountTotal), "total %s", cs.AmountTotal)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			assert.ErrorContains(t, err, tt.wantMsg)
		})
	}
}

func TestConfigErrorFieldErrorsWithErrorsAs(t *testing.T) {
	t.Parallel()
	err := Config{}.Validate()
	var fe FieldError
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "DisplayName", fe.Field)
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

func TestRefundHostileAmountIsCheap(t *testing.T) {
	t.Parallel()
	g, err := New(validConfig(), WithAPIURL("http://127.0.0.1:1"))
	require.NoError(t, err)
	d := decimal.New(-1, -100000000)
	_, err = g.Refund(context.Background(), "pi_123", &d, "")
	require.ErrorIs(t, err, ErrInvalidAmount)
	assert.Less(t, len(err.Error()), 300)
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

func TestHandlerNilBody(t *testing.T) {
	t.Parallel()
	g, err := New(validConfig())
	require.NoError(t, err)
	called := false
	h := g.WebhookHandler(Handlers{Default: func(context.Context, *Outcome) error { called = true; return nil }})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, &http.Request{Method: http.MethodPost, Header: http.Header{}})
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.False(t, called)
	assert.False(t, strings.Contains(rec.Body.String(), "stripegateway"))
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
