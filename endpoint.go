package stripegateway

import (
	"context"
	"fmt"
	"net/url"

	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway/internal/redact"
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
	// APIVersion is the version the events are rendered with: APIVersion.
	APIVersion string `json:"api_version"`
	// EnabledEvents are the events sent to the endpoint: EventTypes().
	EnabledEvents []stripe.EventType `json:"enabled_events"`
	// Livemode is true for an endpoint of live mode.
	Livemode bool `json:"livemode"`
}

// RegisterWebhookEndpoint creates a webhook endpoint at endpointURL (for
// example https://shop.example/gateways/stripe/notification) through
// Stripe's API. The endpoint sends exactly EventTypes(), rendered with
// APIVersion, so that VerifyAndParse can decode every event. It returns the
// endpoint with its new signing secret: store it as Config.WebhookSecret and
// build a new Gateway with it. The endpoint is in the gateway's mode.
//
// It works on an inactive gateway too, which may be set up without a
// webhook secret until this has run. Each call creates a new endpoint (and
// Stripe sends every event to each of them): call it once per store.
//
// Errors: ErrInvalidRequest for a URL that is not absolute https (or http
// in test mode); otherwise as from the API (see APIError), including
// ErrPermissionDenied for a restricted key without write access to Webhook
// Endpoints.
func (g *Gateway) RegisterWebhookEndpoint(ctx context.Context, endpointURL string) (*WebhookEndpoint, error) {
	const op = "register webhook endpoint"
	u, err := url.Parse(endpointURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return nil, fmt.Errorf("%w: webhook endpoint URL %q: want an absolute https URL such as https://shop.example/gateways/stripe/notification",
			ErrInvalidRequest, redact.Limit(redact.Text(endpointURL), 100))
	case u.Scheme != "https" && g.livemode():
		return nil, fmt.Errorf("%w: webhook endpoint URL %q: live-mode endpoints must use https",
			ErrInvalidRequest, redact.Limit(redact.Text(endpointURL), 100))
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
		return nil, wrapAPIError(op, err)
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
		return ep, &APIError{Op: op, Kind: ErrStripeAPI, Err: fmt.Errorf("the API created endpoint %s but returned no signing secret; roll the endpoint's secret in the dashboard (Developers > Webhooks) and configure it", we.ID)}
	}
	g.logger.Info("stripegateway: webhook endpoint registered", "endpoint", ep)
	return ep, nil
}
