package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver
)

// The tests run against a real PostgreSQL server: the one at PGURL or
// DATABASE_URL if set, or else a throwaway server started from the
// PostgreSQL binaries (Debian package postgresql) on first use and stopped
// after the tests.

// TestMain stops the throwaway PostgreSQL server after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if pg.srv != nil {
		pg.srv.stop()
	}
	os.Exit(code)
}

// errPGUnsupported: this system cannot start a throwaway server.
var errPGUnsupported = errors.New("the tests start a throwaway PostgreSQL on Linux only: set PGURL to a server's URL")

var pg struct {
	once sync.Once
	dsn  string
	skip string // why PostgreSQL is not available
	err  error  // why starting it failed
	srv  *pgServer
}

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
		bin := findPGBin()
		if bin == "" {
			pg.skip = "no PostgreSQL server binaries (initdb, postgres) in PATH or /usr/lib/postgresql/*/bin: install the Debian package postgresql (apt-get install -y postgresql), or set PGURL to a server's URL"
			return
		}
		pg.srv, pg.err = startPG(bin)
		switch {
		case errors.Is(pg.err, errPGUnsupported):
			pg.skip, pg.err = pg.err.Error(), nil
		case pg.err == nil:
			pg.dsn = pg.srv.dsn
		}
	})
	switch {
	case pg.skip != "" && os.Getenv("CI") == "true":
		t.Fatalf("PostgreSQL is required under CI=true: %s", pg.skip)
	case pg.skip != "":
		t.Skip(pg.skip)
	case pg.err != nil:
		t.Fatalf("starting PostgreSQL: %v", pg.err)
	}
	return pg.dsn
}

// findPGBin returns the directory holding initdb and postgres, or "".
func findPGBin() string {
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	// Debian puts the binaries in a versioned directory: prefer the newest.
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, p := range filepath.SplitList(os.Getenv("PATH")) {
		if p == "" {
			continue
		}
		if real, err := filepath.EvalSymlinks(filepath.Join(p, "initdb")); err == nil {
			dirs = append([]string{filepath.Dir(real)}, dirs...)
			break
		}
	}
	for _, d := range dirs {
		if has(d) {
			return d
		}
	}
	return ""
}

func versionOf(binDir string) int {
	var v int
	_, _ = fmt.Sscanf(filepath.Base(filepath.Dir(binDir)), "%d", &v)
	return v
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
