package sqlstore_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/sqlstore"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// BenchmarkWebhookPostgres compares the two ways to run callbacks on
// PostgreSQL, in one run: the transactional path (Store.WebhookHandler and
// TxHandlers: BEGIN, the event's INSERT, the callback's INSERT, COMMIT) and
// the lease path (the Store as the gateway's EventStore: Claim, the
// callback's INSERT on its own, Complete). Each delivery is a new event,
// 16 at a time, with a callback that inserts a row into the host's table.
// It reports deliveries/s and the 99th percentile of a delivery's latency:
//
//	go test -run '^$' -bench WebhookPostgres -benchtime 4000x ./sqlstore/
func BenchmarkWebhookPostgres(b *testing.B) {
	const concurrency = 16
	dsn := pgDSN(b)
	paths := []struct {
		name    string
		handler func(b *testing.B, db *sql.DB, table, effects string) http.Handler
	}{
		{"tx", func(b *testing.B, db *sql.DB, table, effects string) http.Handler {
			store, err := sqlstore.New(db, sqlstore.WithTable(table))
			require.NoError(b, err)
			require.NoError(b, store.Migrate(context.Background()))
			gw, err := stripegateway.New(testConfig())
			require.NoError(b, err)
			insert := `INSERT INTO "` + effects + `" (event_id, order_id) VALUES ($1, $2)`
			return store.WebhookHandler(gw, sqlstore.TxHandlers{Default: func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error {
				_, err := tx.ExecContext(ctx, insert, o.EventID, o.OrderID)
				return err
			}})
		}},
		{"lease", func(b *testing.B, db *sql.DB, table, effects string) http.Handler {
			store, err := sqlstore.New(db, sqlstore.WithTable(table))
			require.NoError(b, err)
			require.NoError(b, store.Migrate(context.Background()))
			gw, err := stripegateway.New(testConfig(), stripegateway.WithEventStore(store))
			require.NoError(b, err)
			insert := `INSERT INTO "` + effects + `" (event_id, order_id) VALUES ($1, $2)`
			return gw.WebhookHandler(stripegateway.Handlers{Default: func(ctx context.Context, o *stripegateway.Outcome) error {
				_, err := db.ExecContext(ctx, insert, o.EventID, o.OrderID)
				return err
			}})
		}},
	}
	for _, path := range paths {
		b.Run(path.name, func(b *testing.B) {
			db := openDSN(b, "pgx", dsn)
			db.SetMaxOpenConns(2 * concurrency)
			db.SetMaxIdleConns(2 * concurrency)
			table, effects := uniqueTable(b, db), uniqueTable(b, db)
			_, err := db.Exec(`CREATE TABLE "` + effects + `" (event_id text NOT NULL, order_id text NOT NULL)`)
			require.NoError(b, err)
			handler := path.handler(b, db, table, effects)

			prefix := uniqueName("bench_")
			reqs := make([]*http.Request, b.N)
			for i := range reqs {
				_, payload := newEvent(i, prefix)
				reqs[i] = stripegatewaytest.NewRequest("/gateways/stripe/notification", payload, webhookSecret)
			}
			latencies := make([]time.Duration, b.N)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range concurrency {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
						began := time.Now()
						rec := httptest.NewRecorder()
						handler.ServeHTTP(rec, reqs[i])
						latencies[i] = time.Since(began)
						if rec.Code != http.StatusOK {
							b.Errorf("delivery %d: %d %s", i, rec.Code, rec.Body)
							return
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(latencies)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
