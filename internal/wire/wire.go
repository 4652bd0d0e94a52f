// Package wire holds the names this library writes into Stripe objects and
// reads back from its events, shared by the gateway and its test kit so that
// the two never drift apart.
package wire

// MetadataOrderID is the metadata key under which CreateCheckout stores the
// order ID on the Checkout Session, its PaymentIntent or its Subscription,
// so that every later event leads back to the order.
const MetadataOrderID = "order_id"

// MetadataCaptureMethod is the Checkout Session metadata key that
// CreateCheckout sets to "manual" for a deferred-capture session. Events
// carry the session's PaymentIntent as an ID only, so this marker is how a
// checkout.session.completed of such a session is told from a payment.
const MetadataCaptureMethod = "stripegateway_capture"
