package stripegateway

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Defaults of the event store.
const (
	// DefaultEventLease is how long a delivery may hold an event's claim
	// when no WithEventLease is given. A claim left by a crashed process is
	// taken over by a redelivery after it. The callback's context ends at
	// the same moment.
	DefaultEventLease = 5 * time.Minute

	// DefaultEventStoreMaxEntries is the in-memory store's default limit:
	// 100,000 events, about 30 MB (measured at 190-280 bytes per event).
	DefaultEventStoreMaxEntries = 100_000

	// DefaultEventRetention is how long the in-memory store remembers a
	// processed event by default: 72 hours, the time over which Stripe
	// retries a delivery.
	DefaultEventRetention = 72 * time.Hour
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
// expiry; an expired claim may be taken over by another delivery. Complete
// and Release only act for the owner that holds the claim, and return
// ErrClaimLost otherwise, so that a delivery whose lease ran out cannot undo
// a newer claim.
//
// The default is an in-memory store (NewMemoryEventStore), which one process
// shares among its handlers; several processes need a shared store, such as
// one on the database they already use. A SQL implementation maps each call
// to one statement:
//
//	Claim:    INSERT INTO events (id, type, state, owner, lease_until, attempts)
//	          VALUES ($id, $type, 'processing', $owner, $expires, 1)
//	          ON CONFLICT (id) DO UPDATE SET owner = $owner, lease_until = $expires,
//	                 attempts = events.attempts + 1
//	          WHERE events.state = 'processing' AND events.lease_until < $now
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

// String names the status.
func (s ClaimStatus) String() string {
	switch s {
	case ClaimAcquired:
		return "acquired"
	case ClaimCompleted:
		return "completed"
	case ClaimBusy:
		return "busy"
	}
	return fmt.Sprintf("ClaimStatus(%d)", int(s))
}

// MemoryEventStore is an EventStore in memory, for one process. It is the
// default of every Gateway (each Gateway has its own) and safe for
// concurrent use.
//
// It is bounded: it holds at most maxEntries events, about 200 to 300 bytes each.
// A processed event is remembered for the retention period and then
// forgotten (a redelivery after that runs the callback again). When it is
// full, the oldest processed event is forgotten first; an event being
// processed is only dropped once its lease has expired, and if every entry
// is such an event, Claim returns ErrEventStoreFull.
//
// Time is read from the claims (EventClaim.Now), that is from the gateway's
// clock. Its state does not survive a restart: use a shared, durable store
// for several processes.
type MemoryEventStore struct {
	maxEntries int
	retention  time.Duration

	mu      sync.Mutex
	entries map[string]*memEntry
	// done lists the processed entries, oldest first.
	doneHead, doneTail *memEntry
}

type memEntry struct {
	id      string
	owner   string    // while processing
	expires time.Time // while processing: the lease's end
	doneAt  time.Time // once done
	done    bool

	prev, next *memEntry // in the done list
}

// NewMemoryEventStore returns an in-memory store of at most maxEntries
// events that remembers processed events for retention. Zero or less
// selects DefaultEventStoreMaxEntries and DefaultEventRetention.
func NewMemoryEventStore(maxEntries int, retention time.Duration) *MemoryEventStore {
	if maxEntries <= 0 {
		maxEntries = DefaultEventStoreMaxEntries
	}
	if retention <= 0 {
		retention = DefaultEventRetention
	}
	return &MemoryEventStore{maxEntries: maxEntries, retention: retention}
}

// Len returns how many events the store holds, processed or in progress.
func (s *MemoryEventStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Claim implements EventStore.
func (s *MemoryEventStore) Claim(ctx context.Context, c EventClaim) (ClaimStatus, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(c.Now)
	if e, ok := s.entries[c.EventID]; ok {
		switch {
		case e.done:
			return ClaimCompleted, nil
		case c.Now.Before(e.expires):
			return ClaimBusy, nil
		}
		// The lease ran out: take the claim over.
		e.owner, e.expires = c.Owner, c.Expires
		return ClaimAcquired, nil
	}
	if s.entries == nil {
		s.entries = make(map[string]*memEntry)
	}
	if len(s.entries) >= s.maxEntries && !s.evict(c.Now) {
		return 0, fmt.Errorf("%w: %d events are being processed; raise the limit with NewMemoryEventStore and WithEventStore", ErrEventStoreFull, len(s.entries))
	}
	s.entries[c.EventID] = &memEntry{id: c.EventID, owner: c.Owner, expires: c.Expires}
	return ClaimAcquired, nil
}

// Complete implements EventStore.
func (s *MemoryEventStore) Complete(_ context.Context, c EventClaim) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[c.EventID]
	if !ok || e.done || e.owner != c.Owner {
		return fmt.Errorf("%w: event %s", ErrClaimLost, c.EventID)
	}
	e.done, e.doneAt, e.owner = true, c.Now, ""
	s.pushDone(e)
	return nil
}

// Release implements EventStore.
func (s *MemoryEventStore) Release(_ context.Context, c EventClaim, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[c.EventID]
	if !ok || e.done || e.owner != c.Owner {
		return fmt.Errorf("%w: event %s", ErrClaimLost, c.EventID)
	}
	delete(s.entries, c.EventID)
	return nil
}

// expire forgets processed events older than the retention.
func (s *MemoryEventStore) expire(now time.Time) {
	for e := s.doneHead; e != nil && now.Sub(e.doneAt) > s.retention; e = s.doneHead {
		s.removeDone(e)
		delete(s.entries, e.id)
	}
}

// evict makes room for one entry: the oldest processed event, else an event
// whose lease has expired. It reports whether it could.
func (s *MemoryEventStore) evict(now time.Time) bool {
	if e := s.doneHead; e != nil {
		s.removeDone(e)
		delete(s.entries, e.id)
		return true
	}
	for id, e := range s.entries {
		if !now.Before(e.expires) {
			delete(s.entries, id)
			return true
		}
	}
	return false
}

func (s *MemoryEventStore) pushDone(e *memEntry) {
	e.prev, e.next = s.doneTail, nil
	if s.doneTail != nil {
		s.doneTail.next = e
	} else {
		s.doneHead = e
	}
	s.doneTail = e
}

func (s *MemoryEventStore) removeDone(e *memEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		s.doneHead = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		s.doneTail = e.prev
	}
	e.prev, e.next = nil, nil
}
