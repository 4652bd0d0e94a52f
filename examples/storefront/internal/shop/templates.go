package shop

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/b27de697/stripegateway"
)

// view is what every page gets: the layout's data and the page's own.
type view struct {
	Title     string
	Refresh   string
	ModeLabel string
	ModeClass string
	Offline   bool
	Data      any
}

func (a *App) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	a.renderRefresh(w, r, status, page, title, "", data)
}

func (a *App) renderRefresh(w http.ResponseWriter, r *http.Request, status int, page, title, refresh string, data any) {
	v := view{Title: title, Refresh: refresh, Data: data, Offline: a.opts.Simulator != nil}
	switch gw := a.Gateway(); {
	case v.Offline:
		v.ModeLabel, v.ModeClass = "Offline · simulated Stripe", "offline"
	case gw.Config().Mode == stripegateway.ModeLive:
		v.ModeLabel, v.ModeClass = "Live mode", "live"
	default:
		v.ModeLabel, v.ModeClass = "Stripe test mode", "test"
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
	a.render(w, r, status, "error", title, map[string]string{"Title": title, "Message": msg})
}

var pages = func() map[string]*template.Template {
	base := template.Must(template.New("layout").Parse(layoutHTML))
	out := map[string]*template.Template{}
	for name, body := range pageHTML {
		out[name] = template.Must(template.Must(base.Clone()).Parse(body))
	}
	return out
}()

const layoutHTML = `{{define "layout"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">{{end}}
<title>{{.Title}} · Gopher Goods</title>
<style>
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;background:#faf8f5}
header{display:flex;align-items:center;gap:24px;padding:14px 32px;background:#3b2a20;color:#fff}
header a{color:#f3e6d8;text-decoration:none}
.brand{font-weight:700;font-size:18px;color:#fff!important}
nav{display:flex;gap:18px;flex:1}
.mode{font-size:12px;padding:3px 10px;border-radius:12px;background:#6b5a4e}
.mode-offline{background:#ffde92;color:#5e4200}.mode-live{background:#c0123c}
main{max-width:1100px;margin:0 auto;padding:28px 32px}
h1{font-size:26px;margin:0 0 18px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:18px}
.card{background:#fff;border:1px solid #e8e1d9;border-radius:10px;padding:18px}
.card h2{font-size:17px;margin:0 0 6px}
.price{font-size:20px;font-weight:650;margin:10px 0}
.muted{color:#777;font-size:13px}
button,.button{display:inline-block;padding:9px 16px;border:0;border-radius:6px;background:#635bff;color:#fff;font-size:15px;font-weight:600;cursor:pointer;text-decoration:none}
button.secondary{background:#fff;color:#3b2a20;border:1px solid #bbb}
select,input[type=text],input[type=password],textarea{padding:8px 10px;border:1px solid #ccc;border-radius:6px;font-size:15px;width:100%}
select{width:auto}
.status{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;font-size:14px;background:#eee}
.status-paid{background:#d7f5e3;color:#0e6245}.status-failed,.status-needs_review,.status-disputed,.status-dispute_lost,.status-refund_failed{background:#fdecef;color:#c0123c}
.after{font-size:13px;margin-top:4px}.sub-active{color:#0e6245}.sub-past_due,.warn{color:#c0123c}.sub-ended{color:#555}
ul.checks{margin:6px 0 0;padding-left:20px}ul.checks li{margin:4px 0}
.status-unpaid,.status-pending{background:#fff3cd;color:#7a5b00}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:7px 8px;border-bottom:1px solid #eee;vertical-align:top}
table.outcomes{font-size:13px;margin-top:6px}
.sid{font-size:11px;color:#888;word-break:break-all;max-width:260px}
td.nowrap{white-space:nowrap}
.field{margin:0 0 16px}.field label{display:block;font-weight:600;margin-bottom:4px}
.field-error{color:#c0123c;margin:4px 0 0;font-size:14px}
.field.has-error input,.field.has-error select,.field.has-error textarea{border-color:#c0123c}
.notice{padding:10px 14px;border-radius:8px;background:#fff3cd;margin:0 0 16px}
.ok{padding:10px 14px;border-radius:8px;background:#d7f5e3;color:#0e6245;margin:0 0 16px}
.error{padding:10px 14px;border-radius:8px;background:#fdecef;color:#c0123c;margin:0 0 16px}
code{background:#f1ece6;padding:1px 5px;border-radius:4px}
footer{max-width:1100px;margin:0 auto;padding:20px 32px;color:#999;font-size:12px}
</style></head>
<body><header><a class="brand" href="/">☕ Gopher Goods</a>
<nav><a href="/">Shop</a><a href="/admin/orders">Orders</a><a href="/admin/settings">Stripe settings</a></nav>
<span class="mode mode-{{.ModeClass}}" id="mode">{{.ModeLabel}}</span></header>
<main>{{template "content" .Data}}</main>
<footer>An example store for github.com/b27de697/stripegateway.{{if .Offline}} Offline mode: Stripe's API is stripe-mock behind a simulated hosted checkout; no card is charged.{{end}} The admin pages have no login: keep the store on localhost.</footer>
</body></html>{{end}}
{{define "lines"}}<table><tr><th>Item</th><th>Qty</th><th>Price</th><th>Total</th></tr>
{{range .Lines}}<tr><td>{{.Name}}</td><td>{{.Quantity}}</td><td>{{.UnitText}}</td><td>{{.TotalText}}</td></tr>{{end}}
<tr><th colspan="3">Total</th><th id="order-total">{{.TotalText}} {{.Every}}</th></tr></table>{{end}}`

var pageHTML = map[string]string{
	"catalog": `{{define "content"}}<h1>Shop</h1>
{{if not .Enabled}}<p class="notice" id="disabled">Card payments are switched off (Stripe settings: Status inactive).</p>{{end}}
<div class="grid">{{range .Products}}
<div class="card" id="product-{{.ID}}"><h2>{{.Name}}</h2><p class="muted">{{.Description}}</p>
<p class="price">{{.PriceText}} {{if .Every}}<span class="muted">{{.Every}}</span>{{end}}</p>
<form method="post" action="/checkout"><input type="hidden" name="product" value="{{.ID}}">
{{if not .Interval}}<label class="muted">Qty <select name="quantity">{{range $.Quantities}}<option>{{.}}</option>{{end}}</select></label>{{end}}
<button type="submit" id="buy-{{.ID}}"{{if not $.Enabled}} disabled{{end}}>{{if .Interval}}Subscribe{{else}}Buy{{end}} with {{$.DisplayName}}</button></form></div>
{{end}}</div>{{end}}`,

	"success": `{{define "content"}}{{with .Order}}<h1>Order {{.ID}}</h1>
<p>Status: <span class="status status-{{.Status}}" id="status">{{.StatusLabel}}</span></p>
{{end}}
{{if eq .Order.Status "paid"}}<p class="ok" id="thanks">Thank you! Your payment of {{.Order.TotalText}} {{.Order.Every}} has been received.</p>
{{with .Order.Subscription}}<p id="subscription">Your subscription: {{.}}.</p>{{end}}
{{else if .Waiting}}<p class="notice" id="waiting">{{if .PaidAtStripe}}Stripe has your payment; waiting for its webhook to confirm the order…{{else}}Waiting for the payment to be confirmed…{{end}} This page refreshes by itself.</p>
{{else if .GaveUp}}<p class="error" id="gave-up">{{if .PaidAtStripe}}Stripe says the payment succeeded, but its webhook has not reached the store.{{else}}The payment has not been confirmed yet.{{end}}
With real keys, forward the webhooks: <code>stripe listen --forward-to localhost:8080/gateways/stripe/notification</code>, and set <code>STRIPE_WEBHOOK_SECRET</code> to the secret it prints. <a href="">Check again</a></p>
{{else if .Order.FailureMessage}}<p class="error" id="failure">{{.Order.FailureMessage}}</p>{{end}}
{{template "lines" .Order}}
<p class="muted">Stripe's view of the session (ConfirmCheckout): <span id="stripe-says">{{.StripeSays}}</span>{{if .StripeAmount}}, {{.StripeAmount}}{{end}}.</p>
<p><a href="/">Continue shopping</a></p>{{end}}`,

	"cancel": `{{define "content"}}{{with .Order}}<h1>Payment not completed</h1>
<p>Order {{.ID}}: <span class="status status-{{.Status}}" id="status">{{.StatusLabel}}</span></p>
{{if .FailureMessage}}<p class="error" id="failure">{{.FailureMessage}}</p>{{end}}
{{template "lines" .}}{{end}}
<p>{{if .CanRetry}}<form method="post" action="/orders/{{.Order.ID}}/pay" style="display:inline"><button type="submit" id="retry">Try again</button></form> {{end}}<a class="button secondary" href="/">Back to the shop</a></p>{{end}}`,

	"orders": `{{define "content"}}<h1>Orders</h1>
{{with .Recover}}<div class="card" id="recover" style="margin:0 0 22px"><h2>Recover missed events</h2>
<p class="muted">When the store was down, or its webhook endpoint disabled or misconfigured, for longer than Stripe retries a delivery (three days), the events Stripe could not deliver never reach it. This asks Stripe's Events API for the events of the period and runs each one the store has not processed through the same callbacks as its webhook, once: an event processed already is skipped, so pressing it again changes nothing.</p>
<form method="post" action="/admin/recover"><label class="muted">Events of the last <select name="days" id="recover-days">{{$d := .Default}}{{range .Days}}<option value="{{.}}"{{if eq . $d}} selected{{end}}>{{.}} day{{if gt . 1}}s{{end}}</option>{{end}}</select></label>
<button type="submit" id="recover-button">Recover missed events</button></form>
{{with .Run}}{{if .Running}}<p class="notice" id="recover-running" role="status" style="margin:12px 0 0">Recovering the events since {{.Since.Local.Format "Jan 2 15:04:05"}}: <span id="recover-seen">{{.Seen}}</span> seen, <span id="recover-recovered">{{.Recovered}}</span> recovered{{if not .Last.IsZero}}, the last one created at <span id="recover-last">{{.Last.Local.Format "Jan 2 15:04:05"}}</span>{{end}}… This page refreshes by itself.</p>
{{else}}<div class="{{if .Err}}error{{else}}ok{{end}}" id="recover-result" role="status" style="margin:12px 0 0">{{if .Err}}✗{{else}}✓{{end}} Recovered <strong id="recover-recovered">{{.Recovered}}</strong> missed event{{if ne .Recovered 1}}s{{end}} of <span id="recover-seen">{{.Seen}}</span> seen since {{.Since.Local.Format "Jan 2 15:04:05"}} ({{.Days}} day{{if gt .Days 1}}s{{end}}){{if .Last.IsZero}}: Stripe listed no event{{else}}; the last event seen was created at <span id="recover-last">{{.Last.Local.Format "Jan 2 15:04:05"}}</span>{{end}}. Finished at {{.Finished.Local.Format "15:04:05"}}.
{{with .Err}}<p id="recover-error" style="margin:6px 0 0">{{.}}</p>{{end}}</div>{{end}}{{end}}</div>{{end}}
<p class="muted">Each order with its status and the payment outcomes Stripe's webhooks reported for it, in the order they arrived. An outcome that did not change the status says why.</p>
<table id="orders"><tr><th>Order</th><th>Placed</th><th>Items</th><th>Total</th><th>Status</th></tr>
{{range .Orders}}<tr id="order-{{.ID}}" data-status="{{.Status}}"><td><code>{{.ID}}</code>{{if .SessionID}}<div class="sid">{{.SessionID}}</div>{{end}}</td>
<td class="nowrap">{{.CreatedAt.Format "Jan 2 15:04:05"}}</td>
<td>{{range .Lines}}{{.Quantity}} × {{.Name}}<br>{{end}}</td>
<td class="total nowrap">{{.TotalText}} {{.Every}}</td>
<td><span class="status status-{{.Status}}">{{.StatusLabel}}</span>
{{if .Subscription}}<div class="after sub-{{.SubClass}}" id="sub-{{.ID}}">{{.Subscription}}{{if .Renewals}} · {{.Renewals}} renewal{{if gt .Renewals 1}}s{{end}}{{end}}</div>{{end}}
{{if .Dispute}}<div class="after warn" id="dispute-{{.ID}}">{{.Dispute}}</div>{{end}}
{{if .RefundIssue}}<div class="after warn" id="refund-{{.ID}}">{{.RefundIssue}}</div>{{end}}</td></tr>
<tr class="outcomes-row"><td></td><td colspan="4">{{if .Outcomes}}<table class="outcomes" id="outcomes-{{.ID}}"><tr><th>Time</th><th>Kind</th><th>Event</th><th>Amount</th><th></th></tr>
{{range .Outcomes}}<tr class="outcome" data-kind="{{.KindName}}"><td>{{.Created.Format "15:04:05"}}</td><td class="kind">{{.KindName}}</td><td><code>{{.EventID}}</code><div class="muted">{{.EventType}}</div></td><td class="amount">{{.AmountText}}</td><td class="muted note">{{if .Applied}}applied{{if .Note}}: {{.Note}}{{end}}{{else}}{{.Note}}{{end}}</td></tr>
{{end}}</table>{{else}}<span class="muted">No webhook event yet.</span>{{end}}</td></tr>
{{else}}<tr><td colspan="5">No orders yet.</td></tr>{{end}}</table>{{end}}`,

	"settings": `{{define "content"}}<h1>Settings › Store Settings › Stripe</h1>
{{if .Saved}}<p class="ok" id="saved">Saved. The new settings are live; requests already running finish with the previous ones.</p>{{end}}
{{with .Connection}}<p class="{{if .OK}}ok{{else}}error{{end}}" id="connection">{{if .OK}}✓ {{else}}✗ {{end}}{{.Message}}</p>{{end}}
{{with .Endpoint}}<div class="{{if .OK}}ok{{else}}error{{end}}" id="endpoint-check" role="status"><span id="endpoint-summary">{{if .OK}}✓ {{else}}✗ {{end}}{{.Message}}</span>
{{if .Fields}}<ul class="checks">{{range .Fields}}<li id="endpoint-{{.Field}}" data-field="WebhookEndpoint.{{.Field}}"><strong>{{.Label}}</strong>: {{.Message}}</li>{{end}}</ul>{{end}}</div>{{end}}
{{with index .Errors "form"}}<p class="error">{{.}}</p>{{end}}
{{if .Offline}}<p class="notice">Offline mode: the API is the simulator in front of stripe-mock, which takes any test key. It signs webhooks with {{.SimSecret}}: if you change the webhook secret here, keep that one under previous secrets, or the store will refuse its events, as it would Stripe's.</p>{{end}}
<form method="post" action="/admin/settings" autocomplete="off">
<div class="field{{if index .Errors "DisplayName"}} has-error{{end}}"><label for="DisplayName">Display name</label>
<input type="text" id="DisplayName" name="DisplayName" value="{{index .Values "DisplayName"}}">
{{with index .Errors "DisplayName"}}<p class="field-error" id="DisplayName-error">{{.}}</p>{{end}}<p class="muted">What customers see as the payment method, e.g. "Credit Card".</p></div>

<div class="field{{if index .Errors "MinimumAmount"}} has-error{{end}}"><label for="MinimumAmount">Minimum amount</label>
<input type="text" id="MinimumAmount" name="MinimumAmount" value="{{index .Values "MinimumAmount"}}" style="max-width:12em">
{{with index .Errors "MinimumAmount"}}<p class="field-error" id="MinimumAmount-error">{{.}}</p>{{end}}<p class="muted">Smallest order total, in the order's currency; 0 for none.</p></div>

<div class="field{{if index .Errors "Status"}} has-error{{end}}"><label for="Status">Status</label>
<select id="Status" name="Status">{{$s := index .Values "Status"}}<option value="active"{{if eq $s "active"}} selected{{end}}>Active</option><option value="inactive"{{if eq $s "inactive"}} selected{{end}}>Inactive</option></select>
{{with index .Errors "Status"}}<p class="field-error" id="Status-error">{{.}}</p>{{end}}</div>

<div class="field{{if index .Errors "Mode"}} has-error{{end}}"><label for="Mode">Mode</label>
<select id="Mode" name="Mode">{{$m := index .Values "Mode"}}<option value="test"{{if eq $m "test"}} selected{{end}}>Test</option><option value="live"{{if eq $m "live"}} selected{{end}}>Live</option></select>
{{with index .Errors "Mode"}}<p class="field-error" id="Mode-error">{{.}}</p>{{end}}</div>

<div class="field{{if index .Errors "PublishableKey"}} has-error{{end}}"><label for="PublishableKey">Publishable key</label>
<input type="text" id="PublishableKey" name="PublishableKey" value="{{index .Values "PublishableKey"}}" placeholder="pk_test_…">
{{with index .Errors "PublishableKey"}}<p class="field-error" id="PublishableKey-error">{{.}}</p>{{end}}</div>

<div class="field{{if index .Errors "SecretKey"}} has-error{{end}}"><label for="SecretKey">Secret key</label>
<input type="password" id="SecretKey" name="SecretKey" placeholder="{{index .Placeholders "SecretKey"}}">
{{with index .Errors "SecretKey"}}<p class="field-error" id="SecretKey-error">{{.}}</p>{{end}}<p class="muted">sk_… or a restricted rk_… key. Leave empty to keep the current one.</p></div>

<div class="field{{if index .Errors "WebhookSecret"}} has-error{{end}}"><label for="WebhookSecret">Webhook signing secret</label>
<input type="password" id="WebhookSecret" name="WebhookSecret" placeholder="{{index .Placeholders "WebhookSecret"}}">
{{with index .Errors "WebhookSecret"}}<p class="field-error" id="WebhookSecret-error">{{.}}</p>{{end}}<p class="muted">whsec_… of the endpoint <code>/gateways/stripe/notification</code>. Leave empty to keep the current one.</p></div>

<div class="field{{if index .Errors "PreviousWebhookSecrets"}} has-error{{end}}"><label for="PreviousWebhookSecrets">Previous webhook secrets</label>
<textarea id="PreviousWebhookSecrets" name="PreviousWebhookSecrets" rows="2" placeholder="{{index .Placeholders "PreviousWebhookSecrets"}}"></textarea>
<label class="muted" style="font-weight:400"><input type="checkbox" name="ClearPrevious"> remove the previous secrets</label>
{{with index .Errors "PreviousWebhookSecrets"}}<p class="field-error" id="PreviousWebhookSecrets-error">{{.}}</p>{{end}}<p class="muted">Still accepted while a secret is rolled; one per line. Leave empty to keep them.</p></div>

<button type="submit" name="action" value="save" id="save">Save</button>
<button type="submit" name="action" value="test" id="test-connection" class="secondary">Test connection</button>
<button type="submit" name="action" value="endpoint" id="check-endpoint" class="secondary">Check webhook endpoint</button>
</form>
<p class="muted">"Check webhook endpoint" asks Stripe whether an endpoint sends this store's events to <code id="endpoint-url">{{.EndpointURL}}</code>: enabled, at an API version the store reads, with every event it needs.{{if .Offline}} Offline, the simulator lists one; misconfigure it on its page (<a href="{{.SimPage}}">simulated Stripe</a>) to see the report.{{end}}</p>
<p class="muted">Live settings: version {{.Version}}, since {{.Since.Format "15:04:05"}}.</p>{{end}}`,

	"error": `{{define "content"}}<h1>{{.Title}}</h1><p class="error" id="error">{{.Message}}</p><p><a href="/">Back to the shop</a></p>{{end}}`,
}
