package shop

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/b27de697/stripegateway"
)

// The admin's "Recover missed events" button, on the Orders page. It asks
// Stripe's Events API for the events of the last days (RecoverEvents) and
// runs those the webhook route never processed (the store was down longer
// than Stripe's three days of retries, the endpoint was disabled or
// misconfigured) through the very callbacks the webhook route uses, so
// that an order gets the same idempotent update whichever way its event
// arrived. An event processed already is skipped, and applyOutcome ignores
// an event an order has recorded, so pressing it again changes nothing.
// On the transactional path (-db) each recovered event goes through
// sqlstore's ProcessTx with the webhook route's TxHandlers: the order's
// change and the event's record commit together, and an event the
// webhook route (or an earlier run) committed does not run again, nor
// count as recovered.
// The run goes on in the background; the page shows its progress and
// refreshes itself until it ends.

// DefaultRecoverDays is how far back the button looks unless the admin
// chooses otherwise: Stripe's retry window, and how long the SQLite store
// keeps processed events.
const DefaultRecoverDays = 3

// recoverDays are the choices offered; Stripe keeps events for 30 days.
var recoverDays = []int{1, 3, 7, 30}

const (
	// recoverTimeout bounds one run.
	recoverTimeout = 10 * time.Minute
	// recoverWait is how long the button's request waits for the run to
	// end before showing its progress instead of its result.
	recoverWait = 5 * time.Second
	// recoverRefresh is how often the Orders page refreshes during a run.
	recoverRefresh = 2
)

// recoveryRun is one run of the button, as the Orders page shows it.
type recoveryRun struct {
	Running   bool
	Days      int
	Since     time.Time
	Started   time.Time
	Finished  time.Time
	Seen      int       // events listed so far
	Recovered int       // of those, the missed ones whose callback ran
	Last      time.Time // creation time of the last event seen
	Err       string
}

// recovery is the App's last run and its goroutine.
type recovery struct {
	mu     sync.Mutex
	run    *recoveryRun
	done   chan struct{} // closed when the running run ends
	cancel context.CancelFunc
	closed bool
	wg     sync.WaitGroup
}

// lastRecovery returns a copy of the last run, nil if none.
func (a *App) lastRecovery() *recoveryRun {
	a.recovery.mu.Lock()
	defer a.recovery.mu.Unlock()
	if a.recovery.run == nil {
		return nil
	}
	c := *a.recovery.run
	return &c
}

// RecoverMissedEvents runs the live Gateway's RecoverEvents for the events
// of the last days, with the webhook route's callbacks, in the background,
// unless a run is going on. It returns a channel closed when the run (the
// new one, or the one going on) ends.
func (a *App) RecoverMissedEvents(days int) <-chan struct{} {
	rc := &a.recovery
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.run != nil && rc.run.Running {
		return rc.done
	}
	done := make(chan struct{})
	if rc.closed {
		close(done)
		return done
	}
	st := a.current.Load()
	now := a.now()
	run := &recoveryRun{Running: true, Days: days, Since: now.Add(-time.Duration(days) * 24 * time.Hour), Started: now}
	ctx, cancel := context.WithTimeout(context.Background(), recoverTimeout)
	rc.run, rc.done, rc.cancel = run, done, cancel
	rc.wg.Add(1)
	a.logger.Info("storefront: recovering missed webhook events", "since", run.Since, "days", days, "gateway_version", st.version)
	go func() {
		defer rc.wg.Done()
		defer close(done)
		defer cancel()
		h := st.handlers
		counted := a.tx != nil // recovered is ran, not RecoverEvents' count
		var ran atomic.Int64
		if counted {
			// The gateway's own event store (in memory) does not know
			// what the webhook route committed: ProcessTx does, and
			// says whether the callback ran.
			h = stripegateway.Handlers{Default: func(ctx context.Context, o *stripegateway.Outcome) error {
				ok, err := a.tx.events.ProcessTx(ctx, o, a.tx.handlers)
				if ok {
					ran.Add(1)
				}
				// An error (ErrBusy: a lease-path delivery holds the
				// event) fails the event, which the next run retries.
				return err
			}}
		}
		n, err := st.gw.RecoverEvents(ctx, run.Since, h, func(seen, recovered int, last time.Time) {
			if counted {
				recovered = int(ran.Load())
			}
			rc.mu.Lock()
			run.Seen, run.Recovered, run.Last = seen, recovered, last
			rc.mu.Unlock()
		})
		if counted {
			n = int(ran.Load())
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		run.Running, run.Recovered, run.Finished = false, n, a.now()
		if err != nil {
			run.Err = err.Error()
			a.logger.Error("storefront: recovering missed webhook events failed", "recovered", n, "seen", run.Seen, "error", err)
		}
	}()
	return done
}

// Close stops a recovery run going on and waits for it; afterwards the
// button starts none.
func (a *App) Close() {
	rc := &a.recovery
	rc.mu.Lock()
	rc.closed = true
	if rc.cancel != nil {
		rc.cancel()
	}
	rc.mu.Unlock()
	rc.wg.Wait()
}

// handleRecover is the button: POST /admin/recover with days (behind the
// admin login and its CSRF token). It starts a run, waits a little for it
// to end, and shows the Orders page.
func (a *App) handleRecover(w http.ResponseWriter, r *http.Request, _ *adminSession) {
	days := DefaultRecoverDays
	if v := r.PostForm.Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !validRecoverDays(n) {
			a.renderError(w, r, http.StatusBadRequest, "Invalid period", "Choose 1, 3, 7 or 30 days.")
			return
		}
		days = n
	}
	done := a.RecoverMissedEvents(days)
	t := time.NewTimer(recoverWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-r.Context().Done():
	}
	http.Redirect(w, r, "/admin/orders#recover", http.StatusSeeOther)
}

func validRecoverDays(n int) bool {
	for _, d := range recoverDays {
		if d == n {
			return true
		}
	}
	return false
}

// recoverView is the Orders page's recovery panel.
type recoverView struct {
	Run     *recoveryRun
	Days    []int
	Default int
}
