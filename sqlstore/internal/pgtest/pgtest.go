// Package pgtest starts throwaway PostgreSQL servers from the PostgreSQL
// server binaries (Debian package postgresql) for sqlstore's tests and its
// chaos test: a cluster in a temporary directory, listening on a Unix
// socket only, that can be crashed (pg_ctl stop -m immediate) and started
// again on the same data and port.
package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// ErrUnsupported: this system cannot start a throwaway server.
var ErrUnsupported = errors.New("the tests start a throwaway PostgreSQL on Linux only: set PGURL to a server's URL")

// FindBin returns the directory holding initdb, postgres and pg_ctl, or "":
// that of the initdb in PATH (symbolic links resolved), else Debian's
// newest /usr/lib/postgresql/*/bin.
func FindBin() string {
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres", "pg_ctl"} {
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

// waitReady waits until the server at dsn accepts connections, or exited
// is closed.
func waitReady(dsn string, exited <-chan struct{}, timeout time.Duration) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("postgres exited while starting")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within %s: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last lines of a log.
func tail(b []byte) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
