package stripegatewaytest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
)

// This file records every event the Simulator produces, delivered or not,
// and serves the record as Stripe's Events API does (GET /v1/events and
// GET /v1/events/{id}), so that a host can fetch back the events its
// webhook endpoint missed: stripegateway's RecoverEvents.

// SimulatedEvent is an event the Simulator produced, as its Events API
// lists it.
type SimulatedEvent struct {
	ID        string
	Type      stripe.EventType
	SessionID string
	OrderID   string
	Created   time.Time
	Livemode  bool
	// Delivered says whether the event's last webhook delivery got a 2xx
	// answer (the Events API's delivery_success).
	Delivered bool
	// Payload is the event's JSON, as it was signed and delivered.
	Payload []byte
}

// simEvent is a recorded event; seq orders the events created in the same
// second.
type simEvent struct {
	SimulatedEvent
	seq int
}

// Events returns the events produced so far, oldest first, whether their
// delivery succeeded or not: what GET /v1/events lists, newest first.
func (s *Simulator) Events() []SimulatedEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SimulatedEvent, 0, len(s.events))
	for _, e := range s.events {
		c := e.SimulatedEvent
		c.Payload = slices.Clone(e.Payload)
		out = append(out, c)
	}
	return out
}

// recordEvent keeps an event before it is delivered, as Stripe creates an
// event before sending it: its delivery failing does not lose it.
func (s *Simulator) recordEvent(ss SimulatedSession, typ stripe.EventType, id string, payload []byte) {
	var env struct {
		Created  int64 `json:"created"`
		Livemode bool  `json:"livemode"`
	}
	_ = json.Unmarshal(payload, &env)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := &simEvent{SimulatedEvent: SimulatedEvent{
		ID: id, Type: typ, SessionID: ss.ID, OrderID: ss.OrderID,
		Created: time.Unix(env.Created, 0).UTC(), Livemode: env.Livemode, Payload: payload,
	}, seq: len(s.events)}
	s.events = append(s.events, e)
	s.eventIndex[id] = e
}

// eventDelivered records the outcome of an event's last delivery.
func (s *Simulator) eventDelivered(id string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.eventIndex[id]; e != nil {
		e.Delivered = ok
	}
}

// listedEvent is an event as the API answers with it: its JSON, with
// pending_webhooks telling whether its delivery is still to succeed.
func listedEvent(e *simEvent) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(e.Payload, &m); err != nil {
		return e.Payload
	}
	m["pending_webhooks"] = json.RawMessage("0")
	if !e.Delivered {
		m["pending_webhooks"] = json.RawMessage("1")
	}
	b, err := json.Marshal(m)
	if err != nil {
		return e.Payload
	}
	return b
}

// eventFilter is the query of GET /v1/events.
type eventFilter struct {
	types     []string // exact types, or prefixes ending in ".*"
	created   map[string]int64
	delivered *bool
	livemode  bool
}

var typesKeyRE = regexp.MustCompile(`^types(\[\d*\])?$`)

// parseEventFilter reads the query; it returns an error message for a
// parameter Stripe would refuse.
func parseEventFilter(q url.Values, livemode bool) (eventFilter, string, string) {
	f := eventFilter{created: map[string]int64{}, livemode: livemode}
	for k, vs := range q {
		if typesKeyRE.MatchString(k) {
			f.types = append(f.types, vs...)
		}
	}
	if t := q.Get("type"); t != "" {
		f.types = append(f.types, t)
	}
	for _, op := range []string{"", "gt", "gte", "lt", "lte"} {
		key := "created"
		if op != "" {
			key += "[" + op + "]"
		}
		if v := q.Get(key); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return f, key, "Invalid integer: " + v
			}
			f.created[op] = n
		}
	}
	if v := q.Get("delivery_success"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, "delivery_success", "Invalid boolean: " + v
		}
		f.delivered = &b
	}
	return f, "", ""
}

func (f eventFilter) match(e *simEvent) bool {
	if e.Livemode != f.livemode {
		return false
	}
	if f.delivered != nil && e.Delivered != *f.delivered {
		return false
	}
	c := e.Created.Unix()
	for op, n := range f.created {
		switch {
		case op == "" && c != n, op == "gt" && c <= n, op == "gte" && c < n, op == "lt" && c >= n, op == "lte" && c > n:
			return false
		}
	}
	if len(f.types) == 0 {
		return true
	}
	for _, t := range f.types {
		if p, ok := strings.CutSuffix(t, "*"); ok && strings.HasPrefix(string(e.Type), p) {
			return true
		}
		if t == string(e.Type) {
			return true
		}
	}
	return false
}

// newestFirst is the record in the API's order; s.mu must be held.
func (s *Simulator) newestFirst() []*simEvent {
	out := slices.Clone(s.events)
	slices.SortStableFunc(out, func(a, b *simEvent) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return b.seq - a.seq
	})
	return out
}

// apiListEvents answers GET /v1/events from the record, after stripe-mock
// has checked the request: types[] (and type, with a trailing * as a
// wildcard), created (and created[gt], [gte], [lt], [lte]),
// delivery_success, limit (10 by default, 1 to 100), and the cursors
// starting_after and ending_before, newest first, as Stripe lists them.
// Only the events of the key's mode are listed.
func (s *Simulator) apiListEvents(w http.ResponseWriter, r *http.Request) {
	if up, _, _ := s.forwardOK(w, r, nil); up == nil {
		return
	}
	q := r.URL.Query()
	f, param, msg := parseEventFilter(q, livemodeOf(r))
	if param != "" {
		stripeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_invalid_integer", param, msg)
		return
	}
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			stripeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_invalid_integer", "limit",
				"Invalid limit: must be an integer from 1 to 100 (got "+strconv.Quote(v)+")")
			return
		}
		limit = n
	}
	after, before := q.Get("starting_after"), q.Get("ending_before")

	s.mu.Lock()
	all := s.newestFirst()
	cursor := func(id string) int {
		return slices.IndexFunc(all, func(e *simEvent) bool { return e.ID == id && e.Livemode == f.livemode })
	}
	var page []json.RawMessage
	hasMore := false
	var missing, missingParam string
	switch {
	case after != "" || before == "":
		from := 0
		if after != "" {
			i := cursor(after)
			if i < 0 {
				missing, missingParam = after, "starting_after"
				break
			}
			from = i + 1
		}
		for _, e := range all[from:] {
			if !f.match(e) {
				continue
			}
			if len(page) == limit {
				hasMore = true
				break
			}
			page = append(page, listedEvent(e))
		}
	default:
		i := cursor(before)
		if i < 0 {
			missing, missingParam = before, "ending_before"
			break
		}
		// The page just newer than the cursor, still newest first.
		for j := i - 1; j >= 0; j-- {
			if !f.match(all[j]) {
				continue
			}
			if len(page) == limit {
				hasMore = true
				break
			}
			page = append(page, listedEvent(all[j]))
		}
		slices.Reverse(page)
	}
	s.mu.Unlock()
	if missing != "" {
		stripeError(w, http.StatusBadRequest, "invalid_request_error", "resource_missing", missingParam, "No such event: '"+missing+"'")
		return
	}
	if page == nil {
		page = []json.RawMessage{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object":   "list",
		"url":      "/v1/events",
		"has_more": hasMore,
		"data":     page,
	})
}

// apiGetEvent answers GET /v1/events/{id} from the record.
func (s *Simulator) apiGetEvent(w http.ResponseWriter, r *http.Request) {
	if up, _, _ := s.forwardOK(w, r, nil); up == nil {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	e := s.eventIndex[id]
	var body json.RawMessage
	if e != nil && e.Livemode == livemodeOf(r) {
		body = listedEvent(e)
	}
	s.mu.Unlock()
	if body == nil {
		stripeError(w, http.StatusNotFound, "invalid_request_error", "resource_missing", "id", "No such event: '"+id+"'")
		return
	}
	writeJSON(w, http.StatusOK, body)
}
