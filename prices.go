package stripegateway

import (
	"context"
	"fmt"
	"strings"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/price"
)

// This file checks the PriceID items of a CheckoutRequest against the Prices
// Stripe holds for them.

// resolvePrices retrieves the PriceID items, checks that they can be used in
// this session, and adds them to the total.
func (g *Gateway) resolvePrices(ctx context.Context, p *checkoutPlan) error {
	if len(p.prices) == 0 {
		return nil
	}
	client := price.Client{B: g.backend, Key: string(g.cfg.SecretKey)}
	cache := make(map[string]*stripe.Price)
	for _, ref := range p.prices {
		pr := cache[ref.id]
		if pr == nil {
			params := &stripe.PriceParams{}
			params.Context = ctx
			params.AddExpand("currency_options")
			got, _, err := callContext(ctx, func() (*stripe.Price, struct{}, error) {
				pr, err := client.Get(ref.id, params)
				return pr, struct{}{}, err
			})
			if err != nil {
				return stripeCallError(ctx, "retrieve price "+ref.id, err)
			}
			pr = got
			cache[ref.id] = pr
		}
		if err := p.addPrice(ref, pr); err != nil {
			return err
		}
	}
	if p.mode == CheckoutSubscription {
		if p.recurringRefs == 0 {
			return invalidField("Items", "subscription mode needs at least one recurring item; these are all one-time prices")
		}
		if p.recurringRefs > maxSubscriptionLineItems || p.oneTimeRefs > maxSubscriptionLineItems {
			return invalidField("Items", "%d recurring and %d one-time line items, but Stripe allows at most %d of each in subscription mode",
				p.recurringRefs, p.oneTimeRefs, maxSubscriptionLineItems)
		}
	}
	return nil
}

// addPrice checks one retrieved Price against the plan and adds its line.
func (p *checkoutPlan) addPrice(ref priceRef, pr *stripe.Price) error {
	field := fmt.Sprintf("Items[%d] (%s)", ref.index, ref.id)
	code := p.cur.Upper()
	if !pr.Active {
		return invalidField(field, "the price is archived (inactive); use an active price")
	}
	if pr.BillingScheme == stripe.PriceBillingSchemeTiered || pr.CustomUnitAmount != nil {
		return invalidField(field, "tiered and customer-chosen prices are not supported: the order total could not be checked; use a per-unit price")
	}
	unit, decimalUnit := pr.UnitAmount, pr.UnitAmountDecimal
	if string(pr.Currency) != p.cur.Code() {
		opt := pr.CurrencyOptions[p.cur.Code()]
		if opt == nil {
			return invalidField(field, "the price is in %s and has no %s currency option, but the order is in %s", strings.ToUpper(string(pr.Currency)), code, code)
		}
		if opt.CustomUnitAmount != nil || len(opt.Tiers) > 0 {
			return invalidField(field, "the price's %s option is tiered or customer-chosen: the order total could not be checked", code)
		}
		unit, decimalUnit = opt.UnitAmount, opt.UnitAmountDecimal
	}
	if decimalUnit != float64(unit) {
		return newFieldError(ErrInvalidAmount, field, "the price's unit amount %v is a fraction of the %s minor unit, which cannot be charged exactly", decimalUnit, code)
	}
	if unit < 0 || unit > p.cur.MaxMinor() || unit%p.cur.Step() != 0 {
		_, err := p.cur.ToMinor(p.cur.FromMinor(unit))
		if err == nil {
			err = fmt.Errorf("%w: %s %s cannot be charged: %s", ErrInvalidAmount, amountString(p.cur, p.cur.FromMinor(unit)), code, p.cur.PrecisionRule())
		}
		return fieldErrorOf(err, field)
	}

	if pr.Type == stripe.PriceTypeRecurring || pr.Recurring != nil {
		if p.mode != CheckoutSubscription {
			return invalidField(field, "is a recurring price, which needs CheckoutSubscription mode, not %s", p.mode)
		}
		rc := pr.Recurring
		if rc == nil {
			return invalidField(field, "is a recurring price without a billing interval")
		}
		if rc.UsageType == stripe.PriceRecurringUsageTypeMetered {
			return invalidField(field, "metered prices are not supported: the order total could not be checked")
		}
		got := recurring{interval: rc.Interval, count: rc.IntervalCount}
		if p.recurring == nil {
			p.recurring = &got
		} else if *p.recurring != got {
			return invalidField(field, "bills every %d %s, but the subscription bills every %d %s; Stripe needs one interval for all recurring items",
				got.count, got.interval, p.recurring.count, p.recurring.interval)
		}
		p.recurringRefs++
	} else if p.mode == CheckoutSubscription {
		p.oneTimeRefs++
	}

	units := ref.quantity
	if tq := pr.TransformQuantity; tq != nil && tq.DivideBy > 0 {
		units = ref.quantity / tq.DivideBy
		if tq.Round == stripe.PriceTransformQuantityRoundUp && ref.quantity%tq.DivideBy != 0 {
			units++
		}
	}
	return p.addLine(func() string { return field }, unit, units)
}
