package stripegateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway/internal/redact"
)

// This file holds every Option of New. A nil value given to an option
// (WithLogger(nil), WithHTTPClient(nil), ...) selects that option's
// default, as if the option were left out.

// Option configures a Gateway in New.
type Option func(*options)

// Default values of the options.
const (
	// defaultMaxNetworkRetries is how often a failed API request is retried
	// (with the same idempotency key) when no WithMaxNetworkRetries is given.
	defaultMaxNetworkRetries = 2
	// defaultHTTPTimeout bounds one API request when no WithHTTPClient is
	// given.
	defaultHTTPTimeout = 80 * time.Second
	// defaultWebhookTolerance is how far a webhook's signed timestamp may be
	// from the gateway's clock, in either direction, when no
	// WithWebhookTolerance is given. It is stripe-go's and Stripe's default.
	defaultWebhookTolerance = 5 * time.Minute
	// defaultEventLease is how long a delivery may hold an event's claim
	// when no WithEventLease is given. A claim left by a crashed process is
	// taken over by a redelivery after it. A running callback's claim is
	// renewed every third of it.
	defaultEventLease = 5 * time.Minute
)

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

// webhookOptions holds the webhook settings of a Gateway.
type webhookOptions struct {
	tolerance   time.Duration
	apiVersions []string // accepted besides the versions of internal/wire
	store       EventStore
	lease       time.Duration
}

// checkoutOptions holds the checkout settings of a Gateway.
type checkoutOptions struct {
	// threeDSecure is the default of CheckoutRequest.ThreeDSecure; "" is
	// automatic.
	threeDSecure stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecure
}

func defaultOptions() options {
	return options{
		maxRetries: defaultMaxNetworkRetries,
		now:        time.Now,
		webhook: webhookOptions{
			tolerance: defaultWebhookTolerance,
			lease:     defaultEventLease,
		},
	}
}

// WithAPIURL sends API requests to baseURL instead of https://api.stripe.com,
// e.g. to stripe-mock or a recording proxy. The URL must be absolute.
func WithAPIURL(baseURL string) Option {
	return func(o *options) {
		if baseURL == "" {
			o.apiURL = ""
			return
		}
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			o.errs = append(o.errs, fmt.Errorf("WithAPIURL(%q): want an absolute http or https URL such as http://127.0.0.1:12111", redact.Text(baseURL)))
			return
		}
		o.apiURL = baseURL
	}
}

// WithHTTPClient makes API requests with c instead of a client with an
// 80-second timeout.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.httpClient = c }
}

// WithLogger sends the gateway's log lines, and stripe-go's, to l. Without it
// the gateway logs nothing, and stripe-go's default stderr logger is silenced.
// Secrets are redacted from every line.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithMaxNetworkRetries sets how often stripe-go retries a failed request
// (connection errors, 409, 429, 5xx), reusing the idempotency key. 0 turns
// retries off. The default is 2.
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
// store's leases and retention. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now == nil {
			now = time.Now
		}
		o.now = now
	}
}

// WithThreeDSecure sets the store's 3-D Secure policy for card payments in
// Checkout: the ThreeDSecure of every CheckoutRequest that leaves it empty.
// stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecureAny asks
// for 3-D Secure on every card payment; the default, …Automatic, leaves it
// to Stripe's SCA engine and Radar.
func WithThreeDSecure(t stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecure) Option {
	return func(o *options) {
		if !validThreeDSecure(t) {
			o.errs = append(o.errs, fmt.Errorf("WithThreeDSecure(%q): use \"automatic\", \"any\" or \"challenge\"", redact.Limit(redact.Text(string(t)), 40)))
			return
		}
		o.checkout.threeDSecure = t
	}
}

// WithWebhookTolerance sets how far a webhook's signed timestamp may be from
// the gateway's clock (WithClock), in the past or in the future, before
// VerifyAndParse refuses it with ErrTimestampOutsideTolerance. It bounds how
// long a captured request can be replayed. The default is 5 minutes,
// Stripe's; d must be positive (there is no way to turn the check off).
func WithWebhookTolerance(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			o.errs = append(o.errs, fmt.Errorf("WithWebhookTolerance(%s): want a positive duration such as 5*time.Minute", d))
			return
		}
		o.webhook.tolerance = d
	}
}

// apiVersionPattern matches Stripe API versions: 2023-10-16, and since 2024
// versions with a release name, 2024-09-30.acacia.
var apiVersionPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$`)

// WithAcceptedAPIVersions makes VerifyAndParse accept events rendered with
// the given Stripe API versions, besides the versions it knows (2023-10-16
// through 2026-08-26.dahlia), instead of refusing them with
// ErrAPIVersionMismatch.
//
// Use it deliberately, for a version released after this package: such
// events are read the way the newest known version is read, so a field that
// the new version moves is missed or refused (ErrInvalidPayload). Test your
// callbacks with events of that version first (stripegatewaytest builds
// them).
func WithAcceptedAPIVersions(versions ...string) Option {
	return func(o *options) {
		for _, v := range versions {
			if !apiVersionPattern.MatchString(v) {
				o.errs = append(o.errs, fmt.Errorf("WithAcceptedAPIVersions(%q): want a Stripe API version such as %q", redact.Limit(redact.Text(v), 40), stripe.APIVersion))
				continue
			}
			o.webhook.apiVersions = append(o.webhook.apiVersions, v)
		}
	}
}

// WithEventStore replaces the default in-memory event store
// (MemoryEventStore with its default bounds), for example with one shared by
// several processes such as package sqlstore's.
func WithEventStore(s EventStore) Option {
	return func(o *options) { o.webhook.store = s }
}

// WithEventLease sets how long a delivery may hold an event's claim before
// another delivery may take it over (after a crash, say). While a callback
// runs, its claim is renewed every third of the lease, so the lease bounds
// how long a crashed process holds an event, not how long a callback may
// take; a callback's context ends after 12 leases, or when a renewal finds
// the claim lost. The default is 5 minutes; d must be at least a second.
func WithEventLease(d time.Duration) Option {
	return func(o *options) {
		if d < time.Second {
			o.errs = append(o.errs, fmt.Errorf("WithEventLease(%s): want at least 1s; a running callback's claim is renewed every third of the lease", d))
			return
		}
		o.webhook.lease = d
	}
}

// buildOptions applies opts and reports every bad option at once.
func buildOptions(opts []Option) (options, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if len(o.errs) > 0 {
		return o, fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(o.errs...))
	}
	if o.webhook.store == nil {
		o.webhook.store = newMemoryEventStore(o.logger)
	}
	return o, nil
}
