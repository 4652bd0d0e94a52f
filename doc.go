// Package stripegateway takes card payments through Stripe Checkout and
// turns Stripe's webhooks into typed payment outcomes, exactly once.
//
// # The flow
//
// A store's admin fills in a [Config] (display name, minimum amount, status,
// test or live mode, keys, webhook signing secret); [Config.Validate]
// reports every problem at once, one [FieldError] per field. [New] builds a
// [Gateway] from it:
//
//	cfg, err := stripegateway.ConfigFromEnv(os.Getenv)
//	gw, err := stripegateway.New(cfg, stripegateway.WithLogger(logger))
//
// [Gateway.CreateCheckout] validates a [CheckoutRequest] against each
// currency's rules and Stripe's limits (amounts are decimal.Decimal in the
// currency's major unit and are never rounded) and creates a Stripe-hosted
// Checkout Session: a one-time payment, a subscription, or an authorization
// to capture later. Redirect the customer to its URL.
//
// Stripe then reports what happened through webhooks.
// [Gateway.WebhookHandler] is the http.Handler to mount at
// /gateways/stripe/notification: it verifies each request's signature
// ([Gateway.VerifyAndParse]), decodes the event into an [Outcome] whose
// [Kind] says what it means for the order (paid, pending, failed,
// refunded, disputed, ...), and calls the host's callback for that kind in
// [Handlers], once per event across deliveries and replicas ([EventStore];
// package sqlstore has one for PostgreSQL and SQLite). Events are read at
// every Stripe API version from 2023-10-16 through 2026-08-26.dahlia, each
// field from where its version puts it; [Gateway.RecoverEvents] fetches
// from Stripe's Events API the events an outage made the store miss, and
// [Gateway.CheckWebhookEndpoint] checks the endpoint's settings at Stripe.
// On the success page, [Gateway.ConfirmCheckout] gives the same Outcome
// before the webhook arrives. [Gateway.Capture], [Gateway.CancelAuthorization],
// [Gateway.Refund] and [Gateway.ExpireCheckout] act on a payment afterwards.
//
// # Errors
//
// Every error matches one of the package's sentinel errors (ErrInvalidAmount,
// ErrInvalidSignature, ...) with errors.Is. A bad field of a request or of a
// Config is a [*FieldError] naming the field, for a form to show next to it;
// an error answered by Stripe matches ErrStripeAPI, ErrAuthentication or
// ErrPermissionDenied and keeps stripe-go's *stripe.Error reachable with
// errors.As. No error, log line, fmt verb or
// JSON form shows a secret key or webhook secret: they are [Secret]s.
//
// # Concurrency
//
// A Gateway is immutable after New and safe for concurrent use by any number
// of goroutines. It owns its stripe-go backend and API clients and never
// touches stripe-go's globals, so a test-mode and a live-mode gateway can
// share a process. To change settings, build a new Gateway and swap it in.
//
// # Testing
//
// Package stripegatewaytest builds signed events of every kind and runs a
// simulated hosted checkout in front of stripe-mock, so a host can test its
// callbacks without a Stripe account. The runnable examples (ExampleGateway_CreateCheckout,
// ExampleGateway_WebhookHandler, ...) show each step.
package stripegateway
