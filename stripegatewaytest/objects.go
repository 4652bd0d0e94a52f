package stripegatewaytest

import (
	"strconv"

	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
)

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

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
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

func (b *builder) checkoutSession() map[string]any {
	e := b.e
	id := "cs_" + b.mode() + "_a1" + b.suffix + b.suffix
	status := "complete"
	paymentStatus := "paid"
	var pi any = b.paymentIntentID()
	metadata := b.metadata()
	var customerDetails any = map[string]any{
		"address": map[string]any{
			"city": "Berlin", "country": "DE", "line1": "Invalidenstraße 117", "line2": nil,
			"postal_code": "10115", "state": nil,
		},
		"email": "jenny.rosen@example.com", "name": "Jenny Rosen", "phone": nil,
		"tax_exempt": "none", "tax_ids": []any{},
	}
	switch e.Type {
	case stripe.EventTypeCheckoutSessionCompleted:
		if e.PaymentStatus != "" {
			paymentStatus = string(e.PaymentStatus)
		}
		if e.DeferredCapture {
			// Funds are held, not captured: Checkout reports the session
			// as unpaid; CreateCheckout marked it for deferred capture.
			paymentStatus = "unpaid"
			metadata[stripegateway.MetadataCaptureMethod] = "manual"
		}
	case stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
		paymentStatus = "paid"
	case stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
		paymentStatus = "unpaid"
	case stripe.EventTypeCheckoutSessionExpired:
		status, paymentStatus, pi, customerDetails = "expired", "unpaid", nil, nil
	}
	if paymentStatus == "no_payment_required" {
		pi = nil
	}
	return map[string]any{
		"id": id, "object": "checkout.session",
		"after_expiration":           nil,
		"allow_promotion_codes":      nil,
		"amount_subtotal":            b.amount,
		"amount_total":               b.amount,
		"automatic_tax":              map[string]any{"enabled": false, "status": nil},
		"billing_address_collection": nil,
		"cancel_url":                 "https://shop.example/checkout/cancel",
		"client_reference_id":        orNil(e.OrderID),
		"client_secret":              nil,
		"consent":                    nil,
		"consent_collection":         nil,
		"created":                    b.created - 300,
		"currency":                   e.Currency,
		"currency_conversion":        nil,
		"custom_fields":              []any{},
		"custom_text": map[string]any{
			"after_submit": nil, "shipping_address": nil, "submit": nil, "terms_of_service_acceptance": nil,
		},
		"customer":          nil,
		"customer_creation": "if_required",
		"customer_details":  customerDetails,
		"customer_email":    nil,
		"expires_at":        b.created - 300 + 86400,
		"invoice":           nil,
		"invoice_creation": map[string]any{
			"enabled": false,
			"invoice_data": map[string]any{
				"account_tax_ids": nil, "custom_fields": nil, "description": nil, "footer": nil,
				"metadata": map[string]any{}, "rendering_options": nil,
			},
		},
		"livemode":                             e.Livemode,
		"locale":                               "auto",
		"metadata":                             metadata,
		"mode":                                 "payment",
		"payment_intent":                       pi,
		"payment_link":                         nil,
		"payment_method_collection":            "if_required",
		"payment_method_configuration_details": nil,
		"payment_method_options":               map[string]any{"card": map[string]any{"request_three_d_secure": "automatic"}},
		"payment_method_types":                 []any{"card"},
		"payment_status":                       paymentStatus,
		"phone_number_collection":              map[string]any{"enabled": false},
		"recovered_from":                       nil,
		"setup_intent":                         nil,
		"shipping_address_collection":          nil,
		"shipping_cost":                        nil,
		"shipping_details":                     nil,
		"shipping_options":                     []any{},
		"status":                               status,
		"submit_type":                          nil,
		"subscription":                         nil,
		"success_url":                          "https://shop.example/checkout/success?session_id={CHECKOUT_SESSION_ID}",
		"total_details":                        map[string]any{"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
		"ui_mode":                              "hosted",
		"url":                                  nil,
	}
}

func (b *builder) card() map[string]any {
	return map[string]any{
		"brand":                cardBrand,
		"checks":               map[string]any{"address_line1_check": nil, "address_postal_code_check": "pass", "cvc_check": "pass"},
		"country":              "US",
		"exp_month":            cardExpMonth,
		"exp_year":             cardExpYear,
		"fingerprint":          cardFingerprint,
		"funding":              "credit",
		"last4":                cardLast4,
		"networks":             map[string]any{"available": []any{cardBrand}, "preferred": nil},
		"three_d_secure_usage": map[string]any{"supported": true},
		"wallet":               nil,
	}
}

func (b *builder) paymentMethod() map[string]any {
	return map[string]any{
		"id": b.paymentMethodID(), "object": "payment_method",
		"billing_details": map[string]any{
			"address": map[string]any{"city": nil, "country": "US", "line1": nil, "line2": nil, "postal_code": "94107", "state": nil},
			"email":   "jenny.rosen@example.com", "name": "Jenny Rosen", "phone": nil,
		},
		"card":     b.card(),
		"created":  b.created - 60,
		"customer": nil,
		"livemode": b.e.Livemode,
		"metadata": map[string]any{},
		"type":     "card",
	}
}

func (b *builder) paymentIntent() map[string]any {
	e := b.e
	id := b.paymentIntentID()
	pi := map[string]any{
		"id": id, "object": "payment_intent",
		"amount":                               b.amount,
		"amount_capturable":                    0,
		"amount_details":                       map[string]any{"tip": map[string]any{}},
		"amount_received":                      0,
		"application":                          nil,
		"application_fee_amount":               nil,
		"automatic_payment_methods":            nil,
		"canceled_at":                          nil,
		"cancellation_reason":                  nil,
		"capture_method":                       "automatic",
		"client_secret":                        id + "_secret_" + b.suffix,
		"confirmation_method":                  "automatic",
		"created":                              b.created - 60,
		"currency":                             e.Currency,
		"customer":                             nil,
		"description":                          nil,
		"invoice":                              nil,
		"last_payment_error":                   nil,
		"latest_charge":                        b.chargeID(),
		"livemode":                             e.Livemode,
		"metadata":                             b.metadata(),
		"next_action":                          nil,
		"on_behalf_of":                         nil,
		"payment_method":                       b.paymentMethodID(),
		"payment_method_configuration_details": nil,
		"payment_method_options": map[string]any{"card": map[string]any{
			"installments": nil, "mandate_options": nil, "network": nil, "request_three_d_secure": "automatic",
		}},
		"payment_method_types":        []any{"card"},
		"processing":                  nil,
		"receipt_email":               nil,
		"review":                      nil,
		"setup_future_usage":          nil,
		"shipping":                    nil,
		"source":                      nil,
		"statement_descriptor":        nil,
		"statement_descriptor_suffix": nil,
		"status":                      "requires_payment_method",
		"transfer_data":               nil,
		"transfer_group":              nil,
	}
	switch e.Type {
	case stripe.EventTypePaymentIntentSucceeded:
		pi["status"] = "succeeded"
		pi["amount_received"] = b.amount
	case stripe.EventTypePaymentIntentProcessing:
		pi["status"] = "processing"
		pi["latest_charge"] = nil
	case stripe.EventTypePaymentIntentAmountCapturableUpdated:
		pi["status"] = "requires_capture"
		pi["capture_method"] = "manual"
		pi["amount_capturable"] = b.amount
	case stripe.EventTypePaymentIntentPaymentFailed:
		code, decline, msg := e.FailureCode, e.DeclineCode, e.FailureMessage
		if code == "" {
			code = "card_declined"
		}
		if decline == "" && code == "card_declined" {
			decline = "generic_decline"
		}
		if msg == "" {
			msg = "Your card was declined."
		}
		pi["payment_method"] = nil
		pi["last_payment_error"] = map[string]any{
			"charge":         b.chargeID(),
			"code":           code,
			"decline_code":   orNil(decline),
			"doc_url":        "https://stripe.com/docs/error-codes/" + code,
			"message":        msg,
			"payment_method": b.paymentMethod(),
			"type":           "card_error",
		}
	case stripe.EventTypePaymentIntentCanceled:
		pi["status"] = "canceled"
		pi["canceled_at"] = b.created
		pi["cancellation_reason"] = "abandoned"
		pi["latest_charge"] = nil
		pi["payment_method"] = nil
	}
	return pi
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

func (b *builder) charge() map[string]any {
	e := b.e
	id := b.chargeID()
	card := map[string]any{
		"amount_authorized":         b.amount,
		"brand":                     cardBrand,
		"checks":                    map[string]any{"address_line1_check": nil, "address_postal_code_check": "pass", "cvc_check": "pass"},
		"country":                   "US",
		"exp_month":                 cardExpMonth,
		"exp_year":                  cardExpYear,
		"extended_authorization":    map[string]any{"status": "disabled"},
		"fingerprint":               cardFingerprint,
		"funding":                   "credit",
		"incremental_authorization": map[string]any{"status": "unavailable"},
		"installments":              nil,
		"last4":                     cardLast4,
		"mandate":                   nil,
		"multicapture":              map[string]any{"status": "unavailable"},
		"network":                   cardBrand,
		"network_token":             map[string]any{"used": false},
		"overcapture":               map[string]any{"maximum_amount_capturable": b.amount, "status": "unavailable"},
		"three_d_secure":            nil,
		"wallet":                    nil,
	}
	refund := map[string]any{
		"id": "re_3" + b.suffix, "object": "refund",
		"amount": b.refunded, "balance_transaction": "txn_3" + b.suffix, "charge": id, "created": b.created,
		"currency": e.Currency, "metadata": map[string]any{}, "payment_intent": b.paymentIntentID(),
		"reason": "requested_by_customer", "receipt_number": nil, "source_transfer_reversal": nil,
		"status": "succeeded", "transfer_reversal": nil,
	}
	return map[string]any{
		"id": id, "object": "charge",
		"amount":                          b.amount,
		"amount_captured":                 b.amount,
		"amount_refunded":                 b.refunded,
		"application":                     nil,
		"application_fee":                 nil,
		"application_fee_amount":          nil,
		"balance_transaction":             "txn_3" + b.suffix[:20],
		"billing_details":                 map[string]any{"address": map[string]any{"city": nil, "country": "US", "line1": nil, "line2": nil, "postal_code": "94107", "state": nil}, "email": "jenny.rosen@example.com", "name": "Jenny Rosen", "phone": nil},
		"calculated_statement_descriptor": "EXAMPLE SHOP",
		"captured":                        true,
		"created":                         b.created - 86400,
		"currency":                        e.Currency,
		"customer":                        nil,
		"description":                     nil,
		"disputed":                        false,
		"failure_balance_transaction":     nil,
		"failure_code":                    nil,
		"failure_message":                 nil,
		"fraud_details":                   map[string]any{},
		"invoice":                         nil,
		"livemode":                        e.Livemode,
		"metadata":                        b.metadata(),
		"on_behalf_of":                    nil,
		"outcome":                         map[string]any{"network_status": "approved_by_network", "reason": nil, "risk_level": "normal", "risk_score": 32, "seller_message": "Payment complete.", "type": "authorized"},
		"paid":                            true,
		"payment_intent":                  b.paymentIntentID(),
		"payment_method":                  b.paymentMethodID(),
		"payment_method_details":          map[string]any{"card": card, "type": "card"},
		"receipt_email":                   "jenny.rosen@example.com",
		"receipt_number":                  nil,
		"receipt_url":                     "https://pay.stripe.com/receipts/payment/" + b.suffix,
		"refunded":                        b.refunded == b.amount,
		"refunds":                         map[string]any{"data": []any{refund}, "has_more": false, "object": "list", "total_count": 1, "url": "/v1/charges/" + id + "/refunds"},
		"review":                          nil,
		"shipping":                        nil,
		"source_transfer":                 nil,
		"statement_descriptor":            nil,
		"statement_descriptor_suffix":     nil,
		"status":                          "succeeded",
		"transfer_data":                   nil,
		"transfer_group":                  nil,
	}
}

func (b *builder) dispute() map[string]any {
	e := b.e
	return map[string]any{
		"id": "dp_1" + b.suffix, "object": "dispute",
		"amount":               b.amount,
		"balance_transactions": []any{},
		"charge":               b.chargeID(),
		"created":              b.created,
		"currency":             e.Currency,
		"evidence":             map[string]any{"customer_email_address": nil, "customer_name": nil, "product_description": nil, "uncategorized_text": nil},
		"evidence_details": map[string]any{
			"due_by": b.created + 7*86400, "has_evidence": false, "past_due": false, "submission_count": 0,
		},
		"is_charge_refundable":   true,
		"livemode":               e.Livemode,
		"metadata":               map[string]any{},
		"payment_intent":         b.paymentIntentID(),
		"payment_method_details": map[string]any{"card": map[string]any{"brand": cardBrand, "network_reason_code": "10.4"}, "type": "card"},
		"reason":                 "fraudulent",
		"status":                 "needs_response",
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

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
