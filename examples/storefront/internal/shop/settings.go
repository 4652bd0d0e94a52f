package shop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
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
	// Fields are the form's fields, in order, each with its value (never
	// a secret's: a secret field is empty, and its placeholder says what
	// is kept), its message if it was refused, and its help.
	Fields []*settingsField
	// Problems are the messages of the refused fields, for the summary at
	// the top, in the form's order; FormError is a problem of no field.
	Problems    []settingsProblem
	FormError   string
	Connection  *connectionResult
	Endpoint    *endpointResult
	EndpointURL string
	SimPage     string
	Saved       bool
	Offline     bool
	SimSecret   string
	Version     int64
	Since       time.Time
	// CSRF is the session's token, for the form.
	CSRF string
}

// settingsField is one field of the settings form.
type settingsField struct {
	ID, Label   string
	Kind        string // "text", "select", "secret", "secrets" (a textarea)
	Value       string
	Placeholder string
	Help        string
	Options     []settingsOption
	// Error is the field's message, a whole sentence; First marks the
	// first field in error, which gets the focus.
	Error string
	First bool
	// Kept is a secret typed into the field and not saved, redacted: it
	// is kept for the admin's session, and an empty field uses it.
	Kept     string
	KeptNoun string // "key", "secret", "secrets"
	Style    string
}

type settingsOption struct {
	Value, Label string
	Selected     bool
}

// DescribedBy is the field's aria-describedby: its message, what is
// kept, its help.
func (f *settingsField) DescribedBy() string {
	var ids []string
	if f.Error != "" {
		ids = append(ids, f.ID+"-error")
	}
	if f.Kept != "" {
		ids = append(ids, f.ID+"-kept")
	}
	if f.Help != "" {
		ids = append(ids, f.ID+"-help")
	}
	return strings.Join(ids, " ")
}

type settingsProblem struct{ Field, Message string }

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

// settingsFields are the Config fields the form edits, in its order, with
// the labels the admin reads: the library's FieldError.Field is the Go
// name, which the page never shows.
var settingsFields = []struct{ Field, Label string }{
	{"DisplayName", "Display name"},
	{"MinimumAmount", "Minimum amount"},
	{"Status", "Status"},
	{"Mode", "Mode"},
	{"PublishableKey", "Publishable key"},
	{"SecretKey", "Secret key"},
	{"WebhookSecret", "Webhook signing secret"},
	{"PreviousWebhookSecrets", "Previous webhook secrets"},
}

// secretFields are the fields whose values the page never shows.
var secretFields = []string{"SecretKey", "WebhookSecret", "PreviousWebhookSecrets"}

func fieldLabel(field string) string {
	for _, f := range settingsFields {
		if f.Field == field {
			return f.Label
		}
	}
	return field
}

var (
	// goNames finds the Go field names the library's messages mention
	// ("put it in SecretKey", `but Mode is "test"`).
	goNames = func() *regexp.Regexp {
		names := make([]string, len(settingsFields))
		for i, f := range settingsFields {
			names[i] = f.Field
		}
		return regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b`)
	}()
	entryRE   = regexp.MustCompile(`^entry (\d+) `)
	unknownRE = regexp.MustCompile(`^unknown \w+ `)
)

// adminSentence turns a library message about a Config field, which
// starts mid-sentence after the field's Go name ("is a live-mode key …
// put it in SecretKey"), into a whole sentence in the admin's words:
// "Secret key is a live-mode key … put it in the Secret key field."
func adminSentence(field, msg string) string {
	msg = strings.TrimSpace(msg)
	msg = strings.ReplaceAll(msg, " (Config.Normalize trims it)", "")
	label := fieldLabel(field)
	if m := entryRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		msg = "(line " + strconv.Itoa(n+1) + ") " + msg[len(m[0]):]
	}
	if loc := unknownRE.FindStringIndex(msg); loc != nil {
		msg = "has an unknown value " + msg[loc[1]:]
	}
	msg = goNames.ReplaceAllStringFunc(msg, func(name string) string {
		return "the " + fieldLabel(name) + " field"
	})
	s := label + " " + msg
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
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

// settingsView builds the page for cfg; kept are the secrets typed and not
// saved (by field), errs the refused fields' messages, and typed the form
// as posted (nil for a fresh page): a refused value stays in its field as
// it was typed.
func (a *App) settingsView(cfg stripegateway.Config, typed url.Values, kept, errs map[string]string) *settingsView {
	st := a.current.Load()
	live := st.gw.Config()
	v := &settingsView{
		EndpointURL: a.base + WebhookPath,
		SimPage:     strings.TrimRight(a.opts.SimulatorPath, "/") + "/#webhook-endpoint",
		Offline:     a.opts.Simulator != nil,
		Version:     st.version,
		Since:       st.since,
		FormError:   errs["form"],
	}
	if s := a.opts.SimulatorWebhookSecret; s != "" {
		v.SimSecret = redact(stripegateway.Secret(s))
	}
	opt := func(cur string, vals ...string) []settingsOption {
		var out []settingsOption
		for i := 0; i+1 < len(vals); i += 2 {
			out = append(out, settingsOption{Value: vals[i], Label: vals[i+1], Selected: cur == vals[i]})
		}
		return out
	}
	webhookPlaceholder := "unchanged: " + redact(live.WebhookSecret)
	if live.WebhookSecret == "" {
		webhookPlaceholder = "whsec_…"
	}
	previousPlaceholder := "none"
	if len(live.PreviousWebhookSecrets) > 0 {
		previousPlaceholder = "unchanged: " + redactList(live.PreviousWebhookSecrets)
	}
	v.Fields = []*settingsField{
		{ID: "DisplayName", Kind: "text", Value: cfg.DisplayName, Help: `What customers see as the payment method, e.g. "Credit Card".`},
		{ID: "MinimumAmount", Kind: "text", Value: cfg.MinimumAmount.String(), Style: "max-width:12em", Help: "Smallest order total, in the order's currency; 0 for none."},
		{ID: "Status", Kind: "select", Options: opt(string(cfg.Status), "active", "Active", "inactive", "Inactive"), Help: "Inactive switches card payments off: the shop's Buy buttons are disabled and tell customers so."},
		{ID: "Mode", Kind: "select", Options: opt(string(cfg.Mode), "test", "Test", "live", "Live"), Help: "Test mode takes Stripe's test cards only; live mode charges real cards. Both keys must be of this mode."},
		{ID: "PublishableKey", Kind: "text", Value: string(cfg.PublishableKey), Placeholder: "pk_test_…", Help: "pk_test_… or pk_live_…, from Developers > API keys in the Stripe Dashboard."},
		{ID: "SecretKey", Kind: "secret", KeptNoun: "key", Placeholder: "unchanged: " + redact(live.SecretKey), Help: "sk_… or a restricted rk_… key. Never shown again once saved; leave the field empty to keep the current one."},
		{ID: "WebhookSecret", Kind: "secret", KeptNoun: "secret", Placeholder: webhookPlaceholder, Help: "whsec_… of the endpoint /gateways/stripe/notification. Leave the field empty to keep the current one."},
		{ID: "PreviousWebhookSecrets", Kind: "secrets", KeptNoun: "secrets", Placeholder: previousPlaceholder, Help: "Still accepted while a secret is rolled; one per line. Leave the field empty to keep them."},
	}
	first := true
	for _, f := range v.Fields {
		f.Label = fieldLabel(f.ID)
		if f.Kind == "text" && typed != nil && errs[f.ID] != "" {
			f.Value = typed.Get(f.ID)
		}
		if k := kept[f.ID]; k != "" {
			f.Kept = redactList(toSecrets(splitList(k)))
			f.Placeholder = "kept, not saved: " + f.Kept
		}
		if msg := errs[f.ID]; msg != "" {
			f.Error = msg
			f.First = first
			first = false
			v.Problems = append(v.Problems, settingsProblem{Field: f.ID, Message: msg})
		}
	}
	return v
}

// splitList splits the previous secrets' textarea: one per line (commas
// and spaces separate too).
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' || r == '\t' })
}

func (a *App) handleSettings(w http.ResponseWriter, r *http.Request, s *adminSession) {
	a.guard.setDrafts(s, nil) // a fresh page starts from the live settings
	v := a.settingsView(a.Gateway().Config(), nil, nil, nil)
	v.Saved = r.URL.Query().Get("saved") == "1"
	a.render(w, r, http.StatusOK, "settings", "Stripe settings", v)
}

// handleSettingsPost validates the form, then tests the connection with
// it (action=test), checks the webhook endpoint (action=endpoint) or makes
// it live (action=save). It runs behind the admin login and its CSRF
// token (App.admin), which parsed the form.
//
// A secret typed into the form and not saved (refused, or only tested) is
// kept in the admin's session and shown redacted; the field stays empty
// (the page never carries a secret), and submitting it empty uses the kept
// one again, so that the admin need not paste it twice.
func (a *App) handleSettingsPost(w http.ResponseWriter, r *http.Request, s *adminSession) {
	action := r.PostForm.Get("action")
	switch action {
	case "save", "test", "endpoint":
	default:
		http.Error(w, "unknown action", http.StatusBadRequest)
		return
	}
	typed := map[string]string{}
	for _, f := range secretFields {
		v := strings.TrimSpace(r.PostForm.Get(f))
		if v == "" && r.PostForm.Get("keep-"+f) == "1" {
			v = a.guard.draft(s, f)
		}
		if v != "" {
			typed[f] = v
		}
	}
	cfg, errs := a.configFromForm(r.PostForm, typed)
	cfg = cfg.Normalize()
	var ce *stripegateway.ConfigError
	if err := cfg.Validate(); errors.As(err, &ce) {
		for _, fe := range ce.Fields {
			if _, seen := errs[fe.Field]; !seen {
				errs[fe.Field] = adminSentence(fe.Field, fe.Message)
			}
		}
	}
	if len(errs) == 0 && action == "save" {
		if err := a.Configure(cfg); err != nil {
			errs["form"] = "The settings could not be made live: " + err.Error()
		} else {
			a.guard.setDrafts(s, nil)
			http.Redirect(w, r, "/admin/settings?saved=1", http.StatusSeeOther)
			return
		}
	}
	a.guard.setDrafts(s, typed)
	v := a.settingsView(cfg, r.PostForm, typed, errs)
	if len(errs) > 0 {
		a.render(w, r, http.StatusUnprocessableEntity, "settings", "Stripe settings", v)
		return
	}
	switch action {
	case "test":
		v.Connection = a.testConnection(r.Context(), cfg)
	case "endpoint":
		v.Endpoint = a.checkEndpoint(r.Context(), cfg)
	}
	a.render(w, r, http.StatusOK, "settings", "Stripe settings", v)
}

// configFromForm reads the form over the live Config: an empty secret
// field keeps the live secret; typed are the secrets typed (or kept from
// the last try). It returns the fields it could not read, with their
// messages.
func (a *App) configFromForm(f url.Values, typed map[string]string) (stripegateway.Config, map[string]string) {
	cfg := a.Gateway().Config()
	errs := map[string]string{}
	cfg.DisplayName = f.Get("DisplayName")
	if s := strings.TrimSpace(f.Get("MinimumAmount")); s == "" {
		cfg.MinimumAmount = decimal.Zero
	} else if d, err := decimal.NewFromString(s); err != nil {
		errs["MinimumAmount"] = "Minimum amount is not a number: enter an amount such as 1.00, or 0 for no store minimum."
	} else {
		cfg.MinimumAmount = d
	}
	cfg.Status = stripegateway.Status(f.Get("Status"))
	cfg.Mode = stripegateway.Mode(f.Get("Mode"))
	cfg.PublishableKey = stripegateway.Secret(f.Get("PublishableKey"))
	if s := typed["SecretKey"]; s != "" {
		cfg.SecretKey = stripegateway.Secret(s)
	}
	if s := typed["WebhookSecret"]; s != "" {
		cfg.WebhookSecret = stripegateway.Secret(s)
	}
	switch prev := typed["PreviousWebhookSecrets"]; {
	case f.Get("ClearPrevious") == "on":
		cfg.PreviousWebhookSecrets = nil
	case prev != "":
		cfg.PreviousWebhookSecrets = toSecrets(splitList(prev))
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
