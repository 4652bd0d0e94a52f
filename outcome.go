package stripegateway

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/b27de697/stripegateway/internal/wire"

	"github.com/b27de697/stripegateway/internal/money"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"
)

// Kind is what a webhook event or a confirmed checkout means for an order.
type Kind string

// The kinds of Outcome. EventTypes lists the events that produce them:
//
//	PaymentSucceeded      checkout.session.completed (payment_status paid or
//	                      no_payment_required), checkout.session.async_payment_succeeded,
//	                      payment_intent.succeeded, invoice.payment_succeeded, invoice.paid
//	PaymentPending        checkout.session.completed (payment_status unpaid),
//	                      payment_intent.processing
//	PaymentAuthorized     payment_intent.amount_capturable_updated, and
//	                      checkout.session.completed of a session created for
//	                      deferred capture
//	PaymentFailed         checkout.session.async_payment_failed (final),
//	                      payment_intent.payment_failed (not final),
//	                      invoice.payment_failed (final unless Stripe retries)
//	PaymentCanceled       payment_intent.canceled
//	CheckoutExpired       checkout.session.expired
//	PaymentRefunded       charge.refunded
//	PaymentDisputed       charge.dispute.created
//	SubscriptionCanceled  customer.subscription.deleted
//	InvoiceCreated        invoice.created
//	Unhandled             any other event
//
// One payment is reported by more than one event: a Checkout payment gives
// checkout.session.completed and payment_intent.succeeded (and, for a
// subscription, invoice.paid and invoice.payment_succeeded), in any order.
// Each is delivered at least once. Make the host's state change idempotent,
// keyed by OrderID (and PaymentIntentID or InvoiceID), and never move an
// order backwards: a PaymentPending arriving after a PaymentSucceeded for the
// same order is stale, not news.
const (
	// PaymentSucceeded: the money is captured (or nothing was due). Fulfil
	// the order. One payment is reported by more than one event
	// (checkout.session.completed and payment_intent.succeeded): handle it
	// idempotently, keyed by OrderID.
	PaymentSucceeded Kind = "payment_succeeded"
	// PaymentPending: the customer completed checkout but the money has not
	// arrived yet (a delayed payment method, or a payment still processing).
	// Do not fulfil yet; PaymentSucceeded or PaymentFailed follows.
	PaymentPending Kind = "payment_pending"
	// PaymentAuthorized: funds are held for a deferred capture. Capture or
	// cancel the authorization before it expires (about 7 days for cards).
	PaymentAuthorized Kind = "payment_authorized"
	// PaymentFailed: an attempt failed. Outcome.Final says whether the order
	// can still be paid (another card, or an automatic retry by Stripe).
	PaymentFailed Kind = "payment_failed"
	// PaymentCanceled: the PaymentIntent was canceled; no money moves.
	PaymentCanceled Kind = "payment_canceled"
	// CheckoutExpired: the Checkout Session expired unpaid.
	CheckoutExpired Kind = "checkout_expired"
	// PaymentRefunded: money was refunded, fully or partly; Amount is the
	// refunded amount so far.
	PaymentRefunded Kind = "payment_refunded"
	// PaymentDisputed: the customer's bank opened a dispute (chargeback).
	PaymentDisputed Kind = "payment_disputed"
	// SubscriptionCanceled: a subscription ended.
	SubscriptionCanceled Kind = "subscription_canceled"
	// InvoiceCreated: a subscription invoice was drafted.
	InvoiceCreated Kind = "invoice_created"
	// Unhandled: an authentic event this package does not interpret. It is
	// not an error.
	Unhandled Kind = "unhandled"
)

// Outcome is what one webhook event, or one ConfirmCheckout, means for an
// order. Fields that the event does not carry are left zero.
type Outcome struct {
	// Kind says what happened.
	Kind Kind

	// EventID is the Stripe event's ID (evt_…); empty for ConfirmCheckout.
	// Use it to deduplicate deliveries.
	EventID string
	// EventType is the Stripe event's type, e.g. "checkout.session.completed";
	// empty for ConfirmCheckout.
	EventType stripe.EventType
	// Created is when Stripe created the event (or the session, for
	// ConfirmCheckout). Use it to ignore events older than the order's state.
	Created time.Time
	// Livemode is true for live-mode events.
	Livemode bool

	// OrderID is the host's order reference, from client_reference_id or the
	// order_id metadata written by CreateCheckout; empty if neither is there.
	OrderID string

	// IDs of the Stripe objects involved, where the event has them.
	SessionID       string
	PaymentIntentID string
	ChargeID        string
	InvoiceID       string
	SubscriptionID  string
	CustomerID      string

	// Amount is in the currency's major unit, converted exactly with the
	// same currency rules as checkout (500 JPY is 500, 12340 KWD minor units
	// are 12.34): the amount paid (PaymentSucceeded), due (PaymentPending,
	// InvoiceCreated), authorized, failed, canceled, expired, refunded so
	// far (PaymentRefunded) or disputed. Zero for SubscriptionCanceled and
	// Unhandled, and for a currency this package does not know (AmountMinor
	// still holds Stripe's value then).
	Amount decimal.Decimal
	// RefundAmount is set on PaymentRefunded: the amount refunded by this
	// event, i.e. Amount (refunded so far) less what had been refunded
	// before, from the event's data.previous_attributes. It equals Amount
	// for a first refund, or when the event does not say.
	RefundAmount decimal.Decimal
	// AmountMinor is Amount as Stripe sends it, in the currency's minor unit.
	AmountMinor int64
	// Currency is the lowercase ISO 4217 code, as Stripe sends it.
	Currency string

	// Final is set on PaymentFailed when the order can no longer be paid
	// through this attempt. A declined card in Checkout is not final (the
	// customer may try another card), nor is an invoice Stripe will retry.
	Final bool
	// FailureCode and DeclineCode are Stripe's codes for a failure, e.g.
	// "card_declined" and "insufficient_funds", where the event has them.
	// They are for the merchant: do not show a DeclineCode to the customer.
	FailureCode string
	DeclineCode string
	// FailureMessage is set on every PaymentFailed and is safe to show the
	// customer: Stripe's own message for a card decline (with the reason
	// hidden for declines Stripe says not to reveal, such as a stolen card),
	// or a generic sentence.
	FailureMessage string
	// NextPaymentAttempt is when Stripe retries a failed invoice; zero if not.
	NextPaymentAttempt time.Time

	// The typed stripe-go object of the event, exactly one of which is set
	// (none for Unhandled). Expandable fields hold only their ID, as Stripe
	// sends them in events.
	CheckoutSession *stripe.CheckoutSession
	PaymentIntent   *stripe.PaymentIntent
	Charge          *stripe.Charge
	Invoice         *stripe.Invoice
	Subscription    *stripe.Subscription
	Dispute         *stripe.Dispute

	// RawObject is the event's data.object as sent, for Unhandled events
	// only: decode it into the stripe-go type of the event. It shares memory
	// with the payload given to VerifyAndParse.
	RawObject json.RawMessage
}

// Messages for PaymentFailed.FailureMessage when Stripe's is not to be shown.
const (
	genericDeclineMessage = "Your card was declined."
	genericFailureMessage = "The payment could not be completed. Please try again or use another payment method."
)

// hiddenDeclineCodes are the decline codes that Stripe recommends not to
// reveal to the customer ("present as generic_decline").
var hiddenDeclineCodes = map[stripe.DeclineCode]bool{
	"fraudulent":         true,
	"lost_card":          true,
	"stolen_card":        true,
	"pickup_card":        true,
	"merchant_blacklist": true,
	"restricted_card":    true,
	"security_violation": true,
}

// setPrevious applies what an event's previous_attributes say.
func (o *Outcome) setPrevious(p *previousAttributes) {
	if o.Kind != PaymentRefunded {
		return
	}
	o.RefundAmount = o.Amount
	if p.AmountRefunded == nil || *p.AmountRefunded < 0 || *p.AmountRefunded > o.AmountMinor {
		return
	}
	if cur, err := money.Lookup(o.Currency); err == nil {
		o.RefundAmount = cur.FromMinor(o.AmountMinor - *p.AmountRefunded)
	}
}

// setAmount sets AmountMinor, and Amount when Currency is known.
func (o *Outcome) setAmount(minor int64) {
	o.Currency = strings.ToLower(o.Currency)
	o.AmountMinor = minor
	o.Amount = decimal.Zero
	if cur, err := money.Lookup(o.Currency); err == nil {
		o.Amount = cur.FromMinor(minor)
	}
}

// setEvent fills the event fields.
func (o *Outcome) setEvent(h *eventHead) {
	o.EventID = h.ID
	o.EventType = h.Type
	o.Created = time.Unix(h.Created, 0).UTC()
	o.Livemode = h.Livemode
}

// orderIDFrom returns the order ID stored in metadata, or "".
func orderIDFrom(metadata map[string]string) string {
	return metadata[wire.MetadataOrderID]
}

// outcomeFromCheckoutSession maps a Checkout Session to its Outcome. It is
// shared by the webhook path (checkout.session.* events) and ConfirmCheckout.
// It fills everything but the event fields.
func outcomeFromCheckoutSession(s *stripe.CheckoutSession) *Outcome {
	o := &Outcome{
		Kind:            PaymentPending,
		Created:         time.Unix(s.Created, 0).UTC(),
		Livemode:        s.Livemode,
		OrderID:         s.ClientReferenceID,
		SessionID:       s.ID,
		Currency:        string(s.Currency),
		CheckoutSession: s,
	}
	if o.OrderID == "" {
		o.OrderID = s.Metadata[wire.MetadataOrderID]
	}
	if s.PaymentIntent != nil {
		o.PaymentIntentID = s.PaymentIntent.ID
		if s.PaymentIntent.LatestCharge != nil {
			o.ChargeID = s.PaymentIntent.LatestCharge.ID
		}
	}
	if s.Invoice != nil {
		o.InvoiceID = s.Invoice.ID
	}
	if s.Subscription != nil {
		o.SubscriptionID = s.Subscription.ID
	}
	if s.Customer != nil {
		o.CustomerID = s.Customer.ID
	}
	o.setAmount(s.AmountTotal)

	o.Kind = checkoutSessionKind(s, false)
	return o
}

// checkoutSessionKind says what a Checkout Session means for its order.
// completed is set for a checkout.session.completed event, which reports the
// completion whatever the copy's status field says.
//
// An authorization is detected before payment_status: an expanded
// PaymentIntent that requires capture (ConfirmCheckout), or a session marked
// by CreateCheckout for deferred capture (events, which carry the
// PaymentIntent as an ID only). A completed deferred-capture session is an
// authorization, never a payment: nothing can have been captured yet.
func checkoutSessionKind(s *stripe.CheckoutSession, completed bool) Kind {
	switch {
	case s.Status == stripe.CheckoutSessionStatusExpired:
		return CheckoutExpired
	case !completed && s.Status != stripe.CheckoutSessionStatusComplete:
		return PaymentPending // still open: the customer has not finished paying
	}
	if pi := s.PaymentIntent; pi != nil && pi.Status != "" {
		switch pi.Status {
		case stripe.PaymentIntentStatusRequiresCapture:
			return PaymentAuthorized
		case stripe.PaymentIntentStatusSucceeded:
			return PaymentSucceeded
		}
	} else if s.Metadata[wire.MetadataCaptureMethod] == "manual" {
		return PaymentAuthorized
	}
	switch s.PaymentStatus {
	case stripe.CheckoutSessionPaymentStatusPaid, stripe.CheckoutSessionPaymentStatusNoPaymentRequired:
		return PaymentSucceeded
	}
	return PaymentPending
}

// outcomeFromCheckoutEvent maps a checkout.session.* event.
func outcomeFromCheckoutEvent(typ stripe.EventType, s *stripe.CheckoutSession) *Outcome {
	o := outcomeFromCheckoutSession(s)
	switch typ {
	case stripe.EventTypeCheckoutSessionCompleted:
		o.Kind = checkoutSessionKind(s, true)
	case stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
		o.Kind = PaymentSucceeded
	case stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
		// The session is complete and its delayed payment failed: this
		// session can no longer be paid. The customer needs a new checkout.
		o.Kind = PaymentFailed
		o.Final = true
		o.FailureMessage = genericFailureMessage
	case stripe.EventTypeCheckoutSessionExpired:
		o.Kind = CheckoutExpired
	}
	return o
}

// outcomeFromPaymentIntent maps a payment_intent.* event.
func outcomeFromPaymentIntent(typ stripe.EventType, pi *stripe.PaymentIntent) *Outcome {
	o := &Outcome{
		Created:         time.Unix(pi.Created, 0).UTC(),
		Livemode:        pi.Livemode,
		OrderID:         orderIDFrom(pi.Metadata),
		PaymentIntentID: pi.ID,
		Currency:        string(pi.Currency),
		PaymentIntent:   pi,
	}
	if pi.LatestCharge != nil {
		o.ChargeID = pi.LatestCharge.ID
	}
	if pi.Invoice != nil {
		o.InvoiceID = pi.Invoice.ID
	}
	if pi.Customer != nil {
		o.CustomerID = pi.Customer.ID
	}
	amount := pi.Amount
	switch typ {
	case stripe.EventTypePaymentIntentSucceeded:
		o.Kind = PaymentSucceeded
		if pi.AmountReceived > 0 {
			amount = pi.AmountReceived
		}
	case stripe.EventTypePaymentIntentProcessing:
		o.Kind = PaymentPending
	case stripe.EventTypePaymentIntentAmountCapturableUpdated:
		o.Kind = PaymentAuthorized
		if pi.AmountCapturable > 0 {
			amount = pi.AmountCapturable
		}
	case stripe.EventTypePaymentIntentPaymentFailed:
		// The PaymentIntent goes back to requires_payment_method and can
		// still be paid with another payment method (in Checkout, the
		// session stays open for that). It ends with payment_intent.canceled
		// or checkout.session.expired, never with this event.
		o.Kind = PaymentFailed
		o.Final = false
		o.FailureMessage = genericFailureMessage
		if e := pi.LastPaymentError; e != nil {
			o.FailureCode = string(e.Code)
			o.DeclineCode = string(e.DeclineCode)
			o.FailureMessage = customerFailureMessage(e)
		}
	case stripe.EventTypePaymentIntentCanceled:
		o.Kind = PaymentCanceled
	}
	o.setAmount(amount)
	return o
}

// customerFailureMessage returns a message about a payment error that is
// safe to show the customer. Stripe writes card errors' messages for
// customers ("Your card has insufficient funds."); other errors' messages
// are for developers.
func customerFailureMessage(e *stripe.Error) string {
	switch {
	case e.Type != stripe.ErrorTypeCard:
		return genericFailureMessage
	case hiddenDeclineCodes[e.DeclineCode]:
		return genericDeclineMessage
	case e.Msg == "":
		return genericDeclineMessage
	}
	return e.Msg
}

// outcomeFromInvoice maps an invoice.* event.
func outcomeFromInvoice(typ stripe.EventType, in *stripe.Invoice) *Outcome {
	o := &Outcome{
		Created:   time.Unix(in.Created, 0).UTC(),
		Livemode:  in.Livemode,
		OrderID:   invoiceOrderID(in),
		InvoiceID: in.ID,
		Currency:  string(in.Currency),
		Invoice:   in,
	}
	if in.Subscription != nil {
		o.SubscriptionID = in.Subscription.ID
	}
	if in.Customer != nil {
		o.CustomerID = in.Customer.ID
	}
	if in.PaymentIntent != nil {
		o.PaymentIntentID = in.PaymentIntent.ID
	}
	if in.Charge != nil {
		o.ChargeID = in.Charge.ID
	}
	amount := in.AmountDue
	switch typ {
	case stripe.EventTypeInvoicePaymentSucceeded, stripe.EventTypeInvoicePaid:
		o.Kind = PaymentSucceeded
		amount = in.AmountPaid
	case stripe.EventTypeInvoicePaymentFailed:
		o.Kind = PaymentFailed
		amount = in.AmountRemaining
		if amount == 0 {
			amount = in.AmountDue
		}
		o.FailureMessage = genericFailureMessage
		if in.NextPaymentAttempt > 0 {
			// Stripe retries the payment (Smart Retries or the retry
			// schedule): the subscription is still payable.
			o.NextPaymentAttempt = time.Unix(in.NextPaymentAttempt, 0).UTC()
		} else {
			o.Final = true
		}
	case stripe.EventTypeInvoiceCreated:
		o.Kind = InvoiceCreated
	}
	o.setAmount(amount)
	return o
}

// invoiceOrderID finds the order ID of an invoice: on the invoice itself, in
// the snapshot of its subscription's metadata (subscription_details, where a
// subscription created by CreateCheckout keeps it), or on a subscription
// line, whose metadata is the subscription's.
func invoiceOrderID(in *stripe.Invoice) string {
	if id := orderIDFrom(in.Metadata); id != "" {
		return id
	}
	if in.SubscriptionDetails != nil {
		if id := orderIDFrom(in.SubscriptionDetails.Metadata); id != "" {
			return id
		}
	}
	if in.Lines != nil {
		for _, l := range in.Lines.Data {
			if l == nil {
				continue
			}
			if id := orderIDFrom(l.Metadata); id != "" {
				return id
			}
		}
	}
	return ""
}

// outcomeFromCharge maps charge.refunded. Amount is the amount refunded so
// far; Charge.Refunded says whether that is all of it.
func outcomeFromCharge(_ stripe.EventType, ch *stripe.Charge) *Outcome {
	o := &Outcome{
		Kind:     PaymentRefunded,
		Created:  time.Unix(ch.Created, 0).UTC(),
		Livemode: ch.Livemode,
		OrderID:  orderIDFrom(ch.Metadata),
		ChargeID: ch.ID,
		Currency: string(ch.Currency),
		Charge:   ch,
	}
	if ch.PaymentIntent != nil {
		o.PaymentIntentID = ch.PaymentIntent.ID
	}
	if ch.Invoice != nil {
		o.InvoiceID = ch.Invoice.ID
	}
	if ch.Customer != nil {
		o.CustomerID = ch.Customer.ID
	}
	o.setAmount(ch.AmountRefunded)
	return o
}

// outcomeFromDispute maps charge.dispute.created. A dispute carries no order
// ID unless its metadata has one: find the order by PaymentIntentID or
// ChargeID.
func outcomeFromDispute(_ stripe.EventType, d *stripe.Dispute) *Outcome {
	o := &Outcome{
		Kind:     PaymentDisputed,
		Created:  time.Unix(d.Created, 0).UTC(),
		Livemode: d.Livemode,
		OrderID:  orderIDFrom(d.Metadata),
		Currency: string(d.Currency),
		Dispute:  d,
	}
	if d.Charge != nil {
		o.ChargeID = d.Charge.ID
	}
	if d.PaymentIntent != nil {
		o.PaymentIntentID = d.PaymentIntent.ID
	}
	o.setAmount(d.Amount)
	return o
}

// outcomeFromSubscription maps customer.subscription.deleted.
func outcomeFromSubscription(_ stripe.EventType, sub *stripe.Subscription) *Outcome {
	o := &Outcome{
		Kind:           SubscriptionCanceled,
		Created:        time.Unix(sub.Created, 0).UTC(),
		Livemode:       sub.Livemode,
		OrderID:        orderIDFrom(sub.Metadata),
		SubscriptionID: sub.ID,
		Currency:       string(sub.Currency),
		Subscription:   sub,
	}
	if sub.Customer != nil {
		o.CustomerID = sub.Customer.ID
	}
	if sub.LatestInvoice != nil {
		o.InvoiceID = sub.LatestInvoice.ID
	}
	return o
}
