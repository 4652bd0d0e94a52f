package stripegateway

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/b27de697/stripegateway/internal/wire"

	"github.com/b27de697/stripegateway/internal/money"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/form"
)

// This file creates, confirms and expires Checkout Sessions; what follows a
// payment (capture, cancel, refund) is in payment.go.
//
// Every amount crosses the API as Stripe's integer minor units, converted
// exactly by internal/money; nothing is rounded. Every call carries the caller's
// context and ends at its deadline (see callContext), and every write is sent
// with a deterministic idempotency key so that a call retried after a timeout
// never creates a second session, capture or refund.

// CheckoutMode is what a Checkout Session does with the money.
type CheckoutMode string

// Checkout modes.
const (
	// CheckoutPayment takes a one-time payment, captured at once. It is the
	// default (the zero CheckoutMode means CheckoutPayment).
	CheckoutPayment CheckoutMode = "payment"
	// CheckoutSubscription starts a subscription: every inline item is
	// billed every CheckoutRequest.Interval.
	CheckoutSubscription CheckoutMode = "subscription"
	// CheckoutDeferredCapture authorizes a one-time payment now (the card is
	// held, capture_method=manual) and leaves the capture to Capture, or
	// the release to CancelAuthorization. Card authorizations last about 7
	// days. Completion is reported as PaymentAuthorized.
	CheckoutDeferredCapture CheckoutMode = "deferred_capture"
)

// LineItem is one line of an order. Give either Name and UnitAmount (an
// inline price), or PriceID (an existing Stripe Price); Quantity always.
type LineItem struct {
	// Name is shown to the customer. Required for an inline price.
	Name string
	// Description is shown under the name; optional.
	Description string
	// UnitAmount is the price of one unit in the currency's major unit
	// (19.99 for 19.99 EUR, 500 for 500 JPY). Zero is a free item. It may
	// not have more decimals than the currency allows: nothing is rounded.
	UnitAmount decimal.Decimal
	// Quantity is the number of units, at least 1.
	Quantity int64
	// PriceID names an existing Stripe Price (price_…) instead of Name and
	// UnitAmount. CreateCheckout retrieves it to check its currency, its
	// type (one-time or recurring, matching the mode) and the order total.
	// It must have a fixed per-unit amount in the order's currency (its
	// own, or one of its currency_options); tiered, metered and
	// customer-chosen prices are refused, since their total cannot be
	// checked.
	PriceID string
}

// CheckoutRequest describes one Checkout Session. Only OrderID, Currency,
// Items and SuccessURL are required.
type CheckoutRequest struct {
	// OrderID is the store's order reference, at most 200
	// characters. It is written to the session's client_reference_id and
	// to the order_id metadata of the session and of its
	// PaymentIntent or Subscription, so that every later event carries it.
	OrderID string

	// Mode is CheckoutPayment (the default), CheckoutSubscription or
	// CheckoutDeferredCapture.
	Mode CheckoutMode

	// Currency is the ISO 4217 code, in any case ("EUR", "eur"); it is
	// sent lowercase. Every amount is in this currency.
	Currency string

	// Items are the order's lines: at least one, at most 100 (20 recurring
	// ones, and 20 one-time ones, in subscription mode).
	Items []LineItem

	// Interval and IntervalCount say how often the inline items of a
	// subscription are billed: every IntervalCount Intervals
	// (stripe.PriceRecurringIntervalDay, Week, Month or Year; a count of 0
	// means 1), at most three years (3 years, 36 months, 156 weeks or 1095
	// days). Interval is required in subscription mode if there is an
	// inline item, and must be empty in the other modes.
	Interval      stripe.PriceRecurringInterval
	IntervalCount int64

	// SuccessURL is where Stripe sends the customer after paying: an
	// absolute http or https URL. It may contain {CHECKOUT_SESSION_ID},
	// which Stripe replaces with the session's ID (pass it to
	// ConfirmCheckout). Required.
	SuccessURL string
	// CancelURL is where the back link of the payment page leads; optional.
	CancelURL string

	// CustomerEmail prefills the customer's email. Optional; not together
	// with CustomerID.
	CustomerEmail string
	// CustomerID is an existing Stripe Customer (cus_…). Optional.
	CustomerID string

	// Metadata is added to the session and to its PaymentIntent or
	// Subscription, next to the order_id metadata (which it may not contain).
	// Stripe's limits apply: 50 keys in all, keys of at most 40 characters
	// without square brackets, values of at most 500 characters. Empty
	// values are left out.
	Metadata map[string]string

	// Locale is the payment page's language, one of Stripe's Checkout
	// locales ("auto", "de", "en-GB", "pt-BR", ...). Empty means "auto".
	Locale string

	// ExpiresAt is when the session expires if unpaid: between 30 minutes
	// and 24 hours from now. The zero time means
	// Stripe's default, 24 hours. It is an absolute time rather than a
	// duration on purpose: a duration would give a different expires_at on
	// every retry, and Stripe refuses to reuse an idempotency key with
	// different parameters. Derive it from the order, e.g.
	// order.CreatedAt.Add(time.Hour).
	ExpiresAt time.Time

	// ThreeDSecure says when Checkout asks for 3-D Secure on card payments:
	// stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecureAny
	// (on every card payment that supports it), ...Challenge (ask for a
	// challenge too), or ...Automatic (Stripe's SCA engine and Radar decide;
	// no parameter is sent). Empty means the gateway's WithThreeDSecure
	// policy, automatic unless set.
	ThreeDSecure stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecure

	// IdempotencyKey overrides the derived idempotency key (see
	// CreateCheckout). At most 255 printable ASCII characters.
	IdempotencyKey string
}

// CheckoutSession is a created (or expired) Checkout Session.
type CheckoutSession struct {
	// ID is the session's ID, cs_….
	ID string
	// URL is the Stripe-hosted payment page to redirect the customer to.
	// It is empty once the session is complete or expired.
	URL string
	// ExpiresAt is when the session expires if unpaid.
	ExpiresAt time.Time
	// AmountTotal is the total Stripe computed, in the major unit (the
	// request's own total when the answer carries none).
	AmountTotal decimal.Decimal
	// Currency is the lowercase ISO 4217 code.
	Currency string
	// IdempotencyKey is the key the request was sent with.
	IdempotencyKey string
	// Replayed is true when Stripe answered with the stored response of an
	// earlier request with the same idempotency key (header
	// Idempotent-Replayed): the session already existed.
	Replayed bool
	// Session is stripe-go's object, as Stripe returned it.
	Session *stripe.CheckoutSession
}

// CreateCheckout validates req against the money rules and Stripe's limits,
// and creates a Stripe-hosted Checkout Session for it. Redirect the customer
// to the returned URL.
//
// Nothing is sent to Stripe unless the whole request is valid, except that
// PriceID items are retrieved first to check them. Errors match:
//   - ErrGatewayDisabled for an inactive gateway;
//   - ErrInvalidRequest for a missing or malformed field or a broken
//     Stripe limit, naming the field;
//   - ErrInvalidAmount for an amount that cannot be charged exactly
//     (negative, too many decimals for the currency, a quantity below 1,
//     a total above Stripe's maximum), naming the item;
//   - ErrUnsupportedCurrency for a currency Stripe does not charge in;
//   - ErrBelowMinimum (with *MinimumError) for a total below the store's
//     MinimumAmount, or a non-zero total below Stripe's minimum charge. A
//     zero total is a no-cost order and is allowed in payment mode unless
//     the store's minimum forbids it;
//   - ErrStripeAPI, ErrAuthentication or ErrPermissionDenied when Stripe
//     refuses (with *stripe.Error), and the context's error when ctx ends
//     first (errors.Is(err, context.DeadlineExceeded)).
//
// The request is sent with an idempotency key derived from the order ID and
// a SHA-256 hash of every parameter sent, so calling CreateCheckout again
// with the same request (after a timeout, say) returns the same session
// instead of creating a second one, for as long as Stripe keeps the key
// (at least 24 hours); a changed request gets a new key and a new session.
// stripe-go's own network retries reuse the key too.
func (g *Gateway) CreateCheckout(ctx context.Context, req CheckoutRequest) (*CheckoutSession, error) {
	const op = "create checkout session"
	if !(g.cfg.Status == StatusActive) {
		return nil, fmt.Errorf("%w: %s refused: the gateway's Status is %q; activate it to take payments", ErrGatewayDisabled, op, g.cfg.Status)
	}
	plan, err := g.planCheckout(req)
	if err != nil {
		return nil, err
	}
	if err := g.resolvePrices(ctx, plan); err != nil {
		return nil, err
	}
	if err := g.checkTotal(plan); err != nil {
		return nil, err
	}

	// The form is encoded once: its text derives the idempotency key, and
	// the same values are sent (what session.Client.New does, minus a
	// second encoding).
	params := plan.params
	values := &form.Values{}
	form.AppendTo(values, params)
	key := req.IdempotencyKey
	if key == "" {
		key = checkoutIdempotencyKey(req.OrderID, values)
	}
	params.SetIdempotencyKey(key)
	params.Context = ctx

	s, replayed, err := callContext(ctx, func() (*stripe.CheckoutSession, bool, error) {
		s := &stripe.CheckoutSession{}
		err := g.backend.CallRaw(http.MethodPost, "/v1/checkout/sessions", string(g.cfg.SecretKey), values, &params.Params, s)
		return s, err == nil && isReplayed(s.LastResponse), err
	})
	if err != nil {
		return nil, stripeCallError(ctx, op, err)
	}
	cs := newCheckoutSession(s, plan.cur)
	if s.AmountTotal == 0 && plan.total > 0 {
		// An answer without amount_total (API mocks send null): the total
		// sent is the total, since no discounts, tax or shipping are asked
		// for.
		cs.AmountTotal = plan.cur.FromMinor(plan.total)
		cs.Currency = plan.cur.Code()
	}
	cs.IdempotencyKey = key
	cs.Replayed = replayed
	g.logger.Info("stripegateway: checkout session created",
		"order_id", req.OrderID, "session_id", s.ID, "mode", string(plan.mode),
		"amount", cs.AmountTotal, "currency", cs.Currency, "replayed", replayed)
	return cs, nil
}

// ConfirmRequest names the Checkout Session a customer came back from and
// the order it must belong to.
type ConfirmRequest struct {
	// SessionID is the Checkout Session's ID, cs_…: the success URL's
	// {CHECKOUT_SESSION_ID}. Required.
	SessionID string
	// OrderID is the order the customer is paying, as the store knows it
	// (not as the URL says). Required.
	OrderID string
}

// ConfirmCheckout is for the success page: the customer is back from Stripe,
// probably before the webhook. It retrieves the session (with its
// PaymentIntent), checks that it belongs to req.OrderID and to the gateway's
// mode, and returns the same Outcome the webhook path gives for it: mark the
// order paid only for PaymentSucceeded (or PaymentAuthorized in deferred
// capture mode). Errors match:
//   - ErrSessionMismatch when the session is not the order's (neither its
//     client_reference_id nor its order_id metadata is OrderID, or one of
//     them names another order), or OrderID is empty: a customer pasting
//     another order's session ID gets nothing;
//   - ErrLivemodeMismatch for a session of the other mode;
//   - ErrInvalidRequest for a malformed session ID;
//   - ErrStripeAPI, ErrAuthentication, ErrPermissionDenied, or the
//     context's error, as for CreateCheckout.
//
// It works on an inactive gateway too, so that orders placed before it was
// deactivated can be confirmed.
func (g *Gateway) ConfirmCheckout(ctx context.Context, req ConfirmRequest) (*Outcome, error) {
	sessionID, orderID := req.SessionID, req.OrderID
	const op = "retrieve checkout session"
	if !isStripeID(sessionID, "cs_") {
		return nil, invalidField("SessionID", "%q is not a Checkout Session ID (cs_…)", sessionID)
	}
	if strings.TrimSpace(orderID) == "" {
		return nil, fmt.Errorf("%w: no order ID given to check session %s against", ErrSessionMismatch, sessionID)
	}
	params := &stripe.CheckoutSessionParams{}
	params.Context = ctx
	params.AddExpand("payment_intent")
	s, _, err := callContext(ctx, func() (*stripe.CheckoutSession, struct{}, error) {
		s, err := g.sessions.Get(sessionID, params)
		return s, struct{}{}, err
	})
	if err != nil {
		return nil, stripeCallError(ctx, op, err)
	}
	if s.Livemode != g.livemode() {
		return nil, fmt.Errorf("%w: checkout session %s is a %s-mode session but the gateway is in %s mode",
			ErrLivemodeMismatch, s.ID, modeOf(s.Livemode), g.mode)
	}
	ref, meta := s.ClientReferenceID, s.Metadata[wire.MetadataOrderID]
	if (ref == "" && meta == "") || (ref != "" && ref != orderID) || (meta != "" && meta != orderID) {
		return nil, fmt.Errorf("%w: checkout session %s does not belong to order %q", ErrSessionMismatch, s.ID, orderID)
	}
	o := outcomeOfSession(viewCheckoutSession(s))
	o.CheckoutSession = s
	o.dropClientSecrets()
	g.logger.Debug("stripegateway: checkout confirmed", "order_id", orderID, "session_id", s.ID, "kind", string(o.Kind))
	return o, nil
}

// ExpireCheckout expires an open Checkout Session, for when the store
// cancels the order: the customer can no longer pay through it. Stripe
// refuses to expire a session that is already complete (check the order's
// state, or ConfirmCheckout, first). Expiring is idempotent at Stripe's end
// too, so it takes no idempotency key of the caller's: the request is sent
// with "stripegateway-expire-<session ID>". It works on an inactive gateway
// too.
func (g *Gateway) ExpireCheckout(ctx context.Context, sessionID string) (*CheckoutSession, error) {
	const op = "expire checkout session"
	if !isStripeID(sessionID, "cs_") {
		return nil, invalidField("SessionID", "%q is not a Checkout Session ID (cs_…)", sessionID)
	}
	key := operationIdempotencyKey("expire", sessionID)
	params := &stripe.CheckoutSessionExpireParams{}
	params.Context = ctx
	params.SetIdempotencyKey(key)
	s, replayed, err := callContext(ctx, func() (*stripe.CheckoutSession, bool, error) {
		s, err := g.sessions.Expire(sessionID, params)
		return s, err == nil && isReplayed(s.LastResponse), err
	})
	if err != nil {
		return nil, stripeCallError(ctx, op, err)
	}
	cur, _ := money.Lookup(string(s.Currency))
	cs := newCheckoutSession(s, cur)
	cs.IdempotencyKey, cs.Replayed = key, replayed
	g.logger.Info("stripegateway: checkout session expired", "session_id", s.ID, "replayed", replayed)
	return cs, nil
}

// newCheckoutSession converts stripe-go's session. cur is the currency to
// use when the response names none (or one this package does not know).
func newCheckoutSession(s *stripe.CheckoutSession, cur money.Currency) *CheckoutSession {
	cs := &CheckoutSession{
		ID:       s.ID,
		URL:      s.URL,
		Currency: string(s.Currency),
		Session:  s,
	}
	if s.ExpiresAt != 0 {
		cs.ExpiresAt = time.Unix(s.ExpiresAt, 0).UTC()
	}
	if c, err := money.Lookup(cs.Currency); err == nil {
		cur = c
	}
	if cur.Code() != "" {
		cs.Currency = cur.Code()
		cs.AmountTotal = cur.FromMinor(s.AmountTotal)
	}
	return cs
}
