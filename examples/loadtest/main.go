// Command loadtest fires signed Stripe webhook deliveries at the library's
// webhook handler over loopback HTTP, and the same deliveries at a minimal
// handler built on stripe-go's webhook.ConstructEvent, in the same run, and
// prints both side by side: deliveries per second, request latency, and
// whether every valid event reached its callback exactly once and no
// invalid one did.
//
// Run it from the repository root:
//
//	go run ./examples/loadtest -n 20000 -c 32 -dup 0.10 -bad 0.05
//
// Of the n deliveries per handler, a share dup re-sends events already sent
// (half of them right behind the first delivery, so that the two are in
// flight together, the rest later), and a share bad carries an invalid
// signature (a wrong secret, or a body altered after signing). The rest are
// distinct events of five types, built with the stripegatewaytest kit. Each
// delivery is signed when it is sent, as Stripe does. A delivery answered
// 409 (the event is being processed by another delivery) is sent again after
// -retry-delay, as Stripe would later, until it gets its final answer.
//
// Other load on the machine moves single runs a lot, so the handlers run
// -rounds times, in alternating order, each time with a new event store;
// throughput and latency percentiles are medians over the rounds. The load
// generator runs in the same process, on the same cores, for both.
//
// Both servers listen on 127.0.0.1 only; each run is bounded by -timeout.
// The command exits 1 if either handler loses or doubles a callback, lets
// an invalid delivery through, or answers a delivery wrongly.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

func main() {
	cfg := defaultConfig()
	flag.IntVar(&cfg.N, "n", cfg.N, "deliveries sent to each handler")
	flag.IntVar(&cfg.C, "c", cfg.C, "concurrent keep-alive connections")
	flag.Float64Var(&cfg.Dup, "dup", cfg.Dup, "share of deliveries that re-send an event already sent")
	flag.Float64Var(&cfg.Bad, "bad", cfg.Bad, "share of deliveries with an invalid signature")
	flag.DurationVar(&cfg.RetryDelay, "retry-delay", cfg.RetryDelay, "wait before sending again a delivery answered 409")
	flag.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "bound on each handler's run")
	flag.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "rounds; each runs both handlers, in alternating order")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the delivery order")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "loadtest: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// config is the command's flags.
type config struct {
	N, C       int
	Rounds     int
	Dup, Bad   float64
	RetryDelay time.Duration
	Timeout    time.Duration
	Seed       uint64
}

func defaultConfig() config {
	return config{N: 20000, C: 32, Rounds: 3, Dup: 0.10, Bad: 0.05, RetryDelay: 10 * time.Millisecond, Timeout: 2 * time.Minute, Seed: 1}
}

func (c config) validate() error {
	switch {
	case c.N < 1 || c.N > 1_000_000:
		return fmt.Errorf("-n %d: want 1 to 1000000 deliveries", c.N)
	case c.C < 1 || c.C > 1024:
		return fmt.Errorf("-c %d: want 1 to 1024 connections", c.C)
	case c.Rounds < 1 || c.Rounds > 20:
		return fmt.Errorf("-rounds %d: want 1 to 20", c.Rounds)
	case c.Dup < 0 || c.Bad < 0 || c.Dup+c.Bad >= 1:
		return fmt.Errorf("-dup %g -bad %g: want shares of at least 0 that leave room for new events", c.Dup, c.Bad)
	case c.RetryDelay < 0 || c.RetryDelay > time.Second:
		return fmt.Errorf("-retry-delay %s: want 0 to 1s", c.RetryDelay)
	case c.Timeout <= 0 || c.Timeout > 4*time.Minute:
		// Deliveries are signed when sent, but a run longer than the
		// handlers' 5-minute tolerance would not be a fair test anyway.
		return fmt.Errorf("-timeout %s: want more than 0 and at most 4m", c.Timeout)
	}
	return nil
}

// secret is the endpoint's signing secret; wrongSecret makes the bad
// signatures.
const (
	secret      = "whsec_loadtest_signing_secret_not_real_01"
	wrongSecret = "whsec_not_this_endpoints_secret_not_real_1"
)

// ---------------------------------------------------------------------------
// The deliveries

// signing is how a delivery is signed.
type signing int

const (
	signValid    signing = iota
	signWrong            // with a secret that is not the endpoint's
	signTampered         // valid for another body: the body was altered after signing
)

// delivery is one delivery of an event.
type delivery struct {
	id      string // the event's ID
	payload []byte
	orig    []byte // signTampered: the body that was signed
	sign    signing
}

// plan is the deliveries of a run, in sending order, shared by both
// handlers.
type plan struct {
	deliveries []delivery
	valid      []string // IDs of the valid events, each sent at least once
	invalid    []string // IDs of the events sent with bad signatures only
	dups       int
}

// eventMix is the types of the valid events, with their weights: mostly
// checkout completions, as in a sale.
var eventMix = []struct {
	typ    stripe.EventType
	weight int
}{
	{stripe.EventTypeCheckoutSessionCompleted, 6},
	{stripe.EventTypePaymentIntentPaymentFailed, 1},
	{stripe.EventTypeInvoicePaymentSucceeded, 1},
	{stripe.EventTypeChargeRefunded, 1},
	{stripe.EventTypeCustomerSubscriptionDeleted, 1},
}

// newPlan builds the deliveries.
func newPlan(cfg config) (*plan, error) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	nBad := int(float64(cfg.N)*cfg.Bad + 0.5)
	nDup := int(float64(cfg.N)*cfg.Dup + 0.5)
	nNew := cfg.N - nBad - nDup
	if nNew < 1 {
		return nil, errors.New("no room for new events: lower -dup or -bad")
	}
	var types []stripe.EventType
	for _, m := range eventMix {
		for range m.weight {
			types = append(types, m.typ)
		}
	}
	created := time.Now().Truncate(time.Second)
	build := func(prefix string, i int) ([]byte, string, error) {
		ev := stripegatewaytest.NewEvent(types[i%len(types)], fmt.Sprintf("order-%d", 100000+i),
			decimal.New(int64(500+i%10000), -2), "eur")
		ev.ID = fmt.Sprintf("evt_%s%020d", prefix, i)
		ev.Created = created
		b, err := ev.JSON()
		return b, ev.ID, err
	}

	p := &plan{dups: nDup}
	base := make([]delivery, 0, nNew+nBad)
	for i := range nNew {
		b, id, err := build("loadtest", i)
		if err != nil {
			return nil, err
		}
		base = append(base, delivery{id: id, payload: b, sign: signValid})
		p.valid = append(p.valid, id)
	}
	for i := range nBad {
		b, id, err := build("loadtestbad", i)
		if err != nil {
			return nil, err
		}
		d := delivery{id: id, payload: b, sign: signWrong}
		if i%2 == 1 {
			// Signed, then altered: the order ID is changed.
			d.sign, d.orig = signTampered, b
			d.payload = bytes.ReplaceAll(b, []byte(`"order-`), []byte(`"order-9`))
			if bytes.Equal(d.payload, b) {
				return nil, fmt.Errorf("event %s: no order ID to alter", id)
			}
		}
		base = append(base, d)
		p.invalid = append(p.invalid, id)
	}
	rng.Shuffle(len(base), func(i, j int) { base[i], base[j] = base[j], base[i] })

	// Duplicates go right behind a valid delivery (so that both are in
	// flight at once) or anywhere later.
	type slot struct {
		key float64
		d   delivery
	}
	slots := make([]slot, 0, cfg.N)
	var validAt []int
	for i, d := range base {
		slots = append(slots, slot{float64(i), d})
		if d.sign == signValid {
			validAt = append(validAt, i)
		}
	}
	for k := range nDup {
		at := validAt[rng.IntN(len(validAt))]
		key := float64(at) + 0.5
		if k%2 == 1 {
			key = float64(at) + 0.5 + rng.Float64()*float64(len(base)-at)
		}
		slots = append(slots, slot{key, base[at]})
	}
	sort.SliceStable(slots, func(i, j int) bool { return slots[i].key < slots[j].key })
	for _, s := range slots {
		p.deliveries = append(p.deliveries, s.d)
	}
	return p, nil
}

// bytes is the size of the payloads held by the plan; duplicates share
// their payload with the first delivery.
func (p *plan) bytes() int {
	n := 0
	seen := make(map[string]bool, len(p.valid)+len(p.invalid))
	for _, d := range p.deliveries {
		if !seen[d.id] {
			n += len(d.payload) + len(d.orig)
		}
		seen[d.id] = true
	}
	return n
}

// header signs a delivery now.
func (d *delivery) header() string {
	switch d.sign {
	case signWrong:
		return stripegatewaytest.SignatureHeader(d.payload, wrongSecret)
	case signTampered:
		return stripegatewaytest.SignatureHeader(d.orig, secret)
	}
	return stripegatewaytest.SignatureHeader(d.payload, secret)
}

// ---------------------------------------------------------------------------
// The handlers under test

// counter counts the callbacks per event ID.
type counter struct {
	byID    map[string]*atomic.Int32 // every ID of the plan; read-only while running
	unknown atomic.Int32
}

func newCounter(p *plan) *counter {
	c := &counter{byID: make(map[string]*atomic.Int32, len(p.valid)+len(p.invalid))}
	for _, id := range p.valid {
		c.byID[id] = new(atomic.Int32)
	}
	for _, id := range p.invalid {
		c.byID[id] = new(atomic.Int32)
	}
	return c
}

func (c *counter) add(id string) {
	if n := c.byID[id]; n != nil {
		n.Add(1)
		return
	}
	c.unknown.Add(1)
}

// target is a handler under test.
type target struct {
	name    string
	handler http.Handler
	// entries is the number of events its store holds.
	entries func() int
	// release drops the handler and its store, for the memory measure.
	release func()
}

// countingStore is the library's in-memory event store, counting the
// processed events it holds: MemoryEventStore does not say how many. Complete
// succeeds once per event, so after a round, when nothing is being processed
// any more, the count is the store's size, up to its bound (beyond which the
// store forgets the oldest processed events).
type countingStore struct {
	*stripegateway.MemoryEventStore
	completed atomic.Int64
}

// Complete implements stripegateway.EventStore.
func (s *countingStore) Complete(ctx context.Context, c stripegateway.EventClaim) error {
	err := s.MemoryEventStore.Complete(ctx, c)
	if err == nil {
		s.completed.Add(1)
	}
	return err
}

// len is the number of processed events the store holds.
func (s *countingStore) len() int {
	return int(min(s.completed.Load(), memoryStoreMaxEntries))
}

// memoryStoreMaxEntries bounds the library's event store (its default).
const memoryStoreMaxEntries = 100_000

// newLibraryTarget is the library's handler with its in-memory event store.
func newLibraryTarget(c *counter) (*target, error) {
	store := &countingStore{MemoryEventStore: &stripegateway.MemoryEventStore{MaxEntries: memoryStoreMaxEntries}}
	gw, err := stripegateway.New(stripegateway.Config{
		DisplayName:    "Credit Card",
		Status:         stripegateway.StatusActive,
		Mode:           stripegateway.ModeTest,
		PublishableKey: "pk_test_51Hloadtestpublishablekey00",
		SecretKey:      "sk_test_51Hloadtestsecretkeyvalue00",
		WebhookSecret:  secret,
	}, stripegateway.WithEventStore(store))
	if err != nil {
		return nil, err
	}
	t := &target{
		name: "stripegateway",
		handler: gw.WebhookHandler(stripegateway.Handlers{
			Default: func(_ context.Context, o *stripegateway.Outcome) error {
				c.add(o.EventID)
				return nil
			},
		}),
		entries: store.len,
	}
	t.release = func() { t.handler, t.entries, store, gw = nil, nil, nil, nil }
	return t, nil
}

// newBaselineTarget is the minimal handler on stripe-go (baseline.go).
func newBaselineTarget(c *counter) *target {
	h := newBaselineHandler(secret, func(id string, _ any) { c.add(id) })
	t := &target{name: "stripe-go baseline", handler: h, entries: h.len}
	t.release = func() { t.handler, t.entries, h = nil, nil, nil }
	return t
}

// ---------------------------------------------------------------------------
// Running

// result is what one handler's run measured.
type result struct {
	name       string
	deliveries int
	elapsed    time.Duration
	requests   int // HTTP requests, 409 retries included
	conflicts  int // answered 409, then retried
	latencies  []time.Duration
	valid      int // valid events
	once       int // valid events whose callback ran exactly once
	lost       int // valid events whose callback never ran
	doubled    int // valid events whose callback ran more than once
	invalidRan int // invalid events whose callback ran
	unknownRan int // callbacks for IDs not in the plan
	wrong      []string
	entries    int
	heapInuse  uint64 // after the run, after a GC, store alive
	heapGrowth int64  // heapInuse less the heap in use before the run
	storeBytes int64  // heap released when the handler and its store are dropped
}

func (r *result) ok() bool {
	return r.lost == 0 && r.doubled == 0 && r.invalidRan == 0 && r.unknownRan == 0 && len(r.wrong) == 0
}

func (r *result) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(p * float64(len(r.latencies)-1))
	return r.latencies[i]
}

// run builds the plan, runs it against both handlers, -rounds times with
// the order alternating, and prints the comparison to out. It fails if
// either handler breaks exactly-once in any round.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	p, err := newPlan(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "loadtest: %d deliveries per handler and round: %d events, %d duplicate deliveries, %d bad signatures; %d connections; %d rounds; GOMAXPROCS=%d, %s\n",
		len(p.deliveries), len(p.valid), p.dups, len(p.invalid), cfg.C, cfg.Rounds, runtime.GOMAXPROCS(0), runtime.Version())

	type contender struct {
		name string
		make func(*counter) (*target, error)
		runs []*result
	}
	contenders := []*contender{
		{name: "stripegateway", make: newLibraryTarget},
		{name: "stripe-go baseline", make: func(c *counter) (*target, error) { return newBaselineTarget(c), nil }},
	}
	for round := range cfg.Rounds {
		order := []*contender{contenders[0], contenders[1]}
		if round%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, k := range order {
			c := newCounter(p)
			t, err := k.make(c)
			if err != nil {
				return err
			}
			r, err := runTarget(ctx, cfg, p, t, c)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", k.name, round+1, err)
			}
			k.runs = append(k.runs, r)
		}
	}
	runtime.KeepAlive(p)

	var sums []*summary
	for _, k := range contenders {
		sums = append(sums, summarize(k.name, k.runs))
	}
	printSummaries(out, sums)
	fmt.Fprintf(out, "(heap in use includes the %.1f MiB of prepared payloads, shared by both handlers)\n", float64(p.bytes())/(1<<20))
	var failed []string
	for _, s := range sums {
		if !s.ok() {
			failed = append(failed, s.name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("exactly-once failed for %q", failed)
	}
	return nil
}

// runTarget sends the plan to one handler over loopback HTTP and checks the
// callbacks.
func runTarget(ctx context.Context, cfg config, p *plan, t *target, c *counter) (*result, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapInuse

	srv := httptest.NewServer(t.handler) // 127.0.0.1:0
	tr := &http.Transport{
		MaxIdleConns:        cfg.C,
		MaxIdleConnsPerHost: cfg.C,
		MaxConnsPerHost:     cfg.C,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := srv.URL + "/gateways/stripe/notification"

	res := &result{name: t.name, deliveries: len(p.deliveries), valid: len(p.valid)}
	jobs := make(chan *delivery)
	stats := make([]workerStats, cfg.C)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range cfg.C {
		wg.Add(1)
		go func(s *workerStats) {
			defer wg.Done()
			s.lat = make([]time.Duration, 0, 2*len(p.deliveries)/cfg.C+16)
			for d := range jobs {
				if s.err != nil {
					continue // drain
				}
				s.err = deliver(ctx, client, url, d, cfg.RetryDelay, s.record, &s.wrong)
			}
		}(&stats[w])
	}
	for i := range p.deliveries {
		select {
		case jobs <- &p.deliveries[i]:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	res.elapsed = time.Since(start)
	srv.Close()
	tr.CloseIdleConnections()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("the run did not finish within -timeout %s: %w", cfg.Timeout, err)
	}
	for i := range stats {
		s := &stats[i]
		if s.err != nil {
			return nil, s.err
		}
		res.latencies = append(res.latencies, s.lat...)
		res.requests += s.requests
		res.conflicts += s.conflicts
		res.wrong = append(res.wrong, s.wrong...)
	}
	slices.Sort(res.latencies)

	// Exactly once.
	for _, id := range p.valid {
		switch n := c.byID[id].Load(); {
		case n == 0:
			res.lost++
		case n > 1:
			res.doubled++
		default:
			res.once++
		}
	}
	for _, id := range p.invalid {
		if c.byID[id].Load() != 0 {
			res.invalidRan++
		}
	}
	res.unknownRan = int(c.unknown.Load())

	// Memory: the heap after the run with the handler's store alive, then
	// what dropping the handler and its store gives back.
	res.entries = t.entries()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res.heapInuse = before.HeapInuse
	res.heapGrowth = int64(before.HeapInuse) - int64(heapBefore)
	t.release()
	runtime.GC()
	runtime.ReadMemStats(&after)
	res.storeBytes = int64(before.HeapAlloc) - int64(after.HeapAlloc)
	return res, nil
}

// workerStats is one sending worker's tally.
type workerStats struct {
	lat       []time.Duration
	requests  int
	conflicts int
	wrong     []string
	err       error
}

// record counts one request.
func (s *workerStats) record(lat time.Duration, status int) {
	s.lat = append(s.lat, lat)
	s.requests++
	if status == http.StatusConflict {
		s.conflicts++
	}
}

// maxAttempts bounds the 409 retries of one delivery.
const maxAttempts = 1000

// deliver sends one delivery until it gets its final answer: 200 for a
// valid one, 400 for a bad one. A 409 is retried after retryDelay; any
// other answer is recorded as wrong.
func deliver(ctx context.Context, client *http.Client, url string, d *delivery, retryDelay time.Duration,
	record func(time.Duration, int), wrong *[]string) error {
	want := http.StatusOK
	if d.sign != signValid {
		want = http.StatusBadRequest
	}
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.payload))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
		req.Header.Set("Stripe-Signature", d.header())
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("delivering %s: %w", d.id, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		record(time.Since(t0), resp.StatusCode)
		switch {
		case resp.StatusCode == want:
			return nil
		case resp.StatusCode == http.StatusConflict && attempt < maxAttempts:
			// Being processed by another delivery: Stripe tries again
			// later, and so do we.
			select {
			case <-time.After(retryDelay):
			case <-ctx.Done():
				return ctx.Err()
			}
		default:
			*wrong = append(*wrong, fmt.Sprintf("%s (%s): answered %d, want %d", d.id, signingName(d.sign), resp.StatusCode, want))
			return nil
		}
	}
}

func signingName(s signing) string {
	switch s {
	case signWrong:
		return "wrong secret"
	case signTampered:
		return "altered body"
	}
	return "valid"
}

// summary is one handler's runs.
type summary struct {
	name string
	runs []*result
	last *result
}

func summarize(name string, runs []*result) *summary {
	return &summary{name: name, runs: runs, last: runs[len(runs)-1]}
}

func (s *summary) ok() bool {
	for _, r := range s.runs {
		if !r.ok() {
			return false
		}
	}
	return true
}

// median is the median of f over the runs.
func (s *summary) median(f func(*result) float64) float64 {
	v := make([]float64, len(s.runs))
	for i, r := range s.runs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

// sum is the sum of f over the runs.
func (s *summary) sum(f func(*result) int) int {
	n := 0
	for _, r := range s.runs {
		n += f(r)
	}
	return n
}

func (r *result) throughput() float64 { return float64(r.deliveries) / r.elapsed.Seconds() }

// printSummaries prints the handlers side by side.
func printSummaries(out io.Writer, ss []*summary) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(label string, f func(s *summary) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, s := range ss {
			fmt.Fprintf(tw, "%s\t", f(s))
		}
		fmt.Fprintln(tw)
	}
	dur := func(f func(*result) time.Duration) func(*result) float64 {
		return func(r *result) float64 { return float64(f(r)) }
	}
	row("", func(s *summary) string { return s.name })
	row("deliveries/s, median of rounds", func(s *summary) string { return fmt.Sprintf("%.0f", s.median((*result).throughput)) })
	row("deliveries/s, each round", func(s *summary) string {
		var b strings.Builder
		for i, r := range s.runs {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%.0f", r.throughput())
		}
		return b.String()
	})
	row("latency p50, median of rounds", func(s *summary) string {
		return fmtDur(time.Duration(s.median(dur(func(r *result) time.Duration { return r.percentile(0.50) }))))
	})
	row("latency p99, median of rounds", func(s *summary) string {
		return fmtDur(time.Duration(s.median(dur(func(r *result) time.Duration { return r.percentile(0.99) }))))
	})
	row("latency max, all rounds", func(s *summary) string {
		var m time.Duration
		for _, r := range s.runs {
			m = max(m, r.percentile(1))
		}
		return fmtDur(m)
	})
	row("HTTP requests, all rounds", func(s *summary) string { return fmt.Sprint(s.sum(func(r *result) int { return r.requests })) })
	row("answered 409 and retried", func(s *summary) string { return fmt.Sprint(s.sum(func(r *result) int { return r.conflicts })) })
	row("callbacks exactly once", func(s *summary) string {
		return fmt.Sprintf("%d/%d", s.sum(func(r *result) int { return r.once }), s.sum(func(r *result) int { return r.valid }))
	})
	row("lost / doubled callbacks", func(s *summary) string {
		return fmt.Sprintf("%d / %d", s.sum(func(r *result) int { return r.lost }), s.sum(func(r *result) int { return r.doubled }))
	})
	row("invalid deliveries called back", func(s *summary) string {
		return fmt.Sprint(s.sum(func(r *result) int { return r.invalidRan + r.unknownRan }))
	})
	row("wrong answers", func(s *summary) string { return fmt.Sprint(s.sum(func(r *result) int { return len(r.wrong) })) })
	row("store entries after a round", func(s *summary) string { return fmt.Sprint(s.last.entries) })
	row("store memory (freed when dropped)", func(s *summary) string {
		per := 0.0
		if s.last.entries > 0 {
			per = float64(s.last.storeBytes) / float64(s.last.entries)
		}
		return fmt.Sprintf("%.1f MiB, %.0f B/event", float64(s.last.storeBytes)/(1<<20), per)
	})
	row("heap growth over a round (after GC)", func(s *summary) string {
		return fmt.Sprintf("%.1f MiB", float64(s.last.heapGrowth)/(1<<20))
	})
	row("heap in use after a round (after GC)", func(s *summary) string {
		return fmt.Sprintf("%.1f MiB", float64(s.last.heapInuse)/(1<<20))
	})
	row("exactly-once", func(s *summary) string {
		if s.ok() {
			return "ok"
		}
		return "FAILED"
	})
	_ = tw.Flush()
	for _, s := range ss {
		n := 0
		for _, r := range s.runs {
			for _, w := range r.wrong {
				if n++; n > 10 {
					break
				}
				fmt.Fprintf(out, "%s: %s\n", s.name, w)
			}
		}
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
}
