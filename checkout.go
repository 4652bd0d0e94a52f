//lint:file-ignore U1000 Placeholder, filled in by the checkout issue.

package stripegateway

// checkoutOptions holds the checkout settings of a Gateway.
type checkoutOptions struct{}
