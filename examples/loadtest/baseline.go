package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

// baselineHandler is the baseline of the load test: the minimal correct
// webhook handler an application writes with stripe-go alone, following
// Stripe's documentation. It verifies and decodes the event with
// webhook.ConstructEvent, decodes event.Data.Raw into the object's
// stripe-go type, and deduplicates deliveries with a mutex-protected map
// (409 while another delivery of the event is being processed, 200 once it
// has been).
type baselineHandler struct {
	secret   string
	callback func(eventID string, object any)

	mu     sync.Mutex
	events map[string]bool // true once processed
}

func newBaselineHandler(secret string, callback func(eventID string, object any)) *baselineHandler {
	return &baselineHandler{secret: secret, callback: callback, events: make(map[string]bool)}
}

func (h *baselineHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	event, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), h.secret)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	object, err := decodeObject(event)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}

	h.mu.Lock()
	done, seen := h.events[event.ID]
	if !seen {
		h.events[event.ID] = false // processing
	}
	h.mu.Unlock()
	switch {
	case seen && done:
		_, _ = io.WriteString(w, "ok: already processed\n")
		return
	case seen:
		w.Header().Set("Retry-After", "60")
		http.Error(w, "event is being processed; retry later", http.StatusConflict)
		return
	}
	h.callback(event.ID, object)
	h.mu.Lock()
	h.events[event.ID] = true
	h.mu.Unlock()
	_, _ = io.WriteString(w, "ok\n")
}

// len is the number of events the handler remembers.
func (h *baselineHandler) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

// decodeObject decodes the event's data.object into its stripe-go type.
func decodeObject(e stripe.Event) (any, error) {
	var v any
	switch e.Type {
	case stripe.EventTypeCheckoutSessionCompleted:
		v = new(stripe.CheckoutSession)
	case stripe.EventTypePaymentIntentPaymentFailed:
		v = new(stripe.PaymentIntent)
	case stripe.EventTypeInvoicePaymentSucceeded:
		v = new(stripe.Invoice)
	case stripe.EventTypeChargeRefunded:
		v = new(stripe.Charge)
	case stripe.EventTypeCustomerSubscriptionDeleted:
		v = new(stripe.Subscription)
	default:
		return e.Data.Object, nil
	}
	if err := json.Unmarshal(e.Data.Raw, v); err != nil {
		return nil, err
	}
	return v, nil
}
