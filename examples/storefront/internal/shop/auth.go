package shop

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// This file is what stands between the world and the store's admin pages
// and forms, checked in this order:
//
//   - Host: every request must name one of the store's hosts (the host of
//     its base URL, its loopback aliases, and Options.AllowedHosts), so that
//     a DNS rebinding attack (a page of rebind.attacker.example whose name
//     now resolves to the store) is refused. Only the webhook endpoint,
//     which trusts nothing but Stripe's signature, answers any Host.
//   - Origin: a POST from another site, or from an opaque origin (Origin:
//     null, e.g. a sandboxed frame), is refused; so is one that the browser
//     marks Sec-Fetch-Site: cross-site or same-site.
//   - A CSRF token on every form: the admin session's own token, or, before
//     signing in (the shop's forms, the login form), a token bound to a
//     random cookie of the browser.
//   - The admin pages need a session, opened by the admin password
//     (compared in constant time; five failures a minute from one address,
//     then 429) and closed by signing out. Its cookie is HttpOnly,
//     SameSite=Strict, and Secure when the store is served over TLS.

const (
	// sessionCookie holds the admin session's ID.
	sessionCookie = "storefront_admin"
	// browserCookie holds a random value the shop's forms' CSRF tokens
	// are bound to, for visitors who have not signed in.
	browserCookie = "storefront_csrf"
	// csrfField is the forms' hidden CSRF token field.
	csrfField = "csrf"
	// sessionTTL is how long an admin session lasts.
	sessionTTL = 12 * time.Hour
	// maxSessions bounds the sessions kept: signing in beyond it drops
	// the oldest.
	maxSessions = 1000
	// loginLimit failed sign-ins from one address within loginWindow
	// close the login form to that address until the window has passed.
	loginLimit  = 5
	loginWindow = time.Minute
	// maxLimited bounds the addresses whose failures are remembered.
	maxLimited = 10000
)

// adminSession is a signed-in admin.
type adminSession struct {
	csrf    string
	expires time.Time
	// drafts are the secrets typed into the settings form and not saved
	// (refused, or only tested), by field: the page shows them redacted,
	// and an empty field uses them again. Saving clears them.
	drafts map[string]string
}

// guard keeps the admin password, the sessions and the failed sign-ins.
type guard struct {
	password [sha256.Size]byte // the password's SHA-256; compared in constant time
	enabled  bool              // false without a password: no one can sign in
	key      []byte            // binds the browser cookie's CSRF tokens
	hosts    []allowedHost
	secure   bool // the base URL is https: cookies are Secure

	mu       sync.Mutex
	sessions map[string]*adminSession
	failures map[string][]time.Time
}

// allowedHost is a host the store answers to; an empty port matches any.
type allowedHost struct{ host, port string }

func newGuard(base string, password string, extraHosts []string) *guard {
	g := &guard{
		key:      randomBytes(32),
		sessions: map[string]*adminSession{},
		failures: map[string][]time.Time{},
	}
	if password != "" {
		g.password, g.enabled = sha256.Sum256([]byte(password)), true
	}
	if u, err := url.Parse(base); err == nil {
		g.secure = u.Scheme == "https"
		host, port := strings.ToLower(u.Hostname()), u.Port()
		g.hosts = append(g.hosts, allowedHost{host, port})
		if isLoopback(host) {
			// The same port on the other loopback names: a rebinding
			// page's Host is its own name, never one of these.
			for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
				g.hosts = append(g.hosts, allowedHost{h, port})
			}
		}
	}
	for _, h := range extraHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		host, port := splitHost(h)
		g.hosts = append(g.hosts, allowedHost{host, port})
	}
	return g
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// splitHost splits a Host header, or an allowed host, into its host and
// its port ("" if none).
func splitHost(h string) (string, string) {
	if host, port, err := net.SplitHostPort(h); err == nil {
		return host, port
	}
	return strings.Trim(h, "[]"), ""
}

// hostAllowed says whether the request's Host is one of the store's.
func (g *guard) hostAllowed(h string) bool {
	host, port := splitHost(strings.ToLower(h))
	host = strings.TrimSuffix(host, ".")
	for _, a := range g.hosts {
		if a.host == host && (a.port == "" || a.port == port) {
			return true
		}
	}
	return false
}

// sameOrigin refuses form posts from other sites (cross-site request
// forgery). Browsers send Origin with every POST and Sec-Fetch-Site with
// most; a null Origin (a sandboxed frame, a data: URL, some redirects) is
// another site's. Server-to-server requests (Stripe's webhooks, the
// gateway calling the simulator) send neither and pass: they are checked
// by their signature, or change nothing of the store's.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	o, ok := r.Header["Origin"]
	if !ok {
		return true
	}
	if len(o) != 1 || o[0] == "" || o[0] == "null" {
		return false
	}
	u, err := url.Parse(o[0])
	if err != nil || !strings.EqualFold(u.Host, r.Host) {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && r.TLS == nil)
}

// isTLS says whether cookies must be Secure: the request came over TLS, or
// the store's public URL is https (a TLS-terminating proxy in front).
func (g *guard) isTLS(r *http.Request) bool { return r.TLS != nil || g.secure }

// checkPassword compares in constant time (of the SHA-256 digests, so that
// the length of the password does not show either).
func (g *guard) checkPassword(pw string) bool {
	sum := sha256.Sum256([]byte(pw))
	return g.enabled && subtle.ConstantTimeCompare(sum[:], g.password[:]) == 1
}

// clientIP is the address failed sign-ins are counted against: the TCP
// peer's, and for IPv6 its /64 network, since one client holds a whole /64.
// (Behind a reverse proxy every client shares the proxy's; the proxy should
// limit sign-ins itself then.)
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return host
}

// limited says whether ip has failed loginLimit times within the window,
// and for how long it must wait.
func (g *guard) limited(ip string, now time.Time) (bool, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	recent := g.recentFailures(ip, now)
	if len(recent) < loginLimit {
		return false, 0
	}
	return true, recent[0].Add(loginWindow).Sub(now)
}

// recentFailures drops ip's failures older than the window. g.mu is held.
func (g *guard) recentFailures(ip string, now time.Time) []time.Time {
	fs := g.failures[ip]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= loginWindow {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(g.failures, ip)
	} else {
		g.failures[ip] = fs
	}
	return fs
}

func (g *guard) fail(ip string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, known := g.failures[ip]; !known && len(g.failures) >= maxLimited {
		for k := range g.failures {
			g.recentFailures(k, now) // drops those that have expired
		}
		if len(g.failures) >= maxLimited {
			// Full of addresses still failing: refuse to track a new one
			// rather than forget the others (an attacker's included).
			return
		}
	}
	g.failures[ip] = append(g.recentFailures(ip, now), now)
}

func (g *guard) succeeded(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.failures, ip)
}

// open starts a session and returns its ID.
func (g *guard) open(now time.Time) (string, *adminSession) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.sessions) >= maxSessions {
		var oldest string
		for id, s := range g.sessions {
			if now.After(s.expires) {
				delete(g.sessions, id)
				continue
			}
			if oldest == "" || s.expires.Before(g.sessions[oldest].expires) {
				oldest = id
			}
		}
		if len(g.sessions) >= maxSessions && oldest != "" {
			delete(g.sessions, oldest)
		}
	}
	id := randomToken()
	s := &adminSession{csrf: randomToken(), expires: now.Add(sessionTTL)}
	g.sessions[id] = s
	return id, s
}

// session returns the request's live session, or nil.
func (g *guard) session(r *http.Request, now time.Time) *adminSession {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s, ok := g.sessions[c.Value]
	if !ok {
		return nil
	}
	if now.After(s.expires) {
		delete(g.sessions, c.Value)
		return nil
	}
	return s
}

// close ends the request's session.
func (g *guard) close(r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		g.mu.Lock()
		delete(g.sessions, c.Value)
		g.mu.Unlock()
	}
}

// draft returns a secret typed into the settings form and not saved.
func (g *guard) draft(s *adminSession, field string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return s.drafts[field]
}

// setDrafts replaces the session's drafts (nil clears them).
func (g *guard) setDrafts(s *adminSession, drafts map[string]string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s.drafts = drafts
}

// browserToken is the CSRF token of a visitor who has not signed in: an
// HMAC of their browser cookie's value.
func (g *guard) browserToken(cookie string) string {
	m := hmac.New(sha256.New, g.key)
	m.Write([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// formToken returns the CSRF token for the forms of the page being
// rendered: the admin session's, or the browser cookie's, which it sets
// first if the browser has none.
func (a *App) formToken(w http.ResponseWriter, r *http.Request) string {
	if s := a.guard.session(r, a.now()); s != nil {
		return s.csrf
	}
	if c, err := r.Cookie(browserCookie); err == nil && c.Value != "" {
		return a.guard.browserToken(c.Value)
	}
	v := randomToken()
	a.setCookie(w, r, browserCookie, v, http.SameSiteLaxMode, 0)
	// Later reads of the request see it too.
	r.AddCookie(&http.Cookie{Name: browserCookie, Value: v})
	return a.guard.browserToken(v)
}

// tokenOK says whether the form's CSRF token is the session's (when one is
// open) or the browser cookie's. The form must be parsed.
func (a *App) tokenOK(r *http.Request, s *adminSession) bool {
	got := r.PostForm.Get(csrfField)
	if got == "" {
		return false
	}
	if s != nil && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1 {
		return true
	}
	c, err := r.Cookie(browserCookie)
	if err != nil || c.Value == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(a.guard.browserToken(c.Value))) == 1
}

// checkForm parses a shop (or login) form and checks its CSRF token. On a
// refusal it has answered.
func (a *App) checkForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return false
	}
	if !a.tokenOK(r, a.guard.session(r, a.now())) {
		a.refuseToken(w, r)
		return false
	}
	return true
}

func (a *App) refuseToken(w http.ResponseWriter, r *http.Request) {
	a.logger.WarnContext(r.Context(), "storefront: form refused: missing or wrong CSRF token", "path", r.URL.Path, "remote", clientIP(r))
	a.renderError(w, r, http.StatusForbidden, "This form has expired",
		"The page you sent it from is too old, or was not this store's. Go back, reload the page and try again.")
}

func (a *App) setCookie(w http.ResponseWriter, r *http.Request, name, value string, same http.SameSite, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: same, Secure: a.guard.isTLS(r),
	})
}

// protect is the store's outer handler: the Host check for every request,
// the Origin check for every request that may change something.
func (a *App) protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Stripe's webhooks are checked by their signature instead: a
		// proxy that rewrites Host must not make the store lose them.
		if r.URL.Path != WebhookPath && !a.guard.hostAllowed(r.Host) {
			a.logger.WarnContext(r.Context(), "storefront: request for another host refused (DNS rebinding?); add the host to "+EnvAllowedHosts+" if it is the store's", "host", r.Host, "remote", clientIP(r))
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusMisdirectedRequest)
			_, _ = w.Write([]byte("This store does not answer to that host name. Its operator can add it to " + EnvAllowedHosts + ".\n"))
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if !sameOrigin(r) {
				a.logger.WarnContext(r.Context(), "storefront: cross-site request refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
				http.Error(w, "cross-site form post refused", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// admin wraps an admin page: without a session a GET goes to the login
// page and anything else is refused; a POST needs the session's CSRF
// token.
func (a *App) admin(h func(http.ResponseWriter, *http.Request, *adminSession)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := a.guard.session(r, a.now())
		if s == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			a.renderError(w, r, http.StatusForbidden, "Please sign in",
				"Only the store's admin can do that. Sign in on the admin login page, then try again.")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			if got := r.PostForm.Get(csrfField); got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) != 1 {
				a.refuseToken(w, r)
				return
			}
		}
		h(w, r, s)
	}
}

// safeNext is where to go after signing in: an admin page of this store,
// never another site.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/admin/") && !strings.HasPrefix(next, "/admin/login") && !strings.ContainsAny(next, "\\\r\n") {
		if u, err := url.Parse(next); err == nil && u.Host == "" && u.Scheme == "" {
			return next
		}
	}
	return "/admin/orders"
}

// handleLogin shows the login form.
func (a *App) handleLogin(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if a.guard.session(r, a.now()) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	a.renderLogin(w, r, http.StatusOK, next, "", r.URL.Query().Get("signed_out") == "1")
}

func (a *App) renderLogin(w http.ResponseWriter, r *http.Request, status int, next, problem string, signedOut bool) {
	a.render(w, r, status, "login", "Sign in", map[string]any{
		"Next": next, "Error": problem, "SignedOut": signedOut, "Enabled": a.guard.enabled, "EnvVar": EnvAdminPassword,
	})
}

// handleLoginPost checks the password, with the failed-login limit, and
// opens a session.
func (a *App) handleLoginPost(w http.ResponseWriter, r *http.Request) {
	if !a.checkForm(w, r) {
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	ip, now := clientIP(r), a.now()
	if limited, wait := a.guard.limited(ip, now); limited {
		secs := int(wait.Round(time.Second) / time.Second)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		a.logger.WarnContext(r.Context(), "storefront: admin sign-in refused: too many failures", "remote", ip)
		a.renderLogin(w, r, http.StatusTooManyRequests, next,
			"Too many wrong passwords from your address. Wait "+strconv.Itoa(secs)+" seconds, then try again.", false)
		return
	}
	if !a.guard.checkPassword(r.PostForm.Get("password")) {
		a.guard.fail(ip, now)
		a.logger.WarnContext(r.Context(), "storefront: admin sign-in failed", "remote", ip)
		msg := "That password is not right. Please try again."
		if !a.guard.enabled {
			msg = "No admin password is set, so no one can sign in. Set " + EnvAdminPassword + " and restart the store."
		}
		a.renderLogin(w, r, http.StatusUnauthorized, next, msg, false)
		return
	}
	a.guard.succeeded(ip)
	a.guard.close(r) // a session from before signing in is not reused
	id, _ := a.guard.open(now)
	a.setCookie(w, r, sessionCookie, id, http.SameSiteStrictMode, int(sessionTTL/time.Second))
	a.setCookie(w, r, browserCookie, randomToken(), http.SameSiteLaxMode, 0)
	a.logger.InfoContext(r.Context(), "storefront: admin signed in", "remote", ip)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleLogout closes the session.
func (a *App) handleLogout(w http.ResponseWriter, r *http.Request, _ *adminSession) {
	a.guard.close(r)
	a.setCookie(w, r, sessionCookie, "", http.SameSiteStrictMode, -1)
	a.setCookie(w, r, browserCookie, randomToken(), http.SameSiteLaxMode, 0)
	a.logger.InfoContext(r.Context(), "storefront: admin signed out", "remote", clientIP(r))
	http.Redirect(w, r, "/admin/login?signed_out=1", http.StatusSeeOther)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// randomToken is 256 random bits, URL-safe.
func randomToken() string { return base64.RawURLEncoding.EncodeToString(randomBytes(32)) }

// RandomPassword returns a password for the admin pages when none is set:
// 20 characters from an alphabet without look-alikes (about 100 bits).
func RandomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := randomBytes(20)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
