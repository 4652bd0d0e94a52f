// Package sqlstore records processed Stripe webhook events in a SQL
// database, so that several replicas of a store, sharing one database,
// process each event once: Stripe may deliver the same event to two
// replicas at the same moment, and a replica, or the database, may die in
// the middle of a callback.
//
// It offers two ways to run the callbacks:
//
//   - The transactional path, for an effect exactly once: TxHandlers and
//     Store.WebhookHandler (or ProcessTx outside HTTP). Each callback gets
//     the *sql.Tx in which the event is recorded as processed and makes the
//     host's change in it, so that the change and the record commit
//     together or not at all. Use it when the host's data lives in the same
//     database.
//   - The lease path: the Store as a stripegateway.EventStore
//     (stripegateway.WithEventStore), for the gateway's own WebhookHandler
//     and callbacks that change something else (send an e-mail, call an
//     API). It guarantees one successful callback return per event, not one
//     effect: see "The lease path" below.
//
// It supports PostgreSQL (tested with pgx's database/sql driver; lib/pq works
// the same way) and SQLite 3.35 or newer (tested with the pure-Go
// modernc.org/sqlite). MySQL and MariaDB are not supported: their upsert has
// no conditional update with RETURNING, which the claim relies on.
//
// The package imports no driver: the host opens its *sql.DB with the driver
// it already uses and passes it to New.
//
// # The table
//
// One table holds a row per event: its ID (the primary key), type, state
// (processing or done), the claim's owner and lease expiry, the number of
// attempts, the last error (secrets redacted, truncated to MaxErrorLen) and
// timestamps. Both paths share it, so a host can move from one to the
// other with events in flight.
//
// # The transactional path
//
// For each delivery, Store.WebhookHandler verifies the request with the
// gateway (stripegateway.Gateway.VerifyAndParse), then, in one
// transaction:
//
//  1. inserts the event's row as done (INSERT … ON CONFLICT (event_id) DO
//     UPDATE … WHERE state = 'processing' AND the lease ended … RETURNING).
//     No row back means the event is done already (200 "ok: already
//     processed", nothing runs) or held by a lease-path delivery (409);
//  2. runs the callback of the Outcome's kind with the transaction;
//  3. commits, and answers 200.
//
// A callback's error or panic rolls the transaction back and answers 500;
// a database failure, the commit's included, answers 503; so does a crash
// of the process or the database before the commit, as the transaction is
// lost with it. Stripe then delivers the event again, and it runs again
// from the start: nothing of the failed attempt was kept. A concurrent
// delivery of the same event waits: on PostgreSQL its INSERT blocks on the
// first transaction's row until that one ends, then finds the event done
// (or inserts it, if the first rolled back); on SQLite the INSERT is the
// transaction's first statement, which takes the database's write lock as
// BEGIN IMMEDIATE would, so transactions take turns. No lease is involved,
// and no callback ever runs twice for one committed event.
//
//	handler := store.WebhookHandler(gw, sqlstore.TxHandlers{
//		OnPaymentSucceeded: func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error {
//			_, err := tx.ExecContext(ctx, `UPDATE orders SET status = 'paid' WHERE id = $1 AND status = 'unpaid'`, o.OrderID)
//			return err
//		},
//	})
//	http.Handle("/gateways/stripe/notification", handler)
//
// A callback must use tx, never the *sql.DB, for the host's change (with
// one connection, as SQLite is often opened, the *sql.DB would wait for
// tx's connection forever), and must not commit or roll back tx. The
// transaction holds a connection, and on PostgreSQL the event's row lock,
// while the callback runs: keep it short, and call other services after
// the commit, or from the lease path. The callback's context is not
// canceled when Stripe hangs up, so that work that succeeded commits; it
// ends after TxTimeout, which rolls back.
//
// To recover missed events (stripegateway.Gateway.RecoverEvents) on this
// path, hand each one to ProcessTx from a Default callback, with a gateway
// whose EventStore is not this table (the default in-memory store is
// right):
//
//	n, err := gw.RecoverEvents(ctx, since, stripegateway.Handlers{
//		Default: func(ctx context.Context, o *stripegateway.Outcome) error {
//			_, err := store.ProcessTx(ctx, o, txHandlers)
//			return err
//		},
//	}, progress)
//
// # The lease path
//
//   - Claim is one atomic statement, an INSERT … ON CONFLICT (event_id) DO
//     UPDATE … WHERE state = 'processing' AND (lease_until <= now OR
//     owner = the caller) RETURNING. It takes the row if it is new, or if
//     the previous claim's lease has run out; of two replicas racing for
//     one event, exactly one gets a row back. The owner's own Claim renews
//     its lease: the gateway does so every third of the lease while a
//     callback runs, so a slow callback keeps its claim. When no row comes
//     back, a read of the row's state tells ClaimCompleted from ClaimBusy.
//   - Complete and Release are one UPDATE each, conditional on the claim's
//     owner and the processing state. When no row matches, the caller's
//     claim was taken over (or released, or completed) and they return an
//     error matching stripegateway.ErrClaimLost, so that a replica whose
//     lease ran out cannot overwrite a newer claim.
//   - Release keeps the row: it records the error, clears the owner and ends
//     the lease at once, so the next delivery claims the event again and
//     the attempts column counts every claim (renewals are not counted).
//   - Purge deletes done rows older than a cut-off. Stripe retries a
//     delivery for at most 3 days (the in-memory store's default retention),
//     so done rows older than that can go.
//
// The callback's change and Complete are two writes: if the process or the
// database dies between them, the event stays processing, and a delivery
// after the lease runs the callback again. Make such callbacks idempotent,
// or use the transactional path.
//
// Every method takes a context, and database errors are wrapped with the
// operation and event ID ("sqlstore: claim evt_…: …"). When the database is
// unreachable Claim fails, and the webhook handler answers 503 so that Stripe
// delivers the event again: it never answers 200 for an event it did not
// process.
//
// # Time
//
// Leases are compared with the database's clock: now() on PostgreSQL, and
// julianday('now') on SQLite (to the millisecond), the one clock all
// replicas share, so that replicas whose clocks differ cannot take over a
// running claim. The lease's length is the claim's, EventClaim.Expires
// minus EventClaim.Now (stripegateway.WithEventLease). The time columns
// hold the database's clock too.
//
// WithGatewayClock makes the store use the times the gateway puts in each
// claim instead (the gateway's clock, stripegateway.WithClock), like the
// in-memory store: tests can then move leases with a fake clock. Across
// replicas a lease is then only as exact as their clocks agree.
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
//	store, err := sqlstore.New(db, sqlstore.WithDialect(sqlstore.Postgres), sqlstore.WithLogger(logger))
//	…
//	if err := store.Migrate(ctx); err != nil { … }
//	gw, err := stripegateway.New(cfg, stripegateway.WithLogger(logger))
//	…
//	http.Handle("/gateways/stripe/notification", store.WebhookHandler(gw, txHandlers))
//
// or, on the lease path:
//
//	gw, err := stripegateway.New(cfg,
//		stripegateway.WithEventStore(store),
//		stripegateway.WithEventLease(5*time.Minute),
//	)
//	http.Handle("/gateways/stripe/notification", gw.WebhookHandler(handlers))
//
// The database role needs SELECT, INSERT, UPDATE and DELETE on the table,
// and for Migrate the right to create it (CREATE on the schema). Migrate is
// idempotent and safe to run from every replica at start-up: it serialises
// concurrent runs with a transaction-scoped advisory lock. The default
// READ COMMITTED isolation is right for both paths. Each lease-path call is
// a single autocommit statement that holds a connection only for that
// statement; a transactional delivery holds one for its transaction.
// Behind PgBouncer in transaction pooling mode, make the driver avoid
// named prepared statements (with pgx: default_query_exec_mode=simple_protocol
// in the connection string).
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
// The transactional path needs no _txlock=immediate (its first statement
// writes), and works with it too.
//
// Times are stored as INTEGER nanoseconds since the Unix epoch (UTC), e.g.
// datetime(done_at / 1e9, 'unixepoch') shows one.
package sqlstore
