package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/shopspring/decimal"
	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/sqlstore"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// A store's webhook handler records processed events in SQLite, so that a
// duplicate delivery, even after a restart, is not processed again.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqlstore-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The host opens its database with its own driver.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "shop.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	store, err := sqlstore.New(db, sqlstore.WithDialect(sqlstore.SQLite))
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	cfg := stripegateway.Config{
		DisplayName:    "Credit Card",
		Status:         stripegateway.StatusActive,
		Mode:           stripegateway.ModeTest,
		PublishableKey: "pk_test_51Hexamplepublishablekey",
		SecretKey:      "sk_test_51Hexamplesecretkeyvalue",
		WebhookSecret:  "whsec_xxxxxxxexamplesigningsecret00001",
	}
	gw, err := stripegateway.New(cfg, stripegateway.WithEventStore(store))
	if err != nil {
		log.Fatal(err)
	}
	handler := gw.WebhookHandler(stripegateway.Handlers{
		OnPaymentSucceeded: func(ctx context.Context, o *stripegateway.Outcome) error {
			fmt.Println("paid:", o.OrderID)
			return nil
		},
	})

	// Stripe delivers the same event twice.
	ev := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "order-42", decimal.RequireFromString("19.99"), "eur")
	ev.ID = "evt_1Example"
	payload := ev.MustJSON()
	for range 2 {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, stripegatewaytest.NewRequest("/gateways/stripe/notification", payload, string(cfg.WebhookSecret)))
		fmt.Print(rec.Code, " ", rec.Body.String())
	}

	r, err := store.Lookup(ctx, "evt_1Example")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.EventType, r.State, "after", r.Attempts, "attempt")

	// Run from time to time: Stripe does not deliver an event after 3 days.
	n, err := store.Purge(ctx, time.Now().Add(-72*time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("purged:", n)
	// Output:
	// paid: order-42
	// 200 ok
	// 200 ok: already processed
	// checkout.session.completed done after 1 attempt
	// purged: 0
}

// The transactional path: the order's change and the event's record commit
// in one transaction, so that a failure (or a crash) between them cannot
// keep one without the other, and a redelivery cannot apply the change
// twice.
func ExampleStore_WebhookHandler() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqlstore-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "shop.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	// The host's own table, in the same database as the store's.
	for _, q := range []string{
		`CREATE TABLE orders (id TEXT PRIMARY KEY, status TEXT NOT NULL, paid_cents INTEGER NOT NULL)`,
		`INSERT INTO orders VALUES ('order-42', 'unpaid', 0)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			log.Fatal(err)
		}
	}
	store, err := sqlstore.New(db, sqlstore.WithDialect(sqlstore.SQLite))
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	cfg := stripegateway.Config{
		DisplayName:    "Credit Card",
		Status:         stripegateway.StatusActive,
		Mode:           stripegateway.ModeTest,
		PublishableKey: "pk_test_51Hexamplepublishablekey",
		SecretKey:      "sk_test_51Hexamplesecretkeyvalue",
		WebhookSecret:  "whsec_xxxxxxxexamplesigningsecret00001",
	}
	gw, err := stripegateway.New(cfg) // it verifies; the store records
	if err != nil {
		log.Fatal(err)
	}
	warehouseDown := true
	handler := store.WebhookHandler(gw, sqlstore.TxHandlers{
		OnPaymentSucceeded: func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error {
			_, err := tx.ExecContext(ctx, `UPDATE orders SET status = 'paid', paid_cents = paid_cents + ? WHERE id = ?`,
				o.Amount.Shift(2).IntPart(), o.OrderID)
			if err != nil {
				return err
			}
			if warehouseDown {
				return errors.New("the warehouse is unreachable") // the UPDATE is rolled back
			}
			return nil
		},
	})

	// Stripe delivers the event, and again after the 500, and once more.
	ev := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "order-42", decimal.RequireFromString("19.99"), "eur")
	ev.ID = "evt_1TxExample"
	payload := ev.MustJSON()
	for i := range 3 {
		warehouseDown = i == 0
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, stripegatewaytest.NewRequest("/gateways/stripe/notification", payload, string(cfg.WebhookSecret)))
		fmt.Print(rec.Code, " ", rec.Body.String())
	}

	var status string
	var paid int
	if err := db.QueryRowContext(ctx, `SELECT status, paid_cents FROM orders WHERE id = 'order-42'`).Scan(&status, &paid); err != nil {
		log.Fatal(err)
	}
	fmt.Println("order-42:", status, paid)
	// Output:
	// 500 internal error; retry later
	// 200 ok
	// 200 ok: already processed
	// order-42: paid 1999
}

// The PostgreSQL table, for a host that runs its own migrations rather than
// Migrate.
func ExampleSchema() {
	fmt.Print(sqlstore.Schema(sqlstore.Postgres))
	// Output:
	// CREATE TABLE IF NOT EXISTS "stripegateway_events" (
	// 	event_id    text        NOT NULL PRIMARY KEY,
	// 	event_type  text        NOT NULL,
	// 	state       text        NOT NULL CHECK (state IN ('processing', 'done')),
	// 	owner       text        NOT NULL,  -- the claim's owner; '' once released
	// 	lease_until timestamptz NOT NULL,
	// 	attempts    integer     NOT NULL,  -- claims acquired
	// 	last_error  text,                  -- secrets redacted
	// 	created_at  timestamptz NOT NULL,
	// 	updated_at  timestamptz NOT NULL,
	// 	done_at     timestamptz            -- NULL until processed
	// );
	//
	// CREATE INDEX IF NOT EXISTS "stripegateway_events_done_at" ON "stripegateway_events" (done_at);
}
