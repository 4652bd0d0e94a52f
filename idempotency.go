package stripegateway

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/form"
)

// This file derives the idempotency keys of the gateway's writes, so that a
// call retried after a timeout never creates a second session, capture or
// refund.

// maxIdempotencyKeyLength is Stripe's (and stripe-go's) limit.
const maxIdempotencyKeyLength = 255

// checkIdempotencyKey validates a caller's idempotency key.
func checkIdempotencyKey(field, key string) error {
	if len(key) > maxIdempotencyKeyLength {
		return invalidField(field, "is %d characters long; Stripe allows at most %d", len(key), maxIdempotencyKeyLength)
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] > '~' {
			return invalidField(field, "may only contain printable ASCII characters without spaces")
		}
	}
	if key == "" {
		return invalidField(field, "is empty")
	}
	return nil
}

// checkOptionalIdempotencyKey validates a request's IdempotencyKey field,
// which may be empty.
func checkOptionalIdempotencyKey(key string) error {
	if key == "" {
		return nil
	}
	return checkIdempotencyKey("IdempotencyKey", key)
}

// checkoutIdempotencyKey derives the idempotency key of a Checkout Session
// from the order ID and a SHA-256 hash of the encoded form that is sent, so
// the same request always gives the same key and any change gives another.
// The "v2" names this derivation.
func checkoutIdempotencyKey(orderID string, values *form.Values) string {
	// form.Values encodes in a fixed order (struct fields in order, map
	// keys sorted), so equal requests give equal text.
	h := sha256.New()
	_, _ = io.WriteString(h, "stripegateway checkout v2\n")
	_, _ = io.WriteString(h, values.Encode())
	return "stripegateway-checkout-" + idempotencySafe(orderID, 100) + "-" + hex.EncodeToString(h.Sum(nil))
}

// operationIdempotencyKey derives the key of a capture, cancellation, refund
// or expiry from its operation, object and arguments.
func operationIdempotencyKey(op, id string, parts ...string) string {
	key := "stripegateway-" + op + "-" + idempotencySafe(id, 120)
	for _, p := range parts {
		if p != "" {
			key += "-" + idempotencySafe(p, 40)
		}
	}
	return key
}

// idempotencySafe keeps ASCII letters, digits, '_' and '-' of s, replaces anything
// else with '_', and cuts the result at max bytes.
func idempotencySafe(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < max; i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// isReplayed reports whether Stripe answered with the stored response of an
// earlier request with the same idempotency key.
func isReplayed(r *stripe.APIResponse) bool {
	return r != nil && strings.EqualFold(r.Header.Get("Idempotent-Replayed"), "true")
}
