package stripegatewaytest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
)

// This file serves the account's webhook endpoints: the one endpoint the
// Simulator delivers to, as GET /v1/webhook_endpoints lists it, and the
// faults that misconfigure that listing, so that a host can see what
// stripegateway's CheckWebhookEndpoint reports offline.

// WebhookEndpointFaults misconfigure the webhook endpoint the Simulator's
// API lists (GET /v1/webhook_endpoints). The zero value is a correct
// endpoint. They change only what the API says: deliveries go on to
// SimulatorConfig.WebhookURL as before, so that the store keeps working
// while its admin reads the report.
type WebhookEndpointFaults struct {
	// Disabled lists the endpoint with status "disabled", as Stripe leaves
	// an endpoint whose deliveries failed for days.
	Disabled bool
	// APIVersion is the endpoint's api_version instead of 2023-10-16 (for
	// example "2099-01-01.future", a version stripegateway does not read).
	APIVersion string
	// DropEvents are left out of the endpoint's enabled_events.
	DropEvents []stripe.EventType
	// TrailingSlash adds a slash to the end of the endpoint's URL.
	TrailingSlash bool
	// OtherScheme lists the URL with the other scheme: https for an http
	// WebhookURL, http for an https one.
	OtherScheme bool
}

// SimulatedWebhookEndpoint is the webhook endpoint as the Simulator's API
// lists it, faults included.
type SimulatedWebhookEndpoint struct {
	ID            string
	URL           string
	Status        string // "enabled" or "disabled"
	APIVersion    string
	EnabledEvents []stripe.EventType
	Created       time.Time
}

// SuggestedFaultAPIVersion is an API version no stripegateway release
// reads, offered by the Simulator's page.
const SuggestedFaultAPIVersion = "2099-01-01.future"

// SetWebhookEndpointFaults misconfigures the listed webhook endpoint; the
// zero WebhookEndpointFaults restores it.
func (s *Simulator) SetWebhookEndpointFaults(f WebhookEndpointFaults) {
	f.APIVersion = strings.TrimSpace(f.APIVersion)
	f.DropEvents = slices.Clone(f.DropEvents)
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// WebhookEndpointFaults returns the faults set by SetWebhookEndpointFaults.
func (s *Simulator) WebhookEndpointFaults() WebhookEndpointFaults {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	f.DropEvents = slices.Clone(f.DropEvents)
	return f
}

// WebhookEndpoint returns the webhook endpoint as the API lists it now.
func (s *Simulator) WebhookEndpoint() SimulatedWebhookEndpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endpointLocked()
}

// endpointLocked builds the listed endpoint; s.mu must be held.
func (s *Simulator) endpointLocked() SimulatedWebhookEndpoint {
	f := s.faults
	ep := SimulatedWebhookEndpoint{
		ID:         s.endpointID,
		URL:        s.cfg.WebhookURL,
		Status:     "enabled",
		APIVersion: stripe.APIVersion,
		Created:    s.endpointCreated,
	}
	if f.Disabled {
		ep.Status = "disabled"
	}
	if f.APIVersion != "" {
		ep.APIVersion = f.APIVersion
	}
	for _, t := range stripegateway.EventTypes() {
		if !slices.Contains(f.DropEvents, t) {
			ep.EnabledEvents = append(ep.EnabledEvents, t)
		}
	}
	if u, err := url.Parse(ep.URL); err == nil {
		if f.OtherScheme {
			if u.Scheme == "https" {
				u.Scheme = "http"
			} else {
				u.Scheme = "https"
			}
		}
		if f.TrailingSlash && !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		ep.URL = u.String()
	}
	return ep
}

// renderEndpoint is the endpoint as Stripe's API answers with it (the
// secret is returned only when an endpoint is created).
func renderEndpoint(ep SimulatedWebhookEndpoint, livemode bool) map[string]any {
	events := make([]string, len(ep.EnabledEvents))
	for i, t := range ep.EnabledEvents {
		events[i] = string(t)
	}
	return map[string]any{
		"id":             ep.ID,
		"object":         "webhook_endpoint",
		"api_version":    ep.APIVersion,
		"application":    nil,
		"created":        ep.Created.Unix(),
		"description":    "stripegatewaytest Simulator: the webhook URL it delivers to",
		"enabled_events": events,
		"livemode":       livemode,
		"metadata":       map[string]any{},
		"status":         ep.Status,
		"url":            ep.URL,
	}
}

// apiListEndpoints answers GET /v1/webhook_endpoints with the one
// endpoint, after stripe-mock has checked the request (its key, its
// parameters).
func (s *Simulator) apiListEndpoints(w http.ResponseWriter, r *http.Request) {
	if up, _, _ := s.forwardOK(w, r, nil); up == nil {
		return
	}
	data := []any{}
	// A page after the endpoint is empty, as with Stripe.
	if r.URL.Query().Get("starting_after") == "" {
		data = append(data, renderEndpoint(s.WebhookEndpoint(), livemodeOf(r)))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object":   "list",
		"data":     data,
		"has_more": false,
		"url":      "/v1/webhook_endpoints",
	})
}

// apiGetEndpoint answers GET /v1/webhook_endpoints/{id}.
func (s *Simulator) apiGetEndpoint(w http.ResponseWriter, r *http.Request) {
	if up, _, _ := s.forwardOK(w, r, nil); up == nil {
		return
	}
	ep := s.WebhookEndpoint()
	if id := r.PathValue("id"); id != ep.ID {
		stripeError(w, http.StatusNotFound, "invalid_request_error", "resource_missing", "webhook_endpoint", "No such webhook endpoint: '"+id+"'")
		return
	}
	writeJSON(w, http.StatusOK, renderEndpoint(ep, livemodeOf(r)))
}

// endpointForm is the endpoint's faults form on the overview page.
type endpointForm struct {
	Endpoint   SimulatedWebhookEndpoint
	Faults     WebhookEndpointFaults
	Events     []endpointEvent
	Suggested  string
	Action     string
	AnyFault   bool
	WebhookURL string
}

type endpointEvent struct {
	Type    stripe.EventType
	Enabled bool
}

// endpointFormData is the form's data; s.mu must be held.
func (s *Simulator) endpointFormData() endpointForm {
	f := s.faults
	d := endpointForm{
		Endpoint:   s.endpointLocked(),
		Faults:     f,
		Suggested:  SuggestedFaultAPIVersion,
		Action:     s.prefix + "/webhook-endpoint",
		AnyFault:   f.Disabled || f.APIVersion != "" || len(f.DropEvents) > 0 || f.TrailingSlash || f.OtherScheme,
		WebhookURL: s.cfg.WebhookURL,
	}
	for _, t := range stripegateway.EventTypes() {
		d.Events = append(d.Events, endpointEvent{Type: t, Enabled: !slices.Contains(f.DropEvents, t)})
	}
	return d
}

// pageEndpointFaults takes the overview page's endpoint form: the faults
// to list, or action=reset.
func (s *Simulator) pageEndpointFaults(w http.ResponseWriter, r *http.Request) {
	if !s.formAllowed(w, r) {
		return
	}
	var f WebhookEndpointFaults
	if r.PostForm.Get("action") != "reset" {
		f.Disabled = r.PostForm.Get("disabled") == "on"
		f.TrailingSlash = r.PostForm.Get("trailing_slash") == "on"
		f.OtherScheme = r.PostForm.Get("other_scheme") == "on"
		if v := strings.TrimSpace(r.PostForm.Get("api_version")); v != stripe.APIVersion && len(v) <= 64 {
			f.APIVersion = v
		}
		enabled := r.PostForm["enabled_events"]
		for _, t := range stripegateway.EventTypes() {
			if !slices.Contains(enabled, string(t)) {
				f.DropEvents = append(f.DropEvents, t)
			}
		}
	}
	s.SetWebhookEndpointFaults(f)
	http.Redirect(w, r, s.prefix+"/#webhook-endpoint", http.StatusSeeOther)
}

// formAllowed parses a form posted to the overview page, refusing posts
// from other sites (the page's actions send signed events to the host).
// It answers and returns false when the form is refused.
func (s *Simulator) formAllowed(w http.ResponseWriter, r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		http.Error(w, "cross-site form post refused", http.StatusForbidden)
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			http.Error(w, "cross-site form post refused", http.StatusForbidden)
			return false
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return false
	}
	return true
}

// pageEndpointReachability takes the overview page's button that makes the
// webhook endpoint unreachable (action=down) or reachable again (action=up).
func (s *Simulator) pageEndpointReachability(w http.ResponseWriter, r *http.Request) {
	if !s.formAllowed(w, r) {
		return
	}
	switch r.PostForm.Get("action") {
	case "down":
		s.SetEndpointUnreachable(true)
	case "up":
		s.SetEndpointUnreachable(false)
	default:
		http.Error(w, "unknown action", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, s.prefix+"/#deliveries-heading", http.StatusSeeOther)
}
