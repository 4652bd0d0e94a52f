package stripegatewaytest

import (
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway/internal/wire"
)

// This file builds the objects of one payment: the Checkout Session, the
// PaymentIntent with its card payment method, the Charge, the Refund and
// the Dispute.

func (b *builder) checkoutSession() map[string]any {
	e := b.e
	id := "cs_" + b.mode() + "_a1" + b.suffix + b.suffix
	status := "complete"
	paymentStatus := "paid"
	var pi any = b.paymentIntentID()
	var amount, currency any = b.amount, e.Currency
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
			metadata[wire.MetadataCaptureMethod] = "manual"
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
	if e.Mode == "setup" {
		// A setup session saves a payment method: no amount, no currency,
		// nothing to pay, a SetupIntent instead of a PaymentIntent.
		pi, paymentStatus, amount, currency = nil, "no_payment_required", nil, nil
	}
	s := map[string]any{
		"id": id, "object": "checkout.session",
		"after_expiration":           nil,
		"allow_promotion_codes":      nil,
		"amount_subtotal":            amount,
		"amount_total":               amount,
		"automatic_tax":              map[string]any{"enabled": false, "status": nil},
		"billing_address_collection": nil,
		"cancel_url":                 "https://shop.example/checkout/cancel",
		"client_reference_id":        nilIfEmpty(e.OrderID),
		"client_secret":              nil,
		"consent":                    nil,
		"consent_collection":         nil,
		"created":                    b.created - 300,
		"currency":                   currency,
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
	switch e.Mode {
	case "setup":
		s["mode"] = "setup"
		s["setup_intent"] = b.setupIntentID()
		s["invoice_creation"] = nil
		s["total_details"] = nil
	case "subscription":
		// Checkout creates the customer, the subscription and its first
		// invoice, which has the PaymentIntent.
		s["mode"] = "subscription"
		s["payment_intent"] = nil
		s["invoice_creation"] = nil
		s["customer_creation"] = "always"
		s["payment_method_collection"] = "always"
		if status == "complete" {
			s["customer"] = b.customerID()
			s["invoice"] = b.invoiceID()
			s["subscription"] = b.subscriptionID()
		}
	}
	if b.basil {
		// 2025-03-31.basil moved shipping_details under
		// collected_information.
		delete(s, "shipping_details")
		s["collected_information"] = nil
	}
	if b.dahlia {
		s["ui_mode"] = "hosted_page" // "hosted" before 2026-03-25.dahlia
	}
	return s
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
			"decline_code":   nilIfEmpty(decline),
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
	if b.basil {
		delete(pi, "invoice") // removed by 2025-03-31.basil
	}
	return pi
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
	ch := map[string]any{
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
	if b.basil {
		delete(ch, "invoice") // removed by 2025-03-31.basil
	}
	return ch
}

// refund is the refund of charge.refund.updated: by default one that
// failed because the card was canceled, after Stripe had accepted it.
func (b *builder) refund() map[string]any {
	e := b.e
	status := e.RefundStatus
	if status == "" {
		status = "failed"
	}
	r := map[string]any{
		"id": b.refundID(), "object": "refund",
		"amount":                   b.amount,
		"balance_transaction":      "txn_3" + b.suffix,
		"charge":                   b.chargeID(),
		"created":                  b.created - 3600,
		"currency":                 e.Currency,
		"destination_details":      map[string]any{"card": map[string]any{"type": "refund"}, "type": "card"},
		"metadata":                 map[string]any{},
		"payment_intent":           b.paymentIntentID(),
		"reason":                   "requested_by_customer",
		"receipt_number":           nil,
		"source_transfer_reversal": nil,
		"status":                   status,
		"transfer_reversal":        nil,
	}
	if status == "failed" || status == "canceled" {
		reason := e.FailureReason
		if reason == "" {
			reason = "expired_or_canceled_card"
		}
		r["failure_reason"] = reason
		// The money came back to the balance.
		r["failure_balance_transaction"] = "txn_3" + derivedID(b.suffix, 24)
	}
	return r
}

func (b *builder) dispute() map[string]any {
	e := b.e
	status, hasEvidence, submissions, refundable, dueBy := "needs_response", false, 0, true, b.created+7*86400
	if e.Type == stripe.EventTypeChargeDisputeClosed {
		// Evidence was sent before the deadline; the bank decided.
		status, hasEvidence, submissions, refundable, dueBy = "lost", true, 1, false, b.created-30*86400
	}
	if e.DisputeStatus != "" {
		status = e.DisputeStatus
	}
	return map[string]any{
		"id": "dp_1" + b.suffix, "object": "dispute",
		"amount":               b.amount,
		"balance_transactions": []any{},
		"charge":               b.chargeID(),
		"created":              b.created,
		"currency":             e.Currency,
		"evidence":             map[string]any{"customer_email_address": nil, "customer_name": nil, "product_description": nil, "uncategorized_text": nil},
		"evidence_details": map[string]any{
			"due_by": dueBy, "has_evidence": hasEvidence, "past_due": false, "submission_count": submissions,
		},
		"is_charge_refundable":   refundable,
		"livemode":               e.Livemode,
		"metadata":               map[string]any{},
		"payment_intent":         b.paymentIntentID(),
		"payment_method_details": map[string]any{"card": map[string]any{"brand": cardBrand, "network_reason_code": "10.4"}, "type": "card"},
		"reason":                 "fraudulent",
		"status":                 status,
	}
}
