package stripegateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/b27de697/stripegateway/internal/redact"
	"github.com/b27de697/stripegateway/internal/wire"

	"github.com/stripe/stripe-go/v76"
)

// This file decodes a verified webhook payload into an Outcome: the event's
// envelope, the checks on its mode and API version, and the one-pass decode
// of data.object into the type of the event.

// eventHead is the part of a Stripe event around data.object.
type eventHead struct {
	ID         string           `json:"id"`
	Object     string           `json:"object"`
	APIVersion string           `json:"api_version"`
	Created    int64            `json:"created"`
	Livemode   bool             `json:"livemode"`
	Type       stripe.EventType `json:"type"`
}

// rawEvent is an event whose data.object is kept undecoded.
type rawEvent struct {
	eventHead
	Data rawEventData `json:"data"`
}

type rawEventData struct {
	Object   json.RawMessage    `json:"object"`
	Previous previousAttributes `json:"previous_attributes"`
}

// previousAttributes holds the values of data.previous_attributes that an
// Outcome needs; the others are skipped by the decoder.
type previousAttributes struct {
	AmountRefunded *int64 `json:"amount_refunded"`
}

// typedEvent is an event whose data.object is decoded as a T.
type typedEvent[T any] struct {
	eventHead
	Data typedEventData[T] `json:"data"`
}

type typedEventData[T any] struct {
	Object   *T                 `json:"object"`
	Previous previousAttributes `json:"previous_attributes"`
}

// eventSpec says how one event type is decoded and mapped to an Outcome.
type eventSpec struct {
	typ stripe.EventType
	// full decodes a whole payload rendered at 2023-10-16 in one pass, with
	// data.object decoded as stripe-go v76's type of the event's object. ok
	// is false if the payload does not decode that way, is not of this type
	// or version, or does not map; the slow path then says why.
	full func(payload []byte) (head eventHead, o *Outcome, ok bool)
	// typed decodes a data.object rendered at 2023-10-16 into stripe-go's
	// type, and maps it.
	typed func(raw []byte) (*Outcome, error)
	// viewFull decodes a whole payload of any other version in one pass,
	// with data.object decoded as its view, and maps it as the shape of the
	// event's version says (shapeOf; ok false for a version not read).
	viewFull func(payload []byte, shapeOf func(version string) (wire.Shape, bool)) (head eventHead, o *Outcome, ok bool)
	// viewed decodes a data.object of any other version into its view, and
	// maps it as shape says.
	viewed func(raw []byte, shape wire.Shape) (*Outcome, error)
}

// newEventSpec makes the spec of events whose data.object is a T (stripe-go
// v76's type), decoded as a D (T itself, or T's plain type, see
// plainPaymentIntent, that as converts back to T); view gives T's view V,
// build maps a V, and keep sets T on the Outcome.
func newEventSpec[T, D, V any](typ stripe.EventType, as func(*D) *T, view func(*T) *V, build mapFunc[V], keep func(*Outcome, *T)) eventSpec {
	typedObject := func(obj *T) (*Outcome, error) {
		o, err := build(typ, view(obj), wire.Legacy)
		if err != nil {
			return nil, err
		}
		keep(o, obj)
		return o, nil
	}
	return eventSpec{
		typ: typ,
		full: func(payload []byte) (eventHead, *Outcome, bool) {
			var e typedEvent[D]
			if json.Unmarshal(payload, &e) != nil || e.Type != typ || e.APIVersion != wire.Typed || e.Data.Object == nil {
				return eventHead{}, nil, false
			}
			o, err := typedObject(as(e.Data.Object))
			if err != nil {
				return eventHead{}, nil, false
			}
			o.setPrevious(&e.Data.Previous)
			return e.eventHead, o, true
		},
		typed: func(raw []byte) (*Outcome, error) {
			v := new(D)
			if err := json.Unmarshal(raw, v); err != nil {
				return nil, fmt.Errorf("data.object does not decode: %s", describeJSONError(err))
			}
			return typedObject(as(v))
		},
		viewFull: func(payload []byte, shapeOf func(string) (wire.Shape, bool)) (eventHead, *Outcome, bool) {
			var e typedEvent[V]
			if json.Unmarshal(payload, &e) != nil || e.Type != typ || e.Data.Object == nil {
				return eventHead{}, nil, false
			}
			shape, ok := shapeOf(e.APIVersion)
			raw := rawObjectSpan(payload)
			if !ok || e.APIVersion == wire.Typed || raw == nil {
				return eventHead{}, nil, false
			}
			o, err := build(typ, e.Data.Object, shape)
			if err != nil {
				return eventHead{}, nil, false
			}
			o.RawObject = bytes.Clone(raw) // the caller may reuse the payload's buffer
			o.setPrevious(&e.Data.Previous)
			return e.eventHead, o, true
		},
		viewed: func(raw []byte, shape wire.Shape) (*Outcome, error) {
			v := new(V)
			if err := json.Unmarshal(raw, v); err != nil {
				return nil, fmt.Errorf("data.object does not decode: %s", describeJSONError(err))
			}
			o, err := build(typ, v, shape)
			if err != nil {
				return nil, err
			}
			o.RawObject = raw
			return o, nil
		},
	}
}

// Plain types of the stripe-go objects that implement json.Unmarshaler.
// Their UnmarshalJSON only exists for an expandable field sent as a bare ID
// ("pi_123"): for an object it decodes the bytes again with
// json.Unmarshal into a copy of the type, so encoding/json first skips over
// the object, then validates it again, then decodes it, then copies the
// struct. A defined type has none of its underlying type's methods, so a
// plain type is decoded field by field in the pass that decodes the
// payload, into exactly the struct the method would produce. data.object
// is always a whole object (a bare ID does not decode into a plain type and
// is refused by parseEventSlow). Nested expandable fields keep their own
// types and methods, so an ID there decodes as stripe-go decodes it.
// TestVerifyAndParseMatchesStripeGo checks the equivalence on the fixtures.
type (
	plainPaymentIntent stripe.PaymentIntent
	plainInvoice       stripe.Invoice
	plainCharge        stripe.Charge
	plainDispute       stripe.Dispute
	plainSubscription  stripe.Subscription
	plainRefund        stripe.Refund
)

func asPaymentIntent(p *plainPaymentIntent) *stripe.PaymentIntent { return (*stripe.PaymentIntent)(p) }
func asInvoice(p *plainInvoice) *stripe.Invoice                   { return (*stripe.Invoice)(p) }
func asCharge(p *plainCharge) *stripe.Charge                      { return (*stripe.Charge)(p) }
func asDispute(p *plainDispute) *stripe.Dispute                   { return (*stripe.Dispute)(p) }
func asSubscription(p *plainSubscription) *stripe.Subscription    { return (*stripe.Subscription)(p) }
func asRefund(p *plainRefund) *stripe.Refund                      { return (*stripe.Refund)(p) }

// asCheckoutSession is the identity: stripe.CheckoutSession has no
// UnmarshalJSON, as Checkout Sessions are never expandable.
func asCheckoutSession(s *stripe.CheckoutSession) *stripe.CheckoutSession { return s }

// The keep functions set the typed object on an Outcome.
func keepCheckoutSession(o *Outcome, s *stripe.CheckoutSession) { o.CheckoutSession = s }
func keepPaymentIntent(o *Outcome, pi *stripe.PaymentIntent)    { o.PaymentIntent = pi }
func keepInvoice(o *Outcome, in *stripe.Invoice)                { o.Invoice = in }
func keepCharge(o *Outcome, ch *stripe.Charge)                  { o.Charge = ch }
func keepDispute(o *Outcome, d *stripe.Dispute)                 { o.Dispute = d }
func keepSubscription(o *Outcome, s *stripe.Subscription)       { o.Subscription = s }
func keepRefund(o *Outcome, r *stripe.Refund)                   { o.Refund = r }

// eventObjectName is the "object" value of the data.object of an event type.
func eventObjectName(typ stripe.EventType) string {
	t := string(typ)
	switch {
	case strings.HasPrefix(t, "checkout.session."):
		return "checkout.session"
	case strings.HasPrefix(t, "payment_intent."):
		return "payment_intent"
	case strings.HasPrefix(t, "invoice."):
		return "invoice"
	case strings.HasPrefix(t, "charge.dispute."):
		return "dispute"
	case strings.HasPrefix(t, "charge.refund."):
		return "refund"
	case strings.HasPrefix(t, "charge."):
		return "charge"
	case strings.HasPrefix(t, "customer.subscription."):
		return "subscription"
	}
	return ""
}

// eventSpecs lists the events this package interprets, in the order of the
// table in Outcome's documentation. EventTypes returns their types.
var eventSpecs = func() []eventSpec {
	session := func(t stripe.EventType) eventSpec {
		return newEventSpec(t, asCheckoutSession, viewCheckoutSession, mapCheckoutSession, keepCheckoutSession)
	}
	intent := func(t stripe.EventType) eventSpec {
		return newEventSpec(t, asPaymentIntent, viewPaymentIntent, mapPaymentIntent, keepPaymentIntent)
	}
	invoice := func(t stripe.EventType) eventSpec {
		return newEventSpec(t, asInvoice, viewInvoice, mapInvoice, keepInvoice)
	}
	dispute := func(t stripe.EventType) eventSpec {
		return newEventSpec(t, asDispute, viewDispute, mapDispute, keepDispute)
	}
	subscription := func(t stripe.EventType) eventSpec {
		return newEventSpec(t, asSubscription, viewSubscription, mapSubscription, keepSubscription)
	}
	return []eventSpec{
		session(stripe.EventTypeCheckoutSessionCompleted),
		session(stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded),
		session(stripe.EventTypeCheckoutSessionAsyncPaymentFailed),
		session(stripe.EventTypeCheckoutSessionExpired),
		intent(stripe.EventTypePaymentIntentSucceeded),
		intent(stripe.EventTypePaymentIntentProcessing),
		intent(stripe.EventTypePaymentIntentAmountCapturableUpdated),
		intent(stripe.EventTypePaymentIntentPaymentFailed),
		intent(stripe.EventTypePaymentIntentCanceled),
		invoice(stripe.EventTypeInvoicePaymentSucceeded),
		invoice(stripe.EventTypeInvoicePaid),
		invoice(stripe.EventTypeInvoicePaymentFailed),
		invoice(stripe.EventTypeInvoicePaymentActionRequired),
		invoice(stripe.EventTypeInvoiceCreated),
		newEventSpec(stripe.EventTypeChargeRefunded, asCharge, viewCharge, mapCharge, keepCharge),
		newEventSpec(stripe.EventTypeChargeRefundUpdated, asRefund, viewRefund, mapRefund, keepRefund),
		dispute(stripe.EventTypeChargeDisputeCreated),
		dispute(stripe.EventTypeChargeDisputeClosed),
		subscription(stripe.EventTypeCustomerSubscriptionUpdated),
		subscription(stripe.EventTypeCustomerSubscriptionDeleted),
	}
}()

var eventSpecByType = func() map[stripe.EventType]*eventSpec {
	m := make(map[stripe.EventType]*eventSpec, len(eventSpecs))
	for i := range eventSpecs {
		m[eventSpecs[i].typ] = &eventSpecs[i]
	}
	return m
}()

// parseEvent decodes a verified payload.
//
// An event rendered at 2023-10-16 takes the fast path: the whole event is
// decoded in one pass of encoding/json, with data.object decoded straight
// into the stripe-go type of the event. That needs the event's type and
// version before decoding, but Stripe writes "type" after "data".
// eventSpecForPayload therefore guesses the type from the payload's last
// "type" key, which in Stripe's events is the event's own, and
// payloadAPIVersion the version from the first "api_version" key, which
// Stripe writes before "data". The guesses only select what to decode into:
// the decoded type and version must equal them, and on any mismatch or
// error the event is decoded again the general way (parseEventSlow), which
// also produces the precise error. Measured on a 3 KB Checkout Session
// event, the one-pass decode costs about the same as decoding the object
// alone, while a first pass keeping data.object as a json.RawMessage costs
// about as much again.
//
// An event of any other version is decoded the same way, in one pass, with
// data.object decoded into its view, whose few fields cost less to decode
// than stripe-go's whole type; rawObjectSpan then finds the object's bytes
// for Outcome.RawObject without decoding them again.
func (g *Gateway) parseEvent(payload []byte) (o *Outcome, err error) {
	defer func() {
		// Nothing below is known to panic; this keeps a bug in a decoder
		// (ours or stripe-go's) from taking the server down on a hostile
		// but correctly signed payload.
		if r := recover(); r != nil {
			o, err = nil, fmt.Errorf("%w: the event could not be decoded: %s", ErrInvalidPayload, redact.Limit(redact.Text(fmt.Sprint(r)), 200))
		}
	}()
	if spec := eventSpecForPayload(payload); spec != nil {
		var head eventHead
		var ok bool
		if isTypedVersion(payload) {
			head, o, ok = spec.full(payload)
		} else {
			head, o, ok = spec.viewFull(payload, g.shapeOf)
		}
		if ok {
			if err := g.checkEventHead(&head); err != nil {
				return nil, err
			}
			g.finish(o, &head)
			return o, nil
		}
	}
	return g.parseEventSlow(payload)
}

// parseEventSlow decodes the event with data.object kept raw, checks it,
// then decodes data.object as the event's type and version say.
func (g *Gateway) parseEventSlow(payload []byte) (*Outcome, error) {
	if len(bytes.TrimSpace(payload)) == 0 {
		return nil, fmt.Errorf("%w: the body is empty", ErrInvalidPayload)
	}
	var e rawEvent
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, fmt.Errorf("%w: the body is not a Stripe event: %s", ErrInvalidPayload, describeJSONError(err))
	}
	if err := g.checkEventHead(&e.eventHead); err != nil {
		return nil, err
	}
	raw := e.Data.Object
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("%w: event %s (%s) has no data.object", ErrInvalidPayload, e.ID, e.Type)
	}
	spec := eventSpecByType[e.Type]
	if spec == nil {
		o := &Outcome{Kind: Unhandled, RawObject: raw}
		g.finish(o, &e.eventHead)
		return o, nil
	}
	var o *Outcome
	var err error
	if e.APIVersion == wire.Typed {
		o, err = spec.typed(raw)
	} else {
		shape, _ := g.shapeOf(e.APIVersion) // checkEventHead accepted it
		o, err = spec.viewed(raw, shape)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: event %s (%s): %s", ErrInvalidPayload, e.ID, e.Type, err)
	}
	o.setPrevious(&e.Data.Previous)
	g.finish(o, &e.eventHead)
	return o, nil
}

// shapeOf returns the Shape of an API version the gateway reads, and
// whether it reads it. A version accepted with WithAcceptedAPIVersions is
// newer than every known one: it is read as the newest is.
func (g *Gateway) shapeOf(version string) (wire.Shape, bool) {
	if shape, ok := wire.ShapeOf(version); ok {
		return shape, true
	}
	return wire.Basil, g.opts.webhook.acceptsAPIVersion(version)
}

// finish fills the event fields of an Outcome, removes client secrets, and
// logs what the host should know of it.
func (g *Gateway) finish(o *Outcome, h *eventHead) {
	o.setEvent(h)
	o.dropClientSecrets()
	if c := o.orderConflict; c[0] != "" {
		g.logger.Warn("stripegateway: the checkout session's client_reference_id and order_id metadata name different orders; the payment is attributed to neither",
			"event_id", h.ID, "event_type", string(h.Type), "session_id", o.SessionID,
			"client_reference_id", redact.Limit(redact.Text(c[0]), 200), "metadata_order_id", redact.Limit(redact.Text(c[1]), 200))
	}
}

// eventSpecForPayload guesses the event's type from the payload's last
// "type" key (see parseEvent) and returns its spec, or nil. It is a hint,
// never trusted on its own, and costs no allocation.
func eventSpecForPayload(p []byte) *eventSpec {
	return eventSpecByType[stripe.EventType(stringAfterKey(p, bytes.LastIndex(p, []byte(`"type"`)), len(`"type"`)))]
}

// isTypedVersion reports whether the payload's first "api_version" key,
// which in Stripe's events is the event's own (see parseEvent), is
// 2023-10-16. It is a hint, never trusted on its own.
func isTypedVersion(p []byte) bool {
	return string(stringAfterKey(p, bytes.Index(p, []byte(`"api_version"`)), len(`"api_version"`))) == wire.Typed
}

// stringAfterKey returns the string value of the key of length n found at
// p[i:], or nil when i < 0 or the value is not a plain string. It costs no
// allocation.
func stringAfterKey(p []byte, i, n int) []byte {
	if i < 0 {
		return nil
	}
	rest := bytes.TrimLeft(p[i+n:], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return nil
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return nil
	}
	rest = rest[1:]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return nil
	}
	return rest[:end]
}

// checkEventHead checks that the envelope is an event of the gateway's mode
// and of an accepted API version.
func (g *Gateway) checkEventHead(h *eventHead) error {
	if h.Object != "event" || h.ID == "" || h.Type == "" {
		return fmt.Errorf("%w: the body is not a Stripe event (want \"object\": \"event\" with an id and a type)", ErrInvalidPayload)
	}
	if h.Livemode != g.livemode() {
		return fmt.Errorf("%w: event %s (%s) is a %s-mode event but the gateway's Mode is %q: the configured webhook secret belongs to a %s-mode endpoint; configure the %s-mode endpoint's signing secret, or send this endpoint's events to a %s-mode gateway",
			ErrLivemodeMismatch, h.ID, h.Type, modeOf(h.Livemode), g.mode, modeOf(h.Livemode), g.mode, modeOf(h.Livemode))
	}
	if !g.opts.webhook.acceptsAPIVersion(h.APIVersion) {
		got := h.APIVersion
		if got == "" {
			got = "none"
		}
		return fmt.Errorf("%w: event %s (%s) was rendered with API version %s, which this package does not know: it reads %s through %s. Fix: upgrade stripegateway, or create a webhook endpoint pinned to a known version such as %s (RegisterWebhookEndpoint does; an endpoint's version cannot be changed, so replace the endpoint), or, after testing your callbacks with events of that version, accept it with WithAcceptedAPIVersions(%q)",
			ErrAPIVersionMismatch, h.ID, h.Type, redact.Limit(redact.Text(got), 40), wire.APIVersions[0].Name, wire.Newest, stripe.APIVersion, redact.Limit(redact.Text(got), 40))
	}
	return nil
}

// describeJSONError describes a decoding error without quoting the payload.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Sprintf("a JSON %s where an object is expected", typ.Value)
		}
		return fmt.Sprintf("field %s is a JSON %s, not a %s", typ.Field, typ.Value, typ.Type)
	}
	return redact.Limit(redact.Text(err.Error()), 200)
}
