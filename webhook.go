package stripegateway

// webhookOptions holds the webhook settings of a Gateway.
type webhookOptions struct{}

func defaultWebhookOptions() webhookOptions { return webhookOptions{} }

func (webhookOptions) validate() error { return nil }
