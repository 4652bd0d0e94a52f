package stripegatewaytest_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/event"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// eventList is GET /v1/events's answer.
type eventList struct {
	Object  string `json:"object"`
	URL     string `json:"url"`
	HasMore bool   `json:"has_more"`
	Data    []struct {
		ID              string `json:"id"`
		Object          string `json:"object"`
		Type            string `json:"type"`
		Created         int64  `json:"created"`
		APIVersion      string `json:"api_version"`
		PendingWebhooks int    `json:"pending_webhooks"`
		Data            struct {
			Object map[string]any `json:"object"`
		} `json:"data"`
	} `json:"data"`
}

func (l eventList) ids() []string {
	var out []string
	for _, e := range l.Data {
		out = append(out, e.ID)
	}
	return out
}

// listEvents calls GET /v1/events with the query, as key.
func (e *simEnv) listEvents(key string, q url.Values) (int, eventList) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.sim.APIURL()+"/v1/events?"+q.Encode(), nil)
	require.NoError(e.t, err)
	req.SetBasicAuth(key, "")
	resp, err := e.client.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	var l eventList
	if resp.StatusCode == http.StatusOK {
		require.NoError(e.t, json.NewDecoder(resp.Body).Decode(&l))
	}
	return resp.StatusCode, l
}

// payOrder checks out an order and pays it with the card.
func (e *simEnv) payOrder(id, card string) *stripegateway.CheckoutSession {
	e.t.Helper()
	cs := e.checkout(eurOrder(id))
	status, _, _ := e.post(cs.URL, pay(card))
	require.Contains(e.t, []int{http.StatusSeeOther, http.StatusPaymentRequired}, status)
	return cs
}

// newestIDs are the recorded events' IDs, newest first.
func newestIDs(evs []stripegatewaytest.SimulatedEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.ID)
	}
	slices.Reverse(out)
	return out
}

func TestSimulatorEventsAPI(t *testing.T) {
	mockURL := startMock(t)
	var clock atomic.Int64
	base := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	at := func(d time.Duration) { clock.Store(base.Add(d).UnixNano()) }
	at(0)
	e := newSimEnv(t, mockURL, simWHSEC, func(c *stripegatewaytest.SimulatorConfig) {
		c.Now = func() time.Time { return time.Unix(0, clock.Load()) }
	})

	e.payOrder("order-a", stripegatewaytest.CardSucceeds) // 2 events at base
	at(time.Hour)
	cs := e.checkout(eurOrder("order-b"))
	_, _, _ = e.post(cs.URL, pay(stripegatewaytest.CardDeclined)) // payment_failed at +1h
	at(2 * time.Hour)
	_, _, _ = e.post(cs.URL, pay(stripegatewaytest.CardSucceeds)) // 2 events at +2h

	recorded := e.sim.Events()
	require.Len(t, recorded, 5)
	all := newestIDs(recorded)
	for _, ev := range recorded {
		assert.True(t, ev.Delivered, "%s %s", ev.ID, ev.Type)
		assert.NotEmpty(t, ev.Payload)
	}
	assert.Equal(t, stripe.EventTypeCheckoutSessionCompleted, recorded[0].Type)
	assert.Equal(t, "order-a", recorded[0].OrderID)
	assert.Equal(t, base.Unix(), recorded[0].Created.Unix())

	t.Run("newest first, in Stripe's list shape", func(t *testing.T) {
		status, l := e.listEvents(simSK, url.Values{})
		require.Equal(t, http.StatusOK, status)
		assert.Equal(t, "list", l.Object)
		assert.Equal(t, "/v1/events", l.URL)
		assert.False(t, l.HasMore)
		assert.Equal(t, all, l.ids())
		first := l.Data[0]
		assert.Equal(t, "event", first.Object)
		assert.Equal(t, string(stripe.EventTypePaymentIntentSucceeded), first.Type)
		assert.Equal(t, stripe.APIVersion, first.APIVersion)
		assert.Equal(t, 0, first.PendingWebhooks, "delivered")
		assert.Equal(t, "order-b", first.Data.Object["metadata"].(map[string]any)["order_id"])
	})

	t.Run("paged with limit, starting_after and ending_before", func(t *testing.T) {
		var got []string
		q := url.Values{"limit": {"2"}}
		for page := 0; ; page++ {
			require.Less(t, page, 5)
			status, l := e.listEvents(simSK, q)
			require.Equal(t, http.StatusOK, status)
			require.LessOrEqual(t, len(l.Data), 2)
			got = append(got, l.ids()...)
			if !l.HasMore {
				assert.Equal(t, 2, page, "pages of 2, 2 and 1")
				break
			}
			q.Set("starting_after", l.Data[len(l.Data)-1].ID)
		}
		assert.Equal(t, all, got)

		status, l := e.listEvents(simSK, url.Values{"limit": {"2"}, "ending_before": {all[4]}})
		require.Equal(t, http.StatusOK, status)
		assert.Equal(t, all[2:4], l.ids(), "the page just newer than the cursor, newest first")
		assert.True(t, l.HasMore)
		status, l = e.listEvents(simSK, url.Values{"limit": {"2"}, "ending_before": {all[2]}})
		require.Equal(t, http.StatusOK, status)
		assert.Equal(t, all[:2], l.ids())
		assert.False(t, l.HasMore)

		status, _ = e.listEvents(simSK, url.Values{"starting_after": {"evt_nosuchevent"}})
		assert.Equal(t, http.StatusBadRequest, status)
		status, _ = e.listEvents(simSK, url.Values{"limit": {"0"}})
		assert.Equal(t, http.StatusBadRequest, status)
	})

	t.Run("filtered by types, created and delivery", func(t *testing.T) {
		_, l := e.listEvents(simSK, url.Values{"types[]": {"payment_intent.succeeded", "payment_intent.payment_failed"}})
		assert.Equal(t, []string{all[0], all[2], all[3]}, l.ids())
		_, l = e.listEvents(simSK, url.Values{"types[0]": {"checkout.session.completed"}})
		assert.Equal(t, []string{all[1], all[4]}, l.ids())
		_, l = e.listEvents(simSK, url.Values{"type": {"payment_intent.*"}})
		assert.Equal(t, []string{all[0], all[2], all[3]}, l.ids())

		hour := strconv.FormatInt(base.Add(time.Hour).Unix(), 10)
		_, l = e.listEvents(simSK, url.Values{"created[gte]": {hour}})
		assert.Equal(t, all[:3], l.ids())
		_, l = e.listEvents(simSK, url.Values{"created[gt]": {hour}})
		assert.Equal(t, all[:2], l.ids())
		_, l = e.listEvents(simSK, url.Values{"created[lt]": {hour}})
		assert.Equal(t, all[3:], l.ids())
		_, l = e.listEvents(simSK, url.Values{"created[lte]": {hour}, "created[gt]": {strconv.FormatInt(base.Unix(), 10)}})
		assert.Equal(t, []string{all[2]}, l.ids())
		_, l = e.listEvents(simSK, url.Values{"created": {hour}})
		assert.Equal(t, []string{all[2]}, l.ids())

		_, l = e.listEvents(simSK, url.Values{"delivery_success": {"false"}})
		assert.Empty(t, l.ids(), "every delivery succeeded")
		_, l = e.listEvents(simSK, url.Values{"delivery_success": {"true"}})
		assert.Equal(t, all, l.ids())
	})

	t.Run("stripe-go's list iterator reads every page", func(t *testing.T) {
		backend := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
			URL: stripe.String(e.sim.APIURL()), MaxNetworkRetries: stripe.Int64(0),
		})
		params := &stripe.EventListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: base.Unix()}}
		params.Limit = stripe.Int64(2)
		for _, typ := range stripegateway.EventTypes() {
			params.Types = append(params.Types, stripe.String(string(typ)))
		}
		it := (&event.Client{B: backend, Key: simSK}).List(params)
		var got []string
		for it.Next() {
			got = append(got, it.Event().ID)
		}
		require.NoError(t, it.Err())
		assert.Equal(t, all, got)
	})

	t.Run("one event by ID", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.sim.APIURL()+"/v1/events/"+all[0], nil)
		req.SetBasicAuth(simSK, "")
		resp, err := e.client.Do(req)
		require.NoError(t, err)
		var ev struct{ ID, Type string }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&ev))
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, all[0], ev.ID)
		req, _ = http.NewRequest(http.MethodGet, e.sim.APIURL()+"/v1/events/evt_nosuchevent", nil)
		req.SetBasicAuth(simSK, "")
		resp, err = e.client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
}

// recoverRun is what RecoverEvents reported.
type recoverRun struct {
	n        int
	err      error
	seen     int
	progress int
	last     time.Time
}

func (e *simEnv) recover(since time.Time) recoverRun {
	e.t.Helper()
	var r recoverRun
	var mu sync.Mutex
	r.n, r.err = e.gw.RecoverEvents(context.Background(), since, e.handlers(), func(seen, recovered int, last time.Time) {
		mu.Lock()
		defer mu.Unlock()
		r.progress++
		r.seen, r.last = seen, last
		assert.LessOrEqual(e.t, recovered, seen)
	})
	return r
}

func kindsOf(os []*stripegateway.Outcome) []stripe.EventType {
	var out []stripe.EventType
	for _, o := range os {
		out = append(out, o.EventType)
	}
	return out
}

func TestSimulatorRecoverEvents(t *testing.T) {
	mockURL := startMock(t)

	t.Run("the events missed while the endpoint was unreachable are recovered once", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC)
		e.payOrder("order-before", stripegatewaytest.CardSucceeds)
		require.Len(t, e.outcomesFor("order-before"), 2)

		e.sim.SetEndpointUnreachable(true)
		assert.True(t, e.sim.EndpointUnreachable())
		e.payOrder("order-down", stripegatewaytest.CardSucceeds)
		cs := e.payOrder("order-declined", stripegatewaytest.CardDeclined)
		e.sim.SetEndpointUnreachable(false)

		assert.Empty(t, e.outcomesFor("order-down"), "nothing reached the store")
		assert.Empty(t, e.outcomesFor("order-declined"))
		var failed []string
		for _, d := range e.sim.Deliveries() {
			if d.Err != "" {
				failed = append(failed, d.EventID)
				assert.Equal(t, 0, d.Attempts, "nothing was sent")
				assert.Equal(t, 0, d.StatusCode)
				assert.Contains(t, d.Err, "unreachable")
			}
		}
		require.Len(t, failed, 3)
		_, l := e.listEvents(simSK, url.Values{"delivery_success": {"false"}})
		assert.ElementsMatch(t, failed, l.ids(), "the Events API lists the events whose delivery failed")
		for _, ev := range l.Data {
			assert.Equal(t, 1, ev.PendingWebhooks)
		}

		r := e.recover(time.Now().Add(-time.Hour))
		require.NoError(t, r.err)
		assert.Equal(t, 3, r.n, "the three missed events")
		assert.Equal(t, 5, r.seen, "every event of the last hour was seen")
		assert.Equal(t, 5, r.progress)
		recorded := e.sim.Events()
		assert.Equal(t, recorded[len(recorded)-1].Created, r.last, "the last event seen is the newest")

		assert.Equal(t, []stripe.EventType{stripe.EventTypeCheckoutSessionCompleted, stripe.EventTypePaymentIntentSucceeded}, kindsOf(e.outcomesFor("order-down")),
			"recovered once each, oldest first")
		for _, o := range e.outcomesFor("order-down") {
			assert.Equal(t, stripegateway.PaymentSucceeded, o.Kind)
		}
		declined := e.outcomesFor("order-declined")
		require.Len(t, declined, 1)
		assert.Equal(t, stripegateway.PaymentFailed, declined[0].Kind)
		assert.Equal(t, stripe.EventTypePaymentIntentPaymentFailed, declined[0].EventType)
		assert.Len(t, e.outcomesFor("order-before"), 2, "the events delivered are not run again")

		again := e.recover(time.Now().Add(-time.Hour))
		require.NoError(t, again.err)
		assert.Equal(t, 0, again.n, "a second run recovers nothing")
		assert.Equal(t, 5, again.seen)
		assert.Len(t, e.received(), 5, "2 delivered and 3 recovered, nothing run twice")

		// The customer pays the declined order again, now delivered.
		status, _, _ := e.post(cs.URL, pay(stripegatewaytest.CardSucceeds))
		assert.Equal(t, http.StatusSeeOther, status)
		assert.Len(t, e.outcomesFor("order-declined"), 3)
	})

	t.Run("the overview page's button makes the endpoint unreachable", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC)
		action := e.sim.APIURL() + "/webhook-endpoint/reachability"
		status, loc, _ := e.post(action, url.Values{"action": {"down"}})
		assert.Equal(t, http.StatusSeeOther, status)
		assert.Equal(t, "/stripe-sim/#deliveries-heading", loc)
		assert.True(t, e.sim.EndpointUnreachable())
		e.payOrder("order-page", stripegatewaytest.CardSucceeds)
		_, page := e.get(e.sim.APIURL() + "/")
		assert.Contains(t, page, `id="endpoint-unreachable"`)
		assert.Contains(t, page, `<span id="undelivered-count">2</span>`)
		assert.Contains(t, page, `id="endpoint-up"`)
		status, _, _ = e.post(action, url.Values{"action": {"up"}})
		assert.Equal(t, http.StatusSeeOther, status)
		assert.False(t, e.sim.EndpointUnreachable())
		_, page = e.get(e.sim.APIURL() + "/")
		assert.NotContains(t, page, `id="endpoint-unreachable"`)
		assert.Contains(t, page, `id="endpoint-down"`)
		status, _, _ = e.post(action, url.Values{"action": {"sideways"}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Empty(t, e.received())
		r := e.recover(time.Now().Add(-time.Hour))
		require.NoError(t, r.err)
		assert.Equal(t, 2, r.n)
	})

	t.Run("events the store refused are recovered too", func(t *testing.T) {
		// The simulator signs with a secret the store does not have: every
		// delivery is answered 400, as after a misconfigured secret.
		e := newSimEnv(t, mockURL, "whsec_xxxxxxanothersigningsecret00001")
		e.payOrder("order-refused", stripegatewaytest.CardSucceeds)
		assert.Empty(t, e.received())
		for _, d := range e.sim.Deliveries() {
			assert.Equal(t, http.StatusBadRequest, d.StatusCode)
		}
		for _, ev := range e.sim.Events() {
			assert.False(t, ev.Delivered)
		}
		r := e.recover(time.Now().Add(-72 * time.Hour))
		require.NoError(t, r.err)
		assert.Equal(t, 2, r.n)
		assert.Len(t, e.outcomesFor("order-refused"), 2)
		r = e.recover(time.Now().Add(-72 * time.Hour))
		require.NoError(t, r.err)
		assert.Equal(t, 0, r.n)
		assert.Len(t, e.received(), 2)
	})

	t.Run("a store whose server is stopped misses the events, and recovers them", func(t *testing.T) {
		// The webhook URL is another server, closed while the customer
		// pays: deliveries fail after their retries, as to a store that is
		// down.
		var mu sync.Mutex
		var store http.Handler = http.NotFoundHandler()
		hook := newClosableServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			h := store
			mu.Unlock()
			h.ServeHTTP(w, r)
		}))
		e := newSimEnv(t, mockURL, simWHSEC, func(c *stripegatewaytest.SimulatorConfig) { c.WebhookURL = hook.url })
		mu.Lock()
		store = e.gw.WebhookHandler(e.handlers())
		mu.Unlock()
		hook.stop()
		e.payOrder("order-stopped", stripegatewaytest.CardSucceeds)
		for _, d := range e.sim.Deliveries() {
			assert.NotEmpty(t, d.Err)
			assert.Equal(t, 3, d.Attempts, "tried three times")
		}
		hook.start()
		r := e.recover(time.Now().Add(-time.Hour))
		require.NoError(t, r.err)
		assert.Equal(t, 2, r.n)
		assert.Len(t, e.outcomesFor("order-stopped"), 2)
	})
}

// closableServer is a webhook endpoint that can be stopped and started
// again on the same address, as a store's server.
type closableServer struct {
	t   *testing.T
	h   http.Handler
	url string
	mu  sync.Mutex
	srv *http.Server
	ln  net.Listener
}

func newClosableServer(t *testing.T, h http.Handler) *closableServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c := &closableServer{t: t, h: h, url: "http://" + ln.Addr().String() + "/hook"}
	c.serve(ln)
	t.Cleanup(c.stop)
	return c
}

func (c *closableServer) serve(ln net.Listener) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ln, c.srv = ln, &http.Server{Handler: c.h, ReadHeaderTimeout: 5 * time.Second}
	go func(srv *http.Server) { _ = srv.Serve(ln) }(c.srv)
}

func (c *closableServer) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srv != nil {
		_ = c.srv.Close()
		c.srv = nil
	}
}

func (c *closableServer) start() {
	c.t.Helper()
	ln, err := net.Listen("tcp", c.ln.Addr().String())
	require.NoError(c.t, err)
	c.serve(ln)
}
