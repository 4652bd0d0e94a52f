package stripegateway

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/b27de697/stripegateway/internal/wire"
)

// This file verifies Stripe's webhook requests: VerifyAndParse checks the
// signature and the timestamp here, then decodes the event (decode.go) and
// maps it to an Outcome (mapping.go). The http.Handler is in handler.go.

// acceptsAPIVersion reports whether events rendered with version v are
// decoded: every version this package knows, and those accepted with
// WithAcceptedAPIVersions.
func (w webhookOptions) acceptsAPIVersion(v string) bool {
	if _, ok := wire.ShapeOf(v); ok {
		return true
	}
	return slices.Contains(w.apiVersions, v)
}

// VerifyAndParse verifies a webhook request and decodes its event into an
// Outcome. payload must be the raw request body, byte for byte as received,
// and signatureHeader the request's Stripe-Signature header.
//
// The signature is checked with stripe-go's webhook package against every
// configured webhook secret (Config.WebhookSecret, then
// Config.PreviousWebhookSecrets), so that a secret can be rolled. The signed
// timestamp must be within the tolerance (WithWebhookTolerance) of the
// gateway's clock, in the past or in the future.
//
// Errors match, with errors.Is:
//   - ErrInvalidSignature: no or a malformed Stripe-Signature header, or no
//     signature made with a configured secret. It also matches stripe-go's
//     webhook.ErrNotSigned, webhook.ErrInvalidHeader or
//     webhook.ErrNoValidSignature.
//   - ErrTimestampOutsideTolerance: a replay, or a clock that is off. It also
//     matches webhook.ErrTooOld, for a timestamp too far in the future too.
//   - ErrInvalidPayload: a correctly signed body that is not a Stripe event
//     this package can decode.
//   - ErrLivemodeMismatch: a test-mode event reaching a live gateway, or the
//     reverse.
//   - ErrAPIVersionMismatch: an event rendered with an API version this
//     package does not know (see WithAcceptedAPIVersions).
//
// Any authentic event gives an Outcome: events this package does not
// interpret have Kind Unhandled, which is not an error. VerifyAndParse never
// panics, whatever the input.
//
// The event is decoded once: at 2023-10-16 straight into the stripe-go type
// its Outcome carries, at any other version into the few fields an Outcome
// needs; stripe.Event is not used.
func (g *Gateway) VerifyAndParse(payload []byte, signatureHeader string) (*Outcome, error) {
	if err := g.verifySignature(payload, signatureHeader); err != nil {
		return nil, err
	}
	return g.parseEvent(payload)
}

// verifySignature checks the Stripe-Signature header with stripe-go, then the
// signed timestamp against the gateway's clock.
//
// stripe-go's own tolerance check (ValidatePayloadWithTolerance) cannot be
// used: it reads time.Now instead of the gateway's clock, accepts any
// timestamp in the future, and treats a tolerance of 0 differently from
// ConstructEventWithOptions. So the signature is checked with
// ValidatePayloadIgnoringTolerance, and the timestamp here.
func (g *Gateway) verifySignature(payload []byte, header string) error {
	secrets := g.cfg.webhookSecrets()
	var err error
	ok := false
	for _, secret := range secrets {
		err = webhook.ValidatePayloadIgnoringTolerance(payload, header, secret)
		if err == nil {
			ok = true
			break
		}
		if errors.Is(err, webhook.ErrNotSigned) || errors.Is(err, webhook.ErrInvalidHeader) {
			break // a header problem is the same for every secret
		}
	}
	if !ok {
		switch {
		case len(secrets) == 0:
			return fmt.Errorf("%w: no webhook signing secret is configured: set Config.WebhookSecret to the endpoint's signing secret (whsec_…): %w",
				ErrInvalidSignature, webhook.ErrNoValidSignature)
		case errors.Is(err, webhook.ErrNotSigned):
			return fmt.Errorf("%w: the request has no Stripe-Signature header; is the endpoint called by Stripe?: %w",
				ErrInvalidSignature, err)
		case errors.Is(err, webhook.ErrInvalidHeader):
			return fmt.Errorf("%w: the Stripe-Signature header is malformed: %w", ErrInvalidSignature, err)
		default:
			return fmt.Errorf("%w: no v1 signature in the Stripe-Signature header was made with the %d configured webhook secret(s) over this body; check that Config.WebhookSecret is this endpoint's signing secret and that the raw request body reaches VerifyAndParse unmodified (not re-encoded JSON): %w",
				ErrInvalidSignature, len(secrets), err)
		}
	}

	signedAt, found := signatureTimestamp(header)
	if !found {
		return fmt.Errorf("%w: the Stripe-Signature header has no t= timestamp: %w", ErrInvalidSignature, webhook.ErrInvalidHeader)
	}
	now := g.opts.now()
	tol := g.opts.webhook.tolerance
	switch age := now.Sub(signedAt); {
	case age > tol:
		return fmt.Errorf("%w: the request was signed at %s, %s before the gateway's clock (%s), more than the tolerance of %s: a replayed request, or a server clock that is off: %w",
			ErrTimestampOutsideTolerance, signedAt.UTC().Format(time.RFC3339), age.Round(time.Second), now.UTC().Format(time.RFC3339), tol, webhook.ErrTooOld)
	case age < -tol:
		return fmt.Errorf("%w: the request was signed at %s, %s after the gateway's clock (%s), more than the tolerance of %s: check the server's clock: %w",
			ErrTimestampOutsideTolerance, signedAt.UTC().Format(time.RFC3339), (-age).Round(time.Second), now.UTC().Format(time.RFC3339), tol, webhook.ErrTooOld)
	}
	return nil
}

// signatureTimestamp returns the t= timestamp of a Stripe-Signature header
// that webhook.ValidatePayloadIgnoringTolerance has accepted.
//
// stripe-go exports no accessor for the timestamp it verified, so it is read
// here. This is not a second header parser: the header has been parsed and
// the HMAC (which covers the timestamp) verified by stripe-go. This only
// picks the t value out of the "k=v,k=v" pairs exactly as stripe-go's parser
// does (the last t= wins), so the timestamp checked is the one the verified
// signature covers.
func signatureTimestamp(header string) (time.Time, bool) {
	var t string
	found := false
	for pair := range strings.SplitSeq(header, ",") {
		if k, v, ok := strings.Cut(pair, "="); ok && k == "t" {
			t, found = v, true
		}
	}
	if !found {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}

// EventTypes returns the events a webhook endpoint must send: exactly those
// this package interprets (see Kind). RegisterWebhookEndpoint enables them;
// when creating an endpoint in the dashboard, select these. The slice is a
// new copy on every call.
func EventTypes() []stripe.EventType {
	out := make([]stripe.EventType, len(eventSpecs))
	for i, s := range eventSpecs {
		out[i] = s.typ
	}
	return out
}
