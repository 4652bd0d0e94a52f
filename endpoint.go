package stripegateway

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway/internal/redact"
	"github.com/b27de697/stripegateway/internal/wire"
)

// This file sets up the account's side of webhooks: RegisterWebhookEndpoint.

// WebhookEndpoint is a webhook endpoint created by RegisterWebhookEndpoint.
// It prints, logs and marshals with its Secret redacted (see Secret).
type WebhookEndpoint struct {
	// ID is the endpoint's ID, we_….
	ID string `json:"id"`
	// URL is where Stripe sends the events.
	URL string `json:"url"`
	// Secret is the endpoint's signing secret, whsec_…. Stripe returns it
	// only when the endpoint is created: store it as Config.WebhookSecret.
	Secret Secret `json:"secret"`
	// APIVersion is the version the events are rendered with:
	// stripe.APIVersion, 2023-10-16.
	APIVersion string `json:"api_version"`
	// EnabledEvents are the events sent to the endpoint: EventTypes().
	EnabledEvents []stripe.EventType `json:"enabled_events"`
	// Livemode is true for an endpoint of live mode.
	Livemode bool `json:"livemode"`
}

// RegisterWebhookEndpoint creates a webhook endpoint at endpointURL (for
// example https://shop.example/gateways/stripe/notification) through
// Stripe's API. The endpoint sends exactly EventTypes(), rendered with
// stripe.APIVersion (2023-10-16), so that every Outcome also carries its
// typed stripe-go object. It returns the
// endpoint with its new signing secret: store it as Config.WebhookSecret and
// build a new Gateway with it. The endpoint is in the gateway's mode.
//
// It works on an inactive gateway too, which may be set up without a
// webhook secret until this has run. Each call creates a new endpoint (and
// Stripe sends every event to each of them): call it once per store.
//
// Errors: ErrInvalidRequest for a URL that is not absolute https (or http
// in test mode); otherwise as from the API (see apiError), including
// ErrPermissionDenied for a restricted key without write access to Webhook
// Endpoints.
func (g *Gateway) RegisterWebhookEndpoint(ctx context.Context, endpointURL string) (*WebhookEndpoint, error) {
	const op = "register webhook endpoint"
	u, err := url.Parse(endpointURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return nil, invalidField("endpointURL", "%q is not an absolute https URL such as https://shop.example/gateways/stripe/notification", endpointURL)
	case u.Scheme != "https" && g.livemode():
		return nil, invalidField("endpointURL", "%q: live-mode endpoints must use https", endpointURL)
	}

	types := EventTypes()
	params := &stripe.WebhookEndpointParams{
		URL:         stripe.String(endpointURL),
		APIVersion:  stripe.String(stripe.APIVersion),
		Description: stripe.String("stripegateway: " + g.cfg.DisplayName),
	}
	for _, t := range types {
		params.EnabledEvents = append(params.EnabledEvents, stripe.String(string(t)))
	}
	params.Context = ctx
	we, _, err := callContext(ctx, func() (*stripe.WebhookEndpoint, struct{}, error) {
		we, err := g.endpoints.New(params)
		return we, struct{}{}, err
	})
	if err != nil {
		return nil, stripeCallError(ctx, op, err)
	}
	ep := &WebhookEndpoint{
		ID:            we.ID,
		URL:           we.URL,
		Secret:        Secret(we.Secret),
		APIVersion:    we.APIVersion,
		EnabledEvents: types,
		Livemode:      we.Livemode,
	}
	if ep.APIVersion == "" {
		ep.APIVersion = stripe.APIVersion
	}
	if ep.Secret == "" {
		return ep, &apiError{Op: op, Kind: ErrStripeAPI, Err: fmt.Errorf("the API created endpoint %s but returned no signing secret; roll the endpoint's secret in the dashboard (Developers > Webhooks) and configure it", we.ID)}
	}
	g.logger.Info("stripegateway: webhook endpoint registered", "endpoint", ep)
	return ep, nil
}

// CheckWebhookEndpoint is the admin's second "Test connection": it lists the
// account's webhook endpoints through the API and checks the one for
// endpointURL (for example
// https://shop.example/gateways/stripe/notification). It returns nil when
// that endpoint is enabled, sends events at an API version this package
// reads, and sends every event of EventTypes.
//
// Otherwise it returns a *ConfigError, matching ErrInvalidConfig, with one
// *FieldError per problem, for a settings page to show field by field:
//   - "WebhookEndpoint.URL": no endpoint has this URL; the message names a
//     near match for another URL (a trailing slash, http instead of https,
//     another letter case in the host), if there is one;
//   - "WebhookEndpoint.Status": the endpoint is disabled (Stripe disables an
//     endpoint that failed for days);
//   - "WebhookEndpoint.APIVersion": its events are rendered at an API version
//     this package does not read (see WithAcceptedAPIVersions);
//   - "WebhookEndpoint.EnabledEvents": events of EventTypes that it does not
//     send, by name.
//
// An endpoint with no api_version of its own follows the account's default
// version, which the API does not tell; that is not reported. Errors from
// the API are as for CheckCredentials. It works on an inactive gateway too.
func (g *Gateway) CheckWebhookEndpoint(ctx context.Context, endpointURL string) error {
	const op = "list webhook endpoints"
	want, err := url.Parse(endpointURL)
	if err != nil || want.Host == "" || (want.Scheme != "https" && want.Scheme != "http") {
		return invalidField("endpointURL", "%q is not an absolute URL such as https://shop.example/gateways/stripe/notification", endpointURL)
	}
	params := &stripe.WebhookEndpointListParams{}
	params.Context = ctx
	params.Limit = stripe.Int64(100)
	endpoints, _, err := callContext(ctx, func() ([]*stripe.WebhookEndpoint, struct{}, error) {
		var all []*stripe.WebhookEndpoint
		it := g.endpoints.List(params)
		for it.Next() {
			all = append(all, it.WebhookEndpoint())
		}
		return all, struct{}{}, it.Err()
	})
	if err != nil {
		return stripeCallError(ctx, op, err)
	}

	var best []*FieldError
	var near []string
	for _, ep := range endpoints {
		switch sameEndpointURL(want, ep.URL) {
		case urlSame:
			problems := g.endpointProblems(ep)
			if len(problems) == 0 {
				return nil
			}
			if best == nil || len(problems) < len(best) {
				best = problems
			}
		case urlNear:
			near = append(near, ep.URL)
		}
	}
	if best == nil {
		msg := fmt.Sprintf("no webhook endpoint of this account sends events to %s: create one (RegisterWebhookEndpoint, or Developers > Webhooks in the dashboard)", endpointURL)
		if len(near) > 0 {
			msg = fmt.Sprintf("no webhook endpoint sends events to %s, but %s does: Stripe sends only to the exact URL, so correct the endpoint's URL", endpointURL, strings.Join(near, " and "))
		}
		best = []*FieldError{{Field: "WebhookEndpoint.URL", Message: redact.Limit(redact.Text(msg), 1000)}}
	}
	return &ConfigError{Fields: best}
}

// endpointProblems lists what is wrong with an endpoint of the right URL.
func (g *Gateway) endpointProblems(ep *stripe.WebhookEndpoint) []*FieldError {
	var out []*FieldError
	add := func(field, format string, args ...any) {
		out = append(out, &FieldError{Field: "WebhookEndpoint." + field, Message: redact.Limit(redact.Text(fmt.Sprintf(format, args...)), 1000)})
	}
	if ep.Status != "" && ep.Status != "enabled" {
		add("Status", "endpoint %s is %s: Stripe sends it nothing; enable it in Developers > Webhooks (Stripe disables an endpoint that keeps failing)", ep.ID, ep.Status)
	}
	if v := ep.APIVersion; v != "" && !g.opts.webhook.acceptsAPIVersion(v) {
		add("APIVersion", "endpoint %s sends events at API version %s, which this package does not read (it reads %s through %s): every event would be refused; replace the endpoint with one pinned to %s",
			ep.ID, v, wire.APIVersions[0].Name, wire.Newest, stripe.APIVersion)
	}
	enabled := make(map[string]bool, len(ep.EnabledEvents))
	for _, e := range ep.EnabledEvents {
		enabled[e] = true
	}
	if !enabled["*"] {
		var missing []string
		for _, t := range EventTypes() {
			if !enabled[string(t)] {
				missing = append(missing, string(t))
			}
		}
		switch len(missing) {
		case 0:
		case 1:
			add("EnabledEvents", "endpoint %s does not send %s: enable it, or what it reports is never seen", ep.ID, missing[0])
		default:
			add("EnabledEvents", "endpoint %s does not send %s: enable them, or what they report is never seen", ep.ID, strings.Join(missing, ", "))
		}
	}
	return out
}

// How an endpoint's URL compares with the one wanted.
const (
	urlOther = iota
	urlSame
	urlNear
)

// sameEndpointURL compares an endpoint's URL with the one wanted: the same
// (scheme, host in any letter case, path and query), near (the same but for
// a trailing slash, http against https, or both), or another.
func sameEndpointURL(want *url.URL, got string) int {
	u, err := url.Parse(got)
	if err != nil {
		return urlOther
	}
	hostSame := strings.EqualFold(u.Host, want.Host) && u.RawQuery == want.RawQuery
	switch {
	case hostSame && u.Scheme == want.Scheme && u.Path == want.Path:
		return urlSame
	case hostSame && strings.TrimSuffix(u.Path, "/") == strings.TrimSuffix(want.Path, "/"):
		return urlNear
	}
	return urlOther
}
