package stripegateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
)

// secretsOf lists the secret values that must never appear in output.
func secretsOf(c Config) []string {
	out := []string{string(c.SecretKey), string(c.WebhookSecret)}
	for _, s := range c.PreviousWebhookSecrets {
		out = append(out, string(s))
	}
	// Also the part after the prefix, so a partial leak is caught too.
	for _, s := range append([]string(nil), out...) {
		if i := strings.LastIndexByte(s, '_'); i >= 0 && len(s)-i > 8 {
			out = append(out, s[i+1:len(s)-4])
		}
	}
	return out
}

func assertNoSecret(t *testing.T, secrets []string, what, text string) {
	t.Helper()
	for _, s := range secrets {
		assert.NotContains(t, text, s, "%s leaks a secret: %s", what, text)
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	cfg.SecretKey = "sk_test_51HSECRETSECRETSECRETSECRETabcd"
	cfg.WebhookSecret = "whsec_WEBHOOKWEBHOOKWEBHOOKWEBHOOKwxyz"
	cfg.PreviousWebhookSecrets = []Secret{"whsec_xxxxPREVIOUSPREVIOUSPREVIOUS0000"}
	secrets := secretsOf(cfg)

	g, err := New(cfg)
	require.NoError(t, err)

	// A misconfigured Config, so that error messages talk about the keys.
	bad := cfg
	bad.PublishableKey = cfg.SecretKey
	bad.SecretKey = cfg.WebhookSecret
	bad.WebhookSecret = "sk_live_51HLIVELIVELIVELIVELIVE9999"
	bad.Mode = ModeLive
	badErr := bad.Validate()
	require.Error(t, badErr)
	secrets = append(secrets, secretsOf(bad)...)

	apiErr := wrapAPIError("create checkout session", &stripe.Error{
		HTTPStatusCode: 401, Type: stripe.ErrorTypeInvalidRequest,
		Msg: "Invalid API Key provided: " + string(cfg.SecretKey) + " client_secret cs_test_a1_secret_b2c3d4e5f6",
	})
	secrets = append(secrets, "cs_test_a1_secret_b2c3d4e5f6")

	values := map[string]any{
		"Config": cfg, "*Config": &cfg, "[]Config": []Config{cfg}, "map": map[string]Config{"k": cfg},
		"struct": struct{ C Config }{cfg}, "Gateway": g, "badConfig": bad,
		"configError": badErr, "apiError": apiErr,
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"}
	for name, v := range values {
		for _, verb := range verbs {
			assertNoSecret(t, secrets, name+" "+verb, fmt.Sprintf(verb, v))
		}
		js, err := json.Marshal(v)
		if err == nil {
			assertNoSecret(t, secrets, name+" JSON", string(js))
		}
		var buf bytes.Buffer
		for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
			slog.New(h).Info("value", "v", v)
		}
		assertNoSecret(t, secrets, name+" slog", buf.String())
	}
	for _, e := range []error{badErr, apiErr} {
		assertNoSecret(t, secrets, "Error()", e.Error())
	}

	// What is shown instead is the redacted form.
	assert.Contains(t, fmt.Sprint(cfg), "sk_test_…abcd")
	assert.Contains(t, fmt.Sprint(cfg), "whsec_…wxyz")
	assert.Contains(t, fmt.Sprint(cfg), testPK, "a publishable key is public and shown whole")
	assert.Contains(t, apiErr.Error(), "sk_test_…abcd")
}
