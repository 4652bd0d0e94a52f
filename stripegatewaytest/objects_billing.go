package stripegatewaytest

import (
	"github.com/stripe/stripe-go/v76"
)

// This file builds the objects of subscriptions: the Invoice, its Price,
// the Subscription and the Customer.

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
	case stripe.EventTypeInvoiceCreated:
		status, paid, attempted, attempts, amountPaid = "draft", false, false, 0, 0
		charge, pi = nil, nil
		next = b.created + 3600
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
		"period":               map[string]any{"end": b.created + 30*86400, "start": b.created},
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
		"subscription_item":         "si_" + b.suffix[:14],
		"tax_amounts":               []any{},
		"tax_rates":                 []any{},
		"type":                      "subscription",
		"unit_amount_excluding_tax": itoa(b.amount),
	}
	return map[string]any{
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
		"billing_reason":                   "subscription_cycle",
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
		"hosted_invoice_url":               nil,
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
}

func (b *builder) price(id string) map[string]any {
	return map[string]any{
		"id": id, "object": "price", "active": true, "billing_scheme": "per_unit", "created": b.created - 86400,
		"currency": b.e.Currency, "custom_unit_amount": nil, "livemode": b.e.Livemode, "lookup_key": nil,
		"metadata": map[string]any{}, "nickname": nil, "product": "prod_" + b.suffix[:14],
		"recurring": map[string]any{
			"aggregate_usage": nil, "interval": "month", "interval_count": 1, "trial_period_days": nil, "usage_type": "licensed",
		},
		"tax_behavior": "unspecified", "tiers_mode": nil, "transform_quantity": nil, "type": "recurring",
		"unit_amount": b.amount, "unit_amount_decimal": itoa(b.amount),
	}
}

func (b *builder) subscription() map[string]any {
	e := b.e
	id := b.subscriptionID()
	item := map[string]any{
		"id": "si_" + b.suffix[:14], "object": "subscription_item",
		"billing_thresholds": nil, "created": b.created - 30*86400, "metadata": map[string]any{},
		"price": b.price("price_1" + b.suffix), "quantity": 1, "subscription": id, "tax_rates": []any{},
	}
	return map[string]any{
		"id": id, "object": "subscription",
		"application":                       nil,
		"application_fee_percent":           nil,
		"automatic_tax":                     map[string]any{"enabled": false},
		"billing_cycle_anchor":              b.created - 30*86400,
		"billing_thresholds":                nil,
		"cancel_at":                         nil,
		"cancel_at_period_end":              false,
		"canceled_at":                       b.created,
		"cancellation_details":              map[string]any{"comment": nil, "feedback": nil, "reason": "cancellation_requested"},
		"collection_method":                 "charge_automatically",
		"created":                           b.created - 30*86400,
		"currency":                          e.Currency,
		"current_period_end":                b.created + 86400,
		"current_period_start":              b.created - 29*86400,
		"customer":                          b.customerID(),
		"days_until_due":                    nil,
		"default_payment_method":            b.paymentMethodID(),
		"default_source":                    nil,
		"default_tax_rates":                 []any{},
		"description":                       nil,
		"discount":                          nil,
		"ended_at":                          b.created,
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
		"status":                            "canceled",
		"test_clock":                        nil,
		"transfer_data":                     nil,
		"trial_end":                         nil,
		"trial_settings":                    map[string]any{"end_behavior": map[string]any{"missing_payment_method": "create_invoice"}},
		"trial_start":                       nil,
	}
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
