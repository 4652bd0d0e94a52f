package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
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

// The tests here run several "replicas" of a store: each has its own
// *sql.DB (its own connection pool, as a separate process would), its own
// Store, Gateway and webhook handler. They share one database. Requests are
// served to the handlers directly (ServeHTTP), which keeps the race
// detector's run short.

const webhookSecret = "whsec_xxxsqlstoreReplicaTestSecret0001"

func testConfig() stripegateway.Config {
	return stripegateway.Config{
		DisplayName:    "Replica Shop",
		Status:         stripegateway.StatusActive,
		Mode:           stripegateway.ModeTest,
		PublishableKey: "pk_test_51HsqlstoreReplicaPublishable",
		SecretKey:      "sk_test_51HsqlstoreReplicaSecretKey00",
		WebhookSecret:  webhookSecret,
	}
}

// replica is one process of the store.
type replica struct {
	name  string
	store *sqlstore.Store
	logs  *logRecorder
	h     http.Handler // the webhook handler
}

// newReplica starts a replica on the database at dsn, with the store in
// table and the webhook callbacks h.
func newReplica(t *testing.T, name string, b backend, dsn, table string, h stripegateway.Handlers, storeOpts []sqlstore.Option, gwOpts ...stripegateway.Option) *replica {
	t.Helper()
	db := openDSN(t, b.driverName, dsn)
	store, err := sqlstore.New(db, append([]sqlstore.Option{sqlstore.WithTable(table)}, storeOpts...)...)
	require.NoError(t, err)
	require.NoError(t, store.Migrate(context.Background()))
	logs := &logRecorder{}
	gwOpts = append([]stripegateway.Option{stripegateway.WithEventStore(store), stripegateway.WithLogger(slog.New(logs))}, gwOpts...)
	gw, err := stripegateway.New(testConfig(), gwOpts...)
	require.NoError(t, err)
	return &replica{name: name, store: store, logs: logs, h: gw.WebhookHandler(h)}
}

// deliver serves a request carrying payload, signed as Stripe signs it, to
// the replica's webhook handler, and returns the answer's status and body.
func (r *replica) deliver(payload []byte, opts ...stripegatewaytest.SignOption) (int, string) {
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, stripegatewaytest.NewRequest("/gateways/stripe/notification", payload, webhookSecret, opts...))
	return rec.Code, rec.Body.String()
}

// deliverAsync delivers payload in the background, and sends the answer's
// status on the channel it returns.
func (r *replica) deliverAsync(payload []byte) <-chan int {
	status := make(chan int, 1)
	go func() {
		code, _ := r.deliver(payload)
		status <- code
	}()
	return status
}

// counting is callbacks that count their runs in runs.
func counting(runs *counter) stripegateway.Handlers {
	return stripegateway.Handlers{Default: func(ctx context.Context, o *stripegateway.Outcome) error {
		runs.add(o.EventID)
		return nil
	}}
}

// counter counts callback runs per event.
type counter struct{ m sync.Map }

func (c *counter) add(id string) int32 {
	v, _ := c.m.LoadOrStore(id, new(atomic.Int32))
	return v.(*atomic.Int32).Add(1)
}

func (c *counter) get(id string) int32 {
	if v, ok := c.m.Load(id); ok {
		return v.(*atomic.Int32).Load()
	}
	return 0
}

// kinds are the event kinds the tests send, in turn.
var kinds = []stripegateway.Kind{
	stripegateway.PaymentSucceeded, stripegateway.PaymentFailed, stripegateway.PaymentCanceled,
	stripegateway.PaymentRefunded, stripegateway.CheckoutExpired, stripegateway.InvoiceCreated,
	stripegateway.PaymentDisputed, stripegateway.Unhandled,
}

// newEvent returns the i-th test event's ID and payload.
func newEvent(i int, prefix string) (string, []byte) {
	ev := stripegatewaytest.ForKind(kinds[i%len(kinds)], fmt.Sprintf("order-%d", i), decimal.New(int64(1000+i), -2), "usd")
	ev.ID = fmt.Sprintf("evt_%s%05d", prefix, i)
	return ev.ID, ev.MustJSON()
}

// TestReplicasProcessEachEventOnce: two replicas sharing one database get
// the same 2,000 signed events at once, in random order, with duplicates;
// every event's callback runs exactly once across the two.
func TestReplicasProcessEachEventOnce(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			events, workers := 2000, 16
			if b.dialect == sqlstore.SQLite {
				events = 300 // PostgreSQL is the multi-host case; SQLite is slower under -race
			}
			dsn := b.dsn(t)
			table := uniqueTable(t, openDSN(t, b.driverName, dsn))

			var runs counter
			var perReplica [2]atomic.Int32
			handlers := func(i int) stripegateway.Handlers {
				return stripegateway.Handlers{Default: func(ctx context.Context, o *stripegateway.Outcome) error {
					runs.add(o.EventID)
					perReplica[i].Add(1)
					time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond) // some work
					return nil
				}}
			}
			replicas := []*replica{
				newReplica(t, "a", b, dsn, table, handlers(0), nil),
				newReplica(t, "b", b, dsn, table, handlers(1), nil),
			}

			// Each event is delivered to both replicas at the same moment,
			// and to a random replica 0 to 2 more times, in random order.
			type delivery struct {
				id      string
				payload []byte
				burst   bool // to both replicas at once
			}
			var plan []delivery
			ids := make([]string, events)
			for i := range events {
				id, payload := newEvent(i, "replica_")
				ids[i] = id
				plan = append(plan, delivery{id, payload, true})
				for range rand.IntN(3) {
					plan = append(plan, delivery{id, payload, false})
				}
			}
			rand.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })

			// send delivers until a 200, retrying 409 and 5xx answers like
			// Stripe (here after a millisecond or two, on a random replica).
			var processed, duplicates, conflicts, serverErrors atomic.Int32
			send := func(r *replica, d delivery) {
				for try := 0; try < 500; try++ {
					status, body := r.deliver(d.payload)
					switch {
					case status == http.StatusOK && body == "ok\n":
						processed.Add(1)
						return
					case status == http.StatusOK:
						duplicates.Add(1)
						return
					case status == http.StatusConflict:
						conflicts.Add(1)
					case status >= 500:
						serverErrors.Add(1)
					default:
						t.Errorf("%s to %s: %d %q", d.id, r.name, status, body)
						return
					}
					time.Sleep(time.Millisecond + time.Duration(rand.IntN(1000))*time.Microsecond)
					r = replicas[rand.IntN(2)]
				}
				t.Errorf("%s: no 200 after 500 deliveries", d.id)
			}

			start := time.Now()
			work := make(chan delivery)
			var wg sync.WaitGroup
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for d := range work {
						if !d.burst {
							send(replicas[rand.IntN(2)], d)
							continue
						}
						var both sync.WaitGroup
						for _, r := range replicas {
							both.Add(1)
							go func() { defer both.Done(); send(r, d) }()
						}
						both.Wait()
					}
				}()
			}
			for _, d := range plan {
				work <- d
			}
			close(work)
			wg.Wait()
			t.Logf("%d events, %d deliveries in %s: %d processed, %d duplicates answered 200, %d answered 409, %d answered 5xx; replica a ran %d callbacks, b %d",
				events, len(plan)+events, time.Since(start).Round(time.Millisecond), processed.Load(), duplicates.Load(), conflicts.Load(), serverErrors.Load(),
				perReplica[0].Load(), perReplica[1].Load())

			for _, id := range ids {
				if n := runs.get(id); n != 1 {
					t.Errorf("%s: callback ran %d times, want exactly 1", id, n)
				}
			}
			assert.EqualValues(t, events, processed.Load(), "deliveries answered 200 after running the callback")
			assert.EqualValues(t, len(plan)+events-events, duplicates.Load(), "the other deliveries were answered 200 as already processed")
			assert.Positive(t, perReplica[0].Load(), "replica a processed events")
			assert.Positive(t, perReplica[1].Load(), "replica b processed events")
			for _, r := range replicas {
				assert.Empty(t, r.logs.errors(), "replica %s logged errors", r.name)
			}

			// The table agrees: every event done, at its first attempt.
			var done, attempts int
			require.NoError(t, openDSN(t, b.driverName, dsn).QueryRow(
				`SELECT count(*), coalesce(sum(attempts), 0) FROM "`+table+`" WHERE state = 'done'`).Scan(&done, &attempts))
			assert.Equal(t, events, done)
			assert.Equal(t, events, attempts)
		})
	}
}

// TestReplicasRetryFailedCallbacks: a callback that fails is released and
// runs again on the next delivery, on either replica, until it succeeds;
// its effect happens once, and the table keeps the redacted error.
func TestReplicasRetryFailedCallbacks(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			const events = 200
			dsn := b.dsn(t)
			table := uniqueTable(t, openDSN(t, b.driverName, dsn))
			var calls, effects counter
			h := stripegateway.Handlers{Default: func(ctx context.Context, o *stripegateway.Outcome) error {
				if calls.add(o.EventID) == 1 && strings.HasSuffix(o.EventID, "0") {
					return fmt.Errorf("the order database refused key sk_live_51HabcdefghijklmnopqrstuvwX")
				}
				effects.add(o.EventID)
				return nil
			}}
			replicas := []*replica{
				newReplica(t, "a", b, dsn, table, h, nil),
				newReplica(t, "b", b, dsn, table, h, nil),
			}
			var wg sync.WaitGroup
			sem := make(chan struct{}, 16)
			for i := range events {
				id, payload := newEvent(i, "retry_")
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					for try := 0; ; try++ {
						status, body := replicas[rand.IntN(2)].deliver(payload)
						if status == http.StatusOK || try == 100 {
							assert.Equal(t, http.StatusOK, status, "%s: %s", id, body)
							return
						}
						assert.Contains(t, []int{http.StatusInternalServerError, http.StatusConflict}, status, "%s: %s", id, body)
						time.Sleep(time.Millisecond)
					}
				}()
			}
			wg.Wait()
			ctx := context.Background()
			for i := range events {
				id := fmt.Sprintf("evt_retry_%05d", i)
				assert.EqualValues(t, 1, effects.get(id), id)
				r, err := replicas[0].store.Lookup(ctx, id)
				require.NoError(t, err)
				assert.Equal(t, sqlstore.StateDone, r.State)
				if strings.HasSuffix(id, "0") {
					assert.EqualValues(t, 2, calls.get(id), id)
					assert.Equal(t, 2, r.Attempts, id)
					// Redacted by the gateway already, to its last four characters.
					assert.Equal(t, "the order database refused key sk_live_…uvwX", r.LastError)
				} else {
					assert.EqualValues(t, 1, calls.get(id), id)
					assert.Equal(t, 1, r.Attempts, id)
					assert.Empty(t, r.LastError)
				}
			}
		})
	}
}

// TestDeadReplicaLeaseTakeover: a replica "dies" holding an event's claim;
// after the lease, a redelivery to the other replica processes the event.
func TestDeadReplicaLeaseTakeover(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		// The gateways' (fake) clock: the lease passes without waiting.
		t.Run(b.name+"/gateway clock", func(t *testing.T) {
			const leaseLen = 30 * time.Second
			dsn := b.dsn(t)
			table := uniqueTable(t, openDSN(t, b.driverName, dsn))
			clock := &fakeClock{now: time.Now().Truncate(time.Second)}
			var runs counter
			h := stripegateway.Handlers{Default: func(ctx context.Context, o *stripegateway.Outcome) error {
				runs.add(o.EventID)
				return nil
			}}
			gwOpts := []stripegateway.Option{stripegateway.WithClock(clock.Now), stripegateway.WithEventLease(leaseLen)}
			storeOpts := []sqlstore.Option{sqlstore.WithGatewayClock()}
			a := newReplica(t, "a", b, dsn, table, h, storeOpts, gwOpts...)
			bb := newReplica(t, "b", b, dsn, table, h, storeOpts, gwOpts...)
			id, payload := newEvent(1, "dead_")

			// Replica a claims the event, as its handler does before the
			// callback, and dies: it never completes or releases it.
			dead := stripegateway.EventClaim{EventID: id, EventType: "checkout.session.completed", Owner: "replica-a-died", Now: clock.Now(), Expires: clock.Now().Add(leaseLen)}
			st, err := a.store.Claim(ctx, dead)
			require.NoError(t, err)
			require.Equal(t, stripegateway.ClaimAcquired, st)

			// Stripe delivers again, to b: the claim is still held.
			status, body := bb.deliver(payload, stripegatewaytest.At(clock.Now()))
			assert.Equal(t, http.StatusConflict, status, body)
			clock.Add(leaseLen - time.Second)
			status, body = bb.deliver(payload, stripegatewaytest.At(clock.Now()))
			assert.Equal(t, http.StatusConflict, status, body)
			assert.Zero(t, runs.get(id))

			// After the lease, b takes the event over and processes it.
			clock.Add(time.Second)
			status, body = bb.deliver(payload, stripegatewaytest.At(clock.Now()))
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, "ok\n", body)
			assert.EqualValues(t, 1, runs.get(id))

			// Later deliveries, to either replica, are duplicates.
			for _, r := range []*replica{a, bb} {
				status, body = r.deliver(payload, stripegatewaytest.At(clock.Now()))
				assert.Equal(t, http.StatusOK, status)
				assert.Equal(t, "ok: already processed\n", body)
			}
			assert.EqualValues(t, 1, runs.get(id))
			// Had replica a come back, its claim would be lost.
			assert.ErrorIs(t, a.store.Complete(ctx, dead), stripegateway.ErrClaimLost)
			r, err := a.store.Lookup(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, sqlstore.StateDone, r.State)
			assert.Equal(t, 2, r.Attempts)
		})

		// The database's clock (the default) and a real one-second lease:
		// replica a hangs (a wedged process, whose renewals stopped too)
		// while b takes over.
		t.Run(b.name+"/database clock", func(t *testing.T) {
			dsn := b.dsn(t)
			table := uniqueTable(t, openDSN(t, b.driverName, dsn))
			var runs counter
			started, unblock := make(chan struct{}), make(chan struct{})
			hang := stripegateway.Handlers{Default: func(ctx context.Context, o *stripegateway.Outcome) error {
				close(started)
				<-unblock
				return fmt.Errorf("replica a died") // it never got to do its work
			}}
			work := counting(&runs)
			aStore, err := sqlstore.New(openDSN(t, b.driverName, dsn), sqlstore.WithTable(table))
			require.NoError(t, err)
			a := newReplica(t, "a", b, dsn, table, hang, nil, stripegateway.WithEventLease(time.Second),
				stripegateway.WithEventStore(&wedgedAfterClaim{EventStore: aStore}))
			bb := newReplica(t, "b", b, dsn, table, work, nil, stripegateway.WithEventLease(time.Second))
			id, payload := newEvent(2, "dead_")

			aDone := a.deliverAsync(payload)
			<-started
			claimedAt := time.Now()
			status, body := bb.deliver(payload)
			assert.Equal(t, http.StatusConflict, status, body)

			time.Sleep(time.Until(claimedAt.Add(time.Second + 50*time.Millisecond)))
			status, body = bb.deliver(payload)
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, "ok\n", body)
			assert.EqualValues(t, 1, runs.get(id))

			// Replica a's callback ends at last; its claim is gone, so its
			// release cannot undo b's work.
			close(unblock)
			assert.Equal(t, http.StatusInternalServerError, <-aDone)
			assert.Contains(t, strings.Join(a.logs.errors(), "\n"), "event claim lost")
			r, err := a.store.Lookup(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, sqlstore.StateDone, r.State)
			assert.Equal(t, 2, r.Attempts)
			status, body = a.deliver(payload)
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, "ok: already processed\n", body)
		})
	}
}

// wedgedAfterClaim is the event store of a wedged replica: its database
// connection hangs after each claim, so that its renewals fail.
type wedgedAfterClaim struct {
	stripegateway.EventStore
	claimed sync.Map // of event ID and owner
}

func (w *wedgedAfterClaim) Claim(ctx context.Context, c stripegateway.EventClaim) (stripegateway.ClaimStatus, error) {
	if _, renewal := w.claimed.LoadOrStore(c.EventID+"/"+c.Owner, true); renewal {
		return 0, fmt.Errorf("sqlstore: claim %s: the connection hangs", c.EventID)
	}
	return w.EventStore.Claim(ctx, c)
}

// TestSlowCallbackIsNotRunTwice: a callback that runs for more than two
// leases keeps its claim, renewed through the store by the gateway, so that
// deliveries to another replica meanwhile are answered 409 and the callback
// runs once.
func TestSlowCallbackIsNotRunTwice(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel() // each waits for real leases
			dsn := b.dsn(t)
			table := uniqueTable(t, openDSN(t, b.driverName, dsn))
			var runs counter
			started := make(chan struct{})
			slow := stripegateway.Handlers{Default: func(ctx context.Context, o *stripegateway.Outcome) error {
				runs.add(o.EventID)
				close(started)
				select {
				case <-time.After(2500 * time.Millisecond):
					return nil
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			}}
			work := counting(&runs)
			a := newReplica(t, "a", b, dsn, table, slow, nil, stripegateway.WithEventLease(time.Second))
			bb := newReplica(t, "b", b, dsn, table, work, nil, stripegateway.WithEventLease(time.Second))
			id, payload := newEvent(4, "slow_")

			aDone := a.deliverAsync(payload)
			<-started
			claimedAt := time.Now()
			for _, at := range []time.Duration{300 * time.Millisecond, 1300 * time.Millisecond, 2100 * time.Millisecond} {
				time.Sleep(time.Until(claimedAt.Add(at)))
				status, body := bb.deliver(payload)
				assert.Equal(t, http.StatusConflict, status, "%s after the claim: %s", at, body)
			}
			assert.Equal(t, http.StatusOK, <-aDone)
			status, body := bb.deliver(payload)
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, "ok: already processed\n", body)
			assert.EqualValues(t, 1, runs.get(id))
			r, err := a.store.Lookup(context.Background(), id)
			require.NoError(t, err)
			assert.Equal(t, sqlstore.StateDone, r.State)
			assert.Equal(t, 1, r.Attempts, "renewals are not attempts")
			assert.Empty(t, a.logs.errors())
		})
	}
}

// TestStoreUnreachable: when the database cannot be reached, the handler
// answers 503, never 200, so that Stripe delivers the event again.
func TestStoreUnreachable(t *testing.T) {
	type target struct {
		name string
		db   func(t *testing.T) *sql.DB
	}
	targets := []target{
		{"sqlite closed", func(t *testing.T) *sql.DB { return openSQLite(t) }},
		{"postgres closed", func(t *testing.T) *sql.DB { return openPG(t) }},
		{"postgres not running", func(t *testing.T) *sql.DB {
			return openDSN(t, "pgx", "host="+t.TempDir()+" port=5432 user=postgres dbname=postgres sslmode=disable connect_timeout=2")
		}},
	}
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.db(t)
			table := uniqueName("events_")
			if tc.name == "postgres closed" {
				table = uniqueTable(t, openPG(t)) // dropped through a pool that stays open
			}
			store, err := sqlstore.New(db, sqlstore.WithTable(table))
			require.NoError(t, err)
			if strings.HasSuffix(tc.name, "closed") {
				require.NoError(t, store.Migrate(context.Background()))
				require.NoError(t, db.Close())
			}
			logs := &logRecorder{}
			gw, err := stripegateway.New(testConfig(), stripegateway.WithEventStore(store), stripegateway.WithLogger(slog.New(logs)))
			require.NoError(t, err)
			var runs atomic.Int32
			h := gw.WebhookHandler(stripegateway.Handlers{Default: func(context.Context, *stripegateway.Outcome) error {
				runs.Add(1)
				return nil
			}})
			_, payload := newEvent(3, "down_")
			for range 2 {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, stripegatewaytest.NewRequest("/gateways/stripe/notification", payload, webhookSecret))
				assert.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
				assert.NotEmpty(t, rec.Header().Get("Retry-After"))
			}
			assert.Zero(t, runs.Load())
			assert.Contains(t, strings.Join(logs.errors(), "\n"), "sqlstore: claim evt_down_00003: ")
		})
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// logRecorder is a slog.Handler that keeps the error lines.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
	attrs []slog.Attr
	root  *logRecorder
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelError {
		return nil
	}
	var sb strings.Builder
	sb.WriteString(r.Message)
	for _, a := range l.attrs {
		fmt.Fprintf(&sb, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&sb, " %s=%v", a.Key, a.Value)
		return true
	})
	root := l.rootOf()
	root.mu.Lock()
	root.lines = append(root.lines, sb.String())
	root.mu.Unlock()
	return nil
}

func (l *logRecorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logRecorder{attrs: append(append([]slog.Attr(nil), l.attrs...), attrs...), root: l.rootOf()}
}

func (l *logRecorder) WithGroup(string) slog.Handler { return l }

func (l *logRecorder) rootOf() *logRecorder {
	if l.root != nil {
		return l.root
	}
	return l
}

// errors returns the error lines logged so far.
func (l *logRecorder) errors() []string {
	root := l.rootOf()
	root.mu.Lock()
	defer root.mu.Unlock()
	return append([]string(nil), root.lines...)
}
