package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/internal/redact"
	"github.com/b27de697/stripegateway/internal/webhookhttp"
)

// This file is the transactional path: each event's callback runs in the
// transaction that records the event as processed.

// TxHandlers holds the callbacks of the transactional path (ProcessTx and
// Store.WebhookHandler): one per stripegateway.Kind, and Default for every
// kind whose own callback is nil, as in stripegateway.Handlers. An event
// whose kind has no callback, and no Default, is answered 200 and not
// recorded.
//
// A callback gets the transaction in which the event is recorded as
// processed, and makes the host's change in it, with tx, never with the
// *sql.DB (which may wait for tx's connection, or for its lock). The change
// and the record commit together, after the callback returns nil. When it
// returns an error or panics (the panic is recovered), or the process or
// the database dies before the commit, both roll back, and the event runs
// again at Stripe's next delivery. A callback must not commit or roll back
// tx itself.
type TxHandlers struct {
	OnPaymentSucceeded      func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
	OnPaymentPending        func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
	OnPaymentAuthorized     func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
	OnPaymentFailed         func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
	OnPaymentActionRequired func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
	OnPaymentCanceled       func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
	OnCheckoutExpired       func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
	OnPaymentRefunded       func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
	OnRefundFailed          func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
	OnPaymentDisputed       func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
	OnDisputeClosed         func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
	OnSubscriptionUpdated   func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
	OnSubscriptionCanceled  func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
	OnInvoiceCreated        func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
	OnUnhandled             func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error

	// Default is called for every kind, Unhandled included, whose own
	// callback is nil.
	Default func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error
}

type txCallback = func(context.Context, *sql.Tx, *stripegateway.Outcome) error

// callback returns the callback that handles kind, or nil.
func (h TxHandlers) callback(kind stripegateway.Kind) txCallback {
	var cb txCallback
	switch kind {
	case stripegateway.PaymentSucceeded:
		cb = h.OnPaymentSucceeded
	case stripegateway.PaymentPending:
		cb = h.OnPaymentPending
	case stripegateway.PaymentAuthorized:
		cb = h.OnPaymentAuthorized
	case stripegateway.PaymentFailed:
		cb = h.OnPaymentFailed
	case stripegateway.PaymentActionRequired:
		cb = h.OnPaymentActionRequired
	case stripegateway.PaymentCanceled:
		cb = h.OnPaymentCanceled
	case stripegateway.CheckoutExpired:
		cb = h.OnCheckoutExpired
	case stripegateway.PaymentRefunded:
		cb = h.OnPaymentRefunded
	case stripegateway.RefundFailed:
		cb = h.OnRefundFailed
	case stripegateway.PaymentDisputed:
		cb = h.OnPaymentDisputed
	case stripegateway.DisputeClosed:
		cb = h.OnDisputeClosed
	case stripegateway.SubscriptionUpdated:
		cb = h.OnSubscriptionUpdated
	case stripegateway.SubscriptionCanceled:
		cb = h.OnSubscriptionCanceled
	case stripegateway.InvoiceCreated:
		cb = h.OnInvoiceCreated
	case stripegateway.Unhandled:
		cb = h.OnUnhandled
	}
	if cb == nil {
		cb = h.Default
	}
	return cb
}

// ErrBusy is returned by ProcessTx for an event that a delivery through the
// lease path (the Store as a gateway's EventStore, on the same table) holds
// under an unexpired claim.
var ErrBusy = errors.New("sqlstore: the event is being processed by another delivery")

// TxTimeout bounds the transaction of one webhook delivery on
// Store.WebhookHandler: its callback's context ends, and the transaction
// rolls back, this long after the delivery was verified.
const TxTimeout = time.Minute

// ProcessTx runs o's callback in h inside one transaction that records o's
// event as processed, and commits both: the transactional path, for an
// outcome the host got outside the webhook handler (from
// stripegateway.Gateway.VerifyAndParse, or from RecoverEvents' callback).
// It returns ran=true when the callback ran and the transaction committed;
// ran=false and a nil error when the event had been processed before, or
// no callback handles its kind; an error matching ErrBusy when a
// lease-path claim holds the event; otherwise the callback's error (a
// panic is recovered as one) or the database's, after rolling back.
//
// On PostgreSQL, a concurrent ProcessTx of the same event waits until this
// one's transaction ends, then finds the event processed, or runs it if
// this one rolled back. On SQLite the transaction's first statement writes,
// which takes the database's write lock as BEGIN IMMEDIATE does, so
// transactions take turns (open the database with a busy timeout). No
// lease is involved. The transaction lives as long as ctx.
func (s *Store) ProcessTx(ctx context.Context, o *stripegateway.Outcome, h TxHandlers) (ran bool, err error) {
	switch res, err := s.processTx(ctx, o, h); res {
	case txProcessed:
		return true, nil
	case txBusy:
		return false, s.wrap("process", o.EventID, ErrBusy)
	default:
		return false, err
	}
}

// The results of processTx, as the gateway's handler has them.
const (
	txProcessed      = webhookhttp.Processed      // the callback ran and committed
	txNoCallback     = webhookhttp.NoCallback     // no callback handles the kind
	txDuplicate      = webhookhttp.Duplicate      // the event was processed before
	txBusy           = webhookhttp.Busy           // a lease-path claim holds it
	txStoreFailed    = webhookhttp.StoreFailed    // the database failed
	txCallbackFailed = webhookhttp.CallbackFailed // the callback failed or panicked
)

// processTx runs ProcessTx and logs what happened. The error is the
// database's (txStoreFailed) or the callback's (txCallbackFailed).
func (s *Store) processTx(ctx context.Context, o *stripegateway.Outcome, h TxHandlers) (_ webhookhttp.Result, err error) {
	log := s.logger.With("event_id", o.EventID, "event_type", string(o.EventType), "kind", string(o.Kind))
	cb := h.callback(o.Kind)
	if cb == nil {
		log.DebugContext(ctx, "sqlstore: webhook event has no callback")
		return txNoCallback, nil
	}
	storeFailed := func(what string, err error) (webhookhttp.Result, error) {
		log.ErrorContext(ctx, "sqlstore: webhook event store failed to "+what, "status", http.StatusServiceUnavailable, "error", redact.Text(err.Error()))
		return txStoreFailed, err
	}
	c := stripegateway.EventClaim{EventID: o.EventID, EventType: string(o.EventType), Owner: "tx:" + newToken(), Now: time.Now()}
	if err := s.validate("process", c, false); err != nil {
		return storeFailed("record the event", err)
	}
	v := s.values(c)
	wrap := func(err error) error { return s.wrap("process", c.EventID, err) }

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return storeFailed("begin the event's transaction", wrap(err))
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	var attempts int64
	err = tx.QueryRowContext(ctx, s.txClaim.sql, s.args(s.txClaim, &v)...).Scan(&attempts)
	if errors.Is(err, sql.ErrNoRows) {
		// The row exists: done, or held under a lease-path claim.
		var state string
		err = tx.QueryRowContext(ctx, s.state.sql, s.args(s.state, &v)...).Scan(&state)
		switch {
		case err == nil && state == StateDone:
			log.InfoContext(ctx, "sqlstore: webhook event already processed")
			return txDuplicate, nil
		case err == nil || errors.Is(err, sql.ErrNoRows):
			log.InfoContext(ctx, "sqlstore: webhook event is being processed by another delivery", "status", http.StatusConflict)
			return txBusy, nil
		}
	}
	if err != nil {
		return storeFailed("record the event", wrap(err))
	}

	if err := webhookhttp.Run(func() error { return cb(ctx, tx, o) }); err != nil {
		_, attrs := webhookhttp.FailureAttrs(err)
		attrs = append(attrs, "status", http.StatusInternalServerError, "order_id", o.OrderID)
		log.ErrorContext(ctx, "sqlstore: webhook callback failed; its transaction is rolled back and Stripe will deliver the event again", attrs...)
		return txCallbackFailed, err
	}
	committed = true // whatever Commit returns, the transaction is over
	if err := tx.Commit(); err != nil {
		return storeFailed("commit the event's transaction; Stripe will deliver the event again", wrap(err))
	}
	log.InfoContext(ctx, "sqlstore: webhook event processed", "order_id", o.OrderID)
	return txProcessed, nil
}

// newToken returns a random token for the owner column.
func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// WebhookHandler returns the http.Handler for Stripe's webhooks on the
// transactional path, to mount at the endpoint's path in place of
// g.WebhookHandler: it verifies and decodes each request with
// g.VerifyAndParse, then runs the callback of the Outcome's kind in the
// transaction that records the event as processed (see ProcessTx and
// TxHandlers). g's EventStore and lease are not used. It answers as the
// gateway's handler does:
//
//   - 405, with an Allow header, to any method but POST;
//   - 413 to a body over 1 MiB;
//   - 400 to a request that fails verification or decoding;
//   - 200 when the callback's transaction committed, when no callback
//     handles the kind, and when the event has been processed before;
//   - 409, with Retry-After, while a lease-path delivery holds the event;
//   - 500 when the callback returned an error or panicked: nothing was
//     committed, and Stripe delivers the event again;
//   - 503, with Retry-After, when the database fails, the commit included.
//
// A concurrent delivery of the same event waits for the first one's
// transaction (PostgreSQL: on the event's row; SQLite: on the write lock),
// and then answers 200 without running the callback, or runs it if the
// first one rolled back. The callback's context carries the request's
// values but is not canceled when Stripe hangs up, so that work that
// succeeded commits; it ends after TxTimeout, which rolls back. Bodies are
// short fixed texts; details go to the store's logger (WithLogger), with
// secrets redacted and no payload data.
func (s *Store) WebhookHandler(g *stripegateway.Gateway, h TxHandlers) http.Handler {
	if g == nil {
		panic("sqlstore: WebhookHandler(nil, …): pass the gateway that verifies the events")
	}
	return &txWebhookHandler{s: s, g: g, h: h}
}

type txWebhookHandler struct {
	s *Store
	g *stripegateway.Gateway
	h TxHandlers
}

func (wh *txWebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o, ok := webhookhttp.Verified(w, r, wh.s.logger, "sqlstore", wh.g.VerifyAndParse, func(err error) bool {
		return errors.Is(err, stripegateway.ErrLivemodeMismatch) || errors.Is(err, stripegateway.ErrAPIVersionMismatch)
	})
	if !ok {
		return
	}
	txCtx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), TxTimeout)
	defer cancel()
	res, _ := wh.s.processTx(txCtx, o, wh.h)
	webhookhttp.Answer(w, res, 60)
}
