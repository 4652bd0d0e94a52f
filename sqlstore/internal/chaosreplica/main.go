// Command chaosreplica is one replica of a store, for sqlstore's chaos test
// (TestChaos, run by .ci/run): it serves Stripe's webhooks on the
// transactional path (sqlstore's Store.WebhookHandler) from a PostgreSQL
// database it shares with the other replicas, and its callback records
// each event's effect as a row of the host's own table, in the event's
// transaction.
//
// It prints "listening ADDR" once it serves, and "run EVENT_ID" each time
// a callback starts (whether or not its transaction commits later), on
// standard output, unbuffered; its log goes to standard error.
//
//	CHAOS_WEBHOOK_SECRET=whsec_… chaosreplica -dsn 'host=… dbname=…' -addr 127.0.0.1:8080 -name a
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/sqlstore"
)

// EffectsTable is the host's table: a plain one, without a key, so that an
// effect applied twice would show as two rows.
const EffectsTable = `CREATE TABLE IF NOT EXISTS chaos_effects (
	event_id text        NOT NULL,
	replica  text        NOT NULL,
	pid      integer     NOT NULL,
	at       timestamptz NOT NULL DEFAULT now()
)`

func main() {
	dsn := flag.String("dsn", "", "PostgreSQL data source name")
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	name := flag.String("name", "replica", "the replica's name, recorded with each effect")
	flag.Parse()
	if err := run(*dsn, *addr, *name); err != nil {
		fmt.Fprintln(os.Stderr, "chaosreplica:", err)
		os.Exit(1)
	}
}

func run(dsn, addr, name string) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("replica", name)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(24)
	db.SetMaxIdleConns(24)
	store, err := sqlstore.New(db, sqlstore.WithLogger(logger))
	if err != nil {
		return err
	}
	// The database may be restarting: try for a while.
	if err := retry(30*time.Second, func(ctx context.Context) error {
		if _, err := db.ExecContext(ctx, EffectsTable); err != nil {
			return err
		}
		return store.Migrate(ctx)
	}); err != nil {
		return err
	}
	gw, err := stripegateway.New(stripegateway.Config{
		DisplayName:    "Chaos Shop",
		Status:         stripegateway.StatusActive,
		Mode:           stripegateway.ModeTest,
		PublishableKey: "pk_test_51HchaosReplicaPublishableKey0",
		SecretKey:      "sk_test_51HchaosReplicaSecretKeyValue0",
		WebhookSecret:  stripegateway.Secret(os.Getenv("CHAOS_WEBHOOK_SECRET")),
	}, stripegateway.WithLogger(logger))
	if err != nil {
		return err
	}
	pid := os.Getpid()
	handler := store.WebhookHandler(gw, sqlstore.TxHandlers{
		Default: func(ctx context.Context, tx *sql.Tx, o *stripegateway.Outcome) error {
			fmt.Printf("run %s\n", o.EventID)
			if _, err := tx.ExecContext(ctx, `INSERT INTO chaos_effects (event_id, replica, pid) VALUES ($1, $2, $3)`, o.EventID, name, pid); err != nil {
				return err
			}
			// Some work, inside the transaction: a crash lands in it.
			time.Sleep(time.Duration(1000+rand.IntN(4000)) * time.Microsecond)
			return nil
		},
	})
	mux := http.NewServeMux()
	mux.Handle("POST /webhook", handler)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: sqlstore.TxTimeout + 10*time.Second}
	return srv.Serve(ln)
}

// retry calls fn until it succeeds or d has passed.
func retry(d time.Duration, fn func(context.Context) error) error {
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := fn(ctx)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
