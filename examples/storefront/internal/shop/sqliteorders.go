package shop

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
)

// sqliteOrdersSchema is the SQL of SQLiteOrders.Migrate: one row per order
// in storefront_orders, and its webhook outcomes, in the order they
// arrived, in storefront_order_outcomes. Times are Unix nanoseconds (NULL
// for none), amounts decimal strings in the currency's major unit. The
// columns added since are in addedOrderColumns.
const sqliteOrdersSchema = `
CREATE TABLE IF NOT EXISTS storefront_orders (
	id                TEXT PRIMARY KEY,
	created_at        INTEGER,
	currency          TEXT NOT NULL,
	lines             TEXT NOT NULL,
	total             TEXT NOT NULL,
	billing_interval  TEXT NOT NULL DEFAULT '',
	session_id        TEXT NOT NULL DEFAULT '',
	payment_intent_id TEXT NOT NULL DEFAULT '',
	subscription_id   TEXT NOT NULL DEFAULT '',
	status            TEXT NOT NULL,
	status_at         INTEGER,
	failure_message   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS storefront_orders_created ON storefront_orders (created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS storefront_order_outcomes (
	order_id     TEXT NOT NULL REFERENCES storefront_orders (id) ON DELETE CASCADE,
	seq          INTEGER NOT NULL,
	kind         TEXT NOT NULL,
	event_id     TEXT NOT NULL,
	event_type   TEXT NOT NULL,
	amount       TEXT NOT NULL,
	amount_minor INTEGER NOT NULL,
	currency     TEXT NOT NULL,
	created      INTEGER,
	received_at  INTEGER,
	applied      INTEGER NOT NULL,
	note         TEXT NOT NULL,
	PRIMARY KEY (order_id, seq)
)`

// SQLiteOrders is an OrderStore in a SQLite database, so that the orders
// survive a restart. Open the database with OpenSQLite and create the
// tables with Migrate. It is safe for concurrent use.
type SQLiteOrders struct {
	db *sql.DB
}

var _ OrderStore = (*SQLiteOrders)(nil)

// NewSQLiteOrders returns an OrderStore on db, a SQLite database (see
// OpenSQLite) that the caller keeps open and closes. Call Migrate before
// the first order.
func NewSQLiteOrders(db *sql.DB) *SQLiteOrders { return &SQLiteOrders{db: db} }

// addedOrderColumns are the columns of storefront_orders added after its
// first version, with their definitions: Migrate adds those a database
// file lacks, so that a file written by an older storefront keeps working.
var addedOrderColumns = []struct{ name, def string }{
	// The subscription (subscriptions.go): invoices is a JSON array of
	// PaidInvoice.
	{"active_until", "INTEGER"},
	{"subscription_status", "TEXT NOT NULL DEFAULT ''"},
	{"subscription_at", "INTEGER"},
	{"cancel_at_period_end", "INTEGER NOT NULL DEFAULT 0"},
	{"invoices", "TEXT NOT NULL DEFAULT '[]'"},
	{"renewal_failure", "TEXT NOT NULL DEFAULT ''"},
	// The dispute and refunds.
	{"dispute_status", "TEXT NOT NULL DEFAULT ''"},
	{"status_before_dispute", "TEXT NOT NULL DEFAULT ''"},
	{"refund_failure", "TEXT NOT NULL DEFAULT ''"},
}

// Migrate creates the tables if they do not exist, and adds the columns a
// database of an older storefront lacks. It is idempotent.
func (s *SQLiteOrders) Migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("orders: migrate: %w", err)
	}
	defer tx.Rollback()
	for _, stmt := range strings.Split(sqliteOrdersSchema, ";") {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("orders: migrate: %w", err)
		}
	}
	have, err := tableColumns(ctx, tx, "storefront_orders")
	if err != nil {
		return fmt.Errorf("orders: migrate: %w", err)
	}
	for _, c := range addedOrderColumns {
		if have[c.name] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `ALTER TABLE storefront_orders ADD COLUMN `+c.name+` `+c.def); err != nil {
			return fmt.Errorf("orders: migrate: add column %s: %w", c.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("orders: migrate: %w", err)
	}
	return nil
}

// tableColumns returns the names of a table's columns.
func tableColumns(ctx context.Context, q querier, table string) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, err
		}
		out[name] = true
	}
	return out, closeRows(rows)
}

// orderColumnList are the columns of an order, in the order of orderArgs
// and scanOrder.
var orderColumnList = func() []string {
	cols := []string{"id", "created_at", "currency", "lines", "total", "billing_interval", "session_id",
		"payment_intent_id", "subscription_id", "status", "status_at", "failure_message"}
	for _, c := range addedOrderColumns {
		cols = append(cols, c.name)
	}
	return cols
}()

var (
	orderColumns      = strings.Join(orderColumnList, ", ")
	orderPlaceholders = strings.TrimSuffix(strings.Repeat("?, ", len(orderColumnList)), ", ")
	// orderUpdate sets every column but the ID, which comes last.
	orderUpdate = `UPDATE storefront_orders SET ` + strings.Join(orderColumnList[1:], " = ?, ") + ` = ? WHERE id = ?`
)

const outcomeColumns = `order_id, seq, kind, event_id, event_type, amount, amount_minor,
	currency, created, received_at, applied, note`

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Create implements OrderStore.
func (s *SQLiteOrders) Create(ctx context.Context, o *Order) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("orders: create %s: %w", o.ID, err)
	}
	defer tx.Rollback()
	if err := createOrder(ctx, tx, o); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("orders: create %s: %w", o.ID, err)
	}
	return nil
}

// createOrder inserts a new order and its outcomes with q.
func createOrder(ctx context.Context, q querier, o *Order) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM storefront_orders WHERE id = ?`, o.ID).Scan(&n); err != nil {
		return fmt.Errorf("orders: create %s: %w", o.ID, err)
	}
	if n > 0 {
		return fmt.Errorf("order %s exists already", o.ID)
	}
	args, err := orderArgs(o)
	if err != nil {
		return fmt.Errorf("orders: create %s: %w", o.ID, err)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO storefront_orders (`+orderColumns+`) VALUES (`+orderPlaceholders+`)`, args...); err != nil {
		return fmt.Errorf("orders: create %s: %w", o.ID, err)
	}
	if err := insertOutcomes(ctx, q, o.ID, o.Outcomes); err != nil {
		return fmt.Errorf("orders: create %s: %w", o.ID, err)
	}
	return nil
}

// Get implements OrderStore.
func (s *SQLiteOrders) Get(ctx context.Context, id string) (*Order, error) {
	o, err := getOrder(ctx, s.db, id)
	if err != nil && !errors.Is(err, ErrOrderNotFound) {
		return nil, fmt.Errorf("orders: get %s: %w", id, err)
	}
	return o, err
}

// List implements OrderStore.
func (s *SQLiteOrders) List(ctx context.Context) ([]*Order, error) {
	// A transaction, so that the orders and their outcomes are one
	// snapshot.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("orders: list: %w", err)
	}
	defer tx.Rollback()
	return listOrders(ctx, tx)
}

// listOrders reads every order and its outcomes with q, newest first.
func listOrders(ctx context.Context, q querier) ([]*Order, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+orderColumns+` FROM storefront_orders ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("orders: list: %w", err)
	}
	var out []*Order
	byID := map[string]*Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("orders: list: %w", err)
		}
		out = append(out, o)
		byID[o.ID] = o
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("orders: list: %w", err)
	}
	rows, err = q.QueryContext(ctx, `SELECT `+outcomeColumns+` FROM storefront_order_outcomes ORDER BY order_id, seq`)
	if err != nil {
		return nil, fmt.Errorf("orders: list: %w", err)
	}
	for rows.Next() {
		id, r, err := scanOutcome(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("orders: list: %w", err)
		}
		if o := byID[id]; o != nil {
			o.Outcomes = append(o.Outcomes, r)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("orders: list: %w", err)
	}
	if out == nil {
		out = []*Order{}
	}
	return out, nil
}

// Update implements OrderStore. It reads, changes and writes the order in
// one transaction. SQLite has no SELECT … FOR UPDATE: with OpenSQLite's
// database the transaction takes the write lock when it begins
// (_txlock=immediate), so Updates run one after the other.
func (s *SQLiteOrders) Update(ctx context.Context, id string, fn func(*Order) error) (*Order, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("orders: update %s: %w", id, err)
	}
	defer tx.Rollback()
	o, err := updateOrder(ctx, tx, id, fn)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("orders: update %s: %w", id, err)
	}
	return o, nil
}

// updateOrder reads the order with q, runs fn on it and writes the result.
// fn runs before anything is written: its error writes nothing. It
// returns a copy of the order written.
func updateOrder(ctx context.Context, q querier, id string, fn func(*Order) error) (*Order, error) {
	o, err := getOrder(ctx, q, id)
	switch {
	case errors.Is(err, ErrOrderNotFound):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("orders: update %s: %w", id, err)
	}
	if err := fn(o); err != nil {
		return nil, err
	}
	o.ID = id
	args, err := orderArgs(o)
	if err != nil {
		return nil, fmt.Errorf("orders: update %s: %w", id, err)
	}
	// args[0] is the ID: it goes last, in the WHERE clause.
	args = append(args[1:], id)
	if _, err := q.ExecContext(ctx, orderUpdate, args...); err != nil {
		return nil, fmt.Errorf("orders: update %s: %w", id, err)
	}
	// The outcomes are few: write them all again.
	if _, err := q.ExecContext(ctx, `DELETE FROM storefront_order_outcomes WHERE order_id = ?`, id); err != nil {
		return nil, fmt.Errorf("orders: update %s: %w", id, err)
	}
	if err := insertOutcomes(ctx, q, id, o.Outcomes); err != nil {
		return nil, fmt.Errorf("orders: update %s: %w", id, err)
	}
	return o.clone(), nil
}

// InTx returns the orders as tx sees them, an OrderStore whose every
// method reads and writes in tx, a transaction on the store's database
// that the caller began and commits or rolls back: nothing it writes is
// kept unless tx commits. It is how sqlstore's transactional path changes
// an order in the transaction that records the webhook event as processed
// (see App's sqlstore.TxHandlers). Inside such a transaction use only
// InTx's store, never the SQLiteOrders itself: with OpenSQLite's single
// connection, its methods would wait for tx's connection for ever. The
// returned store is valid until tx ends, and is not for concurrent use; a
// failed call leaves tx to be rolled back.
func (s *SQLiteOrders) InTx(tx *sql.Tx) OrderStore { return txOrders{tx: tx} }

// txOrders is SQLiteOrders inside a transaction (InTx).
type txOrders struct{ tx *sql.Tx }

var _ OrderStore = txOrders{}

// Create implements OrderStore.
func (t txOrders) Create(ctx context.Context, o *Order) error { return createOrder(ctx, t.tx, o) }

// Get implements OrderStore.
func (t txOrders) Get(ctx context.Context, id string) (*Order, error) {
	o, err := getOrder(ctx, t.tx, id)
	if err != nil && !errors.Is(err, ErrOrderNotFound) {
		return nil, fmt.Errorf("orders: get %s: %w", id, err)
	}
	return o, err
}

// List implements OrderStore.
func (t txOrders) List(ctx context.Context) ([]*Order, error) { return listOrders(ctx, t.tx) }

// Update implements OrderStore. The write lock is tx's: with OpenSQLite's
// database, tx took it when it began.
func (t txOrders) Update(ctx context.Context, id string, fn func(*Order) error) (*Order, error) {
	return updateOrder(ctx, t.tx, id, fn)
}

// getOrder reads an order and its outcomes.
func getOrder(ctx context.Context, q querier, id string) (*Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM storefront_orders WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", ErrOrderNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT `+outcomeColumns+` FROM storefront_order_outcomes WHERE order_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		_, r, err := scanOutcome(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		o.Outcomes = append(o.Outcomes, r)
	}
	return o, closeRows(rows)
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

func insertOutcomes(ctx context.Context, q querier, orderID string, rs []Received) error {
	for i, r := range rs {
		if _, err := q.ExecContext(ctx, `INSERT INTO storefront_order_outcomes (`+outcomeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			orderID, i, string(r.Kind), r.EventID, r.EventType, r.Amount.String(), r.AmountMinor,
			r.Currency, nanos(r.Created), nanos(r.ReceivedAt), r.Applied, r.Note); err != nil {
			return err
		}
	}
	return nil
}

// orderArgs are the values of orderColumns for o.
func orderArgs(o *Order) ([]any, error) {
	lines, err := json.Marshal(o.Lines)
	if err != nil {
		return nil, err
	}
	invoices, err := json.Marshal(o.Invoices)
	if err != nil {
		return nil, err
	}
	if o.Invoices == nil {
		invoices = []byte("[]")
	}
	return []any{
		o.ID, nanos(o.CreatedAt), o.Currency, string(lines), o.Total.String(), string(o.Interval), o.SessionID,
		o.PaymentIntentID, o.SubscriptionID, string(o.Status), nanos(o.StatusAt), o.FailureMessage,
		nanos(o.ActiveUntil), o.SubscriptionStatus, nanos(o.SubscriptionAt), o.CancelAtPeriodEnd, string(invoices), o.RenewalFailure,
		o.DisputeStatus, string(o.StatusBeforeDispute), o.RefundFailure,
	}, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanOrder(sc scanner) (*Order, error) {
	var (
		o                    Order
		created, statusAt    sql.NullInt64
		activeUntil, subAt   sql.NullInt64
		lines, total         string
		interval, status     string
		invoices, preDispute string
	)
	if err := sc.Scan(&o.ID, &created, &o.Currency, &lines, &total, &interval, &o.SessionID,
		&o.PaymentIntentID, &o.SubscriptionID, &status, &statusAt, &o.FailureMessage,
		&activeUntil, &o.SubscriptionStatus, &subAt, &o.CancelAtPeriodEnd, &invoices, &o.RenewalFailure,
		&o.DisputeStatus, &preDispute, &o.RefundFailure); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(lines), &o.Lines); err != nil {
		return nil, fmt.Errorf("order %s: lines: %w", o.ID, err)
	}
	if err := json.Unmarshal([]byte(invoices), &o.Invoices); err != nil {
		return nil, fmt.Errorf("order %s: invoices: %w", o.ID, err)
	}
	if len(o.Invoices) == 0 {
		o.Invoices = nil
	}
	o.ActiveUntil, o.SubscriptionAt = fromNanos(activeUntil), fromNanos(subAt)
	o.StatusBeforeDispute = Status(preDispute)
	var err error
	if o.Total, err = decimal.NewFromString(total); err != nil {
		return nil, fmt.Errorf("order %s: total: %w", o.ID, err)
	}
	o.CreatedAt, o.StatusAt = fromNanos(created), fromNanos(statusAt)
	o.Interval, o.Status = stripe.PriceRecurringInterval(interval), Status(status)
	return &o, nil
}

func scanOutcome(sc scanner) (string, Received, error) {
	var (
		r                 Received
		orderID           string
		seq               int64
		kind, amount      string
		created, received sql.NullInt64
	)
	if err := sc.Scan(&orderID, &seq, &kind, &r.EventID, &r.EventType, &amount, &r.AmountMinor,
		&r.Currency, &created, &received, &r.Applied, &r.Note); err != nil {
		return "", r, err
	}
	var err error
	if r.Amount, err = decimal.NewFromString(amount); err != nil {
		return "", r, fmt.Errorf("order %s: outcome %d: amount: %w", orderID, seq, err)
	}
	r.Kind = stripegateway.Kind(kind)
	r.Created, r.ReceivedAt = fromNanos(created), fromNanos(received)
	return orderID, r, nil
}

// nanos is t in Unix nanoseconds, NULL for the zero time.
func nanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64)
}
