package stripegateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// stressOrder is a host's order, as the stress test's callbacks keep it:
// the way the package's documentation tells a host to handle out-of-order
// events. A paid order stays paid; a failure only counts when the order is
// not paid and the event is newer than the order's last change.
type stressOrder struct {
	paid       bool
	failed     bool
	lastChange time.Time
}

func (o *stressOrder) apply(out *stripegateway.Outcome) {
	switch out.Kind {
	case stripegateway.PaymentSucceeded:
		o.paid, o.failed = true, false // idempotent: paid twice is paid
		if out.Created.After(o.lastChange) {
			o.lastChange = out.Created
		}
	case stripegateway.PaymentFailed:
		if o.paid || out.Created.Before(o.lastChange) {
			return // stale: a late failure does not unpay an order
		}
		o.failed, o.lastChange = true, out.Created
	}
}

// stressEvent is one Stripe event and what the test does to it.
type stressEvent struct {
	id      string
	orderID string
	payload []byte
	// failFirst is how many times its callback fails before it succeeds;
	// -1: it always fails (a poison event).
	failFirst int
	// crashed: a "crashed process" holds its claim when delivery starts.
	crashed bool
	// copies is how many deliveries of it Stripe sends at once.
	copies int
}

// TestWebhookDeliveryStress replays Stripe's delivery behaviour through the
// webhook handler: every event is delivered at least once, again after any
// answer but 2xx (Stripe's retries, here in rounds one fake minute apart),
// sometimes several times at once, and once more after it was acknowledged.
// For every order, payment_intent.succeeded arrives before
// checkout.session.completed, and a payment_failed created earlier arrives
// after both. Some callbacks fail twice before succeeding; some events are
// held by the claim of a process that "crashed" mid-callback (claimed in the
// store, never completed); one event's callback always fails.
//
// Afterwards: every event but the poison one reached its callback with a
// success exactly once, nothing was lost, every order is paid, and the
// poison event is still delivered to its callback on every retry.
func TestWebhookDeliveryStress(t *testing.T) {
	const (
		orders = 60
		lease  = 2 * time.Minute
		rounds = 6 // Stripe's retries, one fake minute apart
	)
	clk := newClock(hNow)
	store := new(stripegateway.MemoryEventStore)
	g, err := stripegateway.New(handlerConfig(), stripegateway.WithClock(clk.now),
		stripegateway.WithEventStore(store), stripegateway.WithEventLease(lease))
	require.NoError(t, err)

	// The events, in the order Stripe delivers them per order.
	var events []*stressEvent
	byID := map[string]*stressEvent{}
	add := func(ev stripegatewaytest.Event, e *stressEvent) {
		e.id, e.orderID, e.payload = ev.ID, ev.OrderID, ev.MustJSON()
		if e.copies == 0 {
			e.copies = 1
		}
		events = append(events, e)
		byID[e.id] = e
	}
	amount := decimal.RequireFromString("19.99")
	for i := 0; i < orders; i++ {
		order := fmt.Sprintf("order-%03d", i)
		pi := fmt.Sprintf("pi_3Stress%015d", i)
		mk := func(typ stripe.EventType, n int, created time.Duration) stripegatewaytest.Event {
			ev := stripegatewaytest.NewEvent(typ, order, amount, "eur")
			ev.ID = fmt.Sprintf("evt_1Stress%03d%012d", n, i)
			ev.PaymentIntentID = pi
			ev.Created = hNow.Add(-time.Minute + created)
			return ev
		}
		add(mk(stripe.EventTypePaymentIntentSucceeded, 2, 2*time.Second), &stressEvent{
			crashed: i%7 == 0, copies: 1 + i%3})
		add(mk(stripe.EventTypeCheckoutSessionCompleted, 1, 1*time.Second), &stressEvent{
			failFirst: map[bool]int{true: 2}[i%5 == 0], copies: 1 + (i+1)%3})
		add(mk(stripe.EventTypePaymentIntentPaymentFailed, 0, 0), &stressEvent{
			copies: 1 + (i+2)%4})
	}
	poisonEv := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "order-poison", amount, "eur")
	poisonEv.ID = "evt_1StressPoison000000000"
	poisonEv.Created = hNow.Add(-time.Minute)
	add(poisonEv, &stressEvent{failFirst: -1})

	// The host: its orders and what its callbacks saw.
	var mu sync.Mutex
	state := map[string]*stressOrder{}
	calls := map[string]int{}     // callback invocations per event
	successes := map[string]int{} // callbacks that returned nil, per event
	injected := 0
	cb := func(_ context.Context, o *stripegateway.Outcome) error {
		mu.Lock()
		defer mu.Unlock()
		e := byID[o.EventID]
		calls[o.EventID]++
		if e.failFirst < 0 || calls[o.EventID] <= e.failFirst {
			injected++
			return errors.New("database unavailable")
		}
		if state[o.OrderID] == nil {
			state[o.OrderID] = &stressOrder{}
		}
		state[o.OrderID].apply(o)
		successes[o.EventID]++
		return nil
	}
	h := g.WebhookHandler(stripegateway.Handlers{OnPaymentSucceeded: cb, OnPaymentFailed: cb})

	// The crashed process's claims: taken, never completed nor released.
	crashed := 0
	for _, e := range events {
		if e.crashed {
			st, err := store.Claim(context.Background(), stripegateway.EventClaim{
				EventID: e.id, EventType: "payment_intent.succeeded", Owner: "crashed-process",
				Now: clk.now(), Expires: clk.now().Add(lease),
			})
			require.NoError(t, err)
			require.Equal(t, stripegateway.ClaimAcquired, st)
			crashed++
		}
	}

	var (
		deliveries int
		statuses   = map[int]int{}
		delivered  = map[string]int{}
		acked      = map[string]bool{}
	)
	deliver := func(e *stressEvent, copies int) {
		codes := make([]int, copies)
		var wg sync.WaitGroup
		for c := 0; c < copies; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := stripegatewaytest.NewRequest(hPath, e.payload, hSecret, stripegatewaytest.At(clk.now()))
				codes[c] = serve(h, req).Code
			}()
		}
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, code := range codes {
			deliveries++
			delivered[e.id]++
			statuses[code]++
			if code >= 200 && code < 300 {
				acked[e.id] = true
			}
		}
	}
	// Stripe delivers each order's events in sequence, the orders at once.
	runRound := func(pending func(*stressEvent) bool, copies func(*stressEvent) int) {
		byOrder := map[string][]*stressEvent{}
		for _, e := range events {
			if pending(e) {
				byOrder[e.orderID] = append(byOrder[e.orderID], e)
			}
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, evs := range byOrder {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				for _, e := range evs {
					deliver(e, copies(e))
				}
			}()
		}
		wg.Wait()
	}

	for round := 0; round < rounds; round++ {
		clk.set(hNow.Add(time.Duration(round) * time.Minute))
		runRound(func(e *stressEvent) bool {
			mu.Lock()
			defer mu.Unlock()
			return !acked[e.id] // Stripe retries until a 2xx
		}, func(e *stressEvent) int {
			if round == 0 {
				return e.copies
			}
			return 1
		})
	}
	// Stripe sends some events again after they were acknowledged.
	clk.set(hNow.Add(rounds * time.Minute))
	runRound(func(e *stressEvent) bool { return e.failFirst >= 0 }, func(*stressEvent) int { return 2 })

	mu.Lock()
	defer mu.Unlock()
	exactlyOnce, failingTwice := 0, 0
	for _, e := range events {
		if e.failFirst < 0 {
			continue
		}
		if e.failFirst > 0 {
			failingTwice++
		}
		assert.True(t, acked[e.id], "event %s never acknowledged: lost", e.id)
		assert.Equal(t, 1, successes[e.id], "successful callbacks of %s", e.id)
		assert.Equal(t, 1+e.failFirst, calls[e.id], "callback calls of %s", e.id)
		if successes[e.id] == 1 {
			exactlyOnce++
		}
	}
	assert.Equal(t, len(events)-1, exactlyOnce)
	for i := 0; i < orders; i++ {
		order := fmt.Sprintf("order-%03d", i)
		if assert.NotNil(t, state[order], order) {
			assert.True(t, state[order].paid, "%s is paid", order)
			assert.False(t, state[order].failed, "%s: a late failure does not unpay it", order)
		}
	}

	// The poison event: never acknowledged, retried every round.
	poison := byID[poisonEv.ID]
	assert.False(t, acked[poison.id])
	assert.Equal(t, 0, successes[poison.id])
	assert.Equal(t, rounds, calls[poison.id], "the failing callback runs on every retry")
	mu.Unlock()
	rec := serve(h, stripegatewaytest.NewRequest(hPath, poison.payload, hSecret, stripegatewaytest.At(clk.now())))
	mu.Lock()
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "still retryable")
	assert.Equal(t, rounds+1, calls[poison.id])

	duplicates := deliveries - len(delivered)
	codes := make([]string, 0, len(statuses))
	for code, n := range statuses {
		codes = append(codes, fmt.Sprintf("%d×%d", code, n))
	}
	sort.Strings(codes)
	t.Logf("events: %d (%d orders × 3, 1 poison); deliveries: %d; duplicate deliveries: %d; answers: %s",
		len(events), orders, deliveries, duplicates, strings.Join(codes, " "))
	t.Logf("injected callback failures: %d (%d events failing twice, poison %d); crashed claims left behind: %d; callbacks that succeeded exactly once: %d of %d",
		injected, failingTwice, calls[poison.id], crashed, exactlyOnce, len(events)-1)
}

// TestMemoryEventStoreMillionEvents feeds 1,000,000 distinct event IDs
// through the in-memory store (claimed and completed, as the handler does)
// and checks that it never holds more than its maximum, and that its heap
// stays within the documented ~200 bytes per entry.
func TestMemoryEventStoreMillionEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 claims take a few seconds under -race")
	}
	const (
		maxEntries = 20_000
		total      = 1_000_000
	)
	ctx := context.Background()
	store := &stripegateway.MemoryEventStore{MaxEntries: maxEntries, Retention: 0}
	now := hNow
	id := []byte("evt_1StoreBound0000000000")
	heapAt := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heapAt()
	var full uint64
	for i := 0; i < total; i++ {
		n := i
		for j := len(id) - 1; j >= len(id)-10; j-- { // 10 decimal digits
			id[j] = byte('0' + n%10)
			n /= 10
		}
		c := stripegateway.EventClaim{EventID: string(id), EventType: "checkout.session.completed", Owner: "o", Now: now, Expires: now.Add(time.Minute)}
		st, err := store.Claim(ctx, c)
		if err != nil || st != stripegateway.ClaimAcquired {
			t.Fatalf("claim %d: %v %v", i, st, err)
		}
		if err := store.Complete(ctx, c); err != nil {
			t.Fatalf("complete %d: %v", i, err)
		}
		if i == maxEntries-1 {
			full = heapAt()
		}
		if i%100_000 == 0 {
			now = now.Add(time.Second)
		}
	}
	after := heapAt()
	perEntry := float64(int64(after)-int64(before)) / maxEntries
	t.Logf("after %d distinct events (max %d held); heap %.1f MB before, %.1f MB when first full, %.1f MB at the end: %.0f bytes per entry",
		total, maxEntries, float64(before)/1e6, float64(full)/1e6, float64(after)/1e6, perEntry)
	assert.Less(t, perEntry, 400.0, "the store documents about 200 bytes per entry")
	assert.Less(t, float64(after), float64(full)*1.25+4e6, "the heap does not grow once the store is full")

	// Processed events still answer as such while they are held.
	st, err := store.Claim(ctx, stripegateway.EventClaim{EventID: string(id), Owner: "p", Now: now, Expires: now.Add(time.Minute)})
	require.NoError(t, err)
	assert.Equal(t, stripegateway.ClaimCompleted, st)
	// The oldest were forgotten to keep the bound.
	st, err = store.Claim(ctx, stripegateway.EventClaim{EventID: "evt_1StoreBound0000000000", Owner: "p", Now: now, Expires: now.Add(time.Minute)})
	require.NoError(t, err)
	assert.Equal(t, stripegateway.ClaimAcquired, st)
	runtime.KeepAlive(store)
}
