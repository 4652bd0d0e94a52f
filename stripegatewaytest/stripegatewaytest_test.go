package stripegatewaytest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

const (
	secret  = "whsec_xxxkittestsigningsecretvalue0001"
	secret2 = "whsec_xxxkittestrotatedsecretvalue0002"
)

var now = time.Date(2024, 2, 29, 23, 59, 30, 0, time.UTC)

func gateway(t *testing.T, mode stripegateway.Mode, secrets ...string) *stripegateway.Gateway {
	t.Helper()
	cfg := stripegateway.Config{
		DisplayName: "Credit Card", Status: stripegateway.StatusActive, Mode: stripegateway.ModeTest,
		PublishableKey: "pk_test_51Hkitpublishablekey000001", SecretKey: "sk_test_51Hkitsecretkeyvalue000001",
		WebhookSecret: secret,
	}
	if mode == stripegateway.ModeLive {
		cfg.Mode, cfg.PublishableKey, cfg.SecretKey = mode, "pk_live_51Hkitpublishablekey000001", "sk_live_51Hkitsecretkeyvalue000001"
	}
	if len(secrets) > 0 {
		cfg.WebhookSecret = stripegateway.Secret(secrets[0])
		for _, s := range secrets[1:] {
			cfg.PreviousWebhookSecrets = append(cfg.PreviousWebhookSecrets, stripegateway.Secret(s))
		}
	}
	g, err := stripegateway.New(cfg, stripegateway.WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	return g
}

func TestForKind(t *testing.T) {
	g := gateway(t, stripegateway.ModeTest)
	kinds := []stripegateway.Kind{
		stripegateway.PaymentSucceeded, stripegateway.PaymentPending, stripegateway.PaymentAuthorized,
		stripegateway.PaymentFailed, stripegateway.PaymentCanceled, stripegateway.CheckoutExpired,
		stripegateway.PaymentRefunded, stripegateway.PaymentDisputed, stripegateway.SubscriptionCanceled,
		stripegateway.InvoiceCreated, stripegateway.Unhandled,
	}
	amounts := []struct{ amount, currency string }{
		{"19.99", "eur"}, {"0.5", "usd"}, {"5000", "jpy"}, {"12.34", "kwd"}, {"1.2", "bhd"}, {"7", "isk"}, {"999999.99", "gbp"},
	}
	for _, kind := range kinds {
		for _, a := range amounts {
			t.Run(string(kind)+"/"+a.currency, func(t *testing.T) {
				amount := decimal.RequireFromString(a.amount)
				ev := stripegatewaytest.ForKind(kind, "order-7", amount, a.currency)
				p := ev.MustJSON()
				o, err := g.VerifyAndParse(p, stripegatewaytest.SignatureHeader(p, secret, stripegatewaytest.At(now)))
				require.NoError(t, err)
				assert.Equal(t, kind, o.Kind)
				assert.Equal(t, ev.ID, o.EventID)
				switch kind {
				case stripegateway.PaymentDisputed, stripegateway.Unhandled:
					assert.Empty(t, o.OrderID, "not read from disputes or uninterpreted events")
				default:
					assert.Equal(t, "order-7", o.OrderID)
				}
				switch kind {
				case stripegateway.SubscriptionCanceled, stripegateway.Unhandled:
					assert.True(t, o.Amount.IsZero())
				default:
					assert.Truef(t, amount.Equal(o.Amount), "amount %s, want %s", o.Amount, amount)
					assert.Equal(t, a.currency, o.Currency)
				}
				if kind == stripegateway.PaymentFailed {
					assert.False(t, o.Final)
					assert.Equal(t, "card_declined", o.FailureCode)
					assert.Equal(t, "generic_decline", o.DeclineCode)
					assert.Equal(t, "Your card was declined.", o.FailureMessage)
				}
			})
		}
	}
	assert.Panics(t, func() { stripegatewaytest.ForKind("no_such_kind", "o", decimal.Zero, "usd") })
}

func TestNewEventEveryType(t *testing.T) {
	g := gateway(t, stripegateway.ModeTest)
	for _, typ := range stripegateway.EventTypes() {
		ev := stripegatewaytest.NewEvent(typ, "order-9", decimal.RequireFromString("42.10"), "EUR")
		p := ev.MustJSON()
		o, err := g.VerifyAndParse(p, stripegatewaytest.SignatureHeader(p, secret, stripegatewaytest.At(now)))
		require.NoError(t, err, typ)
		assert.Equal(t, typ, o.EventType)
		assert.Equal(t, "eur", o.Currency, typ)
		assert.NotEqual(t, stripegateway.Unhandled, o.Kind, typ)
	}
}

func TestEventVariants(t *testing.T) {
	g := gateway(t, stripegateway.ModeTest)
	parse := func(ev stripegatewaytest.Event) *stripegateway.Outcome {
		t.Helper()
		p := ev.MustJSON()
		o, err := g.VerifyAndParse(p, stripegatewaytest.SignatureHeader(p, secret, stripegatewaytest.At(now)))
		require.NoError(t, err)
		return o
	}
	amount := decimal.RequireFromString("29.00")

	ev := stripegatewaytest.NewEvent(stripe.EventTypeInvoicePaymentFailed, "sub-order", amount, "usd")
	o := parse(ev)
	assert.Equal(t, stripegateway.PaymentFailed, o.Kind)
	assert.True(t, o.Final, "no retry scheduled")
	ev.NextPaymentAttempt = now.Add(72 * time.Hour)
	o = parse(ev)
	assert.False(t, o.Final, "Stripe retries")
	assert.Equal(t, now.Add(72*time.Hour), o.NextPaymentAttempt)

	ev = stripegatewaytest.NewEvent(stripe.EventTypeChargeRefunded, "o-1", decimal.RequireFromString("12.34"), "kwd")
	ev.AmountRefunded = decimal.RequireFromString("5.1")
	o = parse(ev)
	assert.Equal(t, stripegateway.PaymentRefunded, o.Kind)
	assert.Equal(t, "5.1", o.Amount.String())
	assert.Equal(t, int64(5100), o.AmountMinor)
	assert.False(t, o.Charge.Refunded, "a partial refund")

	ev = stripegatewaytest.NewEvent(stripe.EventTypeCheckoutSessionCompleted, "o-2", amount, "usd")
	ev.PaymentStatus = stripe.CheckoutSessionPaymentStatusNoPaymentRequired
	assert.Equal(t, stripegateway.PaymentSucceeded, parse(ev).Kind)

	for typ, kind := range map[stripe.EventType]stripegateway.Kind{
		stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded: stripegateway.PaymentSucceeded,
		stripe.EventTypeCheckoutSessionAsyncPaymentFailed:    stripegateway.PaymentFailed,
		stripe.EventTypePaymentIntentSucceeded:               stripegateway.PaymentSucceeded,
		stripe.EventTypePaymentIntentProcessing:              stripegateway.PaymentPending,
		stripe.EventTypePaymentIntentAmountCapturableUpdated: stripegateway.PaymentAuthorized,
		stripe.EventTypeInvoicePaid:                          stripegateway.PaymentSucceeded,
		stripe.EventTypeInvoicePaymentSucceeded:              stripegateway.PaymentSucceeded,
	} {
		assert.Equal(t, kind, parse(stripegatewaytest.NewEvent(typ, "o-3", amount, "usd")).Kind, typ)
	}

	ev = stripegatewaytest.ForKind(stripegateway.PaymentDisputed, "o-4", amount, "usd")
	ev.PaymentIntentID = "pi_3KnownPaymentIntent0001"
	assert.Equal(t, "pi_3KnownPaymentIntent0001", parse(ev).PaymentIntentID)

	// Live mode needs a live gateway.
	ev = stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "o-5", amount, "usd")
	ev.Livemode = true
	p := ev.MustJSON()
	_, err := g.VerifyAndParse(p, stripegatewaytest.SignatureHeader(p, secret, stripegatewaytest.At(now)))
	assert.ErrorIs(t, err, stripegateway.ErrLivemodeMismatch)
	o, err = gateway(t, stripegateway.ModeLive).VerifyAndParse(p, stripegatewaytest.SignatureHeader(p, secret, stripegatewaytest.At(now)))
	require.NoError(t, err)
	assert.True(t, o.Livemode)
	assert.Contains(t, o.SessionID, "cs_live_")

	// An API version the gateway does not know is refused.
	ev.Livemode, ev.APIVersion = false, "2022-11-15"
	p = ev.MustJSON()
	_, err = g.VerifyAndParse(p, stripegatewaytest.SignatureHeader(p, secret, stripegatewaytest.At(now)))
	assert.ErrorIs(t, err, stripegateway.ErrAPIVersionMismatch)
}

func TestJSONShape(t *testing.T) {
	ev := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "order-1", decimal.RequireFromString("10"), "usd")
	a, b := ev.MustJSON(), ev.MustJSON()
	assert.Equal(t, a, b, "the same event gives the same bytes")

	var env map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(a, &env))
	assert.JSONEq(t, `"2023-10-16"`, string(env["api_version"]))
	assert.JSONEq(t, `"event"`, string(env["object"]))
	assert.True(t, bytes.HasSuffix(bytes.TrimSpace(a), []byte(`"type": "checkout.session.completed"
}`)), "type is the last key, as Stripe sends it")

	other := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "order-1", decimal.RequireFromString("10"), "usd")
	assert.NotEqual(t, ev.ID, other.ID, "each event has its own ID")

	var zero stripegatewaytest.Event
	zero.Type = stripe.EventTypeCustomerCreated
	_, err := zero.JSON()
	assert.NoError(t, err, "the zero Event with a type builds")
}

func TestJSONErrors(t *testing.T) {
	_, err := stripegatewaytest.Event{}.JSON()
	assert.Error(t, err)
	_, err = stripegatewaytest.NewEvent(stripe.EventTypeChargeRefunded, "o", decimal.RequireFromString("1.5"), "jpy").JSON()
	assert.ErrorIs(t, err, stripegateway.ErrInvalidAmount)
	_, err = stripegatewaytest.NewEvent(stripe.EventTypeChargeRefunded, "o", decimal.RequireFromString("1"), "xyz").JSON()
	assert.ErrorIs(t, err, stripegateway.ErrUnsupportedCurrency)
	ev := stripegatewaytest.NewEvent(stripe.EventTypeChargeRefunded, "o", decimal.RequireFromString("1"), "kwd")
	ev.AmountRefunded = decimal.RequireFromString("0.001")
	_, err = ev.JSON()
	assert.ErrorIs(t, err, stripegateway.ErrInvalidAmount)
	assert.Panics(t, func() { stripegatewaytest.Event{}.MustJSON() })
}

func TestSignOptions(t *testing.T) {
	p := stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "order-1", decimal.RequireFromString("10"), "usd").MustJSON()
	g := gateway(t, stripegateway.ModeTest)
	verify := func(g *stripegateway.Gateway, opts ...stripegatewaytest.SignOption) error {
		_, err := g.VerifyAndParse(p, stripegatewaytest.SignatureHeader(p, secret, opts...))
		return err
	}
	assert.NoError(t, verify(g, stripegatewaytest.At(now)))
	assert.ErrorIs(t, verify(g, stripegatewaytest.At(now), stripegatewaytest.Expired()), stripegateway.ErrTimestampOutsideTolerance)
	assert.ErrorIs(t, verify(g, stripegatewaytest.At(now), stripegatewaytest.WrongSecret()), stripegateway.ErrInvalidSignature)
	assert.ErrorIs(t, verify(g), stripegateway.ErrTimestampOutsideTolerance, "signed at the real time, far from the gateway's clock")

	// A gateway that knows only the rotated secret accepts a request signed
	// with both, as Stripe signs while a secret is rolled.
	rotated := gateway(t, stripegateway.ModeTest, secret2)
	assert.ErrorIs(t, verify(rotated, stripegatewaytest.At(now)), stripegateway.ErrInvalidSignature)
	assert.NoError(t, verify(rotated, stripegatewaytest.At(now), stripegatewaytest.AlsoSignedWith(secret2)))
	assert.NoError(t, verify(rotated, stripegatewaytest.At(now), stripegatewaytest.WrongSecret(), stripegatewaytest.AlsoSignedWith(secret2)))
}

func TestNewRequest(t *testing.T) {
	p := []byte(`{"id":"evt_1"}`)
	r := stripegatewaytest.NewRequest("https://shop.example/gateways/stripe/notification", p, secret)
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/gateways/stripe/notification", r.URL.Path)
	assert.Equal(t, "application/json; charset=utf-8", r.Header.Get("Content-Type"))
	assert.Regexp(t, `^t=\d+,v1=[0-9a-f]{64}$`, r.Header.Get("Stripe-Signature"))
	assert.Equal(t, int64(len(p)), r.ContentLength)
	assert.Regexp(t, `^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$`, stripegatewaytest.SignatureHeader(p, secret, stripegatewaytest.AlsoSignedWith(secret2)))
}

// allKinds is every Kind ForKind builds.
var allKinds = []stripegateway.Kind{
	stripegateway.PaymentSucceeded, stripegateway.PaymentPending, stripegateway.PaymentAuthorized,
	stripegateway.PaymentFailed, stripegateway.PaymentActionRequired, stripegateway.PaymentCanceled,
	stripegateway.CheckoutExpired, stripegateway.PaymentRefunded, stripegateway.RefundFailed,
	stripegateway.PaymentDisputed, stripegateway.DisputeClosed, stripegateway.SubscriptionUpdated,
	stripegateway.SubscriptionCanceled, stripegateway.InvoiceCreated, stripegateway.Unhandled,
}

// TestNewKindsOutcome checks, at 2023-10-16, what the gateway reports for
// the events of the kinds and fields added for subscriptions and for money
// after payment.
func TestNewKindsOutcome(t *testing.T) {
	g := gateway(t, stripegateway.ModeTest)
	parse := func(ev stripegatewaytest.Event) *stripegateway.Outcome {
		t.Helper()
		p := ev.MustJSON()
		o, err := g.VerifyAndParse(p, stripegatewaytest.SignatureHeader(p, secret, stripegatewaytest.At(now)))
		require.NoError(t, err)
		return o
	}
	amount := decimal.RequireFromString("29.00")
	start, end := now.Add(-24*time.Hour).Truncate(time.Second), now.Add(30*24*time.Hour).Truncate(time.Second)
	period := func(e *stripegatewaytest.Event) { e.PeriodStart, e.PeriodEnd = start, end }

	o := parse(stripegatewaytest.ForKind(stripegateway.PaymentActionRequired, "sub-order", amount, "usd"))
	assert.Equal(t, stripegateway.PaymentActionRequired, o.Kind)
	assert.Equal(t, "sub-order", o.OrderID)
	assert.True(t, amount.Equal(o.Amount))
	assert.Regexp(t, `^https://invoice\.stripe\.com/i/acct_\w+/test_\w+`, o.HostedInvoiceURL)
	assert.Equal(t, "subscription_create", o.BillingReason)
	assert.False(t, o.Renewal)

	o = parse(stripegatewaytest.NewEvent(stripe.EventTypeInvoicePaid, "sub-order", amount, "usd", stripegatewaytest.Renewal(), period))
	assert.Equal(t, "subscription_cycle", o.BillingReason)
	assert.True(t, o.Renewal)
	assert.Equal(t, start, o.PeriodStart.UTC())
	assert.Equal(t, end, o.PeriodEnd.UTC())

	ev := stripegatewaytest.ForKind(stripegateway.RefundFailed, "o-1", decimal.RequireFromString("12.34"), "kwd")
	o = parse(ev)
	assert.Equal(t, stripegateway.RefundFailed, o.Kind)
	assert.Equal(t, "12.34", o.Amount.String())
	assert.Equal(t, "expired_or_canceled_card", o.FailureReason)
	assert.Regexp(t, `^re_`, o.RefundID)
	assert.Empty(t, o.OrderID, "Stripe does not copy metadata to refunds")
	ev.RefundStatus = "succeeded"
	assert.Equal(t, stripegateway.Unhandled, parse(ev).Kind, "charge.refunded already reported it")

	ev = stripegatewaytest.ForKind(stripegateway.DisputeClosed, "o-2", amount, "usd")
	ev.PaymentIntentID = "pi_3KnownPaymentIntent0002"
	o = parse(ev)
	assert.Equal(t, stripegateway.DisputeClosed, o.Kind)
	assert.Equal(t, "lost", o.DisputeStatus)
	assert.Equal(t, "pi_3KnownPaymentIntent0002", o.PaymentIntentID)
	assert.True(t, amount.Equal(o.Amount))
	ev.DisputeStatus = "won"
	assert.Equal(t, "won", parse(ev).DisputeStatus)

	o = parse(stripegatewaytest.ForKind(stripegateway.SubscriptionUpdated, "o-3", amount, "usd", period))
	assert.Equal(t, stripegateway.SubscriptionUpdated, o.Kind)
	assert.Equal(t, "past_due", o.SubscriptionStatus)
	assert.False(t, o.CancelAtPeriodEnd)
	assert.Equal(t, end, o.PeriodEnd.UTC())
	o = parse(stripegatewaytest.ForKind(stripegateway.SubscriptionUpdated, "o-3", amount, "usd",
		func(e *stripegatewaytest.Event) { e.SubscriptionStatus, e.CancelAtPeriodEnd = "active", true }))
	assert.Equal(t, "active", o.SubscriptionStatus)
	assert.True(t, o.CancelAtPeriodEnd)

	o = parse(stripegatewaytest.ForKind(stripegateway.SubscriptionCanceled, "o-4", amount, "usd"))
	assert.Equal(t, "canceled", o.SubscriptionStatus)

	o = parse(stripegatewaytest.NewEvent(stripe.EventTypeCheckoutSessionCompleted, "o-5", amount, "usd", stripegatewaytest.SetupMode()))
	assert.Equal(t, stripegateway.Unhandled, o.Kind, "a setup session moves no money")
}
