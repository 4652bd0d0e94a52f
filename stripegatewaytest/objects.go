package stripegatewaytest

import (
	"strconv"

	"github.com/stripe/stripe-go/v76"
)

// This file holds the builder of events' objects: the IDs it makes up and
// the object each event type carries. The objects themselves are in
// objects_payment.go and objects_billing.go.

// builder makes the data.object of an event, in the shape of API version
// 2023-10-16. Keys are sorted by encoding/json, as Stripe sorts them.
type builder struct {
	e        Event
	amount   int64 // minor units
	refunded int64 // minor units, charge.refunded
	created  int64
	suffix   string // random part of the objects' IDs
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

func (b *builder) chargeID() string       { return b.id("ch_3") }
func (b *builder) customerID() string     { return "cus_" + b.suffix[:14] }
func (b *builder) invoiceID() string      { return b.id("in_1") }
func (b *builder) subscriptionID() string { return b.id("sub_1") }
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
		stripe.EventTypeInvoiceCreated:
		return b.invoice()
	case stripe.EventTypeChargeRefunded:
		return b.charge()
	case stripe.EventTypeChargeDisputeCreated:
		return b.dispute()
	case stripe.EventTypeCustomerSubscriptionDeleted:
		return b.subscription()
	}
	return b.customer()
}

func (b *builder) previousAttributes() map[string]any {
	if b.e.Type == stripe.EventTypeChargeRefunded {
		return map[string]any{"amount_refunded": 0, "refunded": false}
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
