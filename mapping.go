package stripegateway

import (
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway/internal/redact"
	"github.com/b27de697/stripegateway/internal/wire"
)

// This file maps the view of an event's object (views.go) to its Outcome.
// Each function reads every field from where the event's Shape puts it,
// and refuses what no Stripe object can hold (a negative amount, an object
// of another type than the event carries). They are pure: no I/O, no clock.

// mapFunc maps the view of an event's object.
type mapFunc[V any] func(typ stripe.EventType, v *V, shape wire.Shape) (*Outcome, error)

// newOutcome starts an Outcome from what every object has.
func newOutcome(kind Kind, h *objectHead) *Outcome {
	return &Outcome{
		Kind:     kind,
		Created:  unixTime(h.Created),
		Livemode: h.Livemode,
		OrderID:  orderIDFrom(h.Metadata),
		Currency: h.Currency,
	}
}

// unixTime converts a Unix time as Stripe sends it; zero stays the zero
// time.
func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// checkObject refuses an object of another type than the event carries,
// such as a Checkout Session inside a payment_intent.succeeded, and
// negative amounts. An object without "object" is accepted.
func checkObject(typ stripe.EventType, h *objectHead, amounts ...int64) error {
	if want := eventObjectName(typ); h.Object != "" && want != "" && h.Object != want {
		return fmt.Errorf("data.object is a %q, but a %s event carries a %q", redact.Limit(h.Object, 40), typ, want)
	}
	for _, a := range amounts {
		if a < 0 {
			return fmt.Errorf("%s %s has a negative amount (%d): no Stripe object does", h.Object, h.ID, a)
		}
	}
	return nil
}

// mapCheckoutSession maps a checkout.session.* event.
func mapCheckoutSession(typ stripe.EventType, s *checkoutView, _ wire.Shape) (*Outcome, error) {
	if err := checkObject(typ, &s.objectHead, s.AmountTotal); err != nil {
		return nil, err
	}
	o := outcomeOfSession(s)
	switch {
	case s.Mode == string(stripe.CheckoutSessionModeSetup) && typ != stripe.EventTypeCheckoutSessionExpired:
		// A card saved, no money moved: never a payment.
		o.Kind = Unhandled
	case typ == stripe.EventTypeCheckoutSessionCompleted:
		o.Kind = sessionKind(s, true)
	case typ == stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
		o.Kind = PaymentSucceeded
	case typ == stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
		// The session is complete and its delayed payment failed: this
		// session can no longer be paid. The customer needs a new checkout.
		o.Kind = PaymentFailed
		o.Final = true
		o.FailureMessage = genericFailureMessage
	case typ == stripe.EventTypeCheckoutSessionExpired:
		o.Kind = CheckoutExpired
	}
	return o, nil
}

// outcomeOfSession maps a Checkout Session, as ConfirmCheckout sees it
// too. It fills everything but the event fields.
func outcomeOfSession(s *checkoutView) *Outcome {
	o := newOutcome(PaymentPending, &s.objectHead)
	o.SessionID = s.ID
	o.PaymentIntentID = string(s.PaymentIntent)
	o.ChargeID = s.latestCharge
	o.InvoiceID = string(s.Invoice)
	o.SubscriptionID = string(s.Subscription)
	o.CustomerID = string(s.Customer)
	// The order is the one both references name. A Payment Link lets a
	// customer choose client_reference_id, so when it disagrees with the
	// order_id metadata CreateCheckout wrote, the payment is neither's.
	ref, meta := s.ClientReferenceID, orderIDFrom(s.Metadata)
	switch {
	case ref != "" && meta != "" && ref != meta:
		o.OrderID = ""
		o.orderConflict = [2]string{ref, meta}
	case ref != "":
		o.OrderID = ref
	default:
		o.OrderID = meta
	}
	o.setAmount(s.AmountTotal)
	if s.Mode == string(stripe.CheckoutSessionModeSetup) {
		o.Kind = Unhandled
	} else {
		o.Kind = sessionKind(s, false)
	}
	return o
}

// sessionKind says what a Checkout Session means for its order. completed
// is set for a checkout.session.completed event, which reports the
// completion whatever the copy's status field says.
//
// An authorization is detected before payment_status: an expanded
// PaymentIntent that requires capture (ConfirmCheckout), or a session marked
// by CreateCheckout for deferred capture (events, which carry the
// PaymentIntent as an ID only). A completed deferred-capture session is an
// authorization, never a payment: nothing can have been captured yet.
func sessionKind(s *checkoutView, completed bool) Kind {
	switch {
	case s.Status == string(stripe.CheckoutSessionStatusExpired):
		return CheckoutExpired
	case !completed && s.Status != string(stripe.CheckoutSessionStatusComplete):
		return PaymentPending // still open: the customer has not finished paying
	}
	if st := s.intentStatus; st != "" {
		switch stripe.PaymentIntentStatus(st) {
		case stripe.PaymentIntentStatusRequiresCapture:
			return PaymentAuthorized
		case stripe.PaymentIntentStatusSucceeded:
			return PaymentSucceeded
		}
	} else if s.Metadata[wire.MetadataCaptureMethod] == "manual" {
		return PaymentAuthorized
	}
	switch stripe.CheckoutSessionPaymentStatus(s.PaymentStatus) {
	case stripe.CheckoutSessionPaymentStatusPaid, stripe.CheckoutSessionPaymentStatusNoPaymentRequired:
		return PaymentSucceeded
	}
	return PaymentPending
}

// mapPaymentIntent maps a payment_intent.* event.
func mapPaymentIntent(typ stripe.EventType, pi *paymentIntentView, _ wire.Shape) (*Outcome, error) {
	if err := checkObject(typ, &pi.objectHead, pi.Amount, pi.AmountReceived, pi.AmountCapturable); err != nil {
		return nil, err
	}
	o := newOutcome(Unhandled, &pi.objectHead)
	o.PaymentIntentID = pi.ID
	o.ChargeID = string(pi.LatestCharge)
	o.InvoiceID = string(pi.Invoice) // Legacy only: Basil dropped it
	o.CustomerID = string(pi.Customer)
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
		o.FailureMessage = genericFailureMessage
		if e := pi.LastPaymentError; e != nil {
			o.FailureCode = e.Code
			o.DeclineCode = e.DeclineCode
			o.FailureMessage = customerFailureMessage(e)
		}
	case stripe.EventTypePaymentIntentCanceled:
		o.Kind = PaymentCanceled
	}
	o.setAmount(amount)
	return o, nil
}

// customerFailureMessage returns a message about a payment error that is
// safe to show the customer. Stripe writes card errors' messages for
// customers ("Your card has insufficient funds."); other errors' messages
// are for developers.
func customerFailureMessage(e *paymentErrorView) string {
	switch {
	case e.Type != string(stripe.ErrorTypeCard):
		return genericFailureMessage
	case hiddenDeclineCodes[stripe.DeclineCode(e.DeclineCode)]:
		return genericDeclineMessage
	case e.Message == "":
		return genericDeclineMessage
	}
	return e.Message
}

// renewalReasons are the billing reasons of a subscription's invoices after
// its first.
var renewalReasons = map[string]bool{
	string(stripe.InvoiceBillingReasonSubscriptionCycle):     true,
	string(stripe.InvoiceBillingReasonSubscriptionUpdate):    true,
	string(stripe.InvoiceBillingReasonSubscriptionThreshold): true,
}

// mapInvoice maps an invoice.* event.
func mapInvoice(typ stripe.EventType, in *invoiceView, shape wire.Shape) (*Outcome, error) {
	if err := checkObject(typ, &in.objectHead, in.AmountDue, in.AmountPaid, in.AmountRemaining); err != nil {
		return nil, err
	}
	o := newOutcome(InvoiceCreated, &in.objectHead)
	o.InvoiceID = in.ID
	o.CustomerID = string(in.Customer)
	o.BillingReason = in.BillingReason
	o.Renewal = renewalReasons[in.BillingReason]
	o.HostedInvoiceURL = in.HostedInvoiceURL
	details := in.subscriptionDetails(shape)
	if shape == wire.Legacy {
		o.SubscriptionID = string(in.Subscription)
		o.PaymentIntentID = string(in.PaymentIntent)
		o.ChargeID = string(in.Charge)
	} else if details != nil {
		o.SubscriptionID = string(details.Subscription)
	}
	o.OrderID = in.orderID(details)
	o.PeriodStart, o.PeriodEnd = in.servicePeriod(shape)
	if o.SubscriptionID == "" {
		o.SubscriptionID = in.lineSubscription(shape)
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
		o.NextPaymentAttempt = unixTime(in.NextPaymentAttempt)
		// Final only when Stripe will not retry, and never for a renewal:
		// the order was paid; the subscription's status says what follows.
		o.Final = in.NextPaymentAttempt == 0 && !o.Renewal
	case stripe.EventTypeInvoicePaymentActionRequired:
		o.Kind = PaymentActionRequired
		o.NextPaymentAttempt = unixTime(in.NextPaymentAttempt)
		amount = in.AmountRemaining
		if amount == 0 {
			amount = in.AmountDue
		}
	case stripe.EventTypeInvoiceCreated:
		o.Kind = InvoiceCreated
	}
	o.setAmount(amount)
	return o, nil
}

// subscriptionDetails is the invoice's snapshot of its subscription: at the
// top level (Legacy) or under parent (Basil), or nil.
func (in *invoiceView) subscriptionDetails(shape wire.Shape) *subscriptionDetailsView {
	if shape == wire.Legacy {
		return in.SubscriptionDetails
	}
	if p := in.Parent; p != nil && p.Type == "subscription_details" {
		return p.SubscriptionDetails
	}
	return nil
}

// orderID finds the order ID of an invoice: on the invoice itself, in the
// snapshot of its subscription's metadata (where a subscription created by
// CreateCheckout keeps it), or on a subscription line, whose metadata is the
// subscription's.
func (in *invoiceView) orderID(details *subscriptionDetailsView) string {
	if id := orderIDFrom(in.Metadata); id != "" {
		return id
	}
	if details != nil {
		if id := orderIDFrom(details.Metadata); id != "" {
			return id
		}
	}
	for i := range in.Lines.Data {
		if id := orderIDFrom(in.Lines.Data[i].Metadata); id != "" {
			return id
		}
	}
	return ""
}

// isSubscriptionLine reports whether a line bills a subscription's period
// (not a proration or a one-off item).
func (l *invoiceLineView) isSubscriptionLine(shape wire.Shape) bool {
	if shape == wire.Legacy {
		return l.Type == "subscription" && !l.Proration
	}
	p := l.Parent
	return p != nil && p.Type == "subscription_item_details" && p.SubscriptionItemDetails != nil && !p.SubscriptionItemDetails.Proration
}

// servicePeriod is the period the invoice pays for: the span of its
// subscription lines' periods, else of all its lines', else the invoice's
// own period_start and period_end (which, for a subscription invoice, is
// the period before the one billed).
func (in *invoiceView) servicePeriod(shape wire.Shape) (start, end time.Time) {
	var lo, hi int64
	for pass := 0; pass < 2 && hi == 0; pass++ {
		for i := range in.Lines.Data {
			l := &in.Lines.Data[i]
			if (pass == 0 && !l.isSubscriptionLine(shape)) || l.Period.End == 0 {
				continue
			}
			if lo == 0 || l.Period.Start < lo {
				lo = l.Period.Start
			}
			hi = max(hi, l.Period.End)
		}
	}
	if hi == 0 {
		lo, hi = in.PeriodStart, in.PeriodEnd
	}
	return unixTime(lo), unixTime(hi)
}

// lineSubscription is the subscription named by the invoice's lines.
func (in *invoiceView) lineSubscription(shape wire.Shape) string {
	for i := range in.Lines.Data {
		l := &in.Lines.Data[i]
		if l.Subscription != "" {
			return string(l.Subscription)
		}
		if p := l.Parent; shape == wire.Basil && p != nil && p.SubscriptionItemDetails != nil && p.SubscriptionItemDetails.Subscription != "" {
			return string(p.SubscriptionItemDetails.Subscription)
		}
	}
	return ""
}

// mapCharge maps charge.refunded. Amount is the amount refunded so far;
// the charge's own amount says whether that is all of it.
func mapCharge(typ stripe.EventType, ch *chargeView, _ wire.Shape) (*Outcome, error) {
	if err := checkObject(typ, &ch.objectHead, ch.Amount, ch.AmountRefunded); err != nil {
		return nil, err
	}
	o := newOutcome(PaymentRefunded, &ch.objectHead)
	o.ChargeID = ch.ID
	o.PaymentIntentID = string(ch.PaymentIntent)
	o.InvoiceID = string(ch.Invoice) // Legacy only
	o.CustomerID = string(ch.Customer)
	o.setAmount(ch.AmountRefunded)
	return o, nil
}

// mapRefund maps charge.refund.updated: a failed or canceled refund is
// RefundFailed; any other change is Unhandled (charge.refunded reported the
// refund itself).
func mapRefund(typ stripe.EventType, r *refundView, _ wire.Shape) (*Outcome, error) {
	if err := checkObject(typ, &r.objectHead, r.Amount); err != nil {
		return nil, err
	}
	o := newOutcome(Unhandled, &r.objectHead)
	o.RefundID = r.ID
	o.ChargeID = string(r.Charge)
	o.PaymentIntentID = string(r.PaymentIntent)
	o.FailureReason = r.FailureReason
	switch stripe.RefundStatus(r.Status) {
	case stripe.RefundStatusFailed, stripe.RefundStatusCanceled:
		o.Kind = RefundFailed
	}
	o.setAmount(r.Amount)
	return o, nil
}

// mapDispute maps charge.dispute.created and charge.dispute.closed. A
// dispute carries no order ID unless its metadata has one: find the order
// by PaymentIntentID or ChargeID.
func mapDispute(typ stripe.EventType, d *disputeView, _ wire.Shape) (*Outcome, error) {
	if err := checkObject(typ, &d.objectHead, d.Amount); err != nil {
		return nil, err
	}
	o := newOutcome(PaymentDisputed, &d.objectHead)
	if typ == stripe.EventTypeChargeDisputeClosed {
		o.Kind = DisputeClosed
	}
	o.ChargeID = string(d.Charge)
	o.PaymentIntentID = string(d.PaymentIntent)
	o.DisputeStatus = d.Status
	o.setAmount(d.Amount)
	return o, nil
}

// mapSubscription maps customer.subscription.updated and .deleted.
func mapSubscription(typ stripe.EventType, sub *subscriptionView, shape wire.Shape) (*Outcome, error) {
	if err := checkObject(typ, &sub.objectHead); err != nil {
		return nil, err
	}
	o := newOutcome(SubscriptionCanceled, &sub.objectHead)
	if typ == stripe.EventTypeCustomerSubscriptionUpdated {
		o.Kind = SubscriptionUpdated
	}
	o.SubscriptionID = sub.ID
	o.CustomerID = string(sub.Customer)
	o.InvoiceID = string(sub.LatestInvoice)
	o.SubscriptionStatus = sub.Status
	o.CancelAtPeriodEnd = sub.CancelAtPeriodEnd
	start, end := sub.CurrentPeriodStart, sub.CurrentPeriodEnd
	if shape == wire.Basil {
		start, end = 0, 0
		for _, it := range sub.Items.Data {
			if end == 0 || it.CurrentPeriodEnd > end {
				start, end = it.CurrentPeriodStart, it.CurrentPeriodEnd
			}
		}
	}
	o.PeriodStart, o.PeriodEnd = unixTime(start), unixTime(end)
	return o, nil
}
