package stripegateway

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway/internal/wire"
)

func TestCheckoutRequestOrderIDAndMetadataRules(t *testing.T) {
	t.Parallel()
	g := newMockGateway(t, validConfig())
	base := CheckoutRequest{
		OrderID: "o-1", Currency: "eur", SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cart",
		Items: []LineItem{{Name: "Tea", UnitAmount: decimal.RequireFromString("4.50"), Quantity: 2}},
	}
	tests := []struct {
		name    string
		mutate  func(*CheckoutRequest)
		wantErr error
		wantMsg string
	}{
		{"order_id metadata equal to OrderID is accepted", func(r *CheckoutRequest) { r.Metadata = map[string]string{wire.MetadataOrderID: "o-1", "note": "x"} }, nil, ""},
		{"order_id metadata of another order is refused", func(r *CheckoutRequest) { r.Metadata = map[string]string{wire.MetadataOrderID: "o-2"} }, ErrInvalidRequest, "cannot be overwritten"},
		{"capture marker is refused", func(r *CheckoutRequest) { r.Metadata = map[string]string{wire.MetadataCaptureMethod: "manual"} }, ErrInvalidRequest, "set by the gateway"},
		{"order ID with whitespace is refused", func(r *CheckoutRequest) { r.OrderID = " o-1 " }, ErrInvalidRequest, "whitespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := base
			tt.mutate(&req)
			cs, err := g.CreateCheckout(context.Background(), req)
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.True(t, decimal.RequireFromString("9").Equal(cs.AmountTotal), "total %s", cs.AmountTotal)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			assert.ErrorContains(t, err, tt.wantMsg)
		})
	}
}

func TestCreateCheckoutValidation(t *testing.T) {
	items := func(currency string, lines ...LineItem) func(*CheckoutRequest) {
		return func(r *CheckoutRequest) {
			r.Currency = currency
			r.Items = lines
		}
	}
	item := func(name, amount string, qty int64) LineItem {
		return LineItem{Name: name, UnitAmount: decAmount(amount), Quantity: qty}
	}
	many := func(n int) []LineItem {
		out := make([]LineItem, n)
		for i := range out {
			out[i] = item("Item "+strconv.Itoa(i), "1.00", 1)
		}
		return out
	}
	metadata := func(n int) map[string]string {
		m := make(map[string]string, n)
		for i := 0; i < n; i++ {
			m["key"+strconv.Itoa(i)] = "v"
		}
		return m
	}
	storeMinimum := func(s string) func(*Config) {
		return func(c *Config) { c.MinimumAmount = decAmount(s) }
	}
	expiresIn := func(d time.Duration) func(*CheckoutRequest) {
		return func(r *CheckoutRequest) { r.ExpiresAt = checkoutNow.Add(d) }
	}

	tests := []struct {
		name    string
		cfg     func(*Config)
		req     func(*CheckoutRequest)
		wantErr error
		wantMsg []string
		wantMin *MinimumError
		want    map[string]string // parameters sent, for valid requests
	}{
		// Money: minor units by currency.
		{name: "EUR cents", req: items("EUR", item("Tea", "19.99", 1)),
			want: map[string]string{"currency": "eur", "line_items[0][price_data][unit_amount]": "1999", "line_items[0][price_data][currency]": "eur"}},
		{name: "USD any case sent lowercase", req: items("uSd", item("Tea", "0.50", 1)),
			want: map[string]string{"currency": "usd", "line_items[0][price_data][unit_amount]": "50"}},
		{name: "trailing zeros are not precision", req: items("EUR", item("Tea", "1.500", 1)),
			want: map[string]string{"line_items[0][price_data][unit_amount]": "150"}},
		{name: "JPY is zero-decimal", req: items("JPY", item("Tea", "1500", 2)),
			want: map[string]string{"currency": "jpy", "line_items[0][price_data][unit_amount]": "1500", "line_items[0][quantity]": "2"}},
		{name: "KRW is zero-decimal", req: items("KRW", item("Tea", "5000", 1)),
			want: map[string]string{"line_items[0][price_data][unit_amount]": "5000"}},
		{name: "JPY decimals rejected", req: items("JPY", item("Tea", "1500.5", 1)),
			wantErr: ErrInvalidAmount, wantMsg: []string{`Items[0] ("Tea")`, "JPY allows no decimal places"}},
		{name: "KWD is three-decimal", req: items("KWD", item("Tea", "1.23", 1)),
			want: map[string]string{"line_items[0][price_data][unit_amount]": "1230"}},
		{name: "KWD 1.234 cannot be charged", req: items("KWD", item("Tea", "1", 1), item("Cake", "1.234", 1)),
			wantErr: ErrInvalidAmount, wantMsg: []string{`Items[1] ("Cake")`, "1.234 KWD", "at most 2 decimal places"}},
		{name: "BHD is three-decimal", req: items("BHD", item("Tea", "0.5", 1)),
			want: map[string]string{"line_items[0][price_data][unit_amount]": "500"}},
		{name: "HUF charges two decimals", req: items("HUF", item("Tea", "175.50", 1)),
			want: map[string]string{"line_items[0][price_data][unit_amount]": "17550"}},
		{name: "TWD charges two decimals", req: items("TWD", item("Tea", "10.25", 1)),
			want: map[string]string{"line_items[0][price_data][unit_amount]": "1025"}},
		{name: "ISK whole units times 100", req: items("ISK", item("Tea", "5", 1)),
			want: map[string]string{"line_items[0][price_data][unit_amount]": "500"}},
		{name: "ISK fractions rejected", req: items("ISK", item("Tea", "5.5", 1)),
			wantErr: ErrInvalidAmount, wantMsg: []string{`Items[0] ("Tea")`, "ISK allows no decimal places"}},
		{name: "EUR too precise", req: items("EUR", item("Tea", "1.001", 1)),
			wantErr: ErrInvalidAmount, wantMsg: []string{`Items[0] ("Tea")`, "at most 2 decimal places"}},
		{name: "negative unit amount", req: items("EUR", item("Tea", "-1", 1)),
			wantErr: ErrInvalidAmount, wantMsg: []string{`Items[0] ("Tea")`, "negative"}},
		{name: "quantity 0", req: items("EUR", item("Tea", "1", 0)),
			wantErr: ErrInvalidAmount, wantMsg: []string{`Items[0] ("Tea")`, "quantity 0 is below 1"}},
		{name: "negative quantity", req: items("EUR", item("Tea", "1", -2)),
			wantErr: ErrInvalidAmount, wantMsg: []string{"quantity -2"}},
		{name: "unit amount above Stripe's maximum", req: items("EUR", item("Tea", "1000000", 1)),
			wantErr: ErrInvalidAmount, wantMsg: []string{"maximum", "999999.99 EUR"}},
		{name: "total above Stripe's maximum", req: items("EUR", item("Tea", "999999.99", 1), item("Cake", "0.01", 1)),
			wantErr: ErrInvalidAmount, wantMsg: []string{`Items[1] ("Cake")`, "maximum"}},
		{name: "quantity overflow", req: items("EUR", item("Tea", "1.00", math.MaxInt64)),
			wantErr: ErrInvalidAmount, wantMsg: []string{"maximum"}},
		{name: "IDR allows a larger maximum", req: items("IDR", item("Tea", "9999999999.99", 1)),
			want: map[string]string{"line_items[0][price_data][unit_amount]": "999999999999"}},

		// Minimums apply to the total.
		{name: "Stripe minimum is met by the total, not each unit", req: items("EUR", item("Tea", "0.10", 5)),
			want: map[string]string{"line_items[0][price_data][unit_amount]": "10"}},
		{name: "below Stripe's EUR minimum", req: items("EUR", item("Tea", "0.30", 1)),
			wantErr: ErrBelowMinimum, wantMsg: []string{"order total 0.30 EUR is below Stripe's minimum charge of 0.50 EUR"},
			wantMin: &MinimumError{Minimum: decAmount("0.50"), Total: decAmount("0.30"), Currency: "eur", Source: "stripe"}},
		{name: "below Stripe's JPY minimum", req: items("JPY", item("Tea", "49", 1)),
			wantErr: ErrBelowMinimum,
			wantMin: &MinimumError{Minimum: decAmount("50"), Total: decAmount("49"), Currency: "jpy", Source: "stripe"}},
		{name: "no-cost order", req: items("EUR", item("Sample", "0", 3)),
			want: map[string]string{"line_items[0][price_data][unit_amount]": "0"}},
		{name: "store minimum", cfg: storeMinimum("10"), req: items("EUR", item("Tea", "5", 1)),
			wantErr: ErrBelowMinimum, wantMsg: []string{"below the store's minimum order total of 10.00 EUR"},
			wantMin: &MinimumError{Minimum: decAmount("10"), Total: decAmount("5"), Currency: "eur", Source: "store"}},
		{name: "store minimum met", cfg: storeMinimum("10"), req: items("EUR", item("Tea", "5", 2)),
			want: map[string]string{"line_items[0][price_data][unit_amount]": "500"}},
		{name: "store minimum forbids a no-cost order", cfg: storeMinimum("1"), req: items("EUR", item("Sample", "0", 1)),
			wantErr: ErrBelowMinimum,
			wantMin: &MinimumError{Minimum: decAmount("1"), Total: decAmount("0"), Currency: "eur", Source: "store"}},
		{name: "Stripe's minimum when it is the larger", cfg: storeMinimum("0.20"), req: items("EUR", item("Tea", "0.30", 1)),
			wantErr: ErrBelowMinimum,
			wantMin: &MinimumError{Minimum: decAmount("0.50"), Total: decAmount("0.30"), Currency: "eur", Source: "stripe"}},
		{name: "store's minimum when it is the larger", cfg: storeMinimum("1"), req: items("EUR", item("Tea", "0.30", 1)),
			wantErr: ErrBelowMinimum,
			wantMin: &MinimumError{Minimum: decAmount("1"), Total: decAmount("0.30"), Currency: "eur", Source: "store"}},
		{name: "deferred capture of nothing", req: func(r *CheckoutRequest) {
			items("EUR", item("Sample", "0", 1))(r)
			r.Mode = CheckoutDeferredCapture
		}, wantErr: ErrInvalidAmount, wantMsg: []string{"nothing to authorize"}},

		// Currency and gateway.
		{name: "unknown currency", req: items("XXX", item("Tea", "1", 1)),
			wantErr: ErrUnsupportedCurrency, wantMsg: []string{"Currency", `"XXX"`}},
		{name: "no currency", req: items("", item("Tea", "1", 1)), wantErr: ErrUnsupportedCurrency},
		{name: "inactive gateway", cfg: func(c *Config) { c.Status = StatusInactive },
			wantErr: ErrGatewayDisabled},

		// Line item counts.
		{name: "no items", req: func(r *CheckoutRequest) { r.Items = nil }, wantErr: ErrInvalidRequest, wantMsg: []string{"Items"}},
		{name: "100 items", req: func(r *CheckoutRequest) { r.Items = many(100) },
			want: map[string]string{"line_items[99][quantity]": "1"}},
		{name: "101 items", req: func(r *CheckoutRequest) { r.Items = many(101) },
			wantErr: ErrInvalidRequest, wantMsg: []string{"101 line items", "at most 100"}},
		{name: "20 subscription items", req: func(r *CheckoutRequest) {
			r.Mode, r.Interval, r.Items = CheckoutSubscription, stripe.PriceRecurringIntervalYear, many(20)
		}, want: map[string]string{"line_items[19][price_data][recurring][interval]": "year", "line_items[19][price_data][recurring][interval_count]": "1"}},
		{name: "21 subscription items", req: func(r *CheckoutRequest) {
			r.Mode, r.Interval, r.Items = CheckoutSubscription, stripe.PriceRecurringIntervalMonth, many(21)
		}, wantErr: ErrInvalidRequest, wantMsg: []string{"at most 20"}},

		// Metadata.
		{name: "49 metadata keys and order_id", req: func(r *CheckoutRequest) { r.Metadata = metadata(49) },
			want: map[string]string{"metadata[key48]": "v", "metadata[order_id]": "order-1001"}},
		{name: "50 metadata keys and order_id", req: func(r *CheckoutRequest) { r.Metadata = metadata(50) },
			wantErr: ErrInvalidRequest, wantMsg: []string{"Metadata", "50 keys"}},
		{name: "49 metadata keys in deferred capture", req: func(r *CheckoutRequest) {
			r.Metadata, r.Mode = metadata(49), CheckoutDeferredCapture
		}, wantErr: ErrInvalidRequest, wantMsg: []string{"Metadata"}},
		{name: "40-character key", req: func(r *CheckoutRequest) { r.Metadata = map[string]string{strings.Repeat("k", 40): "v"} },
			want: map[string]string{"metadata[" + strings.Repeat("k", 40) + "]": "v"}},
		{name: "41-character key", req: func(r *CheckoutRequest) { r.Metadata = map[string]string{strings.Repeat("k", 41): "v"} },
			wantErr: ErrInvalidRequest, wantMsg: []string{"41 characters"}},
		{name: "500-character value", req: func(r *CheckoutRequest) { r.Metadata = map[string]string{"k": strings.Repeat("ü", 500)} },
			want: map[string]string{"metadata[k]": strings.Repeat("ü", 500)}},
		{name: "501-character value", req: func(r *CheckoutRequest) { r.Metadata = map[string]string{"k": strings.Repeat("v", 501)} },
			wantErr: ErrInvalidRequest, wantMsg: []string{`Metadata["k"]`, "501 characters"}},
		{name: "order_id cannot be overwritten", req: func(r *CheckoutRequest) { r.Metadata = map[string]string{"order_id": "order-666"} },
			wantErr: ErrInvalidRequest, wantMsg: []string{`Metadata["order_id"]`, "OrderID"}},
		{name: "square brackets in a key", req: func(r *CheckoutRequest) { r.Metadata = map[string]string{"a[b]": "v"} },
			wantErr: ErrInvalidRequest, wantMsg: []string{"square brackets"}},

		// Expiry.
		{name: "expires in 30 minutes", req: expiresIn(30 * time.Minute),
			want: map[string]string{"expires_at": strconv.FormatInt(checkoutNow.Add(30*time.Minute).Unix(), 10)}},
		{name: "expiry rounded up to the second", req: expiresIn(30*time.Minute + 500*time.Millisecond),
			want: map[string]string{"expires_at": strconv.FormatInt(checkoutNow.Add(30*time.Minute+time.Second).Unix(), 10)}},
		{name: "expires in 24 hours", req: expiresIn(24 * time.Hour),
			want: map[string]string{"expires_at": strconv.FormatInt(checkoutNow.Add(24*time.Hour).Unix(), 10)}},
		{name: "expires too soon", req: expiresIn(30*time.Minute - time.Second),
			wantErr: ErrInvalidRequest, wantMsg: []string{"ExpiresAt", "at least 30m0s"}},
		{name: "expires too late", req: expiresIn(24*time.Hour + time.Second),
			wantErr: ErrInvalidRequest, wantMsg: []string{"ExpiresAt", "at most 24h0m0s"}},
		{name: "Stripe's default expiry", req: func(r *CheckoutRequest) { r.ExpiresAt = time.Time{} },
			want: map[string]string{"expires_at": ""}},

		// Order ID.
		{name: "no order ID", req: func(r *CheckoutRequest) { r.OrderID = " " }, wantErr: ErrInvalidRequest, wantMsg: []string{"OrderID"}},
		{name: "200-character order ID", req: func(r *CheckoutRequest) { r.OrderID = strings.Repeat("é", 200) },
			want: map[string]string{"client_reference_id": strings.Repeat("é", 200)}},
		{name: "201-character order ID", req: func(r *CheckoutRequest) { r.OrderID = strings.Repeat("1", 201) },
			wantErr: ErrInvalidRequest, wantMsg: []string{"OrderID", "201 characters"}},

		// URLs, customer, locale.
		{name: "no success URL", req: func(r *CheckoutRequest) { r.SuccessURL = "" }, wantErr: ErrInvalidRequest, wantMsg: []string{"SuccessURL"}},
		{name: "relative success URL", req: func(r *CheckoutRequest) { r.SuccessURL = "/done" }, wantErr: ErrInvalidRequest, wantMsg: []string{"SuccessURL"}},
		{name: "ftp cancel URL", req: func(r *CheckoutRequest) { r.CancelURL = "ftp://shop.example/" }, wantErr: ErrInvalidRequest, wantMsg: []string{"CancelURL"}},
		{name: "email and customer", req: func(r *CheckoutRequest) { r.CustomerID = "cus_123" }, wantErr: ErrInvalidRequest, wantMsg: []string{"CustomerEmail"}},
		{name: "customer", req: func(r *CheckoutRequest) { r.CustomerEmail, r.CustomerID = "", "cus_123" },
			want: map[string]string{"customer": "cus_123", "customer_email": ""}},
		{name: "bad email", req: func(r *CheckoutRequest) { r.CustomerEmail = "Jane <jane@example.com>" }, wantErr: ErrInvalidRequest, wantMsg: []string{"CustomerEmail"}},
		{name: "bad customer ID", req: func(r *CheckoutRequest) { r.CustomerEmail, r.CustomerID = "", "jane" }, wantErr: ErrInvalidRequest, wantMsg: []string{"CustomerID"}},
		{name: "locale", req: func(r *CheckoutRequest) { r.Locale = "pt-BR" }, want: map[string]string{"locale": "pt-BR"}},
		{name: "unknown locale", req: func(r *CheckoutRequest) { r.Locale = "klingon" }, wantErr: ErrInvalidRequest, wantMsg: []string{"Locale"}},

		// Modes.
		{name: "unknown mode", req: func(r *CheckoutRequest) { r.Mode = "setup" }, wantErr: ErrInvalidRequest, wantMsg: []string{"Mode"}},
		{name: "Recurring outside subscription mode", req: func(r *CheckoutRequest) { r.Interval = stripe.PriceRecurringIntervalMonth },
			wantErr: ErrInvalidRequest, wantMsg: []string{"Interval"}},
		{name: "subscription needs Interval", req: func(r *CheckoutRequest) { r.Mode = CheckoutSubscription },
			wantErr: ErrInvalidRequest, wantMsg: []string{"Interval"}},
		{name: "every 36 months", req: func(r *CheckoutRequest) {
			r.Mode, r.Interval, r.IntervalCount = CheckoutSubscription, stripe.PriceRecurringIntervalMonth, 36
		}, want: map[string]string{"line_items[0][price_data][recurring][interval_count]": "36"}},
		{name: "every 37 months", req: func(r *CheckoutRequest) {
			r.Mode, r.Interval, r.IntervalCount = CheckoutSubscription, stripe.PriceRecurringIntervalMonth, 37
		}, wantErr: ErrInvalidRequest, wantMsg: []string{"IntervalCount"}},
		{name: "unknown interval", req: func(r *CheckoutRequest) {
			r.Mode, r.Interval = CheckoutSubscription, "fortnight"
		}, wantErr: ErrInvalidRequest, wantMsg: []string{"Interval"}},
		{name: "unknown 3-D Secure choice", req: func(r *CheckoutRequest) { r.ThreeDSecure = "sometimes" },
			wantErr: ErrInvalidRequest, wantMsg: []string{"ThreeDSecure"}},
		{name: "PriceID and inline price", req: func(r *CheckoutRequest) { r.Items[0].PriceID = "price_123" },
			wantErr: ErrInvalidRequest, wantMsg: []string{"Items[0]", "either a PriceID or an inline price"}},
		{name: "malformed PriceID", req: func(r *CheckoutRequest) { r.Items = []LineItem{{PriceID: "prod_123", Quantity: 1}} },
			wantErr: ErrInvalidRequest, wantMsg: []string{"not a Stripe Price ID"}},
		{name: "item without name", req: func(r *CheckoutRequest) { r.Items[1].Name = "" },
			wantErr: ErrInvalidRequest, wantMsg: []string{"Items[1]", "Name is required"}},
		{name: "idempotency key with a space", req: func(r *CheckoutRequest) { r.IdempotencyKey = "order 1001" },
			wantErr: ErrInvalidRequest, wantMsg: []string{"IdempotencyKey"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			g, rec := newRecordedGateway(t, cfg, checkoutClock())
			req := baseCheckoutRequest()
			if tt.req != nil {
				tt.req(&req)
			}
			cs, err := g.CreateCheckout(context.Background(), req)
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, tt.wantErr)
				for _, m := range tt.wantMsg {
					assert.Contains(t, err.Error(), m)
				}
				if tt.wantMin != nil {
					var me *MinimumError
					require.ErrorAs(t, err, &me)
					assert.True(t, tt.wantMin.Minimum.Equal(me.Minimum), "Minimum %s, want %s", me.Minimum, tt.wantMin.Minimum)
					assert.True(t, tt.wantMin.Total.Equal(me.Total), "Total %s, want %s", me.Total, tt.wantMin.Total)
					assert.Equal(t, tt.wantMin.Currency, me.Currency)
					assert.Equal(t, tt.wantMin.Source, me.Source)
				}
				assert.Empty(t, rec.requests(), "a refused request must not reach Stripe")
				assert.Nil(t, cs)
				return
			}
			require.NoError(t, err)
			sent := rec.only(t)
			for k, v := range tt.want {
				assert.Equal(t, v, sent.Form.Get(k), "parameter %s", k)
			}
			assertInSpec(t, sent)
		})
	}
}

func TestCreateCheckoutWithPriceIDs(t *testing.T) {
	// stripe-mock's price_123 is an active, licensed, monthly USD price of
	// 20.00; patches turn it into other kinds of price.
	const pricePath = "/v1/prices/price_123"
	subscription := func(r *CheckoutRequest) {
		r.Mode, r.Currency = CheckoutSubscription, "usd"
		r.Items = []LineItem{{PriceID: "price_123", Quantity: 2}}
	}
	tests := []struct {
		name    string
		patch   map[string]any
		req     func(*CheckoutRequest)
		wantErr error
		wantMsg []string
		wantMin *MinimumError
	}{
		{name: "recurring price in subscription mode", req: subscription},
		{name: "with an inline item of the same interval", req: func(r *CheckoutRequest) {
			subscription(r)
			r.Interval = stripe.PriceRecurringIntervalMonth
			r.Items = append(r.Items, LineItem{Name: "Support", UnitAmount: decAmount("5"), Quantity: 1})
		}},
		{name: "with an inline item of another interval", req: func(r *CheckoutRequest) {
			subscription(r)
			r.Interval = stripe.PriceRecurringIntervalYear
			r.Items = append(r.Items, LineItem{Name: "Support", UnitAmount: decAmount("5"), Quantity: 1})
		}, wantErr: ErrInvalidRequest, wantMsg: []string{"Items[0] (price_123)", "one interval"}},
		{name: "recurring price in payment mode", req: func(r *CheckoutRequest) {
			r.Currency = "usd"
			r.Items = []LineItem{{PriceID: "price_123", Quantity: 1}}
		}, wantErr: ErrInvalidRequest, wantMsg: []string{"Items[0] (price_123)", "recurring price"}},
		{name: "one-time price in payment mode",
			patch: map[string]any{"type": "one_time", "recurring": nil},
			req: func(r *CheckoutRequest) {
				r.Currency = "usd"
				r.Items = []LineItem{{PriceID: "price_123", Quantity: 1}}
			}},
		{name: "only one-time prices in subscription mode",
			patch: map[string]any{"type": "one_time", "recurring": nil}, req: subscription,
			wantErr: ErrInvalidRequest, wantMsg: []string{"at least one recurring item"}},
		{name: "price in another currency", req: func(r *CheckoutRequest) { subscription(r); r.Currency = "eur" },
			wantErr: ErrInvalidRequest, wantMsg: []string{"is in USD", "order is in EUR"}},
		{name: "currency option used for the total",
			patch: map[string]any{"currency": "eur", "currency_options": map[string]any{
				"usd": map[string]any{"unit_amount": 12, "unit_amount_decimal": "12", "tax_behavior": "unspecified"},
			}},
			req:     subscription,
			wantErr: ErrBelowMinimum,
			wantMin: &MinimumError{Minimum: decAmount("0.50"), Total: decAmount("0.24"), Currency: "usd", Source: "stripe"}},
		{name: "price below the minimum", patch: map[string]any{"unit_amount": 10, "unit_amount_decimal": "10"},
			req: subscription, wantErr: ErrBelowMinimum,
			wantMin: &MinimumError{Minimum: decAmount("0.50"), Total: decAmount("0.20"), Currency: "usd", Source: "stripe"}},
		{name: "fraction of a cent", patch: map[string]any{"unit_amount": nil, "unit_amount_decimal": "10.5"},
			req: subscription, wantErr: ErrInvalidAmount, wantMsg: []string{"fraction"}},
		{name: "tiered price", patch: map[string]any{"billing_scheme": "tiered", "unit_amount": nil, "unit_amount_decimal": nil},
			req: subscription, wantErr: ErrInvalidRequest, wantMsg: []string{"tiered"}},
		{name: "archived price", patch: map[string]any{"active": false},
			req: subscription, wantErr: ErrInvalidRequest, wantMsg: []string{"archived"}},
		{name: "transformed quantity rounds up", patch: map[string]any{
			"unit_amount": 20, "unit_amount_decimal": "20",
			"transform_quantity": map[string]any{"divide_by": 10, "round": "up"},
		}, req: func(r *CheckoutRequest) { subscription(r); r.Items[0].Quantity = 11 },
			// 11 units in packs of 10 bill 2 packs: 0.40 USD.
			wantErr: ErrBelowMinimum,
			wantMin: &MinimumError{Minimum: decAmount("0.50"), Total: decAmount("0.40"), Currency: "usd", Source: "stripe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, rec := newRecordedGateway(t, validConfig(), checkoutClock())
			if tt.patch != nil {
				rec.patch = patchAPIJSON(http.MethodGet, pricePath, tt.patch)
			}
			req := baseCheckoutRequest()
			tt.req(&req)
			_, err := g.CreateCheckout(context.Background(), req)

			reqs := rec.requests()
			require.NotEmpty(t, reqs)
			get := reqs[0]
			assert.Equal(t, http.MethodGet, get.Method)
			assert.Equal(t, pricePath, get.Path)
			assert.Equal(t, []string{"currency_options"}, get.Form["expand[0]"])
			assertInSpec(t, get)

			if tt.wantErr != nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, tt.wantErr)
				for _, m := range tt.wantMsg {
					assert.Contains(t, err.Error(), m)
				}
				if tt.wantMin != nil {
					var me *MinimumError
					require.ErrorAs(t, err, &me)
					assert.True(t, tt.wantMin.Total.Equal(me.Total), "Total %s, want %s", me.Total, tt.wantMin.Total)
					assert.True(t, tt.wantMin.Minimum.Equal(me.Minimum))
					assert.Equal(t, tt.wantMin.Currency, me.Currency)
					assert.Equal(t, tt.wantMin.Source, me.Source)
				}
				assert.Len(t, reqs, 1, "no session may be created")
				return
			}
			require.NoError(t, err)
			require.Len(t, reqs, 2)
			post := reqs[1]
			assert.Equal(t, "/v1/checkout/sessions", post.Path)
			assert.Equal(t, "price_123", post.Form.Get("line_items[0][price]"))
			assert.Empty(t, post.Form.Get("line_items[0][price_data][currency]"))
			assertInSpec(t, post)
		})
	}
}

func TestWithThreeDSecureRejectsUnknownPolicy(t *testing.T) {
	_, err := New(validConfig(), WithThreeDSecure("sometimes"))
	assert.ErrorIs(t, err, ErrInvalidConfig)
	assert.Contains(t, err.Error(), "WithThreeDSecure")
}
