package sqlstore

import (
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"strings"
	"time"
)

// This file renders the store's SQL for its dialect, table and clock: the
// statements of Claim, Complete, Release, Purge and Lookup, and the schema.

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
			out[i] = v.lease
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

// The store's statements. {table} is the quoted table name; {id}, {type},
// {owner}, {reason} and {cutoff} are arguments; {now} and {expires} are
// expressions of the database's clock, or arguments (WithGatewayClock).
const (
	// claimSQL takes a new event, one whose lease ended (or was released),
	// or renews the owner's own claim.
	claimSQL = `INSERT INTO {table} AS e (event_id, event_type, state, owner, lease_until, attempts, created_at, updated_at)
VALUES ({id}, {type}, 'processing', {owner}, {expires}, 1, {now}, {now})
ON CONFLICT (event_id) DO UPDATE
SET owner = excluded.owner, lease_until = excluded.lease_until, updated_at = excluded.updated_at,
	attempts = CASE WHEN e.owner = excluded.owner THEN e.attempts ELSE e.attempts + 1 END
WHERE e.state = 'processing' AND (e.lease_until <= excluded.updated_at OR e.owner = excluded.owner)
RETURNING attempts`

	// txClaimSQL records an event as done in the transaction that runs its
	// callback: a new event, or one whose lease-path claim ended. On
	// PostgreSQL a concurrent transaction inserting the same event waits
	// for this one to end.
	txClaimSQL = `INSERT INTO {table} AS e (event_id, event_type, state, owner, lease_until, attempts, created_at, updated_at, done_at)
VALUES ({id}, {type}, 'done', {owner}, {now}, 1, {now}, {now}, {now})
ON CONFLICT (event_id) DO UPDATE
SET state = 'done', owner = excluded.owner, lease_until = excluded.lease_until, attempts = e.attempts + 1,
	updated_at = excluded.updated_at, done_at = excluded.done_at
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
	s.txClaim = s.render(txClaimSQL, table)
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
			if s.dbClock {
				return s.nowSQL()
			}
			return arg(pNow)
		case "{expires}":
			switch {
			case !s.dbClock:
				return arg(pExpires)
			case s.dialect == Postgres:
				return "(now() + " + arg(pLease) + "::double precision * interval '1 second')"
			default:
				return "(" + s.nowSQL() + " + " + arg(pLease) + ")"
			}
		}
		panic("sqlstore: unknown placeholder " + m)
	})
	return st
}

// sqliteNow is SQLite's current time in INTEGER nanoseconds since the Unix
// epoch, to the millisecond: julianday('now') is the same for every use in
// one statement, and exists in every SQLite version.
const sqliteNow = "(CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER) * 1000000)"

// nowSQL is the database's current time, in the type of the time columns.
func (s *Store) nowSQL() string {
	if s.dialect == Postgres {
		return "now()"
	}
	return sqliteNow
}

// args returns a statement's arguments for the store's dialect: SQLite
// takes times and durations as INTEGER nanoseconds, PostgreSQL a duration
// as seconds.
func (s *Store) args(st stmt, v *values) []any {
	a := st.args(v)
	for i, x := range a {
		switch x := x.(type) {
		case time.Time:
			if s.dialect == SQLite {
				a[i] = unixNanos(x)
			}
		case time.Duration:
			if s.dialect == SQLite {
				a[i] = int64(x)
			} else {
				a[i] = x.Seconds()
			}
		}
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

// Nanosecond times SQLite can hold: time.Time.UnixNano is undefined beyond
// them, so times outside are clamped, and a purge "before 2300" still
// purges everything.
var (
	minNanos = time.Unix(0, math.MinInt64)
	maxNanos = time.Unix(0, math.MaxInt64)
)

// unixNanos is t as SQLite's INTEGER nanoseconds, clamped to what fits.
func unixNanos(t time.Time) int64 {
	switch {
	case t.Before(minNanos):
		return math.MinInt64
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return t.UnixNano()
}
