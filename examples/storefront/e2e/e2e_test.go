// Package e2e drives a real headless Chromium through the storefront's
// payment journeys in offline mode: the store, the simulated hosted
// checkout in front of stripe-mock, the test cards, the webhooks and the
// admin pages. It belongs to the storefront's own module
// (examples/storefront/go.mod), so that the browser driver stays out of the
// library's requirements. From the repository root:
//
//	go test ./examples/storefront/e2e
//
// It needs Chromium (Debian: apt-get install -y chromium); without it the
// test skips, except under CI=true, where it fails. It signs in to the
// admin pages first, as an admin would, and checks every storefront page on
// a 390 px wide phone screen. Screenshots of each journey's final page go
// to $STOREFRONT_ARTIFACTS, or artifacts/ here: at desktop width, and at
// 390 px as phone-*.png.
package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/examples/storefront/internal/shop"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

const (
	webhookSecret = "whsec_xxxxxxstorefronte2esecret0000001"
	adminPassword = "e2e admin password, not a real one"
)

// findChromium returns the browser's path, or skips the test (fails it
// under CI=true) when there is none.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "Chromium not found: install it with `apt-get install -y chromium` (Debian/Ubuntu) or point CHROMIUM at a Chrome binary"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true requires the browser test to run")
	}
	t.Skip(msg)
	return ""
}

// artifactDir is where the screenshots go.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("STOREFRONT_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startStore starts the storefront in-process, offline, on a free port;
// with dbPath, in -db mode on that SQLite file.
func startStore(t *testing.T, artifacts string, dbPath ...string) *shop.Server {
	t.Helper()
	logName := "storefront.log"
	env := map[string]string{"ADDR": "127.0.0.1:0", "STRIPE_WEBHOOK_SECRET": webhookSecret, shop.EnvAdminPassword: adminPassword}
	if len(dbPath) > 0 {
		env[shop.EnvDB], logName = dbPath[0], "storefront-db.log"
	}
	logFile, err := os.Create(filepath.Join(artifacts, logName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logFile.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // the first run builds stripe-mock
	defer cancel()
	srv, err := shop.Start(ctx, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, slog.New(slog.NewTextHandler(logFile, nil)))
	if err != nil {
		t.Fatalf("starting the storefront: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

// newBrowser starts headless Chromium with a fresh profile.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 860),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	if err := chromedp.Do(browserCtx); err != nil { // starts the browser
		t.Fatalf("starting Chromium at %s: %v", path, err)
	}
	return browserCtx
}

// journey is one browser tab with a deadline.
type journey struct {
	t         *testing.T
	ctx       context.Context
	srv       *shop.Server
	artifacts string
}

func newJourney(t *testing.T, browser context.Context, srv *shop.Server, artifacts string, opts ...chromedp.ContextOption) *journey {
	tab, cancelTab := chromedp.NewContext(browser, opts...)
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(func() {
		cancel()
		cancelTab()
	})
	return &journey{t: t, ctx: ctx, srv: srv, artifacts: artifacts}
}

func (j *journey) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	j.t.Helper()
	if err := chromedp.Do(j.ctx, steps...); err != nil {
		j.screenshot("FAILED-" + strings.ReplaceAll(j.t.Name(), "/", "_"))
		j.t.Fatalf("%s: %v", what, err)
	}
}

func (j *journey) text(sel string) string {
	j.t.Helper()
	s, err := chromedp.Run(j.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		j.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (j *journey) location() string {
	j.t.Helper()
	s, err := chromedp.Run(j.ctx, chromedp.Location())
	if err != nil {
		j.t.Fatalf("location: %v", err)
	}
	return s
}

// screenshot saves the page as name.png in the artifact directory.
func (j *journey) screenshot(name string) string {
	j.t.Helper()
	png, err := chromedp.Run(j.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		j.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(j.artifacts, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		j.t.Errorf("screenshot %s: %v", name, err)
	}
	j.t.Logf("screenshot: %s", path)
	return path
}

// buy clicks a product's buy button and waits for the simulated checkout.
func (j *journey) buy(product string) {
	j.t.Helper()
	j.do("open the shop and buy "+product,
		chromedp.Navigate(j.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#buy-"+product)),
		chromedp.Click(chromedp.CSS("#buy-"+product)),
		chromedp.WaitVisible(chromedp.CSS("#cardNumber")),
	)
	if loc := j.location(); !strings.HasPrefix(loc, j.srv.URL+shop.SimulatorPath+"/c/pay/cs_test_") {
		j.t.Fatalf("the checkout is at %s", loc)
	}
}

// pay types a card number, a valid expiry, CVC and name, and submits.
func (j *journey) pay(card string) {
	j.t.Helper()
	j.fillCard(card, "12 / 34", "123", "Jenny Rosen")
	j.do("pay with "+card, clearErrors, chromedp.Click(chromedp.CSS("#submit")))
}

// clearErrors removes the checkout page's messages, so that waiting for
// one waits for the next page's.
var clearErrors = func() chromedp.Action[chromedp.Void] {
	ev := chromedp.Evaluate[bool](`document.querySelectorAll("#error, [id$=-error]").forEach(e => e.remove()), true`)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := ev(ctx, t)
		return chromedp.Void{}, err
	}
}()

// fillCard fills the simulated checkout's card form, replacing what is in
// it.
func (j *journey) fillCard(card, expiry, cvc, name string) {
	j.t.Helper()
	j.do("fill the card form",
		setValue("#cardNumber", ""),
		chromedp.SendKeys(chromedp.CSS("#cardNumber"), card),
		setValue("#cardExpiry", expiry),
		setValue("#cardCvc", cvc),
		setValue("#billingName", name),
	)
}

// login signs in to the admin pages: the tabs of the browser share the
// session cookie.
func (j *journey) login() {
	j.t.Helper()
	j.do("sign in",
		chromedp.Navigate(j.srv.URL+"/admin/login"),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), adminPassword),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#logout")),
	)
}

// value is an input's current value.
func (j *journey) value(sel string) string {
	j.t.Helper()
	v, err := chromedp.Run(j.ctx, chromedp.Evaluate[string](`document.querySelector(`+strconvQuote(sel)+`).value`))
	if err != nil {
		j.t.Fatalf("value of %s: %v", sel, err)
	}
	return v
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

// setValue sets the value of the element sel finds on the loaded page, ""
// included (chromedp.SetValue cannot set an empty value).
func setValue(sel, v string) chromedp.Action[chromedp.Void] {
	ev := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false; e.value = %s; return true; })()`, strconvQuote(sel), strconvQuote(v)))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		ok, err := ev(ctx, t)
		if err == nil && !ok {
			err = fmt.Errorf("no element %s", sel)
		}
		return chromedp.Void{}, err
	}
}

// orderFromURL reads the order ID from a success or cancel URL.
func (j *journey) orderFromURL() *shop.Order {
	j.t.Helper()
	u, err := url.Parse(j.location())
	if err != nil {
		j.t.Fatal(err)
	}
	return j.order(u.Query().Get("order"))
}

func (j *journey) order(id string) *shop.Order {
	j.t.Helper()
	o, err := j.srv.App.Orders().Get(context.Background(), id)
	if err != nil {
		j.t.Fatalf("order %q: %v", id, err)
	}
	return o
}

// orderBySession finds the order of the checkout the browser is on.
func (j *journey) orderOnCheckout() *shop.Order {
	j.t.Helper()
	loc := j.location()
	sessionID := loc[strings.LastIndex(loc, "/")+1:]
	orders, err := j.srv.App.Orders().List(context.Background())
	if err != nil {
		j.t.Fatal(err)
	}
	for _, o := range orders {
		if o.SessionID == sessionID {
			return o
		}
	}
	j.t.Fatalf("no order for session %s", sessionID)
	return nil
}

// pageCheck is what the browser measures on a page: its width against
// the screen's (and the elements that stick out), whether the header's
// mode badge is cut off, and the texts under WCAG AA contrast.
type pageCheck struct {
	ScrollWidth int      `json:"scrollWidth"`
	InnerWidth  int      `json:"innerWidth"`
	Wide        []string `json:"wide"`
	BadgeCut    bool     `json:"badgeCut"`
	LowContrast []string `json:"lowContrast"`
}

// measureJS measures a page for pageCheck. Contrast is that of each
// element's own text on the first opaque background behind it (4.5:1, or
// 3:1 for large text); disabled buttons are exempt, as WCAG exempts
// inactive controls.
const measureJS = `(() => {
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\s+/).join(".") : "");
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > innerWidth + 0.5 || r.left < -0.5)) wide.push(name(el) + " " + Math.round(r.left) + ".." + Math.round(r.right));
  }
  const parse = c => { const m = /rgba?\(([^)]+)\)/.exec(c); if (!m) return null; const p = m[1].split(",").map(parseFloat); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bgOf = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const low = [];
  for (const el of document.querySelectorAll("body *")) {
    const text = Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join("").trim();
    if (!text) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || el.closest("button:disabled")) continue;
    const st = getComputedStyle(el);
    if (st.visibility === "hidden") continue;
    const fg = parse(st.color), bg = bgOf(el);
    const l1 = lum(fg), l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
    if (ratio < ((size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5)) low.push(name(el) + " " + JSON.stringify(text.slice(0, 40)) + " " + ratio.toFixed(2) + ":1");
  }
  const badge = document.getElementById("mode");
  let badgeCut = false;
  if (badge) { const b = badge.getBoundingClientRect(); badgeCut = b.right > innerWidth || b.left < 0 || badge.scrollWidth > badge.clientWidth + 1; }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: innerWidth, wide: wide.slice(0, 10), badgeCut: badgeCut, lowContrast: low.slice(0, 10)};
})()`

// phoneWidth is the phone screen every storefront page must fit.
const phoneWidth = 390

// checkPage checks the storefront page the tab shows: nothing wider than
// the screen (no horizontal scroll), the mode badge whole, every text
// readable; then it takes the page's screenshot.
func (j *journey) checkPage(shot string) {
	j.t.Helper()
	c, err := chromedp.Run(j.ctx, chromedp.Evaluate[pageCheck](measureJS))
	if err != nil {
		j.t.Fatalf("measuring %s: %v", shot, err)
	}
	if c.ScrollWidth > c.InnerWidth || len(c.Wide) > 0 {
		j.t.Errorf("%s (%s): %d px wide on a %d px screen; wider than the screen: %v", shot, j.location(), c.ScrollWidth, c.InnerWidth, c.Wide)
	}
	if c.BadgeCut {
		j.t.Errorf("%s: the header's mode badge is cut off", shot)
	}
	if len(c.LowContrast) > 0 {
		j.t.Errorf("%s: text under WCAG AA contrast: %v", shot, c.LowContrast)
	}
	j.screenshot(shot)
}

// onPhone makes the tab a 390 px wide screen.
func (j *journey) onPhone() {
	j.t.Helper()
	j.do("emulate a phone", chromedp.EmulateViewport(phoneWidth, 844))
	w, err := chromedp.Run(j.ctx, chromedp.Evaluate[int](`innerWidth`))
	if err != nil || w != phoneWidth {
		j.t.Fatalf("the screen is %d px wide (%v), want %d", w, err, phoneWidth)
	}
}

func mustContain(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q does not contain %q", what, got, w)
		}
	}
}

func TestStorefrontInBrowser(t *testing.T) {
	chromium := findChromium(t)
	artifacts := artifactDir(t)
	srv := startStore(t, artifacts)
	browser := newBrowser(t, chromium)
	t.Logf("storefront at %s, screenshots in %s", srv.URL, artifacts)
	newJourney(t, browser, srv, artifacts).login()

	t.Run("4242 pays", func(t *testing.T) {
		j := newJourney(t, browser, srv, artifacts)
		j.do("choose 2 bags", chromedp.Navigate(j.srv.URL+"/"), setValue("#product-beans select", "2"))
		j.do("buy", chromedp.Click(chromedp.CSS("#buy-beans")), chromedp.WaitVisible(chromedp.CSS("#cardNumber")))
		mustContain(t, "checkout page", j.text("#total"), "€49.80")
		mustContain(t, "checkout page", j.text(".line"), "Coffee beans, 1 kg", "Qty 2", "€24.90 each", "€49.80")
		j.fillCard("4242 4242 4242 4242", "12 / 34", "123", "Jenny Rosen")
		j.screenshot("simulated-checkout")
		j.do("pay", chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#thanks")))
		if got := j.text("#status"); got != "Paid" {
			t.Errorf("success page status = %q, want Paid", got)
		}
		// The shopper is thanked for what they bought; the webhook story
		// is one line, linking to the simulator's dashboard.
		mustContain(t, "heading", j.text("h1"), "Thank you for your order")
		mustContain(t, "thanks", j.text("#thanks"), "€49.80", "2 × Coffee beans, 1 kg")
		if got, want := j.text("#webhook-text"), "2 signed webhook events delivered: checkout.session.completed, payment_intent.succeeded"; got != want {
			t.Errorf("webhook line = %q, want %q", got, want)
		}
		if main := j.text("main"); strings.Contains(main, "ConfirmCheckout") || strings.Contains(main, "PaymentSucceeded") {
			t.Errorf("the success page shows developer detail: %q", main)
		}
		ord := j.orderFromURL()
		j.screenshot("4242-success")
		j.do("follow the webhook line to the simulator's dashboard",
			chromedp.Click(chromedp.CSS("#webhook-line a")),
			chromedp.WaitVisible(chromedp.CSS("#deliveries")),
		)
		mustContain(t, "simulator's deliveries", j.text("#deliveries"), ord.ID, "checkout.session.completed", "payment_intent.succeeded")

		// Back from the paid session (the checkout's back link leads to
		// the cancel URL): the order is paid, never "not completed".
		j.do("return from the paid session", chromedp.Navigate(srv.URL+"/checkout/cancel?order="+ord.ID), chromedp.WaitVisible(chromedp.CSS("#thanks")))
		if got, main := j.text("#status"), j.text("main"); got != "Paid" || strings.Contains(strings.ToLower(main), "not completed") {
			t.Errorf("returning to a paid order shows %q: %q", got, main)
		}

		j.do("open the orders page", chromedp.Navigate(srv.URL+"/admin/orders"), chromedp.WaitVisible(chromedp.CSS("#outcomes-"+ord.ID)))
		mustContain(t, "orders page", j.text("#outcomes-"+ord.ID), "PaymentSucceeded", "€49.80", "checkout.session.completed")
		mustContain(t, "orders page", j.text("#stripe-said-"+ord.ID), "Stripe said: PaymentSucceeded, €49.80")
		j.screenshot("4242-orders")

		ord = j.order(ord.ID)
		if ord.Status != shop.StatusPaid {
			t.Errorf("order status = %s, want paid", ord.Status)
		}
		found := false
		for _, o := range ord.Outcomes {
			if o.Kind == stripegateway.PaymentSucceeded {
				found = true
				if !o.Amount.Equal(decimal.RequireFromString("49.80")) || o.Currency != "eur" {
					t.Errorf("PaymentSucceeded amount = %s %s, want 49.80 eur", o.Amount, o.Currency)
				}
			}
		}
		if !found {
			t.Errorf("no PaymentSucceeded outcome recorded: %+v", ord.Outcomes)
		}
	})

	t.Run("0002 is declined", func(t *testing.T) {
		j := newJourney(t, browser, srv, artifacts)
		j.buy("mug")
		ord := j.orderOnCheckout()
		j.pay("4000 0000 0000 0002")
		j.do("wait for the decline", chromedp.WaitVisible(chromedp.CSS("#error")))
		mustContain(t, "decline message", j.text("#error"), "Your card was declined.")
		j.screenshot("0002-declined")
		if got := j.order(ord.ID).Status; got == shop.StatusPaid {
			t.Errorf("order status = %s, want unpaid", got)
		}
		j.do("go back to the store", chromedp.Click(chromedp.CSS("#cancel")), chromedp.WaitVisible(chromedp.CSS("#retry")))
		mustContain(t, "cancel page", j.text("#status"), "Payment failed")
		mustContain(t, "cancel page", j.text("#failure"), "Your card was declined.")
		mustContain(t, "cancel page", j.text("#webhook-text"), "1 signed webhook event delivered: payment_intent.payment_failed")
		j.screenshot("0002-cancel")
		if got := j.order(ord.ID); got.Status != shop.StatusFailed || got.FailureMessage != "Your card was declined." {
			t.Errorf("order = %s %q, want failed with the decline message", got.Status, got.FailureMessage)
		}
	})

	t.Run("3155 Complete pays", func(t *testing.T) {
		j := newJourney(t, browser, srv, artifacts)
		j.buy("kettle")
		j.pay(stripegatewaytest.CardThreeDSecure)
		j.do("wait for 3-D Secure", chromedp.WaitVisible(chromedp.CSS("#complete")))
		j.screenshot("3155-authenticate")
		j.do("complete", chromedp.Click(chromedp.CSS("#complete")), chromedp.WaitVisible(chromedp.CSS("#thanks")))
		if got := j.text("#status"); got != "Paid" {
			t.Errorf("status = %q, want Paid", got)
		}
		j.screenshot("3155-complete-success")
		if got := j.orderFromURL().Status; got != shop.StatusPaid {
			t.Errorf("order status = %s, want paid", got)
		}
	})

	t.Run("3155 Fail does not pay", func(t *testing.T) {
		j := newJourney(t, browser, srv, artifacts)
		j.buy("beans")
		ord := j.orderOnCheckout()
		j.pay(stripegatewaytest.CardThreeDSecure)
		j.do("fail 3-D Secure", chromedp.WaitVisible(chromedp.CSS("#fail")), chromedp.Click(chromedp.CSS("#fail")), chromedp.WaitVisible(chromedp.CSS("#error")))
		mustContain(t, "failure message", j.text("#error"), "unable to authenticate")
		j.screenshot("3155-fail")
		j.do("go back to the store", chromedp.Click(chromedp.CSS("#cancel")), chromedp.WaitVisible(chromedp.CSS("#status")))
		if got := j.text("#status"); got == "Paid" {
			t.Errorf("cancel page status = %q", got)
		}
		j.screenshot("3155-fail-cancel")
		if got := j.order(ord.ID).Status; got == shop.StatusPaid {
			t.Errorf("order status = %s, want not paid", got)
		}
	})

	t.Run("JPY has no decimals", func(t *testing.T) {
		j := newJourney(t, browser, srv, artifacts)
		j.do("open the shop", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#product-matcha")))
		price := j.text("#product-matcha .price")
		if price != "¥1,500" {
			t.Errorf("catalog price = %q, want ¥1,500", price)
		}
		j.buy("matcha")
		if got := j.text("#total"); got != "¥1,500" {
			t.Errorf("checkout total = %q, want ¥1,500", got)
		}
		j.screenshot("jpy-checkout")
		j.pay(stripegatewaytest.CardSucceeds)
		j.do("wait for paid", chromedp.WaitVisible(chromedp.CSS("#thanks")))
		if got := j.text("#order-total"); got != "¥1,500" {
			t.Errorf("order total = %q, want ¥1,500", got)
		}
		ord := j.orderFromURL()
		j.do("open the orders page", chromedp.Navigate(srv.URL+"/admin/orders"), chromedp.WaitVisible(chromedp.CSS("#outcomes-"+ord.ID)))
		amounts := j.text("#outcomes-" + ord.ID + " .amount")
		if amounts != "¥1,500" {
			t.Errorf("recorded amount shown as %q, want ¥1,500", amounts)
		}
		j.screenshot("jpy-orders")
		for _, o := range j.order(ord.ID).Outcomes {
			if o.AmountMinor != 1500 || !o.Amount.Equal(decimal.NewFromInt(1500)) || o.Currency != "jpy" {
				t.Errorf("recorded %s: %s (%d minor) %s, want 1500 jpy", o.Kind, o.Amount, o.AmountMinor, o.Currency)
			}
		}
	})

	t.Run("a live secret key in test mode is refused beside the field", func(t *testing.T) {
		j := newJourney(t, browser, srv, artifacts)
		before := srv.App.Gateway()
		j.do("submit a live key",
			chromedp.Navigate(srv.URL+"/admin/settings"),
			chromedp.WaitVisible(chromedp.CSS("#SecretKey")),
			chromedp.SendKeys(chromedp.CSS("#SecretKey"), "sk_live_51Hlivesecretkeyvalue67890"),
			chromedp.Click(chromedp.CSS("#save")),
			chromedp.WaitVisible(chromedp.CSS("#SecretKey-error")),
		)
		msg := j.text("#SecretKey-error")
		mustContain(t, "SecretKey error", msg, "Secret key is a live-mode key (sk_live_…7890)", `the Mode field is "test"`)
		mustContain(t, "error summary", j.text("#error-summary"), "1 problem stopped these settings", msg)
		mustContain(t, "kept key", j.text("#SecretKey-kept"), "sk_live_…7890")
		focus, err := chromedp.Run(j.ctx, chromedp.Evaluate[string](`document.activeElement.id + " " + document.activeElement.getAttribute("aria-invalid") + " " + document.activeElement.getAttribute("aria-describedby")`))
		if err != nil || focus != "SecretKey true SecretKey-error SecretKey-kept SecretKey-help" {
			t.Errorf("focus on %q (%v), want the Secret key field, invalid, described by its message", focus, err)
		}
		beside, err := chromedp.Run(j.ctx, chromedp.Evaluate[bool](`document.getElementById("SecretKey-error").previousElementSibling.id === "SecretKey"`))
		if err != nil || !beside {
			t.Errorf("the error is not beside the SecretKey field (%v)", err)
		}
		if strings.Contains(j.text("main"), "sk_live_51Hlivesecretkeyvalue67890") {
			t.Error("the page shows the secret key")
		}
		j.screenshot("settings-live-key")
		if srv.App.Gateway() != before {
			t.Error("an invalid form swapped the gateway")
		}
	})

	t.Run("a subscription renews from the simulator's page", func(t *testing.T) {
		j := newJourney(t, browser, srv, artifacts)
		j.buy("club")
		mustContain(t, "checkout page", j.text("#total"), "€19.99", "per month")
		j.pay(stripegatewaytest.CardSucceeds)
		j.do("wait for paid", chromedp.WaitVisible(chromedp.CSS("#thanks")))
		ord := j.orderFromURL()
		sess, ok := srv.Simulator.Session(ord.SessionID)
		if !ok {
			t.Fatalf("the simulator has no session %s", ord.SessionID)
		}
		first := "Active until " + sess.CurrentPeriodEnd.Format("Jan 2, 2006")
		mustContain(t, "success page", j.text("#subscription"), first)
		j.screenshot("subscription-success")

		j.do("open the orders page", chromedp.Navigate(srv.URL+"/admin/orders"), chromedp.WaitVisible(chromedp.CSS("#sub-"+ord.ID)))
		if got := j.text("#sub-" + ord.ID); got != first {
			t.Errorf("orders page says %q, want %q", got, first)
		}

		row := "#session-" + ord.SessionID
		j.do("renew on the simulator's page",
			chromedp.Navigate(srv.URL+shop.SimulatorPath+"/"),
			chromedp.WaitVisible(chromedp.CSS(row+` button[value="renew"]`)),
			chromedp.Click(chromedp.CSS(row+` button[value="renew"]`)),
			chromedp.WaitVisible(chromedp.CSS("#done")),
		)
		mustContain(t, "simulator page", j.text("#done"), "Renewal paid: 2 signed webhook event(s) delivered")
		mustContain(t, "deliveries", j.text("#deliveries"), "invoice.paid", "invoice.payment_succeeded")
		j.screenshot("simulator-renewed")

		renewed, _ := srv.Simulator.Session(ord.SessionID)
		if !renewed.CurrentPeriodStart.Equal(sess.CurrentPeriodEnd) {
			t.Errorf("the renewal's period starts %s, want %s", renewed.CurrentPeriodStart, sess.CurrentPeriodEnd)
		}
		second := "Active until " + renewed.CurrentPeriodEnd.Format("Jan 2, 2006") + " · 1 renewal"
		j.do("open the orders page again", chromedp.Navigate(srv.URL+"/admin/orders"), chromedp.WaitVisible(chromedp.CSS("#sub-"+ord.ID)))
		if got := j.text("#sub-" + ord.ID); got != second {
			t.Errorf("after the renewal the orders page says %q, want %q", got, second)
		}
		mustContain(t, "outcomes", j.text("#outcomes-"+ord.ID), "invoice.paid", "renewal invoice "+renewed.LatestInvoiceID+" paid: active until")
		j.screenshot("subscription-renewed-orders")
		got := j.order(ord.ID)
		if got.Status != shop.StatusPaid || !got.ActiveUntil.Equal(renewed.CurrentPeriodEnd) {
			t.Errorf("order = %s, active until %s; want paid, active until %s", got.Status, got.ActiveUntil, renewed.CurrentPeriodEnd)
		}
	})

	t.Run("the settings page checks the webhook endpoint", func(t *testing.T) {
		j := newJourney(t, browser, srv, artifacts)
		j.do("check the correct endpoint",
			chromedp.Navigate(srv.URL+"/admin/settings"),
			chromedp.WaitVisible(chromedp.CSS("#check-endpoint")),
			chromedp.Click(chromedp.CSS("#check-endpoint")),
			chromedp.WaitVisible(chromedp.CSS("#endpoint-check")),
		)
		mustContain(t, "endpoint check", j.text("#endpoint-summary"), "✓ Stripe sends this store's events to "+srv.URL+shop.WebhookPath)

		j.do("misconfigure the endpoint on the simulator's page",
			chromedp.Navigate(srv.URL+shop.SimulatorPath+"/#webhook-endpoint"),
			chromedp.WaitVisible(chromedp.CSS("#endpoint-form")),
			chromedp.Click(chromedp.CSS("#fault-disabled")),
			setValue("#fault-api-version", stripegatewaytest.SuggestedFaultAPIVersion),
			chromedp.Click(chromedp.CSS(`input[name="enabled_events"][value="invoice.paid"]`)),
			chromedp.Click(chromedp.CSS("#endpoint-save")),
			chromedp.WaitVisible(chromedp.CSS("#endpoint-misconfigured")),
		)
		mustContain(t, "simulator page", j.text("#endpoint-status"), "disabled")
		j.do("check it from the settings page",
			chromedp.Navigate(srv.URL+"/admin/settings"),
			chromedp.WaitVisible(chromedp.CSS("#check-endpoint")),
			chromedp.Click(chromedp.CSS("#check-endpoint")),
			chromedp.WaitVisible(chromedp.CSS("#endpoint-Status")),
		)
		mustContain(t, "summary", j.text("#endpoint-summary"), "✗ The webhook endpoint for "+srv.URL+shop.WebhookPath+" needs fixing")
		mustContain(t, "Status", j.text("#endpoint-Status"), "Status:", "is disabled")
		mustContain(t, "API version", j.text("#endpoint-APIVersion"), "API version:", "2099-01-01.future")
		mustContain(t, "Events", j.text("#endpoint-EnabledEvents"), "Events:", "does not send invoice.paid")
		j.screenshot("settings-endpoint-misconfigured")

		j.do("reset the endpoint",
			chromedp.Navigate(srv.URL+shop.SimulatorPath+"/#webhook-endpoint"),
			chromedp.WaitVisible(chromedp.CSS("#endpoint-reset")),
			chromedp.Click(chromedp.CSS("#endpoint-reset")),
			chromedp.WaitNotPresent(chromedp.CSS("#endpoint-misconfigured")),
			chromedp.WaitVisible(chromedp.CSS("#endpoint-form")),
		)
		if f := srv.Simulator.WebhookEndpointFaults(); f.Disabled || f.APIVersion != "" || len(f.DropEvents) > 0 {
			t.Errorf("faults after reset: %+v", f)
		}
		j.do("check again",
			chromedp.Navigate(srv.URL+"/admin/settings"),
			chromedp.WaitVisible(chromedp.CSS("#check-endpoint")),
			chromedp.Click(chromedp.CSS("#check-endpoint")),
			chromedp.WaitVisible(chromedp.CSS("#endpoint-check")),
		)
		mustContain(t, "endpoint check", j.text("#endpoint-summary"), "✓")
	})

	t.Run("a payment missed while the store was down is recovered from the Orders page", func(t *testing.T) {
		recoverJourney(t, browser, srv, artifacts, "")
	})

	t.Run("the checkout refuses bad card details and declines the test cards", func(t *testing.T) {
		checkoutRefusals(t, browser, srv, artifacts)
	})

	t.Run("the admin signs in and out, and nothing opens without a session", func(t *testing.T) {
		adminSession(t, browser, srv, artifacts)
	})

	t.Run("every storefront page fits a 390 px phone", func(t *testing.T) {
		phonePages(t, browser, srv, artifacts)
	})

	fmt.Fprintf(os.Stderr, "screenshots: %s\n", artifacts)
}

// checkoutRefusals: on the simulated checkout, each bad expiry, CVC and
// name is refused beside its field with Stripe's message, keeping what was
// typed; each of Stripe's decline test cards is declined with its message;
// the order stays unpaid until a good card pays it.
func checkoutRefusals(t *testing.T, browser context.Context, srv *shop.Server, artifacts string) {
	j := newJourney(t, browser, srv, artifacts)
	j.buy("kettle")
	ord := j.orderOnCheckout()
	for _, c := range []struct {
		name, card, expiry, cvc, holder, field, want string
	}{
		{"expiry in the past", "4242 4242 4242 4242", "01 / 20", "123", "Jenny Rosen", "#cardExpiry-error", "in the past"},
		{"impossible month", "4242 4242 4242 4242", "13 / 99", "123", "Jenny Rosen", "#cardExpiry-error", "month is invalid"},
		{"bad CVC", "4242 4242 4242 4242", "12 / 34", "x", "Jenny Rosen", "#cardCvc-error", "security code is"},
		{"no name", "4242 4242 4242 4242", "12 / 34", "123", "", "#billingName-error", "Required"},
	} {
		j.fillCard(c.card, c.expiry, c.cvc, c.holder)
		j.do(c.name, clearErrors, chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS(c.field)))
		mustContain(t, c.name, j.text(c.field), c.want)
		if got := strings.ReplaceAll(j.value("#cardNumber"), " ", ""); got != "4242424242424242" {
			t.Errorf("%s: the card number became %q; nothing typed is lost", c.name, got)
		}
		if got := j.value("#billingName"); got != c.holder {
			t.Errorf("%s: the name became %q, want %q", c.name, got, c.holder)
		}
		if got := j.order(ord.ID).Status; got == shop.StatusPaid {
			t.Fatalf("%s: the order is paid", c.name)
		}
	}
	j.screenshot("checkout-refused")
	for _, c := range []struct{ card, want string }{
		{stripegatewaytest.CardExpired, "Your card has expired."},
		{stripegatewaytest.CardIncorrectCVC, "Your card's security code is incorrect."},
		{stripegatewaytest.CardInsufficientFunds, "Your card has insufficient funds."},
	} {
		j.pay(c.card)
		j.do("wait for the decline of "+c.card, chromedp.WaitVisible(chromedp.CSS("#error")))
		mustContain(t, c.card, j.text("#error"), c.want)
		if got := j.order(ord.ID); got.Status != shop.StatusFailed || got.FailureMessage != c.want {
			t.Errorf("%s: order %s %q, want failed with %q", c.card, got.Status, got.FailureMessage, c.want)
		}
	}
	j.screenshot("checkout-declined-insufficient-funds")
	j.pay(stripegatewaytest.CardSucceeds)
	j.do("pay at last", chromedp.WaitVisible(chromedp.CSS("#thanks")))
	if got := j.order(ord.ID).Status; got != shop.StatusPaid {
		t.Errorf("order %s, want paid", got)
	}
}

// adminSession: in a browser with no session, the admin pages lead to the
// login; a wrong password is refused; the right one opens the page asked
// for; signing out closes it again.
func adminSession(t *testing.T, browser context.Context, srv *shop.Server, artifacts string) {
	j := newJourney(t, browser, srv, artifacts, chromedp.WithNewBrowserContext())
	j.do("open the settings without a session",
		chromedp.Navigate(srv.URL+"/admin/settings"),
		chromedp.WaitVisible(chromedp.CSS("#password")),
	)
	if loc := j.location(); !strings.HasPrefix(loc, srv.URL+"/admin/login?next=") {
		t.Errorf("without a session the settings lead to %s", loc)
	}
	if strings.Contains(j.text("main"), "Webhook signing secret") {
		t.Error("the settings show without a session")
	}
	j.do("a wrong password",
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#login-error")),
	)
	mustContain(t, "login error", j.text("#login-error"), "That password is not right.")
	j.screenshot("login-refused")
	j.do("the right password",
		setValue("#password", ""),
		chromedp.SendKeys(chromedp.CSS("#password"), adminPassword),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#save")),
	)
	if loc := j.location(); loc != srv.URL+"/admin/settings" {
		t.Errorf("after signing in the browser is at %s, want the settings", loc)
	}
	cookies, err := chromedp.Run(j.ctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil || cookies != "" {
		t.Errorf("scripts read the cookies %q (%v); they are HttpOnly", cookies, err)
	}
	j.do("sign out",
		chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#signed-out")),
	)
	j.screenshot("signed-out")
	j.do("the orders page without a session",
		chromedp.Navigate(srv.URL+"/admin/orders"),
		chromedp.WaitVisible(chromedp.CSS("#password")),
	)
	if strings.Contains(j.text("main"), "Recover missed events") {
		t.Error("the orders show after signing out")
	}
}

// phonePages walks every storefront page on a 390 px screen: the shop, a
// payment's success page with its webhook line, a decline's page, the
// orders, the settings (and their errors), an error page, the shop with
// payments switched off, and the login.
func phonePages(t *testing.T, browser context.Context, srv *shop.Server, artifacts string) {
	j := newJourney(t, browser, srv, artifacts)
	j.onPhone()
	j.do("open the shop", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#buy-beans")))
	j.checkPage("phone-catalog")
	if href, err := chromedp.Run(j.ctx, chromedp.Evaluate[string](`document.getElementById("sim-link").getAttribute("href")`)); err != nil || href != shop.SimulatorPath+"/" {
		t.Errorf("the header links the simulator's dashboard at %q (%v)", href, err)
	}

	j.buy("club")
	j.pay(stripegatewaytest.CardSucceeds)
	j.do("wait for paid", chromedp.WaitVisible(chromedp.CSS("#thanks")))
	mustContain(t, "webhook line", j.text("#webhook-line"), "Simulated payment", "signed webhook events delivered: checkout.session.completed", "view")
	j.checkPage("phone-success")

	j.buy("mug")
	j.pay(stripegatewaytest.CardDeclined)
	j.do("declined", chromedp.WaitVisible(chromedp.CSS("#error")), chromedp.Click(chromedp.CSS("#cancel")), chromedp.WaitVisible(chromedp.CSS("#retry")))
	mustContain(t, "decline's webhook line", j.text("#webhook-text"), "payment_intent.payment_failed")
	j.checkPage("phone-declined")

	j.do("open the orders", chromedp.Navigate(srv.URL+"/admin/orders"), chromedp.WaitVisible(chromedp.CSS("#orders")))
	j.checkPage("phone-orders")

	j.do("open the settings", chromedp.Navigate(srv.URL+"/admin/settings"), chromedp.WaitVisible(chromedp.CSS("#save")))
	j.checkPage("phone-settings")
	j.do("check the webhook endpoint", chromedp.Click(chromedp.CSS("#check-endpoint")), chromedp.WaitVisible(chromedp.CSS("#endpoint-check")))
	j.checkPage("phone-settings-endpoint")
	j.do("refuse a live key",
		chromedp.SendKeys(chromedp.CSS("#SecretKey"), "sk_live_51Hlivesecretkeyvalue67890"),
		setValue("#DisplayName", ""),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#error-summary")),
	)
	j.checkPage("phone-settings-errors")

	j.do("switch payments off",
		chromedp.Navigate(srv.URL+"/admin/settings"),
		chromedp.WaitVisible(chromedp.CSS("#save")),
		setValue("#Status", "inactive"),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#saved")),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#disabled")),
	)
	disabled, err := chromedp.Run(j.ctx, chromedp.Evaluate[bool](`Array.from(document.querySelectorAll("button[id^=buy-]")).every(b => b.disabled && b.getAttribute("aria-describedby") === "disabled")`))
	if err != nil || !disabled {
		t.Errorf("with payments off, a Buy button is enabled or unexplained (%v)", err)
	}
	j.checkPage("phone-catalog-payments-off")
	j.do("switch payments on again",
		chromedp.Navigate(srv.URL+"/admin/settings"),
		chromedp.WaitVisible(chromedp.CSS("#save")),
		setValue("#Status", "active"),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#saved")),
	)

	j.do("an error page", chromedp.Navigate(srv.URL+"/checkout/success?order=nope"), chromedp.WaitVisible(chromedp.CSS("#error")))
	j.checkPage("phone-error")

	out := newJourney(t, browser, srv, artifacts, chromedp.WithNewBrowserContext())
	out.onPhone()
	out.do("the login page", chromedp.Navigate(srv.URL+"/admin/orders"), chromedp.WaitVisible(chromedp.CSS("#password")))
	out.checkPage("phone-login")
	out.do("a wrong password", chromedp.SendKeys(chromedp.CSS("#password"), "nope"), chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS("#login-error")))
	out.checkPage("phone-login-refused")

	// The simulator's pages are not the store's: measured, for the record.
	j.do("the simulator's dashboard", chromedp.Navigate(srv.URL+shop.SimulatorPath+"/"), chromedp.WaitVisible(chromedp.CSS("#deliveries")))
	if c, err := chromedp.Run(j.ctx, chromedp.Evaluate[pageCheck](measureJS)); err == nil {
		t.Logf("the simulator's dashboard at %d px: %d px wide", c.InnerWidth, c.ScrollWidth)
	}
	j.screenshot("phone-simulator")
}

// TestStorefrontInBrowserWithSQLite walks a payment and the recovery of a
// missed one in -db mode, where each webhook event changes its order in
// the SQLite transaction that records the event (sqlstore's transactional
// path).
func TestStorefrontInBrowserWithSQLite(t *testing.T) {
	chromium := findChromium(t)
	artifacts := artifactDir(t)
	srv := startStore(t, artifacts, filepath.Join(t.TempDir(), "storefront.db"))
	if srv.DBPath == "" {
		t.Fatal("the store is not in -db mode")
	}
	browser := newBrowser(t, chromium)
	newJourney(t, browser, srv, artifacts).login()

	t.Run("4242 pays", func(t *testing.T) {
		j := newJourney(t, browser, srv, artifacts)
		j.buy("mug")
		j.pay(stripegatewaytest.CardSucceeds)
		j.do("the success page says paid", chromedp.WaitVisible(chromedp.CSS("#thanks")))
		if got := j.text("#status"); got != "Paid" {
			t.Errorf("success page status = %q, want Paid", got)
		}
		ord := j.order(j.orderFromURL().ID)
		j.screenshot("db-4242-success")
		if ord.Status != shop.StatusPaid {
			t.Errorf("order status = %s, want paid", ord.Status)
		}
		seen := map[string]bool{}
		for _, o := range ord.Outcomes {
			if seen[o.EventID] {
				t.Errorf("event %s recorded twice: %+v", o.EventID, ord.Outcomes)
			}
			seen[o.EventID] = true
		}
		for _, d := range srv.Simulator.Deliveries() {
			if d.StatusCode != 200 {
				t.Errorf("a webhook delivery got %d: %+v", d.StatusCode, d)
			}
		}
	})

	t.Run("a payment missed while the store was down is recovered from the Orders page", func(t *testing.T) {
		recoverJourney(t, browser, srv, artifacts, "db-")
	})
}

// recoverJourney: the store misses a payment's events while its webhook
// endpoint is unreachable, and the Orders page's button recovers them,
// once. Screenshots are named with the prefix shots.
func recoverJourney(t *testing.T, browser context.Context, srv *shop.Server, artifacts, shots string) {
	j := newJourney(t, browser, srv, artifacts)
	j.do("make the webhook endpoint unreachable on the simulator's page",
		chromedp.Navigate(srv.URL+shop.SimulatorPath+"/"),
		chromedp.WaitVisible(chromedp.CSS("#endpoint-down")),
		chromedp.Click(chromedp.CSS("#endpoint-down")),
		chromedp.WaitVisible(chromedp.CSS("#endpoint-unreachable")),
	)
	if !srv.Simulator.EndpointUnreachable() {
		t.Fatal("the simulator still delivers")
	}
	j.buy("beans")
	ord := j.orderOnCheckout()
	j.pay(stripegatewaytest.CardSucceeds)
	j.do("the success page waits for the webhook", chromedp.WaitVisible(chromedp.CSS("#waiting")))
	j.screenshot(shots + "recover-store-down-success-waits")
	if got := j.order(ord.ID); got.Status != shop.StatusUnpaid || len(got.Outcomes) != 0 {
		t.Fatalf("while the store was down the order became %s with %d outcomes", got.Status, len(got.Outcomes))
	}
	j.do("make the endpoint reachable again",
		chromedp.Navigate(srv.URL+shop.SimulatorPath+"/"),
		chromedp.WaitVisible(chromedp.CSS("#endpoint-up")),
		chromedp.Click(chromedp.CSS("#endpoint-up")),
		chromedp.WaitVisible(chromedp.CSS("#endpoint-down")),
	)
	mustContain(t, "simulator page", j.text("#events-summary"), "2 of them not delivered")
	j.screenshot(shots + "recover-simulator-events")

	j.do("press Recover missed events",
		chromedp.Navigate(srv.URL+"/admin/orders"),
		chromedp.WaitVisible(chromedp.CSS("#recover-button")),
		chromedp.Click(chromedp.CSS("#recover-button")),
		chromedp.WaitVisible(chromedp.CSS("#recover-result")),
	)
	if got := j.text("#recover-recovered"); got != "2" {
		t.Errorf("recovered %s events, want 2 (checkout.session.completed, payment_intent.succeeded)", got)
	}
	if got, want := j.text("#recover-seen"), fmt.Sprint(len(srv.Simulator.Events())); got != want {
		t.Errorf("%s events seen, want %s", got, want)
	}
	mustContain(t, "recovery result", j.text("#recover-result"), "✓ Recovered 2 missed events", "the last event seen was created at")
	outcomes := func() int {
		n, err := chromedp.Run(j.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#outcomes-`+ord.ID+` tr.outcome").length`))
		if err != nil {
			t.Fatalf("counting the outcomes: %v", err)
		}
		return n
	}
	if n := outcomes(); n != 2 {
		t.Errorf("the orders page shows %d outcomes, want 2", n)
	}
	mustContain(t, "order row", j.text("#order-"+ord.ID), "Paid")
	mustContain(t, "outcomes", j.text("#outcomes-"+ord.ID), "PaymentSucceeded", "checkout.session.completed", "payment_intent.succeeded")
	j.screenshot(shots + "recover-orders-recovered")
	first := j.order(ord.ID)

	if _, err := chromedp.Run(j.ctx, chromedp.Evaluate[bool](`document.getElementById("recover-result").remove(), true`)); err != nil {
		t.Fatalf("clearing the first result: %v", err)
	}
	j.do("press it again",
		chromedp.Click(chromedp.CSS("#recover-button")),
		chromedp.WaitVisible(chromedp.CSS("#recover-result")),
	)
	if got := j.text("#recover-recovered"); got != "0" {
		t.Errorf("the second run recovered %s events, want 0", got)
	}
	if n := outcomes(); n != 2 {
		t.Errorf("after the second run the orders page shows %d outcomes, want 2", n)
	}
	j.screenshot(shots + "recover-orders-again")
	got := j.order(ord.ID)
	if got.Status != shop.StatusPaid || len(got.Outcomes) != 2 || len(first.Outcomes) != 2 {
		t.Fatalf("order = %s with %d outcomes (after the first run %d), want paid with 2", got.Status, len(got.Outcomes), len(first.Outcomes))
	}
	if got.Outcomes[0].EventID == got.Outcomes[1].EventID {
		t.Errorf("one event recorded twice: %+v", got.Outcomes)
	}
	for i, o := range got.Outcomes {
		if f := first.Outcomes[i]; o.EventID != f.EventID || o.Applied != f.Applied || o.Note != f.Note || !o.ReceivedAt.Equal(f.ReceivedAt) {
			t.Errorf("outcome %d changed by the second run: %+v, then %+v", i, f, o)
		}
	}
}
