package stripegateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/b27de697/stripegateway/internal/money"
	"github.com/b27de697/stripegateway/internal/redact"

	"github.com/stripe/stripe-go/v76"
)

// Sentinel errors. Every error returned by this package matches one of these
// with errors.Is, and carries the detail (which field, which item, which
// event) in its message. Errors that come from Stripe's API also keep
// stripe-go's *stripe.Error reachable with errors.As.
var (
	// ErrInvalidConfig is returned by Config.Validate and New when the
	// configuration cannot be used. Use errors.As with *ConfigError to get one
	// error per field, and show each next to its field in the admin form.
	ErrInvalidConfig = errors.New("stripegateway: invalid configuration")

	// ErrGatewayDisabled is returned by payment operations of a gateway whose
	// Status is StatusInactive. Hide the payment method, or activate it.
	ErrGatewayDisabled = errors.New("stripegateway: gateway is disabled")

	// ErrInvalidAmount is returned for an amount that cannot be charged
	// exactly: negative, more decimals than the currency allows, above
	// Stripe's maximum, or a quantity below 1. Fix the price; nothing is
	// rounded for you.
	ErrInvalidAmount = money.ErrInvalidAmount

	// ErrBelowMinimum is returned when an order total is below the configured
	// MinimumAmount or below Stripe's minimum charge for the currency. Use
	// errors.As with *MinimumError to get the minimum that applies.
	ErrBelowMinimum = errors.New("stripegateway: amount below minimum")

	// ErrUnsupportedCurrency is returned for a currency code Stripe does not
	// charge in. Use a three-letter ISO 4217 code that Stripe supports.
	ErrUnsupportedCurrency = money.ErrUnsupportedCurrency

	// ErrInvalidRequest is returned when a request breaks one of Stripe's
	// limits or misses a required field (order ID, URLs, metadata sizes,
	// expiry window, line item count). The message names the field.
	ErrInvalidRequest = errors.New("stripegateway: invalid request")

	// ErrInvalidSignature is returned when a webhook's Stripe-Signature header
	// is missing, malformed, or matches none of the configured webhook
	// secrets. Check that the endpoint's signing secret is configured and
	// that the raw request body reaches VerifyAndParse unmodified.
	ErrInvalidSignature = errors.New("stripegateway: invalid webhook signature")

	// ErrTimestampOutsideTolerance is returned when a webhook's signed
	// timestamp is too old or too far in the future: a replay, or a server
	// clock that is off. Check the server's clock.
	ErrTimestampOutsideTolerance = errors.New("stripegateway: webhook timestamp outside tolerance")

	// ErrLivemodeMismatch is returned when a test-mode object or event reaches
	// a live gateway, or the reverse. Point the endpoint or keys at the
	// gateway of the matching mode.
	ErrLivemodeMismatch = errors.New("stripegateway: livemode mismatch")

	// ErrAPIVersionMismatch is returned for a webhook event rendered with an
	// API version this package does not know (it reads 2023-10-16 through
	// 2026-08-26.dahlia). Upgrade the package, pin the endpoint to a known
	// version (RegisterWebhookEndpoint pins stripe.APIVersion), or accept
	// the version deliberately with WithAcceptedAPIVersions.
	ErrAPIVersionMismatch = errors.New("stripegateway: webhook API version mismatch")

	// ErrInvalidPayload is returned for a webhook body that is correctly
	// signed but is not a Stripe event this package can decode.
	ErrInvalidPayload = errors.New("stripegateway: invalid webhook payload")

	// ErrSessionMismatch is returned by ConfirmCheckout when the Checkout
	// Session does not belong to the given order. Do not mark the order paid.
	ErrSessionMismatch = errors.New("stripegateway: checkout session does not belong to order")

	// ErrAuthentication is returned when Stripe rejects the secret key (HTTP
	// 401). Paste a current key from the Stripe dashboard.
	ErrAuthentication = errors.New("stripegateway: stripe rejected the API key")

	// ErrPermissionDenied is returned when a restricted key lacks a permission
	// the gateway needs (HTTP 403). Grant the permission named in the
	// message to the restricted key, or use a secret key.
	ErrPermissionDenied = errors.New("stripegateway: API key lacks a required permission")

	// ErrStripeAPI is returned for any other error answered by Stripe's API,
	// or for a failure to reach it. Use errors.As with *stripe.Error for
	// Stripe's type, code and request ID.
	ErrStripeAPI = errors.New("stripegateway: stripe API error")

	// ErrClaimLost is returned by EventStore.Complete and Release when the
	// caller no longer holds the claim: its lease ran out and another
	// delivery claimed the event, or the event was released or completed
	// meanwhile (a process that stalled longer than its lease without
	// renewing it). The handler logs it; the event's effect may have run
	// twice: for an effect exactly once, see sqlstore.TxHandlers.
	ErrClaimLost = errors.New("stripegateway: event claim lost")

	// ErrEventStoreFull is returned by the in-memory event store's Claim
	// when it holds its maximum number of events and none can be dropped
	// (all are being processed under an unexpired lease). The handler
	// answers 503, so Stripe delivers the event again later.
	ErrEventStoreFull = errors.New("stripegateway: event store full")
)

// FieldError is one problem with one field: of a Config (in a
// *ConfigError), or of a request such as a CheckoutRequest, so that a form
// can show the message next to its field.
type FieldError struct {
	// Field names the field as a Go expression on the Config or request,
	// e.g. "SecretKey", "OrderID", "Items[2].UnitAmount" or
	// `Metadata["size"]`.
	Field string
	// Message says what is wrong and what to do, without any secret.
	Message string
	// Err is the sentinel the error matches besides its container:
	// ErrInvalidRequest, ErrInvalidAmount or ErrUnsupportedCurrency for a
	// request; nil in a ConfigError, which matches ErrInvalidConfig.
	Err error
}

// newFieldError makes a request's FieldError. It is where a request error's
// text is redacted, once: the checks quote the values as given.
func newFieldError(sentinel error, field, format string, args ...any) *FieldError {
	return &FieldError{
		Field:   redact.Limit(redact.Text(field), 200),
		Message: redact.Limit(redact.Text(fmt.Sprintf(format, args...)), 1000),
		Err:     sentinel,
	}
}

// invalidField is an ErrInvalidRequest naming field.
func invalidField(field, format string, args ...any) error {
	return newFieldError(ErrInvalidRequest, field, format, args...)
}

// fieldErrorOf places an error of package money (ErrInvalidAmount or
// ErrUnsupportedCurrency) on a field.
func fieldErrorOf(err error, field string) error {
	sentinel := ErrInvalidAmount
	if errors.Is(err, ErrUnsupportedCurrency) {
		sentinel = ErrUnsupportedCurrency
	}
	return newFieldError(sentinel, field, "%s", strings.TrimPrefix(err.Error(), sentinel.Error()+": "))
}

// Error implements error: the sentinel's text (in a request), the field and
// the message.
func (e *FieldError) Error() string {
	if e.Err == nil {
		return e.Field + ": " + e.Message
	}
	return e.Err.Error() + ": " + e.Field + ": " + e.Message
}

// Unwrap returns Err.
func (e *FieldError) Unwrap() error { return e.Err }

// ConfigError lists every problem found by Config.Validate, one per field. It
// matches ErrInvalidConfig with errors.Is, and errors.As finds its first
// *FieldError.
type ConfigError struct {
	// Fields holds one entry per invalid field, in the order of Config's fields.
	Fields []*FieldError
}

// Error implements error.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvalidConfig.Error())
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Error())
	}
	return b.String()
}

// Unwrap returns ErrInvalidConfig and each *FieldError, so that errors.Is
// matches the sentinel and errors.As finds the first *FieldError.
func (e *ConfigError) Unwrap() []error {
	out := make([]error, 0, 1+len(e.Fields))
	out = append(out, ErrInvalidConfig)
	for _, f := range e.Fields {
		out = append(out, f)
	}
	return out
}

// apiError is an error answered by Stripe's API, or a failure to reach it,
// during the operation Op. It matches ErrAuthentication, ErrPermissionDenied
// or ErrStripeAPI with errors.Is, and stripe-go's *stripe.Error (when Stripe
// answered) with errors.As.
//
// Its message is built from the error's type, code, message and request ID
// only: (*stripe.Error).Error() is the raw JSON and may carry a client secret.
type apiError struct {
	// Op is the operation that failed, e.g. "create checkout session".
	Op string `json:"op"`
	// Kind is the sentinel this error matches.
	Kind error `json:"-"`
	// Err is stripe-go's error: a *stripe.Error when Stripe answered. It is
	// left out of JSON, as it may carry a client secret.
	Err error `json:"-"`
}

// Error implements error.
func (e *apiError) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	b.WriteString(": ")
	b.WriteString(e.Op)
	var se *stripe.Error
	if errors.As(e.Err, &se) {
		if se.HTTPStatusCode != 0 {
			fmt.Fprintf(&b, ": HTTP %d", se.HTTPStatusCode)
		}
		if se.Type != "" {
			fmt.Fprintf(&b, " %s", se.Type)
		}
		if se.Code != "" {
			fmt.Fprintf(&b, " (%s)", se.Code)
		}
		if se.DeclineCode != "" {
			fmt.Fprintf(&b, " decline_code=%s", se.DeclineCode)
		}
		if se.Param != "" {
			fmt.Fprintf(&b, " param=%s", redact.Limit(redact.Text(se.Param), 100))
		}
		if se.Msg != "" {
			fmt.Fprintf(&b, ": %s", redact.Text(se.Msg))
		}
		if se.RequestID != "" {
			fmt.Fprintf(&b, " [request %s]", se.RequestID)
		}
	} else if e.Err != nil {
		// A response that could not be decoded is quoted by stripe-go in
		// its error; keep only the start of it, which says what went wrong,
		// so that a truncated body cannot bring customer data into logs.
		b.WriteString(": ")
		b.WriteString(redact.Limit(redact.Text(e.Err.Error()), maxErrorDetail))
	}
	return b.String()
}

// Unwrap returns the sentinel and stripe-go's error.
func (e *apiError) Unwrap() []error { return []error{e.Kind, e.Err} }

// maxErrorDetail bounds how much of a non-Stripe error's text apiError shows.
const maxErrorDetail = 200

// wrapAPIError classifies an error from stripe-go. It returns nil for nil.
func wrapAPIError(op string, err error) error {
	if err == nil {
		return nil
	}
	kind := ErrStripeAPI
	var se *stripe.Error
	if errors.As(err, &se) {
		switch se.HTTPStatusCode {
		case http.StatusUnauthorized:
			kind = ErrAuthentication
		case http.StatusForbidden:
			kind = ErrPermissionDenied
		}
	}
	return &apiError{Op: op, Kind: kind, Err: err}
}

// stripeCallError wraps an error of a call to Stripe. When ctx has ended, the
// context's error is kept reachable with errors.Is even if stripe-go
// reported the aborted request differently.
func stripeCallError(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		var se *stripe.Error
		if !errors.As(err, &se) {
			err = fmt.Errorf("%w: %w", cerr, err)
		}
	}
	return wrapAPIError(op, err)
}

// Sources of a MinimumError.
const (
	// minimumSourceStore: the store's configured Config.MinimumAmount.
	minimumSourceStore = "store"
	// minimumSourceStripe: Stripe's minimum charge for the currency.
	minimumSourceStripe = "stripe"
)

// MinimumError is returned by CreateCheckout when the order total is below
// the minimum that applies. It matches ErrBelowMinimum with errors.Is.
type MinimumError struct {
	// Minimum is the smallest allowed total, in the currency's major unit.
	Minimum decimal.Decimal
	// Total is the order's total that was refused, in the major unit.
	Total decimal.Decimal
	// Currency is the order's lowercase ISO 4217 code, e.g. "eur".
	Currency string
	// Source says whose minimum it is: minimumSourceStore (the configured
	// MinimumAmount) or minimumSourceStripe (Stripe's minimum charge). When
	// both are broken, it is the larger of the two.
	Source string
}

// Error implements error.
func (e *MinimumError) Error() string {
	code := strings.ToUpper(e.Currency)
	whose := "the store's minimum order total"
	if e.Source == minimumSourceStripe {
		whose = "Stripe's minimum charge"
	}
	cur, _ := money.Lookup(e.Currency)
	return fmt.Sprintf("%s: order total %s %s is below %s of %s %s",
		ErrBelowMinimum.Error(), amountString(cur, e.Total), code, whose, amountString(cur, e.Minimum), code)
}

// Unwrap returns ErrBelowMinimum.
func (e *MinimumError) Unwrap() error { return ErrBelowMinimum }

// amountString formats an amount with the currency's usual decimals
// ("0.50", not "0.5") when that shows it exactly, and as is otherwise.
func amountString(cur money.Currency, d decimal.Decimal) string {
	if cur.Code() == "" {
		return d.String()
	}
	places := cur.Decimals()
	if d.Exponent() >= -places || d.Equal(d.Truncate(places)) {
		return d.StringFixed(places)
	}
	return d.String()
}
