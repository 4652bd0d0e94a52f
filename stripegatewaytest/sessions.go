package stripegatewaytest

import (
	"time"

	"github.com/stripe/stripe-go/v76"
)

// This file holds the state the Simulator records: sessions, PaymentIntents
// and webhook deliveries, and the accessors that copy it out.

// SimulatedSession is the recorded state of a Checkout Session created
// through a Simulator. Amounts are in the currency's minor unit, as in
// Stripe's API.
type SimulatedSession struct {
	ID string
	// OrderID is the session's client_reference_id.
	OrderID string
	// Mode is "payment" or "subscription".
	Mode string
	// CaptureMethod is "automatic", or "manual" for a deferred capture.
	CaptureMethod string
	Currency      string
	Lines         []SimulatedLine
	AmountTotal   int64
	Metadata      map[string]string
	SuccessURL    string
	CancelURL     string
	CustomerEmail string
	Livemode      bool
	// Status is "open", "complete" or "expired".
	Status string
	// PaymentStatus is "unpaid", "paid" or "no_payment_required".
	PaymentStatus string
	// PaymentIntentID is empty until the customer first tries to pay, as
	// with Stripe (and stays empty for a subscription).
	PaymentIntentID string
	// PaymentIntentStatus is the PaymentIntent's status, if there is one.
	PaymentIntentStatus string
	SubscriptionID      string
	// ChargeID is the charge of the session's payment (of its first
	// invoice, for a subscription); empty until it is paid.
	ChargeID string
	// SubscriptionStatus is the status of a paid subscription session's
	// subscription: "active", or "past_due" after FailRenewal.
	// CurrentPeriodStart and CurrentPeriodEnd are its current period, and
	// LatestInvoiceID its last invoice (see Renew).
	SubscriptionStatus string
	CurrentPeriodStart time.Time
	CurrentPeriodEnd   time.Time
	LatestInvoiceID    string
	// RefundID and RefundStatus are those of the session's refund
	// ("succeeded", or "failed" after FailRefund); empty if none.
	RefundID     string
	RefundStatus string
	// DisputeID and DisputeStatus are those of the session's dispute
	// ("needs_response", then "won" or "lost"); empty if none.
	DisputeID     string
	DisputeStatus string
	Created       time.Time
	ExpiresAt     time.Time
	// URL is the payment page; empty once the session is complete or
	// expired.
	URL string
}

// SimulatedLine is one line of a SimulatedSession.
type SimulatedLine struct {
	Name        string
	Description string
	// PriceID is set for a line given as an existing Price.
	PriceID     string
	UnitAmount  int64
	Quantity    int64
	AmountTotal int64
	// Interval and IntervalCount are set for a recurring price.
	Interval      string
	IntervalCount int64
}

// WebhookDelivery is one event the Simulator sent to the webhook URL.
type WebhookDelivery struct {
	EventID   string
	EventType stripe.EventType
	SessionID string
	OrderID   string
	At        time.Time
	// Attempts is how many POSTs were made: a delivery answered with a
	// network error, 409 or 5xx is tried again, up to three times. None
	// are made while the endpoint is unreachable (SetEndpointUnreachable).
	Attempts int
	// StatusCode is the endpoint's last answer; 0 if none.
	StatusCode int
	// Err says why the delivery failed; empty if it got a 2xx answer.
	Err string
}

type simSession struct {
	SimulatedSession
	// threeDS is set while the 3-D Secure step is shown.
	threeDS bool
	// lastError is the last decline, shown on the page.
	lastError string
	// piMetadata is the metadata of the session's PaymentIntent (or
	// Subscription).
	piMetadata map[string]string
	// After the payment (renewals.go): the subscription, the refund and
	// the dispute.
	sub     *simSub
	refund  *simRefund
	dispute *simDispute
}

type simIntent struct {
	id               string
	status           string
	amount           int64
	amountCapturable int64
	amountReceived   int64
	currency         string
	captureMethod    string
	metadata         map[string]string
	livemode         bool
	created          time.Time
	lastError        *cardResult
	chargeID         string
	paymentMethodID  string
	canceledAt       time.Time
	secret           string
}

type idemEntry struct {
	fingerprint string
	status      int // 0 while the first request runs
	body        []byte
}

// Session returns the recorded state of a session.
func (s *Simulator) Session(id string) (SimulatedSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[id]
	if !ok {
		return SimulatedSession{}, false
	}
	return s.snapshot(ss), true
}

// Sessions returns every recorded session, oldest first.
func (s *Simulator) Sessions() []SimulatedSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SimulatedSession, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.snapshot(s.sessions[id]))
	}
	return out
}

// Deliveries returns the webhook deliveries made so far, oldest first.
func (s *Simulator) Deliveries() []WebhookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]WebhookDelivery(nil), s.deliveries...)
}

// snapshot copies a session's state; s.mu must be held.
func (s *Simulator) snapshot(ss *simSession) SimulatedSession {
	out := ss.SimulatedSession
	out.Lines = append([]SimulatedLine(nil), ss.Lines...)
	out.Metadata = copyStrings(ss.Metadata)
	if pi := s.intents[ss.PaymentIntentID]; pi != nil {
		out.PaymentIntentStatus = pi.status
		if pi.status == "succeeded" {
			out.ChargeID = pi.chargeID
		}
	}
	if sub := ss.sub; sub != nil {
		out.SubscriptionStatus = sub.status
		out.CurrentPeriodStart, out.CurrentPeriodEnd = sub.periodStart, sub.periodEnd
		out.LatestInvoiceID = sub.latestInvoice
	}
	if r := ss.refund; r != nil {
		out.RefundID, out.RefundStatus = r.id, r.status
	}
	if d := ss.dispute; d != nil {
		out.DisputeID, out.DisputeStatus = d.id, d.status
	}
	if ss.Status == "open" {
		out.URL = s.CheckoutURL(ss.ID)
	}
	return out
}

func copyStrings(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
