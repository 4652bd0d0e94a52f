package stripegatewaytest

import (
	"strconv"

	"github.com/stripe/stripe-go/v76"
)

// This file holds the builder of events' objects: the IDs it makes up and
// the object each event type carries. The objects themselves are in
// objects_payment.go and objects_billing.go.

// builder makes the data.object of an event, in the layout of the event's
// API version: that of 2023-10-16 (wire.Legacy) or, with basil set, that
// of 2025-03-31.basil and later (wire.Basil), with the enum values
// 2026-03-25.dahlia renamed. Only the fields the versions removed, moved or
// renamed differ; fields that Stripe added later are optional in every
// version and left out. Keys are sorted by encoding/json, as Stripe
// sorts them.
type builder struct {
	e           Event
	amount      int64 // minor units
	refunded    int64 // minor units, charge.refunded
	created     int64
	suffix      string // random part of the objects' IDs
	basil       bool   // lay objects out as 2025-03-31.basil and later do
	dahlia      bool   // 2026-03-25.dahlia or later: renamed enum values
	periodStart int64  // Event.PeriodStart, Unix seconds
	periodEnd   int64  // Event.PeriodEnd, Unix seconds
}

// Card details of the test payment method, as Stripe reports them.
const (
	cardBrand       = "visa"
	cardLast4       = "4242"
	cardFingerprint = "Fk4Dq9LzR2Wm7Xp1"
	cardExpMonth    = 12
	cardExpYear     = 2034
)

func (b *builder) mode() string {
	if b.e.Livemode {
		return "live"
	}
	return "test"
}

func (b *builder) id(prefix string) string { return prefix + b.suffix }

func (b *builder) paymentIntentID() string {
	if b.e.PaymentIntentID != "" {
		return b.e.PaymentIntentID
	}
	return b.id("pi_3")
}

func (b *builder) chargeID() string           { return b.id("ch_3") }
func (b *builder) customerID() string         { return "cus_" + b.suffix[:14] }
func (b *builder) invoiceID() string          { return b.id("in_1") }
func (b *builder) subscriptionID() string     { return b.id("sub_1") }
func (b *builder) subscriptionItemID() string { return "si_" + b.suffix[:14] }
func (b *builder) refundID() string           { return "re_3" + b.suffix }
func (b *builder) setupIntentID() string      { return b.id("seti_1") }
func (b *builder) paymentMethodID() string {
	return b.id("pm_1")
}

// metadata returns {"order_id": OrderID}, or {} without an order ID.
func (b *builder) metadata() map[string]any {
	m := map[string]any{}
	if b.e.OrderID != "" {
		m["order_id"] = b.e.OrderID
	}
	return m
}

func (b *builder) object() map[string]any {
	switch b.e.Type {
	case stripe.EventTypeCheckoutSessionCompleted,
		stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded,
		stripe.EventTypeCheckoutSessionAsyncPaymentFailed,
		stripe.EventTypeCheckoutSessionExpired:
		return b.checkoutSession()
	case stripe.EventTypePaymentIntentSucceeded,
		stripe.EventTypePaymentIntentProcessing,
		stripe.EventTypePaymentIntentAmountCapturableUpdated,
		stripe.EventTypePaymentIntentPaymentFailed,
		stripe.EventTypePaymentIntentCanceled:
		return b.paymentIntent()
	case stripe.EventTypeInvoicePaymentSucceeded,
		stripe.EventTypeInvoicePaid,
		stripe.EventTypeInvoicePaymentFailed,
		stripe.EventTypeInvoicePaymentActionRequired,
		stripe.EventTypeInvoiceCreated:
		return b.invoice()
	case stripe.EventTypeChargeRefunded:
		return b.charge()
	case stripe.EventTypeChargeRefundUpdated:
		return b.refund()
	case stripe.EventTypeChargeDisputeCreated,
		stripe.EventTypeChargeDisputeClosed:
		return b.dispute()
	case stripe.EventTypeCustomerSubscriptionUpdated,
		stripe.EventTypeCustomerSubscriptionDeleted:
		return b.subscription()
	}
	return b.customer()
}

// previousAttributes is data.previous_attributes of an update event: the
// values the fields that changed had before.
func (b *builder) previousAttributes() map[string]any {
	switch b.e.Type {
	case stripe.EventTypeChargeRefunded:
		return map[string]any{"amount_refunded": 0, "refunded": false}
	case stripe.EventTypeChargeRefundUpdated:
		return map[string]any{"status": "pending"}
	case stripe.EventTypeChargeDisputeClosed:
		return map[string]any{"status": "under_review"}
	case stripe.EventTypeCustomerSubscriptionUpdated:
		prev := map[string]any{}
		if b.e.CancelAtPeriodEnd {
			prev["cancel_at"], prev["cancel_at_period_end"], prev["canceled_at"] = nil, false, nil
		}
		if b.subscriptionStatus() != "active" {
			prev["status"] = "active"
		} else if len(prev) == 0 {
			prev["status"] = "past_due"
		}
		return prev
	}
	return nil
}

// nilIfEmpty is s, or nil (JSON null) when s is empty.
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
