package stripegateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/stripe/stripe-go/v76"
)

// This file holds the views: the fields of each Stripe object that an
// Outcome is read from, under the names of every API version this package
// knows. An event rendered at 2023-10-16 is decoded into stripe-go v76's
// type, which is then viewed (the view* functions); an event of any other
// version is decoded straight into the view, so that a version-tolerant
// event costs one decode, not two. Fields that a version moved are listed
// under both names, and mapping.go reads the one of the event's Shape.

// ref is an expandable field: an object's ID, whether Stripe sent the ID or
// the expanded object. null is the empty ref.
type ref string

// UnmarshalJSON implements json.Unmarshaler.
func (r *ref) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		return errors.New("empty value")
	case b[0] == '"':
		if len(b) >= 2 && bytes.IndexByte(b, '\\') < 0 {
			*r = ref(b[1 : len(b)-1])
			return nil
		}
		s, err := strconv.Unquote(string(b))
		*r = ref(s)
		return err
	case b[0] == '{':
		var o struct {
			ID string `json:"id"`
		}
		err := json.Unmarshal(b, &o)
		*r = ref(o.ID)
		return err
	case bytes.Equal(b, []byte("null")):
		*r = ""
		return nil
	}
	return errors.New("an expandable field is neither an ID nor an object")
}

// objectHead is what every object has.
type objectHead struct {
	ID       string            `json:"id"`
	Object   string            `json:"object"`
	Created  int64             `json:"created"`
	Livemode bool              `json:"livemode"`
	Metadata map[string]string `json:"metadata"`
	Currency string            `json:"currency"`
}

// checkoutView is a Checkout Session.
type checkoutView struct {
	objectHead
	ClientReferenceID string `json:"client_reference_id"`
	Mode              string `json:"mode"`
	Status            string `json:"status"`
	PaymentStatus     string `json:"payment_status"`
	AmountTotal       int64  `json:"amount_total"`
	PaymentIntent     ref    `json:"payment_intent"`
	Invoice           ref    `json:"invoice"`
	Subscription      ref    `json:"subscription"`
	Customer          ref    `json:"customer"`

	// Of an expanded PaymentIntent (ConfirmCheckout); events carry an ID.
	intentStatus string
	latestCharge string
}

// paymentErrorView is a PaymentIntent's last_payment_error.
type paymentErrorView struct {
	Type        string `json:"type"`
	Code        string `json:"code"`
	DeclineCode string `json:"decline_code"`
	Message     string `json:"message"`
}

// paymentIntentView is a PaymentIntent.
type paymentIntentView struct {
	objectHead
	Amount           int64             `json:"amount"`
	AmountReceived   int64             `json:"amount_received"`
	AmountCapturable int64             `json:"amount_capturable"`
	Status           string            `json:"status"`
	LatestCharge     ref               `json:"latest_charge"`
	Invoice          ref               `json:"invoice"` // Legacy
	Customer         ref               `json:"customer"`
	LastPaymentError *paymentErrorView `json:"last_payment_error"`
}

// periodView is an invoice line's service period.
type periodView struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// invoiceLineView is a line of an invoice.
type invoiceLineView struct {
	Metadata     map[string]string `json:"metadata"`
	Period       periodView        `json:"period"`
	Subscription ref               `json:"subscription"`
	Type         string            `json:"type"`      // Legacy: "subscription" or "invoiceitem"
	Proration    bool              `json:"proration"` // Legacy
	Parent       *struct {         // Basil
		Type                    string `json:"type"`
		SubscriptionItemDetails *struct {
			Subscription ref  `json:"subscription"`
			Proration    bool `json:"proration"`
		} `json:"subscription_item_details"`
	} `json:"parent"`
}

// subscriptionDetailsView is an invoice's snapshot of its subscription.
type subscriptionDetailsView struct {
	Metadata     map[string]string `json:"metadata"`
	Subscription ref               `json:"subscription"` // Basil, under parent
}

// invoiceView is an invoice.
type invoiceView struct {
	objectHead
	Customer           ref    `json:"customer"`
	Status             string `json:"status"`
	BillingReason      string `json:"billing_reason"`
	AmountDue          int64  `json:"amount_due"`
	AmountPaid         int64  `json:"amount_paid"`
	AmountRemaining    int64  `json:"amount_remaining"`
	NextPaymentAttempt int64  `json:"next_payment_attempt"`
	HostedInvoiceURL   string `json:"hosted_invoice_url"`
	PeriodStart        int64  `json:"period_start"`
	PeriodEnd          int64  `json:"period_end"`

	// Legacy: at the top level.
	Subscription        ref                      `json:"subscription"`
	PaymentIntent       ref                      `json:"payment_intent"`
	Charge              ref                      `json:"charge"`
	SubscriptionDetails *subscriptionDetailsView `json:"subscription_details"`
	// Basil: under parent.
	Parent *struct {
		Type                string                   `json:"type"`
		SubscriptionDetails *subscriptionDetailsView `json:"subscription_details"`
	} `json:"parent"`

	Lines struct {
		Data []invoiceLineView `json:"data"`
	} `json:"lines"`
}

// chargeView is a charge.
type chargeView struct {
	objectHead
	Amount         int64 `json:"amount"`
	AmountRefunded int64 `json:"amount_refunded"`
	PaymentIntent  ref   `json:"payment_intent"`
	Invoice        ref   `json:"invoice"` // Legacy
	Customer       ref   `json:"customer"`
}

// disputeView is a dispute.
type disputeView struct {
	objectHead
	Amount        int64  `json:"amount"`
	Status        string `json:"status"`
	Charge        ref    `json:"charge"`
	PaymentIntent ref    `json:"payment_intent"`
}

// refundView is a refund.
type refundView struct {
	objectHead
	Amount        int64  `json:"amount"`
	Status        string `json:"status"`
	FailureReason string `json:"failure_reason"`
	Charge        ref    `json:"charge"`
	PaymentIntent ref    `json:"payment_intent"`
}

// subscriptionView is a subscription.
type subscriptionView struct {
	objectHead
	Status             string `json:"status"`
	CancelAtPeriodEnd  bool   `json:"cancel_at_period_end"`
	Customer           ref    `json:"customer"`
	LatestInvoice      ref    `json:"latest_invoice"`
	CurrentPeriodStart int64  `json:"current_period_start"` // Legacy
	CurrentPeriodEnd   int64  `json:"current_period_end"`   // Legacy
	Items              struct {
		Data []struct { // Basil: the period is per item
			CurrentPeriodStart int64 `json:"current_period_start"`
			CurrentPeriodEnd   int64 `json:"current_period_end"`
		} `json:"data"`
	} `json:"items"`
}

// idOf returns the ID of an expandable stripe-go object, or "".
func idOf[T any](p *T, id func(*T) string) ref {
	if p == nil {
		return ""
	}
	return ref(id(p))
}

func headOf(id, object string, created int64, livemode bool, metadata map[string]string, currency stripe.Currency) objectHead {
	return objectHead{ID: id, Object: object, Created: created, Livemode: livemode, Metadata: metadata, Currency: string(currency)}
}

func viewCheckoutSession(s *stripe.CheckoutSession) *checkoutView {
	v := &checkoutView{
		objectHead:        headOf(s.ID, s.Object, s.Created, s.Livemode, s.Metadata, s.Currency),
		ClientReferenceID: s.ClientReferenceID,
		Mode:              string(s.Mode),
		Status:            string(s.Status),
		PaymentStatus:     string(s.PaymentStatus),
		AmountTotal:       s.AmountTotal,
		Invoice:           idOf(s.Invoice, func(x *stripe.Invoice) string { return x.ID }),
		Subscription:      idOf(s.Subscription, func(x *stripe.Subscription) string { return x.ID }),
		Customer:          idOf(s.Customer, func(x *stripe.Customer) string { return x.ID }),
	}
	if pi := s.PaymentIntent; pi != nil {
		v.PaymentIntent = ref(pi.ID)
		v.intentStatus = string(pi.Status)
		v.latestCharge = string(idOf(pi.LatestCharge, func(x *stripe.Charge) string { return x.ID }))
	}
	return v
}

func viewPaymentIntent(pi *stripe.PaymentIntent) *paymentIntentView {
	v := &paymentIntentView{
		objectHead:       headOf(pi.ID, pi.Object, pi.Created, pi.Livemode, pi.Metadata, pi.Currency),
		Amount:           pi.Amount,
		AmountReceived:   pi.AmountReceived,
		AmountCapturable: pi.AmountCapturable,
		Status:           string(pi.Status),
		LatestCharge:     idOf(pi.LatestCharge, func(x *stripe.Charge) string { return x.ID }),
		Invoice:          idOf(pi.Invoice, func(x *stripe.Invoice) string { return x.ID }),
		Customer:         idOf(pi.Customer, func(x *stripe.Customer) string { return x.ID }),
	}
	if e := pi.LastPaymentError; e != nil {
		v.LastPaymentError = &paymentErrorView{Type: string(e.Type), Code: string(e.Code), DeclineCode: string(e.DeclineCode), Message: e.Msg}
	}
	return v
}

func viewInvoice(in *stripe.Invoice) *invoiceView {
	v := &invoiceView{
		objectHead:         headOf(in.ID, in.Object, in.Created, in.Livemode, in.Metadata, in.Currency),
		Customer:           idOf(in.Customer, func(x *stripe.Customer) string { return x.ID }),
		Status:             string(in.Status),
		BillingReason:      string(in.BillingReason),
		AmountDue:          in.AmountDue,
		AmountPaid:         in.AmountPaid,
		AmountRemaining:    in.AmountRemaining,
		NextPaymentAttempt: in.NextPaymentAttempt,
		HostedInvoiceURL:   in.HostedInvoiceURL,
		PeriodStart:        in.PeriodStart,
		PeriodEnd:          in.PeriodEnd,
		Subscription:       idOf(in.Subscription, func(x *stripe.Subscription) string { return x.ID }),
		PaymentIntent:      idOf(in.PaymentIntent, func(x *stripe.PaymentIntent) string { return x.ID }),
		Charge:             idOf(in.Charge, func(x *stripe.Charge) string { return x.ID }),
	}
	if d := in.SubscriptionDetails; d != nil {
		v.SubscriptionDetails = &subscriptionDetailsView{Metadata: d.Metadata}
	}
	if in.Lines != nil {
		v.Lines.Data = make([]invoiceLineView, 0, len(in.Lines.Data))
		for _, l := range in.Lines.Data {
			if l == nil {
				continue
			}
			lv := invoiceLineView{
				Metadata:     l.Metadata,
				Subscription: idOf(l.Subscription, func(x *stripe.Subscription) string { return x.ID }),
				Type:         string(l.Type),
				Proration:    l.Proration,
			}
			if l.Period != nil {
				lv.Period = periodView{Start: l.Period.Start, End: l.Period.End}
			}
			v.Lines.Data = append(v.Lines.Data, lv)
		}
	}
	return v
}

func viewCharge(ch *stripe.Charge) *chargeView {
	return &chargeView{
		objectHead:     headOf(ch.ID, ch.Object, ch.Created, ch.Livemode, ch.Metadata, ch.Currency),
		Amount:         ch.Amount,
		AmountRefunded: ch.AmountRefunded,
		PaymentIntent:  idOf(ch.PaymentIntent, func(x *stripe.PaymentIntent) string { return x.ID }),
		Invoice:        idOf(ch.Invoice, func(x *stripe.Invoice) string { return x.ID }),
		Customer:       idOf(ch.Customer, func(x *stripe.Customer) string { return x.ID }),
	}
}

func viewDispute(d *stripe.Dispute) *disputeView {
	return &disputeView{
		objectHead:    headOf(d.ID, d.Object, d.Created, d.Livemode, d.Metadata, d.Currency),
		Amount:        d.Amount,
		Status:        string(d.Status),
		Charge:        idOf(d.Charge, func(x *stripe.Charge) string { return x.ID }),
		PaymentIntent: idOf(d.PaymentIntent, func(x *stripe.PaymentIntent) string { return x.ID }),
	}
}

func viewRefund(r *stripe.Refund) *refundView {
	return &refundView{
		objectHead:    headOf(r.ID, r.Object, r.Created, false, r.Metadata, r.Currency),
		Amount:        r.Amount,
		Status:        string(r.Status),
		FailureReason: string(r.FailureReason),
		Charge:        idOf(r.Charge, func(x *stripe.Charge) string { return x.ID }),
		PaymentIntent: idOf(r.PaymentIntent, func(x *stripe.PaymentIntent) string { return x.ID }),
	}
}

func viewSubscription(s *stripe.Subscription) *subscriptionView {
	return &subscriptionView{
		objectHead:         headOf(s.ID, s.Object, s.Created, s.Livemode, s.Metadata, s.Currency),
		Status:             string(s.Status),
		CancelAtPeriodEnd:  s.CancelAtPeriodEnd,
		Customer:           idOf(s.Customer, func(x *stripe.Customer) string { return x.ID }),
		LatestInvoice:      idOf(s.LatestInvoice, func(x *stripe.Invoice) string { return x.ID }),
		CurrentPeriodStart: s.CurrentPeriodStart,
		CurrentPeriodEnd:   s.CurrentPeriodEnd,
	}
}
