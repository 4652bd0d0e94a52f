package shop

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/stripegatewaytest"
)

// TestApplyAfterPayment walks applyOutcome through what Stripe reports
// after an order's payment.
func TestApplyAfterPayment(t *testing.T) {
	t0 := time.Date(2030, 1, 15, 12, 0, 0, 0, time.UTC)
	month := func(n int) time.Time { return t0.AddDate(0, n, 0) }
	at := func(d int) time.Time { return t0.Add(time.Duration(d) * time.Minute) }
	base := func(o stripegateway.Outcome, id string, created time.Time) *stripegateway.Outcome {
		o.EventID, o.Created, o.OrderID, o.Currency = id, created, "o1", "eur"
		if o.Amount.IsZero() {
			o.Amount = dec("19.99")
		}
		return &o
	}
	invoice := func(id, invoiceID string, created time.Time, reason string, from, to int) *stripegateway.Outcome {
		return base(stripegateway.Outcome{
			Kind: stripegateway.PaymentSucceeded, EventType: stripe.EventTypeInvoicePaid, SubscriptionID: "sub_1", InvoiceID: invoiceID,
			BillingReason: reason, Renewal: reason != "subscription_create", PeriodStart: month(from), PeriodEnd: month(to),
		}, id, created)
	}
	apply := func(t *testing.T, ord *Order, o *stripegateway.Outcome) Received {
		t.Helper()
		require.True(t, applyOutcome(ord, o, t0), "a new event is recorded")
		require.False(t, applyOutcome(ord, o, t0), "the same event again changes nothing")
		return ord.Outcomes[len(ord.Outcomes)-1]
	}

	t.Run("renewals extend the subscription, once per invoice", func(t *testing.T) {
		ord := &Order{ID: "o1", Currency: "eur", Total: dec("19.99"), Interval: stripe.PriceRecurringIntervalMonth, Status: StatusUnpaid}
		r := apply(t, ord, base(stripegateway.Outcome{Kind: stripegateway.PaymentSucceeded, EventType: stripe.EventTypeCheckoutSessionCompleted, SubscriptionID: "sub_1"}, "e1", at(0)))
		assert.True(t, r.Applied)
		assert.Equal(t, StatusPaid, ord.Status)
		assert.Equal(t, "active", ord.SubscriptionStatus, "the first payment activates the subscription")
		assert.True(t, ord.ActiveUntil.IsZero(), "the session does not say the period")

		r = apply(t, ord, invoice("e2", "in_1", at(0), "subscription_create", 0, 1))
		assert.False(t, r.Applied, "the order was paid already")
		assert.Contains(t, r.Note, "already paid")
		assert.Equal(t, "already paid; first invoice in_1 paid: active until Feb 15, 2030", r.Note)
		assert.True(t, ord.ActiveUntil.Equal(month(1)))
		r = apply(t, ord, invoice("e3", "in_1", at(0), "subscription_create", 0, 1))
		assert.Contains(t, r.Note, "recorded already")
		assert.Len(t, ord.Invoices, 1)

		r = apply(t, ord, invoice("e4", "in_2", at(60*24*31), "subscription_cycle", 1, 2))
		assert.True(t, r.Applied)
		assert.Equal(t, "renewal invoice in_2 paid: active until Mar 15, 2030", r.Note)
		assert.True(t, ord.ActiveUntil.Equal(month(2)))
		assert.Equal(t, StatusPaid, ord.Status, "a renewal is not the order's payment")
		r = apply(t, ord, invoice("e5", "in_2", at(60*24*31), "subscription_cycle", 1, 2))
		assert.False(t, r.Applied, "invoice.payment_succeeded of the same invoice extends nothing")
		assert.True(t, ord.ActiveUntil.Equal(month(2)))
		require.Len(t, ord.Invoices, 2)
		assert.True(t, ord.Invoices[1].Renewal)

		// An older renewal arriving late does not shorten the period.
		r = apply(t, ord, invoice("e4b", "in_0", at(1), "subscription_cycle", 0, 1))
		assert.True(t, ord.ActiveUntil.Equal(month(2)))

		// A renewal's failure: past due, never unpaid.
		failed := base(stripegateway.Outcome{Kind: stripegateway.PaymentFailed, EventType: stripe.EventTypeInvoicePaymentFailed, SubscriptionID: "sub_1",
			InvoiceID: "in_3", Renewal: true, BillingReason: "subscription_cycle", FailureMessage: "Your card was declined."}, "e6", at(60*24*62))
		r = apply(t, ord, failed)
		assert.True(t, r.Applied)
		assert.Equal(t, StatusPaid, ord.Status)
		assert.Empty(t, ord.FailureMessage, "the order's payment has not failed")
		assert.Equal(t, "past_due", ord.SubscriptionStatus)
		assert.Equal(t, "Your card was declined.", ord.RenewalFailure)
		v := orderView{Order: ord}
		afterView(&v)
		assert.Equal(t, "Past due: paid until Mar 15, 2030. Your card was declined.", v.Subscription)
		assert.Equal(t, 2, v.Renewals, "in_2, and the late in_0")

		updated := func(id string, created time.Time, status string) *stripegateway.Outcome {
			return base(stripegateway.Outcome{Kind: stripegateway.SubscriptionUpdated, EventType: stripe.EventTypeCustomerSubscriptionUpdated,
				SubscriptionID: "sub_1", SubscriptionStatus: status, PeriodEnd: month(3), Amount: dec("0")}, id, created)
		}
		r = apply(t, ord, updated("e7", at(60*24*62+1), "past_due"))
		assert.False(t, r.Applied, "nothing new")
		r = apply(t, ord, updated("e8", at(60*24*62-1), "active"))
		assert.False(t, r.Applied, "an older status does not override a newer one")
		assert.Contains(t, r.Note, "older")
		assert.Equal(t, "past_due", ord.SubscriptionStatus)

		r = apply(t, ord, invoice("e9", "in_3", at(60*24*63), "subscription_cycle", 2, 3))
		assert.True(t, r.Applied)
		assert.Equal(t, "active", ord.SubscriptionStatus, "the retry paid it")
		assert.Empty(t, ord.RenewalFailure)
		assert.True(t, ord.ActiveUntil.Equal(month(3)))

		cancelAtEnd := updated("e10", at(60*24*64), "active")
		cancelAtEnd.CancelAtPeriodEnd = true
		r = apply(t, ord, cancelAtEnd)
		assert.True(t, r.Applied)
		assert.Contains(t, r.Note, "ends on Apr 15, 2030")
		v = orderView{Order: ord}
		afterView(&v)
		assert.Equal(t, "Active until Apr 15, 2030, then ends", v.Subscription)

		r = apply(t, ord, base(stripegateway.Outcome{Kind: stripegateway.SubscriptionCanceled, EventType: stripe.EventTypeCustomerSubscriptionDeleted,
			SubscriptionID: "sub_1", SubscriptionStatus: "canceled"}, "e11", at(60*24*90)))
		assert.True(t, r.Applied)
		r = apply(t, ord, updated("e12", at(60*24*91), "active"))
		assert.False(t, r.Applied, "a canceled subscription stays canceled")
		assert.Equal(t, "canceled", ord.SubscriptionStatus)
		assert.Equal(t, StatusPaid, ord.Status)
		v = orderView{Order: ord}
		afterView(&v)
		assert.Equal(t, "Subscription canceled: paid until Apr 15, 2030", v.Subscription)
		assert.Equal(t, "ended", v.SubClass)
	})

	payment := func() *Order {
		ord := &Order{ID: "o1", Currency: "eur", Total: dec("19.99"), Status: StatusUnpaid, PaymentIntentID: "pi_1"}
		require.True(t, applyOutcome(ord, base(stripegateway.Outcome{Kind: stripegateway.PaymentSucceeded, PaymentIntentID: "pi_1"}, "e0", at(0)), t0))
		require.Equal(t, StatusPaid, ord.Status)
		return ord
	}
	dispute := func(id string, created time.Time, kind stripegateway.Kind, status string) *stripegateway.Outcome {
		o := base(stripegateway.Outcome{Kind: kind, PaymentIntentID: "pi_1", DisputeStatus: status}, id, created)
		o.OrderID = "" // Stripe copies no metadata to disputes
		return o
	}

	t.Run("disputes", func(t *testing.T) {
		ord := payment()
		r := apply(t, ord, dispute("d1", at(1), stripegateway.PaymentDisputed, "needs_response"))
		assert.True(t, r.Applied)
		assert.Equal(t, StatusDisputed, ord.Status)
		assert.Equal(t, StatusPaid, ord.StatusBeforeDispute)
		r = apply(t, ord, dispute("d2", at(2), stripegateway.DisputeClosed, "won"))
		assert.True(t, r.Applied)
		assert.Contains(t, r.Note, "won: €19.99 comes back")
		assert.Equal(t, StatusPaid, ord.Status, "a dispute won gives the order back its money")
		assert.Equal(t, "won", ord.DisputeStatus)
		r = apply(t, ord, dispute("d3", at(3), stripegateway.DisputeClosed, "lost"))
		assert.False(t, r.Applied, "a dispute closes once")
		assert.Equal(t, StatusPaid, ord.Status)

		lost := payment()
		r = apply(t, lost, dispute("d4", at(2), stripegateway.DisputeClosed, "lost"))
		assert.True(t, r.Applied, "the closing may arrive first")
		assert.Equal(t, StatusDisputeLost, lost.Status)
		r = apply(t, lost, dispute("d5", at(1), stripegateway.PaymentDisputed, "needs_response"))
		assert.False(t, r.Applied, "a late opening does not reopen it")
		assert.Equal(t, StatusDisputeLost, lost.Status)
		v := orderView{Order: lost}
		afterView(&v)
		assert.Equal(t, "Dispute lost: the money is gone", v.Dispute)

		unpaid := &Order{ID: "o1", Currency: "eur", Total: dec("19.99"), Status: StatusUnpaid}
		r = apply(t, unpaid, dispute("d6", at(1), stripegateway.DisputeClosed, "lost"))
		assert.False(t, r.Applied)
		assert.Equal(t, StatusUnpaid, unpaid.Status)
	})

	t.Run("failed refunds", func(t *testing.T) {
		ord := payment()
		r := apply(t, ord, base(stripegateway.Outcome{Kind: stripegateway.PaymentRefunded, PaymentIntentID: "pi_1"}, "r1", at(1)))
		assert.Equal(t, StatusRefunded, ord.Status)
		failed := base(stripegateway.Outcome{Kind: stripegateway.RefundFailed, PaymentIntentID: "pi_1", RefundID: "re_1", FailureReason: "expired_or_canceled_card"}, "r2", at(2))
		failed.OrderID = ""
		r = apply(t, ord, failed)
		assert.True(t, r.Applied)
		assert.Equal(t, StatusRefundFailed, ord.Status)
		assert.Equal(t, "expired_or_canceled_card", ord.RefundFailure)
		assert.Contains(t, r.Note, "the refund of €19.99 failed (expired_or_canceled_card)")
		v := orderView{Order: ord}
		afterView(&v)
		assert.Contains(t, v.RefundIssue, "expired_or_canceled_card")
		assert.Equal(t, "Refund failed", ord.Status.Label())

		// Refunded again another way: refunded.
		r = apply(t, ord, base(stripegateway.Outcome{Kind: stripegateway.PaymentRefunded, PaymentIntentID: "pi_1"}, "r3", at(3)))
		assert.True(t, r.Applied)
		assert.Equal(t, StatusRefunded, ord.Status)
	})
}

// afterPaymentOverHTTP walks a subscription's renewals, a dispute and a
// failed refund through the running store and its simulator.
func afterPaymentOverHTTP(t *testing.T, srv *Server) {
	ctx := context.Background()
	sim := srv.Simulator
	admin := signIn(t, srv)
	orderRow := func(t *testing.T, id, what string) string {
		t.Helper()
		page := admin.get(t, "/admin/orders")
		m := regexp.MustCompile(`id="` + what + `-` + id + `">([^<]*)<`).FindStringSubmatch(page.body)
		require.NotNil(t, m, "no %s-%s on the orders page", what, id)
		return m[1]
	}

	ord, payURL := buy(t, srv, "club", 1)
	require.Equal(t, http.StatusSeeOther, pay(t, payURL, stripegatewaytest.CardSucceeds).status)
	sess, ok := sim.Session(ord.SessionID)
	require.True(t, ok)
	got := order(t, srv, ord.ID)
	assert.Equal(t, StatusPaid, got.Status)
	assert.Equal(t, "active", got.SubscriptionStatus)
	assert.True(t, got.ActiveUntil.Equal(sess.CurrentPeriodEnd), "active until %s, want the first period's end %s", got.ActiveUntil, sess.CurrentPeriodEnd)
	assert.Equal(t, sess.PaymentIntentID, got.PaymentIntentID, "from the first invoice")
	first := got.ActiveUntil
	assert.Equal(t, "Active until "+first.Format(dateFormat), orderRow(t, ord.ID, "sub"))

	ds, err := sim.Renew(ctx, ord.SessionID)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	got = order(t, srv, ord.ID)
	sess, _ = sim.Session(ord.SessionID)
	second := sess.CurrentPeriodEnd
	assert.True(t, sess.CurrentPeriodStart.Equal(first))
	assert.True(t, got.ActiveUntil.Equal(second), "a renewal extends to %s, got %s", second, got.ActiveUntil)
	assert.Equal(t, StatusPaid, got.Status)
	n := len(got.Outcomes)
	assert.True(t, got.Outcomes[n-2].Applied)
	assert.False(t, got.Outcomes[n-1].Applied, "the renewal's second event is the same payment")
	assert.Contains(t, got.Outcomes[n-1].Note, "recorded already")
	assert.Equal(t, "Active until "+second.Format(dateFormat)+" · 1 renewal", orderRow(t, ord.ID, "sub"))

	// A renewal delivered twice, as Stripe may: applied once.
	renewal := stripegatewaytest.NewEvent(stripe.EventTypeInvoicePaid, ord.ID, dec("19.99"), "eur", stripegatewaytest.Renewal())
	renewal.PeriodStart, renewal.PeriodEnd = second, second.AddDate(0, 1, 0)
	payload := renewal.MustJSON()
	assert.Equal(t, http.StatusOK, postEvent(t, srv, payload))
	assert.Equal(t, http.StatusOK, postEvent(t, srv, payload))
	got = order(t, srv, ord.ID)
	assert.Len(t, got.Outcomes, n+1, "the second delivery changes nothing")
	assert.True(t, got.ActiveUntil.Equal(renewal.PeriodEnd))

	// The simulator's next renewal fails: the order stays paid, until the
	// end of what was paid for.
	paidUntil := got.ActiveUntil

	ds, err = sim.FailRenewal(ctx, ord.SessionID)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	got = order(t, srv, ord.ID)
	assert.Equal(t, StatusPaid, got.Status, "a renewal's failure does not un-pay the order")
	assert.Equal(t, "past_due", got.SubscriptionStatus)
	assert.True(t, strings.HasPrefix(orderRow(t, ord.ID, "sub"), "Past due: paid until "+paidUntil.Format(dateFormat)), orderRow(t, ord.ID, "sub"))
	ds, err = sim.Renew(ctx, ord.SessionID)
	require.NoError(t, err)
	require.Len(t, ds, 3)
	got = order(t, srv, ord.ID)
	assert.Equal(t, "active", got.SubscriptionStatus)
	for _, d := range sim.Deliveries() {
		assert.Equal(t, http.StatusOK, d.StatusCode, "%+v", d)
	}

	// A dispute, lost.
	paid, payURL := buy(t, srv, "mug", 2)
	require.Equal(t, http.StatusSeeOther, pay(t, payURL, stripegatewaytest.CardSucceeds).status)
	_, err = sim.OpenDispute(ctx, paid.SessionID)
	require.NoError(t, err)
	assert.Equal(t, StatusDisputed, order(t, srv, paid.ID).Status)
	assert.Contains(t, orderRow(t, paid.ID, "dispute"), "Dispute open (needs response)")
	_, err = sim.CloseDispute(ctx, paid.SessionID, false)
	require.NoError(t, err)
	got = order(t, srv, paid.ID)
	assert.Equal(t, StatusDisputeLost, got.Status)
	assert.Equal(t, "lost", got.DisputeStatus)
	assert.Equal(t, "Dispute lost: the money is gone", orderRow(t, paid.ID, "dispute"))

	// A dispute won.
	won, payURL := buy(t, srv, "beans", 1)
	require.Equal(t, http.StatusSeeOther, pay(t, payURL, stripegatewaytest.CardSucceeds).status)
	_, err = sim.CloseDispute(ctx, won.SessionID, true)
	require.NoError(t, err)
	got = order(t, srv, won.ID)
	assert.Equal(t, StatusPaid, got.Status)
	assert.Equal(t, "won", got.DisputeStatus)

	// A refund that failed.
	refunded, payURL := buy(t, srv, "kettle", 1)
	require.Equal(t, http.StatusSeeOther, pay(t, payURL, stripegatewaytest.CardSucceeds).status)
	_, err = sim.FailRefund(ctx, refunded.SessionID)
	require.NoError(t, err)
	got = order(t, srv, refunded.ID)
	assert.Equal(t, StatusRefundFailed, got.Status)
	assert.Equal(t, "expired_or_canceled_card", got.RefundFailure)
	assert.Contains(t, orderRow(t, refunded.ID, "refund"), "A refund failed (expired_or_canceled_card)")
	page := admin.get(t, "/admin/orders")
	assert.Contains(t, page.body, "Refund failed")
	assert.Contains(t, page.body, "the refund of €59.00 failed (expired_or_canceled_card)")
}

// TestWebhookEndpointCheck: the settings page's "Check webhook endpoint"
// shows CheckWebhookEndpoint's report on the simulator's endpoint, field
// by field, and changes nothing.
func TestWebhookEndpointCheck(t *testing.T) {
	srv := startStore(t)
	before := srv.App.Gateway()
	form := url.Values{
		"DisplayName": {"Credit Card"}, "MinimumAmount": {"1"}, "Status": {"active"}, "Mode": {"test"},
		"PublishableKey": {offlinePublishableKey}, "action": {"endpoint"},
	}
	hook := srv.URL + WebhookPath

	admin := signIn(t, srv)
	page := admin.get(t, "/admin/settings")
	assert.Contains(t, page.body, `id="check-endpoint"`)
	assert.Contains(t, page.body, hook)

	r := admin.post(t, "/admin/settings", form)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Contains(t, r.body, `<span id="endpoint-summary">✓ Stripe sends this store&#39;s events to `+hook)

	field := func(body, name string) string {
		m := regexp.MustCompile(`<li id="endpoint-` + name + `" data-field="WebhookEndpoint.` + name + `"><strong>[^<]*</strong>: ([^<]*)</li>`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return m[1]
	}
	srv.Simulator.SetWebhookEndpointFaults(stripegatewaytest.WebhookEndpointFaults{
		Disabled: true, APIVersion: stripegatewaytest.SuggestedFaultAPIVersion,
		DropEvents: []stripe.EventType{stripe.EventTypeInvoicePaid, stripe.EventTypeChargeRefundUpdated},
	})
	r = admin.post(t, "/admin/settings", form)
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `id="endpoint-summary">✗ The webhook endpoint for `+hook+` needs fixing`)
	assert.Contains(t, field(r.body, "Status"), "is disabled")
	assert.Contains(t, field(r.body, "APIVersion"), "2099-01-01.future")
	assert.Contains(t, field(r.body, "EnabledEvents"), "invoice.paid, charge.refund.updated")
	assert.Empty(t, field(r.body, "URL"))

	srv.Simulator.SetWebhookEndpointFaults(stripegatewaytest.WebhookEndpointFaults{TrailingSlash: true})
	r = admin.post(t, "/admin/settings", form)
	assert.Contains(t, field(r.body, "URL"), hook+"/ does")
	assert.Empty(t, field(r.body, "Status"))

	srv.Simulator.SetWebhookEndpointFaults(stripegatewaytest.WebhookEndpointFaults{})
	assert.Same(t, before, srv.App.Gateway(), "checking changes no setting")
}
