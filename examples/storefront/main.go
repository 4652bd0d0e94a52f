// Command storefront is a small store that takes card payments with
// stripegateway. Run it from the repository root:
//
//	go run ./examples/storefront
//
// and open http://localhost:8080. Without STRIPE_SECRET_KEY it runs
// offline: it builds and starts stripe-mock (Stripe's API mock, the version
// pinned in tools/go.mod) and puts a simulated hosted checkout in front of
// it, so the whole journey (checkout, test card, webhook, paid order) works
// with no Stripe account and no network. The simulator's page
// (/stripe-sim/) also sends what Stripe sends after a payment (a
// subscription's renewal or its failure, a refund that fails, a dispute
// won or lost) and misconfigures its webhook endpoint, for the settings
// page's "Check webhook endpoint" to report. It can also make the store's
// webhook endpoint unreachable, as if the store were down: pay an order
// then, make the endpoint reachable again, and the Orders page's "Recover
// missed events" button fetches the missed events back from the
// (simulated) Events API and marks the order paid, once. With
// STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET it
// uses Stripe itself; forward the webhooks with the Stripe CLI:
//
//	stripe listen --forward-to localhost:8080/gateways/stripe/notification
//
// ADDR sets the listening address (default localhost:8080),
// STRIPE_WEBHOOK_SECRET the webhook signing secret in both modes, and
// STRIPE_MOCK_URL a stripe-mock that is already running.
//
// The admin pages (/admin/orders, /admin/settings) are behind a login.
// STOREFRONT_ADMIN_PASSWORD sets its password; offline without it, the
// store makes up a random one and prints it once at start, as notebook
// servers print their token (with real keys it is required). Sessions
// are HttpOnly, SameSite=Strict cookies, Secure over TLS (or when
// STOREFRONT_URL is https); every form carries a CSRF token; five wrong
// passwords a minute from one address close the login for that minute.
// The store answers only to its own host name (that of STOREFRONT_URL,
// or of ADDR, and the loopback names on its port), so that DNS rebinding
// fails: STOREFRONT_ALLOWED_HOSTS adds others, comma-separated.
//
// No secret is logged in the clear: the log gives the webhook signing
// secret redacted (whsec_…abcd). Offline without STRIPE_WEBHOOK_SECRET the
// simulator signs with a random secret that nothing else can know; to sign
// events of your own for the store (with the Stripe CLI, or
// stripegatewaytest.SignatureHeader), set your own:
//
//	STRIPE_WEBHOOK_SECRET=whsec_$(openssl rand -hex 24) go run ./examples/storefront
//
// The orders and the record of processed webhook events live in memory
// unless -db names a SQLite file (or STOREFRONT_DB does; the flag wins),
// created and migrated at start, so that a restart keeps them:
//
//	go run ./examples/storefront -db storefront.db
//
// With -db, the webhook endpoint is sqlstore's transactional path: each
// event changes its order in the same SQLite transaction that records the
// event as processed, so that both are kept or neither is, and a
// redelivery of a committed event changes nothing. The "Recover missed
// events" button runs recovered events through the same path.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/b27de697/stripegateway/examples/storefront/internal/shop"
)

func main() {
	dbPath := flag.String("db", "", "SQLite `file` that keeps the orders and the processed webhook events, created if needed (default $"+shop.EnvDB+"; in memory if neither is set)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "storefront: unexpected arguments %q\n", flag.Args())
		flag.Usage()
		os.Exit(2)
	}
	getenv := os.LookupEnv
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "db" {
			getenv = withDB(getenv, *dbPath)
		}
	})

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv, err := shop.Start(ctx, getenv, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	printBanner(os.Stderr, srv)

	select {
	case <-ctx.Done():
	case err := <-srv.Done():
		if err != nil {
			logger.Error("storefront: server stopped", "error", err)
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Error("storefront: shutdown", "error", err)
		os.Exit(1)
	}
}

// printBanner says where the store is, and how to sign in: a password made
// up for this run is printed here, once, and never logged.
func printBanner(w io.Writer, srv *shop.Server) {
	fmt.Fprintf(w, "\n  Gopher Goods is open at %s\n  Orders:          %s/admin/orders\n  Stripe settings: %s/admin/settings\n", srv.URL, srv.URL, srv.URL)
	if srv.AdminPasswordGenerated {
		fmt.Fprintf(w, "  Admin password:  %s\n                   (made up for this run; set %s to choose your own)\n", srv.AdminPassword, shop.EnvAdminPassword)
	} else {
		fmt.Fprintf(w, "  Admin password:  the one in %s\n", shop.EnvAdminPassword)
	}
	if srv.Offline {
		fmt.Fprintf(w, "  Offline mode: pay with 4242 4242 4242 4242 on the simulated checkout; signed webhooks and test cards on %s%s/\n", srv.URL, shop.SimulatorPath)
	}
	if srv.DBPath != "" {
		fmt.Fprintf(w, "  Orders and webhook events are kept in %s\n", srv.DBPath)
	}
	fmt.Fprintln(w, "  Ctrl-C stops it.")
	fmt.Fprintln(w)
}

// withDB is lookup with STOREFRONT_DB set to path: the -db flag, given on
// the command line, wins over the environment (-db "" keeps the store in
// memory whatever STOREFRONT_DB says).
func withDB(lookup func(string) (string, bool), path string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if k == shop.EnvDB {
			return path, true
		}
		return lookup(k)
	}
}
