package stripegatewaytest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
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
	// CardInsufficientFunds is declined with card_declined /
	// insufficient_funds.
	CardInsufficientFunds = "4000000000009995"
	// CardExpired is declined with expired_card, whatever the expiry.
	CardExpired = "4000000000000069"
	// CardIncorrectCVC is declined with incorrect_cvc, whatever the CVC.
	CardIncorrectCVC = "4000000000000127"
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
// https://docs.stripe.com/testing: the successful cards, the declines of
// "Declined payments" and the 3-D Secure cards. Stripe declines them
// whatever valid expiry, CVC and name go with them.
var testCards = map[string]cardResult{
	CardSucceeds:          {outcome: "succeed"},
	"4000056655665556":    {outcome: "succeed"}, // Visa (debit)
	"5555555555554444":    {outcome: "succeed"}, // Mastercard
	"378282246310005":     {outcome: "succeed"}, // American Express
	CardDeclined:          {outcome: "decline", code: "card_declined", declineCode: "generic_decline", message: msgDeclined},
	CardInsufficientFunds: {outcome: "decline", code: "card_declined", declineCode: "insufficient_funds", message: "Your card has insufficient funds."},
	"4000000000009987":    {outcome: "decline", code: "card_declined", declineCode: "lost_card", message: msgDeclined},
	"4000000000009979":    {outcome: "decline", code: "card_declined", declineCode: "stolen_card", message: msgDeclined},
	"4000000000006975":    {outcome: "decline", code: "card_declined", declineCode: "card_velocity_exceeded", message: "Your card was declined for making repeated attempts too frequently or exceeding its amount limit."},
	CardExpired:           {outcome: "decline", code: "expired_card", message: "Your card has expired."},
	CardIncorrectCVC:      {outcome: "decline", code: "incorrect_cvc", message: "Your card's security code is incorrect."},
	"4000000000000119":    {outcome: "decline", code: "processing_error", message: "An error occurred while processing your card. Try again in a little bit."},
	CardThreeDSecure:      {outcome: "3ds"},
	"4000002760003184":    {outcome: "3ds"},
}

// classifyCard says what a card number that passed validateCard does.
func classifyCard(number string) cardResult {
	digits, _ := cardDigits(number)
	if c, ok := testCards[digits]; ok {
		return c
	}
	return cardResult{outcome: "invalid", message: "Your card was declined. Your request was in test mode, but used a non test card. For a list of valid test cards, visit: https://stripe.com/docs/testing."}
}

// cardDigits returns the digits of a card number as typed, without the
// spaces and dashes that group them; ok is false if anything else is in it.
func cardDigits(number string) (digits string, ok bool) {
	ok = true
	digits = strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9':
			return r
		case r == ' ' || r == '-':
			return -1
		}
		ok = false
		return -1
	}, number)
	return digits, ok
}

// isAmex reports whether a card number is American Express's, which has
// 15 digits and a 4-digit security code.
func isAmex(digits string) bool {
	return strings.HasPrefix(digits, "34") || strings.HasPrefix(digits, "37")
}

// cardLength is how many digits a card number of the brand has.
func cardLength(digits string) int {
	switch {
	case isAmex(digits):
		return 15
	case strings.HasPrefix(digits, "36"), len(digits) >= 3 && digits[:2] == "30" && digits[2] <= '5':
		return 14 // Diners Club
	}
	return 16
}

// groupCard shows a card number as Stripe's field does, in groups of four
// digits (4-6-5 for American Express). A value with anything but digits,
// spaces and dashes is left as typed.
func groupCard(number string) string {
	digits, ok := cardDigits(number)
	if !ok || len(digits) > 19 {
		return number
	}
	groups := []int{4, 4, 4, 4, 3}
	if isAmex(digits) {
		groups = []int{4, 6, 5}
	}
	var b strings.Builder
	for _, n := range groups {
		if digits == "" {
			break
		}
		n = min(n, len(digits))
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(digits[:n])
		digits = digits[n:]
	}
	b.WriteString(digits)
	return b.String()
}

// cardForm is what the customer typed on the payment page.
type cardForm struct {
	Number, Expiry, CVC, Name string
}

// cardErrors are the messages the payment page shows beside its fields,
// Stripe's own; empty where the field is valid.
type cardErrors struct {
	Number, Expiry, CVC, Name string
}

func (e cardErrors) any() bool { return e != cardErrors{} }

// first is the ID of the first field with an error, which gets the focus.
func (e cardErrors) first() string {
	switch {
	case e.Number != "":
		return "cardNumber"
	case e.Expiry != "":
		return "cardExpiry"
	case e.CVC != "":
		return "cardCvc"
	case e.Name != "":
		return "billingName"
	}
	return ""
}

// Stripe's messages for what its card fields refuse, as Stripe.js and
// Checkout show them.
const (
	msgNumberIncomplete = "Your card number is incomplete."
	msgNumberInvalid    = "Your card number is invalid."
	msgExpiryIncomplete = "Your card's expiration date is incomplete."
	msgExpiryInvalid    = "Your card's expiration date is invalid."
	msgExpiryPast       = "Your card's expiration date is in the past."
	msgExpiryYearPast   = "Your card's expiration year is in the past."
	msgExpiryYear       = "Your card's expiration year is invalid."
	msgExpiryMonth      = "Your card's expiration month is invalid."
	msgCVCIncomplete    = "Your card's security code is incomplete."
	msgCVCInvalid       = "Your card's security code is invalid."
	msgRequired         = "Required"
)

// defaultExpiry is the expiry the page starts with, December eight years
// ahead ("12 / 34" in 2026).
func defaultExpiry(now time.Time) string {
	return fmt.Sprintf("12 / %02d", (now.Year()+8)%100)
}

// readCardForm reads the payment form. A field missing from the form
// altogether (a test that posts only cardNumber) takes the page's valid
// default; a field sent empty is validated as empty.
func readCardForm(form url.Values, now time.Time) cardForm {
	f := cardForm{Number: form.Get("cardNumber")}
	get := func(name, def string) string {
		if _, ok := form[name]; !ok {
			return def
		}
		return form.Get(name)
	}
	cvc := "123"
	if d, _ := cardDigits(f.Number); isAmex(d) {
		cvc = "1234"
	}
	f.Expiry = get("cardExpiry", defaultExpiry(now))
	f.CVC = get("cardCvc", cvc)
	f.Name = get("billingName", "Jenny Rosen")
	return f
}

// validateCard checks the form as Stripe's card fields do before anything
// is sent: a complete, valid number, an expiry that is not in the past, a
// security code of the brand's length and a name.
func validateCard(f cardForm, now time.Time) cardErrors {
	var e cardErrors
	digits, ok := cardDigits(f.Number)
	switch {
	case strings.TrimSpace(f.Number) == "":
		e.Number = msgNumberIncomplete
	case !ok || len(digits) > 19:
		e.Number = msgNumberInvalid
	case len(digits) < cardLength(digits):
		e.Number = msgNumberIncomplete
	case !redact.Luhn(digits):
		e.Number = msgNumberInvalid
	}
	e.Expiry = validateExpiry(f.Expiry, now)
	need := 3
	if isAmex(digits) {
		need = 4
	}
	cvc := strings.TrimSpace(f.CVC)
	switch {
	case cvc == "":
		e.CVC = msgCVCIncomplete
	case strings.Trim(cvc, "0123456789") != "" || len(cvc) > need:
		e.CVC = msgCVCInvalid
	case len(cvc) < need:
		e.CVC = msgCVCIncomplete
	}
	if strings.TrimSpace(f.Name) == "" {
		e.Name = msgRequired
	}
	return e
}

// validateExpiry checks an expiry typed as "MM / YY" (or MM/YY, MMYY,
// MM / YYYY). A card is valid to the end of its expiry month.
func validateExpiry(expiry string, now time.Time) string {
	s := strings.ReplaceAll(expiry, " ", "")
	if s == "" {
		return msgExpiryIncomplete
	}
	month, year, found := strings.Cut(s, "/")
	if !found {
		if len(s) < 4 {
			return msgExpiryIncomplete
		}
		month, year = s[:2], s[2:]
	}
	if strings.Trim(month+year, "0123456789") != "" || len(month) > 2 || len(year) > 4 {
		return msgExpiryInvalid
	}
	if month == "" || (len(year) != 2 && len(year) != 4) {
		return msgExpiryIncomplete
	}
	m, _ := strconv.Atoi(month)
	y, _ := strconv.Atoi(year)
	if len(year) == 2 {
		y += now.Year() / 100 * 100
	}
	switch {
	case m < 1 || m > 12:
		return msgExpiryMonth
	case y < now.Year():
		return msgExpiryYearPast
	case y == now.Year() && m < int(now.Month()):
		return msgExpiryPast
	case y > now.Year()+50:
		return msgExpiryYear
	}
	return ""
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
	d := s.page(s.snapshot(ss), step, ss.lastError, s.blankForm())
	s.mu.Unlock()
	s.render(w, http.StatusOK, "checkout", d)
}

// blankForm is the card form as the page first shows it: a valid expiry,
// CVC and name are filled in, so that a test card is all there is to type.
func (s *Simulator) blankForm() cardForm {
	return cardForm{Expiry: defaultExpiry(s.now()), CVC: "123", Name: "Jenny Rosen"}
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

// pagePay takes the card form. Fields Stripe's card form would refuse
// (validateCard) are refused on the page, beside each field, with what was
// typed kept and nothing sent; a valid card then succeeds, is declined or
// asks for 3-D Secure, as its test card does.
func (s *Simulator) pagePay(w http.ResponseWriter, r *http.Request) {
	s.pageStep(w, r, func(ss *simSession, form url.Values) stepResult {
		typed := readCardForm(form, s.now())
		res := stepResult{form: &typed}
		if ss.threeDS {
			// A second submit, or a stale form: show the current state.
			return res
		}
		if errs := validateCard(typed, s.now()); errs.any() {
			d := s.page(s.snapshot(ss), "card", "", typed)
			d.Errors, d.Focus = errs, errs.first()
			res.refused = &d
			return res
		}
		res.ok = true
		switch c := classifyCard(typed.Number); c.outcome {
		case "succeed":
			res.events = s.succeed(ss)
		case "decline":
			res.events = s.fail(ss, c)
		case "3ds":
			ss.threeDS = true
			ss.lastError = ""
			s.intentFor(ss).status = "requires_action"
		default:
			ss.lastError = c.message
		}
		return res
	})
}

// pageAuthenticate takes the 3-D Secure step's "Complete" or "Fail".
func (s *Simulator) pageAuthenticate(w http.ResponseWriter, r *http.Request) {
	s.pageStep(w, r, func(ss *simSession, form url.Values) stepResult {
		action := form.Get("action")
		if !ss.threeDS || (action != "complete" && action != "fail") {
			return stepResult{}
		}
		if action == "complete" {
			return stepResult{ok: true, events: s.succeed(ss)}
		}
		return stepResult{ok: true, events: s.fail(ss, cardResult{outcome: "decline", code: "payment_intent_authentication_failure", message: msgAuthentication})}
	})
}

// stepResult is what a form of the payment page did to its session.
type stepResult struct {
	// ok is false when the form does not fit the session's state (a
	// second submit, a stale form): the page shows the current state.
	ok bool
	// events are the events to send.
	events []eventSpec
	// form is the card form as typed, shown again on the page.
	form *cardForm
	// refused is the page that refuses the form, with nothing changed.
	refused *pageData
}

// pageStep handles a form of the payment page: with s.mu held, it runs
// step on the session of the path if it is open. Then it shows the page
// that refuses the form, or sends the events and shows the result
// (afterPayment).
func (s *Simulator) pageStep(w http.ResponseWriter, r *http.Request, step func(ss *simSession, form url.Values) stepResult) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	ss, ok := s.lockSession(w, r)
	if !ok {
		return
	}
	var res stepResult
	if ss.Status == "open" {
		res = step(ss, r.PostForm)
	}
	snap := s.snapshot(ss)
	s.mu.Unlock()
	if res.refused != nil {
		s.render(w, http.StatusPaymentRequired, "checkout", *res.refused)
		return
	}
	form := s.blankForm()
	if res.form != nil {
		form = *res.form
	}
	var send func(context.Context)
	if res.ok {
		send = func(ctx context.Context) { s.deliver(ctx, snap, res.events) }
	}
	s.afterPayment(w, r, snap.ID, form, send)
}

// afterPayment sends the events (before answering, so that the store has
// them when the browser arrives), then redirects a completed session to its
// success URL or shows the page again, with the card form as typed.
func (s *Simulator) afterPayment(w http.ResponseWriter, r *http.Request, id string, form cardForm, send func(context.Context)) {
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
		s.render(w, http.StatusOK, "checkout", s.page(snap, "complete", "", form))
	case snap.Status == "expired":
		s.render(w, http.StatusOK, "checkout", s.page(snap, "expired", "", form))
	case threeDS:
		s.render(w, http.StatusOK, "checkout", s.page(snap, "3ds", "", form))
	default:
		status := http.StatusOK
		if lastError != "" {
			status = http.StatusPaymentRequired
		}
		s.render(w, status, "checkout", s.page(snap, "card", lastError, form))
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
