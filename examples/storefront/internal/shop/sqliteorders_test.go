package shop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/internal/stripemock"
	"github.com/b27de697/stripegateway/sqlstore"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// logBuffer is a log destination that tests read while the store writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDurable starts the storefront offline with STOREFRONT_DB=path and
// its log going to logw. stop shuts it down (again at the test's end, when
// it does nothing).
func startDurable(t *testing.T, path string, logw io.Writer) (srv *Server, stop func()) {
	t.Helper()
	t.Setenv(stripemock.EnvURL, stripemock.URL(t))
	env := map[string]string{"ADDR": "127.0.0.1:0", "STRIPE_WEBHOOK_SECRET": testWebhookSecret, EnvDB: path}
	if testing.Verbose() {
		logw = io.MultiWriter(logw, os.Stderr)
	}
	srv, err := Start(context.Background(), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, slog.New(slog.NewTextHandler(logw, nil)))
	require.NoError(t, err)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, srv.Shutdown(ctx))
		})
	}
	t.Cleanup(stop)
	require.True(t, srv.Offline)
	require.Equal(t, path, srv.DBPath)
	return srv, stop
}

// deliver serves a signed webhook event to the store, as Stripe sends it.
func deliver(t *testing.T, srv *Server, ev stripegatewaytest.Event) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	srv.App.ServeHTTP(rec, stripegatewaytest.NewRequest(WebhookPath, ev.MustJSON(), srv.WebhookSecret))
	return rec.Code, rec.Body.String()
}

// requireSameOrder compares two orders field by field, times with Equal
// and amounts by value: a database gives back neither monotonic clock
// readings nor a decimal's exponent.
func requireSameOrder(t *testing.T, want, got *Order) {
	t.Helper()
	norm := func(o *Order) *Order {
		c := o.clone()
		utc := func(tm time.Time) time.Time {
			if tm.IsZero() {
				return tm
			}
			return tm.UTC()
		}
		amount := func(d decimal.Decimal) decimal.Decimal { return decimal.RequireFromString(d.StringFixed(8)) }
		c.CreatedAt, c.StatusAt = utc(c.CreatedAt), utc(c.StatusAt)
		c.ActiveUntil, c.SubscriptionAt = utc(c.ActiveUntil), utc(c.SubscriptionAt)
		for i := range c.Invoices {
			inv := &c.Invoices[i]
			inv.PeriodStart, inv.PeriodEnd, inv.PaidAt, inv.Amount = utc(inv.PeriodStart), utc(inv.PeriodEnd), utc(inv.PaidAt), amount(inv.Amount)
		}
		if len(c.Invoices) == 0 {
			c.Invoices = nil
		}
		c.Total = amount(c.Total)
		for i := range c.Lines {
			c.Lines[i].UnitAmount = amount(c.Lines[i].UnitAmount)
		}
		for i := range c.Outcomes {
			r := &c.Outcomes[i]
			r.Created, r.ReceivedAt, r.Amount = utc(r.Created), utc(r.ReceivedAt), amount(r.Amount)
		}
		if len(c.Lines) == 0 {
			c.Lines = nil
		}
		if len(c.Outcomes) == 0 {
			c.Outcomes = nil
		}
		return c
	}
	require.Equal(t, norm(want), norm(got))
}

// TestRestartKeepsOrders is the check for the storefront: with
// STOREFRONT_DB, an order paid by a signed webhook is still there, Paid and
// with its outcomes, after the store stops and a new one starts on the same
// file; a redelivery of the same event to the new store is answered 200
// without running the callback again, because the SQLite event store
// remembered it; and new events are processed as before.
func TestRestartKeepsOrders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "storefront.db")

	var log1 logBuffer
	srv, stop := startDurable(t, path, &log1)
	paid, _ := buy(t, srv, "beans", 2)
	unpaid, _ := buy(t, srv, "matcha", 1)
	require.True(t, paid.Total.Equal(dec("49.80")))

	ev := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, paid.ID, dec("49.80"), "eur")
	ev.ID = "evt_restart00000001"
	code, body := deliver(t, srv, ev)
	require.Equal(t, http.StatusOK, code, body)
	late := stripegatewaytest.ForKind(stripegateway.PaymentFailed, paid.ID, dec("49.80"), "eur")
	late.ID = "evt_restart00000002"
	late.Created = time.Now().Add(-time.Minute)
	code, body = deliver(t, srv, late)
	require.Equal(t, http.StatusOK, code, body)

	before := order(t, srv, paid.ID)
	require.Equal(t, StatusPaid, before.Status)
	require.Len(t, before.Outcomes, 2)
	require.True(t, before.Outcomes[0].Applied)
	require.Contains(t, before.Outcomes[1].Note, "late failure")
	require.Contains(t, log1.String(), "event_id="+ev.ID+" status=paid", "the first store ran the callback")
	listBefore, err := srv.App.Orders().List(context.Background())
	require.NoError(t, err)
	stop()

	var log2 logBuffer
	srv2, stop2 := startDurable(t, path, &log2)
	require.NotEqual(t, srv.URL, srv2.URL, "a new server")

	after := order(t, srv2, paid.ID)
	assert.Equal(t, StatusPaid, after.Status)
	require.Len(t, after.Outcomes, 2)
	assert.Equal(t, stripegateway.PaymentSucceeded, after.Outcomes[0].Kind)
	assert.Equal(t, ev.ID, after.Outcomes[0].EventID)
	assert.True(t, after.Outcomes[0].Amount.Equal(dec("49.80")))
	assert.Equal(t, int64(4980), after.Outcomes[0].AmountMinor)
	assert.Equal(t, stripegateway.PaymentFailed, after.Outcomes[1].Kind)
	assert.False(t, after.Outcomes[1].Applied)
	requireSameOrder(t, before, after)
	listAfter, err := srv2.App.Orders().List(context.Background())
	require.NoError(t, err)
	require.Len(t, listAfter, 2)
	assert.Equal(t, unpaid.ID, listAfter[0].ID, "newest first")
	for i := range listBefore {
		requireSameOrder(t, listBefore[i], listAfter[i])
	}

	page := signIn(t, srv2).get(t, "/admin/orders")
	assert.Contains(t, page.body, paid.ID)
	assert.Contains(t, page.body, ev.ID)
	assert.Contains(t, page.body, "€49.80")
	assert.Contains(t, page.body, unpaid.ID)

	// Stripe delivers the same event again: the SQLite event store
	// remembers it, so the callback does not run.
	code, body = deliver(t, srv2, ev)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok: already processed\n", body)
	assert.NotContains(t, log2.String(), "event_id="+ev.ID+" status=", "the callback did not run")
	assert.Contains(t, log2.String(), "already processed")
	assert.NotContains(t, log2.String(), "storefront: order updated")
	assert.Len(t, order(t, srv2, paid.ID).Outcomes, 2)

	// A new event is processed as before, for an order of the first run.
	pay := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, unpaid.ID, dec("1500"), "jpy")
	pay.ID = "evt_restart00000003"
	code, body = deliver(t, srv2, pay)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, StatusPaid, order(t, srv2, unpaid.ID).Status)
	assert.Contains(t, log2.String(), "storefront: order updated")
	stop2()

	// The event store's rows: each event processed once, at the first
	// attempt.
	db, err := OpenSQLite(path)
	require.NoError(t, err)
	defer db.Close()
	events, err := sqlstore.New(db, sqlstore.WithDialect(sqlstore.SQLite))
	require.NoError(t, err)
	for _, id := range []string{ev.ID, late.ID, pay.ID} {
		rec, err := events.Lookup(context.Background(), id)
		require.NoError(t, err, id)
		assert.Equal(t, sqlstore.StateDone, rec.State, id)
		assert.Equal(t, 1, rec.Attempts, id)
	}
}

// TestJourneyOverHTTPWithSQLite walks the offline journeys with the orders
// and the event store in SQLite.
func TestJourneyOverHTTPWithSQLite(t *testing.T) {
	srv, _ := startDurable(t, filepath.Join(t.TempDir(), "storefront.db"), io.Discard)
	journeyOverHTTP(t, srv)
}

// TestStartWithABadDB: a SQLite file that cannot be opened stops Start
// with an error naming it, and leaves nothing running.
func TestStartWithABadDB(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ADDR": "127.0.0.1:0", "STRIPE_WEBHOOK_SECRET": testWebhookSecret, EnvDB: filepath.Join(dir, "no-such-dir", "x.db")}
	_, err := Start(context.Background(), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no-such-dir")

	notDB := filepath.Join(dir, "not-a-db")
	require.NoError(t, os.WriteFile(notDB, bytes.Repeat([]byte("not a database "), 100), 0o600))
	env[EnvDB] = notDB
	_, err = Start(context.Background(), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), notDB)
}

// TestOpenSQLitePath: the file is created with exactly the name given,
// even with the characters a file: URI treats specially.
func TestOpenSQLitePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd ?name#with%25.db")
	db, err := OpenSQLite(path)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, NewSQLiteOrders(db).Migrate(context.Background()))
	_, err = os.Stat(path)
	require.NoError(t, err)
	var mode string
	require.NoError(t, db.QueryRow("PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode)
}

// TestOrderStores runs the OrderStore contract on both stores.
func TestOrderStores(t *testing.T) {
	stores := map[string]func(t *testing.T) OrderStore{
		"memory": func(*testing.T) OrderStore { return NewMemoryOrders() },
		"sqlite": func(t *testing.T) OrderStore {
			db, err := OpenSQLite(filepath.Join(t.TempDir(), "orders.db"))
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			s := NewSQLiteOrders(db)
			require.NoError(t, s.Migrate(context.Background()))
			require.NoError(t, s.Migrate(context.Background()), "Migrate is idempotent")
			return s
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			t0 := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)

			list, err := s.List(ctx)
			require.NoError(t, err)
			assert.Empty(t, list)

			full := &Order{
				ID: "ord_full", CreatedAt: t0, Currency: "eur",
				Lines: []Line{
					{ProductID: "beans", Name: "Coffee beans, 1 kg", UnitAmount: dec("24.90"), Quantity: 2},
					{ProductID: "mug", Name: "Mug", UnitAmount: dec("12.5"), Quantity: 1},
				},
				Total: dec("62.30"), Interval: stripe.PriceRecurringIntervalMonth,
				SessionID: "cs_test_1", PaymentIntentID: "pi_1", SubscriptionID: "sub_1",
				Status: StatusFailed, StatusAt: t0.Add(time.Minute), FailureMessage: "Your card was declined.",
				ActiveUntil: t0.AddDate(0, 2, 0), SubscriptionStatus: "past_due", SubscriptionAt: t0.Add(3 * time.Minute), CancelAtPeriodEnd: true,
				Invoices: []PaidInvoice{
					{ID: "in_1", PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0), Amount: dec("62.30"), Currency: "eur", PaidAt: t0},
					{ID: "in_2", Renewal: true, PeriodStart: t0.AddDate(0, 1, 0), PeriodEnd: t0.AddDate(0, 2, 0), Amount: dec("62.30"), Currency: "eur", PaidAt: t0.AddDate(0, 1, 0)},
				},
				RenewalFailure: "Your card has insufficient funds.",
				DisputeStatus:  "won", StatusBeforeDispute: StatusPaid, RefundFailure: "expired_or_canceled_card",
				Outcomes: []Received{{
					Kind: stripegateway.PaymentFailed, EventID: "evt_1", EventType: "payment_intent.payment_failed",
					Amount: dec("62.30"), AmountMinor: 6230, Currency: "eur",
					Created: t0.Add(time.Minute), ReceivedAt: t0.Add(2 * time.Minute), Applied: true,
				}, {
					Kind: stripegateway.PaymentFailed, EventID: "evt_2", Amount: dec("0"), Note: "not applied: why",
				}},
			}
			require.NoError(t, s.Create(ctx, full))
			full.Lines[0].Name = "changed after Create"
			got, err := s.Get(ctx, "ord_full")
			require.NoError(t, err)
			assert.Equal(t, "Coffee beans, 1 kg", got.Lines[0].Name, "the store keeps a copy")
			full.Lines[0].Name = "Coffee beans, 1 kg"
			requireSameOrder(t, full, got)
			assert.True(t, got.Outcomes[1].Created.IsZero(), "a zero time stays zero")

			assert.Error(t, s.Create(ctx, &Order{ID: "ord_full", Currency: "eur", Status: StatusUnpaid}), "an ID is unique")

			bare := &Order{ID: "ord_bare", CreatedAt: t0.Add(time.Hour), Currency: "jpy", Total: dec("1500"), Status: StatusUnpaid}
			require.NoError(t, s.Create(ctx, bare))
			got, err = s.Get(ctx, "ord_bare")
			require.NoError(t, err)
			requireSameOrder(t, bare, got)
			assert.True(t, got.StatusAt.IsZero())

			list, err = s.List(ctx)
			require.NoError(t, err)
			require.Len(t, list, 2)
			assert.Equal(t, "ord_bare", list[0].ID, "newest first")
			requireSameOrder(t, full, list[1])

			_, err = s.Get(ctx, "ord_nope")
			assert.ErrorIs(t, err, ErrOrderNotFound)
			_, err = s.Update(ctx, "ord_nope", func(*Order) error { return nil })
			assert.ErrorIs(t, err, ErrOrderNotFound)

			// An error from fn stores nothing.
			boom := errors.New("boom")
			_, err = s.Update(ctx, "ord_bare", func(o *Order) error {
				o.Status = StatusPaid
				o.Outcomes = append(o.Outcomes, Received{EventID: "evt_x"})
				return boom
			})
			assert.ErrorIs(t, err, boom)
			got, err = s.Get(ctx, "ord_bare")
			require.NoError(t, err)
			assert.Equal(t, StatusUnpaid, got.Status)
			assert.Empty(t, got.Outcomes)

			// Updates of one order are atomic: none is lost.
			const n = 25
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := s.Update(ctx, "ord_bare", func(o *Order) error {
						o.Outcomes = append(o.Outcomes, Received{Kind: stripegateway.PaymentSucceeded, EventID: fmt.Sprintf("evt_c%02d", i), Amount: dec("1500"), Currency: "jpy"})
						o.FailureMessage = strings.Repeat("x", len(o.Outcomes))
						return nil
					})
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			got, err = s.Get(ctx, "ord_bare")
			require.NoError(t, err)
			assert.Len(t, got.Outcomes, n)
			assert.Len(t, got.FailureMessage, n)
			seen := map[string]bool{}
			for _, r := range got.Outcomes {
				seen[r.EventID] = true
			}
			assert.Len(t, seen, n)

			// Update returns the stored order, and a copy.
			upd, err := s.Update(ctx, "ord_full", func(o *Order) error {
				o.Status, o.FailureMessage = StatusPaid, ""
				o.Outcomes = o.Outcomes[:1]
				return nil
			})
			require.NoError(t, err)
			upd.Outcomes[0].Note = "changed after Update"
			got, err = s.Get(ctx, "ord_full")
			require.NoError(t, err)
			assert.Equal(t, StatusPaid, got.Status)
			require.Len(t, got.Outcomes, 1)
			assert.Empty(t, got.Outcomes[0].Note)
		})
	}
}

// sqliteOrdersSchemaV1 is storefront_orders as the first storefront with
// SQLite created it, before the subscription, dispute and refund columns.
const sqliteOrdersSchemaV1 = `
CREATE TABLE storefront_orders (
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
INSERT INTO storefront_orders VALUES ('ord_old', 1893456000000000000, 'eur', '[{"ProductID":"club","Name":"Coffee club","UnitAmount":"19.99","Quantity":1}]',
	'19.99', 'month', 'cs_test_old', '', 'sub_old', 'paid', 1893456060000000000, '')`

// TestMigrateAnOlderDB: Migrate adds the new columns to a database file
// written by an older storefront; its orders read as before, and take the
// new fields.
func TestMigrateAnOlderDB(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := OpenSQLite(path)
	require.NoError(t, err)
	for _, stmt := range strings.Split(sqliteOrdersSchemaV1, ";") {
		_, err := db.Exec(stmt)
		require.NoError(t, err)
	}
	require.NoError(t, db.Close())

	db, err = OpenSQLite(path)
	require.NoError(t, err)
	defer db.Close()
	s := NewSQLiteOrders(db)
	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.Migrate(ctx), "Migrate is idempotent")
	cols, err := tableColumns(ctx, db, "storefront_orders")
	require.NoError(t, err)
	for _, c := range addedOrderColumns {
		assert.True(t, cols[c.name], c.name)
	}

	old, err := s.Get(ctx, "ord_old")
	require.NoError(t, err)
	assert.Equal(t, StatusPaid, old.Status)
	assert.Equal(t, "sub_old", old.SubscriptionID)
	assert.True(t, old.ActiveUntil.IsZero())
	assert.Empty(t, old.SubscriptionStatus)
	assert.Nil(t, old.Invoices)

	renewal := &stripegateway.Outcome{
		Kind: stripegateway.PaymentSucceeded, EventID: "evt_renewal", OrderID: "ord_old", SubscriptionID: "sub_old", InvoiceID: "in_2",
		Renewal: true, BillingReason: "subscription_cycle", Amount: dec("19.99"), Currency: "eur",
		Created:     time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC),
		PeriodStart: time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC), PeriodEnd: time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	_, err = s.Update(ctx, "ord_old", func(o *Order) error {
		applyOutcome(o, renewal, renewal.Created)
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, db.Close())

	db, err = OpenSQLite(path)
	require.NoError(t, err)
	defer db.Close()
	got, err := NewSQLiteOrders(db).Get(ctx, "ord_old")
	require.NoError(t, err)
	assert.True(t, got.ActiveUntil.Equal(renewal.PeriodEnd))
	assert.Equal(t, "active", got.SubscriptionStatus)
	require.Len(t, got.Invoices, 1)
	assert.Equal(t, "in_2", got.Invoices[0].ID)
	assert.True(t, got.Invoices[0].Renewal)
	require.Len(t, got.Outcomes, 1)
	assert.True(t, got.Outcomes[0].Applied)
}
