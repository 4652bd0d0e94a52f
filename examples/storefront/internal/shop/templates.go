package shop

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"

	"github.com/b27de697/stripegateway"
)

// view is what every page gets: the layout's data and the page's own.
type view struct {
	Title     string
	Refresh   string
	ModeLabel string
	ModeClass string
	Offline   bool
	// SimPath is the simulator's dashboard, linked from the header in
	// offline mode.
	SimPath string
	// Admin is set when an admin is signed in: the header offers to sign
	// out, with CSRF.
	Admin bool
	CSRF  string
	Data  any
}

func (a *App) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	a.renderRefresh(w, r, status, page, title, "", data)
}

func (a *App) renderRefresh(w http.ResponseWriter, r *http.Request, status int, page, title, refresh string, data any) {
	v := view{Title: title, Refresh: refresh, Data: data, Offline: a.opts.Simulator != nil}
	if v.Offline {
		v.SimPath = strings.TrimRight(a.opts.SimulatorPath, "/") + "/"
	}
	switch gw := a.Gateway(); {
	case v.Offline:
		v.ModeLabel, v.ModeClass = "Offline · simulated Stripe", "offline"
	case gw.Config().Mode == stripegateway.ModeLive:
		v.ModeLabel, v.ModeClass = "Live mode", "live"
	default:
		v.ModeLabel, v.ModeClass = "Stripe test mode", "test"
	}
	// Every form of the page carries the CSRF token: the admin session's,
	// or the browser cookie's (set here if the browser has none).
	v.CSRF = a.formToken(w, r)
	v.Admin = a.guard.session(r, a.now()) != nil
	switch d := data.(type) {
	case map[string]any:
		d["CSRF"] = v.CSRF
	case *settingsView:
		d.CSRF = v.CSRF
	}
	t, ok := pages[page]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		a.logger.ErrorContext(r.Context(), "storefront: page failed", "page", page, "error", err)
		http.Error(w, "page failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (a *App) renderError(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	a.render(w, r, status, "error", title, map[string]any{"Title": title, "Message": msg})
}

var pages = func() map[string]*template.Template {
	base := template.Must(template.New("layout").Parse(layoutHTML))
	out := map[string]*template.Template{}
	for name, body := range pageHTML {
		out[name] = template.Must(template.Must(base.Clone()).Parse(body))
	}
	return out
}()

// The pages' colours meet WCAG AA (4.5:1 for text, at least): body text
// #222 and helper text #595959 on #faf8f5 or white, white on the #5249e6
// buttons. Every page fits a 390 px wide phone: the header wraps, the
// catalog is one column, the Orders table stacks its cells.
const layoutHTML = `{{define "layout"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">{{end}}
<title>{{.Title}} · Gopher Goods</title>
<style>
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;background:#faf8f5;overflow-wrap:break-word}
a{color:#0b57d0}
header{display:flex;flex-wrap:wrap;align-items:center;gap:8px 24px;padding:14px 32px;background:#3b2a20;color:#fff}
header a{color:#f3e6d8;text-decoration:none}header a:hover,header a:focus{text-decoration:underline}
.brand{font-weight:700;font-size:18px;color:#fff!important}
nav{display:flex;flex-wrap:wrap;align-items:center;gap:4px 18px;flex:1}
nav form{display:inline;margin:0}
button.linklike{background:none;border:0;padding:0;color:#f3e6d8;font:inherit;font-weight:400;cursor:pointer;text-decoration:underline}
.mode{font-size:12px;padding:3px 10px;border-radius:12px;background:#6b5a4e;color:#fff;white-space:nowrap}
.mode-offline{background:#ffde92;color:#5e4200}.mode-live{background:#c0123c}
main{max-width:1100px;margin:0 auto;padding:28px 32px}
h1{font-size:26px;margin:0 0 18px;line-height:1.25}
h2{font-size:18px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:18px}
.card{background:#fff;border:1px solid #e8e1d9;border-radius:10px;padding:18px;min-width:0}
.card h2{font-size:17px;margin:0 0 6px}
.price{font-size:20px;font-weight:650;margin:10px 0}
.muted{color:#595959;font-size:13px}
.buy{display:flex;flex-wrap:wrap;align-items:center;gap:10px}
button,.button{display:inline-block;padding:9px 16px;border:1px solid #5249e6;border-radius:6px;background:#5249e6;color:#fff;font-family:inherit;font-size:15px;font-weight:600;line-height:1.3;cursor:pointer;text-decoration:none;text-align:center}
button:hover,.button:hover{background:#3f37c9;border-color:#3f37c9}
button.secondary,.button.secondary{background:#fff;color:#3b2a20;border:1px solid #8a7f75}
button.secondary:hover,.button.secondary:hover{background:#f1ece6}
button:disabled,button:disabled:hover{background:#e4e0db;border-color:#e4e0db;color:#4a4a4a;cursor:not-allowed}
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
.actions{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:18px 0}
.actions form{margin:0}
select,input[type=text],input[type=password],textarea{padding:8px 10px;border:1px solid #8a7f75;border-radius:6px;font:inherit;width:100%;max-width:100%;background:#fff;color:#222}
select{width:auto}
.status{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;font-size:14px;background:#eee}
.status-paid{background:#d7f5e3;color:#0e6245}.status-failed,.status-needs_review,.status-disputed,.status-dispute_lost,.status-refund_failed{background:#fdecef;color:#c0123c}
.status-unpaid,.status-pending{background:#fff3cd;color:#7a5b00}
.after{font-size:13px;margin-top:4px}.sub-active{color:#0e6245}.sub-past_due,.warn{color:#c0123c}.sub-ended{color:#555}
ul.checks{margin:6px 0 0;padding-left:20px}ul.checks li{margin:4px 0}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:7px 8px;border-bottom:1px solid #e8e1d9;vertical-align:top}
table.outcomes{font-size:13px;margin-top:6px}
.sid{font-size:12px;color:#595959;max-width:260px;word-break:break-all}
td.nowrap{white-space:nowrap}
code{background:#f1ece6;padding:1px 5px;border-radius:4px;overflow-wrap:break-word}
.field{margin:0 0 18px}.field label{display:block;font-weight:600;margin-bottom:4px}
.field .help{color:#595959;font-size:13px;margin:4px 0 0}
.field-error{color:#c0123c;margin:4px 0 0;font-size:14px;font-weight:600}
.kept{margin:4px 0 0;font-size:13px;color:#222;background:#fff3cd;padding:4px 8px;border-radius:6px}
.field.has-error input,.field.has-error select,.field.has-error textarea{border:2px solid #c0123c}
.check{font-weight:400!important;display:flex!important;gap:6px;align-items:center;margin-top:6px;font-size:14px}
.notice{padding:10px 14px;border-radius:8px;background:#fff3cd;margin:0 0 16px}
.ok{padding:10px 14px;border-radius:8px;background:#d7f5e3;color:#0e6245;margin:0 0 16px}
.error{padding:10px 14px;border-radius:8px;background:#fdecef;color:#a00f33;margin:0 0 16px}
.error-summary{border:2px solid #c0123c}.error-summary h2{font-size:17px;margin:0 0 6px}.error-summary ul{margin:0;padding-left:20px}.error-summary a{color:#a00f33}
.devnote{padding:8px 12px;border-radius:8px;background:#eef2ff;color:#3730a3;font-size:14px;margin:16px 0}
.devnote a{color:#3730a3;font-weight:600}
.summary{font-size:17px}
footer{max-width:1100px;margin:0 auto;padding:20px 32px;color:#595959;font-size:13px}
@media (max-width:640px){
header{padding:10px 16px;gap:6px 14px}
header .mode{margin-left:auto}
nav{order:3;flex-basis:100%;gap:4px 16px}
main{padding:18px 16px}
footer{padding:16px}
h1{font-size:22px}
.grid{grid-template-columns:1fr}
table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:auto}
table.stack tr:first-child{display:none}
table.stack td{border:0;padding:2px 0}
table.stack td[data-label]::before{content:attr(data-label) ": ";font-weight:600;color:#595959}
table.stack tr{border-bottom:1px solid #e8e1d9;padding:8px 0}
table.stack td.nowrap{white-space:normal}
table.stack tr.outcomes-row{border-bottom:2px solid #d6cdc3;padding-top:0}
table.outcomes tr.outcome{padding:6px 0}
code{overflow-wrap:anywhere}.sid{max-width:none}
}
</style></head>
<body><header><a class="brand" href="/">☕ Gopher Goods</a>
<nav aria-label="Store"><a href="/">Shop</a><a href="/admin/orders">Orders</a><a href="/admin/settings">Stripe settings</a>{{if .Offline}}<a href="{{.SimPath}}" id="sim-link">Simulated Stripe</a>{{end}}{{if .Admin}}<form method="post" action="/admin/logout"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit" class="linklike" id="logout">Sign out</button></form>{{end}}</nav>
<span class="mode mode-{{.ModeClass}}" id="mode">{{.ModeLabel}}</span></header>
<main>{{template "content" .Data}}</main>
<footer>An example store for github.com/b27de697/stripegateway.{{if .Offline}} Offline mode: Stripe's API is stripe-mock behind a simulated hosted checkout; no card is charged.{{end}}</footer>
</body></html>{{end}}
{{define "lines"}}<table><tr><th scope="col">Item</th><th scope="col">Qty</th><th scope="col">Price</th><th scope="col">Total</th></tr>
{{range .Lines}}<tr><td>{{.Name}}</td><td>{{.Quantity}}</td><td>{{.UnitText}}</td><td>{{.TotalText}}</td></tr>{{end}}
<tr><th colspan="3" scope="row">Total</th><th id="order-total">{{.TotalText}} {{.Every}}</th></tr></table>{{end}}
{{define "webhooks"}}{{with .}}<p class="devnote" id="webhook-line">Simulated payment · <span id="webhook-text">{{.Text}}</span> <a href="{{.Link}}" aria-label="View the webhook deliveries on the simulated Stripe dashboard">→ view</a></p>{{end}}{{end}}`

var pageHTML = map[string]string{
	"catalog": `{{define "content"}}<h1>Shop</h1>
{{if not .Enabled}}<p class="notice" id="disabled">Card payments are not available at the moment, so orders cannot be placed right now. Please come back a little later.{{if .Admin}} <strong>Admin:</strong> payments are switched off (Status inactive) in <a href="/admin/settings">Stripe settings</a>.{{end}}</p>{{end}}
<div class="grid">{{range .Products}}
<div class="card" id="product-{{.ID}}"><h2>{{.Name}}</h2><p class="muted">{{.Description}}</p>
<p class="price">{{.PriceText}} {{if .Every}}<span class="muted">{{.Every}}</span>{{end}}</p>
<form method="post" action="/checkout" class="buy"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="product" value="{{.ID}}">
{{if not .Interval}}<label for="qty-{{.ID}}" class="muted">Qty</label> <select name="quantity" id="qty-{{.ID}}">{{range $.Quantities}}<option>{{.}}</option>{{end}}</select>{{end}}
<button type="submit" id="buy-{{.ID}}" aria-label="{{.Action}}"{{if not $.Enabled}} disabled aria-describedby="disabled"{{end}}>{{if .Interval}}Subscribe{{else}}Buy{{end}} with {{$.DisplayName}}</button>
{{if not $.Enabled}}<span class="muted unavailable">Not available right now: card payments are paused.</span>{{end}}</form></div>
{{end}}</div>{{end}}`,

	"success": `{{define "content"}}<h1>{{.Heading}}</h1>
{{if eq .Order.Status "paid"}}<p class="ok summary" id="thanks">Thank you! Your payment of {{.Order.TotalText}} {{.Order.Every}} for {{.Bought}} has been received.</p>
{{with .Order.Subscription}}<p id="subscription">Your subscription: {{.}}.</p>{{end}}
{{else if .Waiting}}<p class="notice" id="waiting" role="status">{{if .PaidAtStripe}}Your payment went through; we are confirming your order for {{.Bought}}…{{else}}We are confirming your payment for {{.Bought}}…{{end}} This page refreshes by itself.</p>
{{else if .GaveUp}}<div class="error" id="gave-up"><p style="margin:0">{{if .PaidAtStripe}}Your payment went through, but we have not been able to confirm your order yet.{{else}}We have not received your payment yet.{{end}} Nothing more is needed from you now: <a href="">check again</a> in a moment.</p>
{{if .TestMode}}<p class="muted" style="margin:8px 0 0">For developers: the store has not received Stripe's webhook. With real keys, forward the webhooks: <code>stripe listen --forward-to localhost:8080/gateways/stripe/notification</code>, and set <code>STRIPE_WEBHOOK_SECRET</code> to the secret it prints.</p>{{end}}</div>
{{else if .Order.FailureMessage}}<p class="error" id="failure">{{.Order.FailureMessage}}</p>{{end}}
<p>Order <code id="order-id">{{.Order.ID}}</code> · Status: <span class="status status-{{.Order.Status}}" id="status">{{.Order.StatusLabel}}</span></p>
{{template "lines" .Order}}
{{template "webhooks" .Webhooks}}
<p class="actions"><a class="button" href="/" id="continue">Continue shopping</a></p>{{end}}`,

	"cancel": `{{define "content"}}<h1>{{.Heading}}</h1>
{{if .Order.FailureMessage}}<p class="error" id="failure">{{.Order.FailureMessage}}</p>{{end}}
{{with .Text}}<p id="cancel-text">{{.}}</p>{{end}}
<p>Order <code id="order-id">{{.Order.ID}}</code> · Status: <span class="status status-{{.Order.Status}}" id="status">{{.Order.StatusLabel}}</span></p>
{{template "lines" .Order}}
{{template "webhooks" .Webhooks}}
<div class="actions">{{if .CanRetry}}<form method="post" action="/orders/{{.Order.ID}}/pay"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit" id="retry">Try to pay again</button></form>{{end}}<a class="button secondary" href="/" id="back-to-shop">Back to the shop</a></div>{{end}}`,

	"login": `{{define "content"}}<h1>Sign in to the store's admin</h1>
{{if .SignedOut}}<p class="ok" id="signed-out" role="status">You are signed out.</p>{{end}}
{{with .Error}}<p class="error" id="login-error" role="alert">{{.}}</p>{{end}}
<div class="card" style="max-width:420px">
<form method="post" action="/admin/login" id="login-form"><input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="next" value="{{.Next}}">
<div class="field{{if .Error}} has-error{{end}}"><label for="password">Admin password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required autofocus{{if .Error}} aria-invalid="true" aria-describedby="login-error password-help"{{else}} aria-describedby="password-help"{{end}}>
<p class="help" id="password-help">The password in {{.EnvVar}} or, offline without it, the one the store printed when it started.</p></div>
<button type="submit" id="login">Sign in</button></form></div>{{end}}`,

	"orders": `{{define "content"}}<h1>Orders</h1>
{{with .Recover}}<div class="card" id="recover" style="margin:0 0 22px"><h2>Recover missed events</h2>
<p class="muted">When the store was down, or its webhook endpoint disabled or misconfigured, for longer than Stripe retries a delivery (three days), the events Stripe could not deliver never reach it. This asks Stripe's Events API for the events of the period and runs each one the store has not processed through the same callbacks as its webhook, once: an event processed already is skipped, so pressing it again changes nothing.</p>
<form method="post" action="/admin/recover" class="actions"><input type="hidden" name="csrf" value="{{$.CSRF}}"><label for="recover-days">Events of the last</label> <select name="days" id="recover-days">{{$d := .Default}}{{range .Days}}<option value="{{.}}"{{if eq . $d}} selected{{end}}>{{.}} day{{if gt . 1}}s{{end}}</option>{{end}}</select>
<button type="submit" id="recover-button">Recover missed events</button></form>
{{with .Run}}{{if .Running}}<p class="notice" id="recover-running" role="status" style="margin:12px 0 0">Recovering the events since {{.Since.Local.Format "Jan 2 15:04:05"}}: <span id="recover-seen">{{.Seen}}</span> seen, <span id="recover-recovered">{{.Recovered}}</span> recovered{{if not .Last.IsZero}}, the last one created at <span id="recover-last">{{.Last.Local.Format "Jan 2 15:04:05"}}</span>{{end}}… This page refreshes by itself.</p>
{{else}}<div class="{{if .Err}}error{{else}}ok{{end}}" id="recover-result" role="status" style="margin:12px 0 0">{{if .Err}}✗{{else}}✓{{end}} Recovered <strong id="recover-recovered">{{.Recovered}}</strong> missed event{{if ne .Recovered 1}}s{{end}} of <span id="recover-seen">{{.Seen}}</span> seen since {{.Since.Local.Format "Jan 2 15:04:05"}} ({{.Days}} day{{if gt .Days 1}}s{{end}}){{if .Last.IsZero}}: Stripe listed no event{{else}}; the last event seen was created at <span id="recover-last">{{.Last.Local.Format "Jan 2 15:04:05"}}</span>{{end}}. Finished at {{.Finished.Local.Format "15:04:05"}}.
{{with .Err}}<p id="recover-error" style="margin:6px 0 0">{{.}}</p>{{end}}</div>{{end}}{{end}}</div>{{end}}
<p class="muted">Each order with its status and the payment outcomes Stripe's webhooks reported for it, in the order they arrived. An outcome that did not change the status says why. "Stripe said" is what Stripe answered (ConfirmCheckout) when the customer came back to the success page.</p>
<table id="orders" class="stack"><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Items</th><th scope="col">Total</th><th scope="col">Status</th></tr>
{{range .Orders}}{{$oid := .ID}}<tr id="order-{{.ID}}" data-status="{{.Status}}"><td><code>{{.ID}}</code>{{if .SessionID}}<div class="sid">{{.SessionID}}</div>{{end}}{{with .StripeSaid}}<div class="sid" id="stripe-said-{{$oid}}">Stripe said: {{.}}</div>{{end}}</td>
<td class="nowrap" data-label="Placed">{{.CreatedAt.Format "Jan 2 15:04:05"}}</td>
<td data-label="Items">{{range .Lines}}{{.Quantity}} × {{.Name}}<br>{{end}}</td>
<td class="total nowrap" data-label="Total">{{.TotalText}} {{.Every}}</td>
<td data-label="Status"><span class="status status-{{.Status}}">{{.StatusLabel}}</span>
{{if .Subscription}}<div class="after sub-{{.SubClass}}" id="sub-{{.ID}}">{{.Subscription}}{{if .Renewals}} · {{.Renewals}} renewal{{if gt .Renewals 1}}s{{end}}{{end}}</div>{{end}}
{{if .Dispute}}<div class="after warn" id="dispute-{{.ID}}">{{.Dispute}}</div>{{end}}
{{if .RefundIssue}}<div class="after warn" id="refund-{{.ID}}">{{.RefundIssue}}</div>{{end}}</td></tr>
<tr class="outcomes-row"><td></td><td colspan="4">{{if .Outcomes}}<table class="outcomes stack" id="outcomes-{{.ID}}"><tr><th scope="col">Time</th><th scope="col">Kind</th><th scope="col">Event</th><th scope="col">Amount</th><th scope="col">Note</th></tr>
{{range .Outcomes}}<tr class="outcome" data-kind="{{.KindName}}"><td data-label="Time">{{.Created.Format "15:04:05"}}</td><td class="kind" data-label="Kind">{{.KindName}}</td><td data-label="Event"><code>{{.EventID}}</code><div class="muted">{{.EventType}}</div></td><td class="amount" data-label="Amount">{{.AmountText}}</td><td class="muted note" data-label="Note">{{if .Applied}}applied{{if .Note}}: {{.Note}}{{end}}{{else}}{{.Note}}{{end}}</td></tr>
{{end}}</table>{{else}}<span class="muted">No webhook event yet.</span>{{end}}</td></tr>
{{else}}<tr><td colspan="5">No orders yet.</td></tr>{{end}}</table>{{end}}`,

	"settings": `{{define "content"}}<h1>Stripe settings</h1>
{{if .Saved}}<p class="ok" id="saved" role="status">Saved. The new settings are live; requests already running finish with the previous ones.</p>{{end}}
{{if or .Problems .FormError}}<div class="error error-summary" id="error-summary" role="alert" tabindex="-1"><h2>{{with .Problems}}{{len .}} problem{{if gt (len .) 1}}s{{end}} stopped these settings{{else}}These settings were not saved{{end}}</h2>
<p style="margin:0 0 6px">Nothing was saved: the live settings are unchanged.{{with .FormError}} {{.}}{{end}}</p>
{{with .Problems}}<ul>{{range .}}<li><a href="#{{.Field}}">{{.Message}}</a></li>{{end}}</ul>{{end}}</div>{{end}}
{{with .Connection}}<p class="{{if .OK}}ok{{else}}error{{end}}" id="connection" role="status">{{if .OK}}✓ {{else}}✗ {{end}}{{.Message}}</p>{{end}}
{{with .Endpoint}}<div class="{{if .OK}}ok{{else}}error{{end}}" id="endpoint-check" role="status"><span id="endpoint-summary">{{if .OK}}✓ {{else}}✗ {{end}}{{.Message}}</span>
{{if .Fields}}<ul class="checks">{{range .Fields}}<li id="endpoint-{{.Field}}" data-field="WebhookEndpoint.{{.Field}}"><strong>{{.Label}}</strong>: {{.Message}}</li>{{end}}</ul>{{end}}</div>{{end}}
{{if .Offline}}<p class="notice">Offline mode: the API is the simulator in front of stripe-mock, which takes any test key. It signs webhooks with {{.SimSecret}}: if you change the webhook secret here, keep that one under previous secrets, or the store will refuse its events, as it would Stripe's.</p>{{end}}
<form method="post" action="/admin/settings" autocomplete="off" novalidate><input type="hidden" name="csrf" value="{{.CSRF}}">
{{range .Fields}}{{$id := .ID}}<div class="field{{if .Error}} has-error{{end}}"><label for="{{.ID}}">{{.Label}}</label>
{{if eq .Kind "select"}}<select id="{{.ID}}" name="{{.ID}}"{{template "aria" .}}>{{range .Options}}<option value="{{.Value}}"{{if .Selected}} selected{{end}}>{{.Label}}</option>{{end}}</select>
{{else if eq .Kind "secret"}}<input type="password" id="{{.ID}}" name="{{.ID}}" placeholder="{{.Placeholder}}" autocomplete="off" spellcheck="false"{{template "aria" .}}>
{{else if eq .Kind "secrets"}}<textarea id="{{.ID}}" name="{{.ID}}" rows="2" placeholder="{{.Placeholder}}" spellcheck="false"{{template "aria" .}}></textarea>
{{else}}<input type="text" id="{{.ID}}" name="{{.ID}}" value="{{.Value}}"{{with .Placeholder}} placeholder="{{.}}"{{end}}{{with .Style}} style="{{.}}"{{end}} spellcheck="false"{{template "aria" .}}>
{{end}}{{with .Error}}<p class="field-error" id="{{$id}}-error">{{.}}</p>{{end}}
{{if .Kept}}<input type="hidden" name="keep-{{.ID}}" value="1"><p class="kept" id="{{.ID}}-kept">Not saved yet: the {{.KeptNoun}} you entered, <strong>{{.Kept}}</strong>, is kept for you, shown redacted for safety. Leave the field empty to use it again, or enter another.</p>{{end}}
{{if eq .Kind "secrets"}}<label class="check"><input type="checkbox" name="ClearPrevious" id="ClearPrevious"> Remove the previous secrets</label>{{end}}
<p class="help" id="{{.ID}}-help">{{.Help}}</p></div>
{{end}}
<div class="actions"><button type="submit" name="action" value="save" id="save">Save</button>
<button type="submit" name="action" value="test" id="test-connection" class="secondary">Test connection</button>
<button type="submit" name="action" value="endpoint" id="check-endpoint" class="secondary">Check webhook endpoint</button></div>
</form>
<p class="muted">"Test connection" and "Check webhook endpoint" use the values in the form without saving them. "Check webhook endpoint" asks Stripe whether an endpoint sends this store's events to <code id="endpoint-url">{{.EndpointURL}}</code>: enabled, at an API version the store reads, with every event it needs.{{if .Offline}} Offline, the simulator lists one; misconfigure it on its page (<a href="{{.SimPage}}">simulated Stripe</a>) to see the report.{{end}}</p>
<p class="muted">Live settings: version {{.Version}}, since {{.Since.Format "15:04:05"}}.</p>{{end}}
{{define "aria"}}{{if .Error}} aria-invalid="true"{{end}}{{with .DescribedBy}} aria-describedby="{{.}}"{{end}}{{if .First}} autofocus{{end}}{{end}}`,

	"error": `{{define "content"}}<h1>{{.Title}}</h1><p class="error" id="error">{{.Message}}</p><p class="actions"><a class="button secondary" href="/">Back to the shop</a></p>{{end}}`,
}
