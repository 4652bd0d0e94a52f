package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/internal/redact"
)

// Dialect is the SQL dialect of the database.
type Dialect int

// Supported dialects.
const (
	// Postgres is PostgreSQL (9.5 or newer; tested with 15).
	Postgres Dialect = iota + 1
	// SQLite is SQLite 3.35 or newer.
	SQLite
)

// String names the dialect.
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// DefaultTable is the table's name when no WithTable is given.
const DefaultTable = "stripegateway_events"

// MaxErrorLen bounds the last_error column, in bytes.
const MaxErrorLen = 1000

// States of an event's row (the state column).
const (
	// StateProcessing: a delivery holds, or held, a claim on the event,
	// which has not been processed. After a Release, or once its lease
	// has run out, the next delivery claims it.
	StateProcessing = "processing"
	// StateDone: the event has been processed.
	StateDone = "done"
)

// ErrNotFound is returned by Lookup for an event the table has no row for.
var ErrNotFound = errors.New("sqlstore: event not found")

// Option configures a Store in New.
type Option func(*config)

type config struct {
	dialect      Dialect // 0: detect from the driver
	table        string
	gatewayClock bool
	logger       *slog.Logger
	errs         []error
}

// WithDialect sets the database's dialect. Without it, New recognises the
// drivers github.com/jackc/pgx (v4 and v5 stdlib), github.com/lib/pq,
// modernc.org/sqlite and github.com/mattn/go-sqlite3; any other driver, or
// a driver wrapped by instrumentation, needs WithDialect.
func WithDialect(d Dialect) Option {
	return func(c *config) {
		if d != Postgres && d != SQLite {
			c.errs = append(c.errs, fmt.Errorf("WithDialect(%s): want Postgres or SQLite", d))
			return
		}
		c.dialect = d
	}
}

// WithTable sets the table's name; the default is DefaultTable. name is an
// identifier of ASCII letters, digits and underscores, not starting with a
// digit, of at most 48 characters, optionally qualified by a schema as in
// "payments.stripe_events". It is quoted in every statement, so it is case
// sensitive.
func WithTable(name string) Option {
	return func(c *config) {
		if err := validateTable(name); err != nil {
			c.errs = append(c.errs, err)
			return
		}
		c.table = name
	}
}

// WithGatewayClock makes the store compare leases with the times the
// gateway puts in each claim (EventClaim.Now and Expires, from the
// gateway's clock, stripegateway.WithClock) instead of the database's
// clock, the default. A lease is then only as exact as the replicas' clocks
// agree. It is meant for tests that drive leases with a fake clock; the
// transactional path (ProcessTx, WebhookHandler) then records the host's
// time.Now.
func WithGatewayClock() Option {
	return func(c *config) { c.gatewayClock = true }
}

// WithLogger sets the logger of the store's WebhookHandler and ProcessTx,
// which log as the gateway's webhook handler does (secrets redacted, no
// payload data). Without it they log nothing. The EventStore methods do
// not log: they return errors.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

var identPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,47}$`)

func validateTable(name string) error {
	parts := strings.Split(name, ".")
	ok := len(parts) <= 2
	for _, p := range parts {
		ok = ok && identPattern.MatchString(p)
	}
	if !ok {
		return fmt.Errorf("WithTable(%q): want an identifier of letters, digits and underscores (at most 48), optionally schema-qualified, such as %q", redact.Limit(name, 60), DefaultTable)
	}
	return nil
}

// Store is a stripegateway.EventStore on a SQL database. It is safe for
// concurrent use, by any number of Gateways and processes sharing the
// database. Create it with New.
type Store struct {
	db      *sql.DB
	dialect Dialect
	table   string
	dbClock bool
	logger  *slog.Logger

	ddl                                                   []string
	claim, txClaim, state, complete, release, purge, find stmt
	check                                                 string
	lockKey                                               int64
}

var _ stripegateway.EventStore = (*Store)(nil)

// New returns a Store on db, which the host keeps open for the Store's
// life. It does not touch the database: call Migrate, or create the table
// with the statements of Schema, before the first event.
func New(db *sql.DB, opts ...Option) (*Store, error) {
	c := config{table: DefaultTable}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if db == nil {
		c.errs = append(c.errs, errors.New("New(nil): pass the host's *sql.DB"))
	} else if c.dialect == 0 {
		d, ok := detectDialect(db)
		if ok {
			c.dialect = d
		} else {
			c.errs = append(c.errs, fmt.Errorf("the dialect of driver %T is unknown: pass WithDialect(sqlstore.Postgres) or WithDialect(sqlstore.SQLite)", db.Driver()))
		}
	}
	if len(c.errs) > 0 {
		return nil, fmt.Errorf("sqlstore: %w", errors.Join(c.errs...))
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{db: db, dialect: c.dialect, table: c.table, dbClock: !c.gatewayClock, logger: c.logger}
	s.prepare()
	return s, nil
}

// driverDialects maps driver packages to their dialect.
var driverDialects = map[string]Dialect{
	"github.com/jackc/pgx/v5/stdlib": Postgres,
	"github.com/jackc/pgx/v4/stdlib": Postgres,
	"github.com/lib/pq":              Postgres,
	"modernc.org/sqlite":             SQLite,
	"github.com/mattn/go-sqlite3":    SQLite,
}

func detectDialect(db *sql.DB) (Dialect, bool) {
	t := reflect.TypeOf(db.Driver())
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return 0, false
	}
	d, ok := driverDialects[t.PkgPath()]
	return d, ok
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// Table returns the table's name, as given to WithTable.
func (s *Store) Table() string { return s.table }

// Schema returns the SQL statements that create the store's table and its
// index, separated by semicolons, for the host's own migrations. Migrate
// runs the same statements.
func (s *Store) Schema() string { return strings.Join(s.ddl, ";\n\n") + ";\n" }

// Schema returns the SQL statements that create the default table
// (DefaultTable) of dialect d, for the host's own migrations; see
// Store.Schema for another table name. It returns "" for an unknown
// dialect.
func Schema(d Dialect) string {
	if d != Postgres && d != SQLite {
		return ""
	}
	s := &Store{dialect: d, table: DefaultTable, dbClock: true}
	s.prepare()
	return s.Schema()
}

// Migrate creates the table and its index if they do not exist, and checks
// that an existing table has the store's columns. It is idempotent, and
// safe to run concurrently from several replicas.
func (s *Store) Migrate(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("sqlstore: migrate %s: %w", s.table, err)
		}
	}()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if s.dialect == Postgres {
		// Concurrent CREATE … IF NOT EXISTS can fail in PostgreSQL with a
		// unique violation in its catalogs: take turns.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, s.lockKey); err != nil {
			return err
		}
	}
	for i, q := range s.ddl {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
		if i == 0 { // the table: check it before indexing it
			if _, err := tx.ExecContext(ctx, s.check); err != nil {
				return fmt.Errorf("the table exists but lacks the store's columns (see Schema): %w", err)
			}
		}
	}
	return tx.Commit()
}

// Claim implements stripegateway.EventStore: it takes the event for
// c.Owner until c.Expires if the event is new, or if its previous claim's
// lease has run out (or was released). A Claim by the owner that holds the
// event's claim renews it: the lease is extended to c.Expires, and
// attempts is not counted again. With the database's clock (the default),
// the lease ends c.Expires minus c.Now after the database's current time.
func (s *Store) Claim(ctx context.Context, c stripegateway.EventClaim) (stripegateway.ClaimStatus, error) {
	if err := s.validate("claim", c, true); err != nil {
		return 0, err
	}
	v := s.values(c)
	for try := 0; ; try++ {
		var attempts int64
		err := s.db.QueryRowContext(ctx, s.claim.sql, s.args(s.claim, &v)...).Scan(&attempts)
		if err == nil {
			return stripegateway.ClaimAcquired, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, s.wrap("claim", c.EventID, err)
		}
		// The row exists and was not taken: done, or held under a lease.
		var state string
		err = s.db.QueryRowContext(ctx, s.state.sql, s.args(s.state, &v)...).Scan(&state)
		switch {
		case err == nil && state == StateDone:
			return stripegateway.ClaimCompleted, nil
		case err == nil && state == StateProcessing:
			return stripegateway.ClaimBusy, nil
		case err == nil:
			return 0, s.wrap("claim", c.EventID, fmt.Errorf("the row has the unknown state %q", redact.Limit(state, 20)))
		case errors.Is(err, sql.ErrNoRows) && try == 0:
			continue // deleted in between: claim again
		case errors.Is(err, sql.ErrNoRows):
			return stripegateway.ClaimBusy, nil // let the delivery be retried
		default:
			return 0, s.wrap("claim", c.EventID, err)
		}
	}
}

// Complete implements stripegateway.EventStore: it marks the event done if
// c.Owner holds its claim (even if the lease has run out, as long as no
// other delivery took it over), and otherwise returns an error matching
// stripegateway.ErrClaimLost.
func (s *Store) Complete(ctx context.Context, c stripegateway.EventClaim) error {
	if err := s.validate("complete", c, false); err != nil {
		return err
	}
	v := s.values(c)
	return s.update(ctx, "complete", c.EventID, s.complete, &v)
}

// Release implements stripegateway.EventStore: if c.Owner holds the
// event's claim, it keeps the row in the processing state with reason as
// its last error (secrets redacted, at most MaxErrorLen bytes), clears the
// owner and ends the lease, so that the next delivery claims the event
// (and attempts counts it). Otherwise it returns an error matching
// stripegateway.ErrClaimLost.
func (s *Store) Release(ctx context.Context, c stripegateway.EventClaim, reason string) error {
	if err := s.validate("release", c, false); err != nil {
		return err
	}
	v := s.values(c)
	v.reason = CleanError(reason)
	return s.update(ctx, "release", c.EventID, s.release, &v)
}

func (s *Store) update(ctx context.Context, op, id string, st stmt, v *values) error {
	res, err := s.db.ExecContext(ctx, st.sql, s.args(st, v)...)
	if err != nil {
		return s.wrap(op, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap(op, id, err)
	}
	if n == 0 {
		return s.wrap(op, id, stripegateway.ErrClaimLost)
	}
	return nil
}

// Purge deletes the rows of events processed (done) before olderThan, and
// returns how many it deleted. Rows of events not processed are kept.
// Stripe retries a delivery for at most 3 days, so a cut-off of
// time.Now().Add(-72*time.Hour) is safe: an event
// processed earlier will not be delivered again. olderThan is compared
// with the done_at column, which holds the database's clock (or the
// gateway's, with WithGatewayClock).
func (s *Store) Purge(ctx context.Context, olderThan time.Time) (int64, error) {
	v := values{cutoff: olderThan}
	res, err := s.db.ExecContext(ctx, s.purge.sql, s.args(s.purge, &v)...)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge: %w", err)
	}
	return n, nil
}

// Record is an event's row, as returned by Lookup.
type Record struct {
	// EventID is the Stripe event's ID, evt_….
	EventID string
	// EventType is the event's type, such as checkout.session.completed.
	EventType string
	// State is StateProcessing or StateDone.
	State string
	// Owner is the token of the delivery that holds or held the claim; it
	// is empty after a Release.
	Owner string
	// LeaseUntil is when the latest claim's lease ends or ended.
	LeaseUntil time.Time
	// Attempts counts the claims acquired on the event: 1 for an event
	// processed at the first try.
	Attempts int
	// LastError is the reason given to the latest Release (secrets
	// redacted), or "".
	LastError string
	// CreatedAt is when the event was first claimed, UpdatedAt when its
	// row last changed, and DoneAt when it was processed (zero while it is
	// not).
	CreatedAt, UpdatedAt, DoneAt time.Time
}

// Lookup returns the row of an event, or an error matching ErrNotFound.
// Times are in UTC.
func (s *Store) Lookup(ctx context.Context, eventID string) (Record, error) {
	v := values{id: eventID}
	row := s.db.QueryRowContext(ctx, s.find.sql, s.args(s.find, &v)...)
	var r Record
	var lastErr sql.NullString
	var attempts int64
	var err error
	if s.dialect == Postgres {
		var done sql.NullTime
		err = row.Scan(&r.EventID, &r.EventType, &r.State, &r.Owner, &r.LeaseUntil, &attempts, &lastErr, &r.CreatedAt, &r.UpdatedAt, &done)
		r.LeaseUntil, r.CreatedAt, r.UpdatedAt = r.LeaseUntil.UTC(), r.CreatedAt.UTC(), r.UpdatedAt.UTC()
		if done.Valid {
			r.DoneAt = done.Time.UTC()
		}
	} else {
		var lease, created, updated int64
		var done sql.NullInt64
		err = row.Scan(&r.EventID, &r.EventType, &r.State, &r.Owner, &lease, &attempts, &lastErr, &created, &updated, &done)
		r.LeaseUntil, r.CreatedAt, r.UpdatedAt = fromNanos(lease), fromNanos(created), fromNanos(updated)
		if done.Valid {
			r.DoneAt = fromNanos(done.Int64)
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, s.wrap("lookup", eventID, ErrNotFound)
	}
	if err != nil {
		return Record{}, s.wrap("lookup", eventID, err)
	}
	r.Attempts, r.LastError = int(attempts), lastErr.String
	return r, nil
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// maxEventIDLen bounds event IDs (Stripe's are about 30 characters).
const maxEventIDLen = 255

func (s *Store) validate(op string, c stripegateway.EventClaim, claim bool) error {
	var problem string
	switch {
	case c.EventID == "":
		problem = "empty EventID"
	case len(c.EventID) > maxEventIDLen:
		problem = fmt.Sprintf("EventID longer than %d bytes", maxEventIDLen)
	case c.Owner == "":
		problem = "empty Owner"
	case c.Now.IsZero():
		problem = "zero Now" // the lease's length is Expires - Now, even on the database's clock
	case claim && !c.Expires.After(c.Now):
		problem = "Expires is not after Now"
	}
	if problem == "" {
		return nil
	}
	return s.wrap(op, redact.Limit(c.EventID, 64), errors.New(problem))
}

func (s *Store) wrap(op, id string, err error) error {
	return fmt.Errorf("sqlstore: %s %s: %w", op, id, err)
}

// values are the arguments of a statement.
type values struct {
	id, typ, owner, reason string
	now, expires, cutoff   time.Time
	lease                  time.Duration
}

func (s *Store) values(c stripegateway.EventClaim) values {
	return values{id: c.EventID, typ: c.EventType, owner: c.Owner, now: c.Now, expires: c.Expires, lease: c.Expires.Sub(c.Now)}
}

// CleanError returns text as the store records it in last_error: valid
// UTF-8 without NUL bytes, every Stripe secret redacted as the gateway
// redacts it (keys and webhook secrets to their prefix and at most their
// last four characters, such as sk_live_…abcd; client secrets and card
// numbers replaced), and at most MaxErrorLen bytes.
func CleanError(text string) string {
	text = redact.Limit(text, 16*MaxErrorLen) // bound the work; only the first MaxErrorLen bytes are kept
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.ReplaceAll(text, "\x00", "")
	return redact.Limit(redact.Text(text), MaxErrorLen)
}
