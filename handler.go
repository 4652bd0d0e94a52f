package stripegateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/b27de697/stripegateway/internal/redact"
)

// Handlers holds the webhook handler's callbacks: one per Kind, and Default
// for every kind whose own callback is nil. An event whose kind has no
// callback, and no Default, is answered 200 and not recorded.
//
// A callback handles one Outcome. Returning an error (or panicking) makes
// the handler answer 500, so that Stripe delivers the event again later;
// returning nil marks the event processed, and later deliveries of it are
// answered 200 without calling back. Its ctx carries the request's values
// but is not canceled when Stripe hangs up: it ends when the event's claim
// expires, the lease (WithEventLease) after the callback started.
type Handlers struct {
	OnPaymentSucceeded      func(ctx context.Context, o *Outcome) error
	OnPaymentPending        func(ctx context.Context, o *Outcome) error
	OnPaymentAuthorized     func(ctx context.Context, o *Outcome) error
	OnPaymentFailed         func(ctx context.Context, o *Outcome) error
	OnPaymentActionRequired func(ctx context.Context, o *Outcome) error
	OnPaymentCanceled       func(ctx context.Context, o *Outcome) error
	OnCheckoutExpired       func(ctx context.Context, o *Outcome) error
	OnPaymentRefunded       func(ctx context.Context, o *Outcome) error
	OnRefundFailed          func(ctx context.Context, o *Outcome) error
	OnPaymentDisputed       func(ctx context.Context, o *Outcome) error
	OnDisputeClosed         func(ctx context.Context, o *Outcome) error
	OnSubscriptionUpdated   func(ctx context.Context, o *Outcome) error
	OnSubscriptionCanceled  func(ctx context.Context, o *Outcome) error
	OnInvoiceCreated        func(ctx context.Context, o *Outcome) error
	OnUnhandled             func(ctx context.Context, o *Outcome) error

	// Default is called for every kind, Unhandled included, whose own
	// callback is nil.
	Default func(ctx context.Context, o *Outcome) error
}

// callback returns the callback that handles kind, or nil.
func (h Handlers) callback(kind Kind) func(context.Context, *Outcome) error {
	var cb func(context.Context, *Outcome) error
	switch kind {
	case PaymentSucceeded:
		cb = h.OnPaymentSucceeded
	case PaymentPending:
		cb = h.OnPaymentPending
	case PaymentAuthorized:
		cb = h.OnPaymentAuthorized
	case PaymentFailed:
		cb = h.OnPaymentFailed
	case PaymentActionRequired:
		cb = h.OnPaymentActionRequired
	case PaymentCanceled:
		cb = h.OnPaymentCanceled
	case CheckoutExpired:
		cb = h.OnCheckoutExpired
	case PaymentRefunded:
		cb = h.OnPaymentRefunded
	case RefundFailed:
		cb = h.OnRefundFailed
	case PaymentDisputed:
		cb = h.OnPaymentDisputed
	case DisputeClosed:
		cb = h.OnDisputeClosed
	case SubscriptionUpdated:
		cb = h.OnSubscriptionUpdated
	case SubscriptionCanceled:
		cb = h.OnSubscriptionCanceled
	case InvoiceCreated:
		cb = h.OnInvoiceCreated
	case Unhandled:
		cb = h.OnUnhandled
	}
	if cb == nil {
		cb = h.Default
	}
	return cb
}

// maxBodyBytes bounds the body the webhook handler reads: 1 MiB. Stripe's
// events are a few KB (a Checkout Session about 3 KB, an invoice with its
// first 10 lines about 10 KB, the largest subscription invoices some tens of
// KB), so this leaves a wide margin while bounding what one request can make
// the server hold. A host wanting less wraps the handler in
// http.MaxBytesHandler, which the handler answers the same way.
const maxBodyBytes int64 = 1 << 20

// storeTimeout bounds the event store's Complete and Release calls, which
// run after the callback on a context that Stripe hanging up does not end.
const storeTimeout = 30 * time.Second

// Response bodies: fixed, short, and never an error's detail.
const (
	bodyOK               = "ok\n"
	bodyDuplicate        = "ok: already processed\n"
	bodyMethodNotAllowed = "method not allowed\n"
	bodyTooLarge         = "request body too large\n"
	bodyBadRequest       = "bad request\n"
	bodyInProgress       = "event is being processed; retry later\n"
	bodyUnavailable      = "temporarily unavailable; retry later\n"
	bodyInternalError    = "internal error; retry later\n"
)

// WebhookHandler returns the http.Handler for Stripe's webhooks, to mount at
// the endpoint's path, e.g. /gateways/stripe/notification. It verifies and
// decodes each request with VerifyAndParse and calls the callback of the
// Outcome's kind, at most once per event across deliveries (see
// EventStore). It answers:
//
//   - 405, with an Allow header, to any method but POST;
//   - 413 to a body over 1 MiB (wrap the handler in http.MaxBytesHandler
//     for a smaller limit);
//   - 400 to a request that fails verification or decoding, including a
//     livemode or API-version mismatch (the log says how to fix those);
//   - 200 when the callback succeeded, when no callback handles the kind,
//     and when the event has been processed before;
//   - 409, with Retry-After, while another delivery of the same event is
//     being processed, so that Stripe delivers it again later;
//   - 500 when the callback returned an error or panicked (the panic is
//     recovered), so that Stripe delivers it again later;
//   - 503 when the event store fails.
//
// Bodies are short fixed texts. Details go to the gateway's logger
// (WithLogger), with secrets redacted and no payload data.
func (g *Gateway) WebhookHandler(h Handlers) http.Handler {
	return &webhookHandler{g: g, h: h}
}

type webhookHandler struct {
	g *Gateway
	h Handlers
}

func (wh *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g := wh.g
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		respond(w, http.StatusMethodNotAllowed, bodyMethodNotAllowed)
		return
	}

	payload, err := readBody(w, r, maxBodyBytes)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			g.logger.WarnContext(ctx, "stripegateway: webhook rejected: body over the limit", "status", http.StatusRequestEntityTooLarge, "limit_bytes", tooLarge.Limit)
			respond(w, http.StatusRequestEntityTooLarge, bodyTooLarge)
			return
		}
		g.logger.WarnContext(ctx, "stripegateway: webhook rejected: reading the body failed", "status", http.StatusBadRequest, "error", redact.Text(err.Error()))
		respond(w, http.StatusBadRequest, bodyBadRequest)
		return
	}

	o, err := g.VerifyAndParse(payload, r.Header.Get("Stripe-Signature"))
	if err != nil {
		level := slog.LevelWarn
		if errors.Is(err, ErrLivemodeMismatch) || errors.Is(err, ErrAPIVersionMismatch) {
			// Every delivery to this endpoint fails until it is fixed.
			level = slog.LevelError
		}
		g.logger.Log(ctx, level, "stripegateway: webhook rejected", "status", http.StatusBadRequest, "error", redact.Text(err.Error()))
		respond(w, http.StatusBadRequest, bodyBadRequest)
		return
	}
	log := g.logger.With("event_id", o.EventID, "event_type", string(o.EventType), "kind", string(o.Kind))

	cb := wh.h.callback(o.Kind)
	if cb == nil {
		log.DebugContext(ctx, "stripegateway: webhook event has no callback")
		respond(w, http.StatusOK, bodyOK)
		return
	}

	store := g.opts.webhook.store
	now := g.opts.now()
	claim := EventClaim{
		EventID:   o.EventID,
		EventType: string(o.EventType),
		Owner:     newOwnerToken(),
		Now:       now,
		Expires:   now.Add(g.opts.webhook.lease),
	}
	status, err := store.Claim(ctx, claim)
	if err != nil {
		log.ErrorContext(ctx, "stripegateway: webhook event store failed to claim the event", "status", http.StatusServiceUnavailable, "error", redact.Text(err.Error()))
		w.Header().Set("Retry-After", "60")
		respond(w, http.StatusServiceUnavailable, bodyUnavailable)
		return
	}
	switch status {
	case ClaimAcquired:
	case ClaimCompleted:
		log.InfoContext(ctx, "stripegateway: webhook event already processed")
		respond(w, http.StatusOK, bodyDuplicate)
		return
	case ClaimBusy:
		log.InfoContext(ctx, "stripegateway: webhook event is being processed by another delivery", "status", http.StatusConflict)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(g.opts.webhook.lease)))
		respond(w, http.StatusConflict, bodyInProgress)
		return
	default:
		log.ErrorContext(ctx, "stripegateway: webhook event store returned an unknown claim status", "status", http.StatusServiceUnavailable, "claim_status", int(status))
		respond(w, http.StatusServiceUnavailable, bodyUnavailable)
		return
	}

	// The callback runs to its end even if Stripe hangs up, so that work
	// that succeeded is recorded; it must end within the lease, after which
	// another delivery may take the event over. (The lease is measured on
	// the real clock here: a context's deadline cannot follow WithClock.)
	cbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.opts.webhook.lease)
	cbErr := runCallback(cbCtx, cb, o)
	cancel()

	storeCtx, cancelStore := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancelStore()
	claim.Now = g.opts.now()
	if cbErr != nil {
		reason := redact.Limit(redact.Text(cbErr.Error()), 500)
		attrs := []any{"status", http.StatusInternalServerError, "order_id", o.OrderID, "error", reason}
		var pe *panicError
		if errors.As(cbErr, &pe) {
			attrs = append(attrs, "stack", redact.Text(string(pe.stack)))
		}
		log.ErrorContext(ctx, "stripegateway: webhook callback failed; Stripe will deliver the event again", attrs...)
		if err := store.Release(storeCtx, claim, reason); err != nil {
			log.ErrorContext(ctx, "stripegateway: webhook event store failed to release the event", "error", redact.Text(err.Error()))
		}
		respond(w, http.StatusInternalServerError, bodyInternalError)
		return
	}
	if err := store.Complete(storeCtx, claim); err != nil {
		// The callback did its work: answering 200 stops Stripe from
		// delivering the event again, which is what the host wants.
		log.ErrorContext(ctx, "stripegateway: webhook event store failed to record the processed event", "error", redact.Text(err.Error()))
	}
	log.InfoContext(ctx, "stripegateway: webhook event processed", "order_id", o.OrderID)
	respond(w, http.StatusOK, bodyOK)
}

// panicError is a recovered panic of a callback.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("callback panicked: %v", e.value) }

// runCallback calls cb, turning a panic into a *panicError.
func runCallback(ctx context.Context, cb func(context.Context, *Outcome) error, o *Outcome) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return cb(ctx, o)
}

// readBody reads the request body up to limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil // a hand-built request: an empty body, refused as such
	}
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	defer body.Close()
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1) // +1: room for the read that sees EOF
	}
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// respond writes a fixed plain-text answer.
func respond(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// retryAfterSeconds is the Retry-After for an event being processed: the
// lease, at most a minute.
func retryAfterSeconds(lease time.Duration) int {
	s := int(lease / time.Second)
	if s > 60 {
		s = 60
	}
	if s < 1 {
		s = 1
	}
	return s
}

// newOwnerToken returns a random claim owner token.
func newOwnerToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
