package stripegateway

import (
	"cmp"
	"context"
	"strconv"

	"github.com/b27de697/stripegateway/internal/wire"

	"github.com/b27de697/stripegateway/internal/money"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"
)

// This file holds the operations on a payment after checkout: Capture,
// CancelAuthorization and Refund.

// PaymentResult is a PaymentIntent after Capture or CancelAuthorization.
// Amounts are in the currency's major unit; they are zero if Stripe answers
// with a currency this package does not know.
type PaymentResult struct {
	// ID is the PaymentIntent's ID, pi_….
	ID string
	// Status is the PaymentIntent's status: "succeeded" after a capture,
	// "canceled" after a cancellation.
	Status stripe.PaymentIntentStatus
	// OrderID is the PaymentIntent's order_id metadata, if any.
	OrderID string
	// Amount is the PaymentIntent's amount (the authorized amount).
	Amount decimal.Decimal
	// AmountReceived is what was captured.
	AmountReceived decimal.Decimal
	// AmountCapturable is what can still be captured.
	AmountCapturable decimal.Decimal
	// Currency is the lowercase ISO 4217 code.
	Currency string
	// IdempotencyKey is the key the request was sent with.
	IdempotencyKey string
	// Replayed is true when Stripe answered with the stored response of an
	// earlier request with the same idempotency key.
	Replayed bool
	// PaymentIntent is stripe-go's object, as Stripe returned it.
	PaymentIntent *stripe.PaymentIntent
}

// RefundResult is a refund created by Refund.
type RefundResult struct {
	// ID is the refund's ID, re_….
	ID string
	// Status is the refund's status: "pending", "succeeded", "failed", ...
	Status stripe.RefundStatus
	// PaymentIntentID is the refunded PaymentIntent.
	PaymentIntentID string
	// Amount is the refunded amount in the major unit (zero if Stripe
	// answers with a currency this package does not know).
	Amount decimal.Decimal
	// Currency is the lowercase ISO 4217 code.
	Currency string
	// Reason is the reason given, if any.
	Reason stripe.RefundReason
	// IdempotencyKey is the key the request was sent with.
	IdempotencyKey string
	// Replayed is true when Stripe answered with the stored response of an
	// earlier request with the same idempotency key: no new refund was
	// made. See Refund.
	Replayed bool
	// Refund is stripe-go's object, as Stripe returned it.
	Refund *stripe.Refund
}

// CaptureRequest is a capture of a payment authorized by a
// CheckoutDeferredCapture session.
type CaptureRequest struct {
	// PaymentIntentID is the authorized PaymentIntent, pi_…: Outcome's
	// PaymentIntentID of the PaymentAuthorized outcome. Required.
	PaymentIntentID string
	// Amount is how much to capture, in the currency's major unit, with the
	// same money rules as checkout; the rest of the authorization is
	// released. Zero captures everything authorized.
	Amount decimal.Decimal
	// IdempotencyKey overrides the derived idempotency key (see Capture).
	// At most 255 printable ASCII characters.
	IdempotencyKey string
}

// RefundRequest is a refund of a captured payment.
type RefundRequest struct {
	// PaymentIntentID is the paid PaymentIntent, pi_…. Required.
	PaymentIntentID string
	// Amount is how much to refund, in the currency's major unit, with the
	// same money rules as checkout. Zero refunds everything not yet
	// refunded.
	Amount decimal.Decimal
	// Reason is stripe.RefundReasonDuplicate, RefundReasonFraudulent,
	// RefundReasonRequestedByCustomer, or empty for none.
	Reason stripe.RefundReason
	// IdempotencyKey overrides the derived idempotency key (see Refund):
	// give the store's own refund ID to tell apart two refunds of the same
	// amount on one payment. At most 255 printable ASCII characters.
	IdempotencyKey string
}

// Capture captures a payment authorized by a CheckoutDeferredCapture
// session: everything authorized, or req.Amount, releasing the rest. To
// capture part of it, the PaymentIntent is retrieved first, and an amount
// above what is still capturable is refused with ErrInvalidAmount before
// anything is captured, as is a negative one.
//
// The capture is sent with the idempotency key
// "stripegateway-capture-<PaymentIntent ID>-<minor amount or full>", so
// retrying it never captures twice, unless req.IdempotencyKey overrides it.
// It works on an inactive gateway too. Errors are *FieldError for a bad
// request, and as for CreateCheckout otherwise.
func (g *Gateway) Capture(ctx context.Context, req CaptureRequest) (*PaymentResult, error) {
	const op = "capture payment"
	id := req.PaymentIntentID
	if err := checkPaymentIntentID(id); err != nil {
		return nil, err
	}
	if err := checkOptionalIdempotencyKey(req.IdempotencyKey); err != nil {
		return nil, err
	}
	params := &stripe.PaymentIntentCaptureParams{}
	part := "full"
	switch req.Amount.Sign() {
	case -1:
		return nil, newFieldError(ErrInvalidAmount, "Amount", "%s is negative: give the amount to capture, or 0 to capture everything authorized", money.Format(req.Amount))
	case 1:
		pi, cur, minor, err := g.paymentIntentAmount(ctx, id, req.Amount)
		if err != nil {
			return nil, err
		}
		// Never more than authorized. While the authorization is held,
		// AmountCapturable is what is left of it; in any other state
		// Stripe refuses the capture with its own state error.
		capturable := pi.Amount
		if pi.Status == stripe.PaymentIntentStatusRequiresCapture {
			capturable = pi.AmountCapturable
		}
		if minor > capturable {
			return nil, newFieldError(ErrInvalidAmount, "Amount", "%s %s is above the %s %s that PaymentIntent %s can capture (status %s); nothing was captured",
				amountString(cur, cur.FromMinor(minor)), cur.Upper(), amountString(cur, cur.FromMinor(capturable)), cur.Upper(), pi.ID, pi.Status)
		}
		params.AmountToCapture = stripe.Int64(minor)
		part = strconv.FormatInt(minor, 10)
	}
	key := cmp.Or(req.IdempotencyKey, operationIdempotencyKey("capture", id, part))
	params.Context = ctx
	params.SetIdempotencyKey(key)
	pi, replayed, err := callContext(ctx, func() (*stripe.PaymentIntent, bool, error) {
		pi, err := g.intents.Capture(id, params)
		return pi, err == nil && isReplayed(pi.LastResponse), err
	})
	if err != nil {
		return nil, stripeCallError(ctx, op, err)
	}
	res := newPaymentResult(pi, key, replayed)
	g.logger.Info("stripegateway: payment captured", "payment_intent", pi.ID, "amount", res.AmountReceived, "currency", res.Currency, "replayed", replayed)
	return res, nil
}

// CancelAuthorization cancels a PaymentIntent that has not been captured,
// releasing the hold on the customer's card. Canceling is idempotent at
// Stripe's end too, so it takes no idempotency key of the caller's: the
// request is sent with "stripegateway-cancel-<PaymentIntent ID>". It works
// on an inactive gateway too.
func (g *Gateway) CancelAuthorization(ctx context.Context, paymentIntentID string) (*PaymentResult, error) {
	const op = "cancel payment"
	if err := checkPaymentIntentID(paymentIntentID); err != nil {
		return nil, err
	}
	key := operationIdempotencyKey("cancel", paymentIntentID)
	params := &stripe.PaymentIntentCancelParams{}
	params.Context = ctx
	params.SetIdempotencyKey(key)
	pi, replayed, err := callContext(ctx, func() (*stripe.PaymentIntent, bool, error) {
		pi, err := g.intents.Cancel(paymentIntentID, params)
		return pi, err == nil && isReplayed(pi.LastResponse), err
	})
	if err != nil {
		return nil, stripeCallError(ctx, op, err)
	}
	g.logger.Info("stripegateway: authorization canceled", "payment_intent", pi.ID, "replayed", replayed)
	return newPaymentResult(pi, key, replayed), nil
}

// Refund refunds a captured payment: everything not yet refunded, or
// req.Amount (converted with the same money rules as checkout: too many
// decimals or a negative amount are refused with ErrInvalidAmount). To
// convert a partial amount, the PaymentIntent is retrieved first for its
// currency. Stripe refuses refunds above what is left to refund.
//
// The refund is sent with the idempotency key
// "stripegateway-refund-<PaymentIntent ID>-<minor amount or full>-<reason>",
// so retrying a refund after a timeout never refunds twice. The flip side:
// a second refund of the same amount and reason on the same payment within
// 24 hours is the same request to Stripe, which answers with the first
// refund (RefundResult.Replayed is then true) and refunds nothing more.
// Set req.IdempotencyKey (e.g. to the store's own refund ID) to make such
// refunds distinct. It works on an inactive gateway too.
func (g *Gateway) Refund(ctx context.Context, req RefundRequest) (*RefundResult, error) {
	const op = "refund payment"
	id := req.PaymentIntentID
	if err := checkPaymentIntentID(id); err != nil {
		return nil, err
	}
	switch req.Reason {
	case "", stripe.RefundReasonDuplicate, stripe.RefundReasonFraudulent, stripe.RefundReasonRequestedByCustomer:
	default:
		return nil, invalidField("Reason", "unknown refund reason %q: use stripe.RefundReasonDuplicate, RefundReasonFraudulent, RefundReasonRequestedByCustomer or none", req.Reason)
	}
	if err := checkOptionalIdempotencyKey(req.IdempotencyKey); err != nil {
		return nil, err
	}
	params := &stripe.RefundParams{PaymentIntent: stripe.String(id)}
	part := "full"
	switch req.Amount.Sign() {
	case -1:
		return nil, newFieldError(ErrInvalidAmount, "Amount", "a refund of %s is negative: give the amount to refund, or 0 to refund everything", money.Format(req.Amount))
	case 1:
		_, _, minor, err := g.paymentIntentAmount(ctx, id, req.Amount)
		if err != nil {
			return nil, err
		}
		params.Amount = stripe.Int64(minor)
		part = strconv.FormatInt(minor, 10)
	}
	if req.Reason != "" {
		params.Reason = stripe.String(string(req.Reason))
	}
	key := cmp.Or(req.IdempotencyKey, operationIdempotencyKey("refund", id, part, string(req.Reason)))
	params.Context = ctx
	params.SetIdempotencyKey(key)
	r, replayed, err := callContext(ctx, func() (*stripe.Refund, bool, error) {
		r, err := g.refunds.New(params)
		return r, err == nil && isReplayed(r.LastResponse), err
	})
	if err != nil {
		return nil, stripeCallError(ctx, op, err)
	}
	res := &RefundResult{
		ID:              r.ID,
		Status:          r.Status,
		PaymentIntentID: id,
		Currency:        string(r.Currency),
		Reason:          r.Reason,
		IdempotencyKey:  key,
		Replayed:        replayed,
		Refund:          r,
	}
	if r.PaymentIntent != nil && r.PaymentIntent.ID != "" {
		res.PaymentIntentID = r.PaymentIntent.ID
	}
	if cur, err := money.Lookup(res.Currency); err == nil {
		res.Amount = cur.FromMinor(r.Amount)
	}
	g.logger.Info("stripegateway: refund created", "payment_intent", res.PaymentIntentID, "refund", r.ID,
		"amount", res.Amount, "currency", res.Currency, "replayed", replayed)
	return res, nil
}

// getPaymentIntent retrieves a PaymentIntent.
func (g *Gateway) getPaymentIntent(ctx context.Context, id string) (*stripe.PaymentIntent, error) {
	params := &stripe.PaymentIntentParams{}
	params.Context = ctx
	pi, _, err := callContext(ctx, func() (*stripe.PaymentIntent, struct{}, error) {
		pi, err := g.intents.Get(id, params)
		return pi, struct{}{}, err
	})
	if err != nil {
		return nil, stripeCallError(ctx, "retrieve payment intent", err)
	}
	return pi, nil
}

// checkPaymentIntentID refuses anything but a PaymentIntent ID.
func checkPaymentIntentID(id string) error {
	if !isStripeID(id, "pi_") {
		return invalidField("PaymentIntentID", "%q is not a PaymentIntent ID (pi_…)", id)
	}
	return nil
}

// paymentIntentAmount fetches a PaymentIntent and converts amount to minor
// units of its currency, with the same money rules as checkout.
func (g *Gateway) paymentIntentAmount(ctx context.Context, id string, amount decimal.Decimal) (*stripe.PaymentIntent, money.Currency, int64, error) {
	pi, err := g.getPaymentIntent(ctx, id)
	if err != nil {
		return nil, money.Currency{}, 0, err
	}
	cur, err := money.Lookup(string(pi.Currency))
	if err != nil {
		return nil, money.Currency{}, 0, fieldErrorOf(err, "PaymentIntent "+pi.ID)
	}
	minor, err := cur.ToMinor(amount)
	if err != nil {
		return nil, money.Currency{}, 0, fieldErrorOf(err, "Amount")
	}
	return pi, cur, minor, nil
}

// newPaymentResult converts stripe-go's PaymentIntent.
func newPaymentResult(pi *stripe.PaymentIntent, key string, replayed bool) *PaymentResult {
	res := &PaymentResult{
		ID:             pi.ID,
		Status:         pi.Status,
		OrderID:        pi.Metadata[wire.MetadataOrderID],
		Currency:       string(pi.Currency),
		IdempotencyKey: key,
		Replayed:       replayed,
		PaymentIntent:  pi,
	}
	if cur, err := money.Lookup(res.Currency); err == nil {
		res.Amount = cur.FromMinor(pi.Amount)
		res.AmountReceived = cur.FromMinor(pi.AmountReceived)
		res.AmountCapturable = cur.FromMinor(pi.AmountCapturable)
	}
	return res
}
