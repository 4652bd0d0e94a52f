package wire

import "github.com/stripe/stripe-go/v76"

// Shape is how a range of Stripe API versions lays out the fields a payment
// outcome is read from.
type Shape int

const (
	// Legacy is 2023-10-16 through 2025-02-24.acacia: an invoice names its
	// subscription, PaymentIntent and charge at the top level
	// (invoice.subscription, invoice.payment_intent, invoice.charge) and
	// keeps its subscription's metadata in invoice.subscription_details; a
	// subscription has current_period_start and current_period_end; a
	// PaymentIntent and a charge name their invoice.
	Legacy Shape = iota
	// Basil is 2025-03-31.basil and later: an invoice's subscription and its
	// metadata are under invoice.parent.subscription_details, an invoice
	// line's subscription item under lines.data[].parent; invoice.payment_intent,
	// invoice.charge, payment_intent.invoice and charge.invoice are gone
	// (invoice.payments is only sent when expanded); the service period is
	// on each subscription item (items.data[].current_period_end). Clover and
	// dahlia removed nothing of these.
	Basil
)

// APIVersion is one Stripe API version and its Shape.
type APIVersion struct {
	Name  string
	Shape Shape
}

// APIVersions lists every Stripe API version released from 2023-10-16,
// stripe-go v76's, through 2026-08-26.dahlia, the version embedded in
// stripe-mock v0.203.0, oldest first. The list comes from stripe-go's
// api_version.go across its releases and from stripe-mock's embedded
// OpenAPI specs; the field moves were read from the specs' diffs (see
// testdata/apiversions/README.md).
var APIVersions = []APIVersion{
	{"2023-10-16", Legacy},
	{"2024-04-10", Legacy},
	{"2024-06-20", Legacy},
	{"2024-09-30.acacia", Legacy},
	{"2024-10-28.acacia", Legacy},
	{"2024-11-20.acacia", Legacy},
	{"2024-12-18.acacia", Legacy},
	{"2025-01-27.acacia", Legacy},
	{"2025-02-24.acacia", Legacy},
	{"2025-03-31.basil", Basil},
	{"2025-04-30.basil", Basil},
	{"2025-05-28.basil", Basil},
	{"2025-06-30.basil", Basil},
	{"2025-07-30.basil", Basil},
	{"2025-08-27.basil", Basil},
	{"2025-09-30.clover", Basil},
	{"2025-10-29.clover", Basil},
	{"2025-11-17.clover", Basil},
	{"2025-12-15.clover", Basil},
	{"2026-01-28.clover", Basil},
	{"2026-02-25.clover", Basil},
	{"2026-03-25.dahlia", Basil},
	{"2026-04-22.dahlia", Basil},
	{"2026-05-27.dahlia", Basil},
	{"2026-06-24.dahlia", Basil},
	{"2026-07-29.dahlia", Basil},
	{"2026-08-26.dahlia", Basil},
}

// Typed is the one API version whose events decode faithfully into
// stripe-go v76's types.
const Typed = stripe.APIVersion

// Newest is the newest API version in APIVersions.
var Newest = APIVersions[len(APIVersions)-1].Name

var shapes = func() map[string]Shape {
	m := make(map[string]Shape, len(APIVersions))
	for _, v := range APIVersions {
		m[v.Name] = v.Shape
	}
	return m
}()

// ShapeOf returns the Shape of a known API version, and whether it is known.
func ShapeOf(version string) (Shape, bool) {
	s, ok := shapes[version]
	return s, ok
}
