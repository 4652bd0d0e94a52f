package stripegatewaytest

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
)

// Event describes one Stripe event to build. The zero values of the
// optional fields give a typical event; NewEvent and ForKind fill the rest.
type Event struct {
	// Type is the event's type, e.g. stripe.EventTypeCheckoutSessionCompleted.
	// Every type in stripegateway.EventTypes() is built with its object;
	// any other type is built with a customer object.
	Type stripe.EventType
	// ID is the event's ID: deliveries of the same event share it, and the
	// IDs of the objects in it are derived from it. NewEvent and ForKind set
	// a random one; JSON makes up a random one when it is empty.
	ID string
	// OrderID is written where CreateCheckout puts it: client_reference_id
	// and metadata.order_id of a Checkout Session, metadata.order_id of a
	// PaymentIntent, Charge, Subscription, and the subscription metadata
	// of an invoice (subscription_details, or parent.subscription_details
	// from 2025-03-31.basil on). Empty leaves it out. Disputes and refunds
	// never carry it: Stripe does not copy metadata to them.
	OrderID string
	// Amount is in the major unit of Currency: the session's total, the
	// PaymentIntent's amount, the invoice's amount, the charge's amount,
	// the refund's amount or the dispute's amount. It is converted with the
	// gateway's own currency rules, so it must be an amount Stripe can
	// charge: 12.34 KWD is sent as 12340, while 12.345 KWD is refused, as
	// CreateCheckout refuses it.
	Amount decimal.Decimal
	// Currency is a lowercase ISO 4217 code; "usd" when empty.
	Currency string
	// Created is the event's creation time; the time of NewEvent or
	// ForKind, or of JSON when zero.
	Created time.Time
	// Livemode makes a live-mode event.
	Livemode bool
	// APIVersion is the event's api_version, and the version whose layout
	// its object has: stripe.APIVersion (2023-10-16) when empty. Any
	// version from 2023-10-16 through 2026-08-26.dahlia is rendered as
	// Stripe renders it; a version this package does not know is rendered
	// like the newest. See WithAPIVersion.
	APIVersion string

	// Mode is a Checkout Session's mode: "payment" when empty,
	// "subscription" (the session starts a subscription: it names the
	// subscription, its first invoice and the customer, and has no
	// PaymentIntent), or "setup" (the session only saves a payment method:
	// amount_total and currency are null, payment_status is
	// no_payment_required, and it has a SetupIntent instead of a
	// PaymentIntent).
	Mode string
	// PaymentStatus is a checkout.session.completed session's
	// payment_status: "paid" when empty (always no_payment_required for a
	// setup session).
	PaymentStatus stripe.CheckoutSessionPaymentStatus
	// DeferredCapture makes a checkout.session.completed session one
	// created for deferred capture (its funds held, payment_status unpaid).
	DeferredCapture bool

	// FailureCode, DeclineCode and FailureMessage fill a
	// payment_intent.payment_failed event's last_payment_error; by default a
	// card_declined / generic_decline card error.
	FailureCode    string
	DeclineCode    string
	FailureMessage string

	// NextPaymentAttempt, for invoice.payment_failed and
	// invoice.payment_action_required, schedules a retry by Stripe (so the
	// failure is not final). Zero means no retry.
	NextPaymentAttempt time.Time

	// BillingReason is an invoice's billing_reason: "subscription_create"
	// (a subscription's first invoice) when empty; "subscription_cycle",
	// "subscription_update" or "subscription_threshold" for a renewal (see
	// Renewal), "manual", ...
	BillingReason string
	// PeriodStart and PeriodEnd are the service period: that of an
	// invoice's subscription line (lines.data[].period), and a
	// subscription's current period (current_period_start/end, or its
	// items' from 2025-03-31.basil on). Created and one month after
	// Created when zero.
	PeriodStart time.Time
	PeriodEnd   time.Time
	// HostedInvoiceURL is an invoice's hosted_invoice_url, where the
	// customer pays it or completes 3-D Secure. When empty, a URL of the
	// form https://invoice.stripe.com/i/acct_…/test_… derived from ID; a
	// draft invoice (invoice.created) has none.
	HostedInvoiceURL string

	// SubscriptionStatus is the status of the subscription of
	// customer.subscription.* events: "active" when empty, "canceled" for
	// customer.subscription.deleted. For customer.subscription.updated,
	// also past_due, unpaid, paused, trialing, incomplete,
	// incomplete_expired.
	SubscriptionStatus string
	// CancelAtPeriodEnd makes the subscription one that ends at the end of
	// its current period (cancel_at_period_end, with cancel_at PeriodEnd).
	CancelAtPeriodEnd bool

	// DisputeStatus is the dispute's status: "needs_response" for
	// charge.dispute.created and "lost" for charge.dispute.closed when
	// empty; won, lost, warning_closed, ...
	DisputeStatus string

	// RefundStatus and FailureReason are the refund's status and
	// failure_reason in charge.refund.updated: "failed" and
	// "expired_or_canceled_card" when empty. A RefundStatus other than
	// failed or canceled has no failure_reason.
	RefundStatus  string
	FailureReason string

	// AmountRefunded, for charge.refunded, is the amount refunded so far;
	// zero means Amount (a full refund).
	AmountRefunded decimal.Decimal

	// PaymentIntentID is the ID of the payment's PaymentIntent (pi_…),
	// random when empty. Set it to tie the events of one payment together:
	// a dispute or a refund carries no order ID (Stripe does not copy
	// metadata to them), so a host finds the order of a PaymentDisputed,
	// DisputeClosed or RefundFailed outcome by its PaymentIntentID.
	PaymentIntentID string
}

// EventOption changes an Event made by NewEvent or ForKind. It is applied
// last, after ForKind has chosen the event's type and fields, so it can
// adjust them.
type EventOption func(*Event)

// WithAPIVersion builds the event at Stripe API version v: its
// api_version, and the layout of its object. Use the API version of the
// webhook endpoint under test (Stripe's Dashboard shows it; stripe listen
// uses the account's default). Empty means stripe.APIVersion, 2023-10-16.
func WithAPIVersion(v string) EventOption {
	return func(e *Event) { e.APIVersion = v }
}

// Renewal makes an invoice event a subscription's renewal (BillingReason
// subscription_cycle) rather than its first invoice.
func Renewal() EventOption {
	return func(e *Event) { e.BillingReason = "subscription_cycle" }
}

// SetupMode makes a Checkout Session event that of a setup-mode session:
// a payment method saved for later, no money moved (Mode "setup").
func SetupMode() EventOption {
	return func(e *Event) { e.Mode = "setup" }
}

// NewEvent returns an event of type typ for the order, amount and currency,
// with a new random ID and the current time, changed by opts. Its JSON is
// the same on every call, so that it can be delivered twice as one event.
func NewEvent(typ stripe.EventType, orderID string, amount decimal.Decimal, currency string, opts ...EventOption) Event {
	e := Event{
		Type: typ, ID: "evt_" + randomID(24), OrderID: orderID, Amount: amount, Currency: currency,
		Created: time.Now().Truncate(time.Second),
	}
	e.apply(opts)
	return e
}

func (e *Event) apply(opts []EventOption) {
	for _, o := range opts {
		if o != nil {
			o(e)
		}
	}
}

// ForKind returns a typical event that the gateway reports with kind,
// changed by opts:
//
//	PaymentSucceeded       checkout.session.completed, paid
//	PaymentPending         checkout.session.completed, unpaid
//	PaymentAuthorized      checkout.session.completed of a deferred-capture session
//	PaymentFailed          payment_intent.payment_failed (a card decline)
//	PaymentActionRequired  invoice.payment_action_required (3-D Secure)
//	PaymentCanceled        payment_intent.canceled
//	CheckoutExpired        checkout.session.expired
//	PaymentRefunded        charge.refunded, in full
//	RefundFailed           charge.refund.updated, the refund failed
//	                       (expired_or_canceled_card)
//	PaymentDisputed        charge.dispute.created
//	DisputeClosed          charge.dispute.closed, lost
//	SubscriptionUpdated    customer.subscription.updated, now past_due
//	SubscriptionCanceled   customer.subscription.deleted
//	InvoiceCreated         invoice.created
//	Unhandled              customer.created
//
// For renewals, use Renewal with the invoice events of NewEvent
// (invoice.paid, invoice.payment_failed); for a setup-mode session,
// SetupMode with checkout.session.completed. It panics for a kind not
// listed.
func ForKind(kind stripegateway.Kind, orderID string, amount decimal.Decimal, currency string, opts ...EventOption) Event {
	e := NewEvent("", orderID, amount, currency)
	switch kind {
	case stripegateway.PaymentSucceeded:
		e.Type = stripe.EventTypeCheckoutSessionCompleted
	case stripegateway.PaymentPending:
		e.Type = stripe.EventTypeCheckoutSessionCompleted
		e.PaymentStatus = stripe.CheckoutSessionPaymentStatusUnpaid
	case stripegateway.PaymentAuthorized:
		e.Type = stripe.EventTypeCheckoutSessionCompleted
		e.DeferredCapture = true
	case stripegateway.PaymentFailed:
		e.Type = stripe.EventTypePaymentIntentPaymentFailed
	case stripegateway.PaymentActionRequired:
		e.Type = stripe.EventTypeInvoicePaymentActionRequired
	case stripegateway.PaymentCanceled:
		e.Type = stripe.EventTypePaymentIntentCanceled
	case stripegateway.CheckoutExpired:
		e.Type = stripe.EventTypeCheckoutSessionExpired
	case stripegateway.PaymentRefunded:
		e.Type = stripe.EventTypeChargeRefunded
	case stripegateway.RefundFailed:
		e.Type = stripe.EventTypeChargeRefundUpdated
		e.RefundStatus = "failed"
	case stripegateway.PaymentDisputed:
		e.Type = stripe.EventTypeChargeDisputeCreated
	case stripegateway.DisputeClosed:
		e.Type = stripe.EventTypeChargeDisputeClosed
	case stripegateway.SubscriptionUpdated:
		e.Type = stripe.EventTypeCustomerSubscriptionUpdated
		e.SubscriptionStatus = "past_due"
	case stripegateway.SubscriptionCanceled:
		e.Type = stripe.EventTypeCustomerSubscriptionDeleted
	case stripegateway.InvoiceCreated:
		e.Type = stripe.EventTypeInvoiceCreated
	case stripegateway.Unhandled:
		e.Type = stripe.EventTypeCustomerCreated
	default:
		panic(fmt.Sprintf("stripegatewaytest.ForKind: unknown kind %q", kind))
	}
	e.apply(opts)
	return e
}
