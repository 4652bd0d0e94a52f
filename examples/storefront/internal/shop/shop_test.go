package shop

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/internal/stripemock"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// TestMain stops the package's shared stripe-mock after the tests.
func TestMain(m *testing.M) { os.Exit(stripemock.Main(m)) }

const testWebhookSecret = "whsec_xxxxxxstorefronttestsecret000001"

// startStore starts the storefront offline on a free port, with the
// package's shared stripe-mock.
func startStore(t *testing.T) *Server {
	t.Helper()
	t.Setenv(stripemock.EnvURL, stripemock.URL(t))
	env := map[string]string{"ADDR": "127.0.0.1:0", "STRIPE_WEBHOOK_SECRET": testWebhookSecret}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	srv, err := Start(context.Background(), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, logger)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
	})
	require.True(t, srv.Offline)
	return srv
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type response struct {
	status   int
	location string
	body     string
}

func do(t *testing.T, method, u string, form url.Values, header ...string) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{resp.StatusCode, resp.Header.Get("Location"), string(b)}
}

// client is a browser for the tests: it keeps the store's cookies, does
// not follow redirects, and sends each form with the CSRF token of the last
// page it read.
type client struct {
	srv   *Server
	hc    *http.Client
	token string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// newClient is a new visitor who has opened the shop.
func newClient(t *testing.T, srv *Server) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &client{srv: srv, hc: &http.Client{Timeout: 30 * time.Second, Jar: jar, CheckRedirect: noRedirect.CheckRedirect}}
	r := c.get(t, "/")
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.NotEmpty(t, c.token, "the shop's forms carry a CSRF token")
	return c
}

// signIn is a new visitor who has signed in as the admin.
func signIn(t *testing.T, srv *Server) *client {
	t.Helper()
	c := newClient(t, srv)
	r := c.get(t, "/admin/login")
	require.Equal(t, http.StatusOK, r.status)
	r = c.post(t, "/admin/login", url.Values{"password": {srv.AdminPassword}, "next": {"/admin/orders"}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	require.Equal(t, "/admin/orders", r.location)
	r = c.get(t, "/admin/orders")
	require.Equal(t, http.StatusOK, r.status, r.body)
	return c
}

func (c *client) url(p string) string {
	if strings.HasPrefix(p, "http") {
		return p
	}
	return c.srv.URL + p
}

func (c *client) do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := c.hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if m := csrfRE.FindSubmatch(b); m != nil {
		c.token = string(m[1])
	}
	return response{resp.StatusCode, resp.Header.Get("Location"), string(b)}
}

func (c *client) get(t *testing.T, p string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.url(p), nil)
	require.NoError(t, err)
	return c.do(t, req)
}

// post sends the form with the client's CSRF token, unless the form has
// one (even empty) of its own; header are pairs of header names and values.
func (c *client) post(t *testing.T, p string, form url.Values, header ...string) response {
	t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if _, ok := f[csrfField]; !ok {
		f.Set(csrfField, c.token)
	}
	req, err := http.NewRequest(http.MethodPost, c.url(p), strings.NewReader(f.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(t, req)
}

// inputRE finds a page's inputs with a value (hidden ones included).
var inputRE = regexp.MustCompile(`<input[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"`)

// pay pays on the simulated checkout page with card, as a customer does:
// it reads the page (and whatever its form carries) and submits it with a
// valid expiry, CVC and name.
func pay(t *testing.T, payURL, card string) response {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	hc := &http.Client{Timeout: 30 * time.Second, Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
	resp, err := hc.Get(payURL)
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	form := url.Values{}
	for _, m := range inputRE.FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	form.Set("cardNumber", card)
	form.Set("cardExpiry", "12 / 34")
	form.Set("cardCvc", "123")
	form.Set("billingName", "Jenny Rosen")
	resp, err = hc.PostForm(payURL, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{resp.StatusCode, resp.Header.Get("Location"), string(b)}
}

// buy places an order for a product, as a new visitor, and returns the
// order and the checkout page's URL.
func buy(t *testing.T, srv *Server, product string, qty int) (*Order, string) {
	t.Helper()
	r := newClient(t, srv).post(t, "/checkout", url.Values{"product": {product}, "quantity": {fmt.Sprint(qty)}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	require.True(t, strings.HasPrefix(r.location, srv.URL+SimulatorPath+"/c/pay/cs_test_"), r.location)
	sessionID := r.location[strings.LastIndex(r.location, "/")+1:]
	orders, err := srv.App.Orders().List(context.Background())
	require.NoError(t, err)
	for _, o := range orders {
		if o.SessionID == sessionID {
			return o, r.location
		}
	}
	t.Fatalf("no order with session %s", sessionID)
	return nil, ""
}

func order(t *testing.T, srv *Server, id string) *Order {
	t.Helper()
	o, err := srv.App.Orders().Get(context.Background(), id)
	require.NoError(t, err)
	return o
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// postEvent sends a webhook event to the running store over HTTP, as
// Stripe (or the Stripe CLI) would.
func postEvent(t *testing.T, srv *Server, payload []byte, opts ...stripegatewaytest.SignOption) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+WebhookPath, strings.NewReader(string(payload)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", stripegatewaytest.SignatureHeader(payload, srv.WebhookSecret, opts...))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestSignedEventFromOutside is the check: a signed
// checkout.session.completed sent from outside to the running store, with
// its webhook secret, marks the order paid; the same request with a wrong
// signature gets 400 and changes nothing.
func TestSignedEventFromOutside(t *testing.T) {
	srv := startStore(t)
	ord, _ := buy(t, srv, "beans", 2)
	require.Equal(t, StatusUnpaid, ord.Status)
	require.True(t, ord.Total.Equal(dec("49.80")))

	ev := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, ord.ID, dec("49.80"), "eur")
	ev.ID = "evt_fromoutside0001"
	payload := ev.MustJSON()

	assert.Equal(t, http.StatusBadRequest, postEvent(t, srv, payload, stripegatewaytest.WrongSecret()))
	after := order(t, srv, ord.ID)
	assert.Equal(t, StatusUnpaid, after.Status, "a wrong signature changes nothing")
	assert.Empty(t, after.Outcomes)

	tampered := []byte(strings.Replace(string(payload), `"amount_total": 4980`, `"amount_total": 1`, 1))
	require.NotEqual(t, string(payload), string(tampered))
	req, _ := http.NewRequest(http.MethodPost, srv.URL+WebhookPath, strings.NewReader(string(tampered)))
	req.Header.Set("Stripe-Signature", stripegatewaytest.SignatureHeader(payload, srv.WebhookSecret))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a body changed after signing is refused")
	assert.Empty(t, order(t, srv, ord.ID).Outcomes)

	assert.Equal(t, http.StatusOK, postEvent(t, srv, payload))
	after = order(t, srv, ord.ID)
	assert.Equal(t, StatusPaid, after.Status)
	require.Len(t, after.Outcomes, 1)
	assert.Equal(t, stripegateway.PaymentSucceeded, after.Outcomes[0].Kind)
	assert.Equal(t, "evt_fromoutside0001", after.Outcomes[0].EventID)
	assert.True(t, after.Outcomes[0].Amount.Equal(dec("49.80")))

	// Stripe delivers at least once: the same event again changes nothing.
	assert.Equal(t, http.StatusOK, postEvent(t, srv, payload))
	assert.Len(t, order(t, srv, ord.ID).Outcomes, 1)

	// A failure that arrives late (created before the payment) leaves the
	// order paid.
	late := stripegatewaytest.ForKind(stripegateway.PaymentFailed, ord.ID, dec("49.80"), "eur")
	late.Created = time.Now().Add(-time.Minute)
	assert.Equal(t, http.StatusOK, postEvent(t, srv, late.MustJSON()))
	after = order(t, srv, ord.ID)
	assert.Equal(t, StatusPaid, after.Status)
	require.Len(t, after.Outcomes, 2)
	assert.False(t, after.Outcomes[1].Applied)
	assert.Contains(t, after.Outcomes[1].Note, "late failure")

	page := signIn(t, srv).get(t, "/admin/orders")
	assert.Contains(t, page.body, "evt_fromoutside0001")
	assert.Contains(t, page.body, "PaymentSucceeded")
	assert.Contains(t, page.body, "€49.80")

	// A payment of another amount than the order's is not taken as payment.
	other, _ := buy(t, srv, "mug", 1)
	cheap := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, other.ID, dec("0.50"), "eur")
	assert.Equal(t, http.StatusOK, postEvent(t, srv, cheap.MustJSON()))
	assert.Equal(t, StatusReview, order(t, srv, other.ID).Status)

	// An event for an order this store does not have is acknowledged.
	stranger := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "ord_elsewhere", dec("1.00"), "eur")
	assert.Equal(t, http.StatusOK, postEvent(t, srv, stranger.MustJSON()))
}

// TestJourneyOverHTTP walks the offline journeys without a browser.
func TestJourneyOverHTTP(t *testing.T) { journeyOverHTTP(t, startStore(t)) }

func journeyOverHTTP(t *testing.T, srv *Server) {
	admin := signIn(t, srv)
	t.Run("4242 pays", func(t *testing.T) {
		ord, payURL := buy(t, srv, "kettle", 1)
		page := do(t, http.MethodGet, payURL, nil)
		assert.Contains(t, page.body, "Pour-over kettle")
		assert.Contains(t, page.body, "€59.00")
		r := pay(t, payURL, "4242 4242 4242 4242")
		require.Equal(t, http.StatusSeeOther, r.status, r.body)
		assert.True(t, strings.HasPrefix(r.location, srv.URL+"/checkout/success?order="+ord.ID+"&session_id=cs_test_"), r.location)
		success := do(t, http.MethodGet, r.location, nil)
		assert.Equal(t, http.StatusOK, success.status)
		assert.Regexp(t, `id="status">Paid<`, success.body)
		assert.NotContains(t, success.body, `http-equiv="refresh"`)
		// The customer reads a thank-you naming what they bought, and the
		// webhook story in one line; Stripe's own view is the admin's.
		assert.Contains(t, success.body, "<h1>Thank you for your order</h1>")
		assert.Contains(t, success.body, "for 1 × Pour-over kettle has been received")
		assert.Contains(t, success.body, `<span id="webhook-text">2 signed webhook events delivered: checkout.session.completed, payment_intent.succeeded</span> <a href="/stripe-sim/#deliveries"`)
		assert.NotContains(t, success.body, "ConfirmCheckout")
		assert.NotContains(t, success.body, "PaymentSucceeded")
		assert.Contains(t, admin.get(t, "/admin/orders").body, `id="stripe-said-`+ord.ID+`">Stripe said: PaymentSucceeded, €59.00<`)

		// Back from the paid session (its cancel link, or "pay again"):
		// the order is paid, and the page says so, never "not completed".
		cancel := do(t, http.MethodGet, srv.URL+"/checkout/cancel?order="+ord.ID, nil)
		require.Equal(t, http.StatusSeeOther, cancel.status)
		assert.Equal(t, "/checkout/success?order="+ord.ID+"&session_id="+order(t, srv, ord.ID).SessionID, cancel.location)
		again := newClient(t, srv).post(t, "/orders/"+ord.ID+"/pay", url.Values{})
		assert.Equal(t, cancel.location, again.location)
		got := order(t, srv, ord.ID)
		assert.Equal(t, StatusPaid, got.Status)
		require.Len(t, got.Outcomes, 2, "checkout.session.completed and payment_intent.succeeded")
		for _, o := range got.Outcomes {
			assert.Equal(t, stripegateway.PaymentSucceeded, o.Kind)
			assert.True(t, o.Amount.Equal(dec("59")))
		}
		assert.True(t, got.Outcomes[0].Applied)
		assert.Equal(t, "already paid", got.Outcomes[1].Note)
	})

	t.Run("0002 is declined and the order stays unpaid", func(t *testing.T) {
		ord, payURL := buy(t, srv, "mug", 3)
		r := pay(t, payURL, "4000 0000 0000 0002")
		assert.Equal(t, http.StatusPaymentRequired, r.status)
		assert.Contains(t, r.body, "Your card was declined.")
		got := order(t, srv, ord.ID)
		assert.Equal(t, StatusFailed, got.Status)
		assert.Equal(t, "Your card was declined.", got.FailureMessage)
		shopper := newClient(t, srv)
		cancel := shopper.get(t, "/checkout/cancel?order="+ord.ID)
		assert.Contains(t, cancel.body, "Payment failed")
		assert.Contains(t, cancel.body, "<h1>Your payment did not go through</h1>")
		assert.Contains(t, cancel.body, "Your card was declined.")
		assert.Contains(t, cancel.body, `id="retry"`)
		assert.Contains(t, cancel.body, `<span id="webhook-text">1 signed webhook event delivered: payment_intent.payment_failed</span>`)

		// Trying again goes back to the same, still open, session.
		retry := shopper.post(t, "/orders/"+ord.ID+"/pay", url.Values{})
		assert.Equal(t, http.StatusSeeOther, retry.status)
		assert.Equal(t, payURL, retry.location)
		r = pay(t, payURL, stripegatewaytest.CardSucceeds)
		assert.Equal(t, http.StatusSeeOther, r.status)
		assert.Equal(t, StatusPaid, order(t, srv, ord.ID).Status)
	})

	t.Run("JPY has no decimals", func(t *testing.T) {
		catalog := do(t, http.MethodGet, srv.URL+"/", nil)
		assert.Contains(t, catalog.body, "¥1,500")
		ord, payURL := buy(t, srv, "matcha", 1)
		assert.Equal(t, "jpy", ord.Currency)
		r := pay(t, payURL, stripegatewaytest.CardSucceeds)
		require.Equal(t, http.StatusSeeOther, r.status)
		got := order(t, srv, ord.ID)
		assert.Equal(t, StatusPaid, got.Status)
		assert.Equal(t, int64(1500), got.Outcomes[0].AmountMinor)
		orders := admin.get(t, "/admin/orders")
		assert.Contains(t, orders.body, "¥1,500")
		assert.NotContains(t, orders.body, "¥1,500.")
	})

	t.Run("subscription", func(t *testing.T) {
		ord, payURL := buy(t, srv, "club", 1)
		assert.Equal(t, stripe.PriceRecurringIntervalMonth, ord.Interval)
		r := pay(t, payURL, stripegatewaytest.CardSucceeds)
		require.Equal(t, http.StatusSeeOther, r.status)
		got := order(t, srv, ord.ID)
		assert.Equal(t, StatusPaid, got.Status)
		assert.NotEmpty(t, got.SubscriptionID)
	})

	t.Run("the success page waits for the webhook, then gives up", func(t *testing.T) {
		ord, _ := buy(t, srv, "beans", 1)
		u := srv.URL + "/checkout/success?order=" + ord.ID + "&session_id=" + ord.SessionID
		page := do(t, http.MethodGet, u, nil)
		assert.Contains(t, page.body, `http-equiv="refresh"`)
		assert.Contains(t, page.body, "n=1")
		assert.Contains(t, page.body, "Awaiting payment")
		page = do(t, http.MethodGet, u+fmt.Sprintf("&n=%d", maxRefreshes), nil)
		assert.NotContains(t, page.body, `http-equiv="refresh"`)
		assert.Contains(t, page.body, `id="gave-up"`)

		other, _ := buy(t, srv, "mug", 1)
		page = do(t, http.MethodGet, srv.URL+"/checkout/success?order="+other.ID+"&session_id="+ord.SessionID, nil)
		assert.Equal(t, http.StatusBadRequest, page.status, "another order's session shows nothing")
	})

	t.Run("after the payment", func(t *testing.T) { afterPaymentOverHTTP(t, srv) })

	t.Run("bad requests", func(t *testing.T) {
		shopper := newClient(t, srv)
		assert.Equal(t, http.StatusBadRequest, shopper.post(t, "/checkout", url.Values{"product": {"nope"}}).status)
		assert.Equal(t, http.StatusBadRequest, shopper.post(t, "/checkout", url.Values{"product": {"mug"}, "quantity": {"0"}}).status)
		assert.Equal(t, http.StatusForbidden, shopper.post(t, "/checkout", url.Values{"product": {"mug"}}, "Sec-Fetch-Site", "cross-site").status)
		assert.Equal(t, http.StatusForbidden, shopper.post(t, "/checkout", url.Values{"product": {"mug"}}, "Origin", "https://evil.example").status)
		assert.Equal(t, http.StatusForbidden, shopper.post(t, "/checkout", url.Values{"product": {"mug"}}, "Origin", "null").status)
		assert.Equal(t, http.StatusForbidden, shopper.post(t, "/checkout", url.Values{"product": {"mug"}, csrfField: {""}}).status, "no CSRF token")
		assert.Equal(t, http.StatusForbidden, do(t, http.MethodPost, srv.URL+"/checkout", url.Values{"product": {"mug"}}).status, "no cookie, no token")
		assert.Equal(t, http.StatusNotFound, do(t, http.MethodGet, srv.URL+"/checkout/success?order=nope", nil).status)
		assert.Equal(t, http.StatusMethodNotAllowed, do(t, http.MethodGet, srv.URL+WebhookPath, nil).status)
	})
}

var fieldErrorRE = regexp.MustCompile(`(?s)id="SecretKey".*?<p class="field-error" id="SecretKey-error">([^<]*)</p>`)

// settingsForm is the settings form as the page fills it, with changes.
func settingsForm(kv ...string) url.Values {
	v := url.Values{
		"DisplayName": {"Credit Card"}, "MinimumAmount": {"1"}, "Status": {"active"}, "Mode": {"test"},
		"PublishableKey": {offlinePublishableKey}, "action": {"save"},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestSettingsPage(t *testing.T) {
	srv := startStore(t)
	before := srv.App.Gateway()
	admin := signIn(t, srv)

	page := admin.get(t, "/admin/settings")
	for _, f := range []string{"DisplayName", "MinimumAmount", "Status", "Mode", "PublishableKey", "SecretKey", "WebhookSecret", "PreviousWebhookSecrets"} {
		assert.Contains(t, page.body, `id="`+f+`"`)
	}
	assert.NotContains(t, page.body, offlineSecretKey, "secrets are never written into the page")
	assert.NotContains(t, page.body, testWebhookSecret)
	assert.Contains(t, page.body, "sk_test_…et00")
	assert.NotContains(t, page.body, `aria-invalid`)
	assert.NotContains(t, page.body, `id="error-summary"`)

	// A live secret key in test mode: a whole sentence beside the field,
	// in the admin's words, and in the summary at the top.
	r := admin.post(t, "/admin/settings", settingsForm("SecretKey", "sk_live_51Hlivesecretkeyvalue67890"))
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	m := fieldErrorRE.FindStringSubmatch(r.body)
	require.NotNil(t, m, r.body)
	msg := html.UnescapeString(m[1])
	assert.Equal(t, `Secret key is a live-mode key (sk_live_…7890) but the Mode field is "test"; use the test key or change the Mode field.`, msg)
	assert.Contains(t, r.body, `<div class="error error-summary" id="error-summary" role="alert" tabindex="-1"><h2>1 problem stopped these settings</h2>`)
	assert.Contains(t, r.body, `<li><a href="#SecretKey">`+m[1]+`</a></li>`)
	assert.Regexp(t, `<input type="password" id="SecretKey" name="SecretKey" placeholder="kept, not saved: sk_live_…7890" autocomplete="off" spellcheck="false" aria-invalid="true" aria-describedby="SecretKey-error SecretKey-kept SecretKey-help" autofocus>`, r.body)
	assert.Equal(t, 1, strings.Count(r.body, "autofocus"), "the focus goes to the first field in error")
	assert.Contains(t, r.body, `id="SecretKey-kept">Not saved yet: the key you entered, <strong>sk_live_…7890</strong>, is kept for you, shown redacted for safety.`)
	assert.NotContains(t, r.body, "sk_live_51Hlivesecretkeyvalue67890", "the page never carries a secret")
	assert.Same(t, before, srv.App.Gateway(), "an invalid form changes nothing")

	r = admin.post(t, "/admin/settings", settingsForm("MinimumAmount", "ten", "DisplayName", ""))
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `id="MinimumAmount-error">Minimum amount is not a number: enter an amount such as 1.00, or 0 for no store minimum.<`)
	assert.Contains(t, r.body, `id="DisplayName-error">Display name is required: enter the name customers see, e.g. &#34;Credit Card&#34;.<`)
	assert.Contains(t, r.body, `<h2>2 problems stopped these settings</h2>`)
	assert.Less(t, strings.Index(r.body, `href="#DisplayName"`), strings.Index(r.body, `href="#MinimumAmount"`), "the summary follows the form's order")
	assert.Regexp(t, `id="DisplayName" name="DisplayName" value=""[^>]*aria-invalid="true" aria-describedby="DisplayName-error DisplayName-help" autofocus>`, r.body)
	assert.Contains(t, r.body, `id="MinimumAmount" name="MinimumAmount" value="ten"`, "a refused value stays in its field")
	assert.NotContains(t, r.body, "DisplayName is", "no Go name in a message")

	// Test connection checks the form's settings without making them live.
	r = admin.post(t, "/admin/settings", settingsForm("action", "test", "DisplayName", "Card"))
	assert.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `id="connection" role="status">✓ Connected to Stripe in test mode`)
	assert.Same(t, before, srv.App.Gateway())

	// Save swaps the gateway; empty secret fields keep the secrets.
	r = admin.post(t, "/admin/settings", settingsForm("DisplayName", "Card (Stripe)"))
	assert.Equal(t, http.StatusSeeOther, r.status, r.body)
	assert.Equal(t, "/admin/settings?saved=1", r.location)
	after := srv.App.Gateway()
	assert.NotSame(t, before, after)
	assert.Equal(t, "Card (Stripe)", after.Config().DisplayName)
	assert.Equal(t, offlineSecretKey, string(after.Config().SecretKey))
	assert.Equal(t, testWebhookSecret, string(after.Config().WebhookSecret))
	catalog := do(t, http.MethodGet, srv.URL+"/", nil).body
	assert.Contains(t, catalog, "Buy with Card (Stripe)")
	assert.Contains(t, catalog, `aria-label="Buy Coffee beans, 1 kg with Card (Stripe)"`)
	assert.Contains(t, catalog, `aria-label="Subscribe to Coffee club with Card (Stripe)"`)

	// The new gateway still takes payments and webhooks.
	ord, payURL := buy(t, srv, "mug", 1)
	require.Equal(t, http.StatusSeeOther, pay(t, payURL, stripegatewaytest.CardSucceeds).status)
	assert.Equal(t, StatusPaid, order(t, srv, ord.ID).Status)

	// Inactive: no payments, and the shopper reads why.
	r = admin.post(t, "/admin/settings", settingsForm("Status", "inactive"))
	assert.Equal(t, http.StatusSeeOther, r.status)
	shopper := newClient(t, srv)
	catalog = shopper.get(t, "/").body
	assert.Contains(t, catalog, `<p class="notice" id="disabled">Card payments are not available at the moment`)
	assert.NotContains(t, catalog, "Status inactive", "admin wording is for the admin")
	assert.Contains(t, catalog, `aria-label="Buy Ceramic mug with Credit Card" disabled aria-describedby="disabled"`)
	assert.Contains(t, admin.get(t, "/").body, "Status inactive", "the admin reads what to change")
	assert.Equal(t, http.StatusServiceUnavailable, shopper.post(t, "/checkout", url.Values{"product": {"mug"}}).status)

	assert.Equal(t, http.StatusForbidden, admin.post(t, "/admin/settings", settingsForm(), "Sec-Fetch-Site", "cross-site").status)
}

// TestSecretKeptAcrossTries: a secret typed into a form that is refused
// for another field is kept (redacted on the page), and saving with the
// field left empty uses it.
func TestSecretKeptAcrossTries(t *testing.T) {
	srv := startStore(t)
	admin := signIn(t, srv)
	admin.get(t, "/admin/settings")
	newSecret := "whsec_" + strings.Repeat("k", 40) + "1234"
	r := admin.post(t, "/admin/settings", settingsForm("DisplayName", "", "WebhookSecret", newSecret, "PreviousWebhookSecrets", testWebhookSecret))
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, `placeholder="kept, not saved: whsec_…1234"`)
	assert.Contains(t, r.body, `<input type="hidden" name="keep-WebhookSecret" value="1">`)
	assert.NotContains(t, r.body, newSecret)
	assert.Equal(t, testWebhookSecret, string(srv.App.Gateway().Config().WebhookSecret))

	r = admin.post(t, "/admin/settings", settingsForm("keep-WebhookSecret", "1", "keep-PreviousWebhookSecrets", "1"))
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	cfg := srv.App.Gateway().Config()
	assert.Equal(t, newSecret, string(cfg.WebhookSecret))
	require.Len(t, cfg.PreviousWebhookSecrets, 1)
	assert.Equal(t, testWebhookSecret, string(cfg.PreviousWebhookSecrets[0]))

	// Without keep-…, an empty field keeps the live secret, and a fresh
	// page forgets what was typed.
	r = admin.post(t, "/admin/settings", settingsForm("DisplayName", "", "WebhookSecret", "whsec_"+strings.Repeat("z", 40)))
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	admin.get(t, "/admin/settings")
	r = admin.post(t, "/admin/settings", settingsForm("keep-WebhookSecret", "1"))
	require.Equal(t, http.StatusSeeOther, r.status)
	assert.Equal(t, newSecret, string(srv.App.Gateway().Config().WebhookSecret))
}

func TestAdminSentence(t *testing.T) {
	for _, c := range []struct{ field, msg, want string }{
		{"SecretKey", `is a live-mode key (sk_live_…7890) but Mode is "test"; use the test key or change Mode`,
			`Secret key is a live-mode key (sk_live_…7890) but the Mode field is "test"; use the test key or change the Mode field.`},
		{"PublishableKey", "holds a secret key (sk_test_…abcd), not a publishable key; put it in SecretKey and paste the pk_… key here",
			"Publishable key holds a secret key (sk_test_…abcd), not a publishable key; put it in the Secret key field and paste the pk_… key here."},
		{"WebhookSecret", "has leading or trailing whitespace; remove it (Config.Normalize trims it)",
			"Webhook signing secret has leading or trailing whitespace; remove it."},
		{"PreviousWebhookSecrets", "entry 0 is not a webhook signing secret (abc…): it must start with whsec_",
			"Previous webhook secrets (line 1) is not a webhook signing secret (abc…): it must start with whsec_."},
		{"Status", `unknown status "x": use "active" or "inactive"`, `Status has an unknown value "x": use "active" or "inactive".`},
	} {
		assert.Equal(t, c.want, adminSentence(c.field, c.msg))
	}
}

// TestSwapKeepsRequestsInFlight saves the settings over and over while
// customers buy and Stripe's webhooks arrive: nothing fails.
func TestSwapKeepsRequestsInFlight(t *testing.T) {
	srv := startStore(t)
	var wg sync.WaitGroup
	errs := make(chan string, 1000)
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		shopper := newClient(t, srv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := shopper.hc.PostForm(srv.URL+"/checkout", url.Values{"product": {"beans"}, csrfField: {shopper.token}})
				if err != nil {
					errs <- err.Error()
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther {
					errs <- "checkout: " + resp.Status
					return
				}
				loc := resp.Header.Get("Location")
				resp, err = noRedirect.PostForm(loc, url.Values{"cardNumber": {stripegatewaytest.CardSucceeds}, "cardExpiry": {"12 / 34"}, "cardCvc": {"123"}, "billingName": {"Jenny Rosen"}})
				if err != nil {
					errs <- err.Error()
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther {
					errs <- "pay: " + resp.Status
				}
			}
		}()
	}
	admin := signIn(t, srv)
	for i := 0; i < 20; i++ {
		r := admin.post(t, "/admin/settings", settingsForm("DisplayName", fmt.Sprintf("Card v%d", i)))
		require.Equal(t, http.StatusSeeOther, r.status, r.body)
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	orders, err := srv.App.Orders().List(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, orders)
	for _, o := range orders {
		assert.Equal(t, StatusPaid, o.Status, o.ID)
	}
	for _, d := range srv.Simulator.Deliveries() {
		assert.Equal(t, http.StatusOK, d.StatusCode, "%+v", d)
	}
	t.Logf("%d orders paid across 20 gateway swaps", len(orders))
}

func TestStartWithKeysNeedsAValidConfig(t *testing.T) {
	env := map[string]string{"ADDR": "127.0.0.1:0", "STRIPE_SECRET_KEY": "sk_test_51Hzyxwvutsrqponmlkjihgfe"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	_, err := Start(context.Background(), lookup, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.Error(t, err)
	assert.ErrorIs(t, err, stripegateway.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "PublishableKey:")
	assert.Contains(t, err.Error(), "WebhookSecret:")

	env["STRIPE_PUBLISHABLE_KEY"] = "pk_test_51Habcdefghijklmnopqrstuv"
	env["STRIPE_WEBHOOK_SECRET"] = testWebhookSecret
	_, err = Start(context.Background(), lookup, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.Error(t, err, "with real keys the admin password is required")
	assert.Contains(t, err.Error(), EnvAdminPassword)

	env[EnvAdminPassword] = "correct horse battery staple"
	srv, err := Start(context.Background(), lookup, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer srv.Shutdown(context.Background())
	assert.False(t, srv.Offline)
	assert.Nil(t, srv.Simulator)
	assert.False(t, srv.AdminPasswordGenerated)
	page := do(t, http.MethodGet, srv.URL+"/", nil)
	assert.Contains(t, page.body, "Stripe test mode")
	assert.NotContains(t, page.body, "Simulated Stripe")
	assert.Equal(t, http.StatusNotFound, do(t, http.MethodGet, srv.URL+SimulatorPath+"/", nil).status)
	signIn(t, srv)
}

func TestApplyOutcome(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	total := dec("24.90")
	out := func(kind stripegateway.Kind, id string, at time.Duration, amount string) *stripegateway.Outcome {
		o := &stripegateway.Outcome{Kind: kind, EventID: id, EventType: stripe.EventType("test." + string(kind)), Created: t0.Add(at), Currency: "eur", Amount: dec(amount), OrderID: "o1"}
		if kind == stripegateway.PaymentFailed {
			o.FailureMessage = "Your card was declined."
		}
		return o
	}
	type step struct {
		o       *stripegateway.Outcome
		applied bool
		status  Status
	}
	S, F, P, E, R := stripegateway.PaymentSucceeded, stripegateway.PaymentFailed, stripegateway.PaymentPending, stripegateway.CheckoutExpired, stripegateway.PaymentRefunded
	cases := map[string][]step{
		"paid, then both events of one payment": {
			{out(S, "e1", 0, "24.90"), true, StatusPaid},
			{out(S, "e2", 0, "24.90"), false, StatusPaid},
		},
		"a late failure never downgrades a paid order": {
			{out(S, "e1", 2*time.Second, "24.90"), true, StatusPaid},
			{out(F, "e2", time.Second, "24.90"), false, StatusPaid},
			{out(F, "e3", 5*time.Second, "24.90"), false, StatusPaid},
			{out(E, "e4", 9*time.Second, "24.90"), false, StatusPaid},
			{out(P, "e5", 9*time.Second, "24.90"), false, StatusPaid},
		},
		"declined, then paid with another card": {
			{out(F, "e1", 0, "24.90"), true, StatusFailed},
			{out(S, "e2", time.Second, "24.90"), true, StatusPaid},
		},
		"an older event does not override a newer status": {
			{out(F, "e1", 5*time.Second, "24.90"), true, StatusFailed},
			{out(P, "e2", time.Second, "24.90"), false, StatusFailed},
		},
		"a payment is news even if its event is older": {
			{out(F, "e1", 5*time.Second, "24.90"), true, StatusFailed},
			{out(S, "e2", time.Second, "24.90"), true, StatusPaid},
		},
		"refunds move a paid order on, and a late payment does not undo them": {
			{out(S, "e1", 0, "24.90"), true, StatusPaid},
			{out(R, "e2", time.Second, "10.00"), true, StatusPartiallyRefunded},
			{out(R, "e3", 2*time.Second, "24.90"), true, StatusRefunded},
			{out(S, "e4", 0, "24.90"), false, StatusRefunded},
		},
		"a wrong amount needs review": {
			{out(S, "e1", 0, "2.49"), true, StatusReview},
			{out(S, "e2", 0, "24.90"), false, StatusReview},
		},
		"a refund of an unpaid order changes nothing": {
			{out(R, "e1", 0, "24.90"), false, StatusUnpaid},
		},
	}
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			ord := &Order{ID: "o1", Currency: "eur", Total: total, Status: StatusUnpaid}
			for i, s := range steps {
				require.True(t, applyOutcome(ord, s.o, t0), "step %d", i)
				require.Len(t, ord.Outcomes, i+1)
				assert.Equal(t, s.applied, ord.Outcomes[i].Applied, "step %d: %s", i, ord.Outcomes[i].Note)
				assert.Equal(t, s.status, ord.Status, "step %d", i)
				if !s.applied {
					assert.NotEmpty(t, ord.Outcomes[i].Note, "step %d says why", i)
				}
				// Redelivery of the same event is a no-op.
				require.False(t, applyOutcome(ord, s.o, t0))
				require.Len(t, ord.Outcomes, i+1)
			}
		})
	}
}

func TestFormatMoney(t *testing.T) {
	for _, c := range []struct{ amount, cur, want string }{
		{"24.9", "eur", "€24.90"},
		{"1500", "jpy", "¥1,500"},
		{"1234567.5", "usd", "$1,234,567.50"},
		{"5", "isk", "ISK 5"},
		{"12.34", "kwd", "KWD 12.34"},
		{"0", "eur", "€0.00"},
	} {
		assert.Equal(t, c.want, FormatMoney(dec(c.amount), c.cur))
	}
	assert.Equal(t, "PaymentSucceeded", kindName(stripegateway.PaymentSucceeded))
}

// TestAnotherFailureUpdatesTheMessage: when the customer tries again and
// fails again, the order shows the new reason; an older event does not
// bring an old one back.
func TestAnotherFailureUpdatesTheMessage(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	fail := func(id, msg string, at time.Duration) *stripegateway.Outcome {
		return &stripegateway.Outcome{Kind: stripegateway.PaymentFailed, EventID: id, OrderID: "o1", Amount: dec("24.90"), Currency: "eur", Created: t0.Add(at), FailureMessage: msg}
	}
	ord := &Order{ID: "o1", Currency: "eur", Total: dec("24.90"), Status: StatusUnpaid}
	applyOutcome(ord, fail("e1", "Your card has expired.", 0), t0)
	assert.Equal(t, StatusFailed, ord.Status)
	assert.Equal(t, "Your card has expired.", ord.FailureMessage)
	applyOutcome(ord, fail("e2", "Your card has insufficient funds.", time.Second), t0)
	assert.Equal(t, "Your card has insufficient funds.", ord.FailureMessage)
	assert.True(t, ord.Outcomes[1].Applied)
	applyOutcome(ord, fail("e3", "Your card was declined.", -time.Second), t0)
	assert.Equal(t, "Your card has insufficient funds.", ord.FailureMessage, "an older failure")
	assert.False(t, ord.Outcomes[2].Applied)
}
