// Package stripegatewaytest builds realistic, signed Stripe webhook events
// for testing code that uses stripegateway: a host application's callbacks,
// its webhook route, its order state machine.
//
// Events have the shape Stripe sends at the API version of the test's
// choosing: stripe-go v76's 2023-10-16 (stripe.APIVersion) by default, or
// any version a webhook endpoint can be pinned to, with WithAPIVersion
// (2023-10-16 through 2026-08-26.dahlia; see stripegateway's Outcome.APIVersion).
// Objects follow the layout of that version: from 2025-03-31.basil on, for
// example, an invoice names its subscription under
// parent.subscription_details, and a subscription's period is on its items.
// The order ID, amount and currency are chosen by the test. Amounts are
// converted to Stripe's minor units with the same currency rules as the
// gateway's CreateCheckout: 500 JPY is sent as 500, 12.34 KWD as 12340.
//
//	ev := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "order-42", decimal.RequireFromString("19.99"), "eur")
//	req := stripegatewaytest.NewRequest("/gateways/stripe/notification", ev.MustJSON(), webhookSecret)
//	rec := httptest.NewRecorder()
//	handler.ServeHTTP(rec, req) // handler from gateway.WebhookHandler
//
// To test against the API version of your endpoint, here a subscription's
// renewal rather than its first invoice:
//
//	ev := stripegatewaytest.NewEvent(stripe.EventTypeInvoicePaid, "order-42", amount, "eur",
//		stripegatewaytest.WithAPIVersion("2025-03-31.basil"), stripegatewaytest.Renewal())
//
// ForKind builds an event for every Kind; NewEvent builds every event type
// of stripegateway.EventTypes() with its object. Signatures are made with
// stripe-go's webhook.GenerateTestSignedPayload.
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

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/b27de697/stripegateway/internal/money"
	"github.com/b27de697/stripegateway/internal/wire"
)

// MustJSON is JSON that panics on error, for tests.
func (e Event) MustJSON() []byte {
	b, err := e.JSON()
	if err != nil {
		panic(err)
	}
	return b
}

// JSON returns the event as Stripe sends it at e.APIVersion: indented
// JSON with the envelope's keys in Stripe's order ("type" last) and the
// object's keys sorted, the object laid out as that API version lays it
// out. It fails for an amount the currency cannot represent.
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
	if e.PeriodStart.IsZero() {
		e.PeriodStart = e.Created
	}
	if e.PeriodEnd.IsZero() {
		e.PeriodEnd = e.PeriodStart.AddDate(0, 1, 0)
	}
	b := builder{
		e: e, amount: amount, refunded: refunded, created: e.Created.Unix(), suffix: derivedID(e.ID, 24),
		basil: shapeOf(e.APIVersion) == wire.Basil, dahlia: atLeast(e.APIVersion, "2026-03-25.dahlia"),
		periodStart: e.PeriodStart.Unix(), periodEnd: e.PeriodEnd.Unix(),
	}
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

// shapeOf is the layout of API version v's objects: that of the newest
// version for a version this package does not know.
func shapeOf(v string) wire.Shape {
	if s, ok := wire.ShapeOf(v); ok {
		return s
	}
	s, _ := wire.ShapeOf(wire.Newest)
	return s
}

// atLeast says whether API version v is min or newer; a version this
// package does not know counts as the newest.
func atLeast(v, min string) bool {
	iv, imin := len(wire.APIVersions), -1
	for i, av := range wire.APIVersions {
		if av.Name == v {
			iv = i
		}
		if av.Name == min {
			imin = i
		}
	}
	return imin >= 0 && iv >= imin
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
