package money

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
)

// TestCurrencyToMinor checks exact conversions and exact rejections.
func TestCurrencyToMinor(t *testing.T) {
	tests := []struct {
		code    string
		amount  string
		want    int64
		wantErr error
	}{
		// Two-decimal: cents.
		{"eur", "19.99", 1999, nil},
		{"eur", "0.01", 1, nil},
		{"eur", "10", 1000, nil},
		{"eur", "10.00", 1000, nil},
		{"eur", "10.000000", 1000, nil},
		{"eur", "1e2", 10000, nil},
		{"eur", "15e-2", 15, nil},
		{"usd", "19.99", 1999, nil},
		{"usd", "0.50", 50, nil},
		{"gbp", "0.30", 30, nil},
		{"eur", "19.999", 0, ErrInvalidAmount},
		{"usd", "0.001", 0, ErrInvalidAmount},
		{"usd", "0.005", 0, ErrInvalidAmount},
		// Zero.
		{"eur", "0", 0, nil},
		{"eur", "0.000", 0, nil},
		{"jpy", "0", 0, nil},
		{"kwd", "0.000", 0, nil},
		// Negative.
		{"eur", "-1", 0, ErrInvalidAmount},
		{"eur", "-0.01", 0, ErrInvalidAmount},
		{"jpy", "-500", 0, ErrInvalidAmount},
		// Maximum: 8 digits in minor units for most currencies.
		{"eur", "999999.99", 99999999, nil},
		{"eur", "1000000", 0, ErrInvalidAmount},
		{"eur", "1000000.00", 0, ErrInvalidAmount},
		{"usd", "999999.991", 0, ErrInvalidAmount},
		{"eur", "123456789012345678901234567890", 0, ErrInvalidAmount},
		// Zero-decimal.
		{"jpy", "500", 500, nil},
		{"jpy", "500.0", 500, nil},
		{"jpy", "500.5", 0, ErrInvalidAmount},
		{"jpy", "0.1", 0, ErrInvalidAmount},
		{"jpy", "99999999", 99999999, nil},
		{"jpy", "100000000", 0, ErrInvalidAmount},
		{"krw", "500", 500, nil},
		{"krw", "500.5", 0, ErrInvalidAmount},
		{"clp", "1000.00", 1000, nil},
		{"xof", "2500", 2500, nil},
		// Three-decimal: thousandths whose last digit is 0.
		{"kwd", "1.23", 1230, nil},
		{"kwd", "1.230", 1230, nil},
		{"kwd", "1.234", 0, ErrInvalidAmount},
		{"kwd", "0.01", 10, nil},
		{"kwd", "0.001", 0, ErrInvalidAmount},
		{"kwd", "99999.99", 99999990, nil},
		{"kwd", "100000", 0, ErrInvalidAmount},
		{"bhd", "1.23", 1230, nil},
		{"bhd", "1.230", 1230, nil},
		{"bhd", "1.234", 0, ErrInvalidAmount},
		{"jod", "5.1", 5100, nil},
		{"omr", "0.5", 500, nil},
		{"tnd", "12.345", 0, ErrInvalidAmount},
		// HUF and TWD: two-decimal for charges (the 00 rule is for payouts).
		{"huf", "175.00", 17500, nil},
		{"huf", "10.45", 1045, nil},
		{"huf", "10.455", 0, ErrInvalidAmount},
		{"twd", "800.45", 80045, nil},
		{"twd", "800", 80000, nil},
		// ISK and UGX: two-decimal, decimals always 00.
		{"isk", "5", 500, nil},
		{"isk", "5.00", 500, nil},
		{"isk", "5.5", 0, ErrInvalidAmount},
		{"isk", "5.05", 0, ErrInvalidAmount},
		{"isk", "999999", 99999900, nil},
		{"isk", "1000000", 0, ErrInvalidAmount},
		{"ugx", "5", 500, nil},
		{"ugx", "5.5", 0, ErrInvalidAmount},
		// Larger documented maximums.
		{"idr", "15000", 1500000, nil},
		{"idr", "9999999999.99", 999999999999, nil},
		{"idr", "10000000000", 0, ErrInvalidAmount},
		{"inr", "9999999.99", 999999999, nil},
		{"inr", "10000000", 0, ErrInvalidAmount},
		{"cop", "99999999.99", 9999999999, nil},
		{"cop", "100000000", 0, ErrInvalidAmount},
		// Absurd exponents are rejected at once, not computed.
		{"eur", "1e-2000000000", 0, ErrInvalidAmount},
		{"eur", "1e2000000000", 0, ErrInvalidAmount},
		{"jpy", "1e-30", 0, ErrInvalidAmount},
		// Codes in any case.
		{"EUR", "19.99", 1999, nil},
		{"Eur", "19.99", 1999, nil},
		{"eUr", "19.99", 1999, nil},
		{"JPY", "500", 500, nil},
		{"KWD", "1.23", 1230, nil},
		// Unsupported codes.
		{"XYZ", "1", 0, ErrUnsupportedCurrency},
		{"", "1", 0, ErrUnsupportedCurrency},
		{" eur", "1", 0, ErrUnsupportedCurrency},
		{"eur ", "1", 0, ErrUnsupportedCurrency},
		{"eu", "1", 0, ErrUnsupportedCurrency},
		{"euro", "1", 0, ErrUnsupportedCurrency},
		{"eek", "1", 0, ErrUnsupportedCurrency},
		{"\u212awd", "1", 0, ErrUnsupportedCurrency}, // Kelvin sign, lowercases to "k" in Unicode
	}
	require.GreaterOrEqual(t, len(tests), 40)
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q/%s", tt.code, tt.amount), func(t *testing.T) {
			amount := decimal.RequireFromString(tt.amount)
			c, err := Lookup(tt.code)
			if errors.Is(tt.wantErr, ErrUnsupportedCurrency) {
				require.ErrorIs(t, err, ErrUnsupportedCurrency)
				return
			}
			require.NoError(t, err)
			got, err := c.ToMinor(amount)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Zero(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.True(t, c.FromMinor(got).Equal(amount), "fromMinor(%d) = %s, want %s", got, c.FromMinor(got), amount)
		})
	}
}

// TestCurrencyTable checks the table against Stripe's documented rules.
func TestCurrencyTable(t *testing.T) {
	type rule struct {
		exponent int32
		step     int64
		allowed  int32
		maxMinor int64
		min      string
	}
	want := map[string]rule{
		"usd": {2, 1, 2, 99999999, "0.50"},
		"eur": {2, 1, 2, 99999999, "0.50"},
		"gbp": {2, 1, 2, 99999999, "0.30"},
		"jpy": {0, 1, 0, 99999999, "50"},
		"krw": {0, 1, 0, 99999999, "50"},
		"kwd": {3, 10, 2, 99999999, "0"},
		"bhd": {3, 10, 2, 99999999, "0"},
		"isk": {2, 100, 0, 99999999, "0"},
		"ugx": {2, 100, 0, 99999999, "0"},
		"huf": {2, 1, 2, 99999999, "175"},
		"twd": {2, 1, 2, 99999999, "0"},
		"idr": {2, 1, 2, 999999999999, "0.50"},
		"inr": {2, 1, 2, 999999999, "0.50"},
		"cop": {2, 1, 2, 9999999999, "0.50"},
		"czk": {2, 1, 2, 99999999, "15"},
		"mxn": {2, 1, 2, 99999999, "10"},
		"thb": {2, 1, 2, 99999999, "10"},
		"bgn": {2, 1, 2, 99999999, "1"},
		"vnd": {0, 1, 0, 99999999, "0"},
		"ang": {2, 1, 2, 99999999, "0"},
	}
	for code, r := range want {
		c, err := Lookup(code)
		require.NoError(t, err, code)
		assert.Equal(t, code, c.code)
		assert.Equal(t, r.exponent, c.exponent, code)
		assert.Equal(t, r.step, c.step, code)
		assert.Equal(t, r.allowed, c.Decimals(), code)
		assert.Equal(t, r.maxMinor, c.maxMinor, code)
		assert.True(t, decimal.RequireFromString(r.min).Equal(c.minCharge), "%s minCharge = %s, want %s", code, c.minCharge, r.min)
	}

	zero := strings.Fields("bif clp djf gnf jpy kmf krw mga pyg rwf vnd vuv xaf xof xpf")
	for code, c := range stripeCurrencies {
		assert.Equal(t, code, c.code)
		assert.True(t, moneyIsLowerCode(code), code)
		switch {
		case c.exponent == 0:
			assert.Contains(t, zero, code)
		case c.exponent == 3:
			assert.Contains(t, []string{"bhd", "jod", "kwd", "omr", "tnd"}, code)
			assert.Equal(t, int64(10), c.step, code)
		case c.step != 1:
			assert.Contains(t, []string{"isk", "ugx"}, code)
		}
	}
	for _, code := range zero {
		assert.Equal(t, int32(0), stripeCurrencies[code].exponent, code)
	}
	assert.Len(t, stripeCurrencies, 139)
}

// TestCurrencyCoversStripeGo checks that every currency stripe-go v76 knows
// is supported, except the retired ones Stripe no longer charges in.
func TestCurrencyCoversStripeGo(t *testing.T) {
	retired := map[stripe.Currency]bool{
		stripe.CurrencyEEK: true, stripe.CurrencyHRK: true, stripe.CurrencyLTL: true,
		stripe.CurrencyLVL: true, stripe.CurrencyMRO: true, stripe.CurrencySLL: true,
		stripe.CurrencySVC: true, stripe.CurrencyVEF: true,
	}
	all := []stripe.Currency{
		stripe.CurrencyAED, stripe.CurrencyAFN, stripe.CurrencyALL, stripe.CurrencyAMD, stripe.CurrencyANG,
		stripe.CurrencyAOA, stripe.CurrencyARS, stripe.CurrencyAUD, stripe.CurrencyAWG, stripe.CurrencyAZN,
		stripe.CurrencyBAM, stripe.CurrencyBBD, stripe.CurrencyBDT, stripe.CurrencyBGN, stripe.CurrencyBIF,
		stripe.CurrencyBMD, stripe.CurrencyBND, stripe.CurrencyBOB, stripe.CurrencyBRL, stripe.CurrencyBSD,
		stripe.CurrencyBWP, stripe.CurrencyBZD, stripe.CurrencyCAD, stripe.CurrencyCDF, stripe.CurrencyCHF,
		stripe.CurrencyCLP, stripe.CurrencyCNY, stripe.CurrencyCOP, stripe.CurrencyCRC, stripe.CurrencyCVE,
		stripe.CurrencyCZK, stripe.CurrencyDJF, stripe.CurrencyDKK, stripe.CurrencyDOP, stripe.CurrencyDZD,
		stripe.CurrencyEEK, stripe.CurrencyEGP, stripe.CurrencyETB, stripe.CurrencyEUR, stripe.CurrencyFJD,
		stripe.CurrencyFKP, stripe.CurrencyGBP, stripe.CurrencyGEL, stripe.CurrencyGIP, stripe.CurrencyGMD,
		stripe.CurrencyGNF, stripe.CurrencyGTQ, stripe.CurrencyGYD, stripe.CurrencyHKD, stripe.CurrencyHNL,
		stripe.CurrencyHRK, stripe.CurrencyHTG, stripe.CurrencyHUF, stripe.CurrencyIDR, stripe.CurrencyILS,
		stripe.CurrencyINR, stripe.CurrencyISK, stripe.CurrencyJMD, stripe.CurrencyJPY, stripe.CurrencyKES,
		stripe.CurrencyKGS, stripe.CurrencyKHR, stripe.CurrencyKMF, stripe.CurrencyKRW, stripe.CurrencyKYD,
		stripe.CurrencyKZT, stripe.CurrencyLAK, stripe.CurrencyLBP, stripe.CurrencyLKR, stripe.CurrencyLRD,
		stripe.CurrencyLSL, stripe.CurrencyLTL, stripe.CurrencyLVL, stripe.CurrencyMAD, stripe.CurrencyMDL,
		stripe.CurrencyMGA, stripe.CurrencyMKD, stripe.CurrencyMNT, stripe.CurrencyMOP, stripe.CurrencyMRO,
		stripe.CurrencyMUR, stripe.CurrencyMVR, stripe.CurrencyMWK, stripe.CurrencyMXN, stripe.CurrencyMYR,
		stripe.CurrencyMZN, stripe.CurrencyNAD, stripe.CurrencyNGN, stripe.CurrencyNIO, stripe.CurrencyNOK,
		stripe.CurrencyNPR, stripe.CurrencyNZD, stripe.CurrencyPAB, stripe.CurrencyPEN, stripe.CurrencyPGK,
		stripe.CurrencyPHP, stripe.CurrencyPKR, stripe.CurrencyPLN, stripe.CurrencyPYG, stripe.CurrencyQAR,
		stripe.CurrencyRON, stripe.CurrencyRSD, stripe.CurrencyRUB, stripe.CurrencyRWF, stripe.CurrencySAR,
		stripe.CurrencySBD, stripe.CurrencySCR, stripe.CurrencySEK, stripe.CurrencySGD, stripe.CurrencySHP,
		stripe.CurrencySLL, stripe.CurrencySOS, stripe.CurrencySRD, stripe.CurrencySTD, stripe.CurrencySVC,
		stripe.CurrencySZL, stripe.CurrencyTHB, stripe.CurrencyTJS, stripe.CurrencyTOP, stripe.CurrencyTRY,
		stripe.CurrencyTTD, stripe.CurrencyTWD, stripe.CurrencyTZS, stripe.CurrencyUAH, stripe.CurrencyUGX,
		stripe.CurrencyUSD, stripe.CurrencyUYU, stripe.CurrencyUZS, stripe.CurrencyVEF, stripe.CurrencyVND,
		stripe.CurrencyVUV, stripe.CurrencyWST, stripe.CurrencyXAF, stripe.CurrencyXCD, stripe.CurrencyXOF,
		stripe.CurrencyXPF, stripe.CurrencyYER, stripe.CurrencyZAR, stripe.CurrencyZMW,
	}
	for _, code := range all {
		_, err := Lookup(string(code))
		if retired[code] {
			assert.ErrorIs(t, err, ErrUnsupportedCurrency, code)
		} else {
			assert.NoError(t, err, code)
		}
	}
}

// TestCurrencyRoundTripMinor converts several values both ways in every
// currency of the table.
func TestCurrencyRoundTripMinor(t *testing.T) {
	for code, c := range stripeCurrencies {
		top := c.maxMinor - c.maxMinor%c.step
		for _, minor := range []int64{0, c.step, 7 * c.step, 100 * c.step, 12345 * c.step, top - c.step, top} {
			x := c.FromMinor(minor)
			got, err := c.ToMinor(x)
			require.NoError(t, err, "%s %s", code, x)
			require.Equal(t, minor, got, "%s %s", code, x)
			require.True(t, c.FromMinor(got).Equal(x), "%s %s", code, x)
		}
		smallest := decimal.New(1, -c.Decimals())
		for _, s := range []string{"1", "42", "19.99", "1234.5"} {
			x := decimal.RequireFromString(s).Truncate(c.Decimals())
			got, err := c.ToMinor(x)
			require.NoError(t, err, "%s %s", code, x)
			require.True(t, c.FromMinor(got).Equal(x), "%s %s", code, x)
			// One more decimal place than allowed is never rounded away.
			_, err = c.ToMinor(x.Add(smallest.Shift(-1)))
			require.ErrorIs(t, err, ErrInvalidAmount, "%s %s", code, x)
		}
		// One step above the maximum is rejected.
		_, err := c.ToMinor(c.MaxMajor().Add(smallest))
		require.ErrorIs(t, err, ErrInvalidAmount, code)
		// Stripe's documented minimum is itself chargeable.
		got, err := c.ToMinor(c.minCharge)
		require.NoError(t, err, code)
		require.True(t, c.FromMinor(got).Equal(c.minCharge), code)
	}
}

// TestCurrencyErrorMessages checks that messages name the amount, the
// currency and the allowed precision, and read well after a caller's prefix.
func TestCurrencyErrorMessages(t *testing.T) {
	tests := []struct {
		code, amount, want string
	}{
		{"kwd", "1.234", "stripegateway: invalid amount: 1.234 KWD has 3 decimal places, but KWD allows at most 2 decimal places: Stripe requires the last of KWD's 3 minor digits to be 0"},
		{"EUR", "19.999", "stripegateway: invalid amount: 19.999 EUR has 3 decimal places, but EUR allows at most 2 decimal places"},
		{"jpy", "500.5", "stripegateway: invalid amount: 500.5 JPY has 1 decimal place, but JPY allows no decimal places: JPY is a zero-decimal currency at Stripe"},
		{"isk", "5.5", "stripegateway: invalid amount: 5.5 ISK has 1 decimal place, but ISK allows no decimal places: Stripe represents ISK with 2 minor digits that must both be 0"},
		{"ugx", "5.25", "stripegateway: invalid amount: 5.25 UGX has 2 decimal places, but UGX allows no decimal places: Stripe represents UGX with 2 minor digits that must both be 0"},
		{"eur", "-1.5", "stripegateway: invalid amount: -1.5 EUR is negative: use an amount of 0 or more"},
		{"eur", "1000000", "stripegateway: invalid amount: 1000000 EUR is above Stripe's maximum amount of 999999.99 EUR"},
		{"isk", "1000000", "stripegateway: invalid amount: 1000000 ISK is above Stripe's maximum amount of 999999 ISK"},
		{"kwd", "100000", "stripegateway: invalid amount: 100000 KWD is above Stripe's maximum amount of 99999.99 KWD"},
		{"idr", "1e20", "stripegateway: invalid amount: 100000000000000000000 IDR is above Stripe's maximum amount of 9999999999.99 IDR"},
		{"eur", "1e-2000000000", "stripegateway: invalid amount: 1e-2000000000 EUR has 2000000000 decimal places, but EUR allows at most 2 decimal places"},
		{"XYZ", "1", `stripegateway: unsupported currency: "XYZ" is not a currency Stripe charges in: use a three-letter ISO 4217 code that Stripe supports, such as "eur" or "usd"`},
		{" eur", "1", `stripegateway: unsupported currency: " eur" is not a currency Stripe charges in: use a three-letter ISO 4217 code that Stripe supports, such as "eur" or "usd"`},
		{"", "1", `stripegateway: unsupported currency: no currency code given: use a three-letter ISO 4217 code that Stripe supports, such as "eur" or "usd"`},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.amount, func(t *testing.T) {
			c, err := Lookup(tt.code)
			if err == nil {
				_, err = c.ToMinor(decimal.RequireFromString(tt.amount))
			}
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())

			wrapped := fmt.Errorf("item 2 %q: %w", "T-shirt", err)
			assert.True(t, errors.Is(wrapped, ErrInvalidAmount) || errors.Is(wrapped, ErrUnsupportedCurrency))
			assert.True(t, strings.HasPrefix(wrapped.Error(), `item 2 "T-shirt": stripegateway: `))
		})
	}
}

// TestCurrencyLookupReturnsCopy checks that the table cannot be changed
// through a looked-up currency.
func TestCurrencyLookupReturnsCopy(t *testing.T) {
	c, err := Lookup("EUR")
	require.NoError(t, err)
	c.exponent, c.step, c.maxMinor = 0, 7, 1
	again, err := Lookup("eur")
	require.NoError(t, err)
	assert.Equal(t, int32(2), again.exponent)
	assert.Equal(t, int64(1), again.step)
	assert.Equal(t, int64(99999999), again.maxMinor)
}

// FuzzMinorUnits checks that conversion never panics and either returns the
// right sentinel error or converts exactly: never a silent rounding, never a
// wrong rejection. Each input is checked both ways (minor → decimal → minor
// and decimal → minor → decimal) for the fuzzed currency code and for every
// currency in the table, through MinorUnits too.
func FuzzMinorUnits(f *testing.F) {
	seeds := []struct {
		code, amount string
		minor        int64
	}{
		{"eur", "19.99", 1999}, {"EUR", "0.01", 1}, {"usd", "10", 1000},
		{"jpy", "500", 500}, {"jpy", "500.5", 5005}, {"krw", "-1", -1},
		{"kwd", "1.23", 1230}, {"kwd", "1.234", 1234}, {"bhd", "1.230", 1230},
		{"isk", "5", 500}, {"isk", "5.5", 550}, {"ugx", "5", 500},
		{"huf", "10.45", 1045}, {"twd", "800.45", 80045},
		{"idr", "9999999999.99", 999999999999}, {"eur", "999999.99", 99999999},
		{"eur", "1000000", 100000000}, {"eur", "1e-2000000000", 0},
		{"eur", "1e2000000000", 0}, {"xyz", "1", 1}, {"", "0", 0}, {" eur", "1", 1},
		{"eur", "-0.00", -9223372036854775808}, {"inr", "12345678901234567890123", 9223372036854775807},
		{"idr", "000E100020009", 999999999970}, {"eur", "0e-2000000000", 0},
	}
	for _, s := range seeds {
		f.Add(s.code, s.amount, s.minor)
	}
	codes := make([]string, 0, len(stripeCurrencies))
	for code := range stripeCurrencies {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	f.Fuzz(func(t *testing.T, code, amountText string, minor int64) {
		fuzzEveryCurrency(t, codes, amountText, minor)

		c, err := Lookup(code)
		if err != nil {
			require.ErrorIs(t, err, ErrUnsupportedCurrency)
			require.True(t, strings.HasPrefix(err.Error(), ErrUnsupportedCurrency.Error()+": "))
			_, err = MinorUnits(decimal.NewFromInt(1), code)
			require.ErrorIs(t, err, ErrUnsupportedCurrency)
			return
		}

		// Minor → major → minor is exact for every amount Stripe accepts.
		if minor >= 0 && minor <= c.maxMinor && minor%c.step == 0 {
			got, err := c.ToMinor(c.FromMinor(minor))
			require.NoError(t, err)
			require.Equal(t, minor, got)
		}

		amount, err := decimal.NewFromString(amountText)
		if err != nil {
			return
		}
		got, err := c.ToMinor(amount)
		if amount.IsZero() {
			// Checked apart: Equal would rescale a zero such as 0e100020009
			// to the other operand's exponent, which takes minutes.
			require.NoError(t, err)
			require.Zero(t, got)
			return
		}
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidAmount)
			require.Zero(t, got)
			require.True(t, strings.HasPrefix(err.Error(), ErrInvalidAmount.Error()+": "))
		} else {
			// Exact: converting back gives the very same value.
			require.True(t, c.FromMinor(got).Equal(amount), "%s %s -> %d", amount, c.code, got)
			require.GreaterOrEqual(t, got, int64(0))
			require.LessOrEqual(t, got, c.maxMinor)
			require.Zero(t, got%c.step)
		}

		// Independent check of the verdict, with decimal arithmetic, for
		// exponents small enough to compute with.
		if e := amount.Exponent(); e < -1000 || e > 1000 {
			return
		}
		scaled := amount.Shift(c.exponent)
		valid := amount.Sign() >= 0 && scaled.IsInteger() &&
			scaled.Mod(decimal.NewFromInt(c.step)).IsZero() &&
			scaled.LessThanOrEqual(decimal.NewFromInt(c.maxMinor))
		require.Equal(t, valid, err == nil, "%s %s: %v", amount, c.code, err)
	})
}

// fuzzEveryCurrency checks both conversions of one fuzz input in every
// currency of the table: exact, or ErrInvalidAmount, never rounded. (The
// independent verdict on which amounts are valid is checked in the fuzzed
// currency only, in FuzzMinorUnits, to keep each execution cheap.)
func fuzzEveryCurrency(t *testing.T, codes []string, amountText string, minor int64) {
	amount, amountErr := decimal.NewFromString(amountText)
	for _, code := range codes {
		c := stripeCurrencies[code]

		// Minor → decimal → minor: minor mapped onto the amounts Stripe
		// accepts in c (0 to maxMinor, a multiple of step).
		m := minor % (c.maxMinor + 1)
		if m < 0 {
			m = -m
		}
		m -= m % c.step
		got, err := c.ToMinor(c.FromMinor(m))
		require.NoError(t, err, "%d %s", m, code)
		require.Equal(t, m, got, "%s", code)
		got, err = MinorUnits(c.FromMinor(m), strings.ToUpper(code))
		require.NoError(t, err, "%d %s", m, code)
		require.Equal(t, m, got, "%s", code)

		// Decimal → minor → decimal: the same value, or ErrInvalidAmount.
		if amountErr != nil {
			continue
		}
		got, err = MinorUnits(amount, code)
		switch {
		case err != nil:
			require.ErrorIs(t, err, ErrInvalidAmount, "%s %s", amountText, code)
			require.Zero(t, got)
		case amount.IsZero():
			require.Zero(t, got)
		default:
			require.True(t, c.FromMinor(got).Equal(amount), "%s %s -> %d: rounded", amountText, code, got)
			require.Zero(t, got%c.step)
		}
	}
}

func TestMinorUnits(t *testing.T) {
	tests := []struct {
		amount   string
		currency string
		want     int64
		err      error
	}{
		{"19.99", "eur", 1999, nil},
		{"19.99", "EUR", 1999, nil},
		{"500", "jpy", 500, nil},
		{"12.34", "kwd", 12340, nil},
		{"5", "isk", 500, nil},
		{"0", "usd", 0, nil},
		{"1.5", "jpy", 0, ErrInvalidAmount},
		{"1.234", "kwd", 0, ErrInvalidAmount},
		{"-1", "usd", 0, ErrInvalidAmount},
		{"1", "xyz", 0, ErrUnsupportedCurrency},
	}
	for _, tc := range tests {
		got, err := MinorUnits(decimal.RequireFromString(tc.amount), tc.currency)
		if tc.err != nil {
			assert.ErrorIs(t, err, tc.err, "%s %s", tc.amount, tc.currency)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, "%s %s", tc.amount, tc.currency)
	}
}
