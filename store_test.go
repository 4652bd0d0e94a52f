package stripegateway

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func claimAt(id, owner string, now time.Time, lease time.Duration) EventClaim {
	return EventClaim{EventID: id, EventType: "checkout.session.completed", Owner: owner, Now: now, Expires: now.Add(lease)}
}

func TestMemoryEventStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	s := new(MemoryEventStore)
	t0 := testNow
	a := claimAt("evt_1", "a", t0, time.Minute)

	st, err := s.Claim(ctx, a)
	require.NoError(t, err)
	assert.Equal(t, ClaimAcquired, st)

	st, err = s.Claim(ctx, claimAt("evt_1", "b", t0.Add(time.Second), time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimBusy, st, "claimed by a")

	st, err = s.Claim(ctx, claimAt("evt_2", "b", t0, time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimAcquired, st, "another event is independent")

	a.Now = t0.Add(2 * time.Second)
	require.NoError(t, s.Complete(ctx, a))
	st, err = s.Claim(ctx, claimAt("evt_1", "c", t0.Add(3*time.Second), time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimCompleted, st)

	assert.ErrorIs(t, s.Complete(ctx, a), ErrClaimLost, "completing twice")
	assert.ErrorIs(t, s.Release(ctx, a, "x"), ErrClaimLost, "releasing a completed event")
	assert.Equal(t, 2, s.len())
}

func TestMemoryEventStoreRelease(t *testing.T) {
	ctx := context.Background()
	s := new(MemoryEventStore)
	a := claimAt("evt_1", "a", testNow, time.Minute)
	_, err := s.Claim(ctx, a)
	require.NoError(t, err)

	assert.ErrorIs(t, s.Release(ctx, claimAt("evt_1", "intruder", testNow, time.Minute), "x"), ErrClaimLost)
	require.NoError(t, s.Release(ctx, a, "callback failed"))
	assert.Equal(t, 0, s.len())
	assert.ErrorIs(t, s.Release(ctx, a, "again"), ErrClaimLost)

	st, err := s.Claim(ctx, claimAt("evt_1", "b", testNow, time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimAcquired, st, "a released event is claimed again")
}

func TestMemoryEventStoreLeaseExpiry(t *testing.T) {
	ctx := context.Background()
	s := new(MemoryEventStore)
	a := claimAt("evt_1", "a", testNow, time.Minute)
	_, err := s.Claim(ctx, a)
	require.NoError(t, err)

	st, err := s.Claim(ctx, claimAt("evt_1", "b", testNow.Add(59*time.Second), time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimBusy, st)

	// a "crashed": after the lease, b takes over.
	b := claimAt("evt_1", "b", testNow.Add(time.Minute), time.Minute)
	st, err = s.Claim(ctx, b)
	require.NoError(t, err)
	assert.Equal(t, ClaimAcquired, st)

	// a wakes up: it can neither complete nor release b's claim.
	a.Now = testNow.Add(61 * time.Second)
	assert.ErrorIs(t, s.Complete(ctx, a), ErrClaimLost)
	assert.ErrorIs(t, s.Release(ctx, a, "late"), ErrClaimLost)
	require.NoError(t, s.Complete(ctx, b))
}

func TestMemoryEventStoreRetention(t *testing.T) {
	ctx := context.Background()
	s := &MemoryEventStore{MaxEntries: 0, Retention: time.Hour}
	a := claimAt("evt_1", "a", testNow, time.Minute)
	_, err := s.Claim(ctx, a)
	require.NoError(t, err)
	require.NoError(t, s.Complete(ctx, a))

	st, err := s.Claim(ctx, claimAt("evt_1", "b", testNow.Add(time.Hour), time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimCompleted, st, "within the retention")

	st, err = s.Claim(ctx, claimAt("evt_2", "b", testNow.Add(time.Hour+time.Second), time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimAcquired, st)
	assert.Equal(t, 1, s.len(), "evt_1 was forgotten after the retention")
}

func TestMemoryEventStoreBounded(t *testing.T) {
	ctx := context.Background()
	s := &MemoryEventStore{MaxEntries: 3, Retention: 0}
	now := testNow
	for i := 1; i <= 3; i++ {
		c := claimAt(fmt.Sprintf("evt_%d", i), "o", now, time.Minute)
		_, err := s.Claim(ctx, c)
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, c))
		now = now.Add(time.Second)
	}
	// Full of processed events: the oldest (evt_1) goes first.
	st, err := s.Claim(ctx, claimAt("evt_4", "o", now, time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimAcquired, st)
	assert.Equal(t, 3, s.len())
	st, err = s.Claim(ctx, claimAt("evt_2", "o", now, time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimCompleted, st, "evt_2 is still remembered")

	// Fill it with events in progress.
	full := &MemoryEventStore{MaxEntries: 2, Retention: 0}
	for i := 1; i <= 2; i++ {
		_, err := full.Claim(ctx, claimAt(fmt.Sprintf("evt_%d", i), "o", testNow, time.Minute))
		require.NoError(t, err)
	}
	_, err = full.Claim(ctx, claimAt("evt_3", "o", testNow.Add(time.Second), time.Minute))
	assert.ErrorIs(t, err, ErrEventStoreFull)
	// Once a lease has expired, its entry makes room.
	st, err = full.Claim(ctx, claimAt("evt_3", "o", testNow.Add(time.Minute), time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimAcquired, st)
	assert.Equal(t, 2, full.len())
}

// TestMemoryEventStoreZeroValue: the zero value is a usable store with the
// default bounds, and its methods never block, so a done context does not
// matter to them.
func TestMemoryEventStoreZeroValue(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var s MemoryEventStore
	c := claimAt("evt_1", "o", testNow, time.Minute)
	st, err := s.Claim(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, ClaimAcquired, st)
	require.NoError(t, s.Complete(ctx, c))
	st, err = s.Claim(ctx, claimAt("evt_1", "other", testNow.Add(71*time.Hour), time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimCompleted, st, "remembered for the default 72 hours")
	st, err = s.Claim(ctx, claimAt("evt_1", "other", testNow.Add(73*time.Hour), time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimAcquired, st, "forgotten after the default 72 hours")
	maxEntries, _ := s.bounds()
	assert.Equal(t, 100_000, maxEntries)
}

func TestMemoryEventStoreConcurrentClaims(t *testing.T) {
	ctx := context.Background()
	s := new(MemoryEventStore)
	var acquired, busy atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := s.Claim(ctx, claimAt("evt_same", newOwnerToken(), testNow, time.Minute))
			assert.NoError(t, err)
			switch st {
			case ClaimAcquired:
				acquired.Add(1)
			case ClaimBusy:
				busy.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), acquired.Load())
	assert.Equal(t, int32(99), busy.Load())
}

// TestMemoryEventStoreFootprint checks the documented size of an entry
// (about 200 bytes) with a wide margin.
func TestMemoryEventStoreFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates")
	}
	const n = 20000
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("evt_1OCz%020d", i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := &MemoryEventStore{MaxEntries: n, Retention: 0}
	for _, id := range ids {
		c := claimAt(id, newOwnerToken(), testNow, time.Minute)
		_, err := s.Claim(ctx, c)
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, c))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("in-memory event store: %.0f bytes per entry", perEntry)
	assert.Less(t, perEntry, 400.0)
	runtime.KeepAlive(s)
}

// TestMemoryEventStoreLogsEvictions: a processed event dropped to stay
// within the bound is logged, since a redelivery of it would run its
// callback again; an expired in-flight claim is dropped before the store
// reports itself full, earliest lease first.
func TestMemoryEventStoreLogsEvictions(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	s := &MemoryEventStore{MaxEntries: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx := context.Background()
	a := claimAt("evt_a", "o", testNow, time.Minute)
	_, err := s.Claim(ctx, a)
	require.NoError(t, err)
	require.NoError(t, s.Complete(ctx, a))
	_, err = s.Claim(ctx, claimAt("evt_b", "o", testNow, 2*time.Minute))
	require.NoError(t, err)
	st, err := s.Claim(ctx, claimAt("evt_c", "o", testNow, time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimAcquired, st)
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "evt_a")

	// Full of running claims: refused until the earliest lease ends.
	_, err = s.Claim(ctx, claimAt("evt_d", "o", testNow.Add(30*time.Second), time.Minute))
	require.ErrorIs(t, err, ErrEventStoreFull)
	st, err = s.Claim(ctx, claimAt("evt_d", "o", testNow.Add(61*time.Second), time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimAcquired, st)
	// evt_c's claim ended first and was dropped: it is new again, and the
	// store, with evt_b and evt_d running, is full until evt_b's lease ends.
	_, err = s.Claim(ctx, claimAt("evt_c", "other", testNow.Add(61*time.Second), time.Minute))
	require.ErrorIs(t, err, ErrEventStoreFull)
	st, err = s.Claim(ctx, claimAt("evt_c", "other", testNow.Add(120500*time.Millisecond), time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimAcquired, st)
	st, err = s.Claim(ctx, claimAt("evt_d", "other", testNow.Add(120500*time.Millisecond), time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimBusy, st, "evt_d still runs")
}

// TestMemoryEventStoreRenewal: a Claim by the owner renews its claim; by
// anyone else it is busy until the renewed lease ends.
func TestMemoryEventStoreRenewal(t *testing.T) {
	t.Parallel()
	var s MemoryEventStore
	ctx := context.Background()
	_, err := s.Claim(ctx, claimAt("evt_1", "owner", testNow, time.Minute))
	require.NoError(t, err)
	st, err := s.Claim(ctx, claimAt("evt_1", "owner", testNow.Add(50*time.Second), time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimAcquired, st, "renewed")
	st, err = s.Claim(ctx, claimAt("evt_1", "other", testNow.Add(90*time.Second), time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimBusy, st, "the renewed lease runs to 110 s")
	st, err = s.Claim(ctx, claimAt("evt_1", "other", testNow.Add(111*time.Second), time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ClaimAcquired, st, "taken over once the renewed lease ended")
	assert.ErrorIs(t, s.Complete(ctx, claimAt("evt_1", "owner", testNow.Add(112*time.Second), time.Minute)), ErrClaimLost)
}
