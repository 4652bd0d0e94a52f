package stripegateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/b27de697/stripegateway/internal/redact"
	"github.com/b27de697/stripegateway/internal/webhookhttp"
)

// Handlers holds the webhook handler's callbacks: one per Kind, and Default
// for every kind whose own callback is nil. An event whose kind has no
// callback, and no Default, is answered 200 and not recorded.
//
// A callback handles one Outcome. Returning an error (or panicking) makes
// the handler answer 500, so that Stripe delivers the event again later;
// returning nil marks the event processed, and later deliveries of it are
// answered 200 without calling back. Its ctx carries the request's values
// but is not canceled when Stripe hangs up: the event's claim is renewed
// while the callback runs, and ctx ends only if a renewal finds the claim
// lost, or after 12 leases (WithEventLease).
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

// storeTimeout bounds the event store's Complete and Release calls, which
// run after the callback on a context that Stripe hanging up does not end.
const storeTimeout = 30 * time.Second

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
	o, ok := webhookhttp.Verified(w, r, g.logger, "stripegateway", g.VerifyAndParse, mismatch)
	if !ok {
		return
	}
	res, _ := g.process(r.Context(), o, wh.h)
	webhookhttp.Answer(w, res, retryAfterSeconds(g.opts.webhook.lease))
}

// mismatch reports the verification errors that fail every delivery until
// the configuration is fixed.
func mismatch(err error) bool {
	return errors.Is(err, ErrLivemodeMismatch) || errors.Is(err, ErrAPIVersionMismatch)
}

// The results of process.
const (
	processed      = webhookhttp.Processed
	noCallback     = webhookhttp.NoCallback
	duplicate      = webhookhttp.Duplicate
	busy           = webhookhttp.Busy
	storeFailed    = webhookhttp.StoreFailed
	callbackFailed = webhookhttp.CallbackFailed
)

// completeAttempts is how often Complete is tried after a successful
// callback, with waits of 100 ms, 400 ms and 1.6 s in between.
const completeAttempts = 4

// maxCallbackLeases bounds how long a callback may run while its claim is
// renewed: this many leases (an hour by default). Its context ends then.
const maxCallbackLeases = 12

// process runs the callback of o's kind at most once per event across
// deliveries, through the event store, and logs what happened. It is shared
// by the webhook handler and RecoverEvents.
//
// The error is the store's (storeFailed) or the callback's (callbackFailed),
// already logged.
func (g *Gateway) process(ctx context.Context, o *Outcome, h Handlers) (webhookhttp.Result, error) {
	log := g.logger.With("event_id", o.EventID, "event_type", string(o.EventType), "kind", string(o.Kind))
	cb := h.callback(o.Kind)
	if cb == nil {
		log.DebugContext(ctx, "stripegateway: webhook event has no callback")
		return noCallback, nil
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
		return storeFailed, err
	}
	switch status {
	case ClaimAcquired:
	case ClaimCompleted:
		log.InfoContext(ctx, "stripegateway: webhook event already processed")
		return duplicate, nil
	case ClaimBusy:
		log.InfoContext(ctx, "stripegateway: webhook event is being processed by another delivery", "status", http.StatusConflict)
		return busy, nil
	default:
		log.ErrorContext(ctx, "stripegateway: webhook event store returned an unknown claim status", "status", http.StatusServiceUnavailable, "claim_status", int(status))
		return storeFailed, fmt.Errorf("the event store's Claim returned an unknown status %d", int(status))
	}

	// The callback runs to its end even if Stripe hangs up, so that work
	// that succeeded is recorded. Its claim is renewed while it runs.
	cbErr := g.runClaimed(ctx, log, claim, func(cbCtx context.Context) error {
		return webhookhttp.Run(func() error { return cb(cbCtx, o) })
	})

	storeCtx, cancelStore := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancelStore()
	claim.Now = g.opts.now()
	if cbErr != nil {
		reason, attrs := webhookhttp.FailureAttrs(cbErr)
		attrs = append(attrs, "status", http.StatusInternalServerError, "order_id", o.OrderID)
		log.ErrorContext(ctx, "stripegateway: webhook callback failed; Stripe will deliver the event again", attrs...)
		if err := store.Release(storeCtx, claim, reason); err != nil {
			log.ErrorContext(ctx, "stripegateway: webhook event store failed to release the event", "error", redact.Text(err.Error()))
		}
		return callbackFailed, cbErr
	}
	if err := completeWithRetry(storeCtx, store, claim); err != nil {
		// The callback did its work: answering 200 stops Stripe from
		// delivering the event again, which is what the host wants. The
		// event's record stays "processing" until its lease ends; a
		// delivery after that would run the callback again (see the
		// README's "Exactly once").
		log.ErrorContext(ctx, "stripegateway: webhook event store failed to record the processed event; a delivery after its lease ends would run the callback again", "error", redact.Text(err.Error()))
	}
	log.InfoContext(ctx, "stripegateway: webhook event processed", "order_id", o.OrderID)
	return processed, nil
}

// runClaimed runs fn while renewing claim: every third of the lease, a Claim
// by the same owner extends it, so that a slow callback is not taken over
// by another delivery. fn's context ends if a renewal finds the claim lost
// (or the store unreachable until the lease ran out), or after
// maxCallbackLeases leases. Renewals read the real clock for their timing
// and the gateway's clock (WithClock) for the claim's times.
func (g *Gateway) runClaimed(ctx context.Context, log *slog.Logger, claim EventClaim, fn func(context.Context) error) error {
	lease := g.opts.webhook.lease
	store := g.opts.webhook.store
	fnCtx, cancel := context.WithTimeoutCause(context.WithoutCancel(ctx), maxCallbackLeases*lease, errors.New("the callback ran longer than its longest lease"))
	defer cancel()
	stop := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		tick := time.NewTicker(lease / 3)
		defer tick.Stop()
		held := time.Now().Add(lease) // the claim is ours until then
		for {
			select {
			case <-stop:
				return
			case <-fnCtx.Done():
				return
			case <-tick.C:
			}
			now := g.opts.now()
			c := claim
			c.Now, c.Expires = now, now.Add(lease)
			renewCtx, cancelRenew := context.WithTimeout(fnCtx, lease/3)
			st, err := store.Claim(renewCtx, c)
			cancelRenew()
			switch {
			case err == nil && st == ClaimAcquired:
				held = time.Now().Add(lease)
			case err == nil:
				log.ErrorContext(ctx, "stripegateway: the event's claim was lost while its callback ran; stopping the callback", "claim_status", int(st))
				cancel()
				return
			case time.Now().After(held):
				log.ErrorContext(ctx, "stripegateway: the event's claim could not be renewed before its lease ended; stopping the callback", "error", redact.Text(err.Error()))
				cancel()
				return
			default:
				log.WarnContext(ctx, "stripegateway: renewing the event's claim failed; retrying", "error", redact.Text(err.Error()))
			}
		}
	}()
	err := fn(fnCtx)
	close(stop)
	<-renewed
	return err
}

// completeWithRetry records a processed event, trying again after a
// failure: the callback's work is done, and a lost record would let a later
// delivery run it again. ErrClaimLost is final.
func completeWithRetry(ctx context.Context, store EventStore, claim EventClaim) error {
	wait := 100 * time.Millisecond
	var err error
	for attempt := 1; ; attempt++ {
		if err = store.Complete(ctx, claim); err == nil || errors.Is(err, ErrClaimLost) || attempt == completeAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 4
	}
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
