package stripegatewaytest

import (
	"github.com/stripe/stripe-go/v76"
)

// This file builds the objects of subscriptions: the Invoice, its Price,
// the Subscription and the Customer.

// hostedInvoiceURL is the invoice's page on Stripe; nil for a draft.
func (b *builder) hostedInvoiceURL(status string) any {
	switch {
	case b.e.HostedInvoiceURL != "":
		return b.e.HostedInvoiceURL
	case status == "draft":
		return nil
	}
	return "https://invoice.stripe.com/i/acct_1" + b.suffix[:15] + "/" + b.mode() + "_" + derivedID("hosted_invoice_url"+b.suffix, 32) + "?s=ap"
}

func (b *builder) invoice() map[string]any {
	e := b.e
	id := b.invoiceID()
	status, paid, attempted, attempts := "paid", true, true, 1
	amountPaid := b.amount
	var next any
	var charge, pi any = b.chargeID(), b.paymentIntentID()
	switch e.Type {
	case stripe.EventTypeInvoicePaymentFailed:
		status, paid, amountPaid = "open", false, 0
		if !e.NextPaymentAttempt.IsZero() {
			next = e.NextPaymentAttempt.Unix()
		} else {
			attempts = 4
		}
	case stripe.EventTypeInvoicePaymentActionRequired:
		// The PaymentIntent waits for the customer (3-D Secure): no charge yet.
		status, paid, amountPaid, charge = "open", false, 0, nil
		if !e.NextPaymentAttempt.IsZero() {
			next = e.NextPaymentAttempt.Unix()
		}
	case stripe.EventTypeInvoiceCreated:
		status, paid, attempted, attempts, amountPaid = "draft", false, false, 0, 0
		charge, pi = nil, nil
		next = b.created + 3600
	}
	billingReason := e.BillingReason
	if billingReason == "" {
		billingReason = "subscription_create"
	}
	priceID := "price_1" + b.suffix
	line := map[string]any{
		"id": "il_1" + b.suffix, "object": "line_item",
		"amount":               b.amount,
		"amount_excluding_tax": b.amount,
		"currency":             e.Currency,
		"description":          "1 × Pro plan",
		"discount_amounts":     []any{},
		"discountable":         true,
		"discounts":            []any{},
		"invoice_item":         nil,
		"livemode":             e.Livemode,
		"metadata":             b.metadata(),
		"period":               map[string]any{"end": b.periodEnd, "start": b.periodStart},
		"plan": map[string]any{
			"id": priceID, "object": "plan", "active": true, "aggregate_usage": nil, "amount": b.amount,
			"amount_decimal": itoa(b.amount), "billing_scheme": "per_unit", "created": b.created - 86400,
			"currency": e.Currency, "interval": "month", "interval_count": 1, "livemode": e.Livemode,
			"metadata": map[string]any{}, "nickname": nil, "product": "prod_" + b.suffix[:14], "tiers_mode": nil,
			"transform_usage": nil, "trial_period_days": nil, "usage_type": "licensed",
		},
		"price":                     b.price(priceID),
		"proration":                 false,
		"proration_details":         map[string]any{"credited_items": nil},
		"quantity":                  1,
		"subscription":              b.subscriptionID(),
		"subscription_item":         b.subscriptionItemID(),
		"tax_amounts":               []any{},
		"tax_rates":                 []any{},
		"type":                      "subscription",
		"unit_amount_excluding_tax": itoa(b.amount),
	}
	inv := map[string]any{
		"id": id, "object": "invoice",
		"account_country":                  "US",
		"account_name":                     "Example Shop",
		"account_tax_ids":                  nil,
		"amount_due":                       b.amount,
		"amount_paid":                      amountPaid,
		"amount_remaining":                 b.amount - amountPaid,
		"amount_shipping":                  0,
		"application":                      nil,
		"application_fee_amount":           nil,
		"attempt_count":                    attempts,
		"attempted":                        attempted,
		"auto_advance":                     status != "paid",
		"automatic_tax":                    map[string]any{"enabled": false, "status": nil},
		"billing_reason":                   billingReason,
		"charge":                           charge,
		"collection_method":                "charge_automatically",
		"created":                          b.created - 30,
		"currency":                         e.Currency,
		"custom_fields":                    nil,
		"customer":                         b.customerID(),
		"customer_address":                 nil,
		"customer_email":                   "jenny.rosen@example.com",
		"customer_name":                    "Jenny Rosen",
		"customer_phone":                   nil,
		"customer_shipping":                nil,
		"customer_tax_exempt":              "none",
		"customer_tax_ids":                 []any{},
		"default_payment_method":           nil,
		"default_source":                   nil,
		"default_tax_rates":                []any{},
		"description":                      nil,
		"discount":                         nil,
		"discounts":                        []any{},
		"due_date":                         nil,
		"effective_at":                     nil,
		"ending_balance":                   nil,
		"footer":                           nil,
		"from_invoice":                     nil,
		"hosted_invoice_url":               b.hostedInvoiceURL(status),
		"invoice_pdf":                      nil,
		"last_finalization_error":          nil,
		"latest_revision":                  nil,
		"lines":                            map[string]any{"data": []any{line}, "has_more": false, "object": "list", "total_count": 1, "url": "/v1/invoices/" + id + "/lines"},
		"livemode":                         e.Livemode,
		"metadata":                         map[string]any{},
		"next_payment_attempt":             next,
		"number":                           nil,
		"on_behalf_of":                     nil,
		"paid":                             paid,
		"paid_out_of_band":                 false,
		"payment_intent":                   pi,
		"payment_settings":                 map[string]any{"default_mandate": nil, "payment_method_options": nil, "payment_method_types": nil},
		"period_end":                       b.created - 30,
		"period_start":                     b.created - 30 - 30*86400,
		"post_payment_credit_notes_amount": 0,
		"pre_payment_credit_notes_amount":  0,
		"quote":                            nil,
		"receipt_number":                   nil,
		"rendering":                        nil,
		"shipping_cost":                    nil,
		"shipping_details":                 nil,
		"starting_balance":                 0,
		"statement_descriptor":             nil,
		"status":                           status,
		"status_transitions":               map[string]any{"finalized_at": nil, "marked_uncollectible_at": nil, "paid_at": nil, "voided_at": nil},
		"subscription":                     b.subscriptionID(),
		"subscription_details":             map[string]any{"metadata": b.metadata()},
		"subtotal":                         b.amount,
		"subtotal_excluding_tax":           b.amount,
		"tax":                              nil,
		"test_clock":                       nil,
		"total":                            b.amount,
		"total_discount_amounts":           []any{},
		"total_excluding_tax":              b.amount,
		"total_tax_amounts":                []any{},
		"transfer_data":                    nil,
		"webhooks_delivered_at":            nil,
	}
	if b.basil {
		b.basilInvoice(inv, line, priceID)
	}
	return inv
}

// basilInvoice lays out an invoice and its line as 2025-03-31.basil and
// later do. The invoice's subscription and its metadata move to
// parent.subscription_details; the line's subscription item, proration and
// price to its parent and pricing; payment_intent, charge, paid and the
// tax fields are gone (total_taxes replaces tax and total_tax_amounts,
// discounts replaces discount). Only invoice.payments, which events never
// carry, names the payment.
func (b *builder) basilInvoice(inv, line map[string]any, priceID string) {
	for _, k := range []string{
		"application_fee_amount", "charge", "discount", "paid", "paid_out_of_band", "payment_intent",
		"quote", "subscription", "subscription_details", "tax", "total_tax_amounts", "transfer_data",
	} {
		delete(inv, k)
	}
	inv["parent"] = map[string]any{
		"quote_details": nil,
		"subscription_details": map[string]any{
			"metadata":     b.metadata(),
			"subscription": b.subscriptionID(),
		},
		"type": "subscription_details",
	}
	inv["total_taxes"] = []any{}

	for _, k := range []string{
		"amount_excluding_tax", "invoice_item", "plan", "price", "proration", "proration_details",
		"subscription_item", "tax_amounts", "tax_rates", "type", "unit_amount_excluding_tax",
	} {
		delete(line, k)
	}
	line["parent"] = map[string]any{
		"invoice_item_details": nil,
		"subscription_item_details": map[string]any{
			"invoice_item":      nil,
			"proration":         false,
			"proration_details": map[string]any{"credited_items": nil},
			"subscription":      b.subscriptionID(),
			"subscription_item": b.subscriptionItemID(),
		},
		"type": "subscription_item_details",
	}
	line["pricing"] = map[string]any{
		"price_details":       map[string]any{"price": priceID, "product": "prod_" + b.suffix[:14]},
		"type":                "price_details",
		"unit_amount_decimal": itoa(b.amount),
	}
	line["taxes"] = []any{}
}

func (b *builder) price(id string) map[string]any {
	p := map[string]any{
		"id": id, "object": "price", "active": true, "billing_scheme": "per_unit", "created": b.created - 86400,
		"currency": b.e.Currency, "custom_unit_amount": nil, "livemode": b.e.Livemode, "lookup_key": nil,
		"metadata": map[string]any{}, "nickname": nil, "product": "prod_" + b.suffix[:14],
		"recurring": map[string]any{
			"aggregate_usage": nil, "interval": "month", "interval_count": 1, "trial_period_days": nil, "usage_type": "licensed",
		},
		"tax_behavior": "unspecified", "tiers_mode": nil, "transform_quantity": nil, "type": "recurring",
		"unit_amount": b.amount, "unit_amount_decimal": itoa(b.amount),
	}
	if b.basil {
		// 2025-03-31.basil removed aggregate_usage (legacy metered billing).
		delete(p["recurring"].(map[string]any), "aggregate_usage")
	}
	return p
}

// subscriptionStatus is the status of the subscription of a
// customer.subscription.* event.
func (b *builder) subscriptionStatus() string {
	switch {
	case b.e.SubscriptionStatus != "":
		return b.e.SubscriptionStatus
	case b.e.Type == stripe.EventTypeCustomerSubscriptionDeleted:
		return "canceled"
	}
	return "active"
}

func (b *builder) subscription() map[string]any {
	e := b.e
	id := b.subscriptionID()
	item := map[string]any{
		"id": b.subscriptionItemID(), "object": "subscription_item",
		"billing_thresholds": nil, "created": b.created - 30*86400, "metadata": map[string]any{},
		"price": b.price("price_1" + b.suffix), "quantity": 1, "subscription": id, "tax_rates": []any{},
	}
	var cancelAt, canceledAt, endedAt, cancelReason any
	if e.Type == stripe.EventTypeCustomerSubscriptionDeleted {
		canceledAt, endedAt, cancelReason = b.created, b.created, "cancellation_requested"
	}
	if e.CancelAtPeriodEnd {
		cancelAt, canceledAt, cancelReason = b.periodEnd, b.created, "cancellation_requested"
	}
	sub := map[string]any{
		"id": id, "object": "subscription",
		"application":                       nil,
		"application_fee_percent":           nil,
		"automatic_tax":                     map[string]any{"enabled": false},
		"billing_cycle_anchor":              b.created - 30*86400,
		"billing_thresholds":                nil,
		"cancel_at":                         cancelAt,
		"cancel_at_period_end":              e.CancelAtPeriodEnd,
		"canceled_at":                       canceledAt,
		"cancellation_details":              map[string]any{"comment": nil, "feedback": nil, "reason": cancelReason},
		"collection_method":                 "charge_automatically",
		"created":                           b.created - 30*86400,
		"currency":                          e.Currency,
		"current_period_end":                b.periodEnd,
		"current_period_start":              b.periodStart,
		"customer":                          b.customerID(),
		"days_until_due":                    nil,
		"default_payment_method":            b.paymentMethodID(),
		"default_source":                    nil,
		"default_tax_rates":                 []any{},
		"description":                       nil,
		"discount":                          nil,
		"ended_at":                          endedAt,
		"items":                             map[string]any{"data": []any{item}, "has_more": false, "object": "list", "total_count": 1, "url": "/v1/subscription_items?subscription=" + id},
		"latest_invoice":                    b.invoiceID(),
		"livemode":                          e.Livemode,
		"metadata":                          b.metadata(),
		"next_pending_invoice_item_invoice": nil,
		"on_behalf_of":                      nil,
		"pause_collection":                  nil,
		"payment_settings":                  map[string]any{"payment_method_options": nil, "payment_method_types": nil, "save_default_payment_method": "off"},
		"pending_invoice_item_interval":     nil,
		"pending_setup_intent":              nil,
		"pending_update":                    nil,
		"schedule":                          nil,
		"start_date":                        b.created - 30*86400,
		"status":                            b.subscriptionStatus(),
		"test_clock":                        nil,
		"transfer_data":                     nil,
		"trial_end":                         nil,
		"trial_settings":                    map[string]any{"end_behavior": map[string]any{"missing_payment_method": "create_invoice"}},
		"trial_start":                       nil,
	}
	if b.basil {
		// 2025-03-31.basil moved the current period to each item and
		// removed billing_thresholds and discount (discounts stays).
		for _, k := range []string{"billing_thresholds", "current_period_end", "current_period_start", "discount"} {
			delete(sub, k)
		}
		sub["discounts"] = []any{}
		delete(item, "billing_thresholds")
		item["current_period_end"] = b.periodEnd
		item["current_period_start"] = b.periodStart
		item["discounts"] = []any{}
	}
	return sub
}

func (b *builder) customer() map[string]any {
	return map[string]any{
		"id": b.customerID(), "object": "customer",
		"address": nil, "balance": 0, "created": b.created, "currency": nil, "default_source": nil,
		"delinquent": false, "description": nil, "discount": nil, "email": "jenny.rosen@example.com",
		"invoice_prefix": "B7C1D2E3", "invoice_settings": map[string]any{"custom_fields": nil, "default_payment_method": nil, "footer": nil, "rendering_options": nil},
		"livemode": b.e.Livemode, "metadata": b.metadata(), "name": "Jenny Rosen", "next_invoice_sequence": 1,
		"phone": nil, "preferred_locales": []any{}, "shipping": nil, "tax_exempt": "none", "test_clock": nil,
	}
}
