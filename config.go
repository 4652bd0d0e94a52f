package stripegateway

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/b27de697/stripegateway/internal/money"
	"github.com/b27de697/stripegateway/internal/redact"

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
	envSecretKey      = "STRIPE_SECRET_KEY"      // sk_… or rk_…; required
	envPublishableKey = "STRIPE_PUBLISHABLE_KEY" // pk_…; required
	envWebhookSecret  = "STRIPE_WEBHOOK_SECRET"  // whsec_…; comma-separated while rolling, newest first
	envMode           = "STRIPE_MODE"            // test or live; default: the secret key's mode
	envStatus         = "STRIPE_STATUS"          // active or inactive; default active
	envDisplayName    = "STRIPE_DISPLAY_NAME"    // default "Credit Card"
	envMinimumAmount  = "STRIPE_MINIMUM_AMOUNT"  // decimal in the major unit; default 0
)

// defaultDisplayName is the DisplayName ConfigFromEnv uses when none is set.
const defaultDisplayName = "Credit Card"

// maxDisplayNameLen bounds DisplayName, which is shown on payment pages.
const maxDisplayNameLen = 100

// Config is what an admin fills in on a store's Stripe settings page. The zero
// value is not valid: Validate says what is missing. New copies the Config, so
// changing it afterwards does not affect a Gateway.
//
// Secrets never leave a Config in clear text through fmt (any verb),
// encoding/json or log/slog: the credentials are Secrets, shown redacted
// like "sk_test_…abcd". The JSON form is therefore for display and logs, not
// for storage.
//
// fmt cannot call methods on unexported struct fields: a Config kept in an
// unexported field of your own type prints raw through fmt. Keep it in an
// exported field or behind a pointer, or give that type its own String
// method.
type Config struct {
	// DisplayName is what customers see as the payment method, e.g. "Credit Card".
	DisplayName string `json:"display_name"`

	// MinimumAmount is the store's smallest order total, in the major unit of
	// the order's currency (10.50 means 10.50 EUR for a EUR order). Zero means
	// only Stripe's own minimum charge applies. It must not be negative.
	MinimumAmount decimal.Decimal `json:"minimum_amount"`

	// Status says whether the gateway takes payments: StatusActive or StatusInactive.
	Status Status `json:"status"`

	// Mode is ModeTest or ModeLive. Both keys must belong to it.
	Mode Mode `json:"mode"`

	// PublishableKey is the pk_test_… or pk_live_… key, for Stripe.js on the client.
	PublishableKey Secret `json:"publishable_key"`

	// SecretKey is the sk_… secret key, or an rk_… restricted key with write
	// access to Checkout Sessions, PaymentIntents, Refunds and (for
	// RegisterWebhookEndpoint) Webhook Endpoints.
	SecretKey Secret `json:"secret_key"`

	// WebhookSecret is the endpoint's signing secret, whsec_…. It is required
	// for an active gateway; an inactive one may leave it empty, for example
	// until RegisterWebhookEndpoint has created the endpoint.
	WebhookSecret Secret `json:"webhook_secret"`

	// PreviousWebhookSecrets are older signing secrets still accepted while a
	// secret is being rolled (Stripe keeps signing with the old secret for up
	// to 24 hours). Remove them once the roll is over.
	PreviousWebhookSecrets []Secret `json:"previous_webhook_secrets,omitempty"`
}

// Validate reports every problem of c at once, one per field, as a
// *ConfigError that matches ErrInvalidConfig. It returns nil for a usable
// Config.
//
// Whitespace around a key is rejected, not trimmed: Validate never changes
// what it checks. Call Normalize first to trim pasted values.
func (c Config) Validate() error {
	var errs []*FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}

	switch name := c.DisplayName; {
	case strings.TrimSpace(name) == "":
		add("DisplayName", "is required: enter the name customers see, e.g. %q", defaultDisplayName)
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
		add("Status", "unknown status %q: use %q or %q", redact.Text(string(c.Status)), StatusActive, StatusInactive)
	}

	modeOK := c.Mode == ModeTest || c.Mode == ModeLive
	switch {
	case modeOK:
	case c.Mode == "":
		add("Mode", "is required: use %q or %q", ModeTest, ModeLive)
	default:
		add("Mode", "unknown mode %q: use %q or %q", redact.Text(string(c.Mode)), ModeTest, ModeLive)
	}

	pk, pkOK := c.checkKey(add, "PublishableKey", string(c.PublishableKey), modeOK, keyPublishable)
	sk, skOK := c.checkKey(add, "SecretKey", string(c.SecretKey), modeOK, keySecret, keyRestricted)
	if pkOK && skOK && !modeOK && pk.mode != sk.mode {
		add("PublishableKey", "is a %s-mode key but SecretKey is a %s-mode key; both keys must come from the same mode", pk.mode, sk.mode)
	}

	switch {
	case c.WebhookSecret == "" && c.Status == StatusInactive:
		// Allowed: an inactive gateway may be set up before its endpoint exists.
	case c.WebhookSecret == "":
		add("WebhookSecret", "is required for an active gateway: copy the endpoint's signing secret (whsec_…) from Developers > Webhooks in the Stripe dashboard")
	default:
		if msg := webhookSecretProblem(string(c.WebhookSecret)); msg != "" {
			add("WebhookSecret", "%s", msg)
		}
	}
	for i, s := range c.PreviousWebhookSecrets {
		if msg := webhookSecretProblem(string(s)); msg != "" {
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
				add(field, "is a %s-mode key (%s) but Mode is %q; use the %s key or change Mode", p.mode, redact.Key(value), c.Mode, c.Mode)
				return p, false
			}
			return p, true
		}
	}
	switch {
	case want[0] == keyPublishable && (p.kind == keySecret || p.kind == keyRestricted):
		add(field, "holds a %s (%s), not a publishable key; put it in SecretKey and paste the pk_… key here", p.kind, redact.Key(value))
	case want[0] != keyPublishable && p.kind == keyPublishable:
		add(field, "holds a publishable key (%s), not a secret key; put it in PublishableKey and paste the sk_… or rk_… key here", redact.Key(value))
	case p.kind == keyWebhookSecret:
		add(field, "holds a webhook signing secret (%s); put it in WebhookSecret", redact.Key(value))
	case want[0] == keyPublishable:
		add(field, "is not a Stripe publishable key (%s): it must start with pk_test_ or pk_live_", redact.Key(value))
	default:
		add(field, "is not a Stripe secret key (%s): it must start with sk_test_, sk_live_, rk_test_ or rk_live_", redact.Key(value))
	}
	return p, false
}

// maxAmountExponent bounds the decimal exponent of an amount this package
// accepts from configuration. shopspring/decimal can take minutes to print or
// compare a value such as 1e-2000000000, so such values are refused before
// anything formats them.
const maxAmountExponent = 30

// plausibleAmount reports whether d is small enough to be compared and
// printed in full cheaply (money.Format prints the others in scientific
// notation): an exponent within ±maxAmountExponent and at most 64
// significant digits.
func plausibleAmount(d decimal.Decimal) bool {
	e := d.Exponent()
	return e >= -maxAmountExponent && e <= maxAmountExponent && d.Coefficient().BitLen() <= 213
}

// minWebhookSecretBody is the shortest signing secret Stripe makes, after
// its whsec_ prefix: the Dashboard's have 32 characters, stripe listen's 64.
const minWebhookSecretBody = 32

// webhookSecretProblem describes what is wrong with a webhook secret, or "".
func webhookSecretProblem(s string) string {
	if s != strings.TrimSpace(s) {
		return "has leading or trailing whitespace; remove it (Config.Normalize trims it)"
	}
	switch p := parseKey(s); p.kind {
	case keyWebhookSecret:
		if len(p.body) < minWebhookSecretBody {
			return fmt.Sprintf("is too short to be a Stripe signing secret (%d characters after whsec_; Stripe's have %d or more): copy the whole secret from the endpoint's page in Developers > Webhooks, or from stripe listen", len(p.body), minWebhookSecretBody)
		}
		return ""
	case keySecret, keyRestricted, keyPublishable:
		return fmt.Sprintf("holds an API %s (%s), not a webhook signing secret: it must start with whsec_", p.kind, redact.Key(s))
	default:
		return fmt.Sprintf("is not a webhook signing secret (%s): it must start with whsec_", redact.Key(s))
	}
}

// Normalize returns a copy of c with whitespace trimmed from the display name,
// the keys and the webhook secrets, and empty previous secrets dropped. Use it
// on values pasted into an admin form before Validate.
func (c Config) Normalize() Config {
	c.DisplayName = strings.TrimSpace(c.DisplayName)
	c.Status = Status(strings.ToLower(strings.TrimSpace(string(c.Status))))
	c.Mode = Mode(strings.ToLower(strings.TrimSpace(string(c.Mode))))
	c.PublishableKey = trimSecret(c.PublishableKey)
	c.SecretKey = trimSecret(c.SecretKey)
	c.WebhookSecret = trimSecret(c.WebhookSecret)
	var prev []Secret
	for _, s := range c.PreviousWebhookSecrets {
		if s = trimSecret(s); s != "" {
			prev = append(prev, s)
		}
	}
	c.PreviousWebhookSecrets = prev
	return c
}

func trimSecret(s Secret) Secret { return Secret(strings.TrimSpace(string(s))) }

// webhookSecrets returns the current secret followed by the previous ones.
func (c Config) webhookSecrets() []string {
	out := make([]string, 0, 1+len(c.PreviousWebhookSecrets))
	if c.WebhookSecret != "" {
		out = append(out, string(c.WebhookSecret))
	}
	for _, s := range c.PreviousWebhookSecrets {
		out = append(out, string(s))
	}
	return out
}

// ConfigFromEnv reads a Config from environment variables through getenv
// (os.Getenv, or a map's lookup in tests; nil means os.Getenv), trims
// whitespace, and validates it. An empty variable counts as unset. The
// Config is returned even when invalid, so a caller can show what was read.
// The variables are:
//
//	STRIPE_SECRET_KEY       sk_… or rk_…; required
//	STRIPE_PUBLISHABLE_KEY  pk_…; required
//	STRIPE_WEBHOOK_SECRET   whsec_…; comma-separated while rolling, newest first
//	STRIPE_MODE             test or live; default: the secret key's mode
//	STRIPE_STATUS           active or inactive; default active
//	STRIPE_DISPLAY_NAME     default "Credit Card"
//	STRIPE_MINIMUM_AMOUNT   decimal in the major unit; default 0
func ConfigFromEnv(getenv func(name string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	get := func(name, def string) string {
		if v := getenv(name); strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	c := Config{
		DisplayName:    get(envDisplayName, defaultDisplayName),
		Status:         Status(get(envStatus, string(StatusActive))),
		Mode:           Mode(get(envMode, "")),
		PublishableKey: Secret(get(envPublishableKey, "")),
		SecretKey:      Secret(get(envSecretKey, "")),
	}
	if c.Mode == "" {
		c.Mode = parseKey(string(c.SecretKey)).mode
	}
	secrets := strings.Split(get(envWebhookSecret, ""), ",") // never empty
	c.WebhookSecret = Secret(secrets[0])
	for _, s := range secrets[1:] {
		c.PreviousWebhookSecrets = append(c.PreviousWebhookSecrets, Secret(s))
	}
	c = c.Normalize()

	var minErr *FieldError
	if v := get(envMinimumAmount, ""); v != "" {
		d, err := decimal.NewFromString(v)
		switch {
		case err != nil:
			minErr = &FieldError{Field: "MinimumAmount", Message: fmt.Sprintf("%s=%q is not a decimal number; use e.g. 0.50", envMinimumAmount, redact.Limit(redact.Text(v), 40))}
		case !plausibleAmount(d):
			minErr = &FieldError{Field: "MinimumAmount", Message: fmt.Sprintf("%s=%q is out of range; use e.g. 0.50", envMinimumAmount, redact.Limit(redact.Text(v), 40))}
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
		ce.Fields = append([]*FieldError{minErr}, ce.Fields...)
		return c, ce
	}
	return c, err
}

// Format implements fmt.Formatter: every verb prints c with its secrets
// redacted (see Secret), any secret-looking text in its other fields too,
// and MinimumAmount in scientific notation when printing it in full would be
// huge, so that even an invalid Config prints quickly and safely.
func (c Config) Format(f fmt.State, verb rune) {
	s := fmt.Sprintf("stripegateway.Config{DisplayName:%q MinimumAmount:%s Status:%q Mode:%q PublishableKey:%q SecretKey:%q WebhookSecret:%q PreviousWebhookSecrets:%q}",
		redact.Text(c.DisplayName), money.Format(c.MinimumAmount), redact.Text(string(c.Status)), redact.Text(string(c.Mode)),
		c.PublishableKey.public(), c.SecretKey, c.WebhookSecret, c.PreviousWebhookSecrets)
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}

// MarshalJSON encodes c for display and logs, with the same redaction as
// Format; it is not a form to store the Config in.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config
	p := plain(c)
	p.DisplayName = redact.Text(c.DisplayName)
	p.Status = Status(redact.Text(string(c.Status)))
	p.Mode = Mode(redact.Text(string(c.Mode)))
	return json.Marshal(struct {
		plain
		MinimumAmount  string `json:"minimum_amount"`
		PublishableKey string `json:"publishable_key"`
	}{p, money.Format(c.MinimumAmount), c.PublishableKey.public()})
}
