package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Server is a throwaway PostgreSQL server in a temporary directory,
// listening on a Unix socket only. Its methods are safe for concurrent use.
type Server struct {
	// DSN is the server's data source name, for the pgx driver. It stays
	// valid across Crash and Restart.
	DSN string

	bin, dir, data string
	port           int
	env            []string
	cred           *syscall.Credential // the postgres user's, when run as root

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the running postmaster has exited
}

// Start initialises a cluster with bin's initdb and starts bin's postgres
// on it. initdb, postgres and pg_ctl refuse to run as root: as root, they
// run as the postgres system user.
func Start(bin string) (*Server, error) {
	base := os.TempDir()
	if len(base) > 40 { // a Unix socket's path is limited to about 100 bytes
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "sqlstore-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, data: filepath.Join(dir, "data")}
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(dir)
		}
	}()

	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("the tests run as root, which initdb refuses, and there is no postgres system user to run it as (the Debian package postgresql creates it): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	s.env = append(os.Environ(), "LC_ALL=C", "LANG=C", "HOME="+dir)

	initdb := s.command("initdb", "-D", s.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, tail(out))
	}
	if s.port, err = freePort(); err != nil {
		return nil, err
	}
	s.DSN = fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", dir, s.port)
	if err := s.Restart(); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// command returns bin's program name with args, run in the server's
// directory as the server's user.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir, cmd.Env = s.dir, s.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	return cmd
}

// Restart starts the server's postmaster on its data and port, which
// recovers from a Crash, and waits until it accepts connections. It does
// nothing if the server runs.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		select {
		case <-s.done:
		default:
			return nil // running
		}
	}
	logPath := filepath.Join(s.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// fsync=off and full_page_writes=off lose data only if the machine
	// crashes. synchronous_commit stays on: with it off, a commit that
	// was acknowledged could be lost when the server is killed (Crash).
	cmd := s.command("postgres", "-D", s.data, "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=", "-c", "max_connections=200", "-c", "fsync=off",
		"-c", "full_page_writes=off", "-c", "log_min_messages=warning")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// SIGQUIT: an immediate shutdown if this process dies.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	if err := waitReady(s.DSN, done, 60*time.Second); err != nil {
		s.stopLocked()
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("%w\n%s", err, tail(log))
	}
	return nil
}

// Crash stops the server as a power cut would, with
// pg_ctl stop -m immediate: every backend is killed at once, with no
// checkpoint, and the next start recovers from the write-ahead log.
func (s *Server) Crash() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if out, err := s.command("pg_ctl", "stop", "-D", s.data, "-m", "immediate", "-w", "-t", "30").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop -m immediate: %w\n%s", err, tail(out))
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("postgres still runs 30 s after pg_ctl stop -m immediate")
	}
}

// Stop shuts the server down and removes its directory.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
	_ = os.RemoveAll(s.dir)
}

func (s *Server) stopLocked() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}
