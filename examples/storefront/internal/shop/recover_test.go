package shop

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

var (
	recoveredRE = regexp.MustCompile(`id="recover-recovered">(\d+)<`)
	seenRE      = regexp.MustCompile(`id="recover-seen">(\d+)<`)
)

// pressRecover presses "Recover missed events" and returns what the Orders
// page says: recovered and seen.
func pressRecover(t *testing.T, admin *client) (int, int, string) {
	t.Helper()
	r := admin.post(t, "/admin/recover", url.Values{"days": {"3"}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	assert.Equal(t, "/admin/orders#recover", r.location)
	page := admin.get(t, "/admin/orders")
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, `id="recover-result"`, "a short run ends before the page is shown")
	assert.NotContains(t, page.body, `http-equiv="refresh"`)
	rec, seen := recoveredRE.FindStringSubmatch(page.body), seenRE.FindStringSubmatch(page.body)
	require.NotNil(t, rec, page.body)
	require.NotNil(t, seen, page.body)
	n, _ := strconv.Atoi(rec[1])
	s, _ := strconv.Atoi(seen[1])
	return n, s, page.body
}

func TestRecoverMissedEvents(t *testing.T) { recoverOverHTTP(t, startStore(t)) }

func TestRecoverMissedEventsWithSQLite(t *testing.T) {
	srv, _ := startDurable(t, filepath.Join(t.TempDir(), "storefront.db"), io.Discard)
	recoverOverHTTP(t, srv)
}

// recoverOverHTTP: the store misses a payment's events while its webhook
// endpoint is unreachable, and the admin's button recovers them, once.
func recoverOverHTTP(t *testing.T, srv *Server) {
	admin := signIn(t, srv)
	page := admin.get(t, "/admin/orders")
	assert.Contains(t, page.body, `id="recover-button"`)
	assert.NotContains(t, page.body, `id="recover-result"`, "no run yet")

	delivered, payURL := buy(t, srv, "mug", 1)
	r := pay(t, payURL, stripegatewaytest.CardSucceeds)
	require.Equal(t, http.StatusSeeOther, r.status)
	require.Equal(t, StatusPaid, order(t, srv, delivered.ID).Status)

	srv.Simulator.SetEndpointUnreachable(true)
	missed, payURL := buy(t, srv, "beans", 2)
	r = pay(t, payURL, stripegatewaytest.CardSucceeds)
	require.Equal(t, http.StatusSeeOther, r.status)
	successURL := r.location
	success := do(t, http.MethodGet, successURL, nil)
	assert.Contains(t, success.body, `id="waiting"`, "the store has not heard of the payment")
	assert.Regexp(t, `<span id="webhook-text">2 signed webhook events not delivered: checkout.session.completed, payment_intent.succeeded \(.+\)</span>`, success.body)
	srv.Simulator.SetEndpointUnreachable(false)
	require.Equal(t, StatusUnpaid, order(t, srv, missed.ID).Status)
	require.Empty(t, order(t, srv, missed.ID).Outcomes)

	var missedEvents []string
	for _, ev := range srv.Simulator.Events() {
		if ev.OrderID == missed.ID {
			assert.False(t, ev.Delivered)
			missedEvents = append(missedEvents, ev.ID)
		}
	}
	require.Len(t, missedEvents, 2)

	n, seen, body := pressRecover(t, admin)
	assert.Equal(t, 2, n, "the two missed events")
	assert.Equal(t, len(srv.Simulator.Events()), seen, "every event of the last 3 days")
	assert.Contains(t, body, `id="recover-last"`)
	assert.NotContains(t, body, `id="recover-error"`)

	got := order(t, srv, missed.ID)
	assert.Equal(t, StatusPaid, got.Status)
	require.Len(t, got.Outcomes, 2, "each missed event once")
	for i, o := range got.Outcomes {
		assert.Equal(t, missedEvents[i], o.EventID, "oldest first")
		assert.Equal(t, stripegateway.PaymentSucceeded, o.Kind)
	}
	assert.True(t, got.Outcomes[0].Applied)
	assert.Len(t, order(t, srv, delivered.ID).Outcomes, 2, "a delivered event is not run again")

	n, seen2, _ := pressRecover(t, admin)
	assert.Equal(t, 0, n, "pressing again recovers nothing")
	assert.Equal(t, seen, seen2)
	again := order(t, srv, missed.ID)
	assert.Equal(t, got.Outcomes, again.Outcomes, "and changes nothing")
	assert.Equal(t, got.Status, again.Status)

	// The customer's success page now says paid.
	success = do(t, http.MethodGet, successURL, nil)
	assert.Contains(t, success.body, `id="thanks"`)

	t.Run("the form is checked", func(t *testing.T) {
		r := admin.post(t, "/admin/recover", url.Values{"days": {"365"}})
		assert.Equal(t, http.StatusBadRequest, r.status)
		r = admin.post(t, "/admin/recover", url.Values{}, "Sec-Fetch-Site", "cross-site")
		assert.Equal(t, http.StatusForbidden, r.status)
		r = admin.post(t, "/admin/recover", url.Values{csrfField: {"forged"}})
		assert.Equal(t, http.StatusForbidden, r.status)
		r = newClient(t, srv).post(t, "/admin/recover", url.Values{})
		assert.Equal(t, http.StatusForbidden, r.status, "no session")
	})
}

// TestServerLimits: the store's server cuts off a client that sends its
// headers too slowly, and sets every timeout.
func TestServerLimits(t *testing.T) {
	s := newHTTPServer(http.NotFoundHandler(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	assert.Equal(t, readHeaderTimeout, s.ReadHeaderTimeout)
	assert.Equal(t, readTimeout, s.ReadTimeout)
	assert.Equal(t, writeTimeout, s.WriteTimeout)
	assert.Equal(t, idleTimeout, s.IdleTimeout)
	assert.Equal(t, maxHeaderBytes, s.MaxHeaderBytes)
	assert.LessOrEqual(t, s.ReadHeaderTimeout, s.ReadTimeout)
	assert.Less(t, s.ReadTimeout, s.WriteTimeout)

	srv := startStore(t)
	assert.Equal(t, readHeaderTimeout, srv.srv.ReadHeaderTimeout, "Start uses them")
	assert.Equal(t, readTimeout, srv.srv.ReadTimeout)
	assert.Equal(t, writeTimeout, srv.srv.WriteTimeout)

	// A Slowloris client: headers that never end. The same limits with
	// shorter times, so that the test is quick.
	s.ReadHeaderTimeout, s.ReadTimeout = 300*time.Millisecond, time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("GET / HTTP/1.1\r\nHost: store\r\nX-Slow: "))
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = io.ReadAll(conn)
	assert.NoError(t, err, "the server closed the connection")
	assert.Less(t, time.Since(start), 3*time.Second)
}
