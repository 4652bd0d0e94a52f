package shop

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/sqlstore"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// The storefront's -db mode runs webhook outcomes on sqlstore's
// transactional path: these tests check that an order's change and its
// event's record commit together or not at all.

// eventRecord is the event store's row of an event; ok is false when there
// is none.
func eventRecord(t *testing.T, srv *Server, id string) (sqlstore.Record, bool) {
	t.Helper()
	rec, err := srv.db.events.Lookup(context.Background(), id)
	if err != nil {
		require.ErrorIs(t, err, sqlstore.ErrNotFound)
		return rec, false
	}
	return rec, true
}

// TestTxWebhookFailureRollsBackTheOrder: a callback that fails after it
// wrote the order (here SQLite refuses its outcome's row, after the
// order's row was updated and its earlier outcomes deleted for rewriting)
// answers 500 and keeps nothing: neither the order's change nor the
// event's record. Stripe's next delivery then runs it once.
func TestTxWebhookFailureRollsBackTheOrder(t *testing.T) {
	var logs logBuffer
	srv, _ := startDurable(t, filepath.Join(t.TempDir(), "storefront.db"), &logs)
	ctx := context.Background()
	ord, _ := buy(t, srv, "beans", 2)

	failed := stripegatewaytest.ForKind(stripegateway.PaymentFailed, ord.ID, dec("49.80"), "eur")
	failed.ID, failed.Created, failed.PaymentIntentID = "evt_txfail00000001", time.Now().Add(-time.Minute), "pi_txfail00000001"
	code, body := deliver(t, srv, failed)
	require.Equal(t, http.StatusOK, code, body)
	before := order(t, srv, ord.ID)
	require.Equal(t, StatusFailed, before.Status)
	require.Len(t, before.Outcomes, 1)

	paid := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, ord.ID, dec("49.80"), "eur")
	paid.ID, paid.PaymentIntentID = "evt_txfail00000002", failed.PaymentIntentID
	_, err := srv.db.db.ExecContext(ctx, `CREATE TRIGGER fail_outcome BEFORE INSERT ON storefront_order_outcomes
		WHEN NEW.event_id = '`+paid.ID+`' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`)
	require.NoError(t, err)

	for range 2 {
		code, body = deliver(t, srv, paid)
		assert.Equal(t, http.StatusInternalServerError, code, body)
		assert.Equal(t, "internal error; retry later\n", body)
		after := order(t, srv, ord.ID)
		requireSameOrder(t, before, after)
		assert.Equal(t, StatusFailed, after.Status, "the order's change was rolled back")
		_, recorded := eventRecord(t, srv, paid.ID)
		assert.False(t, recorded, "the event's record was rolled back with it")
	}
	assert.Contains(t, logs.String(), "injected failure")
	assert.NotContains(t, logs.String(), "event_id="+paid.ID+" status=paid")

	// The fault is gone: Stripe's next delivery runs the event, once.
	_, err = srv.db.db.ExecContext(ctx, `DROP TRIGGER fail_outcome`)
	require.NoError(t, err)
	code, body = deliver(t, srv, paid)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "ok\n", body)
	got := order(t, srv, ord.ID)
	assert.Equal(t, StatusPaid, got.Status)
	assert.Equal(t, failed.PaymentIntentID, got.PaymentIntentID)
	require.Len(t, got.Outcomes, 2)
	assert.Equal(t, before.Outcomes[0].EventID, got.Outcomes[0].EventID, "the earlier outcome survived the failed attempts")
	assert.Equal(t, paid.ID, got.Outcomes[1].EventID)
	rec, ok := eventRecord(t, srv, paid.ID)
	require.True(t, ok)
	assert.Equal(t, sqlstore.StateDone, rec.State)
	assert.Equal(t, 1, rec.Attempts, "the failed attempts left no trace")
}

// TestTxWebhookDuplicates: a redelivery of a committed event changes
// nothing, and concurrent deliveries of one event (here a dispute, whose
// order is found by its PaymentIntent inside the transaction) run its
// callback once.
func TestTxWebhookDuplicates(t *testing.T) {
	var logs logBuffer
	srv, _ := startDurable(t, filepath.Join(t.TempDir(), "storefront.db"), &logs)
	ord, _ := buy(t, srv, "beans", 2)

	paid := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, ord.ID, dec("49.80"), "eur")
	paid.ID, paid.PaymentIntentID = "evt_txdup000000001", "pi_txdup000000001"
	code, body := deliver(t, srv, paid)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "ok\n", body)
	first := order(t, srv, ord.ID)
	require.Equal(t, StatusPaid, first.Status)
	require.Len(t, first.Outcomes, 1)

	code, body = deliver(t, srv, paid)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok: already processed\n", body)
	requireSameOrder(t, first, order(t, srv, ord.ID))
	assert.Equal(t, 1, strings.Count(logs.String(), "event_id="+paid.ID+" status=paid"), "the callback ran once")

	// The same dispute, delivered eight times at once.
	dispute := stripegatewaytest.ForKind(stripegateway.PaymentDisputed, "", dec("49.80"), "eur")
	dispute.ID, dispute.PaymentIntentID = "evt_txdup000000002", paid.PaymentIntentID
	const n = 8
	bodies := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			srv.App.ServeHTTP(rec, stripegatewaytest.NewRequest(WebhookPath, dispute.MustJSON(), srv.WebhookSecret))
			bodies <- http.StatusText(rec.Code) + ": " + rec.Body.String()
		}()
	}
	wg.Wait()
	close(bodies)
	count := map[string]int{}
	for b := range bodies {
		count[b]++
	}
	assert.Equal(t, map[string]int{"OK: ok\n": 1, "OK: ok: already processed\n": n - 1}, count)
	got := order(t, srv, ord.ID)
	assert.Equal(t, StatusDisputed, got.Status)
	require.Len(t, got.Outcomes, 2, "the dispute is recorded once")
	assert.Equal(t, dispute.ID, got.Outcomes[1].EventID)
	assert.Equal(t, 1, strings.Count(logs.String(), "event_id="+dispute.ID+" status=disputed"), "the callback ran once")
	rec, ok := eventRecord(t, srv, dispute.ID)
	require.True(t, ok)
	assert.Equal(t, sqlstore.StateDone, rec.State)
	assert.Equal(t, 1, rec.Attempts)
}

// TestTxWebhookUsesTheLiveGateway: after a settings change, the
// transactional route verifies with the new gateway's webhook secret.
func TestTxWebhookUsesTheLiveGateway(t *testing.T) {
	srv, _ := startDurable(t, filepath.Join(t.TempDir(), "storefront.db"), io.Discard)
	ord, _ := buy(t, srv, "mug", 1)
	const newSecret = "whsec_xxxxxxstorefrontrotatedsecret0001"
	cfg := srv.App.Gateway().Config()
	cfg.WebhookSecret, cfg.PreviousWebhookSecrets = newSecret, nil
	require.NoError(t, srv.App.Configure(cfg))

	ev := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, ord.ID, ord.Total, ord.Currency)
	ev.ID = "evt_txlive00000001"
	code, _ := deliver(t, srv, ev) // signed with the old secret
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Equal(t, StatusUnpaid, order(t, srv, ord.ID).Status)

	rec := httptest.NewRecorder()
	srv.App.ServeHTTP(rec, stripegatewaytest.NewRequest(WebhookPath, ev.MustJSON(), newSecret))
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, StatusPaid, order(t, srv, ord.ID).Status)
}

// TestRecoverWithSQLiteCountsOnlyWhatRan: a store whose gateway has never
// seen the events (a restarted store, say: its in-memory record is empty)
// recovers none of those the webhook route or an earlier run committed,
// and counts none of them; and an event that a lease-path delivery holds
// fails the run, and the next run recovers it.
func TestRecoverWithSQLiteCountsOnlyWhatRan(t *testing.T) {
	srv, _ := startDurable(t, filepath.Join(t.TempDir(), "storefront.db"), io.Discard)
	ctx := context.Background()
	newApp := func() *App {
		app, err := New(Options{
			BaseURL:        srv.URL,
			Config:         srv.App.Gateway().Config(),
			GatewayOptions: []stripegateway.Option{stripegateway.WithAPIURL(srv.Simulator.APIURL())},
			Orders:         srv.db.orders,
			TxEvents:       srv.db.events,
			Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		require.NoError(t, err)
		t.Cleanup(app.Close)
		return app
	}
	recoverWith := func(app *App) *recoveryRun {
		t.Helper()
		select {
		case <-app.RecoverMissedEvents(DefaultRecoverDays):
		case <-time.After(time.Minute):
			t.Fatal("the recovery did not end")
		}
		run := app.lastRecovery()
		require.NotNil(t, run)
		require.False(t, run.Running)
		return run
	}
	pay := func(product string) *Order {
		ord, payURL := buy(t, srv, product, 1)
		r := pay(t, payURL, stripegatewaytest.CardSucceeds)
		require.Equal(t, http.StatusSeeOther, r.status)
		return ord
	}

	delivered := pay("mug")
	require.Equal(t, StatusPaid, order(t, srv, delivered.ID).Status)
	srv.Simulator.SetEndpointUnreachable(true)
	missed := pay("beans")
	srv.Simulator.SetEndpointUnreachable(false)
	var missedEvents []stripegatewaytest.SimulatedEvent
	for _, ev := range srv.Simulator.Events() {
		if ev.OrderID == missed.ID {
			missedEvents = append(missedEvents, ev)
		}
	}
	require.Len(t, missedEvents, 2)

	// A lease-path delivery (another replica, say) holds the first missed
	// event.
	claim := stripegateway.EventClaim{
		EventID: missedEvents[0].ID, EventType: string(missedEvents[0].Type), Owner: "another-replica",
		Now: time.Now(), Expires: time.Now().Add(time.Hour),
	}
	st, err := srv.db.events.Claim(ctx, claim)
	require.NoError(t, err)
	require.Equal(t, stripegateway.ClaimAcquired, st)

	run := recoverWith(srv.App)
	assert.Equal(t, 1, run.Recovered, "the event nobody held")
	assert.Equal(t, len(srv.Simulator.Events()), run.Seen)
	assert.Contains(t, run.Err, missedEvents[0].ID)
	assert.Contains(t, run.Err, sqlstore.ErrBusy.Error())
	got := order(t, srv, missed.ID)
	assert.Equal(t, StatusPaid, got.Status)
	require.Len(t, got.Outcomes, 1)
	assert.Equal(t, missedEvents[1].ID, got.Outcomes[0].EventID)

	// The claim is given up: the next run recovers the event.
	require.NoError(t, srv.db.events.Release(ctx, claim, "the replica stopped"))
	run = recoverWith(srv.App)
	assert.Equal(t, 1, run.Recovered)
	assert.Empty(t, run.Err)
	got = order(t, srv, missed.ID)
	require.Len(t, got.Outcomes, 2)
	assert.Equal(t, missedEvents[0].ID, got.Outcomes[1].EventID)

	// A store that never saw the events: everything was committed.
	before, err := srv.App.Orders().List(ctx)
	require.NoError(t, err)
	run = recoverWith(newApp())
	assert.Equal(t, 0, run.Recovered, "committed events are not run again, nor counted")
	assert.Equal(t, len(srv.Simulator.Events()), run.Seen)
	assert.Empty(t, run.Err)
	after, err := srv.App.Orders().List(ctx)
	require.NoError(t, err)
	require.Len(t, after, len(before))
	for i := range before {
		requireSameOrder(t, before[i], after[i])
	}
	for _, id := range []string{missedEvents[0].ID, missedEvents[1].ID} {
		rec, ok := eventRecord(t, srv, id)
		require.True(t, ok, id)
		assert.Equal(t, sqlstore.StateDone, rec.State, id)
	}
}

// TestNewChecksTxEvents: the transactional path needs the SQLite orders,
// and an EventStore other than its table.
func TestNewChecksTxEvents(t *testing.T) {
	srv, _ := startDurable(t, filepath.Join(t.TempDir(), "storefront.db"), io.Discard)
	opts := Options{BaseURL: srv.URL, Config: srv.App.Gateway().Config(), TxEvents: srv.db.events}
	_, err := New(opts)
	assert.ErrorContains(t, err, "*SQLiteOrders")
	opts.Orders = NewMemoryOrders()
	_, err = New(opts)
	assert.ErrorContains(t, err, "*SQLiteOrders")
	opts.Orders, opts.EventStore = srv.db.orders, srv.db.events
	_, err = New(opts)
	assert.ErrorContains(t, err, "EventStore")
}
