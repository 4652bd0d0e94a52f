package stripegatewaytest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// apiGet calls the Simulator's API with the test key and decodes the
// answer.
func (e *simEnv) apiGet(path string, key string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.sim.APIURL()+path, nil)
	require.NoError(e.t, err)
	if key != "" {
		req.SetBasicAuth(key, "")
	}
	resp, err := e.client.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	var out map[string]any
	require.NoError(e.t, json.Unmarshal(b, &out), string(b))
	return resp.StatusCode, out
}

// fieldErrors returns CheckWebhookEndpoint's FieldErrors by field.
func fieldErrors(t *testing.T, err error) map[string]string {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, stripegateway.ErrInvalidConfig)
	var ce *stripegateway.ConfigError
	require.True(t, errors.As(err, &ce), "%T: %v", err, err)
	out := map[string]string{}
	for _, f := range ce.Fields {
		out[f.Field] = f.Message
	}
	return out
}

func TestSimulatorWebhookEndpoint(t *testing.T) {
	mockURL := startMock(t)
	e := newSimEnv(t, mockURL, simWHSEC)
	ctx := context.Background()
	hook := e.srv.URL + "/gateways/stripe/notification"

	require.NoError(t, e.gw.CheckWebhookEndpoint(ctx, hook), "the Simulator's endpoint is correct")

	// The listing has Stripe's shape.
	status, list := e.apiGet("/v1/webhook_endpoints", simSK)
	require.Equal(t, http.StatusOK, status, list)
	assert.Equal(t, "list", list["object"])
	assert.Equal(t, false, list["has_more"])
	assert.Equal(t, "/v1/webhook_endpoints", list["url"])
	data, _ := list["data"].([]any)
	require.Len(t, data, 1)
	ep, _ := data[0].(map[string]any)
	ep0 := e.sim.WebhookEndpoint()
	assert.Equal(t, ep0.ID, ep["id"])
	assert.True(t, strings.HasPrefix(ep0.ID, "we_"), ep0.ID)
	assert.Equal(t, "webhook_endpoint", ep["object"])
	assert.Equal(t, hook, ep["url"])
	assert.Equal(t, "enabled", ep["status"])
	assert.Equal(t, "2023-10-16", ep["api_version"])
	assert.Equal(t, false, ep["livemode"])
	assert.NotContains(t, ep, "secret", "Stripe returns the secret only when the endpoint is created")
	var events []string
	for _, v := range ep["enabled_events"].([]any) {
		events = append(events, v.(string))
	}
	var want []string
	for _, t := range stripegateway.EventTypes() {
		want = append(want, string(t))
	}
	assert.Equal(t, want, events)

	status, one := e.apiGet("/v1/webhook_endpoints/"+ep0.ID, simSK)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, ep["url"], one["url"])
	status, missing := e.apiGet("/v1/webhook_endpoints/we_nope", simSK)
	assert.Equal(t, http.StatusNotFound, status, missing)
	status, _ = e.apiGet("/v1/webhook_endpoints", "")
	assert.Equal(t, http.StatusUnauthorized, status, "stripe-mock still checks the key")
	status, _ = e.apiGet("/v1/webhook_endpoints?starting_after="+ep0.ID, simSK)
	assert.Equal(t, http.StatusOK, status)

	// Each misconfiguration, and what CheckWebhookEndpoint says of it.
	cases := []struct {
		name   string
		faults stripegatewaytest.WebhookEndpointFaults
		want   map[string][]string // field: words of its message
	}{
		{"disabled", stripegatewaytest.WebhookEndpointFaults{Disabled: true},
			map[string][]string{"WebhookEndpoint.Status": {ep0.ID, "disabled"}}},
		{"an API version stripegateway does not read", stripegatewaytest.WebhookEndpointFaults{APIVersion: stripegatewaytest.SuggestedFaultAPIVersion},
			map[string][]string{"WebhookEndpoint.APIVersion": {"2099-01-01.future", "2023-10-16"}}},
		{"events not enabled", stripegatewaytest.WebhookEndpointFaults{DropEvents: []stripe.EventType{stripe.EventTypeInvoicePaid, stripe.EventTypeChargeDisputeClosed}},
			map[string][]string{"WebhookEndpoint.EnabledEvents": {"invoice.paid", "charge.dispute.closed"}}},
		{"a trailing slash", stripegatewaytest.WebhookEndpointFaults{TrailingSlash: true},
			map[string][]string{"WebhookEndpoint.URL": {hook + "/"}}},
		{"https instead of http", stripegatewaytest.WebhookEndpointFaults{OtherScheme: true},
			map[string][]string{"WebhookEndpoint.URL": {"https://" + strings.TrimPrefix(hook, "http://")}}},
		{"disabled, another version and events missing", stripegatewaytest.WebhookEndpointFaults{
			Disabled: true, APIVersion: "2099-01-01.future", DropEvents: []stripe.EventType{stripe.EventTypeCustomerSubscriptionUpdated},
		}, map[string][]string{
			"WebhookEndpoint.Status":        {"disabled"},
			"WebhookEndpoint.APIVersion":    {"2099-01-01.future"},
			"WebhookEndpoint.EnabledEvents": {"customer.subscription.updated"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.sim.SetWebhookEndpointFaults(c.faults)
			t.Cleanup(func() { e.sim.SetWebhookEndpointFaults(stripegatewaytest.WebhookEndpointFaults{}) })
			got := fieldErrors(t, e.gw.CheckWebhookEndpoint(ctx, hook))
			assert.Len(t, got, len(c.want), "%v", got)
			for field, words := range c.want {
				require.Contains(t, got, field)
				for _, w := range words {
					assert.Contains(t, got[field], w, field)
				}
				t.Logf("%s: %s", field, got[field])
			}
		})
	}
	require.NoError(t, e.gw.CheckWebhookEndpoint(ctx, hook), "the zero faults restore the endpoint")

	// The page's form sets the faults, and resets them.
	page := e.sim.APIURL() + "/webhook-endpoint"
	form := url.Values{"disabled": {"on"}, "api_version": {"2099-01-01.future"}, "action": {"save"}}
	for _, t := range stripegateway.EventTypes() {
		if t != stripe.EventTypeChargeRefundUpdated {
			form.Add("enabled_events", string(t))
		}
	}
	status, loc, _ := e.post(page, form)
	assert.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, "/stripe-sim/#webhook-endpoint", loc)
	f := e.sim.WebhookEndpointFaults()
	assert.True(t, f.Disabled)
	assert.Equal(t, "2099-01-01.future", f.APIVersion)
	assert.Equal(t, []stripe.EventType{stripe.EventTypeChargeRefundUpdated}, f.DropEvents)
	_, body := e.get(e.sim.APIURL() + "/")
	assert.Contains(t, body, `id="endpoint-misconfigured"`)
	assert.Contains(t, body, "disabled")
	got := fieldErrors(t, e.gw.CheckWebhookEndpoint(ctx, hook))
	assert.Len(t, got, 3)

	req, _ := http.NewRequest(http.MethodPost, page, strings.NewReader("action=reset"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := e.client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a form from another site is refused")
	assert.True(t, e.sim.WebhookEndpointFaults().Disabled)

	status, _, _ = e.post(page, url.Values{"action": {"reset"}})
	assert.Equal(t, http.StatusSeeOther, status)
	assert.Equal(t, stripegatewaytest.WebhookEndpointFaults{}, e.sim.WebhookEndpointFaults())
	require.NoError(t, e.gw.CheckWebhookEndpoint(ctx, hook))
}

// paidSession checks out and pays a session.
func (e *simEnv) paidSession(req stripegateway.CheckoutRequest) stripegatewaytest.SimulatedSession {
	e.t.Helper()
	cs := e.checkout(req)
	status, _, body := e.post(cs.URL, pay(stripegatewaytest.CardSucceeds))
	require.Equal(e.t, http.StatusSeeOther, status, body)
	rec, ok := e.sim.Session(cs.ID)
	require.True(e.t, ok)
	return rec
}

func requireDelivered(t *testing.T, ds []stripegatewaytest.WebhookDelivery, types ...stripe.EventType) {
	t.Helper()
	var got []stripe.EventType
	for _, d := range ds {
		got = append(got, d.EventType)
		assert.Equal(t, http.StatusOK, d.StatusCode, "%+v", d)
		assert.Empty(t, d.Err)
	}
	require.Equal(t, types, got)
}

func TestSimulatorAfterThePayment(t *testing.T) {
	mockURL := startMock(t)
	ctx := context.Background()

	t.Run("renewals", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC)
		rec := e.paidSession(stripegateway.CheckoutRequest{
			OrderID: "order-club", Currency: "eur", Mode: stripegateway.CheckoutSubscription,
			Interval: stripe.PriceRecurringIntervalMonth,
			Items:    []stripegateway.LineItem{{Name: "Coffee club", UnitAmount: dec("19.99"), Quantity: 1}},
		})
		assert.Equal(t, "active", rec.SubscriptionStatus)
		assert.True(t, rec.CurrentPeriodEnd.After(rec.CurrentPeriodStart.AddDate(0, 0, 27)), "a month: %s to %s", rec.CurrentPeriodStart, rec.CurrentPeriodEnd)
		first := e.outcomesFor("order-club")
		require.Len(t, first, 3)
		periodEnd := rec.CurrentPeriodEnd

		ds, err := e.sim.Renew(ctx, rec.ID)
		require.NoError(t, err)
		requireDelivered(t, ds, stripe.EventTypeInvoicePaid, stripe.EventTypeInvoicePaymentSucceeded)
		assert.Equal(t, "order-club", ds[0].OrderID)
		renewed, _ := e.sim.Session(rec.ID)
		assert.True(t, renewed.CurrentPeriodStart.Equal(periodEnd))
		assert.True(t, renewed.CurrentPeriodEnd.After(periodEnd.AddDate(0, 0, 27)), "the next month: %s to %s", periodEnd, renewed.CurrentPeriodEnd)
		assert.NotEqual(t, rec.LatestInvoiceID, renewed.LatestInvoiceID, "a new invoice")
		got := e.outcomesFor("order-club")[3:]
		require.Len(t, got, 2)
		for _, o := range got {
			assert.Equal(t, stripegateway.PaymentSucceeded, o.Kind)
			assert.True(t, o.Renewal)
			assert.Equal(t, "subscription_cycle", o.BillingReason)
			assert.Equal(t, renewed.LatestInvoiceID, o.InvoiceID)
			assert.Equal(t, rec.SubscriptionID, o.SubscriptionID)
			assert.True(t, o.PeriodStart.Equal(periodEnd), "period start %s, want %s", o.PeriodStart, periodEnd)
			assert.True(t, o.PeriodEnd.Equal(renewed.CurrentPeriodEnd), "period end %s, want %s", o.PeriodEnd, renewed.CurrentPeriodEnd)
			assert.True(t, o.Amount.Equal(dec("19.99")))
			assert.NotEqual(t, rec.PaymentIntentID, o.PaymentIntentID, "a renewal is a new payment")
		}

		ds, err = e.sim.FailRenewal(ctx, rec.ID)
		require.NoError(t, err)
		requireDelivered(t, ds, stripe.EventTypeInvoicePaymentFailed, stripe.EventTypeCustomerSubscriptionUpdated)
		failed, _ := e.sim.Session(rec.ID)
		assert.Equal(t, "past_due", failed.SubscriptionStatus)
		got = e.outcomesFor("order-club")[5:]
		require.Len(t, got, 2)
		assert.Equal(t, stripegateway.PaymentFailed, got[0].Kind)
		assert.True(t, got[0].Renewal)
		assert.False(t, got[0].Final, "a renewal's failure is never the order's final failure")
		assert.True(t, got[0].NextPaymentAttempt.IsZero())
		assert.Equal(t, failed.LatestInvoiceID, got[0].InvoiceID)
		assert.Equal(t, stripegateway.SubscriptionUpdated, got[1].Kind)
		assert.Equal(t, "past_due", got[1].SubscriptionStatus)
		assert.Equal(t, rec.SubscriptionID, got[1].SubscriptionID)
		assert.True(t, got[1].PeriodEnd.Equal(failed.CurrentPeriodEnd))

		// The retry pays the open invoice, and the subscription is active
		// again.
		ds, err = e.sim.Renew(ctx, rec.ID)
		require.NoError(t, err)
		requireDelivered(t, ds, stripe.EventTypeInvoicePaid, stripe.EventTypeInvoicePaymentSucceeded, stripe.EventTypeCustomerSubscriptionUpdated)
		paid, _ := e.sim.Session(rec.ID)
		assert.Equal(t, "active", paid.SubscriptionStatus)
		assert.Equal(t, failed.LatestInvoiceID, paid.LatestInvoiceID, "the same invoice, paid")
		assert.True(t, paid.CurrentPeriodEnd.Equal(failed.CurrentPeriodEnd))
		got = e.outcomesFor("order-club")[7:]
		require.Len(t, got, 3)
		assert.Equal(t, failed.LatestInvoiceID, got[0].InvoiceID)
		assert.True(t, got[0].Renewal)
		assert.Equal(t, "active", got[2].SubscriptionStatus)

		// The overview page has the buttons, and they work.
		_, page := e.get(e.sim.APIURL() + "/")
		assert.Contains(t, page, `action="/stripe-sim/sessions/`+rec.ID+`/renew"`)
		assert.Contains(t, page, `action="/stripe-sim/sessions/`+rec.ID+`/fail-renewal"`)
		status, loc, _ := e.post(e.sim.APIURL()+"/sessions/"+rec.ID+"/renew", url.Values{})
		assert.Equal(t, http.StatusSeeOther, status)
		assert.True(t, strings.HasPrefix(loc, "/stripe-sim/?done=renew&events=2"), loc)
		_, page = e.get(e.srv.URL + loc)
		assert.Contains(t, page, "Renewal paid: 2 signed webhook event(s) delivered")
		assert.Len(t, e.outcomesFor("order-club"), 12)
		status, _, _ = e.post(e.sim.APIURL()+"/sessions/"+rec.ID+"/nothing", url.Values{})
		assert.Equal(t, http.StatusNotFound, status)
		status, _, _ = e.post(e.sim.APIURL()+"/sessions/cs_test_nope/renew", url.Values{})
		assert.Equal(t, http.StatusConflict, status)
	})

	t.Run("refunds and disputes", func(t *testing.T) {
		e := newSimEnv(t, mockURL, simWHSEC)
		rec := e.paidSession(eurOrder("order-money"))
		require.NotEmpty(t, rec.ChargeID)
		_, err := e.sim.Renew(ctx, rec.ID)
		assert.ErrorIs(t, err, stripegatewaytest.ErrSessionState, "a payment session has no renewals")

		ds, err := e.sim.FailRefund(ctx, rec.ID)
		require.NoError(t, err)
		requireDelivered(t, ds, stripe.EventTypeChargeRefunded, stripe.EventTypeChargeRefundUpdated)
		after, _ := e.sim.Session(rec.ID)
		assert.Equal(t, "failed", after.RefundStatus)
		got := e.outcomesFor("order-money")[2:]
		require.Len(t, got, 1, "the refund names the order; its failure does not (Stripe copies no metadata to refunds)")
		assert.Equal(t, stripegateway.PaymentRefunded, got[0].Kind)
		var failed *stripegateway.Outcome
		for _, o := range e.received() {
			if o.Kind == stripegateway.RefundFailed {
				failed = o
			}
		}
		require.NotNil(t, failed)
		assert.Equal(t, rec.PaymentIntentID, failed.PaymentIntentID)
		assert.Equal(t, rec.ChargeID, failed.ChargeID)
		assert.Equal(t, after.RefundID, failed.RefundID)
		assert.Equal(t, "expired_or_canceled_card", failed.FailureReason)
		assert.True(t, failed.Amount.Equal(dec("62.30")))
		_, err = e.sim.FailRefund(ctx, rec.ID)
		assert.ErrorIs(t, err, stripegatewaytest.ErrSessionState)

		ds, err = e.sim.OpenDispute(ctx, rec.ID)
		require.NoError(t, err)
		requireDelivered(t, ds, stripe.EventTypeChargeDisputeCreated)
		ds, err = e.sim.CloseDispute(ctx, rec.ID, true)
		require.NoError(t, err)
		requireDelivered(t, ds, stripe.EventTypeChargeDisputeClosed)
		_, err = e.sim.CloseDispute(ctx, rec.ID, false)
		assert.ErrorIs(t, err, stripegatewaytest.ErrSessionState, "a dispute closes once")
		var kinds []stripegateway.Kind
		for _, o := range e.received() {
			if o.PaymentIntentID == rec.PaymentIntentID && (o.Kind == stripegateway.PaymentDisputed || o.Kind == stripegateway.DisputeClosed) {
				kinds = append(kinds, o.Kind)
				assert.True(t, o.Amount.Equal(dec("62.30")))
				if o.Kind == stripegateway.DisputeClosed {
					assert.Equal(t, "won", o.DisputeStatus)
				}
			}
		}
		assert.Equal(t, []stripegateway.Kind{stripegateway.PaymentDisputed, stripegateway.DisputeClosed}, kinds)

		// A dispute lost in one step opens it first.
		other := e.paidSession(eurOrder("order-lost"))
		ds, err = e.sim.CloseDispute(ctx, other.ID, false)
		require.NoError(t, err)
		requireDelivered(t, ds, stripe.EventTypeChargeDisputeCreated, stripe.EventTypeChargeDisputeClosed)
		o := e.received()
		last := o[len(o)-1]
		assert.Equal(t, stripegateway.DisputeClosed, last.Kind)
		assert.Equal(t, "lost", last.DisputeStatus)
		assert.Equal(t, other.PaymentIntentID, last.PaymentIntentID)

		// An unpaid session allows none of it.
		open := e.checkout(eurOrder("order-open"))
		for _, act := range []func(context.Context, string) ([]stripegatewaytest.WebhookDelivery, error){e.sim.Refund, e.sim.FailRefund, e.sim.OpenDispute, e.sim.Renew, e.sim.FailRenewal} {
			_, err := act(ctx, open.ID)
			assert.ErrorIs(t, err, stripegatewaytest.ErrSessionState)
		}
		_, page := e.get(e.sim.APIURL() + "/")
		assert.Contains(t, page, "Refund failed")
		assert.True(t, slices.ContainsFunc(e.sim.Deliveries(), func(d stripegatewaytest.WebhookDelivery) bool {
			return d.EventType == stripe.EventTypeChargeRefundUpdated && d.SessionID == rec.ID
		}))
	})
}
