package stripegatewaytest

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/b27de697/stripegateway/internal/money"
)

// This file renders the Simulator's payment page and overview: the amounts
// as the page shows them, the page data and the HTML templates. The page's
// handlers are in cards.go.

// formatAmount formats an amount in a currency's minor unit the way a
// payment page shows it: with the currency's symbol and as many decimals as
// the currency has ("€24.90", "¥1,500", "KWD 5.12"), from the gateway's
// currency table. An unknown currency is shown as minor units with its
// code.
func formatAmount(minor int64, currency string) string {
	cur := strings.ToLower(currency)
	c, err := money.Lookup(cur)
	if err != nil {
		return strconv.FormatInt(minor, 10) + " " + strings.ToUpper(cur)
	}
	s := c.FromMinor(minor).StringFixed(c.Decimals())
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	s = b.String()
	if frac != "" {
		s += "." + frac
	}
	if neg {
		s = "-" + s
	}
	if sym, ok := currencySymbols[cur]; ok {
		return sym + s
	}
	return strings.ToUpper(cur) + " " + s
}

var currencySymbols = map[string]string{
	"eur": "€", "usd": "$", "gbp": "£", "jpy": "¥", "inr": "₹", "krw": "₩",
	"cad": "CA$", "aud": "A$", "nzd": "NZ$", "chf": "CHF ", "cny": "CN¥", "brl": "R$",
}

// pageLine is a line as the page shows it.
type pageLine struct {
	Name, Description string
	Quantity          int64
	Unit, Total       string
	Every             string
}

type pageData struct {
	Business   string
	Session    SimulatedSession
	Lines      []pageLine
	Total      string
	Every      string
	Step       string // "card", "3ds", "complete", "expired"
	Error      string
	PayAction  string
	AuthAction string
	// Form is the card form as typed; Errors are Stripe's messages beside
	// its fields, and Focus the field with the first error.
	Form      cardForm
	Errors    cardErrors
	Focus     string
	TestCards []testCardHint
	Home      string
}

type testCardHint struct{ Number, Result string }

var testCardHints = []testCardHint{
	{"4242 4242 4242 4242", "succeeds"},
	{"4000 0000 0000 0002", "is declined (generic_decline)"},
	{"4000 0000 0000 9995", "is declined (insufficient_funds)"},
	{"4000 0000 0000 0069", "is declined (expired_card)"},
	{"4000 0000 0000 0127", "is declined (incorrect_cvc)"},
	{"4000 0025 0000 3155", "asks for 3-D Secure"},
}

func every(interval string, count int64) string {
	if interval == "" {
		return ""
	}
	if count <= 1 {
		return "per " + interval
	}
	return "every " + strconv.FormatInt(count, 10) + " " + interval + "s"
}

func (s *Simulator) page(ss SimulatedSession, step, errMsg string, form cardForm) pageData {
	form.Number = groupCard(form.Number)
	d := pageData{
		Business:   s.business,
		Session:    ss,
		Total:      formatAmount(ss.AmountTotal, ss.Currency),
		Step:       step,
		Error:      errMsg,
		PayAction:  s.prefix + "/c/pay/" + url.PathEscape(ss.ID),
		AuthAction: s.prefix + "/c/pay/" + url.PathEscape(ss.ID) + "/authenticate",
		Form:       form,
		TestCards:  testCardHints,
		Home:       s.prefix + "/",
	}
	for _, l := range ss.Lines {
		pl := pageLine{
			Name: l.Name, Description: l.Description, Quantity: l.Quantity,
			Unit:  formatAmount(l.UnitAmount, ss.Currency),
			Total: formatAmount(l.AmountTotal, ss.Currency),
			Every: every(l.Interval, l.IntervalCount),
		}
		if pl.Every != "" && d.Every == "" {
			d.Every = pl.Every
		}
		d.Lines = append(d.Lines, pl)
	}
	return d
}

func (s *Simulator) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	if err := simTemplates.ExecuteTemplate(w, name, data); err != nil {
		s.logger.Error("stripegatewaytest: simulator page failed", "error", err.Error())
	}
}

func (s *Simulator) notFound(w http.ResponseWriter) {
	s.render(w, http.StatusNotFound, "message", map[string]string{
		"Title": "Page not found", "Text": "This Checkout Session does not exist. It may have been created by another run of the simulator.",
	})
}

type indexData struct {
	Business   string
	Sessions   []indexSession
	Deliveries []WebhookDelivery
	WebhookURL string
	Endpoint   endpointForm
	Done       string
	Events     string
	// The webhook endpoint's reachability and the recorded events.
	Unreachable bool
	ReachAction string
	EventCount  int
	Undelivered int
}

type indexSession struct {
	SimulatedSession
	Total  string
	Page   string
	Action string // prefix of the action buttons' URLs
	// Actions are the buttons the session's state allows.
	Actions []sessionButton
}

type sessionButton struct{ Action, Label, Title string }

// buttons are the actions a session's state allows, as act decides them.
func buttons(ss SimulatedSession) []sessionButton {
	var out []sessionButton
	if ss.SubscriptionStatus != "" {
		out = append(out,
			sessionButton{"renew", "Renew", "Bill the next period and pay it: invoice.paid, invoice.payment_succeeded"},
			sessionButton{"fail-renewal", "Fail renewal", "Bill the next period and fail it: invoice.payment_failed, customer.subscription.updated (past_due)"})
	}
	if ss.ChargeID == "" {
		return out
	}
	switch ss.RefundStatus {
	case "":
		out = append(out,
			sessionButton{"refund", "Refund", "Refund in full: charge.refunded"},
			sessionButton{"fail-refund", "Fail refund", "Refund, then fail the refund: charge.refund.updated (failed)"})
	case "succeeded":
		out = append(out, sessionButton{"fail-refund", "Fail refund", "Fail the refund: charge.refund.updated (failed)"})
	}
	switch ss.DisputeStatus {
	case "":
		out = append(out, sessionButton{"dispute", "Open dispute", "A chargeback: charge.dispute.created"})
		fallthrough
	case "needs_response":
		out = append(out,
			sessionButton{"dispute-won", "Dispute won", "charge.dispute.closed, won"},
			sessionButton{"dispute-lost", "Dispute lost", "charge.dispute.closed, lost"})
	}
	return out
}

// pageIndex lists the sessions and the webhook deliveries.
func (s *Simulator) pageIndex(w http.ResponseWriter, r *http.Request) {
	d := indexData{Business: s.business, WebhookURL: s.cfg.WebhookURL}
	if done, ok := sessionActions[r.URL.Query().Get("done")]; ok {
		d.Done = done
		if n, err := strconv.Atoi(r.URL.Query().Get("events")); err == nil {
			d.Events = strconv.Itoa(n)
		}
	}
	s.mu.Lock()
	for i := len(s.order) - 1; i >= 0; i-- {
		ss := s.snapshot(s.sessions[s.order[i]])
		d.Sessions = append(d.Sessions, indexSession{
			SimulatedSession: ss, Total: formatAmount(ss.AmountTotal, ss.Currency),
			Page:    s.prefix + "/c/pay/" + url.PathEscape(ss.ID),
			Action:  s.prefix + "/sessions/" + url.PathEscape(ss.ID) + "/",
			Actions: buttons(ss),
		})
	}
	for i := len(s.deliveries) - 1; i >= 0; i-- {
		d.Deliveries = append(d.Deliveries, s.deliveries[i])
	}
	d.Endpoint = s.endpointFormData()
	d.Unreachable, d.ReachAction, d.EventCount = s.unreachable, s.prefix+"/webhook-endpoint/reachability", len(s.events)
	for _, e := range s.events {
		if !e.Delivered {
			d.Undelivered++
		}
	}
	s.mu.Unlock()
	s.render(w, http.StatusOK, "index", d)
}

var simTemplates = template.Must(template.New("sim").Parse(`
{{define "style"}}<style>
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1a1f36;background:#fff}
h1,h2,p,td,th,code,label,.error,.ok{overflow-wrap:anywhere}
.banner{background:#ffde92;color:#5e4200;text-align:center;font-size:12px;font-weight:600;padding:4px;letter-spacing:.04em}
.wrap{display:flex;flex-wrap:wrap;min-height:calc(100vh - 24px)}
.summary{flex:1 1 340px;min-width:0;background:#f6f9fc;padding:48px 56px}
.pay{flex:1 1 340px;min-width:0;padding:48px 56px;max-width:560px}
.back{color:#5b6474;text-decoration:none;font-size:14px}
.business{font-weight:600;margin:18px 0 4px;color:#5b6474}
.amount{font-size:36px;font-weight:650;margin:0 0 28px}
.amount small{font-size:15px;font-weight:400;color:#5b6474}
table.lines{width:100%;border-collapse:collapse}
table.lines td{padding:10px 0;vertical-align:top;border-bottom:1px solid #e3e8ee}
table.lines td.num{text-align:right;white-space:nowrap;padding-left:12px}
.muted{color:#5b6474;font-size:13px}
.total td{font-weight:650;border-bottom:none!important}
h2{font-size:20px;margin:0 0 18px}
label{display:block;font-size:13px;color:#3c4257;margin:14px 0 6px}
input[type=text]{width:100%;padding:10px 12px;border:1px solid #d5dbe1;border-radius:6px;font-size:16px}
input[aria-invalid=true]{border-color:#c0123c;box-shadow:0 0 0 1px #c0123c}
.field-error{margin:6px 0 0;color:#c0123c;font-size:13px}
.row{display:flex;gap:10px}.row>div{flex:1;min-width:0}
button{margin-top:22px;width:100%;padding:12px;border:0;border-radius:6px;background:#635bff;color:#fff;font-size:16px;font-weight:600;cursor:pointer}
button.secondary{background:#fff;color:#c0123c;border:1px solid #c0123c}
.error{margin-top:16px;padding:10px 12px;border-radius:6px;background:#fdecef;color:#c0123c}
.ok{padding:10px 12px;border-radius:6px;background:#e8f7ee;color:#0e6245}
.hint{margin-top:28px;font-size:13px;color:#5b6474}
.hint ul{margin:6px 0 0;padding-left:18px}
.hint code{background:#f6f9fc;padding:1px 4px;border-radius:3px;white-space:nowrap}
.acs{border:1px solid #e3e8ee;border-radius:8px;padding:24px}
footer{font-size:12px;color:#5b6474;margin-top:36px}
table.list{border-collapse:collapse;width:100%;font-size:13px}
table.list th,table.list td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e8ee;vertical-align:top}
.index{padding:24px clamp(12px,4vw,48px);max-width:1200px}
.index h1{font-size:24px;margin:0 0 8px}
.index h2{margin-top:32px}
td.id{word-break:break-all;min-width:12em}
form.inline{display:inline}
button.small{width:auto;margin:4px 4px 0 0;padding:5px 10px;font-size:13px}
label.check{display:block;margin:6px 0;font-size:14px;color:#1a1f36}
fieldset{border:1px solid #e3e8ee;border-radius:6px;margin:14px 0 0;padding:8px 12px;min-width:0}
.state{font-size:13px}
@media (max-width:600px){
.summary,.pay{padding:24px 16px}
.amount{font-size:28px;margin-bottom:18px}
}
@media (max-width:760px){
table.list thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
table.list,table.list tbody,table.list tr,table.list td{display:block;width:100%}
table.list tr{border-bottom:1px solid #e3e8ee;padding:8px 0}
table.list td{border:0;padding:2px 0}
table.list td[data-label]::before{content:attr(data-label) ": ";font-weight:600;color:#3c4257}
td.id{min-width:0}
.row{flex-wrap:wrap}
}
</style>{{end}}

{{define "checkout"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Business}} · Simulated Stripe Checkout</title>{{template "style"}}</head>
<body><div class="banner">TEST MODE · SIMULATED CHECKOUT</div>
<main class="wrap">
<div class="summary">
{{if .Session.CancelURL}}<a class="back" id="back" href="{{.Session.CancelURL}}">← {{.Business}}</a>{{else}}<span class="back">{{.Business}}</span>{{end}}
<p class="business">{{if eq .Session.Mode "subscription"}}Subscribe to {{.Business}}{{else}}Pay {{.Business}}{{end}}</p>
<p class="amount" id="total">{{.Total}}{{if .Every}} <small>{{.Every}}</small>{{end}}</p>
<table class="lines">
{{range .Lines}}<tr class="line"><td><div class="name">{{.Name}}</div>{{if .Description}}<div class="muted">{{.Description}}</div>{{end}}<div class="muted">Qty {{.Quantity}}{{if gt .Quantity 1}} · {{.Unit}} each{{end}}</div></td><td class="num">{{.Total}}{{if .Every}}<div class="muted">{{.Every}}</div>{{end}}</td></tr>
{{end}}<tr class="total"><td>Total due today</td><td class="num" id="total-due">{{.Total}}</td></tr>
</table>
</div>
<div class="pay">
{{if eq .Step "card"}}
<h1 style="font-size:20px;margin:0 0 18px">Pay with card</h1>
<form method="post" action="{{.PayAction}}" id="card-form" novalidate>
<label for="cardNumber">Card number</label>
<input type="text" id="cardNumber" name="cardNumber" inputmode="numeric" autocomplete="cc-number" maxlength="23" pattern="[0-9 ]{12,23}" placeholder="1234 1234 1234 1234" value="{{.Form.Number}}" required{{if .Errors.Number}} aria-invalid="true" aria-describedby="cardNumber-error"{{end}}{{if or (eq .Focus "cardNumber") (not .Focus)}} autofocus{{end}}>
{{with .Errors.Number}}<p class="field-error" id="cardNumber-error">{{.}}</p>{{end}}
<div class="row"><div><label for="cardExpiry">Expiry</label><input type="text" id="cardExpiry" name="cardExpiry" inputmode="numeric" autocomplete="cc-exp" maxlength="7" pattern="[0-9]{2} ?/ ?[0-9]{2}" placeholder="MM / YY" value="{{.Form.Expiry}}" required{{if .Errors.Expiry}} aria-invalid="true" aria-describedby="cardExpiry-error"{{end}}{{if eq .Focus "cardExpiry"}} autofocus{{end}}>
{{with .Errors.Expiry}}<p class="field-error" id="cardExpiry-error">{{.}}</p>{{end}}</div>
<div><label for="cardCvc">CVC</label><input type="text" id="cardCvc" name="cardCvc" inputmode="numeric" autocomplete="cc-csc" maxlength="4" pattern="[0-9]{3,4}" placeholder="CVC" value="{{.Form.CVC}}" required{{if .Errors.CVC}} aria-invalid="true" aria-describedby="cardCvc-error"{{end}}{{if eq .Focus "cardCvc"}} autofocus{{end}}>
{{with .Errors.CVC}}<p class="field-error" id="cardCvc-error">{{.}}</p>{{end}}</div></div>
<label for="billingName">Name on card</label>
<input type="text" id="billingName" name="billingName" autocomplete="cc-name" maxlength="100" placeholder="Full name on card" value="{{.Form.Name}}" required{{if .Errors.Name}} aria-invalid="true" aria-describedby="billingName-error"{{end}}{{if eq .Focus "billingName"}} autofocus{{end}}>
{{with .Errors.Name}}<p class="field-error" id="billingName-error">{{.}}</p>{{end}}
{{if .Error}}<div class="error" id="error" role="alert">{{.Error}}</div>{{end}}
<button type="submit" id="submit">{{if eq .Session.Mode "subscription"}}Subscribe{{else}}Pay {{.Total}}{{end}}</button>
</form>
<div class="hint" id="test-cards">Test cards, with any future expiry, any CVC (4 digits for American Express) and any name:<ul>{{range .TestCards}}<li><code>{{.Number}}</code> {{.Result}}</li>{{end}}</ul></div>
{{if .Session.CancelURL}}<p class="hint"><a id="cancel" href="{{.Session.CancelURL}}">Cancel and return to {{.Business}}</a></p>{{end}}
<script>
(function () {
  // Keep digits only, grouped as Stripe's card field groups them.
  function atEnd(el) { return el.selectionStart === el.value.length; }
  function on(id, format) {
    var el = document.getElementById(id);
    if (el) el.addEventListener("input", function () { if (atEnd(el)) el.value = format(el.value.replace(/\D/g, "")); });
  }
  on("cardNumber", function (d) {
    d = d.slice(0, 19);
    var groups = /^3[47]/.test(d) ? [4, 6, 5] : [4, 4, 4, 4, 3], out = [];
    for (var i = 0; i < groups.length && d; i++) { out.push(d.slice(0, groups[i])); d = d.slice(groups[i]); }
    return out.join(" ");
  });
  on("cardExpiry", function (d) { d = d.slice(0, 4); return d.length > 2 ? d.slice(0, 2) + " / " + d.slice(2) : d; });
  on("cardCvc", function (d) { return d.slice(0, 4); });
})();
</script>
{{else if eq .Step "3ds"}}
<div class="acs" id="three-d-secure">
<h1 style="font-size:20px;margin:0 0 18px">3D Secure 2 Test Page</h1>
<p>This is a simulated authentication page of the card's bank for a payment of <strong>{{.Total}}</strong> to {{.Business}}. Choose how the authentication ends.</p>
<form method="post" action="{{.AuthAction}}">
<button type="submit" id="complete" name="action" value="complete">Complete</button>
<button type="submit" id="fail" name="action" value="fail" class="secondary">Fail</button>
</form>
</div>
{{else if eq .Step "complete"}}
<div class="ok" id="done">This payment is complete.</div>
{{else}}
<div class="error" id="expired">This Checkout Session has expired.</div>
{{if .Session.CancelURL}}<p><a href="{{.Session.CancelURL}}">Return to {{.Business}}</a></p>{{end}}
{{end}}
<footer>Simulated by stripegatewaytest in front of stripe-mock. No card is charged.</footer>
</div></main></body></html>
{{end}}

{{define "message"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{{.Title}}</title>{{template "style"}}</head>
<body><div class="banner">TEST MODE · SIMULATED CHECKOUT</div><div class="pay"><h2>{{.Title}}</h2><p id="message">{{.Text}}</p>{{with .Home}}<p><a href="{{.}}">Back to the simulator</a></p>{{end}}</div></body></html>
{{end}}

{{define "index"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Simulated Stripe · {{.Business}}</title>{{template "style"}}</head>
<body><div class="banner">TEST MODE · SIMULATED CHECKOUT</div>
<main class="index">
<h1>Simulated Stripe for {{.Business}}</h1>
<p class="muted" id="intro">What Stripe would show in its Dashboard in test mode: the Checkout Sessions created through the simulator, and every signed webhook event it sent to the store. Nothing is charged.</p>
{{if .Done}}<p class="ok" id="done" role="status">{{.Done}}: {{.Events}} signed webhook event(s) delivered; see below.</p>{{end}}
<h2>Checkout Sessions</h2>
<table class="list" id="sessions"><thead><tr><th>Created</th><th>Session</th><th>Order</th><th>Mode</th><th>Total</th><th>Status</th><th>Payment</th><th>After the payment</th></tr></thead><tbody>
{{range .Sessions}}<tr id="session-{{.ID}}" data-order="{{.OrderID}}"><td data-label="Created">{{.Created.Format "15:04:05"}}</td><td class="id" data-label="Session">{{if .URL}}<a href="{{.Page}}">{{.ID}}</a>{{else}}{{.ID}}{{end}}<div class="muted">{{.PaymentIntentID}} {{.PaymentIntentStatus}}</div></td><td data-label="Order">{{.OrderID}}</td><td data-label="Mode">{{.Mode}}</td><td data-label="Total">{{.Total}}</td><td data-label="Status">{{.Status}}</td><td data-label="Payment">{{.PaymentStatus}}</td>
<td data-label="After the payment">{{if .SubscriptionStatus}}<div class="state">Subscription <span class="sub-status">{{.SubscriptionStatus}}</span>, period to <span class="period-end">{{.CurrentPeriodEnd.Format "Jan 2, 2006"}}</span></div>{{end}}
{{if .RefundStatus}}<div class="state">Refund {{.RefundStatus}}</div>{{end}}{{if .DisputeStatus}}<div class="state">Dispute {{.DisputeStatus}}</div>{{end}}
{{$a := .Action}}{{range .Actions}}<form method="post" action="{{$a}}{{.Action}}" class="inline"><button type="submit" class="small" name="do" value="{{.Action}}" title="{{.Title}}">{{.Label}}</button></form>{{end}}</td></tr>
{{else}}<tr><td colspan="8">None yet.</td></tr>{{end}}
</tbody></table>
<p class="muted">The buttons send the events Stripe sends after a payment, signed, to the webhook URL: a subscription's renewal (Renew) or its failure, a refund and its failure, a dispute and how it closed.</p>

<h2 id="deliveries-heading">Webhook deliveries to {{.WebhookURL}}</h2>
{{if .Unreachable}}<p class="error" id="endpoint-unreachable" role="status">The webhook endpoint is unreachable, as if the store were down: every delivery fails and nothing is sent.</p>{{end}}
<form method="post" action="{{.ReachAction}}" id="reachability-form">{{if .Unreachable}}<button type="submit" class="small" name="action" value="up" id="endpoint-up">Make the endpoint reachable again</button>{{else}}<button type="submit" class="small secondary" name="action" value="down" id="endpoint-down">Make the endpoint unreachable (the store is down)</button>{{end}}</form>
<p class="muted" id="events-summary">GET /v1/events lists the <span id="event-count">{{.EventCount}}</span> event(s) produced, <span id="undelivered-count">{{.Undelivered}}</span> of them not delivered (delivery_success=false). Stripe retries a failed delivery for three days; the simulator does not: the store fetches missed events back from the Events API (stripegateway's RecoverEvents, from a cron job or an admin's button).</p>
<table class="list" id="deliveries"><thead><tr><th>Time</th><th>Event</th><th>Type</th><th>Order</th><th>Answer</th><th>Attempts</th><th>Error</th></tr></thead><tbody>
{{range .Deliveries}}<tr class="delivery"><td data-label="Time">{{.At.Format "15:04:05"}}</td><td data-label="Event">{{.EventID}}</td><td class="type" data-label="Type">{{.EventType}}</td><td data-label="Order">{{.OrderID}}</td><td data-label="Answer">{{.StatusCode}}</td><td data-label="Attempts">{{.Attempts}}</td><td data-label="Error">{{.Err}}</td></tr>
{{else}}<tr><td colspan="7">None yet.</td></tr>{{end}}
</tbody></table>

{{with .Endpoint}}<h2 id="webhook-endpoint">Webhook endpoint</h2>
<p>GET /v1/webhook_endpoints lists one endpoint, <code>{{.Endpoint.ID}}</code>: <code id="endpoint-url">{{.Endpoint.URL}}</code>, <span id="endpoint-status">{{.Endpoint.Status}}</span>, API version <code id="endpoint-version">{{.Endpoint.APIVersion}}</code>, {{len .Endpoint.EnabledEvents}} of {{len .Events}} events enabled.
{{if .AnyFault}}<strong id="endpoint-misconfigured">Misconfigured</strong>: check it from the store's settings ("Check webhook endpoint").{{end}}</p>
<p class="muted">Misconfigure it to see what stripegateway's CheckWebhookEndpoint reports. Only the listing changes: events are still delivered to {{.WebhookURL}}.</p>
<form method="post" action="{{.Action}}" id="endpoint-form">
<label class="check"><input type="checkbox" name="disabled" id="fault-disabled"{{if .Faults.Disabled}} checked{{end}}> Disabled (as Stripe leaves an endpoint that failed for days)</label>
<label class="check"><input type="checkbox" name="trailing_slash" id="fault-trailing-slash"{{if .Faults.TrailingSlash}} checked{{end}}> URL with a trailing slash</label>
<label class="check"><input type="checkbox" name="other_scheme" id="fault-other-scheme"{{if .Faults.OtherScheme}} checked{{end}}> URL with the other scheme (http ↔ https)</label>
<label for="fault-api-version">API version</label>
<input type="text" name="api_version" id="fault-api-version" value="{{.Endpoint.APIVersion}}" list="api-versions" style="max-width:22em">
<datalist id="api-versions"><option value="2023-10-16"><option value="{{.Suggested}}"></datalist>
<fieldset><legend>Enabled events</legend>
{{range .Events}}<label class="check"><input type="checkbox" name="enabled_events" value="{{.Type}}"{{if .Enabled}} checked{{end}}> <code>{{.Type}}</code></label>
{{end}}</fieldset>
<div class="row"><div><button type="submit" id="endpoint-save" name="action" value="save">Save the endpoint</button></div>
<div><button type="submit" id="endpoint-reset" name="action" value="reset" class="secondary">Reset to a correct endpoint</button></div></div>
</form>{{end}}
</main></body></html>
{{end}}
`))
