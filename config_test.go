package stripegateway

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Config)
		// fields maps each expected invalid field to a substring of its message.
		fields map[string]string
	}{
		{"valid test config", func(*Config) {}, nil},
		{"valid live config", func(c *Config) { c.Mode, c.PublishableKey, c.SecretKey = ModeLive, livePK, liveSK }, nil},
		{"restricted test key accepted", func(c *Config) { c.SecretKey = testRK }, nil},
		{"restricted live key accepted", func(c *Config) {
			c.Mode, c.PublishableKey, c.SecretKey = ModeLive, livePK, "rk_live_51Hrestrictedlivekey0000"
		}, nil},
		{"inactive without webhook secret", func(c *Config) { c.Status, c.WebhookSecret = StatusInactive, "" }, nil},
		{"positive minimum", func(c *Config) { c.MinimumAmount = decimal.RequireFromString("10.50") }, nil},
		{"previous webhook secrets", func(c *Config) { c.PreviousWebhookSecrets = []Secret{testWHSEC2} }, nil},
		{"everything missing", func(c *Config) { *c = Config{} }, map[string]string{
			"DisplayName": "required", "Status": "required", "Mode": "required",
			"PublishableKey": "required", "SecretKey": "required", "WebhookSecret": "required",
		}},
		{"blank display name", func(c *Config) { c.DisplayName = "   " }, map[string]string{"DisplayName": "required"}},
		{"display name too long", func(c *Config) { c.DisplayName = strings.Repeat("x", 101) }, map[string]string{"DisplayName": "longer than 100"}},
		{"negative minimum", func(c *Config) { c.MinimumAmount = decimal.RequireFromString("-0.01") }, map[string]string{"MinimumAmount": "must not be negative"}},
		{"absurd minimum", func(c *Config) { c.MinimumAmount = decimal.New(-1, -2000000000) }, map[string]string{"MinimumAmount": "out of range"}},
		{"unknown status", func(c *Config) { c.Status = "enabled" }, map[string]string{"Status": `unknown status "enabled"`}},
		{"unknown mode", func(c *Config) { c.Mode = "production" }, map[string]string{"Mode": `unknown mode "production"`}},
		{"publishable key in secret field", func(c *Config) { c.SecretKey = testPK }, map[string]string{"SecretKey": "holds a publishable key"}},
		{"secret key in publishable field", func(c *Config) { c.PublishableKey = testSK }, map[string]string{"PublishableKey": "holds a secret key"}},
		{"both keys swapped", func(c *Config) { c.PublishableKey, c.SecretKey = testSK, testPK }, map[string]string{
			"PublishableKey": "holds a secret key", "SecretKey": "holds a publishable key",
		}},
		{"test secret key in live mode", func(c *Config) { c.Mode, c.PublishableKey = ModeLive, livePK }, map[string]string{"SecretKey": "test-mode key"}},
		{"live keys in test mode", func(c *Config) { c.PublishableKey, c.SecretKey = livePK, liveSK }, map[string]string{
			"PublishableKey": "live-mode key", "SecretKey": "live-mode key",
		}},
		{"restricted test key in live mode", func(c *Config) { c.Mode, c.PublishableKey, c.SecretKey = ModeLive, livePK, testRK }, map[string]string{"SecretKey": "test-mode key"}},
		{"keys of different modes without a mode", func(c *Config) { c.Mode, c.PublishableKey = "", livePK }, map[string]string{
			"Mode": "required", "PublishableKey": "same mode",
		}},
		{"webhook secret without whsec_", func(c *Config) { c.WebhookSecret = "abc123" }, map[string]string{"WebhookSecret": "must start with whsec_"}},
		{"webhook secret of one character", func(c *Config) { c.WebhookSecret = "whsec_a" }, map[string]string{"WebhookSecret": "too short"}},
		{"webhook secret cut short", func(c *Config) { c.WebhookSecret = Secret("whsec_" + strings.Repeat("a", 31)) }, map[string]string{"WebhookSecret": "31 characters"}},
		{"webhook secret of the Dashboard's length", func(c *Config) { c.WebhookSecret = Secret("whsec_" + strings.Repeat("a", 32)) }, nil},
		{"webhook secret of stripe listen's length", func(c *Config) { c.WebhookSecret = Secret("whsec_" + strings.Repeat("0f", 32)) }, nil},
		{"previous webhook secret cut short", func(c *Config) { c.PreviousWebhookSecrets = []Secret{"whsec_short"} }, map[string]string{"PreviousWebhookSecrets": "too short"}},
		{"secret key pasted as webhook secret", func(c *Config) { c.WebhookSecret = testSK }, map[string]string{"WebhookSecret": "not a webhook signing secret"}},
		{"webhook secret pasted as secret key", func(c *Config) { c.SecretKey = testWHSEC }, map[string]string{"SecretKey": "webhook signing secret"}},
		{"active without webhook secret", func(c *Config) { c.WebhookSecret = "" }, map[string]string{"WebhookSecret": "required for an active gateway"}},
		{"whitespace around secret key", func(c *Config) { c.SecretKey = " " + testSK + "\n" }, map[string]string{"SecretKey": "whitespace"}},
		{"whitespace around publishable key", func(c *Config) { c.PublishableKey = testPK + " " }, map[string]string{"PublishableKey": "whitespace"}},
		{"whitespace around webhook secret", func(c *Config) { c.WebhookSecret = "\t" + testWHSEC }, map[string]string{"WebhookSecret": "whitespace"}},
		{"garbage secret key", func(c *Config) { c.SecretKey = "hunter2hunter2hunter2" }, map[string]string{"SecretKey": "must start with sk_test_"}},
		{"prefix only", func(c *Config) { c.SecretKey = "sk_test_" }, map[string]string{"SecretKey": "not a Stripe secret key"}},
		{"key with inner space", func(c *Config) { c.SecretKey = "sk_test_abc def" }, map[string]string{"SecretKey": "not a Stripe secret key"}},
		{"bad previous secret", func(c *Config) { c.PreviousWebhookSecrets = []Secret{testWHSEC2, "sk_test_oops"} }, map[string]string{"PreviousWebhookSecrets": "entry 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig()
			tt.mutate(&cfg)
			err := cfg.Validate()
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			got := map[string]string{}
			for _, f := range ce.Fields {
				_, dup := got[f.Field]
				assert.False(t, dup, "field %s reported twice", f.Field)
				got[f.Field] = f.Message
			}
			assert.Len(t, got, len(tt.fields), "fields: %v", got)
			for field, want := range tt.fields {
				assert.Contains(t, got[field], want, "field %s", field)
				msg, ok := fieldMessage(ce, field)
				assert.True(t, ok)
				assert.Equal(t, got[field], msg)
			}
		})
	}
}

func TestConfigNormalizeTrimsPastedValues(t *testing.T) {
	t.Parallel()
	cfg := Config{
		DisplayName: " Credit Card ", Status: " Active", Mode: "TEST ",
		PublishableKey: "\n" + testPK, SecretKey: testSK + " \r\n", WebhookSecret: " " + testWHSEC,
		PreviousWebhookSecrets: []Secret{" ", testWHSEC2 + "\n"},
	}
	require.Error(t, cfg.Validate(), "Validate must reject, not trim")
	n := cfg.Normalize()
	require.NoError(t, n.Validate())
	assert.Equal(t, Secret(testSK), n.SecretKey)
	assert.Equal(t, []Secret{testWHSEC2}, n.PreviousWebhookSecrets)
	assert.Equal(t, " Credit Card ", cfg.DisplayName, "Normalize must not change its receiver")
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr map[string]string
		check   func(t *testing.T, c Config)
	}{
		{
			name: "defaults and mode from the secret key",
			env:  map[string]string{envSecretKey: testSK + "\n", envPublishableKey: testPK, envWebhookSecret: testWHSEC},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, ModeTest, c.Mode)
				assert.Equal(t, StatusActive, c.Status)
				assert.Equal(t, defaultDisplayName, c.DisplayName)
				assert.True(t, c.MinimumAmount.IsZero())
				assert.Equal(t, Secret(testSK), c.SecretKey)
			},
		},
		{
			name: "all variables, rolled secrets",
			env: map[string]string{
				envSecretKey: liveSK, envPublishableKey: livePK, envWebhookSecret: testWHSEC + ", " + testWHSEC2,
				envMode: "live", envStatus: "inactive", envDisplayName: "Carte bancaire", envMinimumAmount: "5.00",
			},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, ModeLive, c.Mode)
				assert.Equal(t, StatusInactive, c.Status)
				assert.Equal(t, "Carte bancaire", c.DisplayName)
				assert.True(t, c.MinimumAmount.Equal(decimal.RequireFromString("5")))
				assert.Equal(t, Secret(testWHSEC), c.WebhookSecret)
				assert.Equal(t, []Secret{testWHSEC2}, c.PreviousWebhookSecrets)
			},
		},
		{
			name:    "bad minimum and missing keys",
			env:     map[string]string{envMinimumAmount: "five", envMode: "test"},
			wantErr: map[string]string{"MinimumAmount": "not a decimal", "SecretKey": "required", "PublishableKey": "required", "WebhookSecret": "required"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr == nil {
				require.NoError(t, err)
				tt.check(t, c)
				return
			}
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			for field, want := range tt.wantErr {
				msg, ok := fieldMessage(ce, field)
				assert.True(t, ok, "no error for %s in %v", field, ce)
				assert.Contains(t, msg, want)
			}
		})
	}
}

func TestConfigErrorIsAndAs(t *testing.T) {
	t.Parallel()
	err := Config{}.Validate()
	wrapped := errors.Join(errors.New("saving settings"), err)
	assert.ErrorIs(t, wrapped, ErrInvalidConfig)
	var ce *ConfigError
	require.ErrorAs(t, wrapped, &ce)
	assert.NotEmpty(t, ce.Fields)
	assert.Contains(t, err.Error(), "stripegateway: invalid configuration: DisplayName: is required")
}

func TestConfigAbsurdMinimumPrintsQuickly(t *testing.T) {
	t.Parallel()
	c, err := ConfigFromEnv(func(k string) string {
		if k == envMinimumAmount {
			return "-1e-2000000000"
		}
		return ""
	})
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	msg, ok := fieldMessage(ce, "MinimumAmount")
	require.True(t, ok)
	assert.Contains(t, msg, "out of range")
	assert.True(t, c.MinimumAmount.IsZero(), "an out-of-range value is not kept")

	c.MinimumAmount = decimal.New(1, 2000000000)
	assert.Contains(t, fmt.Sprint(c), "MinimumAmount:1e2000000000")
	assert.Contains(t, c.Validate().Error(), "MinimumAmount: is out of range")
}

func TestConfigWebhookSecretsOrder(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.PreviousWebhookSecrets = []Secret{testWHSEC2}
	assert.Equal(t, []string{testWHSEC, testWHSEC2}, c.webhookSecrets())
	c.WebhookSecret = ""
	assert.Equal(t, []string{testWHSEC2}, c.webhookSecrets())
}
