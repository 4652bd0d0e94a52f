package shop

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, pure Go

	"github.com/b27de697/stripegateway/sqlstore"
)

// eventRetention is how long processed webhook events are kept: Stripe
// retries a delivery for at most 3 days.
const eventRetention = 72 * time.Hour

// OpenSQLite opens the SQLite database at path, creating the file if it
// does not exist, as the storefront uses it: write-ahead logging, a busy
// timeout of 5 s, transactions that take the write lock when they begin,
// foreign keys on, and one connection, so that the store's own requests
// never contend for SQLite's lock.
func OpenSQLite(path string) (*sql.DB, error) {
	if path == "" {
		return nil, fmt.Errorf("storefront: no SQLite file given")
	}
	// The name part of a file: URI is percent-decoded, and ? and # end
	// it.
	name := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	dsn := "file:" + name + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("storefront: open SQLite %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// durable is the SQLite side of a store started with STOREFRONT_DB: the
// orders, and the record of processed webhook events, whose transactional
// path changes an order in the transaction that records its event.
type durable struct {
	db     *sql.DB
	orders *SQLiteOrders
	events *sqlstore.Store
}

// openDurable opens (creating it if needed) the SQLite file at path, with
// the orders' tables and the webhook event store's table, and purges the
// processed events older than Stripe's retry window. The event store logs
// to logger.
func openDurable(ctx context.Context, path string, logger *slog.Logger) (_ *durable, err error) {
	db, err := OpenSQLite(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = db.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("storefront: open SQLite %s: %w", path, err)
	}
	d := &durable{db: db, orders: NewSQLiteOrders(db)}
	if err := d.orders.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("storefront: SQLite %s: %w", path, err)
	}
	d.events, err = sqlstore.New(db, sqlstore.WithDialect(sqlstore.SQLite), sqlstore.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	if err := d.events.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("storefront: SQLite %s: %w", path, err)
	}
	if _, err := d.events.Purge(ctx, time.Now().Add(-eventRetention)); err != nil {
		return nil, fmt.Errorf("storefront: SQLite %s: %w", path, err)
	}
	return d, nil
}
