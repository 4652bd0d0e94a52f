package stripegateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/checkout/session"
	"github.com/stripe/stripe-go/v76/paymentintent"
	"github.com/stripe/stripe-go/v76/refund"
	"github.com/stripe/stripe-go/v76/webhookendpoint"
)

// APIVersion is the Stripe API version this package speaks: stripe-go v76's.
// Webhook endpoints must be pinned to it (RegisterWebhookEndpoint does).
const APIVersion = stripe.APIVersion

// Default values of the Options.
const (
	// DefaultMaxNetworkRetries is how often a failed API request is retried
	// (with the same idempotency key) when no WithMaxNetworkRetries is given.
	DefaultMaxNetworkRetries = 2
	// DefaultHTTPTimeout bounds one API request when no WithHTTPClient is given.
	DefaultHTTPTimeout = 80 * time.Second
)

// Gateway takes card payments through Stripe Checkout and handles Stripe's
// webhooks for one Stripe account in one mode.
//
// A Gateway is built by New from a validated Config and is immutable
// afterwards: it is safe for concurrent use by any number of goroutines. It
// owns its own stripe-go backend and API clients and never reads or writes
// stripe-go's globals (stripe.Key, the default backend), so gateways of
// different accounts or modes can run side by side in one process. To change
// settings, build a new Gateway and swap it in (for example with an
// atomic.Pointer). There is no useful zero value: use New.
type Gateway struct {
	cfg    Config
	mode   Mode
	opts   options
	logger *slog.Logger

	backend   stripe.Backend
	sessions  session.Client
	intents   paymentintent.Client
	refunds   refund.Client
	endpoints webhookendpoint.Client
}

// Option configures a Gateway in New.
type Option func(*options)

type options struct {
	apiURL     string
	httpClient *http.Client
	logger     *slog.Logger
	maxRetries int64
	now        func() time.Time
	errs       []error

	webhook  webhookOptions
	checkout checkoutOptions
}

// WithAPIURL sends API requests to baseURL instead of https://api.stripe.com,
// e.g. to stripe-mock or a recording proxy. The URL must be absolute.
func WithAPIURL(baseURL string) Option {
	return func(o *options) {
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			o.errs = append(o.errs, fmt.Errorf("WithAPIURL(%q): want an absolute http or https URL such as http://127.0.0.1:12111", redactText(baseURL)))
			return
		}
		o.apiURL = baseURL
	}
}

// WithHTTPClient makes API requests with c instead of a client with a
// DefaultHTTPTimeout timeout.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) {
		if c == nil {
			o.errs = append(o.errs, errors.New("WithHTTPClient(nil): pass an *http.Client"))
			return
		}
		o.httpClient = c
	}
}

// WithLogger sends the gateway's log lines, and stripe-go's, to l. Without it
// the gateway logs nothing, and stripe-go's default stderr logger is silenced.
// Secrets are redacted from every line.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithMaxNetworkRetries sets how often stripe-go retries a failed request
// (connection errors, 409, 429, 5xx), reusing the idempotency key. 0 turns
// retries off. The default is DefaultMaxNetworkRetries.
func WithMaxNetworkRetries(n int) Option {
	return func(o *options) {
		if n < 0 {
			o.errs = append(o.errs, fmt.Errorf("WithMaxNetworkRetries(%d): want 0 or more", n))
			return
		}
		o.maxRetries = int64(n)
	}
}

// WithClock makes the gateway read the time from now, for tests. It is used
// for webhook timestamp tolerance, checkout expiry times, and the event
// store's leases and retention.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// New validates cfg and builds a Gateway with its own stripe-go backend and
// API clients. An invalid cfg gives a *ConfigError matching ErrInvalidConfig;
// a bad option gives an error matching ErrInvalidConfig too.
func New(cfg Config, opts ...Option) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{
		maxRetries: DefaultMaxNetworkRetries,
		now:        time.Now,
		webhook:    defaultWebhookOptions(),
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if len(o.errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(o.errs...))
	}
	if err := o.webhook.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}

	g := &Gateway{mode: cfg.Mode, opts: o, logger: o.logger}
	if g.logger == nil {
		g.logger = slog.New(slog.DiscardHandler)
	}
	g.cfg = cfg
	g.cfg.PreviousWebhookSecrets = append([]string(nil), cfg.PreviousWebhookSecrets...)

	// A fresh BackendConfig per gateway: GetBackendWithConfig mutates it.
	bc := &stripe.BackendConfig{
		HTTPClient:        o.httpClient,
		MaxNetworkRetries: stripe.Int64(o.maxRetries),
		LeveledLogger:     stripeLogger{g.logger},
	}
	if bc.HTTPClient == nil {
		bc.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if o.apiURL != "" {
		bc.URL = stripe.String(o.apiURL)
	}
	g.backend = stripe.GetBackendWithConfig(stripe.APIBackend, bc)
	g.sessions = session.Client{B: g.backend, Key: cfg.SecretKey}
	g.intents = paymentintent.Client{B: g.backend, Key: cfg.SecretKey}
	g.refunds = refund.Client{B: g.backend, Key: cfg.SecretKey}
	g.endpoints = webhookendpoint.Client{B: g.backend, Key: cfg.SecretKey}
	return g, nil
}

// DisplayName is the payment method's name to show customers.
func (g *Gateway) DisplayName() string { return g.cfg.DisplayName }

// Enabled reports whether the gateway's Status is StatusActive, i.e. whether
// a storefront should offer it.
func (g *Gateway) Enabled() bool { return g.cfg.Status == StatusActive }

// Mode is ModeTest or ModeLive.
func (g *Gateway) Mode() Mode { return g.mode }

// Livemode reports whether the gateway is in live mode, as Stripe's objects
// and events say it with their livemode field.
func (g *Gateway) Livemode() bool { return g.mode == ModeLive }

// PublishableKey is the key for Stripe.js in the customer's browser. It is
// public by design.
func (g *Gateway) PublishableKey() string { return g.cfg.PublishableKey }

// MinimumAmount is the store's configured minimum order total, in the major
// unit of the order's currency; zero when only Stripe's minimum applies.
func (g *Gateway) MinimumAmount() decimal.Decimal { return g.cfg.MinimumAmount }

// Config returns a copy of the Config the gateway was built from, secrets
// included; it prints redacted.
func (g *Gateway) Config() Config {
	c := g.cfg
	c.PreviousWebhookSecrets = append([]string(nil), g.cfg.PreviousWebhookSecrets...)
	return c
}

// String describes the gateway without any secret.
func (g *Gateway) String() string {
	return fmt.Sprintf("stripegateway.Gateway{DisplayName:%q Mode:%q Status:%q SecretKey:%q}",
		redactText(g.cfg.DisplayName), g.mode, g.cfg.Status, redactKey(g.cfg.SecretKey))
}

// GoString is String, so that %#v shows no secret.
func (g *Gateway) GoString() string { return g.String() }

// Format implements fmt.Formatter: every verb prints String's redacted form.
func (g *Gateway) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", g.String())
		return
	}
	_, _ = f.Write([]byte(g.String()))
}

// LogValue implements slog.LogValuer without any secret.
func (g *Gateway) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("display_name", redactText(g.cfg.DisplayName)),
		slog.String("mode", string(g.mode)),
		slog.String("status", string(g.cfg.Status)),
		slog.String("secret_key", redactKey(g.cfg.SecretKey)),
	)
}

// CheckCredentials is what an admin's "Test connection" button calls. It makes
// one cheap authenticated request (listing at most one Checkout Session) and
// returns nil when the key works for this gateway, or:
//   - ErrAuthentication when Stripe rejects the key (wraps *stripe.Error);
//   - ErrPermissionDenied when a restricted key may not read Checkout
//     Sessions (wraps *stripe.Error);
//   - ErrLivemodeMismatch when the account answers in the other mode;
//   - ErrStripeAPI for anything else, such as a network failure.
func (g *Gateway) CheckCredentials(ctx context.Context) error {
	const op = "check credentials"
	params := &stripe.CheckoutSessionListParams{}
	params.Context = ctx
	params.Limit = stripe.Int64(1)
	params.Single = true
	livemode, found, err := callContext(ctx, func() (bool, bool, error) {
		it := g.sessions.List(params)
		if it.Next() {
			return it.CheckoutSession().Livemode, true, nil
		}
		return false, false, it.Err()
	})
	if err != nil {
		err = wrapAPIError(op, err)
		if errors.Is(err, ErrPermissionDenied) {
			return fmt.Errorf("%w; grant the restricted key write access to Checkout Sessions, PaymentIntents, Refunds and Webhook Endpoints", err)
		}
		return err
	}
	if found && livemode != g.Livemode() {
		return fmt.Errorf("%w: the API answered with %s-mode objects but the gateway's Mode is %q; check the key and the API URL", ErrLivemodeMismatch, modeOf(livemode), g.mode)
	}
	g.logger.Debug("stripegateway: credentials checked", "mode", string(g.mode))
	return nil
}

func modeOf(livemode bool) Mode {
	if livemode {
		return ModeLive
	}
	return ModeTest
}

// callContext runs fn and returns its result, or ctx's error as soon as ctx
// is done. stripe-go sleeps between retries without watching the context;
// this makes every call end promptly at the caller's deadline. fn keeps
// running in the background until stripe-go gives up (its request carries
// ctx, so it is aborted at the next attempt).
func callContext[A, B any](ctx context.Context, fn func() (A, B, error)) (A, B, error) {
	if ctx.Done() == nil {
		return fn()
	}
	if err := ctx.Err(); err != nil {
		var a A
		var b B
		return a, b, err
	}
	type result struct {
		a   A
		b   B
		err error
	}
	ch := make(chan result, 1)
	go func() {
		a, b, err := fn()
		ch <- result{a, b, err}
	}()
	select {
	case r := <-ch:
		return r.a, r.b, r.err
	case <-ctx.Done():
		var a A
		var b B
		return a, b, ctx.Err()
	}
}

// stripeLogger passes stripe-go's log lines to slog, secrets redacted.
// stripe-go's routine request lines go to Debug.
type stripeLogger struct{ l *slog.Logger }

func (s stripeLogger) log(level slog.Level, format string, v ...any) {
	ctx := context.Background()
	if !s.l.Enabled(ctx, level) {
		return
	}
	s.l.Log(ctx, level, redactText(fmt.Sprintf(format, v...)), "source", "stripe-go")
}

func (s stripeLogger) Debugf(format string, v ...any) { s.log(slog.LevelDebug, format, v...) }
func (s stripeLogger) Infof(format string, v ...any)  { s.log(slog.LevelDebug, format, v...) }
func (s stripeLogger) Warnf(format string, v ...any)  { s.log(slog.LevelWarn, format, v...) }
func (s stripeLogger) Errorf(format string, v ...any) { s.log(slog.LevelWarn, format, v...) }
