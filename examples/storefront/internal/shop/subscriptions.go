package shop

import (
	"fmt"
	"strings"
	"time"

	"github.com/b27de697/stripegateway"
)

// This file applies what Stripe reports after an order's payment: a
// subscription's first invoice, its renewals and their failures, its
// status; a dispute and how it closed; a refund that failed. A renewal is
// news for the subscription, never for the order's payment: it extends
// ActiveUntil (to the end of the period the invoice paid for, once per
// invoice), and its failure shows the subscription past due without
// un-paying the order.

// dateFormat is how the pages show a subscription's dates.
const dateFormat = "Jan 2, 2006"

// endedSubscription says whether a subscription status is final: Stripe
// never brings such a subscription back.
func endedSubscription(status string) bool {
	return status == "canceled" || status == "incomplete_expired"
}

// closedDispute says whether a dispute status is final.
func closedDispute(status string) bool {
	return status == "won" || status == "lost" || status == "warning_closed"
}

// paidOnce says whether the order's payment was taken at some point, so
// that what happens to the money afterwards concerns it.
func paidOnce(s Status) bool {
	switch s {
	case StatusPaid, StatusPartiallyRefunded, StatusRefunded, StatusDisputed, StatusDisputeLost, StatusRefundFailed, StatusReview:
		return true
	}
	return false
}

// applyAfterPayment applies the outcomes that are news for the order's
// subscription, dispute or refund rather than for its payment: renewals,
// subscription changes, a closed dispute, a failed refund. ok is false for
// every other outcome, which transition handles.
func applyAfterPayment(ord *Order, o *stripegateway.Outcome) (applied bool, note string, ok bool) {
	switch {
	case o.Renewal:
		applied, note = applyRenewal(ord, o)
		return applied, note, true
	case o.Kind == stripegateway.PaymentActionRequired:
		// The order's own first payment is Checkout's: this is an invoice
		// waiting for the customer. Stripe emails them the link.
		note = "the customer must confirm the payment (3-D Secure) on Stripe's invoice page"
		if o.HostedInvoiceURL != "" {
			note += ": " + o.HostedInvoiceURL
		}
		return false, note, true
	case o.Kind == stripegateway.SubscriptionUpdated, o.Kind == stripegateway.SubscriptionCanceled:
		applied, note = applySubscriptionChange(ord, o)
		return applied, note, true
	case o.Kind == stripegateway.DisputeClosed:
		applied, note = applyDisputeClosed(ord, o)
		return applied, note, true
	case o.Kind == stripegateway.RefundFailed:
		applied, note = applyRefundFailed(ord, o)
		return applied, note, true
	}
	return false, "", false
}

// applyRenewal applies an invoice of a subscription after its first.
func applyRenewal(ord *Order, o *stripegateway.Outcome) (bool, string) {
	switch o.Kind {
	case stripegateway.PaymentSucceeded:
		changed, note := recordInvoice(ord, o)
		return changed, "renewal " + note
	case stripegateway.PaymentFailed:
		ord.RenewalFailure = o.FailureMessage
		if ord.RenewalFailure == "" {
			ord.RenewalFailure = "The renewal's payment failed."
		}
		note := "the renewal's payment failed; the order's first payment stands"
		if !o.NextPaymentAttempt.IsZero() {
			note += "; Stripe tries again on " + o.NextPaymentAttempt.Format(dateFormat)
		}
		if (ord.SubscriptionStatus == "" || ord.SubscriptionStatus == "active") && !o.Created.Before(ord.SubscriptionAt) {
			ord.SubscriptionStatus, ord.SubscriptionAt = "past_due", o.Created
			note += "; the subscription is past due"
		}
		return true, note
	case stripegateway.PaymentActionRequired:
		note := "the customer must confirm the renewal's payment (3-D Secure) on Stripe's invoice page"
		if o.HostedInvoiceURL != "" {
			note += ": " + o.HostedInvoiceURL
		}
		return false, note
	}
	return false, "recorded (a renewal's invoice)"
}

// recordInvoice records a paid invoice of the subscription and extends
// ActiveUntil to the end of the period it paid for. An invoice recorded
// already (its other event: invoice.paid and invoice.payment_succeeded
// report one payment) changes nothing.
func recordInvoice(ord *Order, o *stripegateway.Outcome) (bool, string) {
	for _, inv := range ord.Invoices {
		if inv.ID == o.InvoiceID {
			return false, "invoice " + o.InvoiceID + " is recorded already"
		}
	}
	ord.Invoices = append(ord.Invoices, PaidInvoice{
		ID: o.InvoiceID, Renewal: o.Renewal, PeriodStart: o.PeriodStart, PeriodEnd: o.PeriodEnd,
		Amount: o.Amount, Currency: o.Currency, PaidAt: o.Created,
	})
	if o.PeriodEnd.After(ord.ActiveUntil) {
		ord.ActiveUntil = o.PeriodEnd
	}
	activate(ord, o)
	ord.RenewalFailure = ""
	return true, "invoice " + o.InvoiceID + " paid: active until " + ord.ActiveUntil.Format(dateFormat)
}

// activate marks the subscription active after a payment, unless a newer
// event said otherwise or it has ended.
func activate(ord *Order, o *stripegateway.Outcome) {
	switch ord.SubscriptionStatus {
	case "", "past_due", "unpaid", "incomplete":
		if !o.Created.Before(ord.SubscriptionAt) {
			ord.SubscriptionStatus, ord.SubscriptionAt = "active", o.Created
		}
	}
}

// applySubscriptionChange applies customer.subscription.updated and
// .deleted: the subscription's status, never its paid period.
func applySubscriptionChange(ord *Order, o *stripegateway.Outcome) (bool, string) {
	status := o.SubscriptionStatus
	if status == "" && o.Kind == stripegateway.SubscriptionCanceled {
		status = "canceled"
	}
	switch {
	case status == "":
		return false, "recorded: the event has no subscription status"
	case !ord.SubscriptionAt.IsZero() && o.Created.Before(ord.SubscriptionAt):
		return false, fmt.Sprintf("not applied: the event (%s) is older than the one that set the subscription's status %q (%s)",
			o.Created.Format(time.RFC3339), ord.SubscriptionStatus, ord.SubscriptionAt.Format(time.RFC3339))
	case endedSubscription(ord.SubscriptionStatus) && status != ord.SubscriptionStatus:
		return false, "not applied: the subscription has ended (" + ord.SubscriptionStatus + ")"
	}
	changed := status != ord.SubscriptionStatus || o.CancelAtPeriodEnd != ord.CancelAtPeriodEnd
	ord.SubscriptionStatus, ord.CancelAtPeriodEnd, ord.SubscriptionAt = status, o.CancelAtPeriodEnd, o.Created
	if status == "active" {
		ord.RenewalFailure = ""
	}
	note := "the subscription is " + status
	if o.CancelAtPeriodEnd && !o.PeriodEnd.IsZero() {
		note += ", and ends on " + o.PeriodEnd.Format(dateFormat)
	}
	return changed, note
}

// applyDisputeClosed applies charge.dispute.closed: won (or closed as a
// warning), the order is back to what it was before the dispute; lost, the
// money is gone.
func applyDisputeClosed(ord *Order, o *stripegateway.Outcome) (bool, string) {
	switch {
	case closedDispute(ord.DisputeStatus):
		return false, "not applied: the dispute was closed already (" + ord.DisputeStatus + ")"
	case !paidOnce(ord.Status):
		return false, "not applied: the order is " + ord.Status.Label()
	}
	switch {
	case ord.Status != StatusDisputed:
		// The dispute's opening has not arrived (Stripe delivers in any
		// order): what the order is now is what it was before.
		ord.StatusBeforeDispute = ord.Status
	case ord.StatusBeforeDispute == "":
		ord.StatusBeforeDispute = StatusPaid
	}
	ord.DisputeStatus = o.DisputeStatus
	if ord.DisputeStatus == "" {
		ord.DisputeStatus = "closed"
	}
	ord.StatusAt = o.Created
	amount := FormatMoney(o.Amount, o.Currency)
	if o.DisputeStatus == "lost" {
		ord.Status = StatusDisputeLost
		return true, "the dispute was lost: " + amount + " is gone"
	}
	ord.Status = ord.StatusBeforeDispute
	if o.DisputeStatus == "won" {
		return true, "the dispute was won: " + amount + " comes back"
	}
	return true, "the dispute was closed (" + ord.DisputeStatus + ")"
}

// applyRefundFailed applies charge.refund.updated of a failed or canceled
// refund: the customer has not been paid back.
func applyRefundFailed(ord *Order, o *stripegateway.Outcome) (bool, string) {
	ord.RefundFailure = o.FailureReason
	if ord.RefundFailure == "" {
		ord.RefundFailure = "unknown reason"
	}
	if ord.Status == StatusRefunded || ord.Status == StatusPartiallyRefunded {
		ord.Status, ord.StatusAt = StatusRefundFailed, o.Created
	}
	return true, "the refund of " + FormatMoney(o.Amount, o.Currency) + " failed (" + ord.RefundFailure + "): refund the customer another way"
}

// afterTransition records what an outcome that transition handled also
// says about the order's subscription or dispute: a payment of a
// subscription order activates it (its first invoice sets ActiveUntil); a
// dispute opened remembers the order's status before it. It returns a
// note to add.
func afterTransition(ord *Order, o *stripegateway.Outcome, before Status) string {
	switch o.Kind {
	case stripegateway.PaymentSucceeded:
		if ord.Interval == "" || o.SubscriptionID == "" || !paidOnce(ord.Status) || ord.Status == StatusReview {
			return ""
		}
		if o.InvoiceID != "" && !o.PeriodEnd.IsZero() {
			_, note := recordInvoice(ord, o)
			return "first " + note
		}
		activate(ord, o)
	case stripegateway.PaymentDisputed:
		if ord.Status == StatusDisputed && before != StatusDisputed {
			ord.StatusBeforeDispute = before
			ord.DisputeStatus = o.DisputeStatus
			if ord.DisputeStatus == "" {
				ord.DisputeStatus = "needs_response"
			}
		}
	}
	return ""
}

// afterView fills what the pages show of the order's subscription, dispute
// and refunds.
func afterView(v *orderView) {
	o := v.Order
	if o.Interval != "" && (o.SubscriptionStatus != "" || !o.ActiveUntil.IsZero()) {
		until := ""
		if !o.ActiveUntil.IsZero() {
			until = o.ActiveUntil.Format(dateFormat)
		}
		switch st := o.SubscriptionStatus; {
		case (st == "active" || st == "trialing") && o.CancelAtPeriodEnd && until != "":
			v.Subscription, v.SubClass = "Active until "+until+", then ends", "active"
		case (st == "active" || st == "trialing" || st == "") && until != "":
			v.Subscription, v.SubClass = "Active until "+until, "active"
		case st == "active" || st == "trialing":
			v.Subscription, v.SubClass = "Active", "active"
		case st == "past_due" || st == "unpaid":
			v.Subscription, v.SubClass = "Past due", "past_due"
			if until != "" {
				v.Subscription += ": paid until " + until
			}
			if o.RenewalFailure != "" {
				v.Subscription += ". " + o.RenewalFailure
			}
		default:
			v.Subscription, v.SubClass = "Subscription "+strings.ReplaceAll(st, "_", " "), "ended"
			if until != "" {
				v.Subscription += ": paid until " + until
			}
		}
		for _, inv := range o.Invoices {
			if inv.Renewal {
				v.Renewals++
			}
		}
	}
	switch st := o.DisputeStatus; st {
	case "":
	case "won":
		v.Dispute = "Dispute won: the money came back"
	case "lost":
		v.Dispute = "Dispute lost: the money is gone"
	case "warning_closed":
		v.Dispute = "Inquiry closed without a chargeback"
	default:
		v.Dispute = "Dispute open (" + strings.ReplaceAll(st, "_", " ") + "): answer it in the Stripe Dashboard"
	}
	if o.RefundFailure != "" {
		v.RefundIssue = "A refund failed (" + o.RefundFailure + "): the customer has not been paid back; refund them another way"
	}
}
