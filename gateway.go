package stripegateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"

	"github.com/b27de697/stripegateway/internal/redact"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/checkout/session"
	"github.com/stripe/stripe-go/v76/paymentintent"
	"github.com/stripe/stripe-go/v76/refund"
	"github.com/stripe/stripe-go/v76/webhookendpoint"
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
// atomic.Pointer), passing both the same EventStore (WithEventStore): each
// Gateway's default in-memory store is its own, so an event in flight
// during the swap could otherwise run twice. There is no useful zero value:
// use New.
type Gateway struct {
	// Every field that holds the secret key is a pointer, so that fmt, which
	// cannot call a method on an unexported field, shows an address there.
	cfg    *Config
	mode   Mode
	opts   options
	logger *slog.Logger

	backend   stripe.Backend
	sessions  *session.Client
	intents   *paymentintent.Client
	refunds   *refund.Client
	endpoints *webhookendpoint.Client
}

// New validates cfg and builds a Gateway with its own stripe-go backend and
// API clients. An invalid cfg gives a *ConfigError matching ErrInvalidConfig;
// a bad option gives an error matching ErrInvalidConfig too.
func New(cfg Config, opts ...Option) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}

	g := &Gateway{mode: cfg.Mode, opts: o, logger: o.logger}
	if g.logger == nil {
		g.logger = slog.New(slog.DiscardHandler)
	}
	g.cfg = new(Config)
	*g.cfg = cfg
	g.cfg.PreviousWebhookSecrets = slices.Clone(cfg.PreviousWebhookSecrets)

	// A fresh BackendConfig per gateway: GetBackendWithConfig mutates it.
	bc := &stripe.BackendConfig{
		HTTPClient:        o.httpClient,
		MaxNetworkRetries: stripe.Int64(o.maxRetries),
		LeveledLogger:     stripeLogger{g.logger},
	}
	if bc.HTTPClient == nil {
		bc.HTTPClient = &http.Client{Timeout: defaultHTTPTimeout}
	}
	if o.apiURL != "" {
		bc.URL = stripe.String(o.apiURL)
	}
	g.backend = stripe.GetBackendWithConfig(stripe.APIBackend, bc)
	g.sessions = &session.Client{B: g.backend, Key: string(cfg.SecretKey)}
	g.intents = &paymentintent.Client{B: g.backend, Key: string(cfg.SecretKey)}
	g.refunds = &refund.Client{B: g.backend, Key: string(cfg.SecretKey)}
	g.endpoints = &webhookendpoint.Client{B: g.backend, Key: string(cfg.SecretKey)}
	return g, nil
}

// Config returns a copy of the Config the gateway was built from, secrets
// included; it prints redacted.
func (g *Gateway) Config() Config {
	c := *g.cfg
	c.PreviousWebhookSecrets = slices.Clone(g.cfg.PreviousWebhookSecrets)
	return c
}

// livemode reports whether the gateway is in live mode, as Stripe's objects
// and events say it with their livemode field.
func (g *Gateway) livemode() bool { return g.mode == ModeLive }

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
	if found && livemode != g.livemode() {
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
	s.l.Log(ctx, level, redact.Text(fmt.Sprintf(format, v...)), "source", "stripe-go")
}

func (s stripeLogger) Debugf(format string, v ...any) { s.log(slog.LevelDebug, format, v...) }
func (s stripeLogger) Infof(format string, v ...any)  { s.log(slog.LevelDebug, format, v...) }
func (s stripeLogger) Warnf(format string, v ...any)  { s.log(slog.LevelWarn, format, v...) }
func (s stripeLogger) Errorf(format string, v ...any) { s.log(slog.LevelWarn, format, v...) }

// Format implements fmt.Formatter: every verb prints the gateway's display
// name, mode and status, and its secret key redacted (see Secret).
func (g *Gateway) Format(f fmt.State, verb rune) {
	s := fmt.Sprintf("stripegateway.Gateway{DisplayName:%q Mode:%q Status:%q SecretKey:%q}",
		redact.Text(g.cfg.DisplayName), g.mode, redact.Text(string(g.cfg.Status)), g.cfg.SecretKey)
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = io.WriteString(f, s)
}
