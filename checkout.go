package stripegateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/form"
	"github.com/stripe/stripe-go/v76/price"
)

// This file is the payment side of the gateway: Checkout Sessions and the
// operations that follow them (confirm, capture, cancel, refund, expire).
//
// Every amount crosses the API as Stripe's integer minor units, converted
// exactly by money.go; nothing is rounded. Every call carries the caller's
// context and ends at its deadline (see callContext), and every write is sent
// with a deterministic idempotency key so that a call retried after a timeout
// never creates a second session, capture or refund.

// checkoutOptions holds the checkout settings of a Gateway.
type checkoutOptions struct {
	// threeDSecure is the default of CheckoutRequest.ThreeDSecure; "" is
	// ThreeDSecureAutomatic.
	threeDSecure ThreeDSecure
}

// WithThreeDSecure sets the store's 3-D Secure policy for card payments in
// Checkout: the ThreeDSecure of every CheckoutRequest that leaves it empty.
// ThreeDSecureAny asks for 3-D Secure on every card payment; the default,
// ThreeDSecureAutomatic, leaves it to Stripe's SCA engine and Radar.
func WithThreeDSecure(t ThreeDSecure) Option {
	return func(o *options) {
		switch t {
		case ThreeDSecureAutomatic, ThreeDSecureAny:
			o.checkout.threeDSecure = t
		default:
			o.errs = append(o.errs, fmt.Errorf("WithThreeDSecure(%q): use ThreeDSecureAutomatic or ThreeDSecureAny", redactText(string(t))))
		}
	}
}

// Limits of Stripe's API that CreateCheckout checks before calling Stripe.
// They come from the API reference of POST /v1/checkout/sessions and of
// metadata (https://docs.stripe.com/api/metadata).
const (
	// MaxPaymentLineItems is the most line items a Checkout Session in
	// payment mode (and deferred-capture mode) may have.
	MaxPaymentLineItems = 100
	// MaxSubscriptionLineItems is the most line items with recurring prices
	// a Checkout Session in subscription mode may have. Stripe allows as
	// many again with one-time prices (only possible here with PriceID
	// items); those count separately.
	MaxSubscriptionLineItems = 20
	// MaxMetadataKeys is the most metadata keys an object may have. The
	// keys CreateCheckout adds itself (MetadataOrderID, and a marker for
	// deferred capture) count towards it.
	MaxMetadataKeys = 50
	// MaxMetadataKeyLength is the longest metadata key, in characters.
	MaxMetadataKeyLength = 40
	// MaxMetadataValueLength is the longest metadata value, in characters.
	MaxMetadataValueLength = 500
	// MaxOrderIDLength is the longest OrderID, in characters: Stripe's
	// limit for client_reference_id.
	MaxOrderIDLength = 200
	// MinCheckoutExpiry and MaxCheckoutExpiry bound how far after its
	// creation a Checkout Session may expire.
	MinCheckoutExpiry = 30 * time.Minute
	MaxCheckoutExpiry = 24 * time.Hour
)

// maxStripeURLLength is Stripe's limit for success_url and cancel_url.
const maxStripeURLLength = 5000

// maxIdempotencyKeyLength is Stripe's (and stripe-go's) limit.
const maxIdempotencyKeyLength = 255

// Sources of a MinimumError.
const (
	// MinimumSourceStore: the store's configured Config.MinimumAmount.
	MinimumSourceStore = "store"
	// MinimumSourceStripe: Stripe's minimum charge for the currency.
	MinimumSourceStripe = "stripe"
)

// MinimumError is returned by CreateCheckout when the order total is below
// the minimum that applies. It matches ErrBelowMinimum with errors.Is.
type MinimumError struct {
	// Minimum is the smallest allowed total, in the currency's major unit.
	Minimum decimal.Decimal
	// Total is the order's total that was refused, in the major unit.
	Total decimal.Decimal
	// Currency is the order's lowercase ISO 4217 code, e.g. "eur".
	Currency string
	// Source says whose minimum it is: MinimumSourceStore (the configured
	// MinimumAmount) or MinimumSourceStripe (Stripe's minimum charge). When
	// both are broken, it is the larger of the two.
	Source string
}

// Error implements error.
func (e *MinimumError) Error() string {
	code := strings.ToUpper(e.Currency)
	whose := "the store's minimum order total"
	if e.Source == MinimumSourceStripe {
		whose = "Stripe's minimum charge"
	}
	cur, _ := lookupCurrency(e.Currency)
	return fmt.Sprintf("%s: order total %s %s is below %s of %s %s",
		ErrBelowMinimum.Error(), amountString(cur, e.Total), code, whose, amountString(cur, e.Minimum), code)
}

// amountString formats an amount with the currency's usual decimals
// ("0.50", not "0.5") when that shows it exactly, and as is otherwise.
func amountString(cur currency, d decimal.Decimal) string {
	if cur.code == "" {
		return d.String()
	}
	places := cur.allowedDecimals()
	if d.Exponent() >= -places || d.Equal(d.Truncate(places)) {
		return d.StringFixed(places)
	}
	return d.String()
}

// Unwrap returns ErrBelowMinimum.
func (e *MinimumError) Unwrap() error { return ErrBelowMinimum }

// CheckoutMode is what a Checkout Session does with the money.
type CheckoutMode string

// Checkout modes.
const (
	// CheckoutPayment takes a one-time payment, captured at once. It is the
	// default (the zero CheckoutMode means CheckoutPayment).
	CheckoutPayment CheckoutMode = "payment"
	// CheckoutSubscription starts a subscription: every inline item is
	// billed every CheckoutRequest.Recurring interval.
	CheckoutSubscription CheckoutMode = "subscription"
	// CheckoutDeferredCapture authorizes a one-time payment now (the card is
	// held, capture_method=manual) and leaves the capture to Capture, or
	// the release to CancelAuthorization. Card authorizations last about 7
	// days. Completion is reported as PaymentAuthorized.
	CheckoutDeferredCapture CheckoutMode = "deferred_capture"
)

// Interval is a subscription's billing period.
type Interval string

// Billing intervals.
const (
	IntervalDay   Interval = "day"
	IntervalWeek  Interval = "week"
	IntervalMonth Interval = "month"
	IntervalYear  Interval = "year"
)

// Recurring is how often a subscription is billed: every IntervalCount
// Intervals, at most three years (3 years, 36 months, 156 weeks or 1095
// days).
type Recurring struct {
	// Interval is the billing period's unit. Required.
	Interval Interval
	// IntervalCount is the number of Intervals between bills; 0 means 1.
	IntervalCount int64
}

// ThreeDSecure says when Checkout asks for 3-D Secure on card payments.
type ThreeDSecure string

// 3-D Secure choices.
const (
	// ThreeDSecureAutomatic lets Stripe's SCA engine and Radar decide, and
	// is the default. No parameter is sent: it is Stripe's default too.
	ThreeDSecureAutomatic ThreeDSecure = "automatic"
	// ThreeDSecureAny asks for 3-D Secure on every card payment that
	// supports it (request_three_d_secure=any).
	ThreeDSecureAny ThreeDSecure = "any"
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
	// OrderID is the store's order reference, at most MaxOrderIDLength
	// characters. It is written to the session's client_reference_id and
	// to the MetadataOrderID metadata of the session and of its
	// PaymentIntent or Subscription, so that every later event carries it.
	OrderID string

	// Mode is CheckoutPayment (the default), CheckoutSubscription or
	// CheckoutDeferredCapture.
	Mode CheckoutMode

	// Currency is the ISO 4217 code, in any case ("EUR", "eur"); it is
	// sent lowercase. Every amount is in this currency.
	Currency string

	// Items are the order's lines: at least one, at most
	// MaxPaymentLineItems (MaxSubscriptionLineItems recurring ones in
	// subscription mode).
	Items []LineItem

	// Recurring is the billing period of the inline items in subscription
	// mode, where it is required if there is an inline item. It must be
	// nil in the other modes.
	Recurring *Recurring

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
	// Subscription, next to MetadataOrderID (which it may not contain).
	// Stripe's limits apply: MaxMetadataKeys keys in all, keys of at most
	// MaxMetadataKeyLength characters without square brackets, values of
	// at most MaxMetadataValueLength characters. Empty values are left out.
	Metadata map[string]string

	// Locale is the payment page's language, one of Stripe's Checkout
	// locales ("auto", "de", "en-GB", "pt-BR", ...). Empty means "auto".
	Locale string

	// ExpiresAt is when the session expires if unpaid: between
	// MinCheckoutExpiry and MaxCheckoutExpiry from now. The zero time means
	// Stripe's default, 24 hours. It is an absolute time rather than a
	// duration on purpose: a duration would give a different expires_at on
	// every retry, and Stripe refuses to reuse an idempotency key with
	// different parameters. Derive it from the order, e.g.
	// order.CreatedAt.Add(time.Hour).
	ExpiresAt time.Time

	// ThreeDSecure is ThreeDSecureAutomatic or ThreeDSecureAny. Empty means
	// the gateway's WithThreeDSecure policy, ThreeDSecureAutomatic unless
	// set.
	ThreeDSecure ThreeDSecure

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

// PaymentResult is a PaymentIntent after Capture or CancelAuthorization.
// Amounts are in the currency's major unit; they are zero if Stripe answers
// with a currency this package does not know.
type PaymentResult struct {
	// ID is the PaymentIntent's ID, pi_….
	ID string
	// Status is the PaymentIntent's status: "succeeded" after a capture,
	// "canceled" after a cancellation.
	Status stripe.PaymentIntentStatus
	// OrderID is the PaymentIntent's MetadataOrderID metadata, if any.
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
	Reason RefundReason
	// IdempotencyKey is the key the request was sent with.
	IdempotencyKey string
	// Replayed is true when Stripe answered with the stored response of an
	// earlier request with the same idempotency key: no new refund was
	// made. See Refund.
	Replayed bool
	// Refund is stripe-go's object, as Stripe returned it.
	Refund *stripe.Refund
}

// RefundReason is why a payment is refunded, as Stripe records it.
type RefundReason string

// Refund reasons Stripe accepts. The zero RefundReason gives none.
const (
	RefundDuplicate           RefundReason = "duplicate"
	RefundFraudulent          RefundReason = "fraudulent"
	RefundRequestedByCustomer RefundReason = "requested_by_customer"
)

// CallOption changes one call of Capture, CancelAuthorization, Refund or
// ExpireCheckout.
type CallOption func(*callOptions)

type callOptions struct {
	idempotencyKey string
}

// IdempotencyKey sends the call with key instead of the derived idempotency
// key. Use it to tell apart two operations that would otherwise derive the
// same key, such as two partial refunds of the same amount on one payment
// within 24 hours (use e.g. the store's refund ID). At most 255 printable
// ASCII characters.
func IdempotencyKey(key string) CallOption {
	return func(o *callOptions) { o.idempotencyKey = key }
}

func applyCallOptions(opts []CallOption) callOptions {
	var o callOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
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
	if !g.Enabled() {
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
		err := g.backend.CallRaw(http.MethodPost, "/v1/checkout/sessions", g.cfg.SecretKey, values, &params.Params, s)
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
		cs.AmountTotal = plan.cur.fromMinor(plan.total)
		cs.Currency = plan.cur.code
	}
	cs.IdempotencyKey = key
	cs.Replayed = replayed
	g.logger.Info("stripegateway: checkout session created",
		"order_id", req.OrderID, "session_id", s.ID, "mode", string(plan.mode),
		"amount", cs.AmountTotal, "currency", cs.Currency, "replayed", replayed)
	return cs, nil
}

// checkoutPlan is a validated request: the parameters to send and what is
// needed to finish checking the total once PriceID items are known.
type checkoutPlan struct {
	mode      CheckoutMode
	cur       currency
	recurring *Recurring // normalized; nil outside subscription mode
	params    *stripe.CheckoutSessionParams

	total         int64 // minor units of the items known so far
	recurringRefs int   // items billed every interval (subscription mode)
	oneTimeRefs   int   // one-time items (subscription mode)
	prices        []priceRef
}

// priceRef is a PriceID item still to be retrieved.
type priceRef struct {
	index    int
	id       string
	quantity int64
}

// planCheckout validates req without calling Stripe and builds the
// parameters.
func (g *Gateway) planCheckout(req CheckoutRequest) (*checkoutPlan, error) {
	p := &checkoutPlan{mode: req.Mode}
	if p.mode == "" {
		p.mode = CheckoutPayment
	}
	switch p.mode {
	case CheckoutPayment, CheckoutSubscription, CheckoutDeferredCapture:
	default:
		return nil, invalidField("Mode", "unknown mode %q: use CheckoutPayment, CheckoutSubscription or CheckoutDeferredCapture", redactText(string(p.mode)))
	}

	if err := checkOrderID(req.OrderID); err != nil {
		return nil, err
	}

	cur, err := lookupCurrency(req.Currency)
	if err != nil {
		return nil, withDetail(err, "Currency")
	}
	p.cur = cur

	if err := p.checkRecurring(req.Recurring); err != nil {
		return nil, err
	}
	if err := checkURL("SuccessURL", req.SuccessURL, true); err != nil {
		return nil, err
	}
	if err := checkURL("CancelURL", req.CancelURL, false); err != nil {
		return nil, err
	}
	if err := checkCustomer(req.CustomerEmail, req.CustomerID); err != nil {
		return nil, err
	}
	if req.Locale != "" && !checkoutLocales[req.Locale] {
		return nil, invalidField("Locale", "%q is not a Checkout locale: use \"auto\" or one of Stripe's locales such as \"de\", \"en-GB\" or \"pt-BR\"", redactText(req.Locale))
	}
	threeDS := req.ThreeDSecure
	if threeDS == "" {
		threeDS = g.opts.checkout.threeDSecure
	}
	switch threeDS {
	case "", ThreeDSecureAutomatic, ThreeDSecureAny:
	default:
		return nil, invalidField("ThreeDSecure", "unknown value %q: use ThreeDSecureAutomatic or ThreeDSecureAny", redactText(string(req.ThreeDSecure)))
	}
	if req.IdempotencyKey != "" {
		if err := checkIdempotencyKey("IdempotencyKey", req.IdempotencyKey); err != nil {
			return nil, err
		}
	}
	expiresAt, err := g.checkExpiry(req.ExpiresAt)
	if err != nil {
		return nil, err
	}

	reserved := 1 // MetadataOrderID
	if p.mode == CheckoutDeferredCapture {
		reserved++ // MetadataCaptureMethod
	}
	meta, err := checkMetadata(req.Metadata, reserved, req.OrderID)
	if err != nil {
		return nil, err
	}

	items, err := p.lineItems(req.Items)
	if err != nil {
		return nil, err
	}

	// Build the parameters. Every field set here is checked against
	// stripe-mock's OpenAPI spec by the tests.
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		Currency:          stripe.String(cur.code),
		ClientReferenceID: stripe.String(req.OrderID),
		SuccessURL:        stripe.String(req.SuccessURL),
		LineItems:         items,
	}
	if req.CancelURL != "" {
		params.CancelURL = stripe.String(req.CancelURL)
	}
	if req.CustomerEmail != "" {
		params.CustomerEmail = stripe.String(req.CustomerEmail)
	}
	if req.CustomerID != "" {
		params.Customer = stripe.String(req.CustomerID)
	}
	if req.Locale != "" {
		params.Locale = stripe.String(req.Locale)
	}
	if expiresAt != 0 {
		params.ExpiresAt = stripe.Int64(expiresAt)
	}
	if threeDS == ThreeDSecureAny {
		params.PaymentMethodOptions = &stripe.CheckoutSessionPaymentMethodOptionsParams{
			Card: &stripe.CheckoutSessionPaymentMethodOptionsCardParams{
				RequestThreeDSecure: stripe.String(string(ThreeDSecureAny)),
			},
		}
	}

	objectMeta := copyMetadata(meta)
	objectMeta[MetadataOrderID] = req.OrderID
	params.Metadata = copyMetadata(objectMeta)
	switch p.mode {
	case CheckoutSubscription:
		params.Mode = stripe.String(string(stripe.CheckoutSessionModeSubscription))
		params.SubscriptionData = &stripe.CheckoutSessionSubscriptionDataParams{Metadata: objectMeta}
	case CheckoutDeferredCapture:
		params.Metadata[MetadataCaptureMethod] = "manual"
		params.PaymentIntentData = &stripe.CheckoutSessionPaymentIntentDataParams{
			CaptureMethod: stripe.String(string(stripe.PaymentIntentCaptureMethodManual)),
			Metadata:      objectMeta,
		}
	default:
		params.PaymentIntentData = &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: objectMeta}
	}
	p.params = params
	return p, nil
}

// checkRecurring validates and normalizes the subscription interval.
func (p *checkoutPlan) checkRecurring(r *Recurring) error {
	if p.mode != CheckoutSubscription {
		if r != nil {
			return invalidField("Recurring", "is only for CheckoutSubscription mode; leave it nil in %s mode", p.mode)
		}
		return nil
	}
	if r == nil {
		return nil // required only if there is an inline item: see lineItems
	}
	n := r.IntervalCount
	if n == 0 {
		n = 1
	}
	var max int64
	switch r.Interval {
	case IntervalDay:
		max = 1095
	case IntervalWeek:
		max = 156
	case IntervalMonth:
		max = 36
	case IntervalYear:
		max = 3
	case "":
		return invalidField("Recurring.Interval", "is required: use IntervalDay, IntervalWeek, IntervalMonth or IntervalYear")
	default:
		return invalidField("Recurring.Interval", "unknown interval %q: use IntervalDay, IntervalWeek, IntervalMonth or IntervalYear", redactText(string(r.Interval)))
	}
	if n < 1 || n > max {
		return invalidField("Recurring.IntervalCount", "%d is out of range: bill every 1 to %d %ss (Stripe allows at most three years)", r.IntervalCount, max, r.Interval)
	}
	p.recurring = &Recurring{Interval: r.Interval, IntervalCount: n}
	return nil
}

// lineItems validates the items, converts inline prices to minor units and
// sums them, and lists the PriceID items to retrieve.
func (p *checkoutPlan) lineItems(items []LineItem) ([]*stripe.CheckoutSessionLineItemParams, error) {
	if len(items) == 0 {
		return nil, invalidField("Items", "at least one line item is required")
	}
	inline := 0
	for _, it := range items {
		if it.PriceID == "" {
			inline++
		}
	}
	switch p.mode {
	case CheckoutSubscription:
		if inline > MaxSubscriptionLineItems {
			return nil, invalidField("Items", "%d recurring line items, but Stripe allows at most %d in subscription mode", inline, MaxSubscriptionLineItems)
		}
		if len(items) > 2*MaxSubscriptionLineItems {
			return nil, invalidField("Items", "%d line items, but Stripe allows at most %d recurring and %d one-time ones in subscription mode", len(items), MaxSubscriptionLineItems, MaxSubscriptionLineItems)
		}
		if inline > 0 && p.recurring == nil {
			return nil, invalidField("Recurring", "is required in subscription mode for items without a PriceID: say how often they are billed")
		}
	default:
		if len(items) > MaxPaymentLineItems {
			return nil, invalidField("Items", "%d line items, but Stripe allows at most %d in %s mode; combine some", len(items), MaxPaymentLineItems, p.mode)
		}
	}

	out := make([]*stripe.CheckoutSessionLineItemParams, 0, len(items))
	for i, it := range items {
		// The field() name is built only for an error message.
		field := func() string { return itemField(i, it) }
		if it.Quantity < 1 {
			return nil, fmt.Errorf("%w: %s: quantity %d is below 1", ErrInvalidAmount, field(), it.Quantity)
		}
		li := &stripe.CheckoutSessionLineItemParams{Quantity: stripe.Int64(it.Quantity)}
		if it.PriceID != "" {
			if it.Name != "" || it.Description != "" || !it.UnitAmount.IsZero() {
				return nil, invalidField(field(), "has a PriceID and also a Name, Description or UnitAmount; give either a PriceID or an inline price")
			}
			if !isStripeID(it.PriceID, "price_", "plan_") {
				return nil, invalidField(field(), "PriceID %q is not a Stripe Price ID (price_…)", redactText(it.PriceID))
			}
			li.Price = stripe.String(it.PriceID)
			p.prices = append(p.prices, priceRef{index: i, id: it.PriceID, quantity: it.Quantity})
			out = append(out, li)
			continue
		}

		if strings.TrimSpace(it.Name) == "" {
			return nil, invalidField(field(), "Name is required for an item without a PriceID")
		}
		if n := utf8.RuneCountInString(it.Name); n > 5000 || !utf8.ValidString(it.Name) {
			return nil, invalidField(field(), "Name must be valid UTF-8 of at most 5000 characters")
		}
		if n := utf8.RuneCountInString(it.Description); n > 40000 || !utf8.ValidString(it.Description) {
			return nil, invalidField(field(), "Description must be valid UTF-8 of at most 40000 characters")
		}
		unit, err := p.cur.toMinor(it.UnitAmount)
		if err != nil {
			return nil, withDetail(err, field())
		}
		if err := p.addLine(field, unit, it.Quantity); err != nil {
			return nil, err
		}
		pd := &stripe.CheckoutSessionLineItemPriceDataParams{
			Currency:    stripe.String(p.cur.code),
			UnitAmount:  stripe.Int64(unit),
			ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(it.Name)},
		}
		if it.Description != "" {
			pd.ProductData.Description = stripe.String(it.Description)
		}
		if p.recurring != nil {
			pd.Recurring = &stripe.CheckoutSessionLineItemPriceDataRecurringParams{
				Interval:      stripe.String(string(p.recurring.Interval)),
				IntervalCount: stripe.Int64(p.recurring.IntervalCount),
			}
			p.recurringRefs++
		}
		li.PriceData = pd
		out = append(out, li)
	}
	return out, nil
}

// addLine adds unit × quantity minor units to the total, refusing anything
// above Stripe's maximum. Neither step can overflow: every operand is below
// maxMinor < 10^18, and quantity is checked against maxMinor/unit first.
func (p *checkoutPlan) addLine(field func() string, unit, quantity int64) error {
	if unit == 0 {
		return nil
	}
	max := p.cur.maxMinor
	if quantity > max/unit || unit*quantity > max-p.total {
		line := p.cur.fromMinor(unit).Mul(decimal.NewFromInt(quantity))
		return fmt.Errorf("%w: %s: %d × %s %s brings the order total to %s %s, above Stripe's maximum amount of %s %s",
			ErrInvalidAmount, field(), quantity, amountString(p.cur, p.cur.fromMinor(unit)), p.cur.upper(),
			amountString(p.cur, line.Add(p.cur.fromMinor(p.total))), p.cur.upper(), amountString(p.cur, p.cur.maxMajor()), p.cur.upper())
	}
	p.total += unit * quantity
	return nil
}

// resolvePrices retrieves the PriceID items, checks that they can be used in
// this session, and adds them to the total.
func (g *Gateway) resolvePrices(ctx context.Context, p *checkoutPlan) error {
	if len(p.prices) == 0 {
		return nil
	}
	client := price.Client{B: g.backend, Key: g.cfg.SecretKey}
	cache := make(map[string]*stripe.Price)
	for _, ref := range p.prices {
		pr := cache[ref.id]
		if pr == nil {
			params := &stripe.PriceParams{}
			params.Context = ctx
			params.AddExpand("currency_options")
			got, _, err := callContext(ctx, func() (*stripe.Price, struct{}, error) {
				pr, err := client.Get(ref.id, params)
				return pr, struct{}{}, err
			})
			if err != nil {
				return stripeCallError(ctx, "retrieve price "+ref.id, err)
			}
			pr = got
			cache[ref.id] = pr
		}
		if err := p.addPrice(ref, pr); err != nil {
			return err
		}
	}
	if p.mode == CheckoutSubscription {
		if p.recurringRefs == 0 {
			return invalidField("Items", "subscription mode needs at least one recurring item; these are all one-time prices")
		}
		if p.recurringRefs > MaxSubscriptionLineItems || p.oneTimeRefs > MaxSubscriptionLineItems {
			return invalidField("Items", "%d recurring and %d one-time line items, but Stripe allows at most %d of each in subscription mode",
				p.recurringRefs, p.oneTimeRefs, MaxSubscriptionLineItems)
		}
	}
	return nil
}

// addPrice checks one retrieved Price against the plan and adds its line.
func (p *checkoutPlan) addPrice(ref priceRef, pr *stripe.Price) error {
	field := fmt.Sprintf("Items[%d] (%s)", ref.index, ref.id)
	code := p.cur.upper()
	if !pr.Active {
		return invalidField(field, "the price is archived (inactive); use an active price")
	}
	if pr.BillingScheme == stripe.PriceBillingSchemeTiered || pr.CustomUnitAmount != nil {
		return invalidField(field, "tiered and customer-chosen prices are not supported: the order total could not be checked; use a per-unit price")
	}
	unit, decimalUnit := pr.UnitAmount, pr.UnitAmountDecimal
	if string(pr.Currency) != p.cur.code {
		opt := pr.CurrencyOptions[p.cur.code]
		if opt == nil {
			return invalidField(field, "the price is in %s and has no %s currency option, but the order is in %s", strings.ToUpper(string(pr.Currency)), code, code)
		}
		if opt.CustomUnitAmount != nil || len(opt.Tiers) > 0 {
			return invalidField(field, "the price's %s option is tiered or customer-chosen: the order total could not be checked", code)
		}
		unit, decimalUnit = opt.UnitAmount, opt.UnitAmountDecimal
	}
	if decimalUnit != float64(unit) {
		return fmt.Errorf("%w: %s: the price's unit amount %v is a fraction of the %s minor unit, which cannot be charged exactly", ErrInvalidAmount, field, decimalUnit, code)
	}
	if unit < 0 || unit > p.cur.maxMinor || unit%p.cur.step != 0 {
		_, err := p.cur.toMinor(p.cur.fromMinor(unit))
		if err == nil {
			err = fmt.Errorf("%w: %s %s cannot be charged: %s", ErrInvalidAmount, amountString(p.cur, p.cur.fromMinor(unit)), code, p.cur.precisionRule())
		}
		return withDetail(err, field)
	}

	if pr.Type == stripe.PriceTypeRecurring || pr.Recurring != nil {
		if p.mode != CheckoutSubscription {
			return invalidField(field, "is a recurring price, which needs CheckoutSubscription mode, not %s", p.mode)
		}
		rc := pr.Recurring
		if rc == nil {
			return invalidField(field, "is a recurring price without a billing interval")
		}
		if rc.UsageType == stripe.PriceRecurringUsageTypeMetered {
			return invalidField(field, "metered prices are not supported: the order total could not be checked")
		}
		got := Recurring{Interval: Interval(rc.Interval), IntervalCount: rc.IntervalCount}
		if p.recurring == nil {
			p.recurring = &got
		} else if *p.recurring != got {
			return invalidField(field, "bills every %d %s, but the subscription bills every %d %s; Stripe needs one interval for all recurring items",
				got.IntervalCount, got.Interval, p.recurring.IntervalCount, p.recurring.Interval)
		}
		p.recurringRefs++
	} else if p.mode == CheckoutSubscription {
		p.oneTimeRefs++
	}

	units := ref.quantity
	if tq := pr.TransformQuantity; tq != nil && tq.DivideBy > 0 {
		units = ref.quantity / tq.DivideBy
		if tq.Round == stripe.PriceTransformQuantityRoundUp && ref.quantity%tq.DivideBy != 0 {
			units++
		}
	}
	return p.addLine(func() string { return field }, unit, units)
}

// checkTotal applies the store's and Stripe's minimums to the order total.
func (g *Gateway) checkTotal(p *checkoutPlan) error {
	total := p.cur.fromMinor(p.total)
	var e *MinimumError
	if store := g.cfg.MinimumAmount; total.LessThan(store) {
		e = &MinimumError{Minimum: store, Source: MinimumSourceStore}
	}
	if st := p.cur.minCharge; p.total > 0 && total.LessThan(st) && (e == nil || st.GreaterThan(e.Minimum)) {
		e = &MinimumError{Minimum: st, Source: MinimumSourceStripe}
	}
	if e != nil {
		e.Total, e.Currency = total, p.cur.code
		return e
	}
	if p.total == 0 && p.mode == CheckoutDeferredCapture {
		return fmt.Errorf("%w: the order total is 0 %s: there is nothing to authorize; use CheckoutPayment for a no-cost order", ErrInvalidAmount, p.cur.upper())
	}
	return nil
}

// checkExpiry validates ExpiresAt and returns it as a Unix time, rounded up
// to the second so that the window is never shortened; 0 when unset.
func (g *Gateway) checkExpiry(t time.Time) (int64, error) {
	if t.IsZero() {
		return 0, nil
	}
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	at := time.Unix(sec, 0)
	now := g.opts.now()
	switch d := at.Sub(now); {
	case d < MinCheckoutExpiry:
		return 0, invalidField("ExpiresAt", "%s is %s from now; Stripe needs at least %s", at.UTC().Format(time.RFC3339), d.Round(time.Second), MinCheckoutExpiry)
	case d > MaxCheckoutExpiry:
		return 0, invalidField("ExpiresAt", "%s is %s from now; Stripe allows at most %s", at.UTC().Format(time.RFC3339), d.Round(time.Second), MaxCheckoutExpiry)
	}
	return sec, nil
}

// checkOrderID validates the order ID.
func checkOrderID(id string) error {
	switch {
	case strings.TrimSpace(id) == "":
		return invalidField("OrderID", "is required: pass the store's order reference")
	case id != strings.TrimSpace(id):
		return invalidField("OrderID", "has leading or trailing whitespace; remove it, or the order will not match its events")
	case !utf8.ValidString(id):
		return invalidField("OrderID", "is not valid UTF-8")
	case utf8.RuneCountInString(id) > MaxOrderIDLength:
		return invalidField("OrderID", "is %d characters long; Stripe's client_reference_id allows at most %d", utf8.RuneCountInString(id), MaxOrderIDLength)
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return invalidField("OrderID", "contains control characters")
	}
	return nil
}

// checkURL validates a redirect URL. The URL is sent as given, so that
// Stripe's {CHECKOUT_SESSION_ID} placeholder is kept verbatim.
func checkURL(field, raw string, required bool) error {
	if raw == "" {
		if required {
			return invalidField(field, "is required: give an absolute https URL of the store")
		}
		return nil
	}
	if len(raw) > maxStripeURLLength {
		return invalidField(field, "is %d characters long; Stripe allows at most %d", len(raw), maxStripeURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return invalidField(field, "%q is not an absolute http or https URL such as https://shop.example/checkout/done", redactText(raw))
	}
	return nil
}

// checkCustomer validates CustomerEmail and CustomerID.
func checkCustomer(email, id string) error {
	if email != "" && id != "" {
		return invalidField("CustomerEmail", "cannot be combined with CustomerID: Stripe takes the email of an existing customer from the Customer")
	}
	if email != "" {
		a, err := mail.ParseAddress(email)
		if err != nil || a.Address != email || a.Name != "" || len(email) > 512 {
			return invalidField("CustomerEmail", "%q is not a plain email address such as jane@example.com", redactText(email))
		}
	}
	if id != "" && !isStripeID(id, "cus_") {
		return invalidField("CustomerID", "%q is not a Stripe Customer ID (cus_…)", redactText(id))
	}
	return nil
}

// checkMetadata validates the caller's metadata against Stripe's limits,
// with reserved keys of the package's own, and returns it without empty
// values.
func checkMetadata(m map[string]string, reserved int, orderID string) (map[string]string, error) {
	out := make(map[string]string, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		field := fmt.Sprintf("Metadata[%q]", truncateRunes(k, 60))
		switch {
		case k == MetadataOrderID && v == orderID:
			continue // the same value the gateway writes: harmless
		case k == MetadataOrderID || k == MetadataCaptureMethod:
			return nil, invalidField(field, "is set by the gateway and cannot be overwritten; use CheckoutRequest.OrderID for the order reference")
		case k == "" || strings.TrimSpace(k) == "":
			return nil, invalidField("Metadata", "has an empty key")
		case !utf8.ValidString(k) || !utf8.ValidString(v):
			return nil, invalidField(field, "is not valid UTF-8")
		case strings.ContainsAny(k, "[]"):
			return nil, invalidField(field, "Stripe does not allow square brackets in metadata keys")
		case utf8.RuneCountInString(k) > MaxMetadataKeyLength:
			return nil, invalidField(field, "the key is %d characters long; Stripe allows at most %d", utf8.RuneCountInString(k), MaxMetadataKeyLength)
		case utf8.RuneCountInString(v) > MaxMetadataValueLength:
			return nil, invalidField(field, "the value is %d characters long; Stripe allows at most %d", utf8.RuneCountInString(v), MaxMetadataValueLength)
		}
		if v != "" {
			out[k] = v
		}
	}
	if len(out)+reserved > MaxMetadataKeys {
		return nil, invalidField("Metadata", "has %d keys; with the gateway's %d it exceeds Stripe's limit of %d keys", len(out), reserved, MaxMetadataKeys)
	}
	return out, nil
}

func copyMetadata(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// checkIdempotencyKey validates a caller's idempotency key.
func checkIdempotencyKey(field, key string) error {
	if len(key) > maxIdempotencyKeyLength {
		return invalidField(field, "is %d characters long; Stripe allows at most %d", len(key), maxIdempotencyKeyLength)
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] > '~' {
			return invalidField(field, "may only contain printable ASCII characters without spaces")
		}
	}
	if key == "" {
		return invalidField(field, "is empty")
	}
	return nil
}

// checkoutIdempotencyKey derives the idempotency key of a Checkout Session
// from the order ID and a SHA-256 hash of the encoded form that is sent, so
// the same request always gives the same key and any change gives another.
// The "v2" names this derivation.
func checkoutIdempotencyKey(orderID string, values *form.Values) string {
	// form.Values encodes in a fixed order (struct fields in order, map
	// keys sorted), so equal requests give equal text.
	h := sha256.New()
	_, _ = io.WriteString(h, "stripegateway checkout v2\n")
	_, _ = io.WriteString(h, values.Encode())
	return "stripegateway-checkout-" + idempotencySafe(orderID, 100) + "-" + hex.EncodeToString(h.Sum(nil))
}

// operationIdempotencyKey derives the key of a capture, cancellation, refund
// or expiry from its operation, object and arguments.
func operationIdempotencyKey(op, id string, parts ...string) string {
	key := "stripegateway-" + op + "-" + idempotencySafe(id, 120)
	for _, p := range parts {
		if p != "" {
			key += "-" + idempotencySafe(p, 40)
		}
	}
	return key
}

// idempotencySafe keeps ASCII letters, digits, '_' and '-' of s, replaces anything
// else with '_', and cuts the result at max bytes.
func idempotencySafe(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < max; i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// checkoutLocales are the locales of POST /v1/checkout/sessions.
var checkoutLocales = func() map[string]bool {
	m := make(map[string]bool)
	for _, l := range strings.Fields("auto bg cs da de el en en-GB es es-419 et fi fil fr fr-CA hr hu id it ja ko lt lv ms mt nb nl pl pt pt-BR ro ru sk sl sv th tr vi zh zh-HK zh-TW") {
		m[l] = true
	}
	return m
}()

// ConfirmCheckout is for the success page: the customer is back from Stripe,
// probably before the webhook. It retrieves the session (with its
// PaymentIntent), checks that it belongs to orderID and to the gateway's
// mode, and returns the same Outcome the webhook path gives for it: mark the
// order paid only for PaymentSucceeded (or PaymentAuthorized in deferred
// capture mode). Errors match:
//   - ErrSessionMismatch when the session is not orderID's (neither its
//     client_reference_id nor its order_id metadata is orderID, or one of
//     them names another order), or orderID is empty: a customer pasting
//     another order's session ID gets nothing;
//   - ErrLivemodeMismatch for a session of the other mode;
//   - ErrInvalidRequest for a malformed session ID;
//   - ErrStripeAPI, ErrAuthentication, ErrPermissionDenied, or the
//     context's error, as for CreateCheckout.
//
// It works on an inactive gateway too, so that orders placed before it was
// deactivated can be confirmed.
func (g *Gateway) ConfirmCheckout(ctx context.Context, sessionID, orderID string) (*Outcome, error) {
	const op = "retrieve checkout session"
	if !isStripeID(sessionID, "cs_") {
		return nil, invalidField("sessionID", "%q is not a Checkout Session ID (cs_…)", redactText(truncateRunes(sessionID, 80)))
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
	if s.Livemode != g.Livemode() {
		return nil, fmt.Errorf("%w: checkout session %s is a %s-mode session but the gateway is in %s mode",
			ErrLivemodeMismatch, s.ID, modeOf(s.Livemode), g.mode)
	}
	ref, meta := s.ClientReferenceID, s.Metadata[MetadataOrderID]
	if (ref == "" && meta == "") || (ref != "" && ref != orderID) || (meta != "" && meta != orderID) {
		return nil, fmt.Errorf("%w: checkout session %s does not belong to order %q", ErrSessionMismatch, s.ID, truncateRunes(orderID, 80))
	}
	o := outcomeFromCheckoutSession(s)
	g.logger.Debug("stripegateway: checkout confirmed", "order_id", orderID, "session_id", s.ID, "kind", string(o.Kind))
	return o, nil
}

// ExpireCheckout expires an open Checkout Session, for when the store
// cancels the order: the customer can no longer pay through it. Stripe
// refuses to expire a session that is already complete (check the order's
// state, or ConfirmCheckout, first). The request is sent with the
// idempotency key "stripegateway-expire-<session ID>" unless IdempotencyKey
// overrides it. It works on an inactive gateway too.
func (g *Gateway) ExpireCheckout(ctx context.Context, sessionID string, opts ...CallOption) (*CheckoutSession, error) {
	const op = "expire checkout session"
	if !isStripeID(sessionID, "cs_") {
		return nil, invalidField("sessionID", "%q is not a Checkout Session ID (cs_…)", redactText(truncateRunes(sessionID, 80)))
	}
	o := applyCallOptions(opts)
	key, err := callKey(o, operationIdempotencyKey("expire", sessionID))
	if err != nil {
		return nil, err
	}
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
	cur, _ := lookupCurrency(string(s.Currency))
	cs := newCheckoutSession(s, cur)
	cs.IdempotencyKey, cs.Replayed = key, replayed
	g.logger.Info("stripegateway: checkout session expired", "session_id", s.ID, "replayed", replayed)
	return cs, nil
}

// Capture captures a payment authorized by a CheckoutDeferredCapture
// session. A nil amount captures everything authorized; otherwise amount
// (in the currency's major unit, with the same money rules as checkout)
// is captured and the rest released. To capture part of it, the
// PaymentIntent is retrieved first, and an amount above what is still
// capturable is refused with ErrInvalidAmount before anything is captured;
// so is a zero amount (use CancelAuthorization).
//
// The capture is sent with the idempotency key
// "stripegateway-capture-<PaymentIntent ID>-<minor amount or full>", so
// retrying it never captures twice; IdempotencyKey overrides it. It works on
// an inactive gateway too.
func (g *Gateway) Capture(ctx context.Context, paymentIntentID string, amount *decimal.Decimal, opts ...CallOption) (*PaymentResult, error) {
	const op = "capture payment"
	if err := checkPaymentIntentID(paymentIntentID); err != nil {
		return nil, err
	}
	o := applyCallOptions(opts)
	params := &stripe.PaymentIntentCaptureParams{}
	part := "full"
	if amount != nil {
		pi, cur, minor, err := g.paymentIntentAmount(ctx, paymentIntentID, *amount)
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
		switch {
		case minor == 0:
			return nil, fmt.Errorf("%w: amount: capturing 0 %s captures nothing; use CancelAuthorization to release the hold", ErrInvalidAmount, cur.upper())
		case minor > capturable:
			return nil, fmt.Errorf("%w: amount: %s %s is above the %s %s that PaymentIntent %s can capture (status %s); nothing was captured",
				ErrInvalidAmount, amountString(cur, cur.fromMinor(minor)), cur.upper(), amountString(cur, cur.fromMinor(capturable)), cur.upper(), pi.ID, pi.Status)
		}
		params.AmountToCapture = stripe.Int64(minor)
		part = strconv.FormatInt(minor, 10)
	}
	key, err := callKey(o, operationIdempotencyKey("capture", paymentIntentID, part))
	if err != nil {
		return nil, err
	}
	params.Context = ctx
	params.SetIdempotencyKey(key)
	pi, replayed, err := callContext(ctx, func() (*stripe.PaymentIntent, bool, error) {
		pi, err := g.intents.Capture(paymentIntentID, params)
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
// releasing the hold on the customer's card. The request is sent with the
// idempotency key "stripegateway-cancel-<PaymentIntent ID>" unless
// IdempotencyKey overrides it. It works on an inactive gateway too.
func (g *Gateway) CancelAuthorization(ctx context.Context, paymentIntentID string, opts ...CallOption) (*PaymentResult, error) {
	const op = "cancel payment"
	if err := checkPaymentIntentID(paymentIntentID); err != nil {
		return nil, err
	}
	key, err := callKey(applyCallOptions(opts), operationIdempotencyKey("cancel", paymentIntentID))
	if err != nil {
		return nil, err
	}
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

// Refund refunds a captured payment: all of it for a nil amount, or amount
// (in the currency's major unit, converted with the same money rules as
// checkout: too many decimals, negative or zero amounts are refused with
// ErrInvalidAmount). To convert a partial amount, the PaymentIntent is
// retrieved first for its currency. reason may be empty; otherwise
// RefundDuplicate, RefundFraudulent or RefundRequestedByCustomer. Stripe
// refuses refunds above what is left to refund.
//
// The refund is sent with the idempotency key
// "stripegateway-refund-<PaymentIntent ID>-<minor amount or full>-<reason>",
// so retrying a refund after a timeout never refunds twice. The flip side:
// a second refund of the same amount and reason on the same payment within
// 24 hours is the same request to Stripe, which answers with the first
// refund (RefundResult.Replayed is then true) and refunds nothing more.
// Pass IdempotencyKey (e.g. with the store's own refund ID) to make such
// refunds distinct. It works on an inactive gateway too.
func (g *Gateway) Refund(ctx context.Context, paymentIntentID string, amount *decimal.Decimal, reason RefundReason, opts ...CallOption) (*RefundResult, error) {
	const op = "refund payment"
	if err := checkPaymentIntentID(paymentIntentID); err != nil {
		return nil, err
	}
	switch reason {
	case "", RefundDuplicate, RefundFraudulent, RefundRequestedByCustomer:
	default:
		return nil, invalidField("reason", "unknown refund reason %q: use RefundDuplicate, RefundFraudulent, RefundRequestedByCustomer or none", redactText(string(reason)))
	}
	o := applyCallOptions(opts)
	params := &stripe.RefundParams{PaymentIntent: stripe.String(paymentIntentID)}
	part := "full"
	if amount != nil {
		// Check what can be checked offline before asking Stripe.
		if amount.Sign() <= 0 {
			return nil, fmt.Errorf("%w: amount: a refund of %s must be above 0; pass nil to refund everything", ErrInvalidAmount, moneyFormat(*amount))
		}
		_, _, minor, err := g.paymentIntentAmount(ctx, paymentIntentID, *amount)
		if err != nil {
			return nil, err
		}
		params.Amount = stripe.Int64(minor)
		part = strconv.FormatInt(minor, 10)
	}
	if reason != "" {
		params.Reason = stripe.String(string(reason))
	}
	key, err := callKey(o, operationIdempotencyKey("refund", paymentIntentID, part, string(reason)))
	if err != nil {
		return nil, err
	}
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
		PaymentIntentID: paymentIntentID,
		Currency:        string(r.Currency),
		Reason:          RefundReason(r.Reason),
		IdempotencyKey:  key,
		Replayed:        replayed,
		Refund:          r,
	}
	if r.PaymentIntent != nil && r.PaymentIntent.ID != "" {
		res.PaymentIntentID = r.PaymentIntent.ID
	}
	if cur, err := lookupCurrency(res.Currency); err == nil {
		res.Amount = cur.fromMinor(r.Amount)
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

// callKey returns the caller's idempotency key if given and valid, or def.
// checkPaymentIntentID refuses anything but a PaymentIntent ID.
func checkPaymentIntentID(id string) error {
	if !isStripeID(id, "pi_") {
		return invalidField("paymentIntentID", "%q is not a PaymentIntent ID (pi_…)", redactText(truncateRunes(id, 80)))
	}
	return nil
}

// paymentIntentAmount fetches a PaymentIntent and converts amount to minor
// units of its currency, with the same money rules as checkout.
func (g *Gateway) paymentIntentAmount(ctx context.Context, id string, amount decimal.Decimal) (*stripe.PaymentIntent, currency, int64, error) {
	pi, err := g.getPaymentIntent(ctx, id)
	if err != nil {
		return nil, currency{}, 0, err
	}
	cur, err := lookupCurrency(string(pi.Currency))
	if err != nil {
		return nil, currency{}, 0, withDetail(err, "PaymentIntent "+pi.ID)
	}
	minor, err := cur.toMinor(amount)
	if err != nil {
		return nil, currency{}, 0, withDetail(err, "amount")
	}
	return pi, cur, minor, nil
}

func callKey(o callOptions, def string) (string, error) {
	if o.idempotencyKey == "" {
		return def, nil
	}
	if err := checkIdempotencyKey("IdempotencyKey", o.idempotencyKey); err != nil {
		return "", err
	}
	return o.idempotencyKey, nil
}

// newCheckoutSession converts stripe-go's session. cur is the currency to
// use when the response names none (or one this package does not know).
func newCheckoutSession(s *stripe.CheckoutSession, cur currency) *CheckoutSession {
	cs := &CheckoutSession{
		ID:       s.ID,
		URL:      s.URL,
		Currency: string(s.Currency),
		Session:  s,
	}
	if s.ExpiresAt != 0 {
		cs.ExpiresAt = time.Unix(s.ExpiresAt, 0).UTC()
	}
	if c, err := lookupCurrency(cs.Currency); err == nil {
		cur = c
	}
	if cur.code != "" {
		cs.Currency = cur.code
		cs.AmountTotal = cur.fromMinor(s.AmountTotal)
	}
	return cs
}

// newPaymentResult converts stripe-go's PaymentIntent.
func newPaymentResult(pi *stripe.PaymentIntent, key string, replayed bool) *PaymentResult {
	res := &PaymentResult{
		ID:             pi.ID,
		Status:         pi.Status,
		OrderID:        pi.Metadata[MetadataOrderID],
		Currency:       string(pi.Currency),
		IdempotencyKey: key,
		Replayed:       replayed,
		PaymentIntent:  pi,
	}
	if cur, err := lookupCurrency(res.Currency); err == nil {
		res.Amount = cur.fromMinor(pi.Amount)
		res.AmountReceived = cur.fromMinor(pi.AmountReceived)
		res.AmountCapturable = cur.fromMinor(pi.AmountCapturable)
	}
	return res
}

// isReplayed reports whether Stripe answered with the stored response of an
// earlier request with the same idempotency key.
func isReplayed(r *stripe.APIResponse) bool {
	return r != nil && strings.EqualFold(r.Header.Get("Idempotent-Replayed"), "true")
}

// stripeCallError wraps an error of a call to Stripe. When ctx has ended, the
// context's error is kept reachable with errors.Is even if stripe-go
// reported the aborted request differently.
func stripeCallError(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		var se *stripe.Error
		if !errors.As(err, &se) {
			err = fmt.Errorf("%w: %w", cerr, err)
		}
	}
	return wrapAPIError(op, err)
}

// isStripeID reports whether id has one of the prefixes followed by at
// least one character, all ASCII letters, digits and underscores.
func isStripeID(id string, prefixes ...string) bool {
	if len(id) > 255 {
		return false
	}
	ok := false
	for _, p := range prefixes {
		if strings.HasPrefix(id, p) && len(id) > len(p) {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// itemField names an item in error messages: Items[2] ("T-shirt").
func itemField(i int, it LineItem) string {
	switch {
	case it.PriceID != "":
		return fmt.Sprintf("Items[%d] (%s)", i, truncateRunes(redactText(it.PriceID), 60))
	case it.Name != "":
		return fmt.Sprintf("Items[%d] (%q)", i, truncateRunes(redactText(it.Name), 60))
	}
	return fmt.Sprintf("Items[%d]", i)
}

// truncateRunes cuts s to at most n runes, marking the cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// invalidField is an ErrInvalidRequest naming field.
func invalidField(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidRequest, field, fmt.Sprintf(format, args...))
}

// detailError inserts where an error happened after its sentinel's text,
// e.g. "stripegateway: invalid amount: Items[1] ("Tea"): 1.234 KWD has …",
// and unwraps to the original error.
type detailError struct {
	msg string
	err error
}

func (e *detailError) Error() string { return e.msg }
func (e *detailError) Unwrap() error { return e.err }

// withDetail prefixes err's detail with where, after the sentinel's text.
func withDetail(err error, where string) error {
	msg := err.Error()
	for _, s := range []error{ErrInvalidAmount, ErrUnsupportedCurrency, ErrInvalidRequest, ErrBelowMinimum} {
		if p := s.Error() + ": "; errors.Is(err, s) && strings.HasPrefix(msg, p) {
			return &detailError{msg: p + where + ": " + msg[len(p):], err: err}
		}
	}
	return &detailError{msg: where + ": " + msg, err: err}
}
