package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver

	"github.com/b27de697/stripegateway/internal/skipnote"
	"github.com/b27de697/stripegateway/sqlstore/internal/pgtest"
)

// The tests run against a real PostgreSQL server: the one at PGURL or
// DATABASE_URL if set, or else a throwaway server started from the
// PostgreSQL binaries (Debian package postgresql) on first use and stopped
// after the tests.

// TestMain stops the throwaway PostgreSQL server after the tests and, if
// tests skipped for want of PostgreSQL, says so in go test's default output
// (skipnote), which otherwise shows a plain "ok".
func TestMain(m *testing.M) {
	code := m.Run()
	if pg.srv != nil {
		pg.srv.Stop()
	}
	if code == 0 {
		skipnote.Report(&skips)
	}
	os.Exit(code)
}

// skips records the tests skipped for want of PostgreSQL.
var skips skipnote.Notes

var pg struct {
	once sync.Once
	dsn  string
	skip string // why PostgreSQL is not available
	err  error  // why starting it failed
	srv  *pgtest.Server
}

// pgSkipReason is why the tests cannot start a PostgreSQL server.
const pgSkipReason = "no PostgreSQL server binaries (initdb, postgres, pg_ctl) in PATH or /usr/lib/postgresql/*/bin: install the Debian package postgresql (apt-get install -y postgresql), or set PGURL to a server's URL"

// pgDSN returns the data source name of the PostgreSQL server for the
// tests, starting one if need be. Without PostgreSQL binaries it skips the
// test, or fails it when CI=true.
func pgDSN(t testing.TB) string {
	t.Helper()
	pg.once.Do(func() {
		for _, env := range []string{"PGURL", "DATABASE_URL"} {
			if v := os.Getenv(env); v != "" {
				pg.dsn = v
				return
			}
		}
		pg.srv, pg.skip, pg.err = startPG()
		if pg.srv != nil {
			pg.dsn = pg.srv.DSN
		}
	})
	skipOrFail(t, pg.skip, pg.err)
	return pg.dsn
}

// startPG starts a throwaway PostgreSQL server, or says why it cannot
// (skip) or why it failed (err).
func startPG() (srv *pgtest.Server, skip string, err error) {
	bin := pgtest.FindBin()
	if bin == "" {
		return nil, pgSkipReason, nil
	}
	srv, err = pgtest.Start(bin)
	if errors.Is(err, pgtest.ErrUnsupported) {
		return nil, err.Error(), nil
	}
	return srv, "", err
}

// skipOrFail skips the test if skip says why PostgreSQL is missing (or
// fails it under CI=true, where it is required), and fails it if starting
// PostgreSQL failed.
func skipOrFail(t testing.TB, skip string, err error) {
	t.Helper()
	switch {
	case skip != "" && os.Getenv("CI") == "true":
		t.Fatalf("PostgreSQL is required under CI=true: %s", skip)
	case skip != "":
		skips.Skip(t, skip)
	case err != nil:
		t.Fatalf("starting PostgreSQL: %v", err)
	}
}

// openPG opens the test server's database with pgx's database/sql driver.
func openPG(t testing.TB) *sql.DB { return openDSN(t, "pgx", pgDSN(t)) }

// openSQLite opens a new SQLite database in a temporary directory.
func openSQLite(t testing.TB) *sql.DB { return openDSN(t, "sqlite", sqliteDSN(t)) }

// sqliteDSN returns the data source name of a new SQLite database in a
// temporary directory, in WAL mode with a busy timeout.
func sqliteDSN(t testing.TB) string {
	path := filepath.Join(t.TempDir(), "events.db")
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
}

// openDSN opens a database that is closed after the test.
func openDSN(t testing.TB, driverName, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if driverName == "sqlite" {
		// One writer at a time: SQLite's busy handler backs off by
		// milliseconds, so a pool of writers mostly waits.
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(16)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// uniqueTable returns a new table name and drops the table after the test.
func uniqueTable(t testing.TB, db *sql.DB) string {
	t.Helper()
	name := uniqueName("events_")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = db.ExecContext(ctx, `DROP TABLE IF EXISTS "`+name+`"`)
	})
	return name
}

// uniqueName returns prefix and random letters.
func uniqueName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
