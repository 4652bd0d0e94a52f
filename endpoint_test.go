package stripegateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
)

// endpointAPI answers GET /v1/webhook_endpoints with endpoints, as Stripe's
// list object, and counts the requests.
func endpointAPI(t *testing.T, status int, endpoints ...map[string]any) *Gateway {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v1/webhook_endpoints" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status != http.StatusOK {
			_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****1234"}}`))
			return
		}
		data := make([]any, len(endpoints))
		for i, e := range endpoints {
			data[i] = e
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "url": "/v1/webhook_endpoints", "has_more": false, "data": data})
	}))
	t.Cleanup(srv.Close)
	g, err := New(validConfig(), WithAPIURL(srv.URL), WithMaxNetworkRetries(0))
	require.NoError(t, err)
	return g
}

const endpointURL = "https://shop.example/gateways/stripe/notification"

// endpoint is a webhook endpoint as the API lists it.
func endpoint(url, status, version string, events ...string) map[string]any {
	if events == nil {
		for _, e := range EventTypes() {
			events = append(events, string(e))
		}
	}
	var v any = version
	if version == "" {
		v = nil
	}
	return map[string]any{"id": "we_1Check", "object": "webhook_endpoint", "url": url, "status": status,
		"api_version": v, "enabled_events": events, "livemode": false}
}

func TestCheckWebhookEndpoint(t *testing.T) {
	t.Parallel()
	allBut := func(drop ...string) []string {
		var out []string
	next:
		for _, e := range EventTypes() {
			for _, d := range drop {
				if string(e) == d {
					continue next
				}
			}
			out = append(out, string(e))
		}
		return out
	}
	tests := []struct {
		name      string
		endpoints []map[string]any
		want      map[string][]string // field -> substrings of its message; nil: no problem
	}{
		{"pinned to 2023-10-16, every event", []map[string]any{endpoint(endpointURL, "enabled", "2023-10-16")}, nil},
		{"a newer version this package reads", []map[string]any{endpoint(endpointURL, "enabled", "2026-08-26.dahlia")}, nil},
		{"the account's default version", []map[string]any{endpoint(endpointURL, "enabled", "")}, nil},
		{"all events", []map[string]any{endpoint(endpointURL, "enabled", "2023-10-16", "*")}, nil},
		{"a good one among bad ones", []map[string]any{endpoint(endpointURL, "disabled", "2023-10-16"), endpoint(endpointURL, "enabled", "2023-10-16")}, nil},
		{"none", nil, map[string][]string{"WebhookEndpoint.URL": {"no webhook endpoint", endpointURL, "RegisterWebhookEndpoint"}}},
		{"another URL only", []map[string]any{endpoint("https://other.example/hook", "enabled", "2023-10-16")},
			map[string][]string{"WebhookEndpoint.URL": {"no webhook endpoint"}}},
		{"trailing slash", []map[string]any{endpoint(endpointURL+"/", "enabled", "2023-10-16")},
			map[string][]string{"WebhookEndpoint.URL": {endpointURL + "/ does", "exact URL"}}},
		{"http instead of https", []map[string]any{endpoint("http://shop.example/gateways/stripe/notification", "enabled", "2023-10-16")},
			map[string][]string{"WebhookEndpoint.URL": {"http://shop.example/gateways/stripe/notification does"}}},
		{"host in capitals is the same", []map[string]any{endpoint("https://SHOP.example/gateways/stripe/notification", "enabled", "2023-10-16")}, nil},
		{"disabled", []map[string]any{endpoint(endpointURL, "disabled", "2023-10-16")},
			map[string][]string{"WebhookEndpoint.Status": {"disabled", "enable it"}}},
		{"unsupported version", []map[string]any{endpoint(endpointURL, "enabled", "2099-01-01.future")},
			map[string][]string{"WebhookEndpoint.APIVersion": {"2099-01-01.future", "2023-10-16", "2026-08-26.dahlia"}}},
		{"missing events", []map[string]any{endpoint(endpointURL, "enabled", "2023-10-16", allBut("charge.dispute.closed", "invoice.payment_action_required")...)},
			map[string][]string{"WebhookEndpoint.EnabledEvents": {"charge.dispute.closed", "invoice.payment_action_required"}}},
		{"everything wrong at once", []map[string]any{endpoint(endpointURL, "disabled", "2099-01-01.future", "charge.refunded")},
			map[string][]string{"WebhookEndpoint.Status": {"disabled"}, "WebhookEndpoint.APIVersion": {"2099-01-01.future"}, "WebhookEndpoint.EnabledEvents": {"checkout.session.completed"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := endpointAPI(t, http.StatusOK, tt.endpoints...)
			err := g.CheckWebhookEndpoint(context.Background(), endpointURL)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidConfig)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			got := map[string]string{}
			for _, f := range ce.Fields {
				got[f.Field] = f.Message
			}
			assert.Len(t, got, len(tt.want), "fields: %v", got)
			for field, subs := range tt.want {
				for _, s := range subs {
					assert.Contains(t, got[field], s, field)
				}
			}
			assert.NotContains(t, err.Error(), testSK)
		})
	}
}

func TestCheckWebhookEndpointErrors(t *testing.T) {
	t.Parallel()
	g := endpointAPI(t, http.StatusUnauthorized)
	err := g.CheckWebhookEndpoint(context.Background(), endpointURL)
	require.ErrorIs(t, err, ErrAuthentication)
	var se *stripe.Error
	assert.True(t, errors.As(err, &se))

	err = g.CheckWebhookEndpoint(context.Background(), "not a url")
	require.ErrorIs(t, err, ErrInvalidRequest)
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "endpointURL", fe.Field)
}

// TestCheckWebhookEndpointAgainstStripeMock: the request is one stripe-mock
// (Stripe's OpenAPI spec) accepts, and its fixture endpoint, for another URL,
// is reported missing.
func TestCheckWebhookEndpointAgainstStripeMock(t *testing.T) {
	t.Parallel()
	g, rec := newRecordedGateway(t, validConfig())
	err := g.CheckWebhookEndpoint(context.Background(), endpointURL)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	require.Len(t, ce.Fields, 1)
	assert.Equal(t, "WebhookEndpoint.URL", ce.Fields[0].Field)
	reqs := rec.requests()
	require.NotEmpty(t, reqs)
	assert.Equal(t, "GET", reqs[0].Method)
	assert.Equal(t, "/v1/webhook_endpoints", reqs[0].Path)
	for _, r := range reqs {
		assertInSpec(t, r)
	}
}
