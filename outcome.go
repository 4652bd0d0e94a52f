package stripegateway

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/b27de697/stripegateway/internal/wire"

	"github.com/b27de697/stripegateway/internal/money"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"
)

// Kind is what a webhook event or a confirmed checkout means for an order.
type Kind string

// The kinds of Outcome. EventTypes lists the events that produce them:
//
//	PaymentSucceeded       checkout.session.completed (payment_status paid or
//	                       no_payment_required), checkout.session.async_payment_succeeded,
//	                       payment_intent.succeeded, invoice.payment_succeeded, invoice.paid
//	PaymentPending         checkout.session.completed (payment_status unpaid),
//	                       payment_intent.processing
//	PaymentAuthorized      payment_intent.amount_capturable_updated, and
//	                       checkout.session.completed of a session created for
//	                       deferred capture
//	PaymentFailed          checkout.session.async_payment_failed (final),
//	                       payment_intent.payment_failed (not final),
//	                       invoice.payment_failed (final unless Stripe retries,
//	                       never final for a renewal)
//	PaymentActionRequired  invoice.payment_action_required
//	PaymentCanceled        payment_intent.canceled
//	CheckoutExpired        checkout.session.expired
//	PaymentRefunded        charge.refunded
//	RefundFailed           charge.refund.updated of a failed or canceled refund
//	PaymentDisputed        charge.dispute.created
//	DisputeClosed          charge.dispute.closed
//	SubscriptionUpdated    customer.subscription.updated
//	SubscriptionCanceled   customer.subscription.deleted
//	InvoiceCreated         invoice.created
//	Unhandled              any other event, and a completed setup-mode
//	                       session (a card saved, no money moved)
//
// One payment is reported by more than one event: a Checkout payment gives
// checkout.session.completed and payment_intent.succeeded (and, for a
// subscription, invoice.paid and invoice.payment_succeeded), in any order.
// Each is delivered at least once. Make the host's state change idempotent,
// keyed by OrderID (and PaymentIntentID or InvoiceID), and never move an
// order backwards: a PaymentPending arriving after a PaymentSucceeded for the
// same order is stale, not news.
//
// A subscription's renewals come as invoice outcomes of the same kinds with
// Renewal set: each is news for the subscription, not for the order that
// started it (see Outcome.Renewal).
const (
	// PaymentSucceeded: the money is captured (or nothing was due). Fulfil
	// the order, or, when Renewal is set, extend the subscription to
	// PeriodEnd. One payment is reported by more than one event
	// (checkout.session.completed and payment_intent.succeeded): handle it
	// idempotently, keyed by OrderID (by InvoiceID for a renewal).
	PaymentSucceeded Kind = "payment_succeeded"
	// PaymentPending: the customer completed checkout but the money has not
	// arrived yet (a delayed payment method, or a payment still processing).
	// Do not fulfil yet; PaymentSucceeded or PaymentFailed follows.
	PaymentPending Kind = "payment_pending"
	// PaymentAuthorized: funds are held for a deferred capture. Capture or
	// cancel the authorization before it expires (about 7 days for cards).
	PaymentAuthorized Kind = "payment_authorized"
	// PaymentFailed: an attempt failed. Outcome.Final says whether the order
	// can still be paid (another card, or an automatic retry by Stripe).
	PaymentFailed Kind = "payment_failed"
	// PaymentActionRequired: a subscription invoice needs the customer, for
	// example to pass 3-D Secure. Send them to HostedInvoiceURL; Stripe
	// retries or fails the invoice if they do not act.
	PaymentActionRequired Kind = "payment_action_required"
	// PaymentCanceled: the PaymentIntent was canceled; no money moves.
	PaymentCanceled Kind = "payment_canceled"
	// CheckoutExpired: the Checkout Session expired unpaid.
	CheckoutExpired Kind = "checkout_expired"
	// PaymentRefunded: money was refunded, fully or partly; Amount is the
	// refunded amount so far.
	PaymentRefunded Kind = "payment_refunded"
	// RefundFailed: a refund failed or was canceled, so the customer has not
	// been paid back: Amount is the refund's amount, FailureReason Stripe's
	// reason. Refund them another way, or try again.
	RefundFailed Kind = "refund_failed"
	// PaymentDisputed: the customer's bank opened a dispute (chargeback).
	PaymentDisputed Kind = "payment_disputed"
	// DisputeClosed: a dispute ended. DisputeStatus says how: "won" (the
	// money comes back), "lost" (it is gone), "warning_closed" (an inquiry
	// closed without a chargeback), ...
	DisputeClosed Kind = "dispute_closed"
	// SubscriptionUpdated: a subscription changed: SubscriptionStatus
	// (active, past_due, unpaid, canceled, incomplete, incomplete_expired,
	// trialing, paused), CancelAtPeriodEnd and PeriodEnd say how it stands.
	SubscriptionUpdated Kind = "subscription_updated"
	// SubscriptionCanceled: a subscription ended.
	SubscriptionCanceled Kind = "subscription_canceled"
	// InvoiceCreated: a subscription invoice was drafted.
	InvoiceCreated Kind = "invoice_created"
	// Unhandled: an authentic event this package does not interpret. It is
	// not an error.
	Unhandled Kind = "unhandled"
)

// Outcome is what one webhook event, or one ConfirmCheckout, means for an
// order. Fields that the event does not carry are left zero. An Outcome is
// read from where the event's API version puts each field (see APIVersion).
type Outcome struct {
	// Kind says what happened.
	Kind Kind

	// EventID is the Stripe event's ID (evt_…); empty for ConfirmCheckout.
	// Use it to deduplicate deliveries.
	EventID string
	// EventType is the Stripe event's type, e.g. "checkout.session.completed";
	// empty for ConfirmCheckout.
	EventType stripe.EventType
	// APIVersion is the event's api_version, the version its object was
	// rendered with: one of the versions this package knows (2023-10-16
	// through 2026-08-26.dahlia), or one accepted with
	// WithAcceptedAPIVersions. Empty for ConfirmCheckout, whose session is
	// read at stripe-go's version, 2023-10-16.
	APIVersion string
	// Created is when Stripe created the event (or the session, for
	// ConfirmCheckout). Use it to ignore events older than the order's state.
	Created time.Time
	// Livemode is true for live-mode events.
	Livemode bool

	// OrderID is the host's order reference, from client_reference_id or the
	// order_id metadata written by CreateCheckout; empty if neither is there,
	// or if a session's client_reference_id and order_id metadata name
	// different orders (the payment is then attributed to neither, and a
	// warning is logged).
	OrderID string

	// IDs of the Stripe objects involved, where the event has them.
	SessionID       string
	PaymentIntentID string
	ChargeID        string
	InvoiceID       string
	SubscriptionID  string
	CustomerID      string
	// RefundID is the refund's ID (re_…) of a RefundFailed outcome.
	RefundID string

	// Amount is in the currency's major unit, converted exactly with the
	// same currency rules as checkout (500 JPY is 500, 12340 KWD minor units
	// are 12.34): the amount paid (PaymentSucceeded), due (PaymentPending,
	// InvoiceCreated, PaymentActionRequired), authorized, failed, canceled,
	// expired, refunded so far (PaymentRefunded), of the failed refund
	// (RefundFailed) or disputed. Zero for subscription outcomes and
	// Unhandled, and for a currency this package does not know (AmountMinor
	// still holds Stripe's value then). Never negative: an event with a
	// negative amount is refused with ErrInvalidPayload.
	Amount decimal.Decimal
	// RefundAmount is set on PaymentRefunded: the amount refunded by this
	// event, i.e. Amount (refunded so far) less what had been refunded
	// before, from the event's data.previous_attributes. It equals Amount
	// for a first refund, or when the event does not say.
	RefundAmount decimal.Decimal
	// AmountMinor is Amount as Stripe sends it, in the currency's minor unit.
	AmountMinor int64
	// Currency is the lowercase ISO 4217 code, as Stripe sends it.
	Currency string

	// Final is set on PaymentFailed when the order can no longer be paid
	// through this attempt. A declined card in Checkout is not final (the
	// customer may try another card), nor is an invoice Stripe will retry,
	// nor a renewal's failure (see Renewal).
	Final bool
	// FailureCode and DeclineCode are Stripe's codes for a failure, e.g.
	// "card_declined" and "insufficient_funds", where the event has them.
	// They are for the merchant: do not show a DeclineCode to the customer.
	FailureCode string
	DeclineCode string
	// FailureMessage is set on every PaymentFailed and is safe to show the
	// customer: Stripe's own message for a card decline (with the reason
	// hidden for declines Stripe says not to reveal, such as a stolen card),
	// or a generic sentence.
	FailureMessage string
	// FailureReason is Stripe's reason for a RefundFailed, e.g.
	// "expired_or_canceled_card" or "insufficient_funds".
	FailureReason string
	// NextPaymentAttempt is when Stripe retries a failed invoice; zero if not.
	NextPaymentAttempt time.Time

	// BillingReason is an invoice outcome's billing_reason as Stripe sends
	// it: "subscription_create" for a subscription's first invoice,
	// "subscription_cycle", "subscription_update" or
	// "subscription_threshold" for later ones, "manual", ...
	BillingReason string
	// Renewal is set on invoice outcomes of every invoice after a
	// subscription's first (BillingReason subscription_cycle,
	// subscription_update or subscription_threshold). A renewal is news for
	// the subscription, not for the order that started it: on
	// PaymentSucceeded, extend the customer's access to PeriodEnd (keyed by
	// SubscriptionID, deduplicated by InvoiceID); on PaymentFailed it is
	// never Final for the order, even on Stripe's last retry: the
	// subscription then moves to past_due, unpaid or canceled, as the
	// account's retry settings say, and SubscriptionUpdated or
	// SubscriptionCanceled reports that.
	Renewal bool
	// PeriodStart and PeriodEnd are the service period an invoice pays for
	// (from its subscription lines), or a subscription's current period
	// (SubscriptionUpdated, SubscriptionCanceled: PeriodEnd only).
	PeriodStart time.Time
	PeriodEnd   time.Time
	// HostedInvoiceURL is the invoice's page on Stripe, where the customer
	// can pay it or complete 3-D Secure (PaymentActionRequired, and every
	// invoice outcome that has one).
	HostedInvoiceURL string

	// SubscriptionStatus is the subscription's status on SubscriptionUpdated
	// and SubscriptionCanceled: active, past_due, unpaid, canceled,
	// incomplete, incomplete_expired, trialing or paused.
	SubscriptionStatus string
	// CancelAtPeriodEnd is set when the subscription ends at PeriodEnd.
	CancelAtPeriodEnd bool

	// DisputeStatus is the dispute's status on PaymentDisputed and
	// DisputeClosed: won, lost, warning_closed, needs_response, ...
	DisputeStatus string

	// The typed stripe-go v76 object of the event, at most one of which is
	// set: only for events rendered at API version 2023-10-16, stripe-go
	// v76's, which is the only version they decode faithfully into. At
	// every other version they are nil and RawObject holds the object.
	// Expandable fields hold only their ID, as Stripe sends them in events.
	CheckoutSession *stripe.CheckoutSession
	PaymentIntent   *stripe.PaymentIntent
	Charge          *stripe.Charge
	Invoice         *stripe.Invoice
	Subscription    *stripe.Subscription
	Dispute         *stripe.Dispute
	Refund          *stripe.Refund

	// RawObject is the event's data.object as sent, for Unhandled events
	// and for every event not rendered at API version 2023-10-16: decode it
	// into the type your own stripe-go (or other library) has for the
	// event's API version.
	//
	// An Outcome holds no client secret: a PaymentIntent's or a Checkout
	// Session's client_secret, which lets a browser complete a payment, is
	// emptied in the typed objects and replaced by "[redacted client
	// secret]" in RawObject, so that printing, logging or marshalling an
	// Outcome cannot leak one. A webhook has no use for it.
	RawObject json.RawMessage

	// orderConflict names the two order IDs of a session that disagree, for
	// the gateway to log.
	orderConflict [2]string
}

// Messages for PaymentFailed.FailureMessage when Stripe's is not to be shown.
const (
	genericDeclineMessage = "Your card was declined."
	genericFailureMessage = "The payment could not be completed. Please try again or use another payment method."
)

// hiddenDeclineCodes are the decline codes that Stripe recommends not to
// reveal to the customer ("present as generic_decline").
var hiddenDeclineCodes = map[stripe.DeclineCode]bool{
	"fraudulent":         true,
	"lost_card":          true,
	"stolen_card":        true,
	"pickup_card":        true,
	"merchant_blacklist": true,
	"restricted_card":    true,
	"security_violation": true,
}

// setPrevious applies what an event's previous_attributes say.
func (o *Outcome) setPrevious(p *previousAttributes) {
	if o.Kind != PaymentRefunded {
		return
	}
	o.RefundAmount = o.Amount
	if p.AmountRefunded == nil || *p.AmountRefunded < 0 || *p.AmountRefunded > o.AmountMinor {
		return
	}
	if cur, err := money.Lookup(o.Currency); err == nil {
		o.RefundAmount = cur.FromMinor(o.AmountMinor - *p.AmountRefunded)
	}
}

// setAmount sets AmountMinor, and Amount when Currency is known.
func (o *Outcome) setAmount(minor int64) {
	o.Currency = strings.ToLower(o.Currency)
	o.AmountMinor = minor
	o.Amount = decimal.Zero
	if cur, err := money.Lookup(o.Currency); err == nil {
		o.Amount = cur.FromMinor(minor)
	}
}

// setEvent fills the event fields.
func (o *Outcome) setEvent(h *eventHead) {
	o.EventID = h.ID
	o.EventType = h.Type
	o.APIVersion = h.APIVersion
	o.Created = time.Unix(h.Created, 0).UTC()
	o.Livemode = h.Livemode
}

// orderIDFrom returns the order ID stored in metadata, or "".
func orderIDFrom(metadata map[string]string) string {
	return metadata[wire.MetadataOrderID]
}

// clientSecretPattern matches a client secret in JSON text.
var clientSecretPattern = regexp.MustCompile(`[A-Za-z0-9_]*_secret_[A-Za-z0-9_]+`)

// dropClientSecrets removes client secrets from the typed objects and the
// raw object. RawObject is a copy already (see decode.go), never the
// caller's payload.
func (o *Outcome) dropClientSecrets() {
	if o.PaymentIntent != nil {
		o.PaymentIntent.ClientSecret = ""
	}
	if s := o.CheckoutSession; s != nil {
		s.ClientSecret = ""
		if s.PaymentIntent != nil { // expanded by ConfirmCheckout
			s.PaymentIntent.ClientSecret = ""
		}
	}
	if bytes.Contains(o.RawObject, []byte("_secret_")) {
		o.RawObject = clientSecretPattern.ReplaceAll(o.RawObject, []byte("[redacted client secret]"))
	}
}
