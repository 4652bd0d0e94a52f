// Package money holds Stripe's currency rules and converts exactly between
// amounts in a currency's major unit (decimal.Decimal) and the integer
// minor-unit amounts of Stripe's API. The gateway and its test kit share it,
// so that there is one currency table.
package money

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/b27de697/stripegateway/internal/redact"

	"github.com/shopspring/decimal"
)

// Sentinel errors, re-exported by the root package as
// stripegateway.ErrInvalidAmount and stripegateway.ErrUnsupportedCurrency.
var (
	ErrInvalidAmount       = errors.New("stripegateway: invalid amount")
	ErrUnsupportedCurrency = errors.New("stripegateway: unsupported currency")
)

// This file converts exactly between amounts in a currency's major unit
// (decimal.Decimal, e.g. 19.99 EUR) and the integer minor-unit `amount` that
// Stripe's API expects (1999). No float64 is involved and nothing is ever
// rounded: an amount that Stripe cannot charge exactly is an error.
//
// The data comes from Stripe's "Supported currencies" page,
// https://docs.stripe.com/currencies (sections "Supported presentment
// currencies", "Zero-decimal currencies", "Three-decimal currencies",
// "Special cases" and "Minimum and maximum charge amounts").

// Currency describes how Stripe charges in one currency. Get one with
// Lookup; the zero value is not a usable currency.
type Currency struct {
	// code is the lowercase ISO 4217 code, as sent to Stripe.
	code string
	// exponent is the number of minor-unit digits Stripe uses in `amount`:
	// 0 for JPY, 2 for EUR, 3 for KWD, and 2 for ISK and UGX (see
	// stripeWholeUnitTwoDecimal).
	exponent int32
	// step is the number the minor amount must be a multiple of: 1 normally,
	// 10 for the three-decimal currencies, 100 for ISK and UGX. Always a
	// power of ten not above 10^exponent.
	step int64
	// minCharge is Stripe's documented minimum charge in the major unit, or
	// zero when Stripe documents none for this currency. Stripe applies the
	// minimum of the account's settlement currency after conversion (about
	// 0.50 USD), which cannot be known offline, so zero means "no minimum
	// known here", not "no minimum".
	minCharge decimal.Decimal
	// maxMinor is Stripe's largest `amount` in minor units that every payment
	// method accepts (99999999, 8 digits, for most currencies).
	maxMinor int64
}

// Stripe's supported presentment currencies, as listed under "Supported
// presentment currencies" on https://docs.stripe.com/currencies (134 codes),
// plus the five three-decimal currencies below, which Stripe lists for
// accounts in the countries that support them (e.g. the United Arab
// Emirates). Every currency is a two-decimal currency unless one of the
// tables below says otherwise ("Currencies are two-decimal currencies unless
// otherwise specified").
//
// stripe-go v76's currency.go also knows eek, hrk, ltl, lvl, mro, sll, svc
// and vef: these are retired ISO 4217 codes that Stripe no longer lists for
// charges, so they are deliberately not supported here. stripe-go lacks byn,
// mmk and sle, which Stripe does list.
const stripePresentmentCodes = "" +
	"usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob " +
	"brl bsd bwp byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb " +
	"eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jod " +
	"jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt " +
	"mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd omr pab pen pgk php pkr pln " +
	"pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs tnd " +
	"top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw"

// stripeZeroDecimal lists Stripe's zero-decimal currencies, whose `amount`
// is in whole units ("to charge 500 JPY, provide an amount value of 500"),
// from "Zero-decimal currencies" on https://docs.stripe.com/currencies.
// Stripe's list also names UGX; UGX is left out here because the more
// specific "Special cases" rule for it overrides that list (see
// stripeWholeUnitTwoDecimal).
const stripeZeroDecimal = "bif clp djf gnf jpy kmf krw mga pyg rwf vnd vuv xaf xof xpf"

// stripeThreeDecimal lists Stripe's three-decimal currencies: `amount` is in
// thousandths, but "to ensure compatibility with Stripe's payments partners,
// these API calls require the least-significant (last) digit to be 0"
// (Stripe's example: 5.124 KWD cannot be charged, 5120 or 5130 can). From
// "Three-decimal currencies" on https://docs.stripe.com/currencies (shown
// for accounts that support them, e.g. ?presentment-currency=AE). So they
// get exponent 3 and step 10: at most 2 decimal places in the major unit.
const stripeThreeDecimal = "bhd jod kwd omr tnd"

// stripeWholeUnitTwoDecimal lists the currencies Stripe documents as
// two-decimal whose decimals must be 00, from "Special cases" on
// https://docs.stripe.com/currencies. They get exponent 2 and step 100:
// whole units only, sent multiplied by 100.
//
//   - ISK: "ISK transitioned to a zero-decimal currency, but backward
//     compatibility requires you to represent it as a two-decimal value,
//     where the decimal amount is always 00. For example, to charge 5 ISK,
//     provide an amount value of 500. You can't charge fractions of ISK."
//   - UGX: the same rule, word for word ("to charge 5 UGX, provide an amount
//     value of 500. You can't charge fractions of UGX"), although the same
//     page also lists UGX among the zero-decimal currencies. The special
//     case is the rule Stripe's API applies to charges: a Checkout Session
//     sent with amount 100 in UGX is read by Stripe as 1.00 USh (reported in
//     https://github.com/odoo/odoo/pull/227688, 2025).
//
// HUF and TWD are not here on purpose: "Stripe treats HUF [TWD] as a
// zero-decimal currency for payouts, even though you can charge two-decimal
// amounts" (same "Special cases" table). The divisible-by-100 rule applies
// to manual payouts only, so for charges they are ordinary two-decimal
// currencies (exponent 2, step 1).
const stripeWholeUnitTwoDecimal = "isk ugx"

// stripeMinimumCharges holds Stripe's minimum charge amounts in the major
// unit, from "Minimum charge amount by currency" on
// https://docs.stripe.com/currencies. Stripe enforces them against the
// settlement currency after conversion; the amount listed applies exactly
// when the charge and settlement currencies are the same.
//
// BGN 1.00 is from the earlier version of the same table; the current one
// no longer lists BGN (Bulgaria adopted the euro), but Stripe still lists
// BGN as a presentment currency.
var stripeMinimumCharges = map[string]string{
	"usd": "0.50", "aed": "2.00", "ars": "0.50", "aud": "0.50", "bgn": "1.00",
	"brl": "0.50", "cad": "0.50", "chf": "0.50", "cop": "0.50", "czk": "15.00",
	"dkk": "2.50", "eur": "0.50", "gbp": "0.30", "hkd": "4.00", "huf": "175.00",
	"idr": "0.50", "ils": "0.50", "inr": "0.50", "jpy": "50", "krw": "50",
	"mxn": "10", "myr": "2.00", "nok": "3.00", "nzd": "0.50", "php": "0.50",
	"pln": "2.00", "ron": "2.00", "rub": "0.50", "sek": "3.00", "sgd": "0.50",
	"thb": "10", "zar": "0.50",
}

// stripeDefaultMaxMinor is the largest `amount` Stripe accepts in most
// currencies: "8 digits for all other currencies, for a maximum charge of
// 999,999.99 (99999999)".
const stripeDefaultMaxMinor int64 = 99999999

// stripeMaxMinorOverrides holds the currencies for which Stripe documents a
// larger `amount` for every payment method, from "Maximum charge amounts" on
// https://docs.stripe.com/currencies: "12 digits for IDR, for a maximum
// charge of 9,999,999,999.99 IDR (999999999999)", "10 digits for COP ...
// (9999999999)", "9 digits for INR ... (999999999)". Stripe allows up to 12
// digits for most card payments, but card networks may lower that (9 digits
// for American Express), so the limit that holds for every payment method is
// used.
var stripeMaxMinorOverrides = map[string]int64{
	"idr": 999999999999,
	"cop": 9999999999,
	"inr": 999999999,
}

// stripeCurrencies maps each supported lowercase code to its currency. It is
// built once at package initialisation and never modified afterwards.
var stripeCurrencies = buildStripeCurrencies()

// buildStripeCurrencies builds stripeCurrencies from the tables above. It
// panics if the tables are inconsistent, so a bad edit fails every test.
func buildStripeCurrencies() map[string]Currency {
	m := make(map[string]Currency)
	for _, code := range strings.Fields(stripePresentmentCodes) {
		if _, dup := m[code]; dup || !moneyIsLowerCode(code) {
			panic("stripegateway: bad or duplicate currency code " + strconv.Quote(code))
		}
		m[code] = Currency{code: code, exponent: 2, step: 1, maxMinor: stripeDefaultMaxMinor}
	}
	override := func(codes string, f func(*Currency)) {
		for _, code := range strings.Fields(codes) {
			c, ok := m[code]
			if !ok {
				panic("stripegateway: currency " + strconv.Quote(code) + " is not in stripePresentmentCodes")
			}
			f(&c)
			m[code] = c
		}
	}
	override(stripeZeroDecimal, func(c *Currency) { c.exponent = 0 })
	override(stripeThreeDecimal, func(c *Currency) { c.exponent, c.step = 3, 10 })
	override(stripeWholeUnitTwoDecimal, func(c *Currency) { c.step = 100 })
	for code, maxMinor := range stripeMaxMinorOverrides {
		override(code, func(c *Currency) { c.maxMinor = maxMinor })
	}
	for code, s := range stripeMinimumCharges {
		minCharge := decimal.RequireFromString(s)
		override(code, func(c *Currency) { c.minCharge = minCharge })
	}
	for code, c := range m {
		if moneyLog10(c.step) < 0 || moneyLog10(c.step) > c.exponent ||
			c.maxMinor <= 0 || c.maxMinor >= 1e18 || c.minCharge.Sign() < 0 {
			panic("stripegateway: inconsistent currency table for " + code)
		}
	}
	return m
}

// moneyIsLowerCode reports whether s is three lowercase ASCII letters.
func moneyIsLowerCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// moneyLog10 returns k when n is 10^k (k >= 0), and -1 for any other n.
func moneyLog10(n int64) int32 {
	var k int32
	for ; n > 1 && n%10 == 0; n /= 10 {
		k++
	}
	if n != 1 {
		return -1
	}
	return k
}

// Lookup returns the currency for an ISO 4217 code in any letter
// case ("eur", "EUR", "Eur"). Nothing is trimmed or normalised beyond ASCII
// case: " eur" and non-ASCII look-alikes are rejected. It returns an error
// matching ErrUnsupportedCurrency for an empty, malformed or unknown code, or
// a code Stripe does not charge in.
func Lookup(code string) (Currency, error) {
	if code == "" {
		return Currency{}, fmt.Errorf("%w: no currency code given: use a three-letter ISO 4217 code that Stripe supports, such as \"eur\" or \"usd\"",
			ErrUnsupportedCurrency)
	}
	if len(code) == 3 {
		var lower [3]byte
		for i := 0; i < 3; i++ {
			b := code[i]
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			lower[i] = b
		}
		if c, ok := stripeCurrencies[string(lower[:])]; ok {
			return c, nil
		}
	}
	return Currency{}, fmt.Errorf("%w: %s is not a currency Stripe charges in: use a three-letter ISO 4217 code that Stripe supports, such as \"eur\" or \"usd\"",
		ErrUnsupportedCurrency, Quote(code))
}

// Upper returns the currency code in upper case, for messages.
func (c Currency) Upper() string { return strings.ToUpper(c.code) }

// Decimals returns how many decimal places an amount in the major
// unit may have: the exponent minus log10(step). 2 for EUR, 0 for JPY, ISK
// and UGX, 2 for KWD.
func (c Currency) Decimals() int32 {
	return c.exponent - moneyLog10(c.step)
}

// PrecisionRule says how many decimal places the currency allows, and why
// when Stripe's rule differs from the exponent, e.g. "KWD allows at most 2
// decimal places: Stripe requires the last of KWD's 3 minor digits to be 0".
func (c Currency) PrecisionRule() string {
	code := c.Upper()
	allowed := c.Decimals()
	var s string
	switch allowed {
	case 0:
		s = code + " allows no decimal places"
	case 1:
		s = code + " allows at most 1 decimal place"
	default:
		s = fmt.Sprintf("%s allows at most %d decimal places", code, allowed)
	}
	switch zeros := c.exponent - allowed; {
	case c.exponent == 0:
		return s + ": " + code + " is a zero-decimal currency at Stripe"
	case zeros == 0:
		return s
	case zeros == 1:
		return fmt.Sprintf("%s: Stripe requires the last of %s's %d minor digits to be 0", s, code, c.exponent)
	case zeros == 2 && c.exponent == 2:
		return fmt.Sprintf("%s: Stripe represents %s with 2 minor digits that must both be 0", s, code)
	default:
		return fmt.Sprintf("%s: Stripe requires the last %d of %s's %d minor digits to be 0", s, zeros, code, c.exponent)
	}
}

// MaxMajor returns the largest amount in the major unit that Stripe accepts
// and that satisfies step, e.g. 999999.99 for EUR and 999999 for ISK.
func (c Currency) MaxMajor() decimal.Decimal {
	return c.FromMinor(c.maxMinor - c.maxMinor%c.step)
}

// ToMinor converts an amount in the major unit (19.99 EUR) to Stripe's
// minor-unit `amount` (1999), exactly. Zero is valid and returns 0.
//
// It returns an error matching ErrInvalidAmount, and never rounds, when the
// amount is negative, has more decimal places than Stripe allows for the
// currency (see Decimals; trailing zeros do not count, so 1.230 KWD
// is 1230), or is above Stripe's maximum for the currency. The message names
// the amount and the currency, and reads well after a prefix such as
// `item 2 "T-shirt": `.
func (c Currency) ToMinor(amount decimal.Decimal) (int64, error) {
	switch amount.Sign() {
	case 0:
		return 0, nil
	case -1:
		return 0, fmt.Errorf("%w: %s %s is negative: use an amount of 0 or more",
			ErrInvalidAmount, Format(amount), c.Upper())
	}

	// amount = digits × 10^exp, with the coefficient's trailing zeros moved
	// into the exponent so that only significant decimal places count. This
	// works on the digit string, so absurd exponents such as 1e-2000000000
	// or 1e2000000000 cost nothing.
	digits := amount.Coefficient().String()
	trimmed := strings.TrimRight(digits, "0") // not empty: amount is not zero
	exp := int64(amount.Exponent()) + int64(len(digits)-len(trimmed))
	digits = trimmed

	allowed := int64(c.Decimals())
	if exp < -allowed {
		places := -exp
		unit := "places"
		if places == 1 {
			unit = "place"
		}
		return 0, fmt.Errorf("%w: %s %s has %d decimal %s, but %s",
			ErrInvalidAmount, Format(amount), c.Upper(), places, unit, c.PrecisionRule())
	}

	// minor = digits × 10^shift, where shift >= exponent-allowed >= 0, so
	// the result is a multiple of step. Every maxMinor is below 10^18, so
	// more than 18 digits is always too large, and 18 or fewer fit an int64.
	shift := exp + int64(c.exponent)
	tooLarge := func() error {
		return fmt.Errorf("%w: %s %s is above Stripe's maximum amount of %s %s",
			ErrInvalidAmount, Format(amount), c.Upper(), c.MaxMajor().String(), c.Upper())
	}
	if int64(len(digits))+shift > 18 {
		return 0, tooLarge()
	}
	minor, err := strconv.ParseInt(digits, 10, 64)
	if err != nil { // unreachable: digits are 1 to 18 decimal digits
		return 0, fmt.Errorf("%w: %s %s: %v", ErrInvalidAmount, Format(amount), c.Upper(), err)
	}
	for ; shift > 0; shift-- {
		minor *= 10
	}
	if minor > c.maxMinor {
		return 0, tooLarge()
	}
	if minor%c.step != 0 { // unreachable: guaranteed by the decimal-place check
		return 0, fmt.Errorf("%w: %s %s has too many decimal places: %s",
			ErrInvalidAmount, Format(amount), c.Upper(), c.PrecisionRule())
	}
	return minor, nil
}

// FromMinor converts Stripe's minor-unit `amount` to the major unit,
// exactly: decimal.New(minor, -exponent). It is the inverse of ToMinor. It
// does not validate: an amount Stripe reports is converted as is.
func (c Currency) FromMinor(minor int64) decimal.Decimal {
	return decimal.New(minor, -c.exponent)
}

// Format formats an amount for an error message: plainly when that is
// short, in scientific notation (coefficient "e" exponent) when the plain
// form would be huge, e.g. for 1e-2000000000.
func Format(d decimal.Decimal) string {
	coef := d.Coefficient().String()
	exp := int64(d.Exponent())
	if exp < 0 {
		exp = -exp
	}
	if int64(len(coef))+exp <= 40 {
		return d.String()
	}
	return coef + "e" + strconv.FormatInt(int64(d.Exponent()), 10)
}

// Quote quotes a user-supplied currency code for an error message,
// shortening it, on a rune boundary, when it is long.
func Quote(s string) string {
	return strconv.Quote(redact.Limit(s, 19))
}

// MinorUnits converts an amount in the major unit (19.99) of an ISO 4217
// currency to the integer minor-unit amount Stripe uses (1999), exactly:
// 500 JPY is 500, 12.34 KWD is 12340, 5 ISK is 500. It returns an error
// matching ErrUnsupportedCurrency or ErrInvalidAmount.
func MinorUnits(amount decimal.Decimal, currencyCode string) (int64, error) {
	c, err := Lookup(currencyCode)
	if err != nil {
		return 0, err
	}
	return c.ToMinor(amount)
}

// Code is the lowercase ISO 4217 code, as sent to Stripe.
func (c Currency) Code() string { return c.code }

// MinCharge is Stripe's documented minimum charge in the major unit, or zero
// when Stripe documents none for this currency.
func (c Currency) MinCharge() decimal.Decimal { return c.minCharge }

// MaxMinor is Stripe's largest `amount` in minor units that every payment
// method accepts in this currency.
func (c Currency) MaxMinor() int64 { return c.maxMinor }

// Step is the number a minor amount must be a multiple of: 1 normally, 10
// for the three-decimal currencies, 100 for ISK and UGX.
func (c Currency) Step() int64 { return c.step }
