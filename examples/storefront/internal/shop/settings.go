package shop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/b27de697/stripegateway"
)

// The admin's "Settings > Store Settings > Stripe" page: every Config
// field, each with its Validate message beside it, a "Test connection"
// button (CheckCredentials), a "Check webhook endpoint" button
// (CheckWebhookEndpoint, for the store's own webhook URL) and "Save",
// which swaps the live Gateway.

// settingsView is what the settings page shows.
type settingsView struct {
	// Values are the form's values. Secrets are never written back into
	// the page: their inputs are empty, and Placeholders say what is kept.
	Values       map[string]string
	Placeholders map[string]string
	Errors       map[string]string
	Connection   *connectionResult
	Endpoint     *endpointResult
	EndpointURL  string
	SimPage      string
	Saved        bool
	Offline      bool
	SimSecret    string
	Version      int64
	Since        time.Time
}

type connectionResult struct {
	OK      bool
	Message string
}

// endpointResult is CheckWebhookEndpoint's report, field by field.
type endpointResult struct {
	OK      bool
	Message string
	Fields  []endpointField
}

type endpointField struct {
	Field   string // "URL", "Status", "APIVersion", "EnabledEvents"
	Label   string
	Message string
}

// endpointLabels are the admin's words for CheckWebhookEndpoint's fields.
var endpointLabels = map[string]string{
	"WebhookEndpoint.URL":           "Endpoint URL",
	"WebhookEndpoint.Status":        "Status",
	"WebhookEndpoint.APIVersion":    "API version",
	"WebhookEndpoint.EnabledEvents": "Events",
}

// redact shows a key as the library prints a stripegateway.Secret: its
// prefix and last four characters, "sk_test_…abcd".
func redact(s stripegateway.Secret) string { return fmt.Sprint(s) }

func redactList(ss []stripegateway.Secret) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = redact(s)
	}
	return strings.Join(out, ", ")
}

func (a *App) settingsView(cfg stripegateway.Config) *settingsView {
	st := a.current.Load()
	live := st.gw.Config()
	v := &settingsView{
		Values: map[string]string{
			"DisplayName":    cfg.DisplayName,
			"MinimumAmount":  cfg.MinimumAmount.String(),
			"Status":         string(cfg.Status),
			"Mode":           string(cfg.Mode),
			"PublishableKey": string(cfg.PublishableKey),
		},
		Placeholders: map[string]string{
			"SecretKey":              "unchanged: " + redact(live.SecretKey),
			"WebhookSecret":          "unchanged: " + redact(live.WebhookSecret),
			"PreviousWebhookSecrets": "none",
		},
		Errors:      map[string]string{},
		EndpointURL: a.base + WebhookPath,
		SimPage:     strings.TrimRight(a.opts.SimulatorPath, "/") + "/#webhook-endpoint",
		Offline:     a.opts.Simulator != nil,
		Version:     st.version,
		Since:       st.since,
	}
	if live.WebhookSecret == "" {
		v.Placeholders["WebhookSecret"] = "whsec_…"
	}
	if len(live.PreviousWebhookSecrets) > 0 {
		v.Placeholders["PreviousWebhookSecrets"] = "unchanged: " + redactList(live.PreviousWebhookSecrets)
	}
	if s := a.opts.SimulatorWebhookSecret; s != "" {
		v.SimSecret = redact(stripegateway.Secret(s))
	}
	return v
}

func (a *App) handleSettings(w http.ResponseWriter, r *http.Request) {
	v := a.settingsView(a.Gateway().Config())
	v.Saved = r.URL.Query().Get("saved") == "1"
	a.render(w, r, http.StatusOK, "settings", "Stripe settings", v)
}

// handleSettingsPost validates the form, then tests the connection with
// it (action=test) or makes it live (action=save).
func (a *App) handleSettingsPost(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "cross-site form post refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	cfg, fieldErrs := a.configFromForm(r)
	cfg = cfg.Normalize()
	v := a.settingsView(cfg)
	for f, msg := range fieldErrs {
		v.Errors[f] = msg
	}
	var ce *stripegateway.ConfigError
	if err := cfg.Validate(); errors.As(err, &ce) {
		for _, fe := range ce.Fields {
			if _, seen := v.Errors[fe.Field]; !seen {
				v.Errors[fe.Field] = fe.Message
			}
		}
	}
	// Say what was typed into a secret field, redacted, when it is not
	// saved: the page never carries a secret back.
	for _, f := range []string{"SecretKey", "WebhookSecret"} {
		if typed := strings.TrimSpace(r.PostForm.Get(f)); typed != "" && (len(v.Errors) > 0 || r.PostForm.Get("action") != "save") {
			v.Placeholders[f] = "not saved: " + redact(stripegateway.Secret(typed)) + " (enter it again)"
		}
	}
	if len(v.Errors) > 0 {
		a.render(w, r, http.StatusUnprocessableEntity, "settings", "Stripe settings", v)
		return
	}

	switch r.PostForm.Get("action") {
	case "test":
		v.Connection = a.testConnection(r.Context(), cfg)
		a.render(w, r, http.StatusOK, "settings", "Stripe settings", v)
	case "endpoint":
		v.Endpoint = a.checkEndpoint(r.Context(), cfg)
		a.render(w, r, http.StatusOK, "settings", "Stripe settings", v)
	case "save":
		if err := a.Configure(cfg); err != nil {
			v.Errors["form"] = err.Error()
			a.render(w, r, http.StatusUnprocessableEntity, "settings", "Stripe settings", v)
			return
		}
		http.Redirect(w, r, "/admin/settings?saved=1", http.StatusSeeOther)
	default:
		http.Error(w, "unknown action", http.StatusBadRequest)
	}
}

// configFromForm reads the form over the live Config: an empty secret
// field keeps the live secret.
func (a *App) configFromForm(r *http.Request) (stripegateway.Config, map[string]string) {
	cfg := a.Gateway().Config()
	errs := map[string]string{}
	f := r.PostForm
	cfg.DisplayName = f.Get("DisplayName")
	if s := strings.TrimSpace(f.Get("MinimumAmount")); s == "" {
		cfg.MinimumAmount = decimal.Zero
	} else if d, err := decimal.NewFromString(s); err != nil {
		errs["MinimumAmount"] = "is not a number: enter an amount such as 1.00, or 0 for no store minimum"
	} else {
		cfg.MinimumAmount = d
	}
	cfg.Status = stripegateway.Status(f.Get("Status"))
	cfg.Mode = stripegateway.Mode(f.Get("Mode"))
	cfg.PublishableKey = stripegateway.Secret(f.Get("PublishableKey"))
	if s := f.Get("SecretKey"); strings.TrimSpace(s) != "" {
		cfg.SecretKey = stripegateway.Secret(s)
	}
	if s := f.Get("WebhookSecret"); strings.TrimSpace(s) != "" {
		cfg.WebhookSecret = stripegateway.Secret(s)
	}
	switch prev := strings.TrimSpace(f.Get("PreviousWebhookSecrets")); {
	case f.Get("ClearPrevious") == "on":
		cfg.PreviousWebhookSecrets = nil
	case prev != "":
		cfg.PreviousWebhookSecrets = toSecrets(strings.FieldsFunc(prev, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' }))
	}
	return cfg, errs
}

// testConnection builds a Gateway from the form, without making it live,
// and calls CheckCredentials.
func (a *App) testConnection(ctx context.Context, cfg stripegateway.Config) *connectionResult {
	gw, err := a.newGateway(cfg)
	if err != nil {
		return &connectionResult{Message: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := gw.CheckCredentials(ctx); err != nil {
		return &connectionResult{Message: err.Error()}
	}
	return &connectionResult{OK: true, Message: "Connected to Stripe in " + string(gw.Config().Mode) + " mode. Save to make these settings live."}
}

// checkEndpoint builds a Gateway from the form, without making it live,
// and asks Stripe whether a webhook endpoint sends this store's events
// (CheckWebhookEndpoint on the store's own webhook URL).
func (a *App) checkEndpoint(ctx context.Context, cfg stripegateway.Config) *endpointResult {
	gw, err := a.newGateway(cfg)
	if err != nil {
		return &endpointResult{Message: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	endpoint := a.base + WebhookPath
	err = gw.CheckWebhookEndpoint(ctx, endpoint)
	var ce *stripegateway.ConfigError
	switch {
	case err == nil:
		return &endpointResult{OK: true, Message: "Stripe sends this store's events to " + endpoint + ": the endpoint is enabled, at an API version the store reads, with every event it needs."}
	case errors.As(err, &ce):
		res := &endpointResult{Message: "The webhook endpoint for " + endpoint + " needs fixing in Stripe's Dashboard (Developers > Webhooks): until then, payments may never reach the store."}
		for _, fe := range ce.Fields {
			label, ok := endpointLabels[fe.Field]
			if !ok {
				label = fe.Field
			}
			res.Fields = append(res.Fields, endpointField{Field: strings.TrimPrefix(fe.Field, "WebhookEndpoint."), Label: label, Message: fe.Message})
		}
		return res
	}
	return &endpointResult{Message: "The webhook endpoints could not be checked: " + err.Error()}
}
