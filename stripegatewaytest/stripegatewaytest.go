// Package stripegatewaytest builds realistic, signed Stripe webhook events
// for testing code that uses stripegateway: a host application's callbacks,
// its webhook route, its order state machine.
//
// Events have the shape Stripe sends at API version 2023-10-16
// (stripe.APIVersion, 2023-10-16), with the order ID, amount and currency chosen
// by the test. Amounts are converted to Stripe's minor units with the same
// currency rules as the gateway's CreateCheckout: 500 JPY is sent as 500,
// 12.34 KWD as 12340.
//
//	ev := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "order-42", decimal.RequireFromString("19.99"), "eur")
//	req := stripegatewaytest.NewRequest("/gateways/stripe/notification", ev.MustJSON(), webhookSecret)
//	rec := httptest.NewRecorder()
//	handler.ServeHTTP(rec, req) // handler from gateway.WebhookHandler
//
// Signatures are made with stripe-go's webhook.GenerateTestSignedPayload.
package stripegatewaytest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/internal/money"
)

// Event describes one Stripe event to build. The zero values of the
// optional fields give a typical event; NewEvent and ForKind fill the rest.
type Event struct {
	// Type is the event's type, e.g. stripe.EventTypeCheckoutSessionCompleted.
	// Every type in stripegateway.EventTypes() is built with its object;
	// any other type is built with a customer object.
	Type stripe.EventType
	// ID is the event's ID: deliveries of the same event share it, and the
	// IDs of the objects in it are derived from it. NewEvent and ForKind set
	// a random one; JSON makes up a random one when it is empty.
	ID string
	// OrderID is written where CreateCheckout puts it: client_reference_id
	// and metadata.order_id of a Checkout Session, metadata.order_id of a
	// PaymentIntent, Charge, Subscription, and the subscription metadata
	// of an invoice. Empty leaves it out.
	OrderID string
	// Amount is in the major unit of Currency: the session's total, the
	// PaymentIntent's amount, the invoice's amount, the charge's amount or
	// the dispute's amount. It is converted with the gateway's own currency
	// rules, so it must be an amount Stripe can charge:
	// 12.34 KWD is sent as 12340, while 12.345 KWD is refused, as
	// CreateCheckout refuses it.
	Amount decimal.Decimal
	// Currency is a lowercase ISO 4217 code; "usd" when empty.
	Currency string
	// Created is the event's creation time; the time of NewEvent or
	// ForKind, or of JSON when zero.
	Created time.Time
	// Livemode makes a live-mode event.
	Livemode bool
	// APIVersion is the event's api_version; stripe.APIVersion when
	// empty.
	APIVersion string

	// PaymentStatus is a checkout.session.completed session's
	// payment_status: "paid" when empty.
	PaymentStatus stripe.CheckoutSessionPaymentStatus
	// DeferredCapture makes a checkout.session.completed session one
	// created for deferred capture (its funds held, payment_status unpaid).
	DeferredCapture bool

	// FailureCode, DeclineCode and FailureMessage fill a
	// payment_intent.payment_failed event's last_payment_error; by default a
	// card_declined / generic_decline card error.
	FailureCode    string
	DeclineCode    string
	FailureMessage string

	// NextPaymentAttempt, for invoice.payment_failed, schedules a retry by
	// Stripe (so the failure is not final). Zero means no retry.
	NextPaymentAttempt time.Time

	// AmountRefunded, for charge.refunded, is the amount refunded so far;
	// zero means Amount (a full refund).
	AmountRefunded decimal.Decimal

	// PaymentIntentID is the ID of the payment's PaymentIntent (pi_…),
	// random when empty. Set it to tie the events of one payment together:
	// a dispute carries no order ID (Stripe does not copy metadata to
	// disputes), so a host finds the order of a PaymentDisputed outcome by
	// its PaymentIntentID.
	PaymentIntentID string
}

// NewEvent returns an event of type typ for the order, amount and currency,
// with a new random ID and the current time. Its JSON is the same on every
// call, so that it can be delivered twice as one event.
func NewEvent(typ stripe.EventType, orderID string, amount decimal.Decimal, currency string) Event {
	return Event{
		Type: typ, ID: "evt_" + randomID(24), OrderID: orderID, Amount: amount, Currency: currency,
		Created: time.Now().Truncate(time.Second),
	}
}

// ForKind returns a typical event that the gateway reports with kind:
//
//	PaymentSucceeded      checkout.session.completed, paid
//	PaymentPending        checkout.session.completed, unpaid
//	PaymentAuthorized     checkout.session.completed of a deferred-capture session
//	PaymentFailed         payment_intent.payment_failed (a card decline)
//	PaymentCanceled       payment_intent.canceled
//	CheckoutExpired       checkout.session.expired
//	PaymentRefunded       charge.refunded, in full
//	PaymentDisputed       charge.dispute.created
//	SubscriptionCanceled  customer.subscription.deleted
//	InvoiceCreated        invoice.created
//	Unhandled             customer.created
//
// It panics for a kind not listed.
func ForKind(kind stripegateway.Kind, orderID string, amount decimal.Decimal, currency string) Event {
	e := NewEvent("", orderID, amount, currency)
	switch kind {
	case stripegateway.PaymentSucceeded:
		e.Type = stripe.EventTypeCheckoutSessionCompleted
	case stripegateway.PaymentPending:
		e.Type = stripe.EventTypeCheckoutSessionCompleted
		e.PaymentStatus = stripe.CheckoutSessionPaymentStatusUnpaid
	case stripegateway.PaymentAuthorized:
		e.Type = stripe.EventTypeCheckoutSessionCompleted
		e.DeferredCapture = true
	case stripegateway.PaymentFailed:
		e.Type = stripe.EventTypePaymentIntentPaymentFailed
	case stripegateway.PaymentCanceled:
		e.Type = stripe.EventTypePaymentIntentCanceled
	case stripegateway.CheckoutExpired:
		e.Type = stripe.EventTypeCheckoutSessionExpired
	case stripegateway.PaymentRefunded:
		e.Type = stripe.EventTypeChargeRefunded
	case stripegateway.PaymentDisputed:
		e.Type = stripe.EventTypeChargeDisputeCreated
	case stripegateway.SubscriptionCanceled:
		e.Type = stripe.EventTypeCustomerSubscriptionDeleted
	case stripegateway.InvoiceCreated:
		e.Type = stripe.EventTypeInvoiceCreated
	case stripegateway.Unhandled:
		e.Type = stripe.EventTypeCustomerCreated
	default:
		panic(fmt.Sprintf("stripegatewaytest.ForKind: unknown kind %q", kind))
	}
	return e
}

// MustJSON is JSON that panics on error, for tests.
func (e Event) MustJSON() []byte {
	b, err := e.JSON()
	if err != nil {
		panic(err)
	}
	return b
}

// JSON returns the event as Stripe sends it: indented JSON with the
// envelope's keys in Stripe's order ("type" last) and the object's keys
// sorted. It fails for an amount the currency cannot represent.
func (e Event) JSON() ([]byte, error) {
	if e.Type == "" {
		return nil, fmt.Errorf("stripegatewaytest: Event.Type is empty")
	}
	if e.Currency == "" {
		e.Currency = "usd"
	}
	e.Currency = strings.ToLower(e.Currency)
	amount, err := money.MinorUnits(e.Amount, e.Currency)
	if err != nil {
		return nil, fmt.Errorf("stripegatewaytest: %w", err)
	}
	refunded := amount
	if !e.AmountRefunded.IsZero() {
		if refunded, err = money.MinorUnits(e.AmountRefunded, e.Currency); err != nil {
			return nil, fmt.Errorf("stripegatewaytest: AmountRefunded: %w", err)
		}
	}
	if e.Created.IsZero() {
		e.Created = time.Now()
	}
	if e.ID == "" {
		e.ID = "evt_" + randomID(24)
	}
	if e.APIVersion == "" {
		e.APIVersion = stripe.APIVersion
	}
	b := builder{e: e, amount: amount, refunded: refunded, created: e.Created.Unix(), suffix: derivedID(e.ID, 24)}
	obj := b.object()
	env := envelope{
		ID:              e.ID,
		Object:          "event",
		APIVersion:      e.APIVersion,
		Created:         b.created,
		Data:            envelopeData{Object: obj},
		Livemode:        e.Livemode,
		PendingWebhooks: 1,
		Request:         envelopeRequest{},
		Type:            string(e.Type),
	}
	if prev := b.previousAttributes(); prev != nil {
		env.Data.PreviousAttributes = prev
	}
	return json.MarshalIndent(env, "", "  ")
}

// envelope is an event in Stripe's key order.
type envelope struct {
	ID              string          `json:"id"`
	Object          string          `json:"object"`
	APIVersion      string          `json:"api_version"`
	Created         int64           `json:"created"`
	Data            envelopeData    `json:"data"`
	Livemode        bool            `json:"livemode"`
	PendingWebhooks int             `json:"pending_webhooks"`
	Request         envelopeRequest `json:"request"`
	Type            string          `json:"type"`
}

type envelopeData struct {
	Object             map[string]any `json:"object"`
	PreviousAttributes map[string]any `json:"previous_attributes,omitempty"`
}

type envelopeRequest struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

// ---------------------------------------------------------------------------
// Signing

// SignOption changes how SignatureHeader and NewRequest sign.
type SignOption func(*signConfig)

type signConfig struct {
	at      time.Time
	expired bool
	wrong   bool
	extra   []string
}

// At signs with timestamp t instead of the current time. Use the time of
// the gateway's clock (stripegateway.WithClock).
func At(t time.Time) SignOption { return func(c *signConfig) { c.at = t } }

// Expired signs with a timestamp one hour before the signing time, outside
// any usual tolerance: a replayed request.
func Expired() SignOption { return func(c *signConfig) { c.expired = true } }

// WrongSecret signs with a random secret instead of the given one.
func WrongSecret() SignOption { return func(c *signConfig) { c.wrong = true } }

// AlsoSignedWith adds a second v1 signature made with secret, as Stripe
// sends while an endpoint's secret is being rolled ("t=…,v1=…,v1=…").
func AlsoSignedWith(secret string) SignOption {
	return func(c *signConfig) { c.extra = append(c.extra, secret) }
}

// SignatureHeader returns a Stripe-Signature header for payload signed with
// secret.
func SignatureHeader(payload []byte, secret string, opts ...SignOption) string {
	var c signConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.at.IsZero() {
		c.at = time.Now()
	}
	if c.expired {
		c.at = c.at.Add(-time.Hour)
	}
	if c.wrong {
		secret = "whsec_" + randomID(32)
	}
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: c.at})
	header := sp.Header
	for _, s := range c.extra {
		extra := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: s, Timestamp: c.at})
		header += ",v1=" + hex.EncodeToString(extra.Signature)
	}
	return header
}

// NewRequest returns a POST request to target (a path or URL) carrying
// payload with a valid Stripe-Signature header made with secret, as Stripe
// sends it; opts change the signature. Serve it to a handler with
// httptest.NewRecorder. It panics for an invalid target, like
// httptest.NewRequest.
func NewRequest(target string, payload []byte, secret string, opts ...SignOption) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(payload))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	r.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	r.Header.Set("Stripe-Signature", SignatureHeader(payload, secret, opts...))
	return r
}

// derivedID returns n letters and digits derived from seed.
func derivedID(seed string, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	sum := sha256.Sum256([]byte(seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[int(sum[i%len(sum)])%len(alphabet)]
	}
	return string(b)
}

// randomID returns n random letters and digits.
func randomID(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
