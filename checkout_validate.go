package stripegateway

import (
	"fmt"
	"net/mail"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/b27de697/stripegateway/internal/wire"

	"github.com/b27de697/stripegateway/internal/money"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"
)

// This file checks a CheckoutRequest against the money rules and Stripe's
// limits before anything is sent, and builds the parameters to send.

// Limits of Stripe's API that CreateCheckout checks before calling Stripe.
// They come from the API reference of POST /v1/checkout/sessions and of
// metadata (https://docs.stripe.com/api/metadata).
const (
	// maxPaymentLineItems is the most line items a Checkout Session in
	// payment mode (and deferred-capture mode) may have.
	maxPaymentLineItems = 100
	// maxSubscriptionLineItems is the most line items with recurring prices
	// a Checkout Session in subscription mode may have. Stripe allows as
	// many again with one-time prices (only possible here with PriceID
	// items); those count separately.
	maxSubscriptionLineItems = 20
	// maxMetadataKeys is the most metadata keys an object may have. The
	// keys CreateCheckout adds itself (the order_id metadata, and a marker for
	// deferred capture) count towards it.
	maxMetadataKeys = 50
	// maxMetadataKeyLength is the longest metadata key, in characters.
	maxMetadataKeyLength = 40
	// maxMetadataValueLength is the longest metadata value, in characters.
	maxMetadataValueLength = 500
	// maxOrderIDLength is the longest OrderID, in characters: Stripe's
	// limit for client_reference_id.
	maxOrderIDLength = 200
	// minCheckoutExpiry and maxCheckoutExpiry bound how far after its
	// creation a Checkout Session may expire.
	minCheckoutExpiry = 30 * time.Minute
	maxCheckoutExpiry = 24 * time.Hour
)

// maxStripeURLLength is Stripe's limit for success_url and cancel_url.
const maxStripeURLLength = 5000

// checkoutPlan is a validated request: the parameters to send and what is
// needed to finish checking the total once PriceID items are known.
type checkoutPlan struct {
	mode      CheckoutMode
	cur       money.Currency
	recurring *recurring // normalized; nil outside subscription mode
	params    *stripe.CheckoutSessionParams

	total         int64 // minor units of the items known so far
	recurringRefs int   // items billed every interval (subscription mode)
	oneTimeRefs   int   // one-time items (subscription mode)
	prices        []priceRef
}

// priceRef is a PriceID item still to be retrieved.
type priceRef struct {
	index    int
	id       string
	quantity int64
}

// planCheckout validates req without calling Stripe and builds the
// parameters.
func (g *Gateway) planCheckout(req CheckoutRequest) (*checkoutPlan, error) {
	p := &checkoutPlan{mode: req.Mode}
	if p.mode == "" {
		p.mode = CheckoutPayment
	}
	switch p.mode {
	case CheckoutPayment, CheckoutSubscription, CheckoutDeferredCapture:
	default:
		return nil, invalidField("Mode", "unknown mode %q: use CheckoutPayment, CheckoutSubscription or CheckoutDeferredCapture", p.mode)
	}

	if err := checkOrderID(req.OrderID); err != nil {
		return nil, err
	}

	cur, err := money.Lookup(req.Currency)
	if err != nil {
		return nil, fieldErrorOf(err, "Currency")
	}
	p.cur = cur

	if err := p.checkRecurring(req.Interval, req.IntervalCount); err != nil {
		return nil, err
	}
	if err := checkURL("SuccessURL", req.SuccessURL, true); err != nil {
		return nil, err
	}
	if err := checkURL("CancelURL", req.CancelURL, false); err != nil {
		return nil, err
	}
	if err := checkCustomer(req.CustomerEmail, req.CustomerID); err != nil {
		return nil, err
	}
	if req.Locale != "" && !checkoutLocales[req.Locale] {
		return nil, invalidField("Locale", "%q is not a Checkout locale: use \"auto\" or one of Stripe's locales such as \"de\", \"en-GB\" or \"pt-BR\"", req.Locale)
	}
	threeDS := req.ThreeDSecure
	if threeDS == "" {
		threeDS = g.opts.checkout.threeDSecure
	}
	if !validThreeDSecure(threeDS) {
		return nil, invalidField("ThreeDSecure", "unknown value %q: use \"automatic\", \"any\" or \"challenge\" (stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecure…)", req.ThreeDSecure)
	}
	if err := checkOptionalIdempotencyKey(req.IdempotencyKey); err != nil {
		return nil, err
	}
	expiresAt, err := g.checkExpiry(req.ExpiresAt)
	if err != nil {
		return nil, err
	}

	reserved := 1 // the order_id metadata
	if p.mode == CheckoutDeferredCapture {
		reserved++ // the deferred-capture marker
	}
	meta, err := checkMetadata(req.Metadata, reserved, req.OrderID)
	if err != nil {
		return nil, err
	}

	items, err := p.lineItems(req.Items)
	if err != nil {
		return nil, err
	}

	// Build the parameters. Every field set here is checked against
	// stripe-mock's OpenAPI spec by the tests.
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		Currency:          stripe.String(cur.Code()),
		ClientReferenceID: stripe.String(req.OrderID),
		SuccessURL:        stripe.String(req.SuccessURL),
		LineItems:         items,
	}
	if req.CancelURL != "" {
		params.CancelURL = stripe.String(req.CancelURL)
	}
	if req.CustomerEmail != "" {
		params.CustomerEmail = stripe.String(req.CustomerEmail)
	}
	if req.CustomerID != "" {
		params.Customer = stripe.String(req.CustomerID)
	}
	if req.Locale != "" {
		params.Locale = stripe.String(req.Locale)
	}
	if expiresAt != 0 {
		params.ExpiresAt = stripe.Int64(expiresAt)
	}
	if threeDS != "" && threeDS != stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecureAutomatic {
		params.PaymentMethodOptions = &stripe.CheckoutSessionPaymentMethodOptionsParams{
			Card: &stripe.CheckoutSessionPaymentMethodOptionsCardParams{
				RequestThreeDSecure: stripe.String(string(threeDS)),
			},
		}
	}

	objectMeta := copyMetadata(meta)
	objectMeta[wire.MetadataOrderID] = req.OrderID
	params.Metadata = copyMetadata(objectMeta)
	switch p.mode {
	case CheckoutSubscription:
		params.Mode = stripe.String(string(stripe.CheckoutSessionModeSubscription))
		params.SubscriptionData = &stripe.CheckoutSessionSubscriptionDataParams{Metadata: objectMeta}
	case CheckoutDeferredCapture:
		params.Metadata[wire.MetadataCaptureMethod] = "manual"
		params.PaymentIntentData = &stripe.CheckoutSessionPaymentIntentDataParams{
			CaptureMethod: stripe.String(string(stripe.PaymentIntentCaptureMethodManual)),
			Metadata:      objectMeta,
		}
	default:
		params.PaymentIntentData = &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: objectMeta}
	}
	p.params = params
	return p, nil
}

// recurring is how often a subscription bills: every count intervals.
type recurring struct {
	interval stripe.PriceRecurringInterval
	count    int64
}

// checkRecurring validates and normalizes the subscription interval.
func (p *checkoutPlan) checkRecurring(interval stripe.PriceRecurringInterval, count int64) error {
	if p.mode != CheckoutSubscription {
		if interval != "" || count != 0 {
			return invalidField("Interval", "is only for CheckoutSubscription mode; leave Interval and IntervalCount empty in %s mode", p.mode)
		}
		return nil
	}
	if interval == "" && count == 0 {
		return nil // required only if there is an inline item: see lineItems
	}
	n := count
	if n == 0 {
		n = 1
	}
	var max int64
	switch interval {
	case stripe.PriceRecurringIntervalDay:
		max = 1095
	case stripe.PriceRecurringIntervalWeek:
		max = 156
	case stripe.PriceRecurringIntervalMonth:
		max = 36
	case stripe.PriceRecurringIntervalYear:
		max = 3
	case "":
		return invalidField("Interval", "is required with an IntervalCount: use stripe.PriceRecurringIntervalDay, Week, Month or Year")
	default:
		return invalidField("Interval", "unknown interval %q: use stripe.PriceRecurringIntervalDay, Week, Month or Year", interval)
	}
	if n < 1 || n > max {
		return invalidField("IntervalCount", "%d is out of range: bill every 1 to %d %ss (Stripe allows at most three years)", count, max, interval)
	}
	p.recurring = &recurring{interval: interval, count: n}
	return nil
}

// lineItems validates the items, converts inline prices to minor units and
// sums them, and lists the PriceID items to retrieve.
func (p *checkoutPlan) lineItems(items []LineItem) ([]*stripe.CheckoutSessionLineItemParams, error) {
	if len(items) == 0 {
		return nil, invalidField("Items", "at least one line item is required")
	}
	inline := 0
	for _, it := range items {
		if it.PriceID == "" {
			inline++
		}
	}
	switch p.mode {
	case CheckoutSubscription:
		if inline > maxSubscriptionLineItems {
			return nil, invalidField("Items", "%d recurring line items, but Stripe allows at most %d in subscription mode", inline, maxSubscriptionLineItems)
		}
		if len(items) > 2*maxSubscriptionLineItems {
			return nil, invalidField("Items", "%d line items, but Stripe allows at most %d recurring and %d one-time ones in subscription mode", len(items), maxSubscriptionLineItems, maxSubscriptionLineItems)
		}
		if inline > 0 && p.recurring == nil {
			return nil, invalidField("Interval", "is required in subscription mode for items without a PriceID: say how often they are billed")
		}
	default:
		if len(items) > maxPaymentLineItems {
			return nil, invalidField("Items", "%d line items, but Stripe allows at most %d in %s mode; combine some", len(items), maxPaymentLineItems, p.mode)
		}
	}

	out := make([]*stripe.CheckoutSessionLineItemParams, 0, len(items))
	for i, it := range items {
		// The field() name is built only for an error message.
		field := func() string { return itemField(i, it) }
		if it.Quantity < 1 {
			return nil, newFieldError(ErrInvalidAmount, field(), "quantity %d is below 1", it.Quantity)
		}
		li := &stripe.CheckoutSessionLineItemParams{Quantity: stripe.Int64(it.Quantity)}
		if it.PriceID != "" {
			if it.Name != "" || it.Description != "" || !it.UnitAmount.IsZero() {
				return nil, invalidField(field(), "has a PriceID and also a Name, Description or UnitAmount; give either a PriceID or an inline price")
			}
			if !isStripeID(it.PriceID, "price_", "plan_") {
				return nil, invalidField(field(), "PriceID %q is not a Stripe Price ID (price_…)", it.PriceID)
			}
			li.Price = stripe.String(it.PriceID)
			p.prices = append(p.prices, priceRef{index: i, id: it.PriceID, quantity: it.Quantity})
			out = append(out, li)
			continue
		}

		if strings.TrimSpace(it.Name) == "" {
			return nil, invalidField(field(), "Name is required for an item without a PriceID")
		}
		if n := utf8.RuneCountInString(it.Name); n > 5000 || !utf8.ValidString(it.Name) {
			return nil, invalidField(field(), "Name must be valid UTF-8 of at most 5000 characters")
		}
		if n := utf8.RuneCountInString(it.Description); n > 40000 || !utf8.ValidString(it.Description) {
			return nil, invalidField(field(), "Description must be valid UTF-8 of at most 40000 characters")
		}
		unit, err := p.cur.ToMinor(it.UnitAmount)
		if err != nil {
			return nil, fieldErrorOf(err, field())
		}
		if err := p.addLine(field, unit, it.Quantity); err != nil {
			return nil, err
		}
		pd := &stripe.CheckoutSessionLineItemPriceDataParams{
			Currency:    stripe.String(p.cur.Code()),
			UnitAmount:  stripe.Int64(unit),
			ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(it.Name)},
		}
		if it.Description != "" {
			pd.ProductData.Description = stripe.String(it.Description)
		}
		if p.recurring != nil {
			pd.Recurring = &stripe.CheckoutSessionLineItemPriceDataRecurringParams{
				Interval:      stripe.String(string(p.recurring.interval)),
				IntervalCount: stripe.Int64(p.recurring.count),
			}
			p.recurringRefs++
		}
		li.PriceData = pd
		out = append(out, li)
	}
	return out, nil
}

// addLine adds unit × quantity minor units to the total, refusing anything
// above Stripe's maximum. Neither step can overflow: every operand is below
// maxMinor < 10^18, and quantity is checked against maxMinor/unit first.
func (p *checkoutPlan) addLine(field func() string, unit, quantity int64) error {
	if unit == 0 {
		return nil
	}
	max := p.cur.MaxMinor()
	if quantity > max/unit || unit*quantity > max-p.total {
		line := p.cur.FromMinor(unit).Mul(decimal.NewFromInt(quantity))
		return newFieldError(ErrInvalidAmount, field(), "%d × %s %s brings the order total to %s %s, above Stripe's maximum amount of %s %s",
			quantity, amountString(p.cur, p.cur.FromMinor(unit)), p.cur.Upper(),
			amountString(p.cur, line.Add(p.cur.FromMinor(p.total))), p.cur.Upper(), amountString(p.cur, p.cur.MaxMajor()), p.cur.Upper())
	}
	p.total += unit * quantity
	return nil
}

// checkTotal applies the store's and Stripe's minimums to the order total.
func (g *Gateway) checkTotal(p *checkoutPlan) error {
	total := p.cur.FromMinor(p.total)
	var e *MinimumError
	if store := g.cfg.MinimumAmount; total.LessThan(store) {
		e = &MinimumError{Minimum: store, Source: minimumSourceStore}
	}
	if st := p.cur.MinCharge(); p.total > 0 && total.LessThan(st) && (e == nil || st.GreaterThan(e.Minimum)) {
		e = &MinimumError{Minimum: st, Source: minimumSourceStripe}
	}
	if e != nil {
		e.Total, e.Currency = total, p.cur.Code()
		return e
	}
	if p.total == 0 && p.mode == CheckoutDeferredCapture {
		return newFieldError(ErrInvalidAmount, "Items", "the order total is 0 %s: there is nothing to authorize; use CheckoutPayment for a no-cost order", p.cur.Upper())
	}
	return nil
}

// checkExpiry validates ExpiresAt and returns it as a Unix time, rounded up
// to the second so that the window is never shortened; 0 when unset.
func (g *Gateway) checkExpiry(t time.Time) (int64, error) {
	if t.IsZero() {
		return 0, nil
	}
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	at := time.Unix(sec, 0)
	now := g.opts.now()
	switch d := at.Sub(now); {
	case d < minCheckoutExpiry:
		return 0, invalidField("ExpiresAt", "%s is %s from now; Stripe needs at least %s", at.UTC().Format(time.RFC3339), d.Round(time.Second), minCheckoutExpiry)
	case d > maxCheckoutExpiry:
		return 0, invalidField("ExpiresAt", "%s is %s from now; Stripe allows at most %s", at.UTC().Format(time.RFC3339), d.Round(time.Second), maxCheckoutExpiry)
	}
	return sec, nil
}

// checkOrderID validates the order ID.
func checkOrderID(id string) error {
	switch {
	case strings.TrimSpace(id) == "":
		return invalidField("OrderID", "is required: pass the store's order reference")
	case id != strings.TrimSpace(id):
		return invalidField("OrderID", "has leading or trailing whitespace; remove it, or the order will not match its events")
	case !utf8.ValidString(id):
		return invalidField("OrderID", "is not valid UTF-8")
	case utf8.RuneCountInString(id) > maxOrderIDLength:
		return invalidField("OrderID", "is %d characters long; Stripe's client_reference_id allows at most %d", utf8.RuneCountInString(id), maxOrderIDLength)
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return invalidField("OrderID", "contains control characters")
	}
	return nil
}

// checkURL validates a redirect URL. The URL is sent as given, so that
// Stripe's {CHECKOUT_SESSION_ID} placeholder is kept verbatim.
func checkURL(field, raw string, required bool) error {
	if raw == "" {
		if required {
			return invalidField(field, "is required: give an absolute https URL of the store")
		}
		return nil
	}
	if len(raw) > maxStripeURLLength {
		return invalidField(field, "is %d characters long; Stripe allows at most %d", len(raw), maxStripeURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return invalidField(field, "%q is not an absolute http or https URL such as https://shop.example/checkout/done", raw)
	}
	return nil
}

// checkCustomer validates CustomerEmail and CustomerID.
func checkCustomer(email, id string) error {
	if email != "" && id != "" {
		return invalidField("CustomerEmail", "cannot be combined with CustomerID: Stripe takes the email of an existing customer from the Customer")
	}
	if email != "" {
		a, err := mail.ParseAddress(email)
		if err != nil || a.Address != email || a.Name != "" || len(email) > 512 {
			return invalidField("CustomerEmail", "%q is not a plain email address such as jane@example.com", email)
		}
	}
	if id != "" && !isStripeID(id, "cus_") {
		return invalidField("CustomerID", "%q is not a Stripe Customer ID (cus_…)", id)
	}
	return nil
}

// checkMetadata validates the caller's metadata against Stripe's limits,
// with reserved keys of the package's own, and returns it without empty
// values.
func checkMetadata(m map[string]string, reserved int, orderID string) (map[string]string, error) {
	out := make(map[string]string, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		field := fmt.Sprintf("Metadata[%q]", k)
		switch {
		case k == wire.MetadataOrderID && v == orderID:
			continue // the same value the gateway writes: harmless
		case k == wire.MetadataOrderID || k == wire.MetadataCaptureMethod:
			return nil, invalidField(field, "is set by the gateway and cannot be overwritten; use CheckoutRequest.OrderID for the order reference")
		case k == "" || strings.TrimSpace(k) == "":
			return nil, invalidField("Metadata", "has an empty key")
		case !utf8.ValidString(k) || !utf8.ValidString(v):
			return nil, invalidField(field, "is not valid UTF-8")
		case strings.ContainsAny(k, "[]"):
			return nil, invalidField(field, "Stripe does not allow square brackets in metadata keys")
		case utf8.RuneCountInString(k) > maxMetadataKeyLength:
			return nil, invalidField(field, "the key is %d characters long; Stripe allows at most %d", utf8.RuneCountInString(k), maxMetadataKeyLength)
		case utf8.RuneCountInString(v) > maxMetadataValueLength:
			return nil, invalidField(field, "the value is %d characters long; Stripe allows at most %d", utf8.RuneCountInString(v), maxMetadataValueLength)
		}
		if v != "" {
			out[k] = v
		}
	}
	if len(out)+reserved > maxMetadataKeys {
		return nil, invalidField("Metadata", "has %d keys; with the gateway's %d it exceeds Stripe's limit of %d keys", len(out), reserved, maxMetadataKeys)
	}
	return out, nil
}

func copyMetadata(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// checkoutLocales are the locales of POST /v1/checkout/sessions.
var checkoutLocales = func() map[string]bool {
	m := make(map[string]bool)
	for _, l := range strings.Fields("auto bg cs da de el en en-GB es es-419 et fi fil fr fr-CA hr hu id it ja ko lt lv ms mt nb nl pl pt pt-BR ro ru sk sl sv th tr vi zh zh-HK zh-TW") {
		m[l] = true
	}
	return m
}()

// isStripeID reports whether id has one of the prefixes followed by at
// least one character, all ASCII letters, digits and underscores.
func isStripeID(id string, prefixes ...string) bool {
	if len(id) > 255 {
		return false
	}
	ok := false
	for _, p := range prefixes {
		if strings.HasPrefix(id, p) && len(id) > len(p) {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// itemField names an item in error messages: Items[2] ("T-shirt").
func itemField(i int, it LineItem) string {
	switch {
	case it.PriceID != "":
		return fmt.Sprintf("Items[%d] (%s)", i, it.PriceID)
	case it.Name != "":
		return fmt.Sprintf("Items[%d] (%q)", i, it.Name)
	}
	return fmt.Sprintf("Items[%d]", i)
}

// validThreeDSecure reports whether t is a 3-D Secure choice of Checkout's,
// or empty.
func validThreeDSecure(t stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecure) bool {
	switch t {
	case "", stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecureAutomatic,
		stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecureAny,
		stripe.CheckoutSessionPaymentMethodOptionsCardRequestThreeDSecureChallenge:
		return true
	}
	return false
}
