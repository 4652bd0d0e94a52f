package sqlstore_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/b27de697/stripegateway/sqlstore/internal/pgtest"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// Chaos test parameters.
const (
	chaosEvents     = 1000
	chaosDuplicates = 100 // events delivered twice at once, to both replicas
	chaosWorkers    = 16  // deliveries in flight
	// chaosDeadline bounds the deliveries; the test takes about 30 s.
	chaosDeadline = 100 * time.Second
)

// TestChaos: two replica processes share one PostgreSQL database and serve
// the transactional webhook handler; 1,000 signed events, 10% of them
// delivered twice at the same moment, go to both replicas, retried until
// answered 200 as Stripe would; meanwhile PostgreSQL is stopped with
// pg_ctl stop -m immediate and started again, twice, and one replica is
// killed with SIGKILL in the middle of a callback, and started again. The
// host's table must hold every event's effect exactly once.
//
// It starts its own PostgreSQL server (about 10 s in all), and prints its
// counts with -v, as .ci/run shows them:
//
//	go test -race -run '^TestChaos$' -v ./sqlstore/
func TestChaos(t *testing.T) {
	start := time.Now()
	srv, skip, err := startPG()
	skipOrFail(t, skip, err)
	t.Cleanup(srv.Stop)
	bin := buildReplica(t)
	t.Logf("postgres started and replica built in %s", time.Since(start).Round(100*time.Millisecond))

	replicas := []*replicaProc{newReplicaProc(t, bin, "a", srv.DSN), newReplicaProc(t, bin, "b", srv.DSN)}
	for _, r := range replicas {
		require.NoError(t, r.start())
		t.Cleanup(r.kill)
	}

	// The plan: each event once, and chaosDuplicates of them twice at once.
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	type job struct {
		id      string
		payload []byte
		copies  int
	}
	jobs := make([]job, chaosEvents)
	for i := range jobs {
		id, payload := newEvent(i, "chaos_")
		jobs[i] = job{id, payload, 1}
	}
	for _, i := range rng.Perm(chaosEvents)[:chaosDuplicates] {
		jobs[i].copies = 2
	}

	ctx, cancel := context.WithTimeout(context.Background(), chaosDeadline)
	defer cancel()
	st := &chaosStats{}
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 2 * chaosWorkers, DisableCompression: true},
	}
	var turn atomic.Uint64
	// deliver sends payload until a 200, starting with the next replica in
	// turn and moving to the other after each failure, backing off from
	// 20 ms to 500 ms.
	deliver := func(payload []byte) bool {
		r := int(turn.Add(1))
		wait := 20 * time.Millisecond
		for ctx.Err() == nil {
			status, body, err := replicas[r%2].post(ctx, client, payload)
			st.attempts.Add(1)
			switch {
			case err != nil:
				st.transport.Add(1)
			case status == http.StatusOK && body == "ok\n":
				st.ok.Add(1)
				return true
			case status == http.StatusOK:
				st.duplicate.Add(1)
				return true
			default:
				st.count(status)
			}
			r++
			select {
			case <-ctx.Done():
			case <-time.After(wait/2 + time.Duration(rand.Int64N(int64(wait)))):
			}
			wait = min(2*wait, 500*time.Millisecond)
		}
		return false
	}

	// Chaos, at set points of the progress, while deliveries are in flight.
	var done atomic.Int32
	progress := make(chan struct{}, chaosEvents)
	chaosDone := make(chan error, 1)
	go func() {
		chaosDone <- runChaos(ctx, t, st, srv, replicas[1], &done, progress)
	}()

	work := make(chan job)
	var wg sync.WaitGroup
	for range chaosWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				var copies sync.WaitGroup
				for range j.copies {
					copies.Add(1)
					go func() {
						defer copies.Done()
						if !deliver(j.payload) {
							t.Errorf("%s: no 200 before the deadline", j.id)
						}
					}()
				}
				copies.Wait()
				done.Add(1)
				progress <- struct{}{}
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	require.NoError(t, <-chaosDone)
	elapsed := time.Since(start)

	// The host's table: every event's effect once.
	db := openDSN(t, "pgx", srv.DSN)
	effects := map[string]int{}
	rows, err := db.Query(`SELECT event_id, count(*) FROM chaos_effects GROUP BY event_id`)
	require.NoError(t, err)
	for rows.Next() {
		var id string
		var n int
		require.NoError(t, rows.Scan(&id, &n))
		effects[id] = n
	}
	require.NoError(t, rows.Err())
	var lost, doubled, once int
	for _, j := range jobs {
		switch n := effects[j.id]; {
		case n == 0:
			lost++
		case n > 1:
			doubled++
			t.Errorf("%s: effect applied %d times", j.id, n)
		default:
			once++
		}
		delete(effects, j.id)
	}
	assert.Empty(t, effects, "effects of events never sent")
	var recorded int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM stripegateway_events WHERE state = 'done'`).Scan(&recorded))

	deliveries := chaosEvents + chaosDuplicates
	runs := replicas[0].runs.Load() + replicas[1].runs.Load()
	t.Logf("chaos (seed %d, race %v): %d events, %d deliveries (%d duplicates sent at once to both replicas) in %s",
		seed, raceEnabled, chaosEvents, deliveries, chaosDuplicates, elapsed.Round(100*time.Millisecond))
	t.Logf("chaos: postgres stopped with -m immediate and restarted %d times; replica b killed with SIGKILL and restarted %d time(s)",
		st.crashes.Load(), st.kills.Load())
	t.Logf("chaos: %d HTTP attempts: %d ok, %d ok already processed, %d answered 503, %d answered 500, %d answered 409, %d other, %d transport errors",
		st.attempts.Load(), st.ok.Load(), st.duplicate.Load(), st.s503.Load(), st.s500.Load(), st.s409.Load(), st.other.Load(), st.transport.Load())
	t.Logf("chaos: callbacks started %d times, %d rolled back by the crashes; store rows done: %d", runs, runs-int64(once+doubled), recorded)
	t.Logf("chaos: effects in the host's table: %d events exactly once, %d lost, %d doubled", once, lost, doubled)

	assert.Zero(t, lost, "events without an effect")
	assert.Zero(t, doubled, "events with more than one effect")
	assert.Equal(t, chaosEvents, once)
	assert.Equal(t, chaosEvents, recorded)
	assert.EqualValues(t, deliveries, st.ok.Load()+st.duplicate.Load(), "every delivery answered 200 at last")
	assert.EqualValues(t, 2, st.crashes.Load())
	assert.EqualValues(t, 1, st.kills.Load())
	assert.Zero(t, st.other.Load(), "answers other than 200, 409, 500 and 503")
	for _, r := range replicas {
		assert.False(t, r.raced(), "the race detector found a race in replica %s", r.name)
	}
	if t.Failed() {
		for _, r := range replicas {
			t.Logf("replica %s's log:\n%s", r.name, r.logTail())
		}
	}
}

// chaosStats counts what happened.
type chaosStats struct {
	attempts, ok, duplicate, s409, s500, s503, other, transport atomic.Int64
	crashes, kills                                              atomic.Int64
}

func (s *chaosStats) count(status int) {
	switch status {
	case http.StatusConflict:
		s.s409.Add(1)
	case http.StatusInternalServerError:
		s.s500.Add(1)
	case http.StatusServiceUnavailable:
		s.s503.Add(1)
	default:
		s.other.Add(1)
	}
}

// runChaos crashes PostgreSQL when a fifth and when 70% of the events are
// processed, and kills replica victim as one of its callbacks starts at
// 45%, starting each again.
func runChaos(ctx context.Context, t *testing.T, st *chaosStats, srv *pgtest.Server, victim *replicaProc, done *atomic.Int32, progress <-chan struct{}) error {
	waitFor := func(n int32) error {
		for done.Load() < n {
			select {
			case <-ctx.Done():
				return fmt.Errorf("chaos: the deliveries stalled at %d of %d events", done.Load(), chaosEvents)
			case <-progress:
			}
		}
		return nil
	}
	crash := func(at int32) error {
		if err := waitFor(at); err != nil {
			return err
		}
		t.Logf("chaos: %d events processed: pg_ctl stop -m immediate", done.Load())
		if err := srv.Crash(); err != nil {
			return err
		}
		st.crashes.Add(1)
		time.Sleep(700 * time.Millisecond) // deliveries fail meanwhile
		began := time.Now()
		if err := srv.Restart(); err != nil {
			return err
		}
		t.Logf("chaos: postgres started again, accepting connections after %s", time.Since(began).Round(10*time.Millisecond))
		return nil
	}

	if err := crash(chaosEvents / 5); err != nil {
		return err
	}
	if err := waitFor(chaosEvents * 45 / 100); err != nil {
		return err
	}
	// Kill the victim just as a callback starts: inside its transaction,
	// after the effect's INSERT or about to make it.
	select {
	case <-victim.ran: // a stale signal
	default:
	}
	why := "as a callback started"
	select {
	case <-victim.ran:
	case <-time.After(5 * time.Second):
		why = "(no callback started within 5 s)"
	}
	victim.kill()
	st.kills.Add(1)
	t.Logf("chaos: %d events processed: replica %s killed with SIGKILL %s", done.Load(), victim.name, why)
	time.Sleep(300 * time.Millisecond)
	if err := victim.start(); err != nil {
		return err
	}
	t.Logf("chaos: replica %s started again", victim.name)
	return crash(chaosEvents * 7 / 10)
}

// buildReplica builds the replica program (internal/chaosreplica), with
// the race detector if the tests run with it, and returns its path.
func buildReplica(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chaosreplica")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "github.com/b27de697/stripegateway/sqlstore/internal/chaosreplica")...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// replicaProc is a replica's OS process, started again on the same address
// after a kill.
type replicaProc struct {
	bin, name, dsn, addr, logPath string
	runs                          atomic.Int64  // callbacks started, over every run
	ran                           chan struct{} // a callback started (non-blocking sends)

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

func newReplicaProc(t *testing.T, bin, name, dsn string) *replicaProc {
	t.Helper()
	addr, err := freeAddr()
	require.NoError(t, err)
	return &replicaProc{bin: bin, name: name, dsn: dsn, addr: addr, logPath: filepath.Join(t.TempDir(), name+".log"), ran: make(chan struct{}, 1)}
}

// start starts the replica and waits until it serves.
func (r *replicaProc) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	logFile, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(r.bin, "-dsn", r.dsn, "-addr", r.addr, "-name", r.name)
	cmd.Env = append(os.Environ(), "CHAOS_WEBHOOK_SECRET="+webhookSecret)
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	ready, exited := make(chan struct{}), make(chan struct{})
	r.cmd, r.exited = cmd, exited
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "run "):
				r.runs.Add(1)
				select {
				case r.ran <- struct{}{}:
				default:
				}
			case strings.HasPrefix(line, "listening "):
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
	}()
	select {
	case <-ready:
		return nil
	case <-exited:
		return fmt.Errorf("replica %s exited while starting:\n%s", r.name, r.logTail())
	case <-time.After(60 * time.Second):
		return fmt.Errorf("replica %s did not serve within 60 s:\n%s", r.name, r.logTail())
	}
}

// kill kills the replica with SIGKILL and waits until it is gone.
func (r *replicaProc) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.exited
	r.cmd = nil
}

// post delivers payload, signed now, to the replica's webhook endpoint.
func (r *replicaProc) post(ctx context.Context, client *http.Client, payload []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+r.addr+"/webhook", bytes.NewReader(payload))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Stripe-Signature", stripegatewaytest.SignatureHeader(payload, webhookSecret))
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, string(body), nil
}

// logTail returns the end of the replica's log.
func (r *replicaProc) logTail() string {
	b, _ := os.ReadFile(r.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// raced reports whether the race detector found a race in the replica.
func (r *replicaProc) raced() bool {
	b, _ := os.ReadFile(r.logPath)
	return bytes.Contains(b, []byte("WARNING: DATA RACE"))
}

// freeAddr returns a local TCP address nobody listens on.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
