package stripegatewaytest_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// cardPage is what the payment page shows of its card form.
type cardPage struct {
	raw string
}

// input returns the tag of the input with the given ID.
func (p cardPage) input(t *testing.T, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<input [^>]*id="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(p.raw)
	require.NotEmpty(t, m, "no input #%s on the page", id)
	return m
}

// attr returns an attribute of the input with the given ID, and whether it
// is there.
func (p cardPage) attr(t *testing.T, id, name string) (string, bool) {
	t.Helper()
	tag := p.input(t, id)
	if m := regexp.MustCompile(`\s` + name + `="([^"]*)"`).FindStringSubmatch(tag); m != nil {
		return html.UnescapeString(m[1]), true
	}
	return "", regexp.MustCompile(`\s` + name + `[\s>]`).MatchString(tag)
}

func (p cardPage) value(t *testing.T, id string) string {
	t.Helper()
	v, _ := p.attr(t, id, "value")
	return v
}

// fieldError returns the message shown beside a field, or "".
func (p cardPage) fieldError(id string) string {
	m := regexp.MustCompile(`<p class="field-error" id="` + regexp.QuoteMeta(id) + `-error">([^<]*)</p>`).FindStringSubmatch(p.raw)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// cardFields are the payment form's fields.
var cardFields = []string{"cardNumber", "cardExpiry", "cardCvc", "billingName"}

func cardForm(number, expiry, cvc, name string) url.Values {
	return url.Values{"cardNumber": {number}, "cardExpiry": {expiry}, "cardCvc": {cvc}, "billingName": {name}}
}

// The simulated payment page refuses what Stripe's card form refuses, with
// Stripe's messages, keeps what was typed, and takes Stripe's test cards.
func TestSimulatorCardForm(t *testing.T) {
	mockURL := startMock(t)
	// A fixed clock: May 2026.
	now := time.Date(2026, time.May, 15, 10, 0, 0, 0, time.UTC)
	clock := func(c *stripegatewaytest.SimulatorConfig) { c.Now = func() time.Time { return now } }

	t.Run("the form's fields", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC, clock)
		cs := e.checkout(eurOrder("order-fields"))
		status, raw := e.get(cs.URL)
		require.Equal(t, http.StatusOK, status)
		p := cardPage{raw}
		for id, want := range map[string]string{"cardNumber": "cc-number", "cardExpiry": "cc-exp", "cardCvc": "cc-csc", "billingName": "cc-name"} {
			v, _ := p.attr(t, id, "autocomplete")
			assert.Equal(t, want, v, "#%s autocomplete", id)
			_, ok := p.attr(t, id, "required")
			assert.True(t, ok, "#%s is required", id)
		}
		for _, id := range []string{"cardNumber", "cardExpiry", "cardCvc"} {
			v, _ := p.attr(t, id, "inputmode")
			assert.Equal(t, "numeric", v, "#%s inputmode", id)
			_, ok := p.attr(t, id, "pattern")
			assert.True(t, ok, "#%s has a pattern", id)
		}
		for id, want := range map[string]string{"cardNumber": "23", "cardExpiry": "7", "cardCvc": "4"} {
			v, _ := p.attr(t, id, "maxlength")
			assert.Equal(t, want, v, "#%s maxlength", id)
		}
		_, ok := p.attr(t, "cardNumber", "autofocus")
		assert.True(t, ok)
		assert.Equal(t, "", p.value(t, "cardNumber"))
		assert.Equal(t, "12 / 34", p.value(t, "cardExpiry"), "a valid expiry to start with, eight years ahead")
		assert.Contains(t, raw, "novalidate", "the page shows Stripe's messages, not the browser's")
		for _, c := range []string{"4242 4242 4242 4242", "4000 0000 0000 0002", "4000 0000 0000 9995", "4000 0000 0000 0069", "4000 0000 0000 0127", "4000 0025 0000 3155"} {
			assert.Contains(t, raw, "<code>"+c+"</code>", "the page lists the test card %s", c)
		}
	})

	t.Run("refused with Stripe's messages, nothing typed lost, nothing sent", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC, clock)
		cs := e.checkout(eurOrder("order-refused"))
		for _, c := range []struct {
			name                       string
			number, expiry, cvc, owner string
			field, message             string
		}{
			{"expiry year in the past", "4242 4242 4242 4242", "01 / 20", "123", "Jenny Rosen", "cardExpiry", "Your card's expiration year is in the past."},
			{"expiry month in the past", "4242 4242 4242 4242", "04 / 26", "123", "Jenny Rosen", "cardExpiry", "Your card's expiration date is in the past."},
			{"expiry month 13", "4242 4242 4242 4242", "13/99", "123", "Jenny Rosen", "cardExpiry", "Your card's expiration month is invalid."},
			{"expiry month 00", "4242 4242 4242 4242", "00 / 30", "123", "Jenny Rosen", "cardExpiry", "Your card's expiration month is invalid."},
			{"expiry blank", "4242 4242 4242 4242", "", "123", "Jenny Rosen", "cardExpiry", "Your card's expiration date is incomplete."},
			{"expiry incomplete", "4242 4242 4242 4242", "12 / 3", "123", "Jenny Rosen", "cardExpiry", "Your card's expiration date is incomplete."},
			{"expiry with letters", "4242 4242 4242 4242", "ab / cd", "123", "Jenny Rosen", "cardExpiry", "Your card's expiration date is invalid."},
			{"expiry too far ahead", "4242 4242 4242 4242", "12 / 2099", "123", "Jenny Rosen", "cardExpiry", "Your card's expiration year is invalid."},
			{"CVC with a letter", "4242 4242 4242 4242", "12 / 30", "x", "Jenny Rosen", "cardCvc", "Your card's security code is invalid."},
			{"CVC blank", "4242 4242 4242 4242", "12 / 30", "", "Jenny Rosen", "cardCvc", "Your card's security code is incomplete."},
			{"CVC too short", "4242 4242 4242 4242", "12 / 30", "12", "Jenny Rosen", "cardCvc", "Your card's security code is incomplete."},
			{"CVC too long", "4242 4242 4242 4242", "12 / 30", "1234", "Jenny Rosen", "cardCvc", "Your card's security code is invalid."},
			{"American Express CVC of 3 digits", "3782 822463 10005", "12 / 30", "123", "Jenny Rosen", "cardCvc", "Your card's security code is incomplete."},
			{"name blank", "4242 4242 4242 4242", "12 / 30", "123", "  ", "billingName", "Required"},
			{"number blank", "", "12 / 30", "123", "Jenny Rosen", "cardNumber", "Your card number is incomplete."},
			{"number with letters", "4242 abcd", "12 / 30", "123", "Jenny Rosen", "cardNumber", "Your card number is invalid."},
			{"number too long", strings.Repeat("4", 240), "12 / 30", "123", "Jenny Rosen", "cardNumber", "Your card number is invalid."},
			{"number failing the Luhn check", "4242 4242 4242 4241", "12 / 30", "123", "Jenny Rosen", "cardNumber", "Your card number is invalid."},
		} {
			t.Run(c.name, func(t *testing.T) {
				status, loc, raw := e.post(cs.URL, cardForm(c.number, c.expiry, c.cvc, c.owner))
				assert.Equal(t, http.StatusPaymentRequired, status)
				assert.Empty(t, loc)
				p := cardPage{raw}
				assert.Equal(t, c.message, p.fieldError(c.field), "the message beside #%s", c.field)
				v, _ := p.attr(t, c.field, "aria-invalid")
				assert.Equal(t, "true", v)
				v, _ = p.attr(t, c.field, "aria-describedby")
				assert.Equal(t, c.field+"-error", v)
				_, focused := p.attr(t, c.field, "autofocus")
				assert.True(t, focused, "the first field in error has the focus")
				for _, other := range cardFields {
					if other != c.field {
						assert.Empty(t, p.fieldError(other), "no message beside #%s", other)
					}
				}
				assert.Equal(t, c.expiry, p.value(t, "cardExpiry"), "the expiry is kept")
				assert.Equal(t, c.cvc, p.value(t, "cardCvc"), "the CVC is kept")
				assert.Equal(t, c.owner, p.value(t, "billingName"), "the name is kept")
				assert.Equal(t, c.number, p.value(t, "cardNumber"), "the card number is kept, as typed")
			})
		}
		assert.Empty(t, e.received(), "nothing refused on the page reaches the store")
		assert.Empty(t, e.sim.Deliveries())
		rec, _ := e.sim.Session(cs.ID)
		assert.Equal(t, "open", rec.Status)
		assert.Empty(t, rec.PaymentIntentID, "a refused form is never sent to the API")

		// Several fields at once: a message beside each, the focus on the first.
		status, _, raw := e.post(cs.URL, cardForm("4242424242424242", "", "", ""))
		assert.Equal(t, http.StatusPaymentRequired, status)
		p := cardPage{raw}
		assert.Empty(t, p.fieldError("cardNumber"))
		assert.Equal(t, "4242 4242 4242 4242", p.value(t, "cardNumber"), "digits typed together are grouped")
		assert.Equal(t, "Your card's expiration date is incomplete.", p.fieldError("cardExpiry"))
		assert.Equal(t, "Your card's security code is incomplete.", p.fieldError("cardCvc"))
		assert.Equal(t, "Required", p.fieldError("billingName"))
		_, focused := p.attr(t, "cardExpiry", "autofocus")
		assert.True(t, focused)
		_, focused = p.attr(t, "cardNumber", "autofocus")
		assert.False(t, focused)

		// The same card with valid fields then pays.
		status, loc, _ := e.post(cs.URL, cardForm("4242 4242 4242 4242", "05 / 26", "123", "Jenny Rosen"))
		assert.Equal(t, http.StatusSeeOther, status, "the current month is still valid")
		assert.Contains(t, loc, cs.ID)
		assert.Len(t, e.outcomesFor("order-refused"), 2)
	})

	t.Run("Stripe's test cards", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC, clock)
		for _, c := range []struct {
			card, cvc           string
			code, declineCode   string
			message             string
			succeeds, threeDSec bool
		}{
			{card: "4242 4242 4242 4242", succeeds: true},
			{card: "4000 0566 5566 5556", succeeds: true},
			{card: "5555 5555 5555 4444", succeeds: true},
			{card: "3782 822463 10005", cvc: "1234", succeeds: true},
			{card: "4000 0025 0000 3155", threeDSec: true},
			{card: "4000 0027 6000 3184", threeDSec: true},
			{card: "4000 0000 0000 0002", code: "card_declined", declineCode: "generic_decline", message: "Your card was declined."},
			{card: "4000 0000 0000 9995", code: "card_declined", declineCode: "insufficient_funds", message: "Your card has insufficient funds."},
			{card: "4000 0000 0000 9987", code: "card_declined", declineCode: "lost_card", message: "Your card was declined."},
			{card: "4000 0000 0000 9979", code: "card_declined", declineCode: "stolen_card", message: "Your card was declined."},
			{card: "4000 0000 0000 6975", code: "card_declined", declineCode: "card_velocity_exceeded", message: "Your card was declined for making repeated attempts too frequently or exceeding its amount limit."},
			{card: "4000 0000 0000 0069", code: "expired_card", message: "Your card has expired."},
			{card: "4000 0000 0000 0127", code: "incorrect_cvc", message: "Your card's security code is incorrect."},
			{card: "4000 0000 0000 0119", code: "processing_error", message: "An error occurred while processing your card. Try again in a little bit."},
		} {
			t.Run(c.card, func(t *testing.T) {
				order := "order-" + strings.ReplaceAll(c.card, " ", "")
				cs := e.checkout(eurOrder(order))
				cvc := c.cvc
				if cvc == "" {
					cvc = "123"
				}
				status, loc, raw := e.post(cs.URL, cardForm(c.card, "12 / 30", cvc, "Jenny Rosen"))
				got := e.outcomesFor(order)
				switch {
				case c.succeeds:
					assert.Equal(t, http.StatusSeeOther, status)
					assert.Contains(t, loc, cs.ID)
					require.Len(t, got, 2)
					assert.Equal(t, stripegateway.PaymentSucceeded, got[0].Kind)
				case c.threeDSec:
					assert.Equal(t, http.StatusOK, status)
					assert.Contains(t, raw, `id="three-d-secure"`)
					assert.Empty(t, got)
				default:
					assert.Equal(t, http.StatusPaymentRequired, status)
					assert.Empty(t, loc)
					assert.Contains(t, raw, `<div class="error" id="error" role="alert">`+html.EscapeString(c.message)+`</div>`)
					p := cardPage{raw}
					assert.Equal(t, c.card, p.value(t, "cardNumber"), "a declined card stays in its field")
					assert.Equal(t, "12 / 30", p.value(t, "cardExpiry"))
					assert.Equal(t, cvc, p.value(t, "cardCvc"))
					assert.Equal(t, "Jenny Rosen", p.value(t, "billingName"))
					require.Len(t, got, 1)
					assert.Equal(t, stripegateway.PaymentFailed, got[0].Kind)
					assert.Equal(t, stripe.EventTypePaymentIntentPaymentFailed, got[0].EventType)
					assert.Equal(t, c.code, got[0].FailureCode)
					assert.Equal(t, c.declineCode, got[0].DeclineCode)
					assert.Equal(t, c.message, got[0].FailureMessage)
					rec, _ := e.sim.Session(cs.ID)
					assert.Equal(t, "open", rec.Status, "the session stays open for another card")
				}
			})
		}
	})

	t.Run("the 3-D Secure step and a decline after a refusal", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC, clock)
		cs := e.checkout(eurOrder("order-3ds-form"))
		status, _, _ := e.post(cs.URL, cardForm("4000 0025 0000 3155", "01 / 20", "123", "Jenny Rosen"))
		assert.Equal(t, http.StatusPaymentRequired, status, "a 3-D Secure card with a past expiry is refused first")
		status, _, raw := e.post(cs.URL, cardForm("4000 0025 0000 3155", "12 / 30", "123", "Jenny Rosen"))
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, raw, ">Complete</button>")
		status, _, raw = e.post(cs.URL+"/authenticate", url.Values{"action": {"fail"}})
		assert.Equal(t, http.StatusPaymentRequired, status)
		assert.Contains(t, raw, "We are unable to authenticate your payment method.")
		status, loc, _ := e.post(cs.URL, cardForm("4242 4242 4242 4242", "12 / 30", "123", "Jenny Rosen"))
		assert.Equal(t, http.StatusSeeOther, status)
		assert.Contains(t, loc, cs.ID)
	})
}

// The overview has a heading, and its tables carry the labels they show on
// a phone, where each row is a block of labelled lines.
func TestSimulatorOverviewMarkup(t *testing.T) {
	mockURL := startMock(t)
	e := newSimEnv(t, mockURL, simWHSEC)
	cs := e.checkout(eurOrder("order-overview"))
	e.post(cs.URL, pay(stripegatewaytest.CardSucceeds))
	status, raw := e.get(e.sim.APIURL() + "/")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, raw, "<h1>Simulated Stripe for Gopher Goods</h1>")
	assert.Contains(t, raw, `<meta name="viewport" content="width=device-width,initial-scale=1">`)
	assert.Contains(t, raw, `<thead><tr><th>Created</th>`)
	assert.Contains(t, raw, `data-label="Session"`)
	assert.Contains(t, raw, `data-label="Type">checkout.session.completed`)
	assert.Contains(t, raw, "@media (max-width:760px)")
}
