package stripegateway

import (
	"container/heap"
	"container/list"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// EventStore records which webhook events have been processed, so that an
// event delivered more than once (Stripe delivers at least once, and may
// deliver the same event twice at the same moment) has its effect exactly
// once. The webhook handler uses it as follows, for each event that has a
// callback:
//
//  1. Claim. ClaimAcquired: run the callback. ClaimCompleted: answer 200
//     without running it. ClaimBusy: another delivery is running it; answer
//     409 so that Stripe retries later.
//  2. After the callback succeeded: Complete. After it failed or panicked:
//     Release, and answer 500 so that Stripe retries.
//
// A claim is held by an owner (a random token per delivery) until a lease
// expiry; an expired claim may be taken over by another delivery. A Claim
// by the owner that holds the claim renews it until the new Expires: the
// handler does so every third of the lease while the callback runs. Complete
// and Release only act for the owner that holds the claim, and return
// ErrClaimLost otherwise, so that a delivery whose lease ran out cannot undo
// a newer claim.
//
// The default is an in-memory store (MemoryEventStore), which one process
// shares among its handlers; several processes need a shared store, such as
// one on the database they already use. A SQL implementation maps each call
// to one statement:
//
//	Claim:    INSERT INTO events (id, type, state, owner, lease_until, attempts)
//	          VALUES ($id, $type, 'processing', $owner, $expires, 1)
//	          ON CONFLICT (id) DO UPDATE SET owner = $owner, lease_until = $expires,
//	                 attempts = events.attempts + 1
//	          WHERE events.state = 'processing'
//	            AND (events.lease_until < $now OR events.owner = $owner)
//	          RETURNING ... (no row returned: read the row's state to tell
//	          ClaimCompleted from ClaimBusy)
//	Complete: UPDATE events SET state = 'done', done_at = $now
//	          WHERE id = $id AND owner = $owner AND state = 'processing'
//	Release:  DELETE FROM events WHERE id = $id AND owner = $owner AND state = 'processing'
//	          (or keep the row with its last error and an expired lease)
//
// Methods are called concurrently and must be safe for that. Every method
// takes the request's context. A store error makes the handler answer 503
// (Claim) or is logged (Complete, Release): the handler never answers 200
// for an event it did not process.
type EventStore interface {
	// Claim tries to take the event for c.Owner until c.Expires.
	Claim(ctx context.Context, c EventClaim) (ClaimStatus, error)
	// Complete marks the event processed, if c.Owner holds its claim.
	Complete(ctx context.Context, c EventClaim) error
	// Release gives up the claim, if c.Owner holds it, so that a
	// redelivery processes the event. reason says why, without secrets,
	// for a store that keeps it.
	Release(ctx context.Context, c EventClaim, reason string) error
}

// EventClaim identifies one delivery's claim on an event.
type EventClaim struct {
	// EventID is the Stripe event's ID, evt_…: the key.
	EventID string
	// EventType is the event's type, for a store that keeps it.
	EventType string
	// Owner is a random token, unique to this delivery.
	Owner string
	// Now is the gateway's clock (WithClock) when the call is made. A store
	// may use its own clock instead, such as a database's now().
	Now time.Time
	// Expires is when the claim's lease ends: the Now of Claim plus the
	// lease (WithEventLease).
	Expires time.Time
}

// ClaimStatus is the result of EventStore.Claim.
type ClaimStatus int

// Results of EventStore.Claim.
const (
	// ClaimAcquired: the caller holds the claim and must Complete or
	// Release it.
	ClaimAcquired ClaimStatus = iota + 1
	// ClaimCompleted: the event has been processed already.
	ClaimCompleted
	// ClaimBusy: another delivery holds an unexpired claim on the event.
	ClaimBusy
)

// Bounds of a MemoryEventStore built with zero values.
const (
	// defaultEventStoreMaxEntries is the in-memory store's default limit:
	// 100,000 events, about 30 MB (measured at 190-280 bytes per event).
	defaultEventStoreMaxEntries = 100_000
	// defaultEventRetention is how long the in-memory store remembers a
	// processed event by default: 72 hours, the time over which Stripe
	// retries a delivery.
	defaultEventRetention = 72 * time.Hour
)

// MemoryEventStore is an EventStore in memory, for one process. It is the
// default of every Gateway (each Gateway has its own) and safe for
// concurrent use. Its zero value is an empty store with the default bounds
// (100,000 events, remembered for 72 hours). Its methods never block, so
// they ignore their context.
//
// It is bounded: it holds at most MaxEntries events, about 200 to 300 bytes
// each. A processed event is remembered for the retention period and then
// forgotten (a redelivery after that runs the callback again). When it is
// full, the oldest processed event is forgotten first, with a warning in
// Logger's log since a redelivery of it would run its callback again; an
// event being processed is only dropped once its lease has expired, and if
// every entry is such an event, Claim returns ErrEventStoreFull. No call
// looks at more than the entries it drops.
//
// Time is read from the claims (EventClaim.Now), that is from the gateway's
// clock. Its state does not survive a restart: use a shared, durable store
// for several processes.
type MemoryEventStore struct {
	// MaxEntries bounds how many events the store holds; zero or less
	// means 100,000. Set it before the store is first used.
	MaxEntries int
	// Retention is how long a processed event is remembered; zero or less
	// means 72 hours. Set it before the store is first used.
	Retention time.Duration
	// Logger receives a warning for each processed event dropped to stay
	// within MaxEntries; nil logs nothing. The default store of a Gateway
	// logs to the gateway's logger (WithLogger).
	Logger *slog.Logger

	mu      sync.Mutex
	entries map[string]*memEntry
	done    list.List // of *memEntry, the processed entries, oldest first
	running leaseHeap // the entries being processed, earliest lease end first
}

type memEntry struct {
	id      string
	owner   string        // while processing
	expires time.Time     // while processing: the lease's end
	doneAt  time.Time     // once done
	done    *list.Element // once done: its place in MemoryEventStore.done
	index   int           // while processing: its place in running
}

// leaseHeap orders the entries being processed by the end of their lease.
type leaseHeap []*memEntry

func (h leaseHeap) Len() int           { return len(h) }
func (h leaseHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h leaseHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *leaseHeap) Push(x any) {
	e := x.(*memEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *leaseHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

// newMemoryEventStore returns the default store of a Gateway, logging to
// the gateway's logger.
func newMemoryEventStore(logger *slog.Logger) *MemoryEventStore {
	return &MemoryEventStore{Logger: logger}
}

// bounds returns the store's limits, defaults applied.
func (s *MemoryEventStore) bounds() (maxEntries int, retention time.Duration) {
	maxEntries, retention = s.MaxEntries, s.Retention
	if maxEntries <= 0 {
		maxEntries = defaultEventStoreMaxEntries
	}
	if retention <= 0 {
		retention = defaultEventRetention
	}
	return maxEntries, retention
}

// Claim implements EventStore. A Claim by the owner that holds an event's
// claim renews it until c.Expires.
func (s *MemoryEventStore) Claim(_ context.Context, c EventClaim) (ClaimStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	maxEntries, retention := s.bounds()
	s.expire(c.Now, retention)
	if e, ok := s.entries[c.EventID]; ok {
		switch {
		case e.done != nil:
			return ClaimCompleted, nil
		case e.owner != c.Owner && c.Now.Before(e.expires):
			return ClaimBusy, nil
		}
		// The owner renews, or the lease ran out: the claim is c's.
		e.owner, e.expires = c.Owner, c.Expires
		heap.Fix(&s.running, e.index)
		return ClaimAcquired, nil
	}
	if s.entries == nil {
		s.entries = make(map[string]*memEntry)
	}
	if len(s.entries) >= maxEntries && !s.evict(c.Now) {
		return 0, fmt.Errorf("%w: %d events are being processed; raise MemoryEventStore.MaxEntries and pass the store to WithEventStore", ErrEventStoreFull, len(s.entries))
	}
	e := &memEntry{id: c.EventID, owner: c.Owner, expires: c.Expires}
	s.entries[c.EventID] = e
	heap.Push(&s.running, e)
	return ClaimAcquired, nil
}

// Complete implements EventStore.
func (s *MemoryEventStore) Complete(_ context.Context, c EventClaim) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[c.EventID]
	if !ok || e.done != nil || e.owner != c.Owner {
		return fmt.Errorf("%w: event %s", ErrClaimLost, c.EventID)
	}
	heap.Remove(&s.running, e.index)
	e.doneAt, e.owner = c.Now, ""
	e.done = s.done.PushBack(e)
	return nil
}

// Release implements EventStore.
func (s *MemoryEventStore) Release(_ context.Context, c EventClaim, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[c.EventID]
	if !ok || e.done != nil || e.owner != c.Owner {
		return fmt.Errorf("%w: event %s", ErrClaimLost, c.EventID)
	}
	heap.Remove(&s.running, e.index)
	delete(s.entries, c.EventID)
	return nil
}

// expire forgets processed events older than the retention.
func (s *MemoryEventStore) expire(now time.Time, retention time.Duration) {
	for el := s.done.Front(); el != nil; el = s.done.Front() {
		e := el.Value.(*memEntry)
		if now.Sub(e.doneAt) <= retention {
			return
		}
		s.done.Remove(e.done)
		delete(s.entries, e.id)
	}
}

// evict makes room for one entry: the oldest processed event, else the
// event whose lease ended first, if it has. It reports whether it could.
func (s *MemoryEventStore) evict(now time.Time) bool {
	if el := s.done.Front(); el != nil {
		e := el.Value.(*memEntry)
		s.done.Remove(e.done)
		delete(s.entries, e.id)
		if s.Logger != nil {
			s.Logger.Warn("stripegateway: in-memory event store full: forgot a processed event; a redelivery of it would run its callback again (raise MemoryEventStore.MaxEntries, or use a durable store)",
				"event_id", e.id, "processed_at", e.doneAt)
		}
		return true
	}
	if len(s.running) > 0 && !now.Before(s.running[0].expires) {
		e := heap.Pop(&s.running).(*memEntry)
		delete(s.entries, e.id)
		return true
	}
	return false
}
