// Package webhookhttp is the HTTP side of a Stripe webhook handler, shared
// by the gateway's handler (lease path) and package sqlstore's
// (transactional path), so that both answer a request the same way: the
// method and body checks, the verification, the fixed response bodies, and
// a callback's panic turned into an error.
package webhookhttp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"

	"github.com/b27de697/stripegateway/internal/redact"
)

// MaxBodyBytes bounds the body a handler reads: 1 MiB. Stripe's events are
// a few KB (a Checkout Session about 3 KB, an invoice with its first 10
// lines about 10 KB, the largest subscription invoices some tens of KB), so
// this leaves a wide margin while bounding what one request can make the
// server hold. A host wanting less wraps the handler in
// http.MaxBytesHandler, which the handler answers the same way.
const MaxBodyBytes int64 = 1 << 20

// Response bodies: fixed, short, and never an error's detail.
const (
	bodyOK               = "ok\n"
	bodyDuplicate        = "ok: already processed\n"
	bodyMethodNotAllowed = "method not allowed\n"
	bodyTooLarge         = "request body too large\n"
	bodyBadRequest       = "bad request\n"
	bodyInProgress       = "event is being processed; retry later\n"
	bodyUnavailable      = "temporarily unavailable; retry later\n"
	bodyInternalError    = "internal error; retry later\n"
)

// Result is what processing one verified event came to.
type Result int

// Results, and the answer each gets from Answer.
const (
	Processed      Result = iota // the callback succeeded: 200
	NoCallback                   // no callback handles the kind: 200
	Duplicate                    // the event was processed before: 200
	Busy                         // another delivery is processing it: 409
	StoreFailed                  // the event store failed: 503
	CallbackFailed               // the callback failed or panicked: 500
)

// Verified answers a request that is not a POST, whose body is over
// MaxBodyBytes or unreadable, or that verify refuses (400), and logs why;
// otherwise it returns verify's value. persistent marks the errors that
// fail every delivery until someone fixes the configuration (a livemode or
// API-version mismatch): they are logged as errors, the others as warnings.
// prefix starts every log message, e.g. "stripegateway".
func Verified[T any](w http.ResponseWriter, r *http.Request, log *slog.Logger, prefix string,
	verify func(payload []byte, signature string) (T, error), persistent func(error) bool) (T, bool) {
	var zero T
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		respond(w, http.StatusMethodNotAllowed, bodyMethodNotAllowed)
		return zero, false
	}
	payload, err := readBody(w, r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			log.WarnContext(ctx, prefix+": webhook rejected: body over the limit", "status", http.StatusRequestEntityTooLarge, "limit_bytes", tooLarge.Limit)
			respond(w, http.StatusRequestEntityTooLarge, bodyTooLarge)
			return zero, false
		}
		log.WarnContext(ctx, prefix+": webhook rejected: reading the body failed", "status", http.StatusBadRequest, "error", redact.Text(err.Error()))
		respond(w, http.StatusBadRequest, bodyBadRequest)
		return zero, false
	}
	v, err := verify(payload, r.Header.Get("Stripe-Signature"))
	if err != nil {
		level := slog.LevelWarn
		if persistent(err) {
			level = slog.LevelError // every delivery fails until it is fixed
		}
		log.Log(ctx, level, prefix+": webhook rejected", "status", http.StatusBadRequest, "error", redact.Text(err.Error()))
		respond(w, http.StatusBadRequest, bodyBadRequest)
		return zero, false
	}
	return v, true
}

// Answer writes the response of a result. retryAfter, in seconds, goes with
// Busy.
func Answer(w http.ResponseWriter, res Result, retryAfter int) {
	switch res {
	case Processed, NoCallback:
		respond(w, http.StatusOK, bodyOK)
	case Duplicate:
		respond(w, http.StatusOK, bodyDuplicate)
	case Busy:
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		respond(w, http.StatusConflict, bodyInProgress)
	case StoreFailed:
		w.Header().Set("Retry-After", "60")
		respond(w, http.StatusServiceUnavailable, bodyUnavailable)
	default:
		respond(w, http.StatusInternalServerError, bodyInternalError)
	}
}

// readBody reads the body, at most MaxBodyBytes. A declared length over the
// limit is refused before reading; the buffer grows with what arrives,
// never with what the client declares, so that a Content-Length alone
// costs the server nothing.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil // a hand-built request: an empty body, refused as such
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, &http.MaxBytesError{Limit: MaxBodyBytes}
	}
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	defer body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// respond writes a fixed plain-text answer.
func respond(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// PanicError is a recovered panic of a callback.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("callback panicked: %v", e.Value) }

// Run calls fn, turning a panic into a *PanicError.
func Run(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return fn()
}

// FailureAttrs are the log attributes of a failed callback: its error, with
// secrets and card numbers redacted and at most 500 bytes, and a panic's
// stack. reason is the error's text as logged.
func FailureAttrs(err error) (reason string, attrs []any) {
	reason = redact.Limit(redact.Text(err.Error()), 500)
	attrs = []any{"error", reason}
	var pe *PanicError
	if errors.As(err, &pe) {
		attrs = append(attrs, "stack", redact.Text(string(pe.Stack)))
	}
	return reason, attrs
}
