package stripegateway

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/shopspring/decimal"
)

// Status says whether the gateway is offered to customers.
type Status string

// Statuses an admin can choose.
const (
	// StatusActive offers the payment method: payments can be created.
	StatusActive Status = "active"
	// StatusInactive hides it: payment operations return ErrGatewayDisabled,
	// while webhooks of past payments are still verified and handled.
	StatusInactive Status = "inactive"
)

// Mode is Stripe's test or live mode. Keys, events and objects belong to one.
type Mode string

// Modes of a Stripe account.
const (
	// ModeTest uses test keys (pk_test_, sk_test_, rk_test_): no real money.
	ModeTest Mode = "test"
	// ModeLive uses live keys (pk_live_, sk_live_, rk_live_): real charges.
	ModeLive Mode = "live"
)

// Environment variables read by ConfigFromEnv.
const (
	EnvSecretKey      = "STRIPE_SECRET_KEY"      // sk_… or rk_…; required
	EnvPublishableKey = "STRIPE_PUBLISHABLE_KEY" // pk_…; required
	EnvWebhookSecret  = "STRIPE_WEBHOOK_SECRET"  // whsec_…; comma-separated while rolling, newest first
	EnvMode           = "STRIPE_MODE"            // test or live; default: the secret key's mode
	EnvStatus         = "STRIPE_STATUS"          // active or inactive; default active
	EnvDisplayName    = "STRIPE_DISPLAY_NAME"    // default "Credit Card"
	EnvMinimumAmount  = "STRIPE_MINIMUM_AMOUNT"  // decimal in the major unit; default 0
)

// DefaultDisplayName is the DisplayName ConfigFromEnv uses when none is set.
const DefaultDisplayName = "Credit Card"

// maxDisplayNameLen bounds DisplayName, which is shown on payment pages.
const maxDisplayNameLen = 100

// Config is what an admin fills in on a store's Stripe settings page. The zero
// value is not valid: Validate says what is missing. New copies the Config, so
// changing it afterwards does not affect a Gateway.
//
// Secrets never leave a Config in clear text through fmt (any verb),
// encoding/json or log/slog: they are shown redacted, like "sk_test_…abcd".
// The JSON form is therefore for display and logs, not for storage.
//
// fmt cannot call methods on unexported struct fields, nor for %p: a Config
// kept in an unexported field of your own type prints raw through fmt. Keep
// it in an exported field, or give that type its own String method.
type Config struct {
	// DisplayName is what customers see as the payment method, e.g. "Credit Card".
	DisplayName string

	// MinimumAmount is the store's smallest order total, in the major unit of
	// the order's currency (10.50 means 10.50 EUR for a EUR order). Zero means
	// only Stripe's own minimum charge applies. It must not be negative.
	MinimumAmount decimal.Decimal

	// Status says whether the gateway takes payments: StatusActive or StatusInactive.
	Status Status

	// Mode is ModeTest or ModeLive. Both keys must belong to it.
	Mode Mode

	// PublishableKey is the pk_test_… or pk_live_… key, for Stripe.js on the client.
	PublishableKey string

	// SecretKey is the sk_… secret key, or an rk_… restricted key with write
	// access to Checkout Sessions, PaymentIntents, Refunds and (for
	// RegisterWebhookEndpoint) Webhook Endpoints.
	SecretKey string

	// WebhookSecret is the endpoint's signing secret, whsec_…. It is required
	// for an active gateway; an inactive one may leave it empty, for example
	// until RegisterWebhookEndpoint has created the endpoint.
	WebhookSecret string

	// PreviousWebhookSecrets are older signing secrets still accepted while a
	// secret is being rolled (Stripe keeps signing with the old secret for up
	// to 24 hours). Remove them once the roll is over.
	PreviousWebhookSecrets []string
}

// Validate reports every problem of c at once, one per field, as a
// *ConfigError that matches ErrInvalidConfig. It returns nil for a usable
// Config.
//
// Whitespace around a key is rejected, not trimmed: Validate never changes
// what it checks. Call Normalize first to trim pasted values.
func (c Config) Validate() error {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}

	switch name := c.DisplayName; {
	case strings.TrimSpace(name) == "":
		add("DisplayName", "is required: enter the name customers see, e.g. %q", DefaultDisplayName)
	case name != strings.TrimSpace(name):
		add("DisplayName", "has leading or trailing whitespace; remove it")
	case len([]rune(name)) > maxDisplayNameLen:
		add("DisplayName", "is longer than %d characters; shorten it", maxDisplayNameLen)
	}

	switch {
	case !plausibleAmount(c.MinimumAmount):
		add("MinimumAmount", "is out of range (more than %d digits around the decimal point); use an amount such as 10.50", maxAmountExponent)
	case c.MinimumAmount.IsNegative():
		add("MinimumAmount", "must not be negative (got %s); use 0 for no store minimum", c.MinimumAmount.String())
	}

	switch c.Status {
	case StatusActive, StatusInactive:
	case "":
		add("Status", "is required: use %q or %q", StatusActive, StatusInactive)
	default:
		add("Status", "unknown status %q: use %q or %q", redactText(string(c.Status)), StatusActive, StatusInactive)
	}

	modeOK := c.Mode == ModeTest || c.Mode == ModeLive
	switch {
	case modeOK:
	case c.Mode == "":
		add("Mode", "is required: use %q or %q", ModeTest, ModeLive)
	default:
		add("Mode", "unknown mode %q: use %q or %q", redactText(string(c.Mode)), ModeTest, ModeLive)
	}

	pk, pkOK := c.checkKey(add, "PublishableKey", c.PublishableKey, modeOK, keyPublishable)
	sk, skOK := c.checkKey(add, "SecretKey", c.SecretKey, modeOK, keySecret, keyRestricted)
	if pkOK && skOK && !modeOK && pk.mode != sk.mode {
		add("PublishableKey", "is a %s-mode key but SecretKey is a %s-mode key; both keys must come from the same mode", pk.mode, sk.mode)
	}

	switch {
	case c.WebhookSecret == "" && c.Status == StatusInactive:
		// Allowed: an inactive gateway may be set up before its endpoint exists.
	case c.WebhookSecret == "":
		add("WebhookSecret", "is required for an active gateway: copy the endpoint's signing secret (whsec_…) from Developers > Webhooks in the Stripe dashboard")
	default:
		if msg := webhookSecretProblem(c.WebhookSecret); msg != "" {
			add("WebhookSecret", "%s", msg)
		}
	}
	for i, s := range c.PreviousWebhookSecrets {
		if msg := webhookSecretProblem(s); msg != "" {
			add("PreviousWebhookSecrets", "entry %d %s", i, msg)
			break
		}
	}

	if len(errs) == 0 {
		return nil
	}
	return &ConfigError{Fields: errs}
}

// checkKey validates one API key field and reports at most one problem.
func (c Config) checkKey(add func(string, string, ...any), field, value string, modeOK bool, want ...keyKind) (parsedKey, bool) {
	if value == "" {
		if want[0] == keyPublishable {
			add(field, "is required: copy the publishable key (pk_test_… or pk_live_…) from Developers > API keys in the Stripe dashboard")
		} else {
			add(field, "is required: copy the secret key (sk_…) or a restricted key (rk_…) from Developers > API keys in the Stripe dashboard")
		}
		return parsedKey{}, false
	}
	if value != strings.TrimSpace(value) {
		add(field, "has leading or trailing whitespace; remove it (Config.Normalize trims it)")
		return parsedKey{}, false
	}
	p := parseKey(value)
	for _, k := range want {
		if p.kind == k {
			if modeOK && p.mode != c.Mode {
				add(field, "is a %s-mode key (%s) but Mode is %q; use the %s key or change Mode", p.mode, redactKey(value), c.Mode, c.Mode)
				return p, false
			}
			return p, true
		}
	}
	switch {
	case want[0] == keyPublishable && (p.kind == keySecret || p.kind == keyRestricted):
		add(field, "holds a %s (%s), not a publishable key; put it in SecretKey and paste the pk_… key here", p.kind, redactKey(value))
	case want[0] != keyPublishable && p.kind == keyPublishable:
		add(field, "holds a publishable key (%s), not a secret key; put it in PublishableKey and paste the sk_… or rk_… key here", redactKey(value))
	case p.kind == keyWebhookSecret:
		add(field, "holds a webhook signing secret (%s); put it in WebhookSecret", redactKey(value))
	case want[0] == keyPublishable:
		add(field, "is not a Stripe publishable key (%s): it must start with pk_test_ or pk_live_", redactKey(value))
	default:
		add(field, "is not a Stripe secret key (%s): it must start with sk_test_, sk_live_, rk_test_ or rk_live_", redactKey(value))
	}
	return p, false
}

// maxAmountExponent bounds the decimal exponent of an amount this package
// accepts from configuration. shopspring/decimal can take minutes to print or
// compare a value such as 1e-2000000000, so such values are refused before
// anything formats them.
const maxAmountExponent = 30

// plausibleAmount reports whether d is small enough to be compared and
// printed in full cheaply (moneyFormat prints the others in scientific
// notation): an exponent within ±maxAmountExponent and at most 64
// significant digits.
func plausibleAmount(d decimal.Decimal) bool {
	e := d.Exponent()
	return e >= -maxAmountExponent && e <= maxAmountExponent && d.Coefficient().BitLen() <= 213
}

// webhookSecretProblem describes what is wrong with a webhook secret, or "".
func webhookSecretProblem(s string) string {
	if s != strings.TrimSpace(s) {
		return "has leading or trailing whitespace; remove it (Config.Normalize trims it)"
	}
	switch p := parseKey(s); p.kind {
	case keyWebhookSecret:
		return ""
	case keySecret, keyRestricted, keyPublishable:
		return fmt.Sprintf("holds an API %s (%s), not a webhook signing secret: it must start with whsec_", p.kind, redactKey(s))
	default:
		return fmt.Sprintf("is not a webhook signing secret (%s): it must start with whsec_", redactKey(s))
	}
}

// Normalize returns a copy of c with whitespace trimmed from the display name,
// the keys and the webhook secrets, and empty previous secrets dropped. Use it
// on values pasted into an admin form before Validate.
func (c Config) Normalize() Config {
	c.DisplayName = strings.TrimSpace(c.DisplayName)
	c.Status = Status(strings.ToLower(strings.TrimSpace(string(c.Status))))
	c.Mode = Mode(strings.ToLower(strings.TrimSpace(string(c.Mode))))
	c.PublishableKey = strings.TrimSpace(c.PublishableKey)
	c.SecretKey = strings.TrimSpace(c.SecretKey)
	c.WebhookSecret = strings.TrimSpace(c.WebhookSecret)
	var prev []string
	for _, s := range c.PreviousWebhookSecrets {
		if s = strings.TrimSpace(s); s != "" {
			prev = append(prev, s)
		}
	}
	c.PreviousWebhookSecrets = prev
	return c
}

// webhookSecrets returns the current secret followed by the previous ones.
func (c Config) webhookSecrets() []string {
	out := make([]string, 0, 1+len(c.PreviousWebhookSecrets))
	if c.WebhookSecret != "" {
		out = append(out, c.WebhookSecret)
	}
	return append(out, c.PreviousWebhookSecrets...)
}

// ConfigFromEnv reads a Config from the process environment (see the Env…
// constants for the variable names and defaults), trims whitespace, and
// validates it. The Config is returned even when invalid, so a caller can
// show what was read.
func ConfigFromEnv() (Config, error) {
	return ConfigFromLookup(os.LookupEnv)
}

// ConfigFromLookup is ConfigFromEnv with the variables read through lookup,
// for tests and for other sources of settings.
func ConfigFromLookup(lookup func(name string) (string, bool)) (Config, error) {
	get := func(name, def string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	c := Config{
		DisplayName:    get(EnvDisplayName, DefaultDisplayName),
		Status:         Status(get(EnvStatus, string(StatusActive))),
		Mode:           Mode(get(EnvMode, "")),
		PublishableKey: get(EnvPublishableKey, ""),
		SecretKey:      get(EnvSecretKey, ""),
	}
	if c.Mode == "" {
		c.Mode = parseKey(c.SecretKey).mode
	}
	if secrets := strings.Split(get(EnvWebhookSecret, ""), ","); len(secrets) > 0 {
		c.WebhookSecret = strings.TrimSpace(secrets[0])
		c.PreviousWebhookSecrets = secrets[1:]
	}
	c = c.Normalize()

	var minErr *FieldError
	if v := get(EnvMinimumAmount, ""); v != "" {
		d, err := decimal.NewFromString(v)
		switch {
		case err != nil:
			minErr = &FieldError{Field: "MinimumAmount", Message: fmt.Sprintf("%s=%q is not a decimal number; use e.g. 0.50", EnvMinimumAmount, limitText(redactText(v), 40))}
		case !plausibleAmount(d):
			minErr = &FieldError{Field: "MinimumAmount", Message: fmt.Sprintf("%s=%q is out of range; use e.g. 0.50", EnvMinimumAmount, limitText(redactText(v), 40))}
		default:
			c.MinimumAmount = d
		}
	}
	err := c.Validate()
	if minErr != nil {
		ce, _ := err.(*ConfigError)
		if ce == nil {
			ce = &ConfigError{}
		}
		ce.Fields = append([]FieldError{*minErr}, ce.Fields...)
		return c, ce
	}
	return c, err
}

// redacted is Config as it may be shown: every key redacted.
type redactedConfig struct {
	DisplayName            string   `json:"display_name"`
	MinimumAmount          string   `json:"minimum_amount"`
	Status                 Status   `json:"status"`
	Mode                   Mode     `json:"mode"`
	PublishableKey         string   `json:"publishable_key"`
	SecretKey              string   `json:"secret_key"`
	WebhookSecret          string   `json:"webhook_secret"`
	PreviousWebhookSecrets []string `json:"previous_webhook_secrets,omitempty"`
}

func (c Config) redacted() redactedConfig {
	r := redactedConfig{
		DisplayName:    redactText(c.DisplayName),
		MinimumAmount:  moneyFormat(c.MinimumAmount),
		Status:         Status(redactText(string(c.Status))),
		Mode:           Mode(redactText(string(c.Mode))),
		PublishableKey: redactKey(c.PublishableKey),
		SecretKey:      redactKey(c.SecretKey),
		WebhookSecret:  redactKey(c.WebhookSecret),
	}
	if p := parseKey(c.PublishableKey); p.kind == keyPublishable {
		r.PublishableKey = c.PublishableKey // public by design
	}
	for _, s := range c.PreviousWebhookSecrets {
		r.PreviousWebhookSecrets = append(r.PreviousWebhookSecrets, redactKey(s))
	}
	return r
}

// String shows c with its secrets redacted.
func (c Config) String() string {
	r := c.redacted()
	return fmt.Sprintf("stripegateway.Config{DisplayName:%q MinimumAmount:%s Status:%q Mode:%q PublishableKey:%q SecretKey:%q WebhookSecret:%q PreviousWebhookSecrets:%q}",
		r.DisplayName, r.MinimumAmount, r.Status, r.Mode, r.PublishableKey, r.SecretKey, r.WebhookSecret, r.PreviousWebhookSecrets)
}

// GoString is String: %#v shows secrets redacted too.
func (c Config) GoString() string { return c.String() }

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s, %q,
// %x, ...) prints the redacted form.
func (c Config) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", c.String())
	default:
		_, _ = f.Write([]byte(c.String()))
	}
}

// MarshalJSON encodes c with its secrets redacted.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.redacted()) }

// LogValue implements slog.LogValuer: logged Configs show redacted secrets.
func (c Config) LogValue() slog.Value {
	r := c.redacted()
	return slog.GroupValue(
		slog.String("display_name", r.DisplayName),
		slog.String("minimum_amount", r.MinimumAmount),
		slog.String("status", string(r.Status)),
		slog.String("mode", string(r.Mode)),
		slog.String("publishable_key", r.PublishableKey),
		slog.String("secret_key", r.SecretKey),
		slog.String("webhook_secret", r.WebhookSecret),
		slog.Any("previous_webhook_secrets", r.PreviousWebhookSecrets),
	)
}
