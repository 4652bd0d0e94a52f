package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/b27de697/stripegateway/internal/stripemock"
)

func TestMain(m *testing.M) { os.Exit(stripemock.Main(m)) }

// The quickstart tells the truth: the session it creates is the one its URL
// shows, the one the webhooks carry and the one the success page confirms.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	t.Log("\n" + text)
	ids := regexp.MustCompile(`Created Checkout Session (cs_test_\w+) for order-1001`).FindStringSubmatch(text)
	if ids == nil {
		t.Fatalf("no session created for order-1001:\n%s", text)
	}
	id := ids[1]
	for _, want := range []string{
		"/stripe-sim/c/pay/" + id + ",",  // its URL
		"2 events for session " + id,     // the webhooks
		"success?session_id=" + id + ".", // the success URL
		"confirmed session " + id + ", the ID in its URL, with ConfirmCheckout: payment_succeeded, EUR 40.48",
		"checkout.session.completed → HTTP 200, payment_intent.succeeded → HTTP 200",
		"order order-1001 paid EUR 40.48: marked paid",
		"order order-1001 is already paid: nothing to do",
		"HTTP 200 and no callback ran",
		"HTTP 400, because its signature does not verify",
		"declined (HTTP 402 on the page)",
		"\"Your card was declined.\" (card_declined/generic_decline)",
		"Done: order-1001 paid EUR 40.48 exactly once",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the output does not say %q", want)
		}
	}
	if strings.Contains(text, "checkout.stripe.com/") {
		t.Error("the output shows a checkout.stripe.com URL, which cannot work offline")
	}
}
