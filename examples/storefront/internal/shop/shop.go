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
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/sqlstore"
	"github.com/b27de697/stripegateway/stripegatewaytest"
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
	// Simulator, when set, is mounted at SimulatorPath (offline mode). If
	// it also lists its webhook deliveries (a *stripegatewaytest.Simulator
	// does), the success and cancel pages sum up those of their order in
	// one line, linking to the simulator's dashboard.
	Simulator     http.Handler
	SimulatorPath string
	// SimulatorWebhookSecret is the secret the simulator signs with, shown
	// on the settings page in offline mode.
	SimulatorWebhookSecret string
	// Now is the clock; time.Now if nil.
	Now func() time.Time

	// AdminPassword opens the admin pages (Orders, Stripe settings, the
	// recovery of missed events). Empty, no one can sign in.
	AdminPassword string
	// AllowedHosts are host names (host or host:port) the store answers
	// to besides BaseURL's host and, when that is a loopback name, the
	// other loopback names on its port. A request for any other Host is
	// refused, so that DNS rebinding cannot reach the store.
	AllowedHosts []string
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
	handler http.Handler
	current atomic.Pointer[gatewayState]
	version atomic.Int64
	// recovery is the "Recover missed events" button's run (recover.go).
	recovery recovery
	// guard keeps the admin password, sessions and CSRF keys (auth.go).
	guard *guard
	// deliveries is the simulator's record of its webhook deliveries, in
	// offline mode; nil otherwise.
	deliveries deliveryLog
	// confirmations remember what ConfirmCheckout said when each customer
	// came back, for the Orders page.
	confirmations confirmations
}

// deliveryLog is what the pages read of the simulator: its webhook
// deliveries (stripegatewaytest.Simulator implements it).
type deliveryLog interface {
	Deliveries() []stripegatewaytest.WebhookDelivery
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
	a.guard = newGuard(base, opts.AdminPassword, opts.AllowedHosts)
	if dl, ok := opts.Simulator.(deliveryLog); ok {
		a.deliveries = dl
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.handleCatalog)
	mux.HandleFunc("POST /checkout", a.handleCheckout)
	mux.HandleFunc("GET /checkout/success", a.handleSuccess)
	mux.HandleFunc("GET /checkout/cancel", a.handleCancel)
	mux.HandleFunc("POST /orders/{id}/pay", a.handlePayAgain)
	mux.HandleFunc("GET /admin/login", a.handleLogin)
	mux.HandleFunc("POST /admin/login", a.handleLoginPost)
	mux.HandleFunc("POST /admin/logout", a.admin(a.handleLogout))
	mux.HandleFunc("GET /admin/orders", a.admin(a.handleOrders))
	mux.HandleFunc("POST /admin/recover", a.admin(a.handleRecover))
	mux.HandleFunc("GET /admin/settings", a.admin(a.handleSettings))
	mux.HandleFunc("POST /admin/settings", a.admin(a.handleSettingsPost))
	mux.HandleFunc("GET /admin/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/orders", http.StatusSeeOther)
	})
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
	a.handler = a.protect(mux)
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

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

// handleCatalog shows the products. With card payments switched off
// (Status inactive), the Buy buttons are disabled and say why, in the
// shopper's words; a signed-in admin also reads what to change.
func (a *App) handleCatalog(w http.ResponseWriter, r *http.Request) {
	st := a.current.Load()
	type item struct {
		Product
		PriceText string
		Every     string
		Action    string // the button's accessible name
	}
	cfg := st.gw.Config()
	var items []item
	for _, p := range Catalog {
		action := "Buy " + p.Name + " with " + cfg.DisplayName
		if p.Interval != "" {
			action = "Subscribe to " + p.Name + " with " + cfg.DisplayName
		}
		items = append(items, item{Product: p, PriceText: FormatMoney(p.Price, p.Currency), Every: intervalLabel(p.Interval), Action: action})
	}
	a.render(w, r, http.StatusOK, "catalog", "Shop", map[string]any{
		"Products":    items,
		"Quantities":  []int{1, 2, 3, 4, 5},
		"Enabled":     cfg.Status == stripegateway.StatusActive,
		"DisplayName": cfg.DisplayName,
		"Admin":       a.guard.session(r, a.now()) != nil,
	})
}

// handleCheckout creates an order from a product and a quantity, priced
// from the catalog, and starts its checkout.
func (a *App) handleCheckout(w http.ResponseWriter, r *http.Request) {
	if !a.checkForm(w, r) {
		return
	}
	st := a.current.Load()
	p, ok := productByID(r.PostForm.Get("product"))
	if !ok {
		a.renderError(w, r, http.StatusBadRequest, "Unknown product", "That product is not in the catalog.")
		return
	}
	qty, ok := quantity(r.PostForm.Get("quantity"))
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
	if !a.checkForm(w, r) {
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
		http.Redirect(w, r, a.orderPage(ord), http.StatusSeeOther)
		return
	}
	a.startCheckout(w, r, a.current.Load(), ord)
}

// orderPage is where the customer reads about an order: the success page
// once it is paid (or the payment is under way), the cancel page
// otherwise.
func (a *App) orderPage(ord *Order) string {
	q := "?order=" + url.QueryEscape(ord.ID)
	if ord.SessionID != "" && (paidOnce(ord.Status) || ord.Status == StatusAuthorized || ord.Status == StatusPending) {
		return "/checkout/success" + q + "&session_id=" + url.QueryEscape(ord.SessionID)
	}
	return "/checkout/cancel" + q
}

// maxRefreshes bounds how long the success page waits for the webhook:
// about a minute.
const maxRefreshes = 40

// handleSuccess is where Stripe sends the customer after paying. It asks
// Stripe about the session (ConfirmCheckout), which also checks that the
// session belongs to the order, and shows the order's status, which only
// the webhook changes. While the order is not settled, the page refreshes
// itself. What Stripe said goes to the Orders page, for the admin.
func (a *App) handleSuccess(w http.ResponseWriter, r *http.Request) {
	st := a.current.Load()
	q := r.URL.Query()
	ord, err := a.orders.Get(r.Context(), q.Get("order"))
	if err != nil {
		a.renderError(w, r, http.StatusNotFound, "Order not found", "There is no such order.")
		return
	}
	sessionID := q.Get("session_id")
	data := map[string]any{"Order": a.orderView(ord), "Bought": bought(ord), "Webhooks": a.webhookLine(ord), "TestMode": st.gw.Config().Mode != stripegateway.ModeLive}
	o, err := st.gw.ConfirmCheckout(r.Context(), stripegateway.ConfirmRequest{SessionID: sessionID, OrderID: ord.ID})
	switch {
	case errors.Is(err, stripegateway.ErrSessionMismatch), errors.Is(err, stripegateway.ErrInvalidRequest):
		a.renderError(w, r, http.StatusBadRequest, "Unknown payment", "This payment does not belong to this order.")
		return
	case err != nil:
		a.logger.WarnContext(r.Context(), "storefront: confirm checkout failed", "order_id", ord.ID, "error", err)
		a.confirmations.set(ord.ID, "Stripe could not be reached: "+err.Error())
	default:
		a.confirmations.set(ord.ID, kindName(o.Kind)+", "+FormatMoney(o.Amount, o.Currency))
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
	title := "Thank you for your order"
	switch {
	case ord.Status == StatusPaid:
	case ord.Status == StatusFailed:
		title = "Your payment did not go through"
	case !settled:
		title = "Confirming your payment"
	default:
		title = "Your order"
	}
	data["Heading"] = title
	a.renderRefresh(w, r, http.StatusOK, "success", title, refresh, data)
}

// handleCancel is where the payment page's back link leads, and where a
// declined customer returns. An order that is paid after all (or whose
// payment is under way) is shown on the success page instead: a paid order
// is never called "not completed".
func (a *App) handleCancel(w http.ResponseWriter, r *http.Request) {
	ord, err := a.orders.Get(r.Context(), r.URL.Query().Get("order"))
	if err != nil {
		a.renderError(w, r, http.StatusNotFound, "Order not found", "There is no such order.")
		return
	}
	if page := a.orderPage(ord); !strings.HasPrefix(page, "/checkout/cancel") {
		http.Redirect(w, r, page, http.StatusSeeOther)
		return
	}
	title, text := "Payment not completed", "You left the payment page before paying. Your order is kept: you can pay for it now."
	switch ord.Status {
	case StatusFailed:
		title, text = "Your payment did not go through", "Nothing was charged. You can try again with another card."
	case StatusCanceled, StatusExpired:
		title, text = "This order was not paid", "The payment was "+strings.ToLower(ord.Status.Label())+". Nothing was charged; you can place a new order from the shop."
	case StatusUnpaid:
	default:
		title, text = "Your order", ""
	}
	a.render(w, r, http.StatusOK, "cancel", title, map[string]any{
		"Order":    a.orderView(ord),
		"Heading":  title,
		"Text":     text,
		"CanRetry": ord.Status == StatusUnpaid || ord.Status == StatusFailed,
		"Webhooks": a.webhookLine(ord),
	})
}

// bought names what the order is for, for the customer: "2 × Coffee
// beans, 1 kg and 1 × Ceramic mug".
func bought(o *Order) string {
	parts := make([]string, 0, len(o.Lines))
	for _, l := range o.Lines {
		parts = append(parts, strconv.FormatInt(l.Quantity, 10)+" × "+l.Name)
	}
	switch len(parts) {
	case 0:
		return "your order"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// webhookView is the one line the success and cancel pages show in
// offline mode: what the simulator's webhooks did for the order, with a
// link to its dashboard.
type webhookView struct {
	Text string
	OK   bool
	Link string
}

// webhookLine sums up the simulator's webhook deliveries for the order:
// "2 signed webhook events delivered: checkout.session.completed,
// payment_intent.succeeded". Nil when there is no simulator.
func (a *App) webhookLine(ord *Order) *webhookView {
	if a.deliveries == nil {
		return nil
	}
	var delivered, failed []string
	lastErr := ""
	for _, d := range a.deliveries.Deliveries() {
		if d.OrderID != ord.ID && (ord.SessionID == "" || d.SessionID != ord.SessionID) {
			continue
		}
		if d.StatusCode >= 200 && d.StatusCode < 300 {
			delivered = append(delivered, string(d.EventType))
		} else {
			failed = append(failed, string(d.EventType))
			lastErr = d.Err
		}
	}
	v := &webhookView{OK: len(failed) == 0, Link: strings.TrimRight(a.opts.SimulatorPath, "/") + "/#deliveries"}
	events := func(n int) string {
		if n == 1 {
			return "1 signed webhook event"
		}
		return strconv.Itoa(n) + " signed webhook events"
	}
	switch {
	case len(delivered) == 0 && len(failed) == 0:
		v.Text = "No signed webhook event delivered yet"
	case len(failed) == 0:
		v.Text = events(len(delivered)) + " delivered: " + strings.Join(delivered, ", ")
	default:
		v.Text = events(len(failed)) + " not delivered: " + strings.Join(failed, ", ")
		if lastErr != "" {
			v.Text += " (" + lastErr + ")"
		}
		if len(delivered) > 0 {
			v.Text += "; " + strconv.Itoa(len(delivered)) + " delivered: " + strings.Join(delivered, ", ")
		}
	}
	return v
}

// confirmations remembers, per order, what ConfirmCheckout said when the
// customer came back: developer detail, for the Orders page.
type confirmations struct {
	mu sync.Mutex
	m  map[string]string
}

// maxConfirmations bounds the map: beyond it, it starts again.
const maxConfirmations = 10000

func (c *confirmations) set(orderID, said string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxConfirmations {
		c.m = map[string]string{}
	}
	c.m[orderID] = said
}

func (c *confirmations) get(orderID string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[orderID]
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
	// StripeSaid is what ConfirmCheckout said when the customer came
	// back to the success page (the Orders page shows it).
	StripeSaid string
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
func (a *App) handleOrders(w http.ResponseWriter, r *http.Request, _ *adminSession) {
	orders, err := a.orders.List(r.Context())
	if err != nil {
		a.renderError(w, r, http.StatusInternalServerError, "Orders unavailable", "The orders could not be read.")
		return
	}
	views := make([]orderView, 0, len(orders))
	for _, o := range orders {
		v := a.orderView(o)
		v.StripeSaid = a.confirmations.get(o.ID)
		views = append(views, v)
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
