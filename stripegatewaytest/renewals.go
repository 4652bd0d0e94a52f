package stripegatewaytest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v76"
)

// This file is what happens after a payment: a subscription's renewals
// (paid or failed), and a paid session's refund and dispute. Each action
// changes the recorded state and delivers the events Stripe sends for it,
// signed like the payment page's, before it returns. The overview page has
// a button for each (pageSessionAction).

// simSub is the subscription of a paid subscription session.
type simSub struct {
	id            string
	customerID    string
	status        string // "active" or "past_due"
	created       time.Time
	periodStart   time.Time // the current period
	periodEnd     time.Time
	interval      string
	intervalCount int64
	metadata      map[string]string
	periods       int // how many periods were billed
	latestInvoice string
	invoices      int         // how many were made, for their numbers
	open          *simInvoice // a renewal whose payment failed, until it is paid
}

// simInvoice is one invoice of a subscription.
type simInvoice struct {
	id            string
	number        string
	billingReason string
	created       time.Time
	// periodStart and periodEnd are the service period its line pays for;
	// accrualStart and accrualEnd its own period_start and period_end,
	// which Stripe sets to the period before (the creation time, for a
	// subscription's first invoice).
	periodStart, periodEnd   time.Time
	accrualStart, accrualEnd time.Time
	paymentIntentID          string
	chargeID                 string
	attempts                 int
}

// simDispute is the dispute of a paid session.
type simDispute struct {
	id      string
	status  string // needs_response, won, lost
	created time.Time
}

// simRefund is the refund of a paid session.
type simRefund struct {
	id            string
	status        string // succeeded, failed
	failureReason string
	created       time.Time
}

// refundFailureReason is the failure_reason of a refund FailRefund fails.
const refundFailureReason = "expired_or_canceled_card"

// ErrSessionState is returned by the Simulator's actions on a session when
// the session is unknown or its state does not allow the action: a renewal
// of a session that is not a paid subscription, a refund of an unpaid
// session, a dispute closed twice.
var ErrSessionState = errors.New("stripegatewaytest: the session does not allow this")

// periodEnd returns the end of a subscription's n-th period from its
// billing cycle anchor, with intervals of count days, weeks, months or
// years. As with Stripe, a month or year that lacks the anchor's day ends
// on its last day (an anchor on Jan 31 renews on Feb 28, then Mar 31).
func periodEnd(anchor time.Time, interval string, count int64, n int) time.Time {
	k := int(max(count, 1)) * n
	switch interval {
	case "day":
		return anchor.AddDate(0, 0, k)
	case "week":
		return anchor.AddDate(0, 0, 7*k)
	case "year":
		k *= 12
	}
	y, m, d := anchor.Date()
	first := time.Date(y, m+time.Month(k), 1, anchor.Hour(), anchor.Minute(), anchor.Second(), anchor.Nanosecond(), anchor.Location())
	if last := first.AddDate(0, 1, -1).Day(); d > last {
		d = last
	}
	return first.AddDate(0, 0, d-1)
}

// startSubscription creates the subscription of a session just paid, and
// its first invoice, paid by pi; s.mu must be held. It returns the events
// that report the invoice.
func (s *Simulator) startSubscription(ss *simSession, pi *simIntent) []eventSpec {
	now := s.now().Truncate(time.Second)
	sub := &simSub{
		id:         ss.SubscriptionID,
		customerID: "cus_" + randomID(14),
		status:     "active",
		created:    now,
		metadata:   copyStrings(ss.piMetadata),
	}
	for _, l := range ss.Lines {
		if l.Interval != "" {
			sub.interval, sub.intervalCount = l.Interval, l.IntervalCount
			break
		}
	}
	sub.periods = 1
	sub.periodStart, sub.periodEnd = now, periodEnd(now, sub.interval, sub.intervalCount, 1)
	inv := s.newInvoice(sub, "subscription_create", now, now)
	inv.paymentIntentID, inv.chargeID, inv.attempts = pi.id, pi.chargeID, 1
	ss.sub = sub
	return s.paidInvoiceEvents(sub, inv)
}

// newInvoice makes the subscription's next invoice, for its current
// period; s.mu must be held.
func (s *Simulator) newInvoice(sub *simSub, reason string, accrualStart, accrualEnd time.Time) *simInvoice {
	sub.invoices++
	inv := &simInvoice{
		id:            "in_1" + randomID(24),
		number:        "SIM-" + sub.customerID[4:12] + "-" + fmt.Sprintf("%04d", sub.invoices),
		billingReason: reason,
		created:       s.now().Truncate(time.Second),
		periodStart:   sub.periodStart,
		periodEnd:     sub.periodEnd,
		accrualStart:  accrualStart,
		accrualEnd:    accrualEnd,
	}
	sub.latestInvoice = inv.id
	return inv
}

// paidInvoiceEvents are the events of a paid invoice.
func (s *Simulator) paidInvoiceEvents(sub *simSub, inv *simInvoice) []eventSpec {
	subCopy, invCopy := *sub, *inv
	subCopy.open = nil
	return []eventSpec{
		{typ: stripe.EventTypeInvoicePaid, sub: &subCopy, inv: &invCopy},
		{typ: stripe.EventTypeInvoicePaymentSucceeded, sub: &subCopy, inv: &invCopy},
	}
}

// nextRenewal advances the subscription to its next period and makes the
// renewal invoice for it; s.mu must be held.
func (s *Simulator) nextRenewal(sub *simSub) *simInvoice {
	prevStart, prevEnd := sub.periodStart, sub.periodEnd
	sub.periods++
	sub.periodStart, sub.periodEnd = prevEnd, periodEnd(sub.created, sub.interval, sub.intervalCount, sub.periods)
	return s.newInvoice(sub, "subscription_cycle", prevStart, prevEnd)
}

// statusChange is a customer.subscription.updated event from status from.
func statusChange(sub *simSub, from string) eventSpec {
	c := *sub
	c.open = nil
	return eventSpec{typ: stripe.EventTypeCustomerSubscriptionUpdated, sub: &c, prev: map[string]any{"status": from}}
}

// Renew bills the next period of a paid subscription session, as Stripe
// does at the end of each period, and delivers invoice.paid and
// invoice.payment_succeeded for the new invoice: billing_reason
// subscription_cycle, the service period from the end of the previous one
// to one interval later. When a renewal has failed (FailRenewal), Renew
// pays that invoice instead, for the same period, and the subscription,
// past_due, becomes active again (customer.subscription.updated). It
// returns the deliveries made; a delivery that failed is reported in them,
// not as an error. The error is ErrSessionState for a session that is not a
// paid subscription.
func (s *Simulator) Renew(ctx context.Context, sessionID string) ([]WebhookDelivery, error) {
	return s.act(ctx, sessionID, "renew")
}

// FailRenewal bills the next period of a paid subscription session and
// fails the payment, as when the customer's card is declined on Stripe's
// last retry: invoice.payment_failed (billing_reason subscription_cycle,
// next_payment_attempt null), then customer.subscription.updated with
// status past_due. The invoice stays open for Renew to pay; a second
// FailRenewal fails it again. Errors are as for Renew.
func (s *Simulator) FailRenewal(ctx context.Context, sessionID string) ([]WebhookDelivery, error) {
	return s.act(ctx, sessionID, "fail-renewal")
}

// Refund refunds a paid session's payment in full: charge.refunded. The
// error is ErrSessionState for a session not paid, or refunded already.
func (s *Simulator) Refund(ctx context.Context, sessionID string) ([]WebhookDelivery, error) {
	return s.act(ctx, sessionID, "refund")
}

// FailRefund fails the refund of a paid session (refunding it first, with
// charge.refunded, if Refund has not): charge.refund.updated with status
// failed and failure_reason expired_or_canceled_card, as when the card the
// money goes back to is closed. The error is ErrSessionState for a session
// not paid, or whose refund failed already.
func (s *Simulator) FailRefund(ctx context.Context, sessionID string) ([]WebhookDelivery, error) {
	return s.act(ctx, sessionID, "fail-refund")
}

// OpenDispute opens a dispute on a paid session's payment, as the
// customer's bank does for a chargeback: charge.dispute.created, status
// needs_response. The error is ErrSessionState for a session not paid, or
// disputed already.
func (s *Simulator) OpenDispute(ctx context.Context, sessionID string) ([]WebhookDelivery, error) {
	return s.act(ctx, sessionID, "dispute")
}

// CloseDispute closes the dispute of a paid session (opening it first, with
// charge.dispute.created, if OpenDispute has not): charge.dispute.closed
// with status won, or lost. The error is ErrSessionState for a session not
// paid, or whose dispute is closed already.
func (s *Simulator) CloseDispute(ctx context.Context, sessionID string, won bool) ([]WebhookDelivery, error) {
	if won {
		return s.act(ctx, sessionID, "dispute-won")
	}
	return s.act(ctx, sessionID, "dispute-lost")
}

// sessionActions names the actions of act, as the overview page's buttons
// post them.
var sessionActions = map[string]string{
	"renew":        "Renewal paid",
	"fail-renewal": "Renewal failed",
	"refund":       "Refunded",
	"fail-refund":  "Refund failed",
	"dispute":      "Dispute opened",
	"dispute-won":  "Dispute won",
	"dispute-lost": "Dispute lost",
}

// act runs an action on a session and delivers its events.
func (s *Simulator) act(ctx context.Context, sessionID, action string) ([]WebhookDelivery, error) {
	s.mu.Lock()
	ss, ok := s.sessions[sessionID]
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: no session %q", ErrSessionState, sessionID)
	}
	specs, err := s.decide(ss, action)
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: session %s: %s", ErrSessionState, sessionID, err.Error())
	}
	snap := s.snapshot(ss)
	first := len(s.deliveries)
	s.mu.Unlock()
	s.deliver(ctx, snap, specs)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []WebhookDelivery
	for _, d := range s.deliveries[first:] {
		if d.SessionID == sessionID {
			out = append(out, d)
		}
	}
	return out, nil
}

// decide changes the session's state for an action and returns the events
// to send; s.mu must be held.
func (s *Simulator) decide(ss *simSession, action string) ([]eventSpec, error) {
	now := s.now().Truncate(time.Second)
	pi := s.intents[ss.PaymentIntentID]
	paid := ss.PaymentStatus == "paid" && pi != nil && pi.chargeID != "" && pi.status == "succeeded"
	switch action {
	case "renew", "fail-renewal":
		sub := ss.sub
		if sub == nil {
			return nil, errors.New("it is not a paid subscription")
		}
		if action == "renew" {
			if inv := sub.open; inv != nil {
				// Stripe's retry succeeds: the open invoice is paid.
				sub.open = nil
				inv.attempts++
				inv.chargeID = "ch_3" + randomID(24)
				specs := s.paidInvoiceEvents(sub, inv)
				if sub.status != "active" {
					from := sub.status
					sub.status = "active"
					specs = append(specs, statusChange(sub, from))
				}
				return specs, nil
			}
			inv := s.nextRenewal(sub)
			inv.paymentIntentID, inv.chargeID, inv.attempts = "pi_3"+randomID(24), "ch_3"+randomID(24), 1
			return s.paidInvoiceEvents(sub, inv), nil
		}
		inv := sub.open
		if inv == nil {
			inv = s.nextRenewal(sub)
			inv.paymentIntentID = "pi_3" + randomID(24)
			sub.open = inv
		}
		inv.attempts++
		inv.chargeID = "ch_3" + randomID(24)
		subCopy, invCopy := *sub, *inv
		subCopy.open = nil
		specs := []eventSpec{{typ: stripe.EventTypeInvoicePaymentFailed, sub: &subCopy, inv: &invCopy}}
		if sub.status == "active" {
			sub.status = "past_due"
			specs = append(specs, statusChange(sub, "active"))
		}
		return specs, nil

	case "refund", "fail-refund":
		if !paid {
			return nil, errors.New("its payment is not captured")
		}
		var specs []eventSpec
		if ss.refund == nil {
			ss.refund = &simRefund{id: "re_3" + randomID(24), status: "succeeded", created: now}
			r := *ss.refund
			specs = append(specs, eventSpec{typ: stripe.EventTypeChargeRefunded, amount: pi.amountReceived, refund: &r})
		} else if action == "refund" {
			return nil, errors.New("it is refunded already")
		}
		if action == "fail-refund" {
			if ss.refund.status == "failed" {
				return nil, errors.New("its refund failed already")
			}
			ss.refund.status, ss.refund.failureReason = "failed", refundFailureReason
			r := *ss.refund
			specs = append(specs, eventSpec{typ: stripe.EventTypeChargeRefundUpdated, amount: pi.amountReceived, refund: &r, prev: map[string]any{"status": "succeeded"}})
		}
		return specs, nil

	case "dispute", "dispute-won", "dispute-lost":
		if !paid {
			return nil, errors.New("its payment is not captured")
		}
		var specs []eventSpec
		if ss.dispute == nil {
			ss.dispute = &simDispute{id: "dp_1" + randomID(24), status: "needs_response", created: now}
			d := *ss.dispute
			specs = append(specs, eventSpec{typ: stripe.EventTypeChargeDisputeCreated, amount: pi.amountReceived, dispute: &d})
		} else if action == "dispute" {
			return nil, errors.New("it is disputed already")
		}
		if action != "dispute" {
			if ss.dispute.status != "needs_response" {
				return nil, errors.New("its dispute is closed already")
			}
			ss.dispute.status = "won"
			if action == "dispute-lost" {
				ss.dispute.status = "lost"
			}
			d := *ss.dispute
			specs = append(specs, eventSpec{typ: stripe.EventTypeChargeDisputeClosed, amount: pi.amountReceived, dispute: &d, prev: map[string]any{"status": "needs_response"}})
		}
		return specs, nil
	}
	return nil, fmt.Errorf("no action %q", action)
}

// pageSessionAction takes a button of the overview page:
// POST /sessions/{id}/{action}.
func (s *Simulator) pageSessionAction(w http.ResponseWriter, r *http.Request) {
	if !s.formAllowed(w, r) {
		return
	}
	id, action := r.PathValue("id"), r.PathValue("action")
	if _, ok := sessionActions[action]; !ok {
		http.NotFound(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	ds, err := s.act(ctx, id, action)
	if err != nil {
		s.render(w, http.StatusConflict, "message", map[string]string{"Title": sessionActions[action] + ": not possible", "Text": err.Error(), "Home": s.prefix + "/"})
		return
	}
	http.Redirect(w, r, s.prefix+"/?done="+action+"&events="+strconv.Itoa(len(ds))+"#session-"+id, http.StatusSeeOther)
}
