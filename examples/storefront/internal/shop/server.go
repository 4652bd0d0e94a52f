package shop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/internal/stripemock"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// Environment variables read by Start. The STRIPE_* ones are
// stripegateway's (see stripegateway.ConfigFromEnv).
const (
	// EnvSecretKey is the Stripe secret key; unset means offline mode.
	EnvSecretKey = "STRIPE_SECRET_KEY"
	// EnvWebhookSecret is the webhook signing secret, comma-separated
	// while rolling, newest first.
	EnvWebhookSecret = "STRIPE_WEBHOOK_SECRET"

	// EnvAddr is the address to listen on; DefaultAddr if unset.
	EnvAddr = "ADDR"
	// EnvBaseURL overrides the store's public URL, which is otherwise
	// http://ADDR (with localhost for an unspecified host).
	EnvBaseURL = "STOREFRONT_URL"
	// EnvDB names the SQLite file that keeps the orders and the processed
	// webhook events (the storefront command's -db flag overrides it).
	// When it is unset, both live in memory and a restart forgets them.
	EnvDB = "STOREFRONT_DB"
	// EnvAdminPassword is the admin pages' password. Unset offline, Start
	// makes up a random one (Server.AdminPassword, which the command
	// prints once); unset with real keys, Start refuses to run.
	EnvAdminPassword = "STOREFRONT_ADMIN_PASSWORD"
	// EnvAllowedHosts lists, comma-separated, more host names (host or
	// host:port) the store answers to besides its URL's. A request for any
	// other Host is refused, so that DNS rebinding cannot reach it.
	EnvAllowedHosts = "STOREFRONT_ALLOWED_HOSTS"
)

// DefaultAddr is where the store listens without ADDR.
const DefaultAddr = "localhost:8080"

// SimulatorPath is where offline mode mounts the simulated Stripe.
const SimulatorPath = "/stripe-sim"

// Offline test keys: stripe-mock takes any key of the right shape.
const (
	offlineSecretKey      = "sk_test_storefrontofflinesecret00"
	offlinePublishableKey = "pk_test_storefrontofflinepublish0"
)

// Server is a running storefront.
type Server struct {
	// URL is the store's base URL, e.g. http://localhost:8080.
	URL string
	// App is the store.
	App *App
	// Offline is true when no STRIPE_SECRET_KEY was set: stripe-mock and
	// the simulated checkout stand in for Stripe.
	Offline bool
	// Simulator is the simulated checkout in offline mode; nil otherwise.
	Simulator *stripegatewaytest.Simulator
	// StripeMockURL is stripe-mock's URL in offline mode.
	StripeMockURL string
	// WebhookSecret is the secret webhooks must be signed with.
	WebhookSecret string
	// DBPath is the SQLite file of the orders and the processed webhook
	// events (STOREFRONT_DB); empty when they live in memory.
	DBPath string
	// AdminPassword opens the admin pages: STOREFRONT_ADMIN_PASSWORD, or
	// offline without it a random one, AdminPasswordGenerated then. Start
	// never logs it; the command prints a generated one once.
	AdminPassword          string
	AdminPasswordGenerated bool

	srv  *http.Server
	mock *stripemock.Server
	db   *durable
	done chan error
}

// Start reads its settings through getenv (os.LookupEnv in the command),
// starts stripe-mock in offline mode, and serves the store on ADDR until
// Shutdown. It returns once the store is listening. In offline mode the
// first start waits for Go to build stripe-mock.
//
//   - ADDR: where to listen, DefaultAddr by default; port 0 picks a free
//     port (Server.URL tells which).
//   - STRIPE_SECRET_KEY unset: offline mode. Test keys are used, the API
//     is stripe-mock (started here; STRIPE_MOCK_URL names a running one)
//     behind the simulated checkout, mounted at SimulatorPath.
//   - STRIPE_SECRET_KEY set: real Stripe, configured from the STRIPE_*
//     variables as stripegateway.ConfigFromEnv reads them (configFromEnv).
//   - STRIPE_WEBHOOK_SECRET: read in both modes. Offline, it is what the
//     simulator signs with, so that an outside tool can sign events for
//     the store too; if unset, a random one, which the log gives redacted
//     only (whsec_…abcd): set your own to sign your own events.
//   - STOREFRONT_ADMIN_PASSWORD: the admin pages' password. Offline, a
//     random one if unset (Server.AdminPassword; never logged). Required
//     with real keys.
//   - STOREFRONT_ALLOWED_HOSTS: more host names the store answers to
//     (comma-separated) besides its URL's; every other Host is refused.
//   - STOREFRONT_DB: a SQLite file (created and migrated here) that keeps
//     the orders and the webhook event store, so that a restart forgets
//     neither; in memory if unset. With it, the webhook route is
//     sqlstore's transactional path (Options.TxEvents): an event's order
//     change and its record as processed commit together, or neither. Offline, the simulator's sessions stay
//     in memory: after a restart the old orders and their statuses are
//     there, but the simulator no longer knows their checkout sessions.
func Start(ctx context.Context, getenv func(string) (string, bool), logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.Default()
	}
	env := func(k string) string {
		v, _ := getenv(k)
		return strings.TrimSpace(v)
	}
	addr := env(EnvAddr)
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("storefront: cannot listen on %s (set %s to another address): %w", addr, EnvAddr, err)
	}
	base := env(EnvBaseURL)
	if base == "" {
		base = baseURL(addr, ln.Addr())
	}
	s := &Server{URL: strings.TrimRight(base, "/"), Offline: env(EnvSecretKey) == "", done: make(chan error, 1)}
	ok := false
	defer func() {
		if !ok {
			_ = ln.Close()
			if s.mock != nil {
				_ = s.mock.Close()
			}
			if s.db != nil {
				_ = s.db.db.Close()
			}
		}
	}()

	opts := Options{BaseURL: s.URL, Logger: logger}
	if path := env(EnvDB); path != "" {
		s.db, err = openDurable(ctx, path, logger)
		if err != nil {
			return nil, err
		}
		s.DBPath = path
		// The transactional path: each webhook outcome changes its order
		// in the transaction that records the event as processed.
		opts.Orders, opts.TxEvents = s.db.orders, s.db.events
		logger.Info("storefront: orders and webhook events are kept in SQLite; each event's order change commits with its record", "path", path)
	} else {
		logger.Info("storefront: orders and webhook events are kept in memory; set " + EnvDB + " (or -db) to keep them in a SQLite file")
	}
	opts.AllowedHosts = splitSecrets(env(EnvAllowedHosts))
	s.AdminPassword = env(EnvAdminPassword)
	if s.AdminPassword == "" && s.Offline {
		s.AdminPassword, s.AdminPasswordGenerated = RandomPassword(), true
	}
	opts.AdminPassword = s.AdminPassword
	if s.Offline {
		secrets := splitSecrets(env(EnvWebhookSecret))
		if len(secrets) == 0 {
			secrets = []string{randomWebhookSecret()}
			// Never the secret itself in the log: its redacted form.
			logger.Info("storefront: no "+EnvWebhookSecret+" set; the simulator signs webhooks with a random secret made for this run. To sign your own events for the store, set "+EnvWebhookSecret+" to a secret of your own (whsec_ and 32 or more characters) and sign with it",
				"secret", fmt.Sprint(stripegateway.Secret(secrets[0])))
		} else {
			logger.Info("storefront: the simulator signs webhooks with "+EnvWebhookSecret+"; sign your own events with it too", "secret", fmt.Sprint(stripegateway.Secret(secrets[0])))
		}
		s.WebhookSecret = secrets[0]
		logger.Info("storefront: no STRIPE_SECRET_KEY set: offline mode with stripe-mock and the simulated checkout")
		s.mock, err = stripemock.Start(ctx, func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) })
		if err != nil {
			return nil, fmt.Errorf("storefront: offline mode needs stripe-mock: %w", err)
		}
		s.StripeMockURL = s.mock.URL
		s.Simulator, err = stripegatewaytest.NewSimulator(stripegatewaytest.SimulatorConfig{
			UpstreamURL:   s.mock.URL,
			PublicURL:     s.URL + SimulatorPath,
			WebhookURL:    s.URL + WebhookPath,
			WebhookSecret: s.WebhookSecret,
			BusinessName:  "Gopher Goods",
			Logger:        logger,
		})
		if err != nil {
			return nil, err
		}
		opts.Config = stripegateway.Config{
			DisplayName:            defaultDisplayName,
			MinimumAmount:          decimal.NewFromInt(1),
			Status:                 stripegateway.StatusActive,
			Mode:                   stripegateway.ModeTest,
			PublishableKey:         offlinePublishableKey,
			SecretKey:              offlineSecretKey,
			WebhookSecret:          stripegateway.Secret(s.WebhookSecret),
			PreviousWebhookSecrets: toSecrets(secrets[1:]),
		}
		opts.GatewayOptions = []stripegateway.Option{
			stripegateway.WithAPIURL(s.Simulator.APIURL()),
			stripegateway.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}),
		}
		opts.Simulator, opts.SimulatorPath, opts.SimulatorWebhookSecret = s.Simulator, SimulatorPath, s.WebhookSecret
	} else {
		cfg, err := stripegateway.ConfigFromEnv(env)
		if err != nil {
			return nil, fmt.Errorf("storefront: the STRIPE_* variables are not a usable configuration: %w%s", err, fieldList(err))
		}
		opts.Config = cfg
		s.WebhookSecret = string(cfg.WebhookSecret)
		if s.AdminPassword == "" {
			return nil, fmt.Errorf("storefront: set %s: with real Stripe keys the admin pages (orders, Stripe settings) need a password of your choice", EnvAdminPassword)
		}
	}

	s.App, err = New(opts)
	if err != nil {
		return nil, err
	}
	s.srv = newHTTPServer(s.App, logger)
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	ok = true
	logger.Info("storefront: listening", "url", s.URL, "offline", s.Offline)
	return s, nil
}

// The store's HTTP server limits, so that a slow or idle client cannot hold
// a connection (and its memory) for ever: SECURITY.md's host duties.
const (
	// readHeaderTimeout bounds reading a request's headers: a client that
	// sends them byte by byte (Slowloris) is cut off.
	readHeaderTimeout = 5 * time.Second
	// readTimeout bounds reading a whole request, body included: forms
	// and webhook events are small.
	readTimeout = 15 * time.Second
	// writeTimeout bounds a request from the end of its headers to the end
	// of its answer. The longest answers wait for Stripe: a simulated
	// payment delivers its webhooks before it answers (30 s at most), a
	// success page asks Stripe about the session.
	writeTimeout = 60 * time.Second
	// idleTimeout closes a kept-alive connection left unused.
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes bounds a request's headers; the store's own cookies
	// are two short tokens.
	maxHeaderBytes = 64 << 10
)

// newHTTPServer is the store's HTTP server, with its limits.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Done receives the server's error if it stops serving by itself.
func (s *Server) Done() <-chan error { return s.done }

// Shutdown stops accepting requests, waits for those in flight (until ctx
// ends), stops a recovery of missed events going on, then stops the
// simulator's deliveries and stripe-mock, and closes the SQLite file.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	s.App.Close()
	if s.Simulator != nil {
		_ = s.Simulator.Close()
	}
	if s.mock != nil {
		_ = s.mock.Close()
	}
	if s.db != nil {
		if cerr := s.db.db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("storefront: close SQLite %s: %w", s.DBPath, cerr)
		}
	}
	return err
}

// baseURL is http://host:port for the listening address, with localhost
// for an unspecified host.
func baseURL(addr string, actual net.Addr) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = ""
	}
	_, port, err := net.SplitHostPort(actual.String())
	if err != nil {
		return "http://" + actual.String()
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// defaultDisplayName is the payment method's name when none is configured.
const defaultDisplayName = "Credit Card"

// toSecrets converts webhook secrets read as text.
func toSecrets(ss []string) []stripegateway.Secret {
	var out []stripegateway.Secret
	for _, s := range ss {
		out = append(out, stripegateway.Secret(s))
	}
	return out
}

func splitSecrets(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func randomWebhookSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "whsec_" + hex.EncodeToString(b)
}

// fieldList lists a *ConfigError's fields, one per line.
func fieldList(err error) string {
	var ce *stripegateway.ConfigError
	if !errors.As(err, &ce) {
		return ""
	}
	var b strings.Builder
	for _, f := range ce.Fields {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	return b.String()
}
