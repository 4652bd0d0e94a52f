package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/sqlstore"
)

// backend is a database the store is tested on.
type backend struct {
	name       string
	dialect    sqlstore.Dialect
	driverName string
	// dsn returns the data source name of a database for the test: the
	// PostgreSQL server's, or a new SQLite file's.
	dsn func(testing.TB) string
}

var backends = []backend{
	{"postgres", sqlstore.Postgres, "pgx", pgDSN},
	{"sqlite", sqlstore.SQLite, "sqlite", sqliteDSN},
}

// open opens a new database of the backend.
func (b backend) open(t testing.TB) *sql.DB { return openDSN(t, b.driverName, b.dsn(t)) }

// newStore opens the backend's database and returns a migrated store on a
// table of its own.
func newStore(t testing.TB, b backend, opts ...sqlstore.Option) (*sqlstore.Store, *sql.DB) {
	t.Helper()
	db := b.open(t)
	opts = append([]sqlstore.Option{sqlstore.WithTable(uniqueTable(t, db))}, opts...)
	s, err := sqlstore.New(db, opts...)
	require.NoError(t, err)
	require.Equal(t, b.dialect, s.Dialect(), "dialect detected from the driver")
	require.NoError(t, s.Migrate(context.Background()))
	return s, db
}

// t0 is the fake clock's start. It has no sub-microsecond part, which
// PostgreSQL's timestamptz would drop.
var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

const lease = time.Minute

// claimAt is a claim by owner on event id at now, with the test lease.
func claimAt(id, owner string, now time.Time) stripegateway.EventClaim {
	return stripegateway.EventClaim{EventID: id, EventType: "checkout.session.completed", Owner: owner, Now: now, Expires: now.Add(lease)}
}

// TestConformance runs the EventStore contract against every dialect, with
// the gateway's (fake) clock, which moves leases without waiting; the cases
// that do not move the clock run with the database's clock too.
func TestConformance(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, s *sqlstore.Store, db *sql.DB, b backend)
		// anyClock: the case does not move the clock, and runs with the
		// database's clock too.
		anyClock bool
	}{
		{"new event is acquired", func(t *testing.T, s *sqlstore.Store, _ *sql.DB, _ backend) {
			st, err := s.Claim(ctx, claimAt("evt_1", "a", t0))
			require.NoError(t, err)
			assert.Equal(t, stripegateway.ClaimAcquired, st)
			r, err := s.Lookup(ctx, "evt_1")
			require.NoError(t, err)
			assert.Equal(t, sqlstore.Record{
				EventID: "evt_1", EventType: "checkout.session.completed", State: sqlstore.StateProcessing,
				Owner: "a", LeaseUntil: t0.Add(lease), Attempts: 1, CreatedAt: t0, UpdatedAt: t0,
			}, r)
		}, false},
		{"held event is busy until its lease ends", func(t *testing.T, s *sqlstore.Store, _ *sql.DB, _ backend) {
			mustClaim(t, s, claimAt("evt_1", "a", t0), stripegateway.ClaimAcquired)
			mustClaim(t, s, claimAt("evt_1", "b", t0), stripegateway.ClaimBusy)
			mustClaim(t, s, claimAt("evt_1", "b", t0.Add(lease-time.Microsecond)), stripegateway.ClaimBusy)
			// Like the in-memory store: the lease is over at its expiry.
			mustClaim(t, s, claimAt("evt_1", "c", t0.Add(lease)), stripegateway.ClaimAcquired)
			r, err := s.Lookup(ctx, "evt_1")
			require.NoError(t, err)
			assert.Equal(t, "c", r.Owner)
			assert.Equal(t, 2, r.Attempts)
		}, false},
		{"completed event", func(t *testing.T, s *sqlstore.Store, _ *sql.DB, _ backend) {
			mustClaim(t, s, claimAt("evt_1", "a", t0), stripegateway.ClaimAcquired)
			c := claimAt("evt_1", "a", t0)
			c.Now = t0.Add(time.Second)
			require.NoError(t, s.Complete(ctx, c))
			mustClaim(t, s, claimAt("evt_1", "b", t0.Add(2*time.Second)), stripegateway.ClaimCompleted)
			mustClaim(t, s, claimAt("evt_1", "b", t0.Add(48*time.Hour)), stripegateway.ClaimCompleted)
			r, err := s.Lookup(ctx, "evt_1")
			require.NoError(t, err)
			assert.Equal(t, sqlstore.StateDone, r.State)
			assert.Equal(t, t0.Add(time.Second), r.DoneAt)
			assert.Equal(t, 1, r.Attempts)
		}, false},
		{"complete or release by a non-owner is a lost claim", func(t *testing.T, s *sqlstore.Store, _ *sql.DB, _ backend) {
			mustClaim(t, s, claimAt("evt_1", "a", t0), stripegateway.ClaimAcquired)
			assertLost(t, s.Complete(ctx, claimAt("evt_1", "b", t0)), "complete")
			assertLost(t, s.Release(ctx, claimAt("evt_1", "b", t0), "boom"), "release")
			assertLost(t, s.Complete(ctx, claimAt("evt_unknown", "a", t0)), "complete")
			assertLost(t, s.Release(ctx, claimAt("evt_unknown", "a", t0), "boom"), "release")
			require.NoError(t, s.Complete(ctx, claimAt("evt_1", "a", t0)))
			// Once done, not even the owner can complete or release it again.
			assertLost(t, s.Complete(ctx, claimAt("evt_1", "a", t0)), "complete")
			assertLost(t, s.Release(ctx, claimAt("evt_1", "a", t0), "boom"), "release")
		}, true},
		{"release then claim again", func(t *testing.T, s *sqlstore.Store, _ *sql.DB, _ backend) {
			mustClaim(t, s, claimAt("evt_1", "a", t0), stripegateway.ClaimAcquired)
			require.NoError(t, s.Release(ctx, claimAt("evt_1", "a", t0), "charge failed for key sk_live_51Habcdefghijklmnop"))
			r, err := s.Lookup(ctx, "evt_1")
			require.NoError(t, err)
			assert.Equal(t, sqlstore.StateProcessing, r.State)
			assert.Empty(t, r.Owner)
			assert.Equal(t, "charge failed for key sk_live_…mnop", r.LastError)
			// The releaser holds nothing any more.
			assertLost(t, s.Complete(ctx, claimAt("evt_1", "a", t0)), "complete")
			assertLost(t, s.Release(ctx, claimAt("evt_1", "a", t0), "again"), "release")
			// The next delivery claims it at once, even on the same clock.
			mustClaim(t, s, claimAt("evt_1", "b", t0), stripegateway.ClaimAcquired)
			mustClaim(t, s, claimAt("evt_1", "c", t0), stripegateway.ClaimBusy)
			r, err = s.Lookup(ctx, "evt_1")
			require.NoError(t, err)
			assert.Equal(t, 2, r.Attempts)
			assert.Equal(t, "b", r.Owner)
			require.NoError(t, s.Complete(ctx, claimAt("evt_1", "b", t0)))
			mustClaim(t, s, claimAt("evt_1", "d", t0), stripegateway.ClaimCompleted)
		}, true},
		{"expired lease is taken over and the old owner's claim is lost", func(t *testing.T, s *sqlstore.Store, _ *sql.DB, _ backend) {
			mustClaim(t, s, claimAt("evt_1", "a", t0), stripegateway.ClaimAcquired)
			mustClaim(t, s, claimAt("evt_1", "b", t0.Add(2*lease)), stripegateway.ClaimAcquired)
			assertLost(t, s.Complete(ctx, claimAt("evt_1", "a", t0.Add(2*lease))), "complete")
			assertLost(t, s.Release(ctx, claimAt("evt_1", "a", t0.Add(2*lease)), "late"), "release")
			require.NoError(t, s.Complete(ctx, claimAt("evt_1", "b", t0.Add(2*lease))))
			r, err := s.Lookup(ctx, "evt_1")
			require.NoError(t, err)
			assert.Equal(t, 2, r.Attempts)
			assert.Equal(t, "b", r.Owner)
		}, false},
		{"the owner renews its claim", func(t *testing.T, s *sqlstore.Store, _ *sql.DB, _ backend) {
			mustClaim(t, s, claimAt("evt_1", "a", t0), stripegateway.ClaimAcquired)
			// Halfway through the lease, the owner extends it.
			mustClaim(t, s, claimAt("evt_1", "a", t0.Add(lease/2)), stripegateway.ClaimAcquired)
			r, err := s.Lookup(ctx, "evt_1")
			require.NoError(t, err)
			assert.Equal(t, t0.Add(lease/2+lease), r.LeaseUntil)
			assert.Equal(t, "a", r.Owner)
			assert.Equal(t, 1, r.Attempts, "a renewal is not an attempt")
			// The first lease's end no longer frees the event.
			mustClaim(t, s, claimAt("evt_1", "b", t0.Add(lease)), stripegateway.ClaimBusy)
			// An owner whose lease ran out renews if nobody took over.
			mustClaim(t, s, claimAt("evt_1", "a", t0.Add(5*lease)), stripegateway.ClaimAcquired)
			// Once taken over, the old owner's renewal is refused.
			mustClaim(t, s, claimAt("evt_1", "b", t0.Add(7*lease)), stripegateway.ClaimAcquired)
			mustClaim(t, s, claimAt("evt_1", "a", t0.Add(7*lease)), stripegateway.ClaimBusy)
			mustClaim(t, s, claimAt("evt_1", "b", t0.Add(7*lease+time.Second)), stripegateway.ClaimAcquired)
			r, err = s.Lookup(ctx, "evt_1")
			require.NoError(t, err)
			assert.Equal(t, "b", r.Owner)
			assert.Equal(t, 2, r.Attempts)
			require.NoError(t, s.Complete(ctx, claimAt("evt_1", "b", t0.Add(7*lease))))
			mustClaim(t, s, claimAt("evt_1", "b", t0.Add(7*lease)), stripegateway.ClaimCompleted)
			// A released owner holds nothing to renew: its claim is a new one.
			mustClaim(t, s, claimAt("evt_2", "a", t0), stripegateway.ClaimAcquired)
			require.NoError(t, s.Release(ctx, claimAt("evt_2", "a", t0), "boom"))
			mustClaim(t, s, claimAt("evt_2", "a", t0), stripegateway.ClaimAcquired)
			r, err = s.Lookup(ctx, "evt_2")
			require.NoError(t, err)
			assert.Equal(t, 2, r.Attempts)
		}, false},
		{"owner completes after its lease if nobody took over", func(t *testing.T, s *sqlstore.Store, _ *sql.DB, _ backend) {
			mustClaim(t, s, claimAt("evt_1", "a", t0), stripegateway.ClaimAcquired)
			require.NoError(t, s.Complete(ctx, claimAt("evt_1", "a", t0.Add(3*lease))))
			mustClaim(t, s, claimAt("evt_1", "b", t0.Add(3*lease)), stripegateway.ClaimCompleted)
		}, false},
		{"purge deletes only done rows older than the cut-off", func(t *testing.T, s *sqlstore.Store, _ *sql.DB, _ backend) {
			for _, id := range []string{"evt_done_old", "evt_done_new", "evt_held_old", "evt_released_old"} {
				mustClaim(t, s, claimAt(id, "a", t0), stripegateway.ClaimAcquired)
			}
			require.NoError(t, s.Complete(ctx, claimAt("evt_done_old", "a", t0)))
			require.NoError(t, s.Complete(ctx, claimAt("evt_done_new", "a", t0.Add(2*time.Hour))))
			require.NoError(t, s.Release(ctx, claimAt("evt_released_old", "a", t0), "boom"))
			n, err := s.Purge(ctx, t0.Add(time.Hour))
			require.NoError(t, err)
			assert.EqualValues(t, 1, n)
			_, err = s.Lookup(ctx, "evt_done_old")
			assert.ErrorIs(t, err, sqlstore.ErrNotFound)
			for _, id := range []string{"evt_done_new", "evt_held_old", "evt_released_old"} {
				_, err := s.Lookup(ctx, id)
				assert.NoError(t, err, id)
			}
			// The cut-off is exclusive.
			n, err = s.Purge(ctx, t0.Add(2*time.Hour))
			require.NoError(t, err)
			assert.EqualValues(t, 0, n)
			n, err = s.Purge(ctx, t0.Add(2*time.Hour+time.Microsecond))
			require.NoError(t, err)
			assert.EqualValues(t, 1, n)
			// A cut-off far in the future purges every done row: on SQLite
			// it is clamped to the largest nanosecond time, not wrapped.
			mustClaim(t, s, claimAt("evt_done_later", "a", t0), stripegateway.ClaimAcquired)
			require.NoError(t, s.Complete(ctx, claimAt("evt_done_later", "a", t0)))
			n, err = s.Purge(ctx, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC))
			require.NoError(t, err)
			assert.EqualValues(t, 1, n)
		}, false},
		{"migrate is idempotent and checks the columns", func(t *testing.T, s *sqlstore.Store, db *sql.DB, _ backend) {
			require.NoError(t, s.Migrate(ctx))
			require.NoError(t, s.Migrate(ctx))
			mustClaim(t, s, claimAt("evt_1", "a", t0), stripegateway.ClaimAcquired)
			require.NoError(t, s.Migrate(ctx))
			mustClaim(t, s, claimAt("evt_1", "b", t0), stripegateway.ClaimBusy)

			// Several replicas starting at once.
			fresh, err := sqlstore.New(db, sqlstore.WithTable(uniqueTable(t, db)))
			require.NoError(t, err)
			var wg sync.WaitGroup
			errs := make([]error, 6)
			for i := range errs {
				wg.Add(1)
				go func() { defer wg.Done(); errs[i] = fresh.Migrate(ctx) }()
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			mustClaim(t, fresh, claimAt("evt_1", "a", t0), stripegateway.ClaimAcquired)

			// A table of the same name that is something else.
			other := uniqueTable(t, db)
			_, err = db.ExecContext(ctx, `CREATE TABLE "`+other+`" (event_id text PRIMARY KEY, payload text)`)
			require.NoError(t, err)
			wrong, err := sqlstore.New(db, sqlstore.WithTable(other))
			require.NoError(t, err)
			err = wrong.Migrate(ctx)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "sqlstore: migrate "+other+": the table exists but lacks the store's columns")
		}, true},
		{"concurrent claims: exactly one wins", func(t *testing.T, s *sqlstore.Store, _ *sql.DB, _ backend) {
			for round, now := range []time.Time{t0, t0.Add(2 * lease)} { // new rows, then expired leases
				for e := range 8 {
					id := fmt.Sprintf("evt_race_%d", e)
					var acquired, busy atomic.Int32
					var wg sync.WaitGroup
					for g := range 12 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							st, err := s.Claim(ctx, claimAt(id, fmt.Sprintf("r%d-g%d", round, g), now))
							if !assert.NoError(t, err) {
								return
							}
							switch st {
							case stripegateway.ClaimAcquired:
								acquired.Add(1)
							case stripegateway.ClaimBusy:
								busy.Add(1)
							default:
								t.Errorf("claim %s: status %d", id, st)
							}
						}()
					}
					wg.Wait()
					assert.EqualValues(t, 1, acquired.Load(), "%s round %d", id, round)
					assert.EqualValues(t, 11, busy.Load(), "%s round %d", id, round)
					r, err := s.Lookup(ctx, id)
					require.NoError(t, err)
					assert.Equal(t, round+1, r.Attempts)
				}
			}
		}, false},
		{"schema-qualified table", func(t *testing.T, _ *sqlstore.Store, db *sql.DB, _ backend) {
			schema := "main"
			if s, _ := sqlstore.New(db); s.Dialect() == sqlstore.Postgres {
				schema = uniqueName("schema_")
				_, err := db.ExecContext(ctx, `CREATE SCHEMA "`+schema+`"`)
				require.NoError(t, err)
				t.Cleanup(func() { _, _ = db.ExecContext(context.Background(), `DROP SCHEMA "`+schema+`" CASCADE`) })
			}
			s, err := sqlstore.New(db, sqlstore.WithTable(schema+".Stripe_Events"))
			require.NoError(t, err)
			require.NoError(t, s.Migrate(ctx))
			require.NoError(t, s.Migrate(ctx))
			mustClaim(t, s, claimAt("evt_1", "a", t0), stripegateway.ClaimAcquired)
			require.NoError(t, s.Complete(ctx, claimAt("evt_1", "a", t0)))
			mustClaim(t, s, claimAt("evt_1", "b", t0), stripegateway.ClaimCompleted)
			var n int
			require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM "`+schema+`"."Stripe_Events"`).Scan(&n))
			assert.Equal(t, 1, n)
		}, true},
		{"last error has no secrets and is bounded", func(t *testing.T, s *sqlstore.Store, _ *sql.DB, _ backend) {
			mustClaim(t, s, claimAt("evt_1", "a", t0), stripegateway.ClaimAcquired)
			reason := "nul\x00 bad\xff utf8; whsec_abcDEF123+/= rk_test_51Habc pi_3Nabc_secret_XYZ " + strings.Repeat("é", 2*sqlstore.MaxErrorLen)
			require.NoError(t, s.Release(ctx, claimAt("evt_1", "a", t0), reason))
			r, err := s.Lookup(ctx, "evt_1")
			require.NoError(t, err)
			assert.LessOrEqual(t, len(r.LastError), sqlstore.MaxErrorLen)
			assert.True(t, strings.HasPrefix(r.LastError, "nul bad\uFFFD utf8; whsec_…3+/= rk_test_… [redacted client secret] éé"), r.LastError[:80])
		}, true},
		{"errors are wrapped and a canceled context fails", func(t *testing.T, s *sqlstore.Store, _ *sql.DB, b backend) {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := s.Claim(cctx, claimAt("evt_1", "a", t0))
			require.ErrorIs(t, err, context.Canceled)
			assert.True(t, strings.HasPrefix(err.Error(), "sqlstore: claim evt_1: "), err.Error())
			require.ErrorIs(t, s.Complete(cctx, claimAt("evt_1", "a", t0)), context.Canceled)
			require.ErrorIs(t, s.Release(cctx, claimAt("evt_1", "a", t0), ""), context.Canceled)
			_, err = s.Purge(cctx, t0)
			require.ErrorIs(t, err, context.Canceled)

			closed := b.open(t)
			s, err = sqlstore.New(closed, sqlstore.WithTable(s.Table()))
			require.NoError(t, err)
			require.NoError(t, closed.Close())
			_, err = s.Claim(ctx, claimAt("evt_1", "a", t0))
			require.EqualError(t, err, "sqlstore: claim evt_1: sql: database is closed")
			require.EqualError(t, s.Complete(ctx, claimAt("evt_1", "a", t0)), "sqlstore: complete evt_1: sql: database is closed")
			require.EqualError(t, s.Release(ctx, claimAt("evt_1", "a", t0), ""), "sqlstore: release evt_1: sql: database is closed")
			_, err = s.Lookup(ctx, "evt_1")
			require.EqualError(t, err, "sqlstore: lookup evt_1: sql: database is closed")
		}, true},
		{"invalid claims are refused", func(t *testing.T, s *sqlstore.Store, _ *sql.DB, _ backend) {
			bad := map[string]stripegateway.EventClaim{
				"empty EventID":            claimAt("", "a", t0),
				"empty Owner":              claimAt("evt_1", "", t0),
				"zero Now":                 {EventID: "evt_1", Owner: "a", Expires: t0},
				"Expires is not after Now": {EventID: "evt_1", Owner: "a", Now: t0, Expires: t0},
				"EventID longer than 255":  claimAt(strings.Repeat("x", 256), "a", t0),
			}
			for want, c := range bad {
				_, err := s.Claim(ctx, c)
				require.Error(t, err, want)
				assert.Contains(t, err.Error(), want)
			}
			assert.Error(t, s.Complete(ctx, claimAt("evt_1", "", t0)))
			assert.Error(t, s.Release(ctx, claimAt("", "a", t0), ""))
		}, false},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					s, db := newStore(t, b, sqlstore.WithGatewayClock())
					tc.run(t, s, db, b)
				})
				if tc.anyClock {
					t.Run(tc.name+" (database clock)", func(t *testing.T) {
						s, db := newStore(t, b)
						tc.run(t, s, db, b)
					})
				}
			}
		})
	}
}

// TestDatabaseClock: by default, leases follow the database's clock,
// whatever the claims' Now says; only their length, Expires minus Now,
// comes from the claim.
func TestDatabaseClock(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel() // each waits for real leases
			s, _ := newStore(t, b)
			past := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
			future := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

			// A replica whose clock is 26 years behind claims for an hour.
			c := stripegateway.EventClaim{EventID: "evt_1", Owner: "a", Now: past, Expires: past.Add(time.Hour)}
			mustClaim(t, s, c, stripegateway.ClaimAcquired)
			r, err := s.Lookup(ctx, "evt_1")
			require.NoError(t, err)
			assert.WithinDuration(t, time.Now().Add(time.Hour), r.LeaseUntil, time.Minute)
			// One 74 years ahead does not take it over.
			mustClaim(t, s, stripegateway.EventClaim{EventID: "evt_1", Owner: "b", Now: future, Expires: future.Add(time.Hour)}, stripegateway.ClaimBusy)
			require.NoError(t, s.Complete(ctx, c))
			r, err = s.Lookup(ctx, "evt_1")
			require.NoError(t, err)
			assert.WithinDuration(t, time.Now(), r.DoneAt, time.Minute)

			// A short lease runs out by the database's clock.
			short := stripegateway.EventClaim{EventID: "evt_2", Owner: "a", Now: future, Expires: future.Add(500 * time.Millisecond)}
			claimedAt := time.Now()
			mustClaim(t, s, short, stripegateway.ClaimAcquired)
			mustClaim(t, s, stripegateway.EventClaim{EventID: "evt_2", Owner: "b", Now: future, Expires: future.Add(time.Hour)}, stripegateway.ClaimBusy)
			time.Sleep(time.Until(claimedAt.Add(600 * time.Millisecond)))
			mustClaim(t, s, stripegateway.EventClaim{EventID: "evt_2", Owner: "b", Now: past, Expires: past.Add(time.Hour)}, stripegateway.ClaimAcquired)
			assertLost(t, s.Complete(ctx, short), "complete")

			// The owner's renewals keep a short lease alive past its end.
			renewing := stripegateway.EventClaim{EventID: "evt_3", Owner: "a", Now: past, Expires: past.Add(2 * time.Second)}
			claimedAt = time.Now()
			mustClaim(t, s, renewing, stripegateway.ClaimAcquired)
			time.Sleep(time.Until(claimedAt.Add(time.Second)))
			renewedAt := time.Now()
			mustClaim(t, s, renewing, stripegateway.ClaimAcquired) // until renewedAt+2s
			time.Sleep(time.Until(claimedAt.Add(2200 * time.Millisecond)))
			mustClaim(t, s, stripegateway.EventClaim{EventID: "evt_3", Owner: "b", Now: future, Expires: future.Add(time.Hour)}, stripegateway.ClaimBusy)
			time.Sleep(time.Until(renewedAt.Add(2100 * time.Millisecond)))
			mustClaim(t, s, stripegateway.EventClaim{EventID: "evt_3", Owner: "b", Now: future, Expires: future.Add(time.Hour)}, stripegateway.ClaimAcquired)
			r, err = s.Lookup(ctx, "evt_3")
			require.NoError(t, err)
			assert.Equal(t, 2, r.Attempts)

			// Purge compares done_at, in the database's clock.
			n, err := s.Purge(ctx, time.Now().Add(-time.Hour))
			require.NoError(t, err)
			assert.EqualValues(t, 0, n)
			n, err = s.Purge(ctx, time.Now().Add(time.Hour))
			require.NoError(t, err)
			assert.EqualValues(t, 1, n)
		})
	}
}

func TestNewOptions(t *testing.T) {
	db := openSQLite(t)
	for _, name := range []string{"", "1events", "events-x", "a.b.c", `ev"ents`, "ev ents", "events;drop", strings.Repeat("x", 49), ".events", "events."} {
		_, err := sqlstore.New(db, sqlstore.WithTable(name))
		assert.ErrorContains(t, err, "sqlstore: WithTable(", "%q", name)
	}
	for _, name := range []string{"events", "_e", "Stripe_Events_2", "payments.stripe_events", strings.Repeat("x", 48)} {
		s, err := sqlstore.New(db, sqlstore.WithTable(name))
		require.NoError(t, err, name)
		assert.Equal(t, name, s.Table())
	}

	s, err := sqlstore.New(db)
	require.NoError(t, err)
	assert.Equal(t, sqlstore.SQLite, s.Dialect())
	assert.Equal(t, sqlstore.DefaultTable, s.Table())

	_, err = sqlstore.New(nil)
	assert.ErrorContains(t, err, "New(nil)")
	_, err = sqlstore.New(db, sqlstore.WithDialect(sqlstore.Dialect(7)))
	assert.ErrorContains(t, err, "WithDialect(Dialect(7))")

	// An unknown driver needs WithDialect.
	other := sql.OpenDB(unknownDriver{})
	_, err = sqlstore.New(other)
	assert.ErrorContains(t, err, "pass WithDialect")
	s, err = sqlstore.New(other, sqlstore.WithDialect(sqlstore.Postgres))
	require.NoError(t, err)
	assert.Equal(t, sqlstore.Postgres, s.Dialect())
}

// unknownDriver is a driver and connector sqlstore does not know.
type unknownDriver struct{}

func (unknownDriver) Open(string) (driver.Conn, error) { return nil, errors.New("not a real driver") }

func (unknownDriver) Connect(context.Context) (driver.Conn, error) {
	return nil, errors.New("not a real driver")
}

func (d unknownDriver) Driver() driver.Driver { return d }

func TestSchema(t *testing.T) {
	pgSchema := sqlstore.Schema(sqlstore.Postgres)
	assert.Contains(t, pgSchema, `CREATE TABLE IF NOT EXISTS "stripegateway_events"`)
	assert.Contains(t, pgSchema, "lease_until timestamptz NOT NULL")
	assert.Contains(t, pgSchema, `CREATE INDEX IF NOT EXISTS "stripegateway_events_done_at" ON "stripegateway_events" (done_at);`)
	liteSchema := sqlstore.Schema(sqlstore.SQLite)
	assert.Contains(t, liteSchema, "lease_until INTEGER NOT NULL")
	assert.Contains(t, liteSchema, "WITHOUT ROWID")
	assert.Empty(t, sqlstore.Schema(0))

	// The schema is what Migrate creates: the host can run it instead.
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t)
			s, err := sqlstore.New(db, sqlstore.WithTable(uniqueTable(t, db)))
			require.NoError(t, err)
			for _, stmt := range strings.Split(s.Schema(), ";\n") {
				if strings.TrimSpace(stmt) != "" {
					_, err := db.Exec(stmt)
					require.NoError(t, err, stmt)
				}
			}
			require.NoError(t, s.Migrate(context.Background()))
			mustClaim(t, s, claimAt("evt_1", "a", t0), stripegateway.ClaimAcquired)
		})
	}
}

// TestCleanError: the store redacts as the gateway does (package
// internal/redact), and keeps last_error valid UTF-8, without NULs, and
// bounded.
func TestCleanError(t *testing.T) {
	for in, want := range map[string]string{
		"":                                     "",
		"plain":                                "plain",
		"key sk_test_51Habc, more":             "key sk_test_…, more",
		"key sk_live_51HabcdefghijklmnopQRST.": "key sk_live_…QRST.",
		"pk_live_x rk_live_y sk_live_":         "pk_live_… rk_live_… sk_live_…",
		"whsec_abc+/=_-x!":                     "whsec_…!",
		"whsec_0123456789abcdefghijABCD":       "whsec_…ABCD",
		"cs_test_a1_secret_b2 seti_1_secret_z": "[redacted client secret] [redacted client secret]",
		"card 4242424242424242 declined":       "card [redacted card number] declined",
		"a\x00b\xffc":                          "ab\uFFFDc",
		"sk_live_…abcd and whsec_…":            "sk_live_…abcd and whsec_…",
		"sk_live_…abcdEFGH":                    "sk_live_…",
	} {
		assert.Equal(t, want, sqlstore.CleanError(in), "%q", in)
	}
	long := sqlstore.CleanError(strings.Repeat("€", sqlstore.MaxErrorLen))
	assert.LessOrEqual(t, len(long), sqlstore.MaxErrorLen)
	assert.True(t, strings.HasSuffix(long, "€…"), "cut on a rune boundary, marked")
	assert.True(t, utf8.ValidString(long))
	// A secret anywhere, cut by the bound or not, is redacted; NULs and
	// invalid bytes anywhere are cleaned.
	secret := "sk_live_51Hsecretsecret1234"
	for i := 1; i < 40; i++ {
		for _, in := range []string{
			strings.Repeat("x", sqlstore.MaxErrorLen-i) + secret,
			strings.Repeat("\x00\xff", i) + secret + strings.Repeat("é", sqlstore.MaxErrorLen),
			strings.Repeat("€", 20*sqlstore.MaxErrorLen) + secret,
		} {
			out := sqlstore.CleanError(in)
			assert.NotContains(t, out, "51Hsecret")
			assert.NotContains(t, out, "\x00")
			assert.True(t, utf8.ValidString(out))
			assert.LessOrEqual(t, len(out), sqlstore.MaxErrorLen)
		}
	}
}

func mustClaim(t *testing.T, s *sqlstore.Store, c stripegateway.EventClaim, want stripegateway.ClaimStatus) {
	t.Helper()
	st, err := s.Claim(context.Background(), c)
	require.NoError(t, err)
	require.Equal(t, want, st, "claim %s by %s at %s", c.EventID, c.Owner, c.Now.Format(time.RFC3339Nano))
}

func assertLost(t *testing.T, err error, op string) {
	t.Helper()
	if assert.ErrorIs(t, err, stripegateway.ErrClaimLost) {
		assert.True(t, strings.HasPrefix(err.Error(), "sqlstore: "+op+" evt_"), err.Error())
	}
}
