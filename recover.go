package stripegateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/event"

	"github.com/b27de697/stripegateway/internal/redact"
)

// This file recovers the events a store missed, from Stripe's Events API.

// eventRetention is how far back Stripe's Events API lists events.
const eventRetention = 30 * 24 * time.Hour

// RecoverEvents runs the events the webhook handler missed through h: it
// lists, through Stripe's Events API, the events of EventTypes created since
// since (at most 30 days back, as long as Stripe keeps them), oldest first,
// and runs each through the same decoding, mode and API-version checks,
// event store and callbacks as WebhookHandler. An event the store records as
// processed is skipped; a missed one runs exactly once, even if a webhook
// delivery of it arrives meanwhile. Call it from a cron job or an admin's
// button after an outage longer than Stripe's three days of retries, or
// after an endpoint was misconfigured.
//
// progress, if not nil, is called after each event with how many events
// were seen, how many were recovered (their callback ran), and the creation
// time of the last one seen, for long runs.
//
// These events come over the API, authenticated by the gateway's own
// secret key, so they carry no signature to check (see SECURITY.md). It
// returns the number recovered, and an error if listing failed or some
// events could not be run (an event store failure stops it; a failing
// callback or an event of an unknown version does not: the error names
// them, and running it again retries them). It works on an inactive gateway
// too.
func (g *Gateway) RecoverEvents(ctx context.Context, since time.Time, h Handlers, progress func(seen, recovered int, last time.Time)) (int, error) {
	const op = "list events"
	if oldest := g.opts.now().Add(-eventRetention); since.Before(oldest) {
		since = oldest
	}
	params := &stripe.EventListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: since.Unix()}}
	params.Context = ctx
	params.Limit = stripe.Int64(100)
	for _, t := range EventTypes() {
		params.Types = append(params.Types, stripe.String(string(t)))
	}
	client := event.Client{B: g.backend, Key: string(g.cfg.SecretKey)}
	events, _, err := callContext(ctx, func() ([]*stripe.Event, struct{}, error) {
		var all []*stripe.Event
		it := client.List(params)
		for it.Next() {
			all = append(all, it.Event())
		}
		return all, struct{}{}, it.Err()
	})
	if err != nil {
		return 0, stripeCallError(ctx, op, err)
	}
	slices.Reverse(events) // Stripe lists the newest first

	seen, recovered := 0, 0
	var failed []error
	for _, e := range events {
		seen++
		o, err := g.parseListedEvent(e)
		if err != nil {
			failed = append(failed, err)
		} else {
			switch res, err := g.process(ctx, o, h); res {
			case processed:
				recovered++
			case callbackFailed:
				failed = append(failed, fmt.Errorf("event %s (%s): the callback failed: %w", e.ID, e.Type, err))
			case storeFailed:
				return recovered, fmt.Errorf("recovering events: the event store failed at event %s, after %d of %d events, %d recovered; run it again: %w", e.ID, seen, len(events), recovered, err)
			}
		}
		if progress != nil {
			progress(seen, recovered, time.Unix(e.Created, 0).UTC())
		}
	}
	g.logger.InfoContext(ctx, "stripegateway: missed events recovered", "since", since.UTC(), "seen", seen, "recovered", recovered, "failed", len(failed))
	if len(failed) > 0 {
		return recovered, fmt.Errorf("recovering events: %d of %d could not be run: %w", len(failed), seen, errors.Join(failed...))
	}
	return recovered, nil
}

// parseListedEvent decodes an event from the Events API exactly as a
// webhook delivery of it is decoded, from the same JSON.
func (g *Gateway) parseListedEvent(e *stripe.Event) (*Outcome, error) {
	var data struct {
		Object   json.RawMessage `json:"object"`
		Previous map[string]any  `json:"previous_attributes,omitempty"`
	}
	if e.Data != nil {
		data.Object, data.Previous = e.Data.Raw, e.Data.PreviousAttributes
	}
	payload, err := json.Marshal(struct {
		eventHead
		Data any `json:"data"`
	}{eventHead{ID: e.ID, Object: "event", APIVersion: e.APIVersion, Created: e.Created, Livemode: e.Livemode, Type: e.Type}, data})
	if err != nil {
		return nil, fmt.Errorf("%w: event %s could not be encoded: %s", ErrInvalidPayload, redact.Limit(e.ID, 80), err)
	}
	return g.parseEvent(payload)
}
