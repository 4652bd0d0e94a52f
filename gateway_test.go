package stripegateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
)

func TestNewRejectsInvalidConfigAndOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		opts []Option
		want string
	}{
		{"invalid config", Config{}, nil, "DisplayName"},
		{"relative API URL", validConfig(), []Option{WithAPIURL("localhost:12111")}, "WithAPIURL"},
		{"negative retries", validConfig(), []Option{WithMaxNetworkRetries(-1)}, "WithMaxNetworkRetries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := New(tt.cfg, tt.opts...)
			assert.Nil(t, g)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestGatewayConfigIsACopy(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	cfg.PreviousWebhookSecrets = []Secret{testWHSEC2}
	g, err := New(cfg)
	require.NoError(t, err)
	cfg.DisplayName = "changed after New"
	cfg.PreviousWebhookSecrets[0] = "whsec_xxxxxxxxchangedafternew000000000"

	got := g.Config()
	assert.Equal(t, "Credit Card", got.DisplayName)
	assert.Equal(t, StatusActive, got.Status)
	assert.Equal(t, ModeTest, got.Mode)
	assert.False(t, g.livemode())
	assert.Equal(t, Secret(testPK), got.PublishableKey)
	assert.Equal(t, []Secret{testWHSEC2}, got.PreviousWebhookSecrets, "New must copy the Config")
	got.PreviousWebhookSecrets[0] = "whsec_xxxxxxxchangedbythecaller0000000"
	assert.Equal(t, []Secret{testWHSEC2}, g.Config().PreviousWebhookSecrets, "Config must return a copy")
}

// TestTestAndLiveGatewaysSideBySide runs a test-mode and a live-mode gateway
// concurrently against one API server that records the key of every request
// and answers in the key's mode (stripe-mock only accepts test keys). Each
// request must carry its own gateway's key, and stripe-go's global key must
// stay untouched.
func TestTestAndLiveGatewaysSideBySide(t *testing.T) {
	t.Parallel()
	globalKey := stripe.Key
	var mu sync.Mutex
	keys := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Lock()
		keys[key]++
		mu.Unlock()
		live := strings.HasPrefix(key, "sk_live_")
		fmt.Fprintf(w, `{"object":"list","data":[{"id":"cs_1","object":"checkout.session","livemode":%t}]}`, live)
	}))
	defer srv.Close()

	liveCfg := validConfig()
	liveCfg.Mode, liveCfg.PublishableKey, liveCfg.SecretKey = ModeLive, livePK, liveSK
	testGW, err := New(validConfig(), WithAPIURL(srv.URL))
	require.NoError(t, err)
	liveGW, err := New(liveCfg, WithAPIURL(srv.URL))
	require.NoError(t, err)

	const n = 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); errs <- testGW.CheckCredentials(context.Background()) }()
		go func() { defer wg.Done(); errs <- liveGW.CheckCredentials(context.Background()) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, map[string]int{testSK: n, liveSK: n}, keys)
	assert.Equal(t, globalKey, stripe.Key, "stripe.Key must never be set")
}

// TestLiveGatewayAgainstStripeMock shows a live key being refused by
// stripe-mock (which accepts test keys only) as a typed authentication error.
func TestLiveGatewayAgainstStripeMock(t *testing.T) {
	t.Parallel()
	liveCfg := validConfig()
	liveCfg.Mode, liveCfg.PublishableKey, liveCfg.SecretKey = ModeLive, livePK, liveSK
	g := newMockGateway(t, liveCfg)
	err := g.CheckCredentials(context.Background())
	require.ErrorIs(t, err, ErrAuthentication)
	var se *stripe.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 401, se.HTTPStatusCode)
	assert.NotContains(t, err.Error(), liveSK)
}

func TestCheckCredentials(t *testing.T) {
	t.Parallel()
	stripeErr := func(status int, typ, msg string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Request-Id", "req_123")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":{"type":%q,"message":%q}}`, typ, msg)
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    error
		wantMsg string
	}{
		{"ok", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"object":"list","url":"/v1/checkout/sessions","has_more":false,"data":[{"id":"cs_test_1","object":"checkout.session","livemode":false}]}`)
		}, nil, ""},
		{"ok with no sessions yet", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"object":"list","url":"/v1/checkout/sessions","has_more":false,"data":[]}`)
		}, nil, ""},
		{"rejected key", stripeErr(401, "invalid_request_error", "Invalid API Key provided: sk_test_********************fe"), ErrAuthentication, "HTTP 401"},
		{"restricted key without permission", stripeErr(403, "invalid_request_error",
			"The provided key 'rk_test_***ab' does not have the required permissions for this endpoint. Having the 'rak_checkout_session_read' permission would allow this request to continue."),
			ErrPermissionDenied, "grant the restricted key"},
		{"live objects for a test gateway", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"object":"list","data":[{"id":"cs_live_1","object":"checkout.session","livemode":true}]}`)
		}, ErrLivemodeMismatch, `Mode is "test"`},
		{"server error", stripeErr(500, "api_error", "boom"), ErrStripeAPI, "HTTP 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls int
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls++
				mu.Unlock()
				assert.Equal(t, "/v1/checkout/sessions", r.URL.Path)
				assert.Equal(t, "1", r.URL.Query().Get("limit"))
				tt.handler(w, r)
			}))
			defer srv.Close()
			g, err := New(validConfig(), WithAPIURL(srv.URL), WithMaxNetworkRetries(0))
			require.NoError(t, err)
			err = g.CheckCredentials(context.Background())
			if tt.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.want)
				assert.ErrorContains(t, err, tt.wantMsg)
				if tt.want != ErrLivemodeMismatch {
					var se *stripe.Error
					require.ErrorAs(t, err, &se, "stripe-go's error stays reachable")
					assert.Equal(t, "req_123", se.RequestID)
				}
			}
			assert.Equal(t, 1, calls, "one API call")
		})
	}
}

func TestCheckCredentialsAgainstStripeMock(t *testing.T) {
	t.Parallel()
	g := newMockGateway(t, validConfig())
	require.NoError(t, g.CheckCredentials(context.Background()))
}

func TestCheckCredentialsHonoursContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	g, err := New(validConfig(), WithAPIURL(srv.URL))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = g.CheckCredentials(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, ErrStripeAPI)
	assert.Less(t, time.Since(start), 2*time.Second)
}

// TestLoggerSilentByDefaultAndRedacted checks that stripe-go's own logger is
// silenced, and that with WithLogger its lines arrive with secrets redacted.
func TestLoggerSilentByDefaultAndRedacted(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(402)
		fmt.Fprint(w, `{"error":{"type":"card_error","code":"card_declined","message":"Your card was declined.","payment_intent":{"id":"pi_1","client_secret":"pi_1_secret_abcdefghijkl"}}}`)
	}))
	defer srv.Close()

	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g, err := New(validConfig(), WithAPIURL(srv.URL), WithLogger(logger), WithMaxNetworkRetries(0))
	require.NoError(t, err)
	err = g.CheckCredentials(context.Background())
	require.ErrorIs(t, err, ErrStripeAPI)
	out := buf.String()
	assert.Contains(t, out, "stripe-go", "stripe-go's lines reach the logger")
	assert.NotContains(t, out, "pi_1_secret_abcdefghijkl")
	assert.NotContains(t, err.Error(), "pi_1_secret_abcdefghijkl")
	assert.NotContains(t, out, testSK)
	assert.NotContains(t, out, base64.StdEncoding.EncodeToString([]byte(testSK+":")))
}

// TestNoGlobalBackend checks that New leaves stripe-go's global backends alone.
func TestNoGlobalBackend(t *testing.T) {
	before := stripe.GetBackend(stripe.APIBackend)
	_, err := New(validConfig(), WithAPIURL("http://127.0.0.1:1"))
	require.NoError(t, err)
	assert.Same(t, before, stripe.GetBackend(stripe.APIBackend))
}
