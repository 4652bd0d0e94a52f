package stripegateway

import (
	"context"
	"testing"

	"net/http"
	"net/url"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
)

func TestRefundHostileAmountIsCheap(t *testing.T) {
	t.Parallel()
	g, err := New(validConfig(), WithAPIURL("http://127.0.0.1:1"))
	require.NoError(t, err)
	d := decimal.New(-1, -100000000)
	_, err = g.Refund(context.Background(), RefundRequest{PaymentIntentID: "pi_123", Amount: d})
	require.ErrorIs(t, err, ErrInvalidAmount)
	assert.Less(t, len(err.Error()), 300)
}

func TestPaymentOperationsAgainstStripeMock(t *testing.T) {
	const piPath = "/v1/payment_intents/pi_123"
	authorized := map[string]any{"status": "requires_capture", "amount_capturable": 1099, "capture_method": "manual"}
	type call func(context.Context, *Gateway) (any, error)
	tests := []struct {
		name     string
		inactive bool
		patch    map[string]any // applied to GET /v1/payment_intents/pi_123
		call     call
		want     []recordedAPIRequest // method, path and form of each request
		keys     []string             // Idempotency-Key of each request ("" for none)
		wantErr  error
		wantMsg  []string
		check    func(*testing.T, any)
	}{
		{
			name: "capture everything",
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Capture(ctx, CaptureRequest{PaymentIntentID: "pi_123"})
			},
			want: []recordedAPIRequest{{Method: "POST", Path: piPath + "/capture", Form: url.Values{}}},
			keys: []string{"stripegateway-capture-pi_123-full"},
			check: func(t *testing.T, v any) {
				res := v.(*PaymentResult)
				assert.Equal(t, "pi_123", res.ID)
				assert.Equal(t, "usd", res.Currency)
				assert.True(t, decAmount("10.99").Equal(res.Amount), "Amount %s", res.Amount)
				assert.Equal(t, "stripegateway-capture-pi_123-full", res.IdempotencyKey)
				assert.NotNil(t, res.PaymentIntent)
			},
		},
		{
			name:  "capture part",
			patch: authorized,
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Capture(ctx, CaptureRequest{PaymentIntentID: "pi_123", Amount: decAmount("5.5")})
			},
			want: []recordedAPIRequest{
				{Method: "GET", Path: piPath, Form: url.Values{}},
				{Method: "POST", Path: piPath + "/capture", Form: url.Values{"amount_to_capture": {"550"}}},
			},
			keys: []string{"", "stripegateway-capture-pi_123-550"},
		},
		{
			name:  "capture all that is authorized, by amount",
			patch: authorized,
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Capture(ctx, CaptureRequest{PaymentIntentID: "pi_123", Amount: decAmount("10.99")})
			},
			want: []recordedAPIRequest{
				{Method: "GET", Path: piPath, Form: url.Values{}},
				{Method: "POST", Path: piPath + "/capture", Form: url.Values{"amount_to_capture": {"1099"}}},
			},
			keys: []string{"", "stripegateway-capture-pi_123-1099"},
		},
		{
			name:  "capture more than authorized",
			patch: authorized,
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Capture(ctx, CaptureRequest{PaymentIntentID: "pi_123", Amount: decAmount("11.00")})
			},
			want:    []recordedAPIRequest{{Method: "GET", Path: piPath, Form: url.Values{}}},
			wantErr: ErrInvalidAmount,
			wantMsg: []string{"11.00 USD is above the 10.99 USD", "nothing was captured"},
		},
		{
			// Not yet authorized (stripe-mock's fixture): the amount is
			// checked against the intent's amount, and Stripe judges the
			// state.
			name: "partial capture of an intent in another state is left to Stripe",
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Capture(ctx, CaptureRequest{PaymentIntentID: "pi_123", Amount: decAmount("1")})
			},
			want: []recordedAPIRequest{
				{Method: "GET", Path: piPath, Form: url.Values{}},
				{Method: "POST", Path: piPath + "/capture", Form: url.Values{"amount_to_capture": {"100"}}},
			},
			keys: []string{"", "stripegateway-capture-pi_123-100"},
		},
		{
			name: "capture more than the intent's amount",
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Capture(ctx, CaptureRequest{PaymentIntentID: "pi_123", Amount: decAmount("10.991")})
			},
			want:    []recordedAPIRequest{{Method: "GET", Path: piPath, Form: url.Values{}}},
			wantErr: ErrInvalidAmount,
			wantMsg: []string{"Amount: 10.991 USD"},
		},
		{
			name: "capture above the intent's amount",
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Capture(ctx, CaptureRequest{PaymentIntentID: "pi_123", Amount: decAmount("11")})
			},
			want:    []recordedAPIRequest{{Method: "GET", Path: piPath, Form: url.Values{}}},
			wantErr: ErrInvalidAmount,
			wantMsg: []string{"11.00 USD is above the 10.99 USD", "status requires_payment_method"},
		},
		{
			name:  "capture too precise",
			patch: authorized,
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Capture(ctx, CaptureRequest{PaymentIntentID: "pi_123", Amount: decAmount("5.001")})
			},
			want:    []recordedAPIRequest{{Method: "GET", Path: piPath, Form: url.Values{}}},
			wantErr: ErrInvalidAmount,
			wantMsg: []string{"Amount: 5.001 USD"},
		},
		{
			name:  "capture a negative amount",
			patch: authorized,
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Capture(ctx, CaptureRequest{PaymentIntentID: "pi_123", Amount: decAmount("-1")})
			},
			wantErr: ErrInvalidAmount,
			wantMsg: []string{"Amount", "negative"},
		},
		{
			name: "cancel the authorization",
			call: func(ctx context.Context, g *Gateway) (any, error) { return g.CancelAuthorization(ctx, "pi_123") },
			want: []recordedAPIRequest{{Method: "POST", Path: piPath + "/cancel", Form: url.Values{}}},
			keys: []string{"stripegateway-cancel-pi_123"},
		},
		{
			name: "refund everything",
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Refund(ctx, RefundRequest{PaymentIntentID: "pi_123"})
			},
			want: []recordedAPIRequest{{Method: "POST", Path: "/v1/refunds", Form: url.Values{"payment_intent": {"pi_123"}}}},
			keys: []string{"stripegateway-refund-pi_123-full"},
			check: func(t *testing.T, v any) {
				res := v.(*RefundResult)
				assert.NotEmpty(t, res.ID)
				assert.Equal(t, "usd", res.Currency)
				assert.True(t, res.Amount.IsPositive())
				assert.NotNil(t, res.Refund)
			},
		},
		{
			name: "refund part, requested by the customer",
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Refund(ctx, RefundRequest{PaymentIntentID: "pi_123", Amount: decAmount("5.50"), Reason: stripe.RefundReasonRequestedByCustomer})
			},
			want: []recordedAPIRequest{
				{Method: "GET", Path: piPath, Form: url.Values{}},
				{Method: "POST", Path: "/v1/refunds", Form: url.Values{
					"payment_intent": {"pi_123"}, "amount": {"550"}, "reason": {"requested_by_customer"},
				}},
			},
			keys: []string{"", "stripegateway-refund-pi_123-550-requested_by_customer"},
		},
		{
			name:  "refund part of a JPY payment",
			patch: map[string]any{"currency": "jpy"},
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Refund(ctx, RefundRequest{PaymentIntentID: "pi_123", Amount: decAmount("500"), Reason: stripe.RefundReasonDuplicate})
			},
			want: []recordedAPIRequest{
				{Method: "GET", Path: piPath, Form: url.Values{}},
				{Method: "POST", Path: "/v1/refunds", Form: url.Values{
					"payment_intent": {"pi_123"}, "amount": {"500"}, "reason": {"duplicate"},
				}},
			},
			keys: []string{"", "stripegateway-refund-pi_123-500-duplicate"},
		},
		{
			name:  "refund too precise for JPY",
			patch: map[string]any{"currency": "jpy"},
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Refund(ctx, RefundRequest{PaymentIntentID: "pi_123", Amount: decAmount("500.5")})
			},
			want:    []recordedAPIRequest{{Method: "GET", Path: piPath, Form: url.Values{}}},
			wantErr: ErrInvalidAmount,
			wantMsg: []string{"JPY allows no decimal places"},
		},
		{
			name: "refund too precise for USD",
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Refund(ctx, RefundRequest{PaymentIntentID: "pi_123", Amount: decAmount("5.555")})
			},
			want:    []recordedAPIRequest{{Method: "GET", Path: piPath, Form: url.Values{}}},
			wantErr: ErrInvalidAmount,
			wantMsg: []string{"Amount: 5.555 USD"},
		},
		{
			name: "refund a negative amount",
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Refund(ctx, RefundRequest{PaymentIntentID: "pi_123", Amount: decAmount("-1")})
			},
			wantErr: ErrInvalidAmount,
		},
		{
			name: "refund for an unknown reason",
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Refund(ctx, RefundRequest{PaymentIntentID: "pi_123", Reason: "changed_mind"})
			},
			wantErr: ErrInvalidRequest,
		},
		{
			name: "refund with the store's own key",
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Refund(ctx, RefundRequest{PaymentIntentID: "pi_123", IdempotencyKey: "shop-refund-77"})
			},
			want: []recordedAPIRequest{{Method: "POST", Path: "/v1/refunds", Form: url.Values{"payment_intent": {"pi_123"}}}},
			keys: []string{"shop-refund-77"},
		},
		{
			name:     "refund on an inactive gateway",
			inactive: true,
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Refund(ctx, RefundRequest{PaymentIntentID: "pi_123", Reason: stripe.RefundReasonFraudulent})
			},
			want: []recordedAPIRequest{{Method: "POST", Path: "/v1/refunds", Form: url.Values{
				"payment_intent": {"pi_123"}, "reason": {"fraudulent"},
			}}},
			keys: []string{"stripegateway-refund-pi_123-full-fraudulent"},
		},
		{
			name: "expire a session",
			call: func(ctx context.Context, g *Gateway) (any, error) { return g.ExpireCheckout(ctx, "cs_test_123") },
			want: []recordedAPIRequest{{Method: "POST", Path: "/v1/checkout/sessions/cs_test_123/expire", Form: url.Values{}}},
			keys: []string{"stripegateway-expire-cs_test_123"},
			check: func(t *testing.T, v any) {
				cs := v.(*CheckoutSession)
				assert.NotEmpty(t, cs.ID)
				assert.NotNil(t, cs.Session)
			},
		},
		{
			name: "a charge ID is not a PaymentIntent ID",
			call: func(ctx context.Context, g *Gateway) (any, error) {
				return g.Refund(ctx, RefundRequest{PaymentIntentID: "ch_123"})
			},
			wantErr: ErrInvalidRequest,
			wantMsg: []string{"pi_"},
		},
		{
			name:    "malformed session ID",
			call:    func(ctx context.Context, g *Gateway) (any, error) { return g.ExpireCheckout(ctx, "cs_test_1?x=1") },
			wantErr: ErrInvalidRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			if tt.inactive {
				cfg.Status = StatusInactive
			}
			g, rec := newRecordedGateway(t, cfg)
			if tt.patch != nil {
				rec.patch = patchAPIJSON(http.MethodGet, piPath, tt.patch)
			}
			res, err := tt.call(context.Background(), g)

			reqs := rec.requests()
			require.Len(t, reqs, len(tt.want), "requests sent")
			for i, want := range tt.want {
				assert.Equal(t, want.Method, reqs[i].Method)
				assert.Equal(t, want.Path, reqs[i].Path)
				assert.Equal(t, want.Form, reqs[i].Form)
				if i < len(tt.keys) {
					assert.Equal(t, tt.keys[i], reqs[i].key(), "Idempotency-Key of request %d", i)
				}
				assertInSpec(t, reqs[i])
			}
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, tt.wantErr)
				for _, m := range tt.wantMsg {
					assert.Contains(t, err.Error(), m)
				}
				return
			}
			require.NoError(t, err)
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}
