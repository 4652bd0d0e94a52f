package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/sqlstore"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// txHost is a host on the transactional path: its own table of effects,
// a row per callback run that committed, next to the store's.
type txHost struct {
	db      *sql.DB
	store   *sqlstore.Store
	gw      *stripegateway.Gateway
	logs    *logRecorder
	effects string // the host's table
}

// newTxHost opens a store on db, in a table of its own, and the host's
// effects table, a plain table where a doubled effect would show.
func newTxHost(t *testing.T, db *sql.DB, table, effects string) *txHost {
	t.Helper()
	logs := &logRecorder{}
	store, err := sqlstore.New(db, sqlstore.WithTable(table), sqlstore.WithLogger(slog.New(logs)))
	require.NoError(t, err)
	require.NoError(t, store.Migrate(context.Background()))
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS "` + effects + `" (event_id TEXT NOT NULL, order_id TEXT NOT NULL)`)
	require.NoError(t, err)
	gw, err := stripegateway.New(testConfig())
	require.NoError(t, err)
	return &txHost{db: db, store: store, gw: gw, logs: logs, effects: effects}
}

// newTxHostOn is newTxHost on a new database of backend b, with tables of
// its own.
func newTxHostOn(t *testing.T, b backend) *txHost {
	t.Helper()
	db := b.open(t)
	return newTxHost(t, db, uniqueTable(t, db), uniqueTable(t, db))
}

// effect records o's effect in tx.
func (h *txHost) effect(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error {
	q := `INSERT INTO "` + h.effects + `" (event_id, order_id) VALUES ($1, $2)`
	if h.store.Dialect() == sqlstore.SQLite {
		q = strings.NewReplacer("$1", "?", "$2", "?").Replace(q)
	}
	_, err := tx.ExecContext(ctx, q, o.EventID, o.OrderID)
	return err
}

// effectsOf returns how many effects of event id the host's table holds.
func (h *txHost) effectsOf(t *testing.T, id string) int {
	t.Helper()
	var n int
	q := `SELECT count(*) FROM "` + h.effects + `" WHERE event_id = $1`
	if h.store.Dialect() == sqlstore.SQLite {
		q = strings.Replace(q, "$1", "?", 1)
	}
	require.NoError(t, h.db.QueryRow(q, id).Scan(&n))
	return n
}

// serve serves req to handler and returns the answer.
func serve(handler http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	return rec
}

func signed(payload []byte) *http.Request {
	return stripegatewaytest.NewRequest("/gateways/stripe/notification", payload, webhookSecret)
}

// TestTxWebhookHandler: the callback's change and the event's record
// commit together or not at all, and the answers are the gateway
// handler's.
func TestTxWebhookHandler(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			h := newTxHostOn(t, b)
			var calls atomic.Int32
			fail := map[string]func() error{
				"evt_tx_fails":  func() error { return errors.New("the warehouse refused key sk_live_51Habcdefghijklmnopqrstu") },
				"evt_tx_panics": func() error { panic("out of stock") },
			}
			handler := h.store.WebhookHandler(h.gw, sqlstore.TxHandlers{
				OnPaymentSucceeded: func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error {
					calls.Add(1)
					if err := h.effect(ctx, tx, o); err != nil {
						return err
					}
					if f := fail[o.EventID]; f != nil && calls.Load() == 1 {
						return f() // after the change: it must roll back
					}
					return nil
				},
			})
			// Processed once, then a duplicate.
			payload := payloadOf("evt_tx_ok", stripegateway.PaymentSucceeded)
			rec := serve(handler, signed(payload))
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, "ok\n", rec.Body.String())
			assert.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
			rec = serve(handler, signed(payload))
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, "ok: already processed\n", rec.Body.String())
			assert.EqualValues(t, 1, calls.Load())
			assert.Equal(t, 1, h.effectsOf(t, "evt_tx_ok"))
			r, err := h.store.Lookup(ctx, "evt_tx_ok")
			require.NoError(t, err)
			assert.Equal(t, sqlstore.StateDone, r.State)
			assert.Equal(t, 1, r.Attempts)
			assert.Equal(t, "checkout.session.completed", r.EventType)
			assert.WithinDuration(t, time.Now(), r.DoneAt, time.Minute)

			// A failing or panicking callback: 500, and neither its change
			// nor the record is kept; the next delivery runs it.
			for id, wantLog := range map[string]string{"evt_tx_fails": "the warehouse refused key sk_live_…rstu", "evt_tx_panics": "callback panicked: out of stock"} {
				calls.Store(0)
				payload := payloadOf(id, stripegateway.PaymentSucceeded)
				rec := serve(handler, signed(payload))
				assert.Equal(t, http.StatusInternalServerError, rec.Code, id)
				assert.Equal(t, "internal error; retry later\n", rec.Body.String())
				assert.Zero(t, h.effectsOf(t, id), id)
				_, err := h.store.Lookup(ctx, id)
				assert.ErrorIs(t, err, sqlstore.ErrNotFound, id)
				logged := strings.Join(h.logs.errors(), "\n")
				assert.Contains(t, logged, wantLog)
				assert.NotContains(t, logged, "51Habcdefghijklmnopqrstu")

				rec = serve(handler, signed(payload))
				assert.Equal(t, http.StatusOK, rec.Code, id)
				assert.Equal(t, "ok\n", rec.Body.String())
				assert.Equal(t, 1, h.effectsOf(t, id), id)
			}
			assert.Contains(t, strings.Join(h.logs.errors(), "\n"), "stack=goroutine")

			// A kind without a callback: 200, not recorded.
			rec = serve(handler, signed(payloadOf("evt_tx_nocb", stripegateway.PaymentFailed)))
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, "ok\n", rec.Body.String())
			_, err = h.store.Lookup(ctx, "evt_tx_nocb")
			assert.ErrorIs(t, err, sqlstore.ErrNotFound)

			// Requests refused before any transaction.
			callsBefore := calls.Load()
			get := httptest.NewRequest(http.MethodGet, "/gateways/stripe/notification", nil)
			rec = serve(handler, get)
			assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
			assert.Equal(t, "POST", rec.Header().Get("Allow"))
			assert.Equal(t, "method not allowed\n", rec.Body.String())
			rec = serve(handler, stripegatewaytest.NewRequest("/", payload, webhookSecret, stripegatewaytest.WrongSecret()))
			assert.Equal(t, http.StatusBadRequest, rec.Code)
			assert.Equal(t, "bad request\n", rec.Body.String())
			big := bytes.Repeat([]byte(" "), 1<<20+1)
			rec = serve(handler, signed(big))
			assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
			assert.Equal(t, "request body too large\n", rec.Body.String())
			chunked := signed(big)
			chunked.ContentLength = -1 // undeclared: refused once read past the limit
			rec = serve(handler, chunked)
			assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
			assert.Equal(t, callsBefore, calls.Load(), "no callback ran for the refused requests")
		})
	}
}

// TestTxStoreFailures: when the database fails, before the callback or at
// the commit, the handler answers 503 and nothing is kept.
func TestTxStoreFailures(t *testing.T) {
	t.Run("database closed", func(t *testing.T) {
		for _, b := range backends {
			t.Run(b.name, func(t *testing.T) {
				db := b.open(t)
				h := newTxHost(t, db, uniqueTable(t, b.open(t)), uniqueTable(t, b.open(t)))
				require.NoError(t, db.Close())
				var calls atomic.Int32
				handler := h.store.WebhookHandler(h.gw, sqlstore.TxHandlers{Default: func(context.Context, *sql.Tx, *stripegateway.Outcome) error {
					calls.Add(1)
					return nil
				}})
				_, payload := newEvent(1, "txdown_")
				rec := serve(handler, signed(payload))
				assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
				assert.Equal(t, "temporarily unavailable; retry later\n", rec.Body.String())
				assert.Equal(t, "60", rec.Header().Get("Retry-After"))
				assert.Zero(t, calls.Load())
				assert.Contains(t, strings.Join(h.logs.errors(), "\n"), "sqlstore: process evt_txdown_00001: sql: database is closed")
			})
		}
	})

	// The connection dies after the callback made its change, before the
	// commit (the crash window in which a lease-path store would record
	// nothing while the host's change stayed): both are lost together, and
	// the redelivery has its effect once.
	t.Run("connection killed before the commit", func(t *testing.T) {
		b := backends[0] // PostgreSQL: pg_terminate_backend
		h := newTxHostOn(t, b)
		admin := b.open(t)
		var calls atomic.Int32
		handler := h.store.WebhookHandler(h.gw, sqlstore.TxHandlers{Default: func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error {
			if err := h.effect(ctx, tx, o); err != nil {
				return err
			}
			if calls.Add(1) > 1 {
				return nil
			}
			var pid int
			if err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				return err
			}
			_, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend($1)`, pid)
			return err // nil: the callback succeeded; the commit fails
		}})
		id, payload := newEvent(2, "txkill_")
		rec := serve(handler, signed(payload))
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
		assert.Contains(t, strings.Join(h.logs.errors(), "\n"), "failed to commit the event's transaction")
		assert.Zero(t, h.effectsOf(t, id))
		_, err := h.store.Lookup(context.Background(), id)
		assert.ErrorIs(t, err, sqlstore.ErrNotFound)

		rec = serve(handler, signed(payload))
		assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		rec = serve(handler, signed(payload))
		assert.Equal(t, "ok: already processed\n", rec.Body.String())
		assert.Equal(t, 1, h.effectsOf(t, id))
		assert.EqualValues(t, 2, calls.Load())
	})
}

// TestTxConcurrentDuplicates: two replicas, each with its own pool of
// connections, get every event at the same moment, several times, and some
// callbacks fail at first; every event's effect is in the host's table
// exactly once. On SQLite the pools have several connections and no
// _txlock: the transaction's first statement takes the write lock.
func TestTxConcurrentDuplicates(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			events := 400
			if b.dialect == sqlstore.SQLite {
				events = 150
			}
			dsn := b.dsn(t)
			setup := openDSN(t, b.driverName, dsn)
			table, effects := uniqueTable(t, setup), uniqueTable(t, setup)
			var runs, failures counter
			var handlers [2]http.Handler
			var hosts [2]*txHost
			for i := range hosts {
				db := openDSN(t, b.driverName, dsn)
				db.SetMaxOpenConns(8)
				h := newTxHost(t, db, table, effects)
				hosts[i] = h
				handlers[i] = h.store.WebhookHandler(h.gw, sqlstore.TxHandlers{Default: func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error {
					runs.add(o.EventID)
					if err := h.effect(ctx, tx, o); err != nil {
						return err
					}
					time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond) // some work, holding the lock
					if strings.HasSuffix(o.EventID, "7") && failures.add(o.EventID) == 1 {
						return errors.New("first attempt fails")
					}
					return nil
				}})
			}

			var ok, duplicates, retried atomic.Int32
			deliver := func(i int, payload []byte) {
				for try := 0; try < 200; try++ {
					rec := serve(handlers[(i+try)%2], signed(payload))
					switch {
					case rec.Code == http.StatusOK && rec.Body.String() == "ok\n":
						ok.Add(1)
						return
					case rec.Code == http.StatusOK:
						duplicates.Add(1)
						return
					case rec.Code == http.StatusInternalServerError:
						retried.Add(1)
					default:
						t.Errorf("unexpected answer %d %q", rec.Code, rec.Body.String())
						return
					}
				}
				t.Error("no 200 after 200 deliveries")
			}
			ids := make([]string, events)
			var wg sync.WaitGroup
			sem := make(chan struct{}, 8)
			for e := range events {
				id, payload := newEvent(e, "txdup_")
				ids[e] = id
				for c := range 2 + e%2 { // two or three deliveries at once
					wg.Add(1)
					sem <- struct{}{}
					go func() { defer func() { <-sem; wg.Done() }(); deliver(c, payload) }()
				}
			}
			wg.Wait()
			t.Logf("%d events: %d answered ok, %d already processed, %d retried after a failed callback", events, ok.Load(), duplicates.Load(), retried.Load())

			var rolledBack int
			for _, id := range ids {
				assert.Equal(t, 1, hosts[0].effectsOf(t, id), id)
				rolledBack += int(runs.get(id)) - 1
			}
			assert.EqualValues(t, events, ok.Load(), "one delivery per event ran its callback and committed")
			assert.Equal(t, int(retried.Load()), rolledBack, "callbacks ran again only after a failure")
			var total int
			require.NoError(t, setup.QueryRow(`SELECT count(*) FROM "`+effects+`"`).Scan(&total))
			assert.Equal(t, events, total)
			for _, h := range hosts {
				for _, line := range h.logs.errors() {
					assert.Contains(t, line, "first attempt fails")
				}
			}
		})
	}
}

// TestProcessTx: the transactional path outside HTTP, and its meeting with
// a lease-path claim on the same table.
func TestProcessTx(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			h := newTxHostOn(t, b)
			outcome := func(id string) *stripegateway.Outcome {
				payload := payloadOf(id, stripegateway.PaymentSucceeded)
				o, err := h.gw.VerifyAndParse(payload, stripegatewaytest.SignatureHeader(payload, webhookSecret))
				require.NoError(t, err)
				require.Equal(t, id, o.EventID)
				return o
			}
			boom := errors.New("boom")
			fails := true
			txh := sqlstore.TxHandlers{Default: func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error {
				if err := h.effect(ctx, tx, o); err != nil {
					return err
				}
				if fails {
					return fmt.Errorf("callback: %w", boom)
				}
				return nil
			}}

			o := outcome("evt_ptx_1")
			ran, err := h.store.ProcessTx(ctx, o, txh)
			assert.False(t, ran)
			assert.ErrorIs(t, err, boom)
			fails = false
			ran, err = h.store.ProcessTx(ctx, o, txh)
			assert.True(t, ran)
			assert.NoError(t, err)
			ran, err = h.store.ProcessTx(ctx, o, txh)
			assert.False(t, ran)
			assert.NoError(t, err)
			assert.Equal(t, 1, h.effectsOf(t, "evt_ptx_1"))

			// No callback for the kind.
			ran, err = h.store.ProcessTx(ctx, outcome("evt_ptx_2"), sqlstore.TxHandlers{OnPaymentFailed: txh.Default})
			assert.False(t, ran)
			assert.NoError(t, err)

			// A lease-path claim holds the event: busy until its lease
			// ends, then the transaction takes it over.
			o = outcome("evt_ptx_3")
			mustClaim(t, h.store, stripegateway.EventClaim{EventID: o.EventID, Owner: "lease", Now: time.Now(), Expires: time.Now().Add(300 * time.Millisecond)}, stripegateway.ClaimAcquired)
			claimedAt := time.Now()
			ran, err = h.store.ProcessTx(ctx, o, txh)
			assert.False(t, ran)
			assert.ErrorIs(t, err, sqlstore.ErrBusy)
			assert.EqualError(t, err, "sqlstore: process evt_ptx_3: sqlstore: the event is being processed by another delivery")
			rec := serve(h.store.WebhookHandler(h.gw, txh), signed(payloadOf(o.EventID, o.Kind)))
			assert.Equal(t, http.StatusConflict, rec.Code)
			assert.Equal(t, "event is being processed; retry later\n", rec.Body.String())
			assert.NotEmpty(t, rec.Header().Get("Retry-After"))
			time.Sleep(time.Until(claimedAt.Add(400 * time.Millisecond)))
			ran, err = h.store.ProcessTx(ctx, o, txh)
			assert.True(t, ran)
			assert.NoError(t, err)
			r, err := h.store.Lookup(ctx, o.EventID)
			require.NoError(t, err)
			assert.Equal(t, sqlstore.StateDone, r.State)
			assert.Equal(t, 2, r.Attempts)
			// The lease path's owner finds its claim lost, and a lease-path
			// delivery finds the event done.
			assertLost(t, h.store.Complete(ctx, stripegateway.EventClaim{EventID: o.EventID, Owner: "lease", Now: time.Now()}), "complete")
			mustClaim(t, h.store, stripegateway.EventClaim{EventID: o.EventID, Owner: "other", Now: time.Now(), Expires: time.Now().Add(time.Minute)}, stripegateway.ClaimCompleted)

			// A canceled context: nothing runs.
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			ran, err = h.store.ProcessTx(cctx, outcome("evt_ptx_4"), txh)
			assert.False(t, ran)
			assert.ErrorIs(t, err, context.Canceled)
		})
	}
}

// payloadOf returns the payload of an event of kind, with ID id, for the
// order "order-"+id.
func payloadOf(id string, kind stripegateway.Kind) []byte {
	ev := stripegatewaytest.ForKind(kind, "order-"+id, decimal.RequireFromString("19.99"), "eur")
	ev.ID = id
	return ev.MustJSON()
}

// TestTxReadBodyDoesNotPreallocate: a request that declares a body of
// almost 1 MiB but sends a few bytes costs what it sends, not what it
// declares.
func TestTxReadBodyDoesNotPreallocate(t *testing.T) {
	h := newTxHostOn(t, backends[1])
	handler := h.store.WebhookHandler(h.gw, sqlstore.TxHandlers{})
	const requests = 50
	reqs := make([]*http.Request, requests)
	for i := range reqs {
		reqs[i] = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"id":"evt_1"}`))
		reqs[i].ContentLength = 1<<20 - 1
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, req := range reqs {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		require.Equal(t, http.StatusBadRequest, rec.Code)
	}
	runtime.ReadMemStats(&after)
	perRequest := (after.TotalAlloc - before.TotalAlloc) / requests
	assert.Less(t, perRequest, uint64(64<<10), "bytes allocated per request")
}
