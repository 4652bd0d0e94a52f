package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/b27de697/stripegateway"
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
	dialect Dialect // 0: detect from the driver
	table   string
	dbClock bool
	errs    []error
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

// WithDatabaseClock makes the store read the current time from the database
// instead of the claims' Now (the gateway's clock), so that leases do not
// depend on the replicas' clocks agreeing. The lease's length is still the
// claim's Expires minus Now. With PostgreSQL it is the server's now(); with
// SQLite, which runs in the process, it is the host's clock, time.Now. A
// fake clock given to the gateway (stripegateway.WithClock) is then not
// used for leases.
func WithDatabaseClock() Option {
	return func(c *config) { c.dbClock = true }
}

var identPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,47}$`)

func validateTable(name string) error {
	parts := strings.Split(name, ".")
	ok := len(parts) <= 2
	for _, p := range parts {
		ok = ok && identPattern.MatchString(p)
	}
	if !ok {
		return fmt.Errorf("WithTable(%q): want an identifier of letters, digits and underscores (at most 48), optionally schema-qualified, such as %q", limit(name, 60), DefaultTable)
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

	ddl                                          []string
	claim, state, complete, release, purge, find stmt
	check                                        string
	lockKey                                      int64
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
	s := &Store{db: db, dialect: c.dialect, table: c.table, dbClock: c.dbClock}
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
	s := &Store{dialect: d, table: DefaultTable}
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
// lease has run out (or was released).
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
			return 0, s.wrap("claim", c.EventID, fmt.Errorf("the row has the unknown state %q", limit(state, 20)))
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
// with the done_at column, which holds the clock the store uses (see
// WithDatabaseClock).
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
	case c.Now.IsZero() && !s.dbClock:
		problem = "zero Now"
	case claim && !c.Expires.After(c.Now):
		problem = "Expires is not after Now"
	}
	if problem == "" {
		return nil
	}
	return s.wrap(op, limit(c.EventID, 64), errors.New(problem))
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
	v := values{id: c.EventID, typ: c.EventType, owner: c.Owner, now: c.Now, expires: c.Expires, lease: c.Expires.Sub(c.Now)}
	if s.dbClock && s.dialect == SQLite {
		// SQLite runs in this process: its clock is the host's.
		v.now = time.Now()
		v.expires = v.now.Add(v.lease)
	}
	return v
}

// ---------------------------------------------------------------------------
// Statements

// param names a statement argument.
type param int

const (
	pID param = iota
	pType
	pOwner
	pNow
	pExpires
	pLease
	pReason
	pCutoff
)

// stmt is a statement with its arguments in order.
type stmt struct {
	sql    string
	params []param
}

func (st stmt) args(v *values) []any {
	out := make([]any, len(st.params))
	for i, p := range st.params {
		switch p {
		case pID:
			out[i] = v.id
		case pType:
			out[i] = v.typ
		case pOwner:
			out[i] = v.owner
		case pReason:
			out[i] = v.reason
		case pLease:
			out[i] = v.lease.Seconds()
		case pNow:
			out[i] = v.now
		case pExpires:
			out[i] = v.expires
		case pCutoff:
			out[i] = v.cutoff
		}
	}
	return out
}

// sqliteTimes converts a stmt's time arguments to SQLite's INTEGER nanoseconds.
func sqliteTimes(args []any) []any {
	for i, a := range args {
		if t, ok := a.(time.Time); ok {
			args[i] = t.UnixNano()
		}
	}
	return args
}

// The store's statements. {table} is the quoted table name; {id}, {type},
// {owner}, {reason} and {cutoff} are arguments; {now} and {expires} are
// arguments, or expressions of the database's clock.
const (
	claimSQL = `INSERT INTO {table} AS e (event_id, event_type, state, owner, lease_until, attempts, created_at, updated_at)
VALUES ({id}, {type}, 'processing', {owner}, {expires}, 1, {now}, {now})
ON CONFLICT (event_id) DO UPDATE
SET owner = excluded.owner, lease_until = excluded.lease_until, attempts = e.attempts + 1, updated_at = excluded.updated_at
WHERE e.state = 'processing' AND e.lease_until <= excluded.updated_at
RETURNING attempts`

	stateSQL = `SELECT state FROM {table} WHERE event_id = {id}`

	completeSQL = `UPDATE {table} SET state = 'done', done_at = {now}, updated_at = {now}
WHERE event_id = {id} AND owner = {owner} AND state = 'processing'`

	releaseSQL = `UPDATE {table} SET owner = '', lease_until = {now}, last_error = {reason}, updated_at = {now}
WHERE event_id = {id} AND owner = {owner} AND state = 'processing'`

	purgeSQL = `DELETE FROM {table} WHERE state = 'done' AND done_at < {cutoff}`

	columns = `event_id, event_type, state, owner, lease_until, attempts, last_error, created_at, updated_at, done_at`

	findSQL = `SELECT ` + columns + ` FROM {table} WHERE event_id = {id}`

	checkSQL = `SELECT ` + columns + ` FROM {table} WHERE 1 = 0`
)

var placeholderPattern = regexp.MustCompile(`\{[a-z]+\}`)

// prepare renders the statements for the store's dialect, table and clock.
func (s *Store) prepare() {
	table := quoteTable(s.table)
	s.claim = s.render(claimSQL, table)
	s.state = s.render(stateSQL, table)
	s.complete = s.render(completeSQL, table)
	s.release = s.render(releaseSQL, table)
	s.purge = s.render(purgeSQL, table)
	s.find = s.render(findSQL, table)
	s.check = s.render(checkSQL, table).sql
	s.ddl = s.schema()
	h := fnv.New64a()
	h.Write([]byte("stripegateway/sqlstore:" + s.table))
	s.lockKey = int64(h.Sum64())
}

func (s *Store) render(tmpl, table string) stmt {
	var st stmt
	arg := func(p param) string {
		st.params = append(st.params, p)
		if s.dialect == Postgres {
			return fmt.Sprintf("$%d", len(st.params))
		}
		return "?"
	}
	st.sql = placeholderPattern.ReplaceAllStringFunc(tmpl, func(m string) string {
		switch m {
		case "{table}":
			return table
		case "{id}":
			return arg(pID)
		case "{type}":
			return arg(pType)
		case "{owner}":
			return arg(pOwner)
		case "{reason}":
			return arg(pReason)
		case "{cutoff}":
			return arg(pCutoff)
		case "{now}":
			if s.dbClock && s.dialect == Postgres {
				return "now()"
			}
			return arg(pNow)
		case "{expires}":
			if s.dbClock && s.dialect == Postgres {
				return "now() + " + arg(pLease) + "::double precision * interval '1 second'"
			}
			return arg(pExpires)
		}
		panic("sqlstore: unknown placeholder " + m)
	})
	return st
}

// args returns a statement's arguments for the store's dialect.
func (s *Store) args(st stmt, v *values) []any {
	a := st.args(v)
	if s.dialect == SQLite {
		a = sqliteTimes(a)
	}
	return a
}

func quoteIdent(s string) string { return `"` + s + `"` }

func quoteTable(name string) string {
	schema, table, ok := strings.Cut(name, ".")
	if !ok {
		return quoteIdent(name)
	}
	return quoteIdent(schema) + "." + quoteIdent(table)
}

// schema returns the DDL statements of the store's table.
func (s *Store) schema() []string {
	table := quoteTable(s.table)
	schemaName, base, qualified := strings.Cut(s.table, ".")
	if !qualified {
		base = s.table
	}
	index := quoteIdent(base + "_done_at")
	if s.dialect == Postgres {
		return []string{
			`CREATE TABLE IF NOT EXISTS ` + table + ` (
	event_id    text        NOT NULL PRIMARY KEY,
	event_type  text        NOT NULL,
	state       text        NOT NULL CHECK (state IN ('processing', 'done')),
	owner       text        NOT NULL,  -- the claim's owner; '' once released
	lease_until timestamptz NOT NULL,
	attempts    integer     NOT NULL,  -- claims acquired
	last_error  text,                  -- secrets redacted
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL,
	done_at     timestamptz            -- NULL until processed
)`,
			// The index is created in the table's schema.
			`CREATE INDEX IF NOT EXISTS ` + index + ` ON ` + table + ` (done_at)`,
		}
	}
	indexName := index
	if qualified {
		indexName = quoteIdent(schemaName) + "." + index
	}
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + table + ` (
	event_id    TEXT    NOT NULL PRIMARY KEY,
	event_type  TEXT    NOT NULL,
	state       TEXT    NOT NULL CHECK (state IN ('processing', 'done')),
	owner       TEXT    NOT NULL,  -- the claim's owner; '' once released
	lease_until INTEGER NOT NULL,  -- times: nanoseconds since 1970-01-01 UTC
	attempts    INTEGER NOT NULL,  -- claims acquired
	last_error  TEXT,              -- secrets redacted
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	done_at     INTEGER            -- NULL until processed
) WITHOUT ROWID`,
		`CREATE INDEX IF NOT EXISTS ` + indexName + ` ON ` + quoteIdent(base) + ` (done_at)`,
	}
}

// ---------------------------------------------------------------------------
// Errors

// secretPattern matches what looks like a Stripe secret in free text: API
// keys, webhook signing secrets and client secrets.
// A key already redacted to its last four characters, as the gateway logs
// it (sk_live_…abcd), is kept.
var secretPattern = regexp.MustCompile(`(?:[spr]k_(?:test|live)_|whsec_)…?[A-Za-z0-9+/=_-]*|[A-Za-z0-9_]*_secret_[A-Za-z0-9_]+`)

var keyPrefixPattern = regexp.MustCompile(`^[spr]k_(?:test|live)_`)

// CleanError returns text as the store records it in last_error: valid
// UTF-8 without NUL bytes, every Stripe secret (sk_…, rk_…, pk_…, whsec_…
// and client secrets) replaced by its prefix, and at most MaxErrorLen
// bytes.
func CleanError(text string) string {
	text = limit(text, 16*MaxErrorLen) // bound the work; only the first MaxErrorLen bytes are kept
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.ReplaceAll(text, "\x00", "")
	text = secretPattern.ReplaceAllStringFunc(text, func(tok string) string {
		if _, last4, ok := strings.Cut(tok, "…"); ok && len(last4) <= 4 {
			return tok
		}
		switch {
		case strings.HasPrefix(tok, "whsec_"):
			return "whsec_[redacted]"
		case keyPrefixPattern.MatchString(tok):
			return tok[:len("sk_test_")] + "[redacted]"
		}
		return "[redacted client secret]"
	})
	return limit(text, MaxErrorLen)
}

// limit shortens s to at most n bytes, on a rune boundary.
func limit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
