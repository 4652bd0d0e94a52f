package stripegateway

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/stripe/stripe-go/v76"
)

func TestConfigErrorFieldErrorsWithErrorsAs(t *testing.T) {
	t.Parallel()
	err := Config{}.Validate()
	var fe *FieldError
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "DisplayName", fe.Field)
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

func TestAPIErrorBoundsUndecodableBody(t *testing.T) {
	t.Parallel()
	body := `{"object":"checkout.session","customer_details":{"email":"jane@example.com"` + strings.Repeat("x", 2000)
	err := wrapAPIError("create checkout session", fmt.Errorf("unexpected end of JSON input: %s", body))
	assert.ErrorIs(t, err, ErrStripeAPI)
	assert.Less(t, len([]rune(err.Error())), 300)
	assert.Contains(t, err.Error(), "unexpected end of JSON input")
}

func TestMinimumError(t *testing.T) {
	err := error(&MinimumError{Minimum: decAmount("175"), Total: decAmount("100.5"), Currency: "huf", Source: "stripe"})
	assert.ErrorIs(t, err, ErrBelowMinimum)
	assert.Equal(t, "stripegateway: amount below minimum: order total 100.50 HUF is below Stripe's minimum charge of 175.00 HUF", err.Error())

	wrapped := fmt.Errorf("checkout for order 7: %w", err)
	var me *MinimumError
	require.True(t, errors.As(wrapped, &me))
	assert.Equal(t, "stripe", me.Source)
}

func TestCheckoutAPIErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"card declined", http.StatusPaymentRequired,
			`{"error":{"type":"card_error","code":"card_declined","message":"Declined for pi_1_secret_abcdef"}}`, ErrStripeAPI},
		{"bad key", http.StatusUnauthorized,
			`{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****1234"}}`, ErrAuthentication},
		{"missing permission", http.StatusForbidden,
			`{"error":{"type":"invalid_request_error","message":"The provided key does not have access"}}`, ErrPermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Request-Id", "req_123")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			g, err := New(validConfig(), WithAPIURL(srv.URL), checkoutClock())
			require.NoError(t, err)

			for name, op := range map[string]func() error{
				"CreateCheckout": func() error { _, err := g.CreateCheckout(context.Background(), baseCheckoutRequest()); return err },
				"Capture": func() error {
					_, err := g.Capture(context.Background(), CaptureRequest{PaymentIntentID: "pi_123"})
					return err
				},
				"Refund": func() error {
					_, err := g.Refund(context.Background(), RefundRequest{PaymentIntentID: "pi_123"})
					return err
				},
			} {
				err := op()
				require.Error(t, err, name)
				assert.ErrorIs(t, err, tt.want, name)
				var se *stripe.Error
				require.ErrorAs(t, err, &se, name)
				assert.Equal(t, tt.status, se.HTTPStatusCode)
				assert.NotContains(t, err.Error(), "secret_abcdef", name)
				assert.Contains(t, err.Error(), "req_123", name)
			}
		})
	}
}

// TestAPIErrorRedactsWhatItCopies: every part of Stripe's answer that an
// *apiError copies into its message (message, parameter name, decline
// code) is redacted and bounded.
func TestAPIErrorRedactsWhatItCopies(t *testing.T) {
	t.Parallel()
	secret := "pi_3Abc_secret_ZyXwVuT"
	err := wrapAPIError("capture payment", &stripe.Error{
		HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest, Code: "parameter_invalid_string",
		Param: "payment_method_data[billing_details][name]=" + secret + strings.Repeat("x", 500),
		Msg:   "Invalid value " + secret + " for sk_live_51HSECRETSECRETSECRETSECRETabcd",
	})
	require.ErrorIs(t, err, ErrStripeAPI)
	text := err.Error()
	assert.NotContains(t, text, "_secret_ZyXwVuT")
	assert.NotContains(t, text, "SECRETSECRET")
	assert.Contains(t, text, "param=payment_method_data[billing_details][name]=")
	assert.Less(t, len(text), 800, "the copied parameter is bounded")
	js, jerr := json.Marshal(err)
	require.NoError(t, jerr)
	assert.NotContains(t, string(js), "_secret_")
}
