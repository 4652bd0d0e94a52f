package stripegatewaytest_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/internal/wire"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// The tests of this file check the objects' layout at every API version
// against Stripe's example objects of that version (testdata/apiversions,
// from stripe-mock; see its README), and the fields an Event sets.

// fixture is a Stripe example object of API version v, from
// testdata/apiversions, or nil when that version has none.
func fixture(t *testing.T, v, object string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "apiversions", v, object+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// renderedObject builds ev and returns its api_version and data.object.
func renderedObject(t *testing.T, ev stripegatewaytest.Event) (string, map[string]any) {
	t.Helper()
	var env struct {
		APIVersion string `json:"api_version"`
		Data       struct {
			Object map[string]any `json:"object"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(ev.MustJSON(), &env))
	return env.APIVersion, env.Data.Object
}

// dig follows a path of keys and list indexes ("lines", "data", 0, ...).
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func has(v any, key string, path ...any) bool {
	m, _ := dig(v, path...).(map[string]any)
	_, ok := m[key]
	return ok
}

// notInFixture lists keys the builders write that are in the OpenAPI spec
// of every version they are written at, but not in stripe-mock's example
// objects, which show one state of each object.
var notInFixture = map[string][]string{
	// Only a refund that failed has them; the example refund succeeded.
	"refund": {"failure_reason", "failure_balance_transaction"},
	// A subscription line's item; the example line is an invoice item's.
	// plan is in the examples from 2024-04-10 on.
	"line_item": {"subscription_item", "plan"},
	// In the examples from 2024-04-10 on.
	"payment_intent": {"source"},
}

// fitsFixture checks that the keys obj shares with the fixture hold the same
// kind of JSON value, and that every key of obj is in the fixture.
func fitsFixture(t *testing.T, what string, obj, fix map[string]any, extra []string) {
	t.Helper()
	for k, v := range obj {
		fv, ok := fix[k]
		if !ok {
			assert.Containsf(t, extra, k, "%s.%s is not in the API version's example object", what, k)
			continue
		}
		if v != nil && fv != nil {
			assert.IsTypef(t, fv, v, "%s.%s", what, k)
		}
	}
}

// TestAPIVersionShapes builds every kind at every API version and checks
// the object against Stripe's example object of that version, where
// testdata/apiversions has one, and against the fields each layout moved.
func TestAPIVersionShapes(t *testing.T) {
	amount := decimal.RequireFromString("19.99")
	for _, v := range wire.APIVersions {
		for _, kind := range allKinds {
			t.Run(v.Name+"/"+string(kind), func(t *testing.T) {
				ev := stripegatewaytest.ForKind(kind, "order-7", amount, "eur", stripegatewaytest.WithAPIVersion(v.Name))
				version, obj := renderedObject(t, ev)
				assert.Equal(t, v.Name, version)
				object, _ := obj["object"].(string)
				require.NotEmpty(t, object)
				checkLayout(t, v.Shape, object, obj)
				fix := fixture(t, v.Name, object)
				if fix == nil {
					return // no example objects of this version
				}
				fitsFixture(t, object, obj, fix, notInFixture[object])
				switch object {
				case "invoice":
					line, fixLine := dig(obj, "lines", "data", 0).(map[string]any), dig(fix, "lines", "data", 0).(map[string]any)
					fitsFixture(t, "invoice.lines.data[0]", line, fixLine, notInFixture["line_item"])
					if v.Shape == wire.Basil {
						fitsFixture(t, "invoice.parent", obj["parent"].(map[string]any), fix["parent"].(map[string]any), nil)
						fitsFixture(t, "invoice.lines.data[0].parent", line["parent"].(map[string]any), fixLine["parent"].(map[string]any), nil)
						fitsFixture(t, "invoice.lines.data[0].parent.subscription_item_details",
							dig(line, "parent", "subscription_item_details").(map[string]any),
							dig(fixLine, "parent", "subscription_item_details").(map[string]any), nil)
					}
				case "subscription":
					fitsFixture(t, "subscription.items.data[0]", dig(obj, "items", "data", 0).(map[string]any),
						dig(fix, "items", "data", 0).(map[string]any), nil)
				}
			})
		}
	}
}

// checkLayout checks where a layout puts the fields an outcome is read
// from.
func checkLayout(t *testing.T, shape wire.Shape, object string, obj map[string]any) {
	t.Helper()
	basil := shape == wire.Basil
	switch object {
	case "invoice":
		sub := dig(obj, "lines", "data", 0, "subscription")
		require.NotEmpty(t, sub)
		for _, k := range []string{"subscription", "subscription_details", "payment_intent", "charge", "paid"} {
			assert.Equalf(t, !basil, has(obj, k), "invoice.%s", k)
		}
		for _, k := range []string{"type", "proration", "subscription_item", "price"} {
			assert.Equalf(t, !basil, has(obj, k, "lines", "data", 0), "invoice.lines.data[0].%s", k)
		}
		assert.Equal(t, basil, has(obj, "pricing", "lines", "data", 0))
		if basil {
			assert.Equal(t, "subscription_details", dig(obj, "parent", "type"))
			assert.Nil(t, dig(obj, "parent", "quote_details"))
			assert.Equal(t, sub, dig(obj, "parent", "subscription_details", "subscription"))
			assert.Equal(t, "order-7", dig(obj, "parent", "subscription_details", "metadata", "order_id"))
			line := dig(obj, "lines", "data", 0, "parent")
			assert.Equal(t, "subscription_item_details", dig(line, "type"))
			assert.Nil(t, dig(line, "invoice_item_details"))
			assert.Equal(t, sub, dig(line, "subscription_item_details", "subscription"))
			assert.Regexp(t, `^si_`, dig(line, "subscription_item_details", "subscription_item"))
			assert.Equal(t, false, dig(line, "subscription_item_details", "proration"))
		} else {
			assert.Equal(t, sub, obj["subscription"])
			assert.Equal(t, "order-7", dig(obj, "subscription_details", "metadata", "order_id"))
			assert.Equal(t, "subscription", dig(obj, "lines", "data", 0, "type"))
		}
		assert.Positive(t, dig(obj, "lines", "data", 0, "period", "end"))
	case "subscription":
		for _, k := range []string{"current_period_start", "current_period_end"} {
			assert.Equalf(t, !basil, has(obj, k), "subscription.%s", k)
			assert.Equalf(t, basil, has(obj, k, "items", "data", 0), "subscription.items.data[0].%s", k)
		}
	case "payment_intent", "charge":
		assert.Equalf(t, !basil, has(obj, "invoice"), "%s.invoice", object)
	case "checkout.session":
		assert.Equal(t, !basil, has(obj, "shipping_details"))
		assert.Equal(t, basil, has(obj, "collected_information"))
	}
}

func TestUnknownAPIVersionIsNewest(t *testing.T) {
	for _, kind := range allKinds {
		ev := stripegatewaytest.ForKind(kind, "order-7", decimal.RequireFromString("5"), "usd")
		ev.APIVersion = wire.Newest
		_, newest := renderedObject(t, ev)
		ev.APIVersion = "2099-01-01.zeta"
		version, unknown := renderedObject(t, ev)
		assert.Equal(t, "2099-01-01.zeta", version)
		assert.Equal(t, newest, unknown, kind)
	}
}

func TestEventFields(t *testing.T) {
	amount := decimal.RequireFromString("12.50")
	for _, v := range []string{"2023-10-16", "2025-02-24.acacia", "2025-03-31.basil", "2026-08-26.dahlia"} {
		t.Run(v, func(t *testing.T) {
			at := stripegatewaytest.WithAPIVersion(v)
			basil := v >= "2025-03-31"

			_, s := renderedObject(t, stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "o-1", amount, "eur", at))
			assert.Equal(t, "payment", s["mode"])
			assert.Equal(t, map[bool]string{false: "hosted", true: "hosted_page"}[v >= "2026-03-25"], s["ui_mode"])

			_, s = renderedObject(t, stripegatewaytest.NewEvent(stripe.EventTypeCheckoutSessionCompleted, "o-1", amount, "eur", at, stripegatewaytest.SetupMode()))
			assert.Equal(t, "setup", s["mode"])
			assert.Nil(t, s["amount_total"])
			assert.Nil(t, s["currency"])
			assert.Nil(t, s["payment_intent"])
			assert.Equal(t, "no_payment_required", s["payment_status"])
			assert.Regexp(t, `^seti_`, s["setup_intent"])
			assert.Equal(t, "o-1", s["client_reference_id"])

			_, s = renderedObject(t, stripegatewaytest.NewEvent(stripe.EventTypeCheckoutSessionCompleted, "o-1", amount, "eur", at,
				func(e *stripegatewaytest.Event) { e.Mode = "subscription" }))
			assert.Equal(t, "subscription", s["mode"])
			assert.Nil(t, s["payment_intent"])
			assert.Regexp(t, `^sub_`, s["subscription"])
			assert.Regexp(t, `^in_`, s["invoice"])

			start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
			_, inv := renderedObject(t, stripegatewaytest.NewEvent(stripe.EventTypeInvoicePaymentFailed, "o-2", amount, "eur", at,
				stripegatewaytest.Renewal(), func(e *stripegatewaytest.Event) { e.PeriodStart = start }))
			assert.Equal(t, "subscription_cycle", inv["billing_reason"])
			assert.EqualValues(t, start.Unix(), dig(inv, "lines", "data", 0, "period", "start"))
			assert.EqualValues(t, start.AddDate(0, 1, 0).Unix(), dig(inv, "lines", "data", 0, "period", "end"), "a month by default")
			assert.Regexp(t, `^https://invoice\.stripe\.com/i/acct_`, inv["hosted_invoice_url"])

			_, inv = renderedObject(t, stripegatewaytest.ForKind(stripegateway.PaymentActionRequired, "o-2", amount, "eur", at))
			assert.Equal(t, "subscription_create", inv["billing_reason"])
			assert.Equal(t, "open", inv["status"])
			assert.EqualValues(t, 0, inv["amount_paid"])
			assert.EqualValues(t, 1250, inv["amount_due"])
			_, inv = renderedObject(t, stripegatewaytest.ForKind(stripegateway.InvoiceCreated, "o-2", amount, "eur", at))
			assert.Nil(t, inv["hosted_invoice_url"], "a draft has no page")

			_, r := renderedObject(t, stripegatewaytest.ForKind(stripegateway.RefundFailed, "o-3", amount, "eur", at))
			assert.Equal(t, "refund", r["object"])
			assert.Equal(t, "failed", r["status"])
			assert.Equal(t, "expired_or_canceled_card", r["failure_reason"])
			assert.EqualValues(t, 1250, r["amount"])
			assert.Regexp(t, `^ch_`, r["charge"])
			assert.Regexp(t, `^pi_`, r["payment_intent"])
			_, r = renderedObject(t, stripegatewaytest.ForKind(stripegateway.RefundFailed, "o-3", amount, "eur", at,
				func(e *stripegatewaytest.Event) { e.RefundStatus = "succeeded" }))
			assert.NotContains(t, r, "failure_reason")

			_, d := renderedObject(t, stripegatewaytest.ForKind(stripegateway.PaymentDisputed, "o-4", amount, "eur", at))
			assert.Equal(t, "needs_response", d["status"])
			_, d = renderedObject(t, stripegatewaytest.ForKind(stripegateway.DisputeClosed, "o-4", amount, "eur", at))
			assert.Equal(t, "lost", d["status"])
			_, d = renderedObject(t, stripegatewaytest.ForKind(stripegateway.DisputeClosed, "o-4", amount, "eur", at,
				func(e *stripegatewaytest.Event) { e.DisputeStatus = "won" }))
			assert.Equal(t, "won", d["status"])

			end := time.Date(2024, 4, 15, 0, 0, 0, 0, time.UTC)
			_, sub := renderedObject(t, stripegatewaytest.ForKind(stripegateway.SubscriptionUpdated, "o-5", amount, "eur", at,
				func(e *stripegatewaytest.Event) { e.PeriodEnd, e.CancelAtPeriodEnd = end, true }))
			assert.Equal(t, "past_due", sub["status"])
			assert.Equal(t, true, sub["cancel_at_period_end"])
			assert.EqualValues(t, end.Unix(), sub["cancel_at"])
			periodEnd := sub["current_period_end"]
			if basil {
				periodEnd = dig(sub, "items", "data", 0, "current_period_end")
			}
			assert.EqualValues(t, end.Unix(), periodEnd)
			assert.Equal(t, "o-5", dig(sub, "metadata", "order_id"))
			_, sub = renderedObject(t, stripegatewaytest.ForKind(stripegateway.SubscriptionCanceled, "o-5", amount, "eur", at))
			assert.Equal(t, "canceled", sub["status"])
		})
	}
}

func TestPreviousAttributes(t *testing.T) {
	prev := func(ev stripegatewaytest.Event) map[string]any {
		var env struct {
			Data struct {
				PreviousAttributes map[string]any `json:"previous_attributes"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(ev.MustJSON(), &env))
		return env.Data.PreviousAttributes
	}
	amount := decimal.RequireFromString("1")
	assert.Equal(t, map[string]any{"status": "pending"}, prev(stripegatewaytest.ForKind(stripegateway.RefundFailed, "o", amount, "usd")))
	assert.Equal(t, map[string]any{"status": "under_review"}, prev(stripegatewaytest.ForKind(stripegateway.DisputeClosed, "o", amount, "usd")))
	assert.Equal(t, map[string]any{"status": "active"}, prev(stripegatewaytest.ForKind(stripegateway.SubscriptionUpdated, "o", amount, "usd")))
	assert.Nil(t, prev(stripegatewaytest.ForKind(stripegateway.PaymentSucceeded, "o", amount, "usd")))
}
