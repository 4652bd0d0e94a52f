package stripegatewaytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway/internal/money"
)

// This file builds the events of a simulated payment and delivers them,
// signed, to the webhook URL.

// eventSpec is one event to send about a session.
type eventSpec struct {
	typ    stripe.EventType
	amount int64 // minor units; the session's total if 0
	fail   *cardResult
	// Copies of the state the events after a payment report, taken when
	// the event was decided (renewals.go): the subscription, the invoice,
	// the dispute, the refund.
	sub     *simSub
	inv     *simInvoice
	dispute *simDispute
	refund  *simRefund
	// prev, when set, is the event's data.previous_attributes.
	prev map[string]any
}

// buildEvent makes one signed-ready event about a session, from this
// package's builders, with the session's real IDs.
func (s *Simulator) buildEvent(ss SimulatedSession, spec eventSpec) ([]byte, string, error) {
	amountMinor := spec.amount
	if amountMinor == 0 {
		amountMinor = ss.AmountTotal
	}
	amount, err := majorUnits(amountMinor, ss.Currency)
	if err != nil {
		return nil, "", err
	}
	ev := NewEvent(spec.typ, ss.OrderID, amount, ss.Currency)
	ev.ID = "evt_" + randomID(24)
	ev.Created = s.now()
	ev.Livemode = ss.Livemode
	ev.PaymentIntentID = ss.PaymentIntentID
	if ss.PaymentStatus == "no_payment_required" {
		ev.PaymentStatus = stripe.CheckoutSessionPaymentStatusNoPaymentRequired
	}
	if spec.typ == stripe.EventTypeCheckoutSessionCompleted && ss.CaptureMethod == "manual" {
		ev.DeferredCapture = true
	}
	if f := spec.fail; f != nil {
		ev.FailureCode, ev.DeclineCode, ev.FailureMessage = f.code, f.declineCode, f.message
	}
	switch spec.typ {
	case stripe.EventTypeCheckoutSessionCompleted, stripe.EventTypeCheckoutSessionExpired:
		if ss.Mode == "subscription" {
			ev.Mode = "subscription"
		}
	case stripe.EventTypeInvoicePaid, stripe.EventTypeInvoicePaymentSucceeded, stripe.EventTypeInvoicePaymentFailed:
		if inv := spec.inv; inv != nil {
			ev.BillingReason = inv.billingReason
			ev.PeriodStart, ev.PeriodEnd = inv.periodStart, inv.periodEnd
			ev.PaymentIntentID = inv.paymentIntentID
		}
	case stripe.EventTypeCustomerSubscriptionUpdated:
		if sub := spec.sub; sub != nil {
			ev.SubscriptionStatus = sub.status
			ev.PeriodStart, ev.PeriodEnd = sub.periodStart, sub.periodEnd
		}
	case stripe.EventTypeChargeDisputeCreated, stripe.EventTypeChargeDisputeClosed:
		if d := spec.dispute; d != nil {
			ev.DisputeStatus = d.status
		}
	case stripe.EventTypeChargeRefundUpdated:
		if r := spec.refund; r != nil {
			ev.RefundStatus, ev.FailureReason = r.status, r.failureReason
		}
	}
	payload, err := ev.JSON()
	if err != nil {
		return nil, "", err
	}
	// The builders make typical objects: give them this session's facts.
	payload, err = editEvent(payload, func(e *eventEdit) { s.setFacts(ss, spec, e) })
	if err != nil {
		return nil, "", err
	}
	return payload, ev.ID, nil
}

// setFacts writes the session's real IDs and state into an event.
func (s *Simulator) setFacts(ss SimulatedSession, spec eventSpec, e *eventEdit) {
	obj := e.Object
	if spec.prev != nil {
		e.Prev = spec.prev
	}
	switch spec.typ {
	case stripe.EventTypeCheckoutSessionCompleted, stripe.EventTypeCheckoutSessionExpired:
		setSessionFacts(obj, ss)
		obj["payment_intent"] = nil
		if ss.Mode == "payment" && ss.PaymentIntentID != "" && spec.typ == stripe.EventTypeCheckoutSessionCompleted {
			obj["payment_intent"] = ss.PaymentIntentID
		}
		if ss.Mode == "subscription" {
			obj["subscription"] = nilIfEmpty(ss.SubscriptionID)
			if spec.sub != nil && spec.inv != nil {
				obj["customer"] = spec.sub.customerID
				obj["invoice"] = spec.inv.id
			}
		}
	case stripe.EventTypeInvoicePaid, stripe.EventTypeInvoicePaymentSucceeded, stripe.EventTypeInvoicePaymentFailed:
		setInvoiceFacts(obj, ss, spec.sub, spec.inv)
	case stripe.EventTypeCustomerSubscriptionUpdated:
		setSubscriptionFacts(obj, spec.sub)
	case stripe.EventTypeChargeRefunded:
		s.setChargeFacts(obj, ss, spec.refund)
	case stripe.EventTypeChargeRefundUpdated:
		if r := spec.refund; r != nil {
			obj["id"], obj["created"] = r.id, r.created.Unix()
			obj["charge"], obj["payment_intent"] = nilIfEmpty(ss.ChargeID), nilIfEmpty(ss.PaymentIntentID)
		}
	case stripe.EventTypeChargeDisputeCreated, stripe.EventTypeChargeDisputeClosed:
		if d := spec.dispute; d != nil {
			obj["id"], obj["created"] = d.id, d.created.Unix()
			obj["charge"], obj["payment_intent"] = nilIfEmpty(ss.ChargeID), nilIfEmpty(ss.PaymentIntentID)
			if ed, ok := obj["evidence_details"].(map[string]any); ok {
				ed["due_by"] = d.created.Add(7 * 24 * time.Hour).Unix()
			}
		}
	default: // payment_intent.*
		s.mu.Lock()
		if pi := s.intents[ss.PaymentIntentID]; pi != nil {
			obj["metadata"] = copyStrings(pi.metadata)
			obj["capture_method"] = pi.captureMethod
			obj["created"] = pi.created.Unix()
			if pi.paymentMethodID != "" {
				obj["payment_method"] = pi.paymentMethodID
			}
			if spec.typ == stripe.EventTypePaymentIntentCanceled {
				obj["cancellation_reason"] = "requested_by_customer"
			}
		}
		s.mu.Unlock()
	}
}

// majorUnits converts minor units to the major unit with the gateway's
// currency table.
func majorUnits(minor int64, cur string) (decimal.Decimal, error) {
	c, err := money.Lookup(cur)
	if err != nil {
		return decimal.Decimal{}, err
	}
	return c.FromMinor(minor), nil
}

// eventEdit is an event being edited: its type, its data.object and its
// data.previous_attributes (nil for none). Numbers are json.Number.
type eventEdit struct {
	Type   string
	Object map[string]any
	Prev   map[string]any
}

// editEvent decodes an event, lets edit change it, and encodes it again,
// keeping the envelope's key order.
func editEvent(payload []byte, edit func(*eventEdit)) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("stripegatewaytest: event is not a JSON object")
	}
	var keys []string
	vals := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		keys = append(keys, k)
		vals[k] = v
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(vals["data"], &data); err != nil {
		return nil, err
	}
	e := &eventEdit{}
	if err := json.Unmarshal(vals["type"], &e.Type); err != nil {
		return nil, err
	}
	if err := decodeNumbers(data["object"], &e.Object); err != nil {
		return nil, err
	}
	if p, ok := data["previous_attributes"]; ok {
		if err := decodeNumbers(p, &e.Prev); err != nil {
			return nil, err
		}
	}
	edit(e)
	var err error
	if vals["type"], err = json.Marshal(e.Type); err != nil {
		return nil, err
	}
	if data["object"], err = json.Marshal(e.Object); err != nil {
		return nil, err
	}
	delete(data, "previous_attributes")
	if e.Prev != nil {
		if data["previous_attributes"], err = json.Marshal(e.Prev); err != nil {
			return nil, err
		}
	}
	if vals["data"], err = json.Marshal(data); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vals[k])
	}
	buf.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// decodeNumbers decodes JSON keeping numbers as json.Number, so that
// integers come back as written.
func decodeNumbers(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// deliver builds, signs and POSTs the events, in order, and waits for the
// answers.
func (s *Simulator) deliver(ctx context.Context, ss SimulatedSession, specs []eventSpec) {
	for _, spec := range specs {
		d := WebhookDelivery{EventType: spec.typ, SessionID: ss.ID, OrderID: ss.OrderID, At: s.now()}
		payload, id, err := s.buildEvent(ss, spec)
		d.EventID = id
		if err != nil {
			d.Err = "building the event: " + err.Error()
		} else {
			// Recorded first, as Stripe creates the event before sending
			// it: a delivery that fails loses nothing.
			s.recordEvent(ss, spec.typ, id, payload)
			if s.EndpointUnreachable() {
				d.Err = errUnreachable
			} else {
				s.post(ctx, payload, &d)
			}
			s.eventDelivered(id, d.Err == "" && d.StatusCode >= 200 && d.StatusCode < 300)
		}
		level := slog.LevelInfo
		if d.Err != "" {
			level = slog.LevelWarn
		}
		s.logger.Log(ctx, level, "stripegatewaytest: simulator delivered webhook event",
			"event_id", d.EventID, "type", string(d.EventType), "session_id", d.SessionID, "order_id", d.OrderID,
			"status", d.StatusCode, "attempts", d.Attempts, "error", d.Err)
		s.mu.Lock()
		s.deliveries = append(s.deliveries, d)
		s.mu.Unlock()
	}
}

// errUnreachable is the error of a delivery made while the endpoint is
// unreachable.
const errUnreachable = "the webhook endpoint is unreachable (the store is down): nothing was sent"

// SetEndpointUnreachable makes every webhook delivery fail, from now until
// it is called with false, as if the store were down: no request is sent,
// and each delivery is reported (Deliveries, the overview page) with no
// answer, no attempt and an error saying so. The events are recorded all
// the same: GET /v1/events lists them, with delivery_success=false, so
// that the store can recover them once it is reachable again
// (stripegateway's RecoverEvents). Like a store that was down longer than
// Stripe's three days of retries, they are not sent again by themselves.
// A test can also stop the store's own server instead: deliveries then
// fail after their retries, and are recorded the same way.
func (s *Simulator) SetEndpointUnreachable(unreachable bool) {
	s.mu.Lock()
	s.unreachable = unreachable
	s.mu.Unlock()
	s.logger.Info("stripegatewaytest: simulator webhook endpoint reachability changed", "unreachable", unreachable)
}

// EndpointUnreachable reports whether SetEndpointUnreachable is on.
func (s *Simulator) EndpointUnreachable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unreachable
}

// deliverLater delivers in the background, for events caused by API calls
// (Stripe sends those after answering). Once the Simulator is closed the
// events are only recorded, for GET /v1/events.
func (s *Simulator) deliverLater(ss SimulatedSession, specs []eventSpec) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		for _, spec := range specs {
			if payload, id, err := s.buildEvent(ss, spec); err == nil {
				s.recordEvent(ss, spec.typ, id, payload)
			}
		}
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s.deliver(ctx, ss, specs)
	}()
}

func (s *Simulator) post(ctx context.Context, payload []byte, d *WebhookDelivery) {
	backoff := []time.Duration{0, 200 * time.Millisecond, time.Second}
	for _, wait := range backoff {
		if wait > 0 {
			select {
			case <-ctx.Done():
				d.Err = ctx.Err().Error()
				return
			case <-time.After(wait):
			}
		}
		d.Attempts++
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(payload))
		if err != nil {
			d.Err = err.Error()
			return
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
		req.Header.Set("Stripe-Signature", SignatureHeader(payload, s.cfg.WebhookSecret, At(s.now())))
		resp, err := s.client.Do(req)
		if err != nil {
			d.StatusCode, d.Err = 0, err.Error()
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		d.StatusCode = resp.StatusCode
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			d.Err = ""
			return
		case resp.StatusCode == http.StatusConflict || resp.StatusCode >= 500:
			d.Err = "the endpoint answered " + resp.Status
		default:
			d.Err = "the endpoint answered " + resp.Status
			return
		}
	}
}
