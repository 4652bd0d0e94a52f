package stripegatewaytest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/stripe/stripe-go/v76"
)

// This file serves the PaymentIntent endpoints: retrieve, capture and
// cancel, answered with the recorded state.

// renderIntent overlays a recorded PaymentIntent on stripe-mock's object;
// s.mu must be held.
func (s *Simulator) renderIntent(base map[string]any, pi *simIntent) map[string]any {
	if base == nil {
		base = map[string]any{}
	}
	base["id"] = pi.id
	base["object"] = "payment_intent"
	base["amount"] = pi.amount
	base["amount_capturable"] = pi.amountCapturable
	base["amount_received"] = pi.amountReceived
	base["capture_method"] = pi.captureMethod
	base["client_secret"] = pi.secret
	base["confirmation_method"] = "automatic"
	base["created"] = pi.created.Unix()
	base["currency"] = pi.currency
	base["livemode"] = pi.livemode
	base["metadata"] = copyStrings(pi.metadata)
	base["status"] = pi.status
	base["latest_charge"] = nilIfEmpty(pi.chargeID)
	base["payment_method"] = nilIfEmpty(pi.paymentMethodID)
	base["payment_method_types"] = []any{"card"}
	base["next_action"] = nil
	base["canceled_at"] = nil
	base["cancellation_reason"] = nil
	if !pi.canceledAt.IsZero() {
		base["canceled_at"] = pi.canceledAt.Unix()
		base["cancellation_reason"] = "requested_by_customer"
	}
	base["last_payment_error"] = nil
	if e := pi.lastError; e != nil {
		base["last_payment_error"] = map[string]any{
			"code":         e.code,
			"decline_code": nilIfEmpty(e.declineCode),
			"doc_url":      "https://stripe.com/docs/error-codes/" + e.code,
			"message":      e.message,
			"type":         "card_error",
		}
	}
	return base
}

func (s *Simulator) apiGetIntent(w http.ResponseWriter, r *http.Request) {
	s.intentCall(w, r, nil, nil)
}

func (s *Simulator) apiCaptureIntent(w http.ResponseWriter, r *http.Request) {
	s.idempotent(w, r, func(body []byte) (int, []byte) {
		form, _ := url.ParseQuery(string(body))
		return s.intentCall(w, r, body, func(pi *simIntent) (*apiError, []eventSpec) {
			if pi.status != "requires_capture" {
				return &apiError{http.StatusBadRequest, "payment_intent_unexpected_state", "",
					"This PaymentIntent could not be captured because it has a status of " + pi.status + ". Only a PaymentIntent with one of the following statuses may be captured: requires_capture."}, nil
			}
			amount := pi.amountCapturable
			if v := form.Get("amount_to_capture"); v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n <= 0 || n > pi.amountCapturable {
					return &apiError{http.StatusBadRequest, "amount_too_large", "amount_to_capture",
						"The amount to capture must be a positive integer no greater than the amount capturable (" + strconv.FormatInt(pi.amountCapturable, 10) + ")."}, nil
				}
				amount = n
			}
			pi.status, pi.amountReceived, pi.amountCapturable = "succeeded", amount, 0
			return nil, []eventSpec{{typ: stripe.EventTypePaymentIntentSucceeded, amount: amount}}
		})
	})
}

func (s *Simulator) apiCancelIntent(w http.ResponseWriter, r *http.Request) {
	s.idempotent(w, r, func(body []byte) (int, []byte) {
		return s.intentCall(w, r, body, func(pi *simIntent) (*apiError, []eventSpec) {
			switch pi.status {
			case "succeeded", "canceled", "processing":
				return &apiError{http.StatusBadRequest, "payment_intent_unexpected_state", "",
					"You cannot cancel this PaymentIntent because it has a status of " + pi.status + ". Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action."}, nil
			}
			pi.status, pi.amountCapturable, pi.canceledAt = "canceled", 0, s.now()
			return nil, []eventSpec{{typ: stripe.EventTypePaymentIntentCanceled}}
		})
	})
}

// intentCall forwards a PaymentIntent request and answers with the
// recorded PaymentIntent, after change (if not nil) has changed it.
func (s *Simulator) intentCall(w http.ResponseWriter, r *http.Request, body []byte, change func(*simIntent) (*apiError, []eventSpec)) (int, []byte) {
	id := r.PathValue("id")
	up, status, written := s.forwardOK(w, r, body)
	if up == nil {
		return status, written
	}
	s.mu.Lock()
	pi, ok := s.intents[id]
	if !ok {
		s.mu.Unlock()
		if change != nil {
			// A PaymentIntent the Simulator did not create: stripe-mock's
			// answer, as for any other object.
			writeUpstream(w, up)
			return up.status, up.body
		}
		return http.StatusNotFound, stripeError(w, http.StatusNotFound, "invalid_request_error", "resource_missing", "intent", "No such payment_intent: '"+id+"'")
	}
	var events []eventSpec
	var snap SimulatedSession
	if change != nil {
		var apiErr *apiError
		apiErr, events = change(pi)
		if apiErr != nil {
			s.mu.Unlock()
			return apiErr.status, stripeError(w, apiErr.status, "invalid_request_error", apiErr.code, apiErr.param, apiErr.msg)
		}
		for _, ss := range s.sessions {
			if ss.PaymentIntentID == pi.id {
				if pi.status == "succeeded" {
					ss.PaymentStatus = "paid"
				}
				snap = s.snapshot(ss)
			}
		}
	}
	var base map[string]any
	_ = json.Unmarshal(up.body, &base)
	obj := s.renderIntent(base, pi)
	s.mu.Unlock()
	if len(events) > 0 && snap.ID != "" {
		s.deliverLater(snap, events)
	}
	return http.StatusOK, writeJSON(w, http.StatusOK, obj)
}
