package stripegatewaytest

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway/internal/redact"
)

// This file is the hosted checkout's payment handling: the test cards, the
// card form and 3-D Secure step of the payment page, and what each result
// does to the session and its PaymentIntent.

// Test card numbers the Simulator's payment page accepts, from Stripe's
// testing documentation (https://docs.stripe.com/testing).
const (
	// CardSucceeds is paid at once.
	CardSucceeds = "4242424242424242"
	// CardDeclined is declined with card_declined / generic_decline.
	CardDeclined = "4000000000000002"
	// CardThreeDSecure asks for 3-D Secure authentication: the page shows
	// the step with "Complete" and "Fail".
	CardThreeDSecure = "4000002500003155"
)

// cardResult is what a test card does.
type cardResult struct {
	outcome     string // "succeed", "decline", "3ds", "invalid"
	code        string
	declineCode string
	message     string
}

// Stripe's messages, as its API and Checkout show them.
const (
	msgDeclined       = "Your card was declined."
	msgAuthentication = "We are unable to authenticate your payment method. Please choose a different payment method and try again."
)

// testCards are the cards the payment page takes, from
// https://docs.stripe.com/testing.
var testCards = map[string]cardResult{
	CardSucceeds:       {outcome: "succeed"},
	"4000056655665556": {outcome: "succeed"}, // Visa (debit)
	"5555555555554444": {outcome: "succeed"}, // Mastercard
	"378282246310005":  {outcome: "succeed"}, // American Express
	CardDeclined:       {outcome: "decline", code: "card_declined", declineCode: "generic_decline", message: msgDeclined},
	"4000000000009995": {outcome: "decline", code: "card_declined", declineCode: "insufficient_funds", message: "Your card has insufficient funds."},
	"4000000000009987": {outcome: "decline", code: "card_declined", declineCode: "lost_card", message: msgDeclined},
	"4000000000000069": {outcome: "decline", code: "expired_card", declineCode: "", message: "Your card has expired."},
	"4000000000000127": {outcome: "decline", code: "incorrect_cvc", declineCode: "", message: "Your card's security code is incorrect."},
	CardThreeDSecure:   {outcome: "3ds"},
	"4000002760003184": {outcome: "3ds"},
}

func classifyCard(number string) cardResult {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		if r == ' ' || r == '-' {
			return -1
		}
		return 'x'
	}, number)
	if c, ok := testCards[digits]; ok {
		return c
	}
	if len(digits) < 12 || len(digits) > 19 || strings.Contains(digits, "x") || !redact.Luhn(digits) {
		return cardResult{outcome: "invalid", message: "Your card number is invalid."}
	}
	return cardResult{outcome: "invalid", message: "Your card was declined. Your request was in test mode, but used a non test card. For a list of valid test cards, visit: https://stripe.com/docs/testing."}
}

// pageCheckout shows the payment page.
func (s *Simulator) pageCheckout(w http.ResponseWriter, r *http.Request) {
	ss, ok := s.lockSession(w, r)
	if !ok {
		return
	}
	step := "card"
	switch {
	case ss.Status == "complete":
		step = "complete"
	case ss.Status == "expired":
		step = "expired"
	case ss.threeDS:
		step = "3ds"
	}
	d := s.page(s.snapshot(ss), step, ss.lastError, "")
	s.mu.Unlock()
	s.render(w, http.StatusOK, "checkout", d)
}

// lockSession locks s.mu and returns the session of the page's path,
// expired if it is past its expiry. When there is none, it unlocks s.mu,
// shows the page "not found" and returns false.
func (s *Simulator) lockSession(w http.ResponseWriter, r *http.Request) (*simSession, bool) {
	s.mu.Lock()
	ss, ok := s.sessions[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		s.notFound(w)
		return nil, false
	}
	s.expireIfDue(ss)
	return ss, true
}

// expireIfDue expires an open session past its expiry; s.mu must be held.
func (s *Simulator) expireIfDue(ss *simSession) {
	if ss.Status == "open" && !s.now().Before(ss.ExpiresAt) {
		ss.Status = "expired"
		ss.threeDS = false
	}
}

// pagePay takes the card form.
func (s *Simulator) pagePay(w http.ResponseWriter, r *http.Request) {
	s.pageStep(w, r, "cardNumber", func(ss *simSession, card string) ([]eventSpec, bool) {
		if ss.threeDS {
			// A second submit, or a stale form: show the current state.
			return nil, false
		}
		c := classifyCard(card)
		var events []eventSpec
		switch c.outcome {
		case "succeed":
			events = s.succeed(ss)
		case "decline":
			events = s.fail(ss, c)
		case "3ds":
			ss.threeDS = true
			ss.lastError = ""
			s.intentFor(ss).status = "requires_action"
		default:
			ss.lastError = c.message
		}
		return events, true
	})
}

// pageAuthenticate takes the 3-D Secure step's "Complete" or "Fail".
func (s *Simulator) pageAuthenticate(w http.ResponseWriter, r *http.Request) {
	s.pageStep(w, r, "action", func(ss *simSession, action string) ([]eventSpec, bool) {
		if !ss.threeDS || (action != "complete" && action != "fail") {
			return nil, false
		}
		if action == "complete" {
			return s.succeed(ss), true
		}
		return s.fail(ss, cardResult{outcome: "decline", code: "payment_intent_authentication_failure", message: msgAuthentication}), true
	})
}

// pageStep handles a form of the payment page: it reads the form's field
// and, with s.mu held, runs step on the session of the path if it is open.
// step changes the session and returns the events to send, or false when
// the form does not fit the session's state (a second submit, a stale
// form). Then it sends the events and shows the result (afterPayment).
func (s *Simulator) pageStep(w http.ResponseWriter, r *http.Request, field string, step func(ss *simSession, value string) ([]eventSpec, bool)) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	value := r.PostForm.Get(field)
	ss, ok := s.lockSession(w, r)
	if !ok {
		return
	}
	var events []eventSpec
	if ok = ss.Status == "open"; ok {
		events, ok = step(ss, value)
	}
	if !ok {
		s.mu.Unlock()
		s.afterPayment(w, r, ss.ID, nil)
		return
	}
	snap := s.snapshot(ss)
	s.mu.Unlock()
	s.afterPayment(w, r, snap.ID, func(ctx context.Context) { s.deliver(ctx, snap, events) })
}

// afterPayment sends the events (before answering, so that the store has
// them when the browser arrives), then redirects a completed session to its
// success URL or shows the page again.
func (s *Simulator) afterPayment(w http.ResponseWriter, r *http.Request, id string, send func(context.Context)) {
	if send != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
		send(ctx)
		cancel()
	}
	s.mu.Lock()
	ss := s.sessions[id]
	snap := s.snapshot(ss)
	threeDS, lastError := ss.threeDS, ss.lastError
	s.mu.Unlock()
	switch {
	case snap.Status == "complete" && snap.SuccessURL != "":
		http.Redirect(w, r, strings.ReplaceAll(snap.SuccessURL, "{CHECKOUT_SESSION_ID}", snap.ID), http.StatusSeeOther)
	case snap.Status == "complete":
		s.render(w, http.StatusOK, "checkout", s.page(snap, "complete", "", ""))
	case snap.Status == "expired":
		s.render(w, http.StatusOK, "checkout", s.page(snap, "expired", "", ""))
	case threeDS:
		s.render(w, http.StatusOK, "checkout", s.page(snap, "3ds", "", ""))
	default:
		status := http.StatusOK
		if lastError != "" {
			status = http.StatusPaymentRequired
		}
		s.render(w, status, "checkout", s.page(snap, "card", lastError, ""))
	}
}

// intentFor returns the session's PaymentIntent, creating it on the first
// attempt to pay; s.mu must be held.
func (s *Simulator) intentFor(ss *simSession) *simIntent {
	if pi := s.intents[ss.PaymentIntentID]; pi != nil {
		return pi
	}
	id := "pi_3" + randomID(24)
	pi := &simIntent{
		id:            id,
		status:        "requires_payment_method",
		amount:        ss.AmountTotal,
		currency:      ss.Currency,
		captureMethod: ss.CaptureMethod,
		metadata:      copyStrings(ss.piMetadata),
		livemode:      ss.Livemode,
		created:       s.now(),
		secret:        id + "_secret_" + randomID(25),
	}
	s.intents[id] = pi
	ss.PaymentIntentID = id
	return pi
}

// succeed completes a session paid with a card; s.mu must be held. It
// returns the events to send.
func (s *Simulator) succeed(ss *simSession) []eventSpec {
	ss.threeDS = false
	ss.lastError = ""
	ss.Status = "complete"
	if ss.AmountTotal == 0 {
		ss.PaymentStatus = "no_payment_required"
		return []eventSpec{{typ: stripe.EventTypeCheckoutSessionCompleted}}
	}
	pi := s.intentFor(ss)
	pi.lastError = nil
	pi.paymentMethodID = "pm_1" + randomID(24)
	pi.chargeID = "ch_3" + randomID(24)
	if ss.Mode == "subscription" {
		// The session's subscription starts, and its first invoice is
		// paid: Stripe reports both.
		ss.SubscriptionID = "sub_1" + randomID(24)
		ss.PaymentStatus = "paid"
		pi.status, pi.amountReceived = "succeeded", pi.amount
		invoice := s.startSubscription(ss, pi)
		return append([]eventSpec{{typ: stripe.EventTypeCheckoutSessionCompleted, sub: invoice[0].sub, inv: invoice[0].inv}}, invoice...)
	}
	if ss.CaptureMethod == "manual" {
		ss.PaymentStatus = "unpaid"
		pi.status, pi.amountCapturable = "requires_capture", pi.amount
		return []eventSpec{
			{typ: stripe.EventTypeCheckoutSessionCompleted},
			{typ: stripe.EventTypePaymentIntentAmountCapturableUpdated},
		}
	}
	ss.PaymentStatus = "paid"
	pi.status, pi.amountReceived = "succeeded", pi.amount
	return []eventSpec{
		{typ: stripe.EventTypeCheckoutSessionCompleted},
		{typ: stripe.EventTypePaymentIntentSucceeded},
	}
}

// fail records a failed attempt; s.mu must be held.
func (s *Simulator) fail(ss *simSession, c cardResult) []eventSpec {
	ss.threeDS = false
	ss.lastError = c.message
	pi := s.intentFor(ss)
	pi.status = "requires_payment_method"
	pi.paymentMethodID = ""
	pi.chargeID = "ch_3" + randomID(24)
	cc := c
	pi.lastError = &cc
	return []eventSpec{{typ: stripe.EventTypePaymentIntentPaymentFailed, fail: &cc}}
}
