package shop

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
)

// Status is an order's payment status.
type Status string

// Order statuses. An order starts StatusUnpaid; only webhook events move it.
const (
	StatusUnpaid            Status = "unpaid"             // waiting for the customer to pay
	StatusPending           Status = "pending"            // paid with a method whose money has not arrived yet
	StatusFailed            Status = "failed"             // the last attempt failed; the customer may try again
	StatusAuthorized        Status = "authorized"         // funds held for a later capture
	StatusPaid              Status = "paid"               // the money is captured: fulfil the order
	StatusReview            Status = "needs_review"       // Stripe reported a payment that does not match the order
	StatusCanceled          Status = "canceled"           // the payment was canceled
	StatusExpired           Status = "expired"            // the checkout expired unpaid
	StatusPartiallyRefunded Status = "partially_refunded" // part of the payment was refunded
	StatusRefunded          Status = "refunded"           // all of the payment was refunded
	StatusDisputed          Status = "disputed"           // the customer's bank opened a dispute
	StatusDisputeLost       Status = "dispute_lost"       // the dispute was lost: the money is gone
	StatusRefundFailed      Status = "refund_failed"      // a refund failed: the customer has not been paid back
)

// Label is the status as the pages show it.
func (s Status) Label() string {
	switch s {
	case StatusUnpaid:
		return "Awaiting payment"
	case StatusPending:
		return "Payment pending"
	case StatusFailed:
		return "Payment failed"
	case StatusAuthorized:
		return "Authorized"
	case StatusPaid:
		return "Paid"
	case StatusReview:
		return "Needs review"
	case StatusCanceled:
		return "Canceled"
	case StatusExpired:
		return "Expired"
	case StatusPartiallyRefunded:
		return "Partially refunded"
	case StatusRefunded:
		return "Refunded"
	case StatusDisputed:
		return "Disputed"
	case StatusDisputeLost:
		return "Dispute lost"
	case StatusRefundFailed:
		return "Refund failed"
	}
	return string(s)
}

// Line is one line of an order.
type Line struct {
	ProductID  string
	Name       string
	UnitAmount decimal.Decimal // in the major unit of the order's currency
	Quantity   int64
}

// Order is an order of the store. The store computes Total from its own
// catalog: nothing the browser sends is trusted for an amount.
type Order struct {
	ID        string
	CreatedAt time.Time
	Currency  string // lowercase ISO 4217
	Lines     []Line
	Total     decimal.Decimal
	// Interval is the billing period of a subscription order; empty for a
	// one-time order.
	Interval stripe.PriceRecurringInterval

	SessionID       string
	PaymentIntentID string
	SubscriptionID  string

	Status Status
	// StatusAt is when Stripe created the event that set Status: an event
	// older than that cannot move the order.
	StatusAt       time.Time
	FailureMessage string // Stripe's message of the last failure, safe to show the customer

	// A subscription order's subscription (subscriptions.go). The order's
	// Status is that of its first payment; renewals change only these.
	//
	// ActiveUntil is the end of the last service period paid for: the
	// first invoice sets it, each paid renewal extends it.
	ActiveUntil time.Time
	// SubscriptionStatus is Stripe's status of the subscription: active,
	// past_due, unpaid, canceled, ...; empty until Stripe reports it.
	SubscriptionStatus string
	// SubscriptionAt is when Stripe created the event that set
	// SubscriptionStatus: an older event does not change it.
	SubscriptionAt time.Time
	// CancelAtPeriodEnd is set when the subscription ends at ActiveUntil.
	CancelAtPeriodEnd bool
	// Invoices are the subscription's paid invoices, oldest first; each is
	// applied once, whichever of its events arrives first.
	Invoices []PaidInvoice
	// RenewalFailure is the message of the last failed renewal, until a
	// renewal is paid.
	RenewalFailure string

	// DisputeStatus is the status of the payment's dispute:
	// needs_response, under_review, won, lost, ...; empty if none.
	DisputeStatus string
	// StatusBeforeDispute is the status a dispute won returns the order to.
	StatusBeforeDispute Status
	// RefundFailure is Stripe's reason for the last failed refund, e.g.
	// expired_or_canceled_card; empty if none failed.
	RefundFailure string

	// Outcomes are the webhook outcomes received for the order, in the
	// order they arrived.
	Outcomes []Received
}

// Received is one webhook outcome as the order recorded it.
type Received struct {
	Kind        stripegateway.Kind
	EventID     string
	EventType   string
	Amount      decimal.Decimal
	AmountMinor int64
	Currency    string
	Created     time.Time // when Stripe created the event
	ReceivedAt  time.Time
	// Applied says whether the outcome changed the order (its status, or
	// its subscription, dispute or refund); Note says why not, or what it
	// changed.
	Applied bool
	Note    string
}

// PaidInvoice is a paid invoice of a subscription order.
type PaidInvoice struct {
	ID string
	// Renewal is false for the subscription's first invoice.
	Renewal bool
	// PeriodStart and PeriodEnd are the service period it paid for.
	PeriodStart time.Time
	PeriodEnd   time.Time
	Amount      decimal.Decimal
	Currency    string
	// PaidAt is when Stripe created the event that reported it.
	PaidAt time.Time
}

// clone returns a deep copy.
func (o *Order) clone() *Order {
	c := *o
	c.Lines = append([]Line(nil), o.Lines...)
	c.Outcomes = append([]Received(nil), o.Outcomes...)
	c.Invoices = append([]PaidInvoice(nil), o.Invoices...)
	return &c
}

// ErrOrderNotFound is returned by an OrderStore for an unknown order ID.
var ErrOrderNotFound = errors.New("order not found")

// OrderStore keeps the orders. The storefront uses it through this
// interface only, so that a durable store (SQL, say) can replace the
// in-memory one. Implementations are safe for concurrent use and return
// copies: changing a returned Order changes nothing stored.
type OrderStore interface {
	// Create stores a new order.
	Create(ctx context.Context, o *Order) error
	// Get returns an order, or ErrOrderNotFound.
	Get(ctx context.Context, id string) (*Order, error)
	// List returns every order, newest first.
	List(ctx context.Context) ([]*Order, error)
	// Update runs fn on the order and stores the result, atomically with
	// respect to other Updates of the same order (in SQL: a transaction
	// with SELECT … FOR UPDATE). An error from fn stores nothing.
	Update(ctx context.Context, id string, fn func(*Order) error) (*Order, error)
}

// MemoryOrders is an OrderStore in memory.
type MemoryOrders struct {
	mu     sync.Mutex
	orders map[string]*Order
}

// NewMemoryOrders returns an empty in-memory OrderStore.
func NewMemoryOrders() *MemoryOrders { return &MemoryOrders{orders: map[string]*Order{}} }

// Create implements OrderStore.
func (m *MemoryOrders) Create(_ context.Context, o *Order) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.orders[o.ID]; dup {
		return fmt.Errorf("order %s exists already", o.ID)
	}
	m.orders[o.ID] = o.clone()
	return nil
}

// Get implements OrderStore.
func (m *MemoryOrders) Get(_ context.Context, id string) (*Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrOrderNotFound, id)
	}
	return o.clone(), nil
}

// List implements OrderStore.
func (m *MemoryOrders) List(_ context.Context) ([]*Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Order, 0, len(m.orders))
	for _, o := range m.orders {
		out = append(out, o.clone())
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

// Update implements OrderStore.
func (m *MemoryOrders) Update(_ context.Context, id string, fn func(*Order) error) (*Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrOrderNotFound, id)
	}
	c := o.clone()
	if err := fn(c); err != nil {
		return nil, err
	}
	m.orders[id] = c
	return c.clone(), nil
}

// applyOutcome records a webhook outcome on the order and moves its status
// when the outcome is news. It is idempotent: an event already recorded
// (by its ID) changes nothing, and it reports false then. What happens
// after the payment (a subscription's renewals and status, a dispute's
// end, a failed refund) is applied by subscriptions.go. It never moves an
// order backwards:
//   - a paid order stays paid whatever failure, cancellation, expiry or
//     pending payment arrives later (Stripe delivers in any order);
//   - an event older (Outcome.Created) than the one that set the current
//     status does not change it;
//   - a payment whose amount or currency differs from the order's total is
//     not taken as payment: the order needs review.
func applyOutcome(ord *Order, o *stripegateway.Outcome, now time.Time) bool {
	if o.EventID != "" {
		for _, r := range ord.Outcomes {
			if r.EventID == o.EventID {
				return false
			}
		}
	}
	rec := Received{
		Kind: o.Kind, EventID: o.EventID, EventType: string(o.EventType),
		Amount: o.Amount, AmountMinor: o.AmountMinor, Currency: o.Currency,
		Created: o.Created, ReceivedAt: now,
	}
	if ord.PaymentIntentID == "" && o.PaymentIntentID != "" {
		ord.PaymentIntentID = o.PaymentIntentID
	}
	if ord.SubscriptionID == "" && o.SubscriptionID != "" {
		ord.SubscriptionID = o.SubscriptionID
	}

	if applied, note, ok := applyAfterPayment(ord, o); ok {
		rec.Applied, rec.Note = applied, note
		ord.Outcomes = append(ord.Outcomes, rec)
		return true
	}

	before := ord.Status
	next, note := transition(ord, o)
	switch {
	case next == StatusFailed && ord.Status == StatusFailed && o.FailureMessage != "" && !o.Created.Before(ord.StatusAt):
		// Another attempt failed: the customer reads its reason, not
		// the first one's.
		if o.FailureMessage != ord.FailureMessage {
			ord.FailureMessage, ord.StatusAt = o.FailureMessage, o.Created
			rec.Applied, note = true, "another attempt failed: "+o.FailureMessage
		}
	case next == "" || next == ord.Status:
	case !isPaymentNews(o.Kind) && !ord.StatusAt.IsZero() && o.Created.Before(ord.StatusAt):
		note = fmt.Sprintf("not applied: the event (%s) is older than the one that set the status %q (%s)",
			o.Created.Format(time.RFC3339), ord.Status.Label(), ord.StatusAt.Format(time.RFC3339))
	default:
		ord.Status, ord.StatusAt = next, o.Created
		rec.Applied = true
		switch {
		case next == StatusFailed:
			ord.FailureMessage = o.FailureMessage
		case next == StatusPaid || next == StatusAuthorized || next == StatusPending:
			ord.FailureMessage = ""
		}
	}
	if more := afterTransition(ord, o, before); more != "" {
		if note == "" {
			note = more
		} else {
			note += "; " + more
		}
	}
	rec.Note = note
	ord.Outcomes = append(ord.Outcomes, rec)
	return true
}

// isPaymentNews says whether the outcome reports money that moved, which
// is news whenever it arrives.
func isPaymentNews(k stripegateway.Kind) bool {
	switch k {
	case stripegateway.PaymentSucceeded, stripegateway.PaymentRefunded, stripegateway.PaymentDisputed:
		return true
	}
	return false
}

// transition returns the status an outcome moves the order to ("" for
// none) and, when it moves nothing, why.
func transition(ord *Order, o *stripegateway.Outcome) (Status, string) {
	cur := ord.Status
	in := func(ss ...Status) bool {
		for _, s := range ss {
			if cur == s {
				return true
			}
		}
		return false
	}
	open := in(StatusUnpaid, StatusPending, StatusFailed)
	settled := paidOnce(cur)
	late := func(what string) (Status, string) {
		return "", fmt.Sprintf("not applied: the order is %s; a late %s does not change it", cur.Label(), what)
	}
	amountOK := o.Currency == ord.Currency && o.Amount.Equal(ord.Total)
	mismatch := func() (Status, string) {
		return StatusReview, fmt.Sprintf("Stripe reported %s %s but the order's total is %s %s",
			o.Amount.String(), o.Currency, ord.Total.String(), ord.Currency)
	}

	switch o.Kind {
	case stripegateway.PaymentSucceeded:
		switch {
		case cur == StatusPaid:
			return "", "already paid"
		case settled:
			return late("payment")
		case !amountOK:
			return mismatch()
		}
		return StatusPaid, ""
	case stripegateway.PaymentAuthorized:
		switch {
		case !open:
			return late("authorization")
		case !amountOK:
			return mismatch()
		}
		return StatusAuthorized, ""
	case stripegateway.PaymentPending:
		if !in(StatusUnpaid, StatusFailed) {
			return late("pending payment")
		}
		return StatusPending, ""
	case stripegateway.PaymentFailed:
		if !open {
			return late("failure")
		}
		return StatusFailed, ""
	case stripegateway.PaymentCanceled:
		if !open && cur != StatusAuthorized {
			return late("cancellation")
		}
		return StatusCanceled, ""
	case stripegateway.CheckoutExpired:
		if !open {
			return late("expiry")
		}
		return StatusExpired, ""
	case stripegateway.PaymentRefunded:
		if !in(StatusPaid, StatusPartiallyRefunded, StatusDisputed, StatusRefundFailed) {
			return "", "not applied: the order is " + cur.Label()
		}
		if o.Amount.GreaterThanOrEqual(ord.Total) {
			return StatusRefunded, ""
		}
		return StatusPartiallyRefunded, ""
	case stripegateway.PaymentDisputed:
		if !settled {
			return "", "not applied: the order is " + cur.Label()
		}
		if closedDispute(ord.DisputeStatus) {
			return "", "not applied: the dispute was closed already (" + ord.DisputeStatus + ")"
		}
		return StatusDisputed, ""
	}
	return "", "recorded"
}
