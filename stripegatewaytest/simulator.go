package stripegatewaytest

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// This file is the Simulator itself: its configuration, its construction
// and its routing. The simulated hosted checkout is a Stripe API front for
// stripe-mock that remembers the Checkout Sessions it saw created
// (sessions.go, api_sessions.go, api_intents.go, proxy.go), and the payment
// page Stripe would host for them (cards.go, simulator_page.go), which sends
// the webhook events (delivery.go).

// SimulatorConfig configures a Simulator. UpstreamURL, PublicURL,
// WebhookURL and WebhookSecret are required.
type SimulatorConfig struct {
	// UpstreamURL is stripe-mock's base URL, e.g. http://127.0.0.1:12111.
	// Every API request is forwarded there first, so that it is validated
	// against Stripe's OpenAPI specification.
	UpstreamURL string

	// PublicURL is the absolute URL the Simulator is mounted at, as both
	// the customer's browser and the Gateway reach it, for example
	// http://localhost:8080/stripe-sim. Its path is the prefix the
	// Simulator serves under: mount it with
	// mux.Handle("/stripe-sim/", sim). Build the Gateway with
	// stripegateway.WithAPIURL(sim.APIURL()).
	PublicURL string

	// WebhookURL is the host's webhook endpoint, e.g.
	// http://localhost:8080/gateways/stripe/notification. The events of
	// each payment are POSTed there, signed, as Stripe would.
	WebhookURL string

	// WebhookSecret is the endpoint's signing secret (whsec_…): the
	// Gateway's Config.WebhookSecret.
	WebhookSecret string

	// BusinessName is shown on the payment page; "Test store" if empty.
	BusinessName string

	// HTTPClient makes the requests to stripe-mock and the webhook
	// deliveries; a client with a 30 s timeout if nil.
	HTTPClient *http.Client

	// Logger receives a line per webhook delivery; nothing is logged if
	// nil.
	Logger *slog.Logger

	// Now is the clock, for tests; time.Now if nil.
	Now func() time.Time
}

// Simulator stands in for Stripe's API and its hosted Checkout page in
// development and tests, in front of stripe-mock. It is an http.Handler
// serving, under the path of SimulatorConfig.PublicURL:
//
//   - /v1/…: Stripe's API. Every request is forwarded to stripe-mock,
//     which validates it against the real API specification and whose
//     errors are passed back unchanged. stripe-mock is stateless, so the
//     Simulator keeps the state of what was really created:
//     POST /v1/checkout/sessions records the session (order ID, metadata,
//     lines, currency, amounts, mode, capture method, success and cancel
//     URLs) and answers with it, with its own unique ID and a URL on the
//     Simulator's payment page; GET /v1/checkout/sessions/{id} (with
//     expand[]=payment_intent) and GET /v1/payment_intents/{id} answer
//     with the recorded state; POST …/sessions/{id}/expire and
//     …/payment_intents/{id}/capture and /cancel change it. A POST with an
//     Idempotency-Key seen before is answered with the first response and
//     Idempotent-Replayed: true, as Stripe does. GET /v1/webhook_endpoints
//     (and …/{id}) lists one endpoint, the webhook URL's: enabled, pinned
//     to 2023-10-16 and sending stripegateway.EventTypes(), unless
//     SetWebhookEndpointFaults misconfigures it (endpoints.go).
//     GET /v1/events (and …/{id}) lists every event the Simulator
//     produced, delivered or not, newest first, as Stripe's Events API
//     does: filtered by types[], created, delivery_success and the key's
//     mode, paged with limit, starting_after and ending_before
//     (api_events.go), so that stripegateway's RecoverEvents fetches back
//     what the webhook endpoint missed. Anything else is stripe-mock's
//     answer.
//   - /c/pay/{session ID}: the payment page, which shows the order's lines
//     and total and takes the test cards CardSucceeds, CardDeclined,
//     CardInsufficientFunds, CardExpired, CardIncorrectCVC and
//     CardThreeDSecure (and a few more of Stripe's test cards). Like
//     Stripe's card form, it first refuses, beside the field and with
//     Stripe's message, an incomplete or invalid card number, an expiry
//     that is incomplete, impossible or in the past, a security code of
//     the wrong length and an empty name, keeping what was typed and
//     sending nothing. A form posted without the cardExpiry, cardCvc and
//     billingName fields at all (a test posting only cardNumber) takes
//     the valid values the page starts with. On each
//     result it builds the events Stripe sends with this package's
//     builders (checkout.session.completed with the real session ID,
//     order ID, amount and currency, and payment_intent.succeeded; or
//     payment_intent.payment_failed), signs them with the webhook secret,
//     POSTs them to the webhook URL, and then sends the browser to the
//     success URL. A declined card, like on Stripe's page, shows the
//     decline message and leaves the session open for another card; the
//     page links back to the cancel URL. A subscription's first invoice is
//     reported too (invoice.paid and invoice.payment_succeeded, billing
//     reason subscription_create). While SetEndpointUnreachable is on,
//     every delivery fails, as to a store that is down; the events are
//     still recorded for GET /v1/events.
//   - /: an overview of the sessions and webhook deliveries, with a button
//     for each thing that happens after a payment (Renew, FailRenewal,
//     Refund, FailRefund, OpenDispute, CloseDispute: renewals.go), a
//     button that makes the webhook endpoint unreachable (and reachable
//     again), and a form that misconfigures the listed webhook endpoint.
//
// It simulates test mode: nothing is charged and no network beyond
// stripe-mock and the webhook URL is used. Sessions live in memory. It is
// safe for concurrent use. Call Close when done, to wait for webhook
// deliveries started by API calls.
type Simulator struct {
	cfg      SimulatorConfig
	upstream string
	public   string
	prefix   string
	client   *http.Client
	logger   *slog.Logger
	now      func() time.Time
	business string
	handler  http.Handler

	mu          sync.Mutex
	sessions    map[string]*simSession
	order       []string // session IDs, oldest first
	intents     map[string]*simIntent
	idempotency map[string]*idemEntry
	deliveries  []WebhookDelivery
	events      []*simEvent          // every event produced, oldest first (api_events.go)
	eventIndex  map[string]*simEvent // by ID
	unreachable bool                 // SetEndpointUnreachable
	closed      bool
	wg          sync.WaitGroup

	// The webhook endpoint the API lists (endpoints.go).
	endpointID      string
	endpointCreated time.Time
	faults          WebhookEndpointFaults
}

// NewSimulator checks cfg and returns a Simulator.
func NewSimulator(cfg SimulatorConfig) (*Simulator, error) {
	var problems []string
	upstream, err := absoluteURL(cfg.UpstreamURL)
	if err != nil {
		problems = append(problems, "UpstreamURL "+err.Error())
	}
	public, err := absoluteURL(cfg.PublicURL)
	if err != nil {
		problems = append(problems, "PublicURL "+err.Error())
	}
	if _, err := absoluteURL(cfg.WebhookURL); err != nil {
		problems = append(problems, "WebhookURL "+err.Error())
	}
	if !strings.HasPrefix(cfg.WebhookSecret, "whsec_") {
		problems = append(problems, "WebhookSecret must be the endpoint's signing secret, whsec_…")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("stripegatewaytest: NewSimulator: %s", strings.Join(problems, "; "))
	}
	s := &Simulator{
		cfg:         cfg,
		upstream:    upstream,
		public:      public,
		client:      cfg.HTTPClient,
		logger:      cfg.Logger,
		now:         cfg.Now,
		business:    cfg.BusinessName,
		sessions:    make(map[string]*simSession),
		intents:     make(map[string]*simIntent),
		idempotency: make(map[string]*idemEntry),
		eventIndex:  make(map[string]*simEvent),
		endpointID:  "we_1" + randomID(24),
	}
	u, _ := url.Parse(public)
	s.prefix = strings.TrimRight(u.Path, "/")
	if s.client == nil {
		s.client = &http.Client{Timeout: 30 * time.Second}
	}
	if s.logger == nil {
		s.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.business == "" {
		s.business = "Test store"
	}
	s.endpointCreated = s.now()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/checkout/sessions", s.apiCreateSession)
	mux.HandleFunc("GET /v1/checkout/sessions/{id}", s.apiGetSession)
	mux.HandleFunc("POST /v1/checkout/sessions/{id}/expire", s.apiExpireSession)
	mux.HandleFunc("GET /v1/payment_intents/{id}", s.apiGetIntent)
	mux.HandleFunc("POST /v1/payment_intents/{id}/capture", s.apiCaptureIntent)
	mux.HandleFunc("POST /v1/payment_intents/{id}/cancel", s.apiCancelIntent)
	mux.HandleFunc("GET /v1/webhook_endpoints", s.apiListEndpoints)
	mux.HandleFunc("GET /v1/webhook_endpoints/{id}", s.apiGetEndpoint)
	mux.HandleFunc("GET /v1/events", s.apiListEvents)
	mux.HandleFunc("GET /v1/events/{id}", s.apiGetEvent)
	mux.HandleFunc("/v1/", s.apiPassThrough)
	mux.HandleFunc("GET /c/pay/{id}", s.pageCheckout)
	mux.HandleFunc("POST /c/pay/{id}", s.pagePay)
	mux.HandleFunc("POST /c/pay/{id}/authenticate", s.pageAuthenticate)
	mux.HandleFunc("GET /{$}", s.pageIndex)
	mux.HandleFunc("POST /webhook-endpoint", s.pageEndpointFaults)
	mux.HandleFunc("POST /webhook-endpoint/reachability", s.pageEndpointReachability)
	mux.HandleFunc("POST /sessions/{id}/{action}", s.pageSessionAction)
	s.handler = mux
	return s, nil
}

func absoluteURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("must be an absolute http(s) URL (got %q)", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// ServeHTTP implements http.Handler. Requests outside the path of
// SimulatorConfig.PublicURL are answered 404.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if s.prefix != "" {
		if p != s.prefix && !strings.HasPrefix(p, s.prefix+"/") {
			http.NotFound(w, r)
			return
		}
		p = strings.TrimPrefix(p, s.prefix)
		if p == "" {
			http.Redirect(w, r, s.prefix+"/", http.StatusFound)
			return
		}
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = p
	r2.URL.RawPath = ""
	s.handler.ServeHTTP(w, r2)
}

// APIURL is the base URL to give the Gateway: stripegateway.WithAPIURL(sim.APIURL()).
func (s *Simulator) APIURL() string { return s.public }

// CheckoutURL is the payment page of a session.
func (s *Simulator) CheckoutURL(sessionID string) string {
	return s.public + "/c/pay/" + url.PathEscape(sessionID)
}

// Close waits for the webhook deliveries started by API calls (an expired
// session, a capture, a cancellation). Afterwards such calls still change
// the state but send no events; GET /v1/events still lists them.
// Deliveries of the payment page are made before it answers, so there are
// none to wait for.
func (s *Simulator) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}
