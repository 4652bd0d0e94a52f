package shop

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/internal/stripemock"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// TestAttacksAreRefused tries, against a running store whose admin is
// signed in, each way issue 12 found to change its settings from outside,
// and then the repro: replace the webhook secret, and pay for
// nothing with an event signed by the attacker's secret. Each is refused
// and the settings stay as they were.
func TestAttacksAreRefused(t *testing.T) {
	srv := startStore(t)
	admin := signIn(t, srv)
	admin.get(t, "/admin/settings")
	attackerSecret := "whsec_" + strings.Repeat("a", 40)
	evil := settingsForm("WebhookSecret", attackerSecret, "DisplayName", "Pwned")
	live := srv.App.Gateway()
	unchanged := func(t *testing.T) {
		t.Helper()
		assert.Same(t, live, srv.App.Gateway(), "the settings are unchanged")
		assert.Equal(t, testWebhookSecret, string(srv.App.Gateway().Config().WebhookSecret))
		assert.Equal(t, "Credit Card", srv.App.Gateway().Config().DisplayName)
	}
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
	rebind := "rebind.attacker.example:" + port

	t.Run("a forged Host (DNS rebinding)", func(t *testing.T) {
		// Even with the admin's cookie and token, which a rebinding page
		// would not have: the Host alone is refused.
		f := url.Values{}
		for k, v := range evil {
			f[k] = v
		}
		f.Set(csrfField, admin.token)
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/admin/settings", strings.NewReader(f.Encode()))
		require.NoError(t, err)
		req.Host = rebind
		req.Header.Set("Origin", "http://"+rebind)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r := admin.do(t, req)
		assert.Equal(t, http.StatusMisdirectedRequest, r.status)
		assert.NotContains(t, r.body, "csrf")
		unchanged(t)
		for _, p := range []string{"/", "/admin/settings", "/admin/orders", "/admin/login", SimulatorPath + "/"} {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
			req.Host = rebind
			assert.Equal(t, http.StatusMisdirectedRequest, admin.do(t, req).status, p)
		}
	})

	t.Run("a null Origin", func(t *testing.T) {
		r := admin.post(t, "/admin/settings", evil, "Origin", "null")
		assert.Equal(t, http.StatusForbidden, r.status)
		unchanged(t)
		r = admin.post(t, "/admin/settings", evil, "Origin", "http://rebind.attacker.example")
		assert.Equal(t, http.StatusForbidden, r.status, "another site's Origin")
		unchanged(t)
		r = admin.post(t, "/admin/settings", evil, "Sec-Fetch-Site", "cross-site")
		assert.Equal(t, http.StatusForbidden, r.status)
		unchanged(t)
	})

	t.Run("a missing or wrong CSRF token", func(t *testing.T) {
		for name, token := range map[string]string{
			"missing":              "",
			"wrong":                "forged-token",
			"another visitor's":    newClient(t, srv).token,
			"another admin's":      signIn(t, srv).token,
			"the session's, twice": admin.token + admin.token,
		} {
			f := url.Values{}
			for k, v := range evil {
				f[k] = v
			}
			f.Set(csrfField, token)
			r := admin.post(t, "/admin/settings", f)
			assert.Equal(t, http.StatusForbidden, r.status, name)
			assert.Contains(t, r.body, "This form has expired", name)
			unchanged(t)
		}
		// The same for the other admin forms.
		for _, p := range []string{"/admin/recover", "/admin/logout"} {
			assert.Equal(t, http.StatusForbidden, admin.post(t, p, url.Values{csrfField: {"forged"}}).status, p)
		}
		assert.Equal(t, http.StatusOK, admin.get(t, "/admin/orders").status, "the session is still open")
		assert.Nil(t, srv.App.lastRecovery(), "no recovery ran")
	})

	t.Run("no session", func(t *testing.T) {
		visitor := newClient(t, srv) // with a valid visitor's token
		r := visitor.post(t, "/admin/settings", evil)
		assert.Equal(t, http.StatusForbidden, r.status)
		assert.Contains(t, r.body, "Please sign in")
		unchanged(t)
		r = do(t, http.MethodPost, srv.URL+"/admin/settings", evil)
		assert.Equal(t, http.StatusForbidden, r.status, "no cookie at all")
		unchanged(t)
		r = visitor.post(t, "/admin/recover", url.Values{"days": {"3"}})
		assert.Equal(t, http.StatusForbidden, r.status)
		assert.Nil(t, srv.App.lastRecovery())
		// A forged session cookie is no session.
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/admin/settings", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "forged"})
		r = do2(t, req)
		assert.Equal(t, http.StatusSeeOther, r.status)
		for _, p := range []string{"/admin/settings", "/admin/orders"} {
			r := do(t, http.MethodGet, srv.URL+p, nil)
			assert.Equal(t, http.StatusSeeOther, r.status, p)
			assert.True(t, strings.HasPrefix(r.location, "/admin/login"), r.location)
			assert.NotContains(t, r.body, "Webhook signing secret")
		}
	})

	t.Run("paying for nothing fails", func(t *testing.T) {
		ord, _ := buy(t, srv, "kettle", 1)
		ev := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, ord.ID, dec("59.00"), "eur")
		payload := ev.MustJSON()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+WebhookPath, bytes.NewReader(payload))
		req.Header.Set("Stripe-Signature", stripegatewaytest.SignatureHeader(payload, attackerSecret))
		r := do2(t, req)
		assert.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, StatusUnpaid, order(t, srv, ord.ID).Status)
	})
}

// do2 sends req without cookies or redirects.
func do2(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{resp.StatusCode, resp.Header.Get("Location"), string(b)}
}

// TestAdminLogin: the admin pages need a session; a wrong password is
// refused, and five a minute close the login; signing out closes the
// session for good.
func TestAdminLogin(t *testing.T) {
	srv := startStore(t)
	require.True(t, srv.AdminPasswordGenerated)
	require.Len(t, srv.AdminPassword, 20)

	c := newClient(t, srv)
	r := c.get(t, "/admin/settings")
	require.Equal(t, http.StatusSeeOther, r.status)
	assert.Equal(t, "/admin/login?next=%2Fadmin%2Fsettings", r.location)
	r = c.get(t, r.location)
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `<input type="password" id="password" name="password" autocomplete="current-password" required autofocus aria-describedby="password-help">`)
	assert.Contains(t, r.body, `<input type="hidden" name="next" value="/admin/settings">`)
	assert.NotContains(t, r.body, `id="logout"`)

	r = c.post(t, "/admin/login", url.Values{"password": {"wrong"}, "next": {"/admin/settings"}})
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Contains(t, r.body, `id="login-error" role="alert">That password is not right. Please try again.<`)
	assert.Contains(t, r.body, `aria-invalid="true" aria-describedby="login-error password-help"`)

	// The right password opens a session, with a cookie scripts cannot
	// read and other sites cannot send.
	f := url.Values{"password": {srv.AdminPassword}, "next": {"https://evil.example/"}, csrfField: {c.token}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/admin/login", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/admin/orders", resp.Header.Get("Location"), "never to another site")
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			session = ck
		}
	}
	require.NotNil(t, session)
	assert.True(t, session.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, session.SameSite)
	assert.False(t, session.Secure, "plain HTTP")
	assert.Equal(t, "/", session.Path)

	r = c.get(t, "/admin/settings")
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `id="logout"`)
	r = c.get(t, "/admin/login?next=/admin/settings")
	assert.Equal(t, http.StatusSeeOther, r.status, "signed in already")

	// Signing out needs the token, and closes the session: its cookie,
	// sent again, opens nothing.
	assert.Equal(t, http.StatusForbidden, c.post(t, "/admin/logout", url.Values{csrfField: {""}}).status)
	c.get(t, "/admin/orders")
	r = c.post(t, "/admin/logout", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.status)
	assert.Equal(t, "/admin/login?signed_out=1", r.location)
	assert.Contains(t, c.get(t, r.location).body, `id="signed-out"`)
	assert.Equal(t, http.StatusSeeOther, c.get(t, "/admin/orders").status)
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/admin/orders", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session.Value})
	assert.Equal(t, http.StatusSeeOther, do2(t, req).status, "the old session cookie opens nothing")

	// Five wrong passwords a minute, then 429, even for the right one.
	for i := 0; i < loginLimit; i++ {
		assert.Equal(t, http.StatusUnauthorized, c.post(t, "/admin/login", url.Values{"password": {"guess"}}).status)
	}
	r = c.post(t, "/admin/login", url.Values{"password": {srv.AdminPassword}})
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Contains(t, r.body, "Too many wrong passwords")
}

func TestLoginLimitWindow(t *testing.T) {
	g := newGuard("http://localhost:8080", "secret", nil)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < loginLimit; i++ {
		limited, _ := g.limited("10.0.0.1", t0)
		require.False(t, limited, i)
		g.fail("10.0.0.1", t0.Add(time.Duration(i)*time.Second))
	}
	limited, wait := g.limited("10.0.0.1", t0.Add(10*time.Second))
	assert.True(t, limited)
	assert.Equal(t, 50*time.Second, wait)
	limited, _ = g.limited("10.0.0.2", t0)
	assert.False(t, limited, "per address")
	limited, _ = g.limited("10.0.0.1", t0.Add(loginWindow+5*time.Second))
	assert.False(t, limited, "the window has passed")

	assert.True(t, g.checkPassword("secret"))
	for _, pw := range []string{"", "secre", "secret ", "Secret", "secretsecret"} {
		assert.False(t, g.checkPassword(pw), pw)
	}
	assert.False(t, newGuard("http://localhost:8080", "", nil).checkPassword(""), "no password, no sign-in")
}

func TestHostAllowed(t *testing.T) {
	g := newGuard("http://localhost:8080", "", []string{"shop.example", "Other.Example:9000"})
	for h, want := range map[string]bool{
		"localhost:8080": true, "127.0.0.1:8080": true, "[::1]:8080": true, "LOCALHOST:8080": true,
		"localhost:8081": false, "rebind.attacker.example:8080": false, "": false, "127.0.0.2:8080": false,
		"shop.example": true, "shop.example:443": true, "other.example:9000": true, "other.example": false,
		"localhost.attacker.example:8080": false,
	} {
		assert.Equal(t, want, g.hostAllowed(h), h)
	}
	g = newGuard("https://shop.example", "", nil)
	assert.True(t, g.hostAllowed("shop.example"))
	assert.False(t, g.hostAllowed("localhost"), "loopback names only for a loopback store")
	assert.True(t, g.secure)
}

func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"/admin/settings":         "/admin/settings",
		"/admin/orders#recover":   "/admin/orders#recover",
		"":                        "/admin/orders",
		"https://evil.example/":   "/admin/orders",
		"//evil.example/admin/":   "/admin/orders",
		"/admin/\\evil.example":   "/admin/orders",
		"/admin/login?next=/x":    "/admin/orders",
		"/checkout":               "/admin/orders",
		"/admin/settings\r\nX: y": "/admin/orders",
	} {
		assert.Equal(t, want, safeNext(next), next)
	}
}

// TestSecureCookiesOverTLS: served over TLS (or behind an https URL), the
// cookies are Secure.
func TestSecureCookiesOverTLS(t *testing.T) {
	srv := startStore(t)
	for _, base := range []string{"https://shop.example", "http://shop.example"} {
		app, err := New(Options{BaseURL: base, Config: srv.App.Gateway().Config(), AdminPassword: "pw", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		require.NoError(t, err)
		t.Cleanup(app.Close)
		get := httptest.NewRequest(http.MethodGet, base+"/", nil)
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, get)
		require.Equal(t, http.StatusOK, rec.Code)
		cookies := rec.Result().Cookies()
		require.Len(t, cookies, 1)
		browser := cookies[0]
		// httptest.NewRequest marks an https URL as TLS.
		assert.Equal(t, strings.HasPrefix(base, "https"), browser.Secure, base)
		token := csrfRE.FindStringSubmatch(rec.Body.String())[1]

		post := httptest.NewRequest(http.MethodPost, base+"/admin/login", strings.NewReader(url.Values{"password": {"pw"}, csrfField: {token}}.Encode()))
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		post.AddCookie(browser)
		rec = httptest.NewRecorder()
		app.ServeHTTP(rec, post)
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		for _, ck := range rec.Result().Cookies() {
			assert.Equal(t, strings.HasPrefix(base, "https"), ck.Secure, "%s %s", base, ck.Name)
			assert.True(t, ck.HttpOnly)
		}
	}
}

// TestNoSecretInTheLog: the log gives the webhook secret redacted, says how
// to set one's own, and never shows the admin password.
func TestNoSecretInTheLog(t *testing.T) {
	t.Setenv(stripemock.EnvURL, stripemock.URL(t))
	for _, secret := range []string{testWebhookSecret, ""} {
		var buf syncBuffer
		env := map[string]string{"ADDR": "127.0.0.1:0", EnvWebhookSecret: secret}
		srv, err := Start(context.Background(), func(k string) (string, bool) { v, ok := env[k]; return v, ok && v != "" }, slog.New(slog.NewTextHandler(&buf, nil)))
		require.NoError(t, err)
		admin := signIn(t, srv)
		admin.post(t, "/admin/settings", settingsForm("SecretKey", "sk_live_51Hlivesecretkeyvalue67890"))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		require.NoError(t, srv.Shutdown(ctx))
		cancel()

		log := buf.String()
		assert.NotContains(t, log, srv.WebhookSecret)
		assert.NotContains(t, log, srv.AdminPassword)
		assert.NotContains(t, log, offlineSecretKey)
		assert.NotContains(t, log, "sk_live_51Hlivesecretkeyvalue67890")
		assert.Contains(t, log, fmtSecret(srv.WebhookSecret))
		if secret == "" {
			assert.Contains(t, log, "To sign your own events for the store, set "+EnvWebhookSecret)
		}
	}
}

func fmtSecret(s string) string { return redact(stripegateway.Secret(s)) }

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestClientIPGroupsIPv6Networks: failed sign-ins from one IPv6 /64 count
// together, so hopping addresses within it does not reset the limit.
func TestClientIPGroupsIPv6Networks(t *testing.T) {
	t.Parallel()
	req := func(remote string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/admin/login", nil)
		r.RemoteAddr = remote
		return r
	}
	assert.Equal(t, clientIP(req("[2001:db8:1:2::1]:5000")), clientIP(req("[2001:db8:1:2:ffff::9]:6000")))
	assert.NotEqual(t, clientIP(req("[2001:db8:1:2::1]:5000")), clientIP(req("[2001:db8:1:3::1]:5000")))
	assert.Equal(t, "192.0.2.7", clientIP(req("192.0.2.7:1234")))
}
