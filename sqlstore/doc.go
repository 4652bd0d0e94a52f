// Package sqlstore is a stripegateway.EventStore on database/sql, so that
// several replicas of a store, sharing one database, process each Stripe
// webhook event exactly once: Stripe may deliver the same event to two
// replicas at the same moment, and a replica may die in the middle of a
// callback.
//
// It supports PostgreSQL (tested with pgx's database/sql driver; lib/pq works
// the same way) and SQLite 3.35 or newer (tested with the pure-Go
// modernc.org/sqlite). MySQL and MariaDB are not supported: their upsert has
// no conditional update with RETURNING, which the claim relies on.
//
// The package imports no driver: the host opens its *sql.DB with the driver
// it already uses and passes it to New.
//
// # How it works
//
// One table holds a row per event: its ID (the primary key), type, state
// (processing or done), the claim's owner and lease expiry, the number of
// attempts, the last error (secrets redacted, truncated to MaxErrorLen) and
// timestamps.
//
//   - Claim is one atomic statement, an INSERT … ON CONFLICT (event_id) DO
//     UPDATE … WHERE state = 'processing' AND lease_until <= now RETURNING.
//     It takes the row if it is new, or if the previous claim's lease has
//     run out; of two replicas racing for one event, exactly one gets a row
//     back. When none comes back, a read of the row's state tells
//     ClaimCompleted from ClaimBusy.
//   - Complete and Release are one UPDATE each, conditional on the claim's
//     owner and the processing state. When no row matches, the caller's
//     claim was taken over (or released, or completed) and they return an
//     error matching stripegateway.ErrClaimLost, so that a replica whose
//     lease ran out cannot overwrite a newer claim.
//   - Release keeps the row: it records the error, clears the owner and ends
//     the lease at once, so the next delivery claims the event again and
//     the attempts column counts every claim.
//   - Purge deletes done rows older than a cut-off. Stripe retries a
//     delivery for at most 3 days (the in-memory store's default retention),
//     so done rows older than that can go.
//
// Every method takes a context, and database errors are wrapped with the
// operation and event ID ("sqlstore: claim evt_…: …"). When the database is
// unreachable Claim fails, and the webhook handler answers 503 so that Stripe
// delivers the event again: it never answers 200 for an event it did not
// process.
//
// # Time
//
// By default the store compares leases using the times the gateway puts in
// each claim (EventClaim.Now and Expires, from the gateway's clock and
// stripegateway.WithClock), like the in-memory store. Tests with a fake
// clock therefore work, and no extra query is needed. Across replicas, a
// lease is then only as exact as the replicas' clocks agree: keep them
// synchronised (NTP), and keep the lease (stripegateway.WithEventLease) far
// longer than any skew. WithDatabaseClock makes a PostgreSQL store read the
// time from the database server instead, the one clock all replicas share;
// the lease's length is still the gateway's.
//
// # PostgreSQL set-up
//
// Open the database with the driver the host already uses, create the
// table once (Migrate, or the statements of Schema in the host's own
// migrations), and give the store to every Gateway:
//
//	import (
//		"database/sql"
//
//		_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
//
//		"github.com/b27de697/stripegateway"
//		"github.com/b27de697/stripegateway/sqlstore"
//	)
//
//	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
//	…
//	store, err := sqlstore.New(db, sqlstore.WithDialect(sqlstore.Postgres))
//	…
//	if err := store.Migrate(ctx); err != nil { … }
//	gw, err := stripegateway.New(cfg,
//		stripegateway.WithEventStore(store),
//		stripegateway.WithEventLease(5*time.Minute), // longer than any callback
//	)
//
// The database role needs SELECT, INSERT, UPDATE and DELETE on the table,
// and for Migrate the right to create it (CREATE on the schema). Migrate is
// idempotent and safe to run from every replica at start-up: it serialises
// concurrent runs with a transaction-scoped advisory lock. Each call is a
// single autocommit statement, so the default READ COMMITTED isolation is
// right, and each call holds a connection only for that statement. Behind
// PgBouncer in transaction pooling mode, make the driver avoid named
// prepared statements (with pgx: default_query_exec_mode=simple_protocol in
// the connection string).
//
// Purge old rows from one replica, or from a scheduled job:
//
//	n, err := store.Purge(ctx, time.Now().Add(-72*time.Hour))
//
// # SQLite set-up
//
// SQLite suits a single host (several processes may share the file): open
// it with a busy timeout, so that concurrent writers wait for each other
// instead of failing with SQLITE_BUSY, and preferably in WAL mode. With
// modernc.org/sqlite:
//
//	db, err := sql.Open("sqlite", "file:shop.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
//	db.SetMaxOpenConns(1) // optional: see below
//	store, err := sqlstore.New(db, sqlstore.WithDialect(sqlstore.SQLite))
//
// SQLite lets one connection write at a time, and a waiting writer retries
// with a back-off of milliseconds; a process that sends all its writes
// through one connection (SetMaxOpenConns(1)) avoids that wait among its
// own connections, and in the tests is several times faster under load.
//
// Times are stored as INTEGER nanoseconds since the Unix epoch (UTC), e.g.
// datetime(done_at / 1e9, 'unixepoch') shows one.
package sqlstore
