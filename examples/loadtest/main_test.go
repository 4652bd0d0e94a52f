package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// smallConfig is a run small enough for the test suite. The tests make no
// timing assertions: speed is what the command prints, not what it checks.
func smallConfig() config {
	cfg := defaultConfig()
	cfg.N, cfg.C, cfg.Rounds = 500, 8, 2
	cfg.RetryDelay = 2 * time.Millisecond
	return cfg
}

func TestRunSmall(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), smallConfig(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
	for _, want := range []string{"stripegateway", "stripe-go baseline", "deliveries/s", "latency p99", "store entries after a round", "exactly-once"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if n := strings.Count(out.String(), "FAILED"); n != 0 {
		t.Errorf("output reports %d failures", n)
	}
}

func TestPlan(t *testing.T) {
	cfg := smallConfig()
	p, err := newPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.deliveries) != cfg.N || len(p.invalid) != 25 || p.dups != 50 || len(p.valid) != cfg.N-75 {
		t.Fatalf("plan: %d deliveries, %d valid, %d duplicates, %d invalid", len(p.deliveries), len(p.valid), p.dups, len(p.invalid))
	}
	valid := make(map[string]int)
	for _, id := range p.valid {
		valid[id] = 0
	}
	firstSeen := make(map[string]bool)
	for i, d := range p.deliveries {
		err := webhook.ValidatePayloadIgnoringTolerance(d.payload, d.header(), secret)
		if (err == nil) != (d.sign == signValid) {
			t.Fatalf("delivery %d (%s, %s): signature check gives %v", i, d.id, signingName(d.sign), err)
		}
		if d.sign != signValid {
			continue
		}
		if _, ok := valid[d.id]; !ok {
			t.Fatalf("delivery %d: valid delivery of an unplanned event %s", i, d.id)
		}
		valid[d.id]++
		if valid[d.id] > 1 && !firstSeen[d.id] {
			t.Fatalf("delivery %d: duplicate of %s before its first delivery", i, d.id)
		}
		firstSeen[d.id] = true
	}
	dups := 0
	for _, n := range valid {
		dups += n - 1
	}
	if dups != p.dups {
		t.Errorf("%d duplicate deliveries, want %d", dups, p.dups)
	}
}

// TestCheckerCatchesFaults makes sure the exactly-once check fails a
// handler that does not deduplicate, or that does not verify.
func TestCheckerCatchesFaults(t *testing.T) {
	cfg := smallConfig()
	p, err := newPlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	faulty := map[string]func(c *counter) http.Handler{
		"no dedup": func(c *counter) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				e, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), secret)
				if err != nil {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				c.add(e.ID)
			})
		},
		"no verification": func(c *counter) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var e struct {
					ID string `json:"id"`
				}
				_ = json.NewDecoder(r.Body).Decode(&e)
				c.add(e.ID)
			})
		},
	}
	caught := map[string]func(r *result) bool{
		"no dedup":        func(r *result) bool { return r.doubled > 0 },
		"no verification": func(r *result) bool { return r.invalidRan > 0 && len(r.wrong) > 0 },
	}
	for name, mk := range faulty {
		t.Run(name, func(t *testing.T) {
			c := newCounter(p)
			h := mk(c)
			tg := &target{name: name, handler: h, entries: func() int { return 0 }, release: func() {}}
			r, err := runTarget(context.Background(), cfg, p, tg, c)
			if err != nil {
				t.Fatal(err)
			}
			if r.ok() || !caught[name](r) {
				t.Fatalf("the check missed the fault: lost %d, doubled %d, invalid called back %d, wrong answers %d",
					r.lost, r.doubled, r.invalidRan, len(r.wrong))
			}
		})
	}
}
