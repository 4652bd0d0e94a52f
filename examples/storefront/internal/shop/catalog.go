package shop

import (
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
	"github.com/b27de697/stripegateway/internal/money"
)

// Product is an item of the catalog. Prices are the store's: the checkout
// form sends a product ID and a quantity, never an amount.
type Product struct {
	ID          string
	Name        string
	Description string
	Price       decimal.Decimal // in the major unit of Currency
	Currency    string
	// Interval makes the product a subscription billed every Interval.
	Interval stripe.PriceRecurringInterval
}

// Catalog is what the store sells: three products in EUR, one in JPY and a
// monthly subscription.
var Catalog = []Product{
	{ID: "beans", Name: "Coffee beans, 1 kg", Description: "Single-origin Yirgacheffe, whole bean, roasted this week.", Price: decimal.RequireFromString("24.90"), Currency: "eur"},
	{ID: "mug", Name: "Ceramic mug", Description: "Hand-glazed stoneware, 300 ml.", Price: decimal.RequireFromString("12.50"), Currency: "eur"},
	{ID: "kettle", Name: "Pour-over kettle", Description: "Gooseneck, stainless steel, 1 litre.", Price: decimal.RequireFromString("59.00"), Currency: "eur"},
	{ID: "matcha", Name: "Uji matcha, 100 g", Description: "Ceremonial grade, shipped from Kyoto.", Price: decimal.RequireFromString("1500"), Currency: "jpy"},
	{ID: "club", Name: "Coffee club", Description: "A fresh 250 g bag every month. Cancel any time.", Price: decimal.RequireFromString("19.99"), Currency: "eur", Interval: stripe.PriceRecurringIntervalMonth},
}

// productByID finds a catalog product.
func productByID(id string) (Product, bool) {
	for _, p := range Catalog {
		if p.ID == id {
			return p, true
		}
	}
	return Product{}, false
}

// FormatMoney formats an amount in the major unit with the currency's
// symbol and as many decimals as the currency has: "€24.90", "¥1,500".
func FormatMoney(amount decimal.Decimal, currency string) string {
	cur := strings.ToLower(currency)
	places := currencyDecimals(cur)
	s := amount.StringFixed(places)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if sym, ok := symbols[cur]; ok {
		b.WriteString(sym)
	} else {
		b.WriteString(strings.ToUpper(cur) + " ")
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

var symbols = map[string]string{"eur": "€", "usd": "$", "gbp": "£", "jpy": "¥"}

// currencyDecimals is how many decimals the currency's amounts have,
// asked of the gateway's currency table: 2 for EUR, 0 for JPY. (The
// storefront may import the gateway's internal packages because its import
// path is under the gateway's; a store elsewhere keeps its own table.)
func currencyDecimals(cur string) int32 {
	c, err := money.Lookup(cur)
	if err != nil {
		return 0
	}
	return c.Decimals()
}

// intervalLabel is "/ month".
func intervalLabel(i stripe.PriceRecurringInterval) string {
	if i == "" {
		return ""
	}
	return "/ " + string(i)
}

// kindName is the Go name of an outcome kind: "PaymentSucceeded".
func kindName(k stripegateway.Kind) string {
	var b strings.Builder
	for _, part := range strings.Split(string(k), "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// quantity parses a quantity from a form: 1 to 10.
func quantity(s string) (int64, bool) {
	if s == "" {
		return 1, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 1 && n <= 10
}
