package stripegatewaytest

import (
	"time"
)

// This file writes the Simulator's state into the objects of the events
// after a payment (renewals.go): the invoices and the subscription of a
// subscription session, and the charge of a refund. The objects are laid
// out as at API version 2023-10-16, the version the Simulator's endpoint
// is pinned to; this package's builders make them, and these functions
// give them the real IDs, periods and metadata.

// firstItem returns obj[key].data[0], an object of a list, or nil.
func firstItem(obj map[string]any, key string) map[string]any {
	list, _ := obj[key].(map[string]any)
	if list == nil {
		return nil
	}
	data, _ := list["data"].([]any)
	if len(data) == 0 {
		return nil
	}
	item, _ := data[0].(map[string]any)
	return item
}

// setListURL sets the url of the list obj[key].
func setListURL(obj map[string]any, key, url string) {
	if list, ok := obj[key].(map[string]any); ok {
		list["url"] = url
	}
}

// setInterval sets the billing interval of a price (recurring) or plan.
func setInterval(price map[string]any, sub *simSub) {
	if price == nil || sub.interval == "" {
		return
	}
	if rec, ok := price["recurring"].(map[string]any); ok {
		rec["interval"], rec["interval_count"] = sub.interval, max(sub.intervalCount, 1)
	}
	if _, ok := price["interval"]; ok && price["object"] == "plan" {
		price["interval"], price["interval_count"] = sub.interval, max(sub.intervalCount, 1)
	}
}

func unix(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}

// setInvoiceFacts gives an invoice object the subscription's invoice.
func setInvoiceFacts(obj map[string]any, ss SimulatedSession, sub *simSub, inv *simInvoice) {
	if sub == nil || inv == nil {
		return
	}
	obj["id"] = inv.id
	obj["number"] = inv.number
	obj["created"] = inv.created.Unix()
	obj["customer"] = sub.customerID
	obj["customer_email"] = nilIfEmpty(ss.CustomerEmail)
	obj["subscription"] = sub.id
	obj["subscription_details"] = map[string]any{"metadata": copyStrings(sub.metadata)}
	obj["billing_reason"] = inv.billingReason
	obj["payment_intent"] = nilIfEmpty(inv.paymentIntentID)
	obj["charge"] = nilIfEmpty(inv.chargeID)
	obj["period_start"], obj["period_end"] = unix(inv.accrualStart), unix(inv.accrualEnd)
	obj["attempt_count"] = inv.attempts
	if obj["status"] == "paid" {
		obj["status_transitions"] = map[string]any{
			"finalized_at": inv.created.Unix(), "marked_uncollectible_at": nil, "paid_at": inv.created.Unix(), "voided_at": nil,
		}
	} else {
		obj["status_transitions"] = map[string]any{
			"finalized_at": inv.created.Unix(), "marked_uncollectible_at": nil, "paid_at": nil, "voided_at": nil,
		}
	}
	setListURL(obj, "lines", "/v1/invoices/"+inv.id+"/lines")
	if line := firstItem(obj, "lines"); line != nil {
		line["subscription"] = sub.id
		line["metadata"] = copyStrings(sub.metadata)
		line["period"] = map[string]any{"start": inv.periodStart.Unix(), "end": inv.periodEnd.Unix()}
		name := "Subscription"
		for _, l := range ss.Lines {
			if l.Interval != "" {
				name = l.Name
				break
			}
		}
		line["description"] = "1 × " + name + " (at " + formatAmount(ss.AmountTotal, ss.Currency) + " " + every(sub.interval, sub.intervalCount) + ")"
		price, _ := line["price"].(map[string]any)
		setInterval(price, sub)
		plan, _ := line["plan"].(map[string]any)
		setInterval(plan, sub)
	}
}

// setSubscriptionFacts gives a subscription object the session's
// subscription.
func setSubscriptionFacts(obj map[string]any, sub *simSub) {
	if sub == nil {
		return
	}
	obj["id"] = sub.id
	obj["customer"] = sub.customerID
	obj["metadata"] = copyStrings(sub.metadata)
	obj["latest_invoice"] = nilIfEmpty(sub.latestInvoice)
	obj["created"] = sub.created.Unix()
	obj["start_date"] = sub.created.Unix()
	obj["billing_cycle_anchor"] = sub.created.Unix()
	obj["status"] = sub.status
	if _, ok := obj["current_period_start"]; ok {
		obj["current_period_start"], obj["current_period_end"] = sub.periodStart.Unix(), sub.periodEnd.Unix()
	}
	setListURL(obj, "items", "/v1/subscription_items?subscription="+sub.id)
	if item := firstItem(obj, "items"); item != nil {
		item["subscription"] = sub.id
		item["created"] = sub.created.Unix()
		price, _ := item["price"].(map[string]any)
		setInterval(price, sub)
		plan, _ := item["plan"].(map[string]any)
		setInterval(plan, sub)
	}
}

// setChargeFacts gives a charge.refunded charge the session's charge and
// refund.
func (s *Simulator) setChargeFacts(obj map[string]any, ss SimulatedSession, r *simRefund) {
	obj["id"] = nilIfEmpty(ss.ChargeID)
	obj["payment_intent"] = nilIfEmpty(ss.PaymentIntentID)
	s.mu.Lock()
	if pi := s.intents[ss.PaymentIntentID]; pi != nil {
		obj["metadata"] = copyStrings(pi.metadata)
		if pi.paymentMethodID != "" {
			obj["payment_method"] = pi.paymentMethodID
		}
	}
	s.mu.Unlock()
	setListURL(obj, "refunds", "/v1/charges/"+ss.ChargeID+"/refunds")
	if ref := firstItem(obj, "refunds"); ref != nil && r != nil {
		ref["id"], ref["created"] = r.id, r.created.Unix()
		ref["charge"], ref["payment_intent"] = nilIfEmpty(ss.ChargeID), nilIfEmpty(ss.PaymentIntentID)
	}
}
