module github.com/b27de697/stripegateway/examples/storefront/e2e

go 1.25

require (
	github.com/b27de697/stripegateway v0.0.0-00010101000000-000000000000
	github.com/chromedp/chromedp v0.23.0
	github.com/shopspring/decimal v1.4.0
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/stripe/stripe-go/v76 v76.25.0 // indirect
)

replace github.com/b27de697/stripegateway => ../../..
