// Package shop is the example storefront: a small net/http store with
// server-rendered pages that takes card payments through stripegateway,
// exactly as a host application would. The storefront command is a thin
// main around Start; tests and the end-to-end test start it in-process.
package shop

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/sqlstore"
)

// WebhookPath is where Stripe's webhooks are received, as the product
// documents give it.
const WebhookPath = "/gateways/stripe/notification"

// Options configure an App.
type Options struct {
	// BaseURL is the store's absolute URL as browsers reach it, e.g.
	// http://localhost:8080. Success and cancel URLs are built from it.
	BaseURL string
	// Config is the initial Stripe configuration. The settings page
	// changes it at run time.
	Config stripegateway.Config
	// GatewayOptions are given to every Gateway the App builds, e.g.
	// WithAPIURL for the simulator. The App adds WithLogger and
	// WithEventStore itself.
	GatewayOptions []stripegateway.Option
	// Orders keeps the orders; in memory if nil. With TxEvents it must be
	// a *SQLiteOrders on TxEvents' database.
	Orders OrderStore
	// EventStore records processed webhook events, shared by every
	// Gateway the App builds so that swapping the Gateway forgets nothing;
	// in memory if nil. With TxEvents, only the "Recover missed events"
	// button's runs use it (it must not be TxEvents: keep it nil).
	EventStore stripegateway.EventStore
	// TxEvents, when set, puts the webhook route on sqlstore's
	// transactional path: the route is TxEvents.WebhookHandler, and each
	// outcome changes its order (Orders, a *SQLiteOrders on the same
	// database) in the transaction that records the event as processed,
	// so that the change and the record commit together or not at all.
	// The "Recover missed events" button runs the events it recovers
	// through the same path (TxEvents.ProcessTx). Nil keeps the gateway's
	// own webhook handler with EventStore.
	TxEvents *sqlstore.Store
	// Logger; slog.Default() if nil.
	Logger *slog.Logger
	// Simulator, when set, is mounted at SimulatorPath (offline mode).
	Simulator     http.Handler
	SimulatorPath string
	// SimulatorWebhookSecret is the secret the simulator signs with, shown
	// on the settings page in offline mode.
	SimulatorWebhookSecret string
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// App is the storefront: an http.Handler. It is safe for concurrent use.
type App struct {
	opts    Options
	base    string
	orders  OrderStore
	events  stripegateway.EventStore
	tx      *txPath // the transactional path (Options.TxEvents); nil without it
	logger  *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux
	current atomic.Pointer[gatewayState]
	version atomic.Int64
	// recovery is the "Recover missed events" button's run (recover.go).
	recovery recovery
}

// txPath is the App's transactional path: the event store whose table
// records processed events, the orders on the same database, and the
// callbacks that change an order in the event's transaction.
type txPath struct {
	events   *sqlstore.Store
	orders   *SQLiteOrders
	handlers sqlstore.TxHandlers
}

// gatewayState is one live configuration: a Gateway, the callbacks of its
// webhook events and its webhook handler. The settings page builds a new
// one and swaps the pointer; a request loads the pointer once and keeps
// using what it loaded, so a swap never disturbs a request in flight.
type gatewayState struct {
	gw *stripegateway.Gateway
	// handlers are the webhook route's callbacks, which the "Recover
	// missed events" button runs too: one event, one update, whichever
	// way it arrives. On the transactional path the route runs the App's
	// sqlstore.TxHandlers instead, and so does the button (recover.go).
	handlers stripegateway.Handlers
	// webhook is the route's handler: the gateway's, or on the
	// transactional path the sqlstore's, verifying with gw.
	webhook http.Handler
	version int64
	since   time.Time
}

// New builds the App with opts.Config, which must be valid.
func New(opts Options) (*App, error) {
	base := strings.TrimRight(opts.BaseURL, "/")
	if u, err := url.Parse(base); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("shop: BaseURL must be an absolute http(s) URL, got %q", opts.BaseURL)
	}
	a := &App{opts: opts, base: base, orders: opts.Orders, events: opts.EventStore, logger: opts.Logger, now: opts.Now}
	if opts.TxEvents != nil {
		orders, ok := opts.Orders.(*SQLiteOrders)
		if !ok || orders == nil {
			return nil, errors.New("shop: TxEvents needs Orders to be a *SQLiteOrders on its database")
		}
		if es, ok := opts.EventStore.(*sqlstore.Store); ok && es == opts.TxEvents {
			return nil, errors.New("shop: with TxEvents, EventStore must not be TxEvents (leave it nil)")
		}
		a.tx = &txPath{events: opts.TxEvents, orders: orders}
		a.tx.handlers = sqlstore.TxHandlers{Default: a.onOutcomeTx}
	}
	if a.orders == nil {
		a.orders = NewMemoryOrders()
	}
	if a.events == nil {
		a.events = new(stripegateway.MemoryEventStore)
	}
	if a.logger == nil {
		a.logger = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if err := a.Configure(opts.Config); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.handleCatalog)
	mux.HandleFunc("POST /checkout", a.handleCheckout)
	mux.HandleFunc("GET /checkout/success", a.handleSuccess)
	mux.HandleFunc("GET /checkout/cancel", a.handleCancel)
	mux.HandleFunc("POST /orders/{id}/pay", a.handlePayAgain)
	mux.HandleFunc("GET /admin/orders", a.handleOrders)
	mux.HandleFunc("POST /admin/recover", a.handleRecover)
	mux.HandleFunc("GET /admin/settings", a.handleSettings)
	mux.HandleFunc("POST /admin/settings", a.handleSettingsPost)
	mux.HandleFunc(WebhookPath, func(w http.ResponseWriter, r *http.Request) {
		a.current.Load().webhook.ServeHTTP(w, r)
	})
	if opts.Simulator != nil {
		p := opts.SimulatorPath
		if p == "" {
			return nil, errors.New("shop: SimulatorPath is required with a Simulator")
		}
		mux.Handle(strings.TrimRight(p, "/")+"/", opts.Simulator)
	}
	a.mux = mux
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// Gateway returns the live Gateway.
func (a *App) Gateway() *stripegateway.Gateway { return a.current.Load().gw }

// Orders returns the order store.
func (a *App) Orders() OrderStore { return a.orders }

// Configure builds a Gateway from cfg and makes it the live one. Requests
// in flight finish with the Gateway they started with. An invalid cfg
// changes nothing and returns a *stripegateway.ConfigError.
func (a *App) Configure(cfg stripegateway.Config) error {
	gw, err := a.newGateway(cfg)
	if err != nil {
		return err
	}
	st := &gatewayState{gw: gw, handlers: stripegateway.Handlers{Default: a.onOutcome}, version: a.version.Add(1), since: a.now()}
	if a.tx != nil {
		st.webhook = a.tx.events.WebhookHandler(gw, a.tx.handlers)
	} else {
		st.webhook = gw.WebhookHandler(st.handlers)
	}
	a.current.Store(st)
	a.logger.Info("storefront: Stripe settings are live", "gateway", gw, "version", st.version)
	return nil
}

func (a *App) newGateway(cfg stripegateway.Config) (*stripegateway.Gateway, error) {
	opts := append([]stripegateway.Option{}, a.opts.GatewayOptions...)
	opts = append(opts, stripegateway.WithLogger(a.logger), stripegateway.WithEventStore(a.events))
	return stripegateway.New(cfg, opts...)
}

// onOutcome is the webhook callback for every kind. It is idempotent
// (applyOutcome ignores an event it has recorded) and never moves an order
// backwards.
func (a *App) onOutcome(ctx context.Context, o *stripegateway.Outcome) error {
	return a.applyTo(ctx, a.orders, o)
}

// onOutcomeTx is onOutcome on the transactional path: the order is read
// and changed in tx, the transaction that records the event as processed,
// so that both commit together or neither does. It must not touch the
// *sql.DB (a.orders): with the single SQLite connection, that would wait
// for tx's connection for ever.
func (a *App) onOutcomeTx(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error {
	return a.applyTo(ctx, a.tx.orders.InTx(tx), o)
}

// applyTo records the outcome on its order in orders.
func (a *App) applyTo(ctx context.Context, orders OrderStore, o *stripegateway.Outcome) error {
	id := o.OrderID
	if id == "" {
		// Disputes and refunds carry no order ID: find the order by its
		// PaymentIntent (or its subscription).
		var err error
		if id, err = orderByPayment(ctx, orders, o); err != nil {
			return err // 500: Stripe delivers the event again
		}
	}
	if id == "" {
		a.logger.InfoContext(ctx, "storefront: webhook event for no order of this store", "event_id", o.EventID, "kind", string(o.Kind))
		return nil
	}
	ord, err := orders.Update(ctx, id, func(ord *Order) error {
		applyOutcome(ord, o, a.now())
		return nil
	})
	switch {
	case errors.Is(err, ErrOrderNotFound):
		// Not ours (another store on the same Stripe account, say):
		// answering 200 stops Stripe from retrying it.
		a.logger.InfoContext(ctx, "storefront: webhook event for an unknown order", "order_id", id, "event_id", o.EventID)
		return nil
	case err != nil:
		return err // 500: Stripe delivers the event again
	}
	a.logger.InfoContext(ctx, "storefront: order updated", "order_id", id, "kind", string(o.Kind), "event_id", o.EventID, "status", string(ord.Status))
	return nil
}

// orderByPayment finds the newest order of the outcome's PaymentIntent,
// Checkout Session or subscription: "" if none. An error reading the
// orders is returned, so that the event is delivered again rather than
// taken as no order's.
func orderByPayment(ctx context.Context, orders OrderStore, o *stripegateway.Outcome) (string, error) {
	if o.PaymentIntentID == "" && o.SessionID == "" && o.SubscriptionID == "" {
		return "", nil
	}
	list, err := orders.List(ctx)
	if err != nil {
		return "", err
	}
	for _, ord := range list {
		if (o.PaymentIntentID != "" && ord.PaymentIntentID == o.PaymentIntentID) || (o.SessionID != "" && ord.SessionID == o.SessionID) ||
			(o.SubscriptionID != "" && ord.SubscriptionID == o.SubscriptionID) {
			return ord.ID, nil
		}
	}
	return "", nil
}

// newOrderID returns a random, unguessable order ID: the success page shows
// an order to whoever has its ID.
func newOrderID() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyz23456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "ord_" + string(b)
}

// checkoutRequest is the CheckoutRequest of an order. It is the same for
// the same order every time, so that CreateCheckout's idempotency key
// gives back the same session when the customer tries again.
func (a *App) checkoutRequest(ord *Order) stripegateway.CheckoutRequest {
	q := "?order=" + url.QueryEscape(ord.ID)
	req := stripegateway.CheckoutRequest{
		OrderID:    ord.ID,
		Currency:   ord.Currency,
		SuccessURL: a.base + "/checkout/success" + q + "&session_id={CHECKOUT_SESSION_ID}",
		CancelURL:  a.base + "/checkout/cancel" + q,
	}
	for _, l := range ord.Lines {
		req.Items = append(req.Items, stripegateway.LineItem{Name: l.Name, UnitAmount: l.UnitAmount, Quantity: l.Quantity})
	}
	if ord.Interval != "" {
		req.Mode = stripegateway.CheckoutSubscription
		req.Interval = ord.Interval
	}
	return req
}

// startCheckout creates the order's Checkout Session and redirects to it.
func (a *App) startCheckout(w http.ResponseWriter, r *http.Request, st *gatewayState, ord *Order) {
	cs, err := st.gw.CreateCheckout(r.Context(), a.checkoutRequest(ord))
	if err != nil {
		status := http.StatusBadGateway
		msg := "Stripe could not start the payment. Please try again in a moment."
		var minErr *stripegateway.MinimumError
		switch {
		case errors.Is(err, stripegateway.ErrGatewayDisabled):
			status, msg = http.StatusServiceUnavailable, "Card payments are switched off at the moment."
		case errors.As(err, &minErr):
			status, msg = http.StatusUnprocessableEntity, "The order total is below the minimum of "+FormatMoney(minErr.Minimum, minErr.Currency)+"."
		case errors.Is(err, stripegateway.ErrInvalidAmount), errors.Is(err, stripegateway.ErrInvalidRequest), errors.Is(err, stripegateway.ErrUnsupportedCurrency):
			status, msg = http.StatusUnprocessableEntity, "This order cannot be paid by card."
		}
		a.logger.ErrorContext(r.Context(), "storefront: checkout failed", "order_id", ord.ID, "error", err)
		a.renderError(w, r, status, "Payment could not start", msg)
		return
	}
	if _, err := a.orders.Update(r.Context(), ord.ID, func(o *Order) error {
		o.SessionID = cs.ID
		return nil
	}); err != nil {
		a.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "The order could not be saved.")
		return
	}
	http.Redirect(w, r, cs.URL, http.StatusSeeOther)
}

// sameOrigin refuses form posts from other sites (cross-site request
// forgery): browsers send Sec-Fetch-Site and Origin with every POST.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

// handleCatalog shows the products.
func (a *App) handleCatalog(w http.ResponseWriter, r *http.Request) {
	st := a.current.Load()
	type item struct {
		Product
		PriceText string
		Every     string
	}
	var items []item
	for _, p := range Catalog {
		items = append(items, item{Product: p, PriceText: FormatMoney(p.Price, p.Currency), Every: intervalLabel(p.Interval)})
	}
	a.render(w, r, http.StatusOK, "catalog", "Shop", map[string]any{
		"Products":    items,
		"Quantities":  []int{1, 2, 3, 4, 5},
		"Enabled":     st.gw.Config().Status == stripegateway.StatusActive,
		"DisplayName": st.gw.Config().DisplayName,
	})
}

// handleCheckout creates an order from a product and a quantity, priced
// from the catalog, and starts its checkout.
func (a *App) handleCheckout(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "cross-site form post refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	st := a.current.Load()
	p, ok := productByID(r.PostFormValue("product"))
	if !ok {
		a.renderError(w, r, http.StatusBadRequest, "Unknown product", "That product is not in the catalog.")
		return
	}
	qty, ok := quantity(r.PostFormValue("quantity"))
	if !ok || (p.Interval != "" && qty != 1) {
		a.renderError(w, r, http.StatusBadRequest, "Invalid quantity", "Choose a quantity from 1 to 10.")
		return
	}
	ord := &Order{
		ID:        newOrderID(),
		CreatedAt: a.now(),
		Currency:  p.Currency,
		Lines:     []Line{{ProductID: p.ID, Name: p.Name, UnitAmount: p.Price, Quantity: qty}},
		Total:     p.Price.Mul(decimal.NewFromInt(qty)),
		Interval:  p.Interval,
		Status:    StatusUnpaid,
	}
	if err := a.orders.Create(r.Context(), ord); err != nil {
		a.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "The order could not be saved.")
		return
	}
	a.logger.InfoContext(r.Context(), "storefront: order placed", "order_id", ord.ID, "total", ord.Total.String(), "currency", ord.Currency)
	a.startCheckout(w, r, st, ord)
}

// handlePayAgain sends the customer back to the order's checkout.
func (a *App) handlePayAgain(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "cross-site form post refused", http.StatusForbidden)
		return
	}
	ord, err := a.orders.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.renderError(w, r, http.StatusNotFound, "Order not found", "There is no such order.")
		return
	}
	switch ord.Status {
	case StatusUnpaid, StatusFailed:
	default:
		http.Redirect(w, r, "/checkout/cancel?order="+url.QueryEscape(ord.ID), http.StatusSeeOther)
		return
	}
	a.startCheckout(w, r, a.current.Load(), ord)
}

// maxRefreshes bounds how long the success page waits for the webhook:
// about a minute.
const maxRefreshes = 40

// handleSuccess is where Stripe sends the customer after paying. It asks
// Stripe about the session (ConfirmCheckout), which also checks that the
// session belongs to the order, and shows the order's status, which only
// the webhook changes. While the order is not settled, the page refreshes
// itself.
func (a *App) handleSuccess(w http.ResponseWriter, r *http.Request) {
	st := a.current.Load()
	q := r.URL.Query()
	ord, err := a.orders.Get(r.Context(), q.Get("order"))
	if err != nil {
		a.renderError(w, r, http.StatusNotFound, "Order not found", "There is no such order.")
		return
	}
	sessionID := q.Get("session_id")
	data := map[string]any{"Order": a.orderView(ord)}
	o, err := st.gw.ConfirmCheckout(r.Context(), stripegateway.ConfirmRequest{SessionID: sessionID, OrderID: ord.ID})
	switch {
	case errors.Is(err, stripegateway.ErrSessionMismatch), errors.Is(err, stripegateway.ErrInvalidRequest):
		a.renderError(w, r, http.StatusBadRequest, "Unknown payment", "This payment does not belong to this order.")
		return
	case err != nil:
		a.logger.WarnContext(r.Context(), "storefront: confirm checkout failed", "order_id", ord.ID, "error", err)
		data["StripeSays"] = "Stripe could not be reached; retrying."
	default:
		data["StripeSays"] = kindName(o.Kind)
		data["StripeAmount"] = FormatMoney(o.Amount, o.Currency)
	}

	n, _ := strconv.Atoi(q.Get("n"))
	refresh := ""
	settled := ord.Status != StatusUnpaid && ord.Status != StatusPending
	switch {
	case settled:
	case n < maxRefreshes:
		next := *r.URL
		qq := next.Query()
		qq.Set("n", strconv.Itoa(n+1))
		next.RawQuery = qq.Encode()
		refresh = "1;url=" + next.RequestURI()
		data["Waiting"] = true
	default:
		data["GaveUp"] = true
	}
	if err == nil && o.Kind == stripegateway.PaymentSucceeded && ord.Status != StatusPaid {
		data["PaidAtStripe"] = true
	}
	a.renderRefresh(w, r, http.StatusOK, "success", "Thank you", refresh, data)
}

// handleCancel is where the payment page's back link leads.
func (a *App) handleCancel(w http.ResponseWriter, r *http.Request) {
	ord, err := a.orders.Get(r.Context(), r.URL.Query().Get("order"))
	if err != nil {
		a.renderError(w, r, http.StatusNotFound, "Order not found", "There is no such order.")
		return
	}
	a.render(w, r, http.StatusOK, "cancel", "Payment not completed", map[string]any{
		"Order":    a.orderView(ord),
		"CanRetry": ord.Status == StatusUnpaid || ord.Status == StatusFailed,
	})
}

// orderView is an order as the pages show it.
type orderView struct {
	*Order
	TotalText   string
	Every       string
	StatusLabel string
	Lines       []lineView
	Outcomes    []outcomeView
	// What happened after the payment (afterView), for the pages.
	Subscription string // "Active until Feb 2, 2030", "Past due: paid until …"
	SubClass     string // the badge's class: active, past_due, ended
	Renewals     int    // paid invoices after the first
	Dispute      string // "Dispute opened: needs response", "Dispute won", …
	RefundIssue  string // "A refund failed: expired_or_canceled_card. …"
}

type lineView struct {
	Line
	UnitText, TotalText string
}

type outcomeView struct {
	Received
	KindName   string
	AmountText string
}

func (a *App) orderView(o *Order) orderView {
	v := orderView{Order: o, TotalText: FormatMoney(o.Total, o.Currency), Every: intervalLabel(o.Interval), StatusLabel: o.Status.Label()}
	afterView(&v)
	for _, l := range o.Lines {
		v.Lines = append(v.Lines, lineView{Line: l, UnitText: FormatMoney(l.UnitAmount, o.Currency), TotalText: FormatMoney(l.UnitAmount.Mul(decimal.NewFromInt(l.Quantity)), o.Currency)})
	}
	for _, rec := range o.Outcomes {
		ov := outcomeView{Received: rec, KindName: kindName(rec.Kind)}
		if rec.Currency != "" {
			ov.AmountText = FormatMoney(rec.Amount, rec.Currency)
		}
		v.Outcomes = append(v.Outcomes, ov)
	}
	return v
}

// handleOrders is the admin's list of orders and what Stripe said about
// each, with the "Recover missed events" button and its last run; the page
// refreshes itself while a run goes on.
func (a *App) handleOrders(w http.ResponseWriter, r *http.Request) {
	orders, err := a.orders.List(r.Context())
	if err != nil {
		a.renderError(w, r, http.StatusInternalServerError, "Orders unavailable", "The orders could not be read.")
		return
	}
	views := make([]orderView, 0, len(orders))
	for _, o := range orders {
		views = append(views, a.orderView(o))
	}
	rv := recoverView{Run: a.lastRecovery(), Days: recoverDays, Default: DefaultRecoverDays}
	refresh := ""
	if rv.Run != nil {
		rv.Default = rv.Run.Days
		if rv.Run.Running {
			refresh = strconv.Itoa(recoverRefresh) + ";url=/admin/orders#recover"
		}
	}
	a.renderRefresh(w, r, http.StatusOK, "orders", "Orders", refresh, map[string]any{"Orders": views, "Recover": rv})
}
