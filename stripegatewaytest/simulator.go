package stripegatewaytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"

	"github.com/b27de697/stripegateway"
)

// This file is the simulated hosted checkout: a Stripe API front for
// stripe-mock that remembers the Checkout Sessions it saw created, and the
// payment page Stripe would host for them.

// Test card numbers the Simulator's payment page accepts, from Stripe's
// testing documentation (https://docs.stripe.com/testing).
const (
	// CardSucceeds is paid at once.
	CardSucceeds = "4242424242424242"
	// CardDeclined is declined with card_declined / generic_decline.
	CardDeclined = "4000000000000002"
	// CardThreeDSecure asks for 3-D Secure authentication: the page shows
	// the step with "Complete" and "Fail".
	CardThreeDSecure = "4000002500003155"
)

// SimulatorConfig configures a Simulator. UpstreamURL, PublicURL,
// WebhookURL and WebhookSecret are required.
type SimulatorConfig struct {
	// UpstreamURL is stripe-mock's base URL, e.g. http://127.0.0.1:12111.
	// Every API request is forwarded there first, so that it is validated
	// against Stripe's OpenAPI specification.
	UpstreamURL string

	// PublicURL is the absolute URL the Simulator is mounted at, as both
	// the customer's browser and the Gateway reach it, for example
	// http://localhost:8080/stripe-sim. Its path is the prefix the
	// Simulator serves under: mount it with
	// mux.Handle("/stripe-sim/", sim). Build the Gateway with
	// stripegateway.WithAPIURL(sim.APIURL()).
	PublicURL string

	// WebhookURL is the host's webhook endpoint, e.g.
	// http://localhost:8080/gateways/stripe/notification. The events of
	// each payment are POSTed there, signed, as Stripe would.
	WebhookURL string

	// WebhookSecret is the endpoint's signing secret (whsec_…): the
	// Gateway's Config.WebhookSecret.
	WebhookSecret string

	// BusinessName is shown on the payment page; "Test store" if empty.
	BusinessName string

	// HTTPClient makes the requests to stripe-mock and the webhook
	// deliveries; a client with a 30 s timeout if nil.
	HTTPClient *http.Client

	// Logger receives a line per webhook delivery; nothing is logged if
	// nil.
	Logger *slog.Logger

	// Now is the clock, for tests; time.Now if nil.
	Now func() time.Time
}

// Simulator stands in for Stripe's API and its hosted Checkout page in
// development and tests, in front of stripe-mock. It is an http.Handler
// serving, under the path of SimulatorConfig.PublicURL:
//
//   - /v1/…: Stripe's API. Every request is forwarded to stripe-mock,
//     which validates it against the real API specification and whose
//     errors are passed back unchanged. stripe-mock is stateless, so the
//     Simulator keeps the state of what was really created:
//     POST /v1/checkout/sessions records the session (order ID, metadata,
//     lines, currency, amounts, mode, capture method, success and cancel
//     URLs) and answers with it, with its own unique ID and a URL on the
//     Simulator's payment page; GET /v1/checkout/sessions/{id} (with
//     expand[]=payment_intent) and GET /v1/payment_intents/{id} answer
//     with the recorded state; POST …/sessions/{id}/expire and
//     …/payment_intents/{id}/capture and /cancel change it. A POST with an
//     Idempotency-Key seen before is answered with the first response and
//     Idempotent-Replayed: true, as Stripe does. Anything else is
//     stripe-mock's answer.
//   - /c/pay/{session ID}: the payment page, which shows the order's lines
//     and total and takes the test cards CardSucceeds, CardDeclined and
//     CardThreeDSecure (and a few more of Stripe's test cards). On each
//     result it builds the events Stripe sends with this package's
//     builders (checkout.session.completed with the real session ID,
//     order ID, amount and currency, and payment_intent.succeeded; or
//     payment_intent.payment_failed), signs them with the webhook secret,
//     POSTs them to the webhook URL, and then sends the browser to the
//     success URL. A declined card, like on Stripe's page, shows the
//     decline message and leaves the session open for another card; the
//     page links back to the cancel URL.
//   - /: an overview of the sessions and webhook deliveries.
//
// It simulates test mode: nothing is charged and no network beyond
// stripe-mock and the webhook URL is used. Sessions live in memory. It is
// safe for concurrent use. Call Close when done, to wait for webhook
// deliveries started by API calls.
type Simulator struct {
	cfg      SimulatorConfig
	upstream string
	public   string
	prefix   string
	client   *http.Client
	logger   *slog.Logger
	now      func() time.Time
	business string
	handler  http.Handler

	mu          sync.Mutex
	sessions    map[string]*simSession
	order       []string // session IDs, oldest first
	intents     map[string]*simIntent
	idempotency map[string]*idemEntry
	deliveries  []WebhookDelivery
	closed      bool
	wg          sync.WaitGroup
}

// SimulatedSession is the recorded state of a Checkout Session created
// through a Simulator. Amounts are in the currency's minor unit, as in
// Stripe's API.
type SimulatedSession struct {
	ID string
	// OrderID is the session's client_reference_id.
	OrderID string
	// Mode is "payment" or "subscription".
	Mode string
	// CaptureMethod is "automatic", or "manual" for a deferred capture.
	CaptureMethod string
	Currency      string
	Lines         []SimulatedLine
	AmountTotal   int64
	Metadata      map[string]string
	SuccessURL    string
	CancelURL     string
	CustomerEmail string
	Livemode      bool
	// Status is "open", "complete" or "expired".
	Status string
	// PaymentStatus is "unpaid", "paid" or "no_payment_required".
	PaymentStatus string
	// PaymentIntentID is empty until the customer first tries to pay, as
	// with Stripe (and stays empty for a subscription).
	PaymentIntentID string
	// PaymentIntentStatus is the PaymentIntent's status, if there is one.
	PaymentIntentStatus string
	SubscriptionID      string
	Created             time.Time
	ExpiresAt           time.Time
	// URL is the payment page; empty once the session is complete or
	// expired.
	URL string
}

// SimulatedLine is one line of a SimulatedSession.
type SimulatedLine struct {
	Name        string
	Description string
	// PriceID is set for a line given as an existing Price.
	PriceID     string
	UnitAmount  int64
	Quantity    int64
	AmountTotal int64
	// Interval and IntervalCount are set for a recurring price.
	Interval      string
	IntervalCount int64
}

// WebhookDelivery is one event the Simulator sent to the webhook URL.
type WebhookDelivery struct {
	EventID   string
	EventType stripe.EventType
	SessionID string
	OrderID   string
	At        time.Time
	// Attempts is how many POSTs were made: a delivery answered with a
	// network error, 409 or 5xx is tried again, up to three times.
	Attempts int
	// StatusCode is the endpoint's last answer; 0 if none.
	StatusCode int
	// Err says why the delivery failed; empty if it got a 2xx answer.
	Err string
}

type simSession struct {
	SimulatedSession
	// threeDS is set while the 3-D Secure step is shown.
	threeDS bool
	// lastError is the last decline, shown on the page.
	lastError string
	// piMetadata is the metadata of the session's PaymentIntent (or
	// Subscription).
	piMetadata map[string]string
}

type simIntent struct {
	id               string
	status           string
	amount           int64
	amountCapturable int64
	amountReceived   int64
	currency         string
	captureMethod    string
	metadata         map[string]string
	livemode         bool
	created          time.Time
	lastError        *cardResult
	chargeID         string
	paymentMethodID  string
	canceledAt       time.Time
	secret           string
}

type idemEntry struct {
	fingerprint string
	status      int // 0 while the first request runs
	body        []byte
}

// NewSimulator checks cfg and returns a Simulator.
func NewSimulator(cfg SimulatorConfig) (*Simulator, error) {
	var problems []string
	upstream, err := absoluteURL(cfg.UpstreamURL)
	if err != nil {
		problems = append(problems, "UpstreamURL "+err.Error())
	}
	public, err := absoluteURL(cfg.PublicURL)
	if err != nil {
		problems = append(problems, "PublicURL "+err.Error())
	}
	if _, err := absoluteURL(cfg.WebhookURL); err != nil {
		problems = append(problems, "WebhookURL "+err.Error())
	}
	if !strings.HasPrefix(cfg.WebhookSecret, "whsec_") {
		problems = append(problems, "WebhookSecret must be the endpoint's signing secret, whsec_…")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("stripegatewaytest: NewSimulator: %s", strings.Join(problems, "; "))
	}
	s := &Simulator{
		cfg:         cfg,
		upstream:    upstream,
		public:      public,
		client:      cfg.HTTPClient,
		logger:      cfg.Logger,
		now:         cfg.Now,
		business:    cfg.BusinessName,
		sessions:    make(map[string]*simSession),
		intents:     make(map[string]*simIntent),
		idempotency: make(map[string]*idemEntry),
	}
	u, _ := url.Parse(public)
	s.prefix = strings.TrimRight(u.Path, "/")
	if s.client == nil {
		s.client = &http.Client{Timeout: 30 * time.Second}
	}
	if s.logger == nil {
		s.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.business == "" {
		s.business = "Test store"
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/checkout/sessions", s.apiCreateSession)
	mux.HandleFunc("GET /v1/checkout/sessions/{id}", s.apiGetSession)
	mux.HandleFunc("POST /v1/checkout/sessions/{id}/expire", s.apiExpireSession)
	mux.HandleFunc("GET /v1/payment_intents/{id}", s.apiGetIntent)
	mux.HandleFunc("POST /v1/payment_intents/{id}/capture", s.apiCaptureIntent)
	mux.HandleFunc("POST /v1/payment_intents/{id}/cancel", s.apiCancelIntent)
	mux.HandleFunc("/v1/", s.apiPassThrough)
	mux.HandleFunc("GET /c/pay/{id}", s.pageCheckout)
	mux.HandleFunc("POST /c/pay/{id}", s.pagePay)
	mux.HandleFunc("POST /c/pay/{id}/authenticate", s.pageAuthenticate)
	mux.HandleFunc("GET /{$}", s.pageIndex)
	s.handler = mux
	return s, nil
}

func absoluteURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("must be an absolute http(s) URL (got %q)", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// ServeHTTP implements http.Handler. Requests outside the path of
// SimulatorConfig.PublicURL are answered 404.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if s.prefix != "" {
		if p != s.prefix && !strings.HasPrefix(p, s.prefix+"/") {
			http.NotFound(w, r)
			return
		}
		p = strings.TrimPrefix(p, s.prefix)
		if p == "" {
			http.Redirect(w, r, s.prefix+"/", http.StatusFound)
			return
		}
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = p
	r2.URL.RawPath = ""
	s.handler.ServeHTTP(w, r2)
}

// APIURL is the base URL to give the Gateway: stripegateway.WithAPIURL(sim.APIURL()).
func (s *Simulator) APIURL() string { return s.public }

// CheckoutURL is the payment page of a session.
func (s *Simulator) CheckoutURL(sessionID string) string {
	return s.public + "/c/pay/" + url.PathEscape(sessionID)
}

// Session returns the recorded state of a session.
func (s *Simulator) Session(id string) (SimulatedSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[id]
	if !ok {
		return SimulatedSession{}, false
	}
	return s.snapshot(ss), true
}

// Sessions returns every recorded session, oldest first.
func (s *Simulator) Sessions() []SimulatedSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SimulatedSession, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.snapshot(s.sessions[id]))
	}
	return out
}

// Deliveries returns the webhook deliveries made so far, oldest first.
func (s *Simulator) Deliveries() []WebhookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]WebhookDelivery(nil), s.deliveries...)
}

// Close waits for the webhook deliveries started by API calls (an expired
// session, a capture, a cancellation). Afterwards such calls still change
// the state but send no events. Deliveries of the payment page are made
// before it answers, so there are none to wait for.
func (s *Simulator) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// snapshot copies a session's state; s.mu must be held.
func (s *Simulator) snapshot(ss *simSession) SimulatedSession {
	out := ss.SimulatedSession
	out.Lines = append([]SimulatedLine(nil), ss.Lines...)
	out.Metadata = copyStrings(ss.Metadata)
	if pi := s.intents[ss.PaymentIntentID]; pi != nil {
		out.PaymentIntentStatus = pi.status
	}
	if ss.Status == "open" {
		out.URL = s.CheckoutURL(ss.ID)
	}
	return out
}

func copyStrings(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ---------------------------------------------------------------------------
// The API

// maxAPIBody bounds what the Simulator reads from a request or from
// stripe-mock.
const maxAPIBody = 4 << 20

// upstreamResponse is stripe-mock's answer.
type upstreamResponse struct {
	status int
	header http.Header
	body   []byte
}

func (u *upstreamResponse) ok() bool { return u.status >= 200 && u.status < 300 }

// forward sends the request to stripe-mock with the same method, path,
// query, body and API headers.
func (s *Simulator) forward(r *http.Request, body []byte) (*upstreamResponse, error) {
	target := s.upstream + r.URL.Path
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, target, rd)
	if err != nil {
		return nil, err
	}
	for _, h := range []string{"Authorization", "Content-Type", "Stripe-Version", "Stripe-Account", "Idempotency-Key", "User-Agent", "X-Stripe-Client-User-Agent", "Accept"} {
		if v := r.Header.Values(h); len(v) > 0 {
			req.Header[h] = v
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody))
	if err != nil {
		return nil, err
	}
	return &upstreamResponse{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// readAPIBody reads an API request's body.
func readAPIBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
}

// writeUpstream passes stripe-mock's answer back.
func writeUpstream(w http.ResponseWriter, u *upstreamResponse) {
	for _, h := range []string{"Content-Type", "Request-Id", "Stripe-Version", "Idempotent-Replayed"} {
		if v := u.header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(u.status)
	_, _ = w.Write(u.body)
}

func writeJSON(w http.ResponseWriter, status int, v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error": {"type": "api_error", "message": "stripegatewaytest: cannot encode the response"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_sim"+simID(14))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return b
}

// stripeError writes an error in Stripe's shape.
func stripeError(w http.ResponseWriter, status int, typ, code, param, msg string) []byte {
	e := map[string]any{"type": typ, "message": msg}
	if code != "" {
		e["code"] = code
	}
	if param != "" {
		e["param"] = param
	}
	return writeJSON(w, status, map[string]any{"error": e})
}

func (s *Simulator) upstreamFailed(w http.ResponseWriter, err error) {
	stripeError(w, http.StatusBadGateway, "api_error", "", "", "stripegatewaytest: stripe-mock did not answer: "+err.Error())
}

func (s *Simulator) apiPassThrough(w http.ResponseWriter, r *http.Request) {
	body, err := readAPIBody(w, r)
	if err != nil {
		stripeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "", "", "request body too large")
		return
	}
	up, err := s.forward(r, body)
	if err != nil {
		s.upstreamFailed(w, err)
		return
	}
	writeUpstream(w, up)
}

// livemodeOf tells the mode from the request's API key.
func livemodeOf(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	if user, _, ok := r.BasicAuth(); ok {
		auth = user
	}
	auth = strings.TrimPrefix(auth, "Bearer ")
	return strings.HasPrefix(auth, "sk_live_") || strings.HasPrefix(auth, "rk_live_")
}

// idempotent runs a POST that changes the Simulator's state at most once
// per Idempotency-Key: a repeat with the same request gets the first
// answer, with Idempotent-Replayed: true; a repeat with another request is
// refused, as Stripe does. run writes the answer and returns its status and
// body.
func (s *Simulator) idempotent(w http.ResponseWriter, r *http.Request, body []byte, run func() (int, []byte)) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		run()
		return
	}
	sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+"\n"), body...))
	fp := string(sum[:])
	s.mu.Lock()
	e, seen := s.idempotency[key]
	if !seen {
		// Claim the key while the request runs.
		s.idempotency[key] = &idemEntry{fingerprint: fp}
	}
	s.mu.Unlock()
	switch {
	case seen && e.fingerprint != fp:
		stripeError(w, http.StatusBadRequest, "idempotency_error", "", "",
			"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '"+key+"' if you meant to execute a different request.")
		return
	case seen && e.status == 0:
		stripeError(w, http.StatusConflict, "idempotency_error", "", "",
			"There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): "+key+". Please try again later.")
		return
	case seen:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Idempotent-Replayed", "true")
		w.Header().Set("Request-Id", "req_sim"+simID(14))
		w.WriteHeader(e.status)
		_, _ = w.Write(e.body)
		return
	}
	status, out := run()
	s.mu.Lock()
	if status >= 500 || status == 0 {
		delete(s.idempotency, key) // not stored: a retry may succeed
	} else {
		s.idempotency[key] = &idemEntry{fingerprint: fp, status: status, body: out}
	}
	s.mu.Unlock()
}

func (s *Simulator) apiCreateSession(w http.ResponseWriter, r *http.Request) {
	body, err := readAPIBody(w, r)
	if err != nil {
		stripeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "", "", "request body too large")
		return
	}
	s.idempotent(w, r, body, func() (int, []byte) {
		up, err := s.forward(r, body)
		if err != nil {
			s.upstreamFailed(w, err)
			return http.StatusBadGateway, nil
		}
		if !up.ok() {
			writeUpstream(w, up)
			return up.status, up.body
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return http.StatusBadRequest, stripeError(w, http.StatusBadRequest, "invalid_request_error", "", "", "the request body is not form-encoded: "+err.Error())
		}
		ss, apiErr := s.newSession(r, form)
		if apiErr != nil {
			return apiErr.status, stripeError(w, apiErr.status, "invalid_request_error", apiErr.code, apiErr.param, apiErr.msg)
		}
		s.mu.Lock()
		s.sessions[ss.ID] = ss
		s.order = append(s.order, ss.ID)
		obj := s.renderSession(up.body, ss, expandsOf(form))
		s.mu.Unlock()
		return http.StatusOK, writeJSON(w, http.StatusOK, obj)
	})
}

type apiError struct {
	status           int
	code, param, msg string
}

var lineKeyRE = regexp.MustCompile(`^line_items\[(\d+)\]\[(.+)\]$`)

// newSession records what the request really asked for.
func (s *Simulator) newSession(r *http.Request, form url.Values) (*simSession, *apiError) {
	now := s.now()
	ss := &simSession{SimulatedSession: SimulatedSession{
		ID:            "cs_test_a1" + simID(56),
		OrderID:       form.Get("client_reference_id"),
		Mode:          form.Get("mode"),
		CaptureMethod: "automatic",
		Currency:      strings.ToLower(form.Get("currency")),
		Metadata:      nestedValues(form, "metadata"),
		SuccessURL:    form.Get("success_url"),
		CancelURL:     form.Get("cancel_url"),
		CustomerEmail: form.Get("customer_email"),
		Livemode:      livemodeOf(r),
		Status:        "open",
		PaymentStatus: "unpaid",
		Created:       now,
		ExpiresAt:     now.Add(24 * time.Hour),
	}}
	if ss.Livemode {
		ss.ID = "cs_live_a1" + simID(56)
	}
	if ss.Mode == "" {
		ss.Mode = "payment"
	}
	if ss.Mode != "payment" && ss.Mode != "subscription" {
		return nil, &apiError{http.StatusBadRequest, "parameter_invalid", "mode", "stripegatewaytest: the Simulator takes payment and subscription sessions only, not " + strconv.Quote(ss.Mode)}
	}
	if v := form.Get("payment_intent_data[capture_method]"); v == "manual" {
		ss.CaptureMethod = "manual"
	}
	if v := form.Get("expires_at"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			ss.ExpiresAt = time.Unix(n, 0)
		}
	}

	// Lines, in index order.
	fields := map[int]map[string]string{}
	for k, vs := range form {
		m := lineKeyRE.FindStringSubmatch(k)
		if m == nil || len(vs) == 0 {
			continue
		}
		i, err := strconv.Atoi(m[1])
		if err != nil {
			continue
		}
		if fields[i] == nil {
			fields[i] = map[string]string{}
		}
		fields[i][m[2]] = vs[0]
	}
	idx := make([]int, 0, len(fields))
	for i := range fields {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		f := fields[i]
		line := SimulatedLine{
			Name:        f["price_data][product_data][name"],
			Description: f["price_data][product_data][description"],
			PriceID:     f["price"],
			Interval:    f["price_data][recurring][interval"],
		}
		line.Quantity, _ = strconv.ParseInt(f["quantity"], 10, 64)
		if line.Quantity == 0 {
			line.Quantity = 1
		}
		line.IntervalCount, _ = strconv.ParseInt(f["price_data][recurring][interval_count"], 10, 64)
		if cur := strings.ToLower(f["price_data][currency"]); ss.Currency == "" {
			ss.Currency = cur
		}
		switch {
		case line.PriceID != "":
			if err := s.resolvePrice(r, ss.Currency, &line); err != nil {
				return nil, err
			}
		case f["price_data][unit_amount"] != "":
			line.UnitAmount, _ = strconv.ParseInt(f["price_data][unit_amount"], 10, 64)
		case f["price_data][unit_amount_decimal"] != "":
			d, err := decimal.NewFromString(f["price_data][unit_amount_decimal"])
			if err != nil || !d.IsInteger() {
				return nil, &apiError{http.StatusBadRequest, "parameter_invalid", "line_items[" + strconv.Itoa(i) + "][price_data][unit_amount_decimal]", "stripegatewaytest: the Simulator takes whole minor-unit amounts only"}
			}
			line.UnitAmount = d.IntPart()
		}
		if line.Interval != "" && line.IntervalCount == 0 {
			line.IntervalCount = 1
		}
		if line.Name == "" {
			line.Name = "Item " + strconv.Itoa(i+1)
		}
		line.AmountTotal = line.UnitAmount * line.Quantity
		ss.AmountTotal += line.AmountTotal
		ss.Lines = append(ss.Lines, line)
	}
	if len(ss.Lines) == 0 {
		return nil, &apiError{http.StatusBadRequest, "parameter_missing", "line_items", "stripegatewaytest: the Simulator needs line_items"}
	}
	if ss.Currency == "" {
		ss.Currency = "usd"
	}

	// The metadata CreateCheckout puts on the PaymentIntent or the
	// Subscription.
	piMeta := nestedValues(form, "payment_intent_data[metadata]")
	if ss.Mode == "subscription" {
		piMeta = nestedValues(form, "subscription_data[metadata]")
	}
	if len(piMeta) == 0 {
		piMeta = copyStrings(ss.Metadata)
	}
	ss.piMetadata = piMeta
	return ss, nil
}

// resolvePrice reads an existing Price from stripe-mock for its amount.
func (s *Simulator) resolvePrice(r *http.Request, cur string, line *SimulatedLine) *apiError {
	req := r.Clone(r.Context())
	req.Method = http.MethodGet
	req.URL = &url.URL{Path: "/v1/prices/" + url.PathEscape(line.PriceID), RawQuery: "expand[]=product"}
	up, err := s.forward(req, nil)
	if err != nil {
		return &apiError{http.StatusBadGateway, "", "", "stripegatewaytest: stripe-mock did not answer: " + err.Error()}
	}
	if !up.ok() {
		return &apiError{up.status, "resource_missing", "line_items", "No such price: '" + line.PriceID + "'"}
	}
	var p struct {
		Nickname        string `json:"nickname"`
		Currency        string `json:"currency"`
		UnitAmount      int64  `json:"unit_amount"`
		CurrencyOptions map[string]struct {
			UnitAmount int64 `json:"unit_amount"`
		} `json:"currency_options"`
		Recurring *struct {
			Interval      string `json:"interval"`
			IntervalCount int64  `json:"interval_count"`
		} `json:"recurring"`
		Product json.RawMessage `json:"product"`
	}
	_ = json.Unmarshal(up.body, &p)
	line.UnitAmount = p.UnitAmount
	if o, ok := p.CurrencyOptions[cur]; ok && cur != p.Currency {
		line.UnitAmount = o.UnitAmount
	}
	if p.Recurring != nil {
		line.Interval, line.IntervalCount = p.Recurring.Interval, p.Recurring.IntervalCount
	}
	var prod struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(p.Product, &prod)
	switch {
	case prod.Name != "":
		line.Name = prod.Name
	case p.Nickname != "":
		line.Name = p.Nickname
	default:
		line.Name = line.PriceID
	}
	return nil
}

// nestedValues collects prefix[key]=value pairs.
func nestedValues(form url.Values, prefix string) map[string]string {
	out := map[string]string{}
	for k, vs := range form {
		if !strings.HasPrefix(k, prefix+"[") || !strings.HasSuffix(k, "]") || len(vs) == 0 {
			continue
		}
		key := k[len(prefix)+1 : len(k)-1]
		if strings.ContainsAny(key, "[]") || vs[0] == "" {
			continue
		}
		out[key] = vs[0]
	}
	return out
}

// expandsOf returns the expand[] parameters of a query or form.
func expandsOf(v url.Values) map[string]bool {
	out := map[string]bool{}
	for k, vs := range v {
		if k == "expand[]" || k == "expand" || strings.HasPrefix(k, "expand[") {
			for _, x := range vs {
				out[x] = true
			}
		}
	}
	return out
}

// renderSession overlays the recorded state on stripe-mock's session
// object up (which has an expanded PaymentIntent when one was asked for);
// s.mu must be held.
func (s *Simulator) renderSession(up []byte, ss *simSession, expand map[string]bool) map[string]any {
	var base map[string]any
	_ = json.Unmarshal(up, &base)
	if base == nil {
		base = map[string]any{}
	}
	piBase, _ := base["payment_intent"].(map[string]any)
	base["id"] = ss.ID
	base["object"] = "checkout.session"
	base["amount_subtotal"] = ss.AmountTotal
	base["amount_total"] = ss.AmountTotal
	base["currency"] = ss.Currency
	base["client_reference_id"] = nilIfEmpty(ss.OrderID)
	base["metadata"] = copyStrings(ss.Metadata)
	base["mode"] = ss.Mode
	base["status"] = ss.Status
	base["payment_status"] = ss.PaymentStatus
	base["success_url"] = nilIfEmpty(ss.SuccessURL)
	base["cancel_url"] = nilIfEmpty(ss.CancelURL)
	base["customer_email"] = nilIfEmpty(ss.CustomerEmail)
	base["livemode"] = ss.Livemode
	base["created"] = ss.Created.Unix()
	base["expires_at"] = ss.ExpiresAt.Unix()
	base["total_details"] = map[string]any{"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}
	base["subscription"] = nilIfEmpty(ss.SubscriptionID)
	base["invoice"] = nil
	base["url"] = nil
	if ss.Status == "open" {
		base["url"] = s.CheckoutURL(ss.ID)
	}
	pmo := map[string]any{}
	if ss.CaptureMethod == "manual" {
		pmo["card"] = map[string]any{"capture_method": "manual"}
	}
	base["payment_method_options"] = pmo
	base["payment_intent"] = nil
	if ss.Mode == "payment" && ss.PaymentIntentID != "" {
		if pi := s.intents[ss.PaymentIntentID]; pi != nil && expand["payment_intent"] {
			base["payment_intent"] = s.renderIntent(piBase, pi)
		} else {
			base["payment_intent"] = ss.PaymentIntentID
		}
	}
	return base
}

// renderIntent overlays a recorded PaymentIntent on stripe-mock's object;
// s.mu must be held.
func (s *Simulator) renderIntent(base map[string]any, pi *simIntent) map[string]any {
	if base == nil {
		base = map[string]any{}
	}
	base["id"] = pi.id
	base["object"] = "payment_intent"
	base["amount"] = pi.amount
	base["amount_capturable"] = pi.amountCapturable
	base["amount_received"] = pi.amountReceived
	base["capture_method"] = pi.captureMethod
	base["client_secret"] = pi.secret
	base["confirmation_method"] = "automatic"
	base["created"] = pi.created.Unix()
	base["currency"] = pi.currency
	base["livemode"] = pi.livemode
	base["metadata"] = copyStrings(pi.metadata)
	base["status"] = pi.status
	base["latest_charge"] = nilIfEmpty(pi.chargeID)
	base["payment_method"] = nilIfEmpty(pi.paymentMethodID)
	base["payment_method_types"] = []any{"card"}
	base["next_action"] = nil
	base["canceled_at"] = nil
	base["cancellation_reason"] = nil
	if !pi.canceledAt.IsZero() {
		base["canceled_at"] = pi.canceledAt.Unix()
		base["cancellation_reason"] = "requested_by_customer"
	}
	base["last_payment_error"] = nil
	if e := pi.lastError; e != nil {
		base["last_payment_error"] = map[string]any{
			"code":         e.code,
			"decline_code": nilIfEmpty(e.declineCode),
			"doc_url":      "https://stripe.com/docs/error-codes/" + e.code,
			"message":      e.message,
			"type":         "card_error",
		}
	}
	return base
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Simulator) apiGetSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	up, err := s.forward(r, nil)
	if err != nil {
		s.upstreamFailed(w, err)
		return
	}
	if !up.ok() {
		writeUpstream(w, up)
		return
	}
	s.mu.Lock()
	ss, ok := s.sessions[id]
	var obj map[string]any
	if ok {
		obj = s.renderSession(up.body, ss, expandsOf(r.URL.Query()))
	}
	s.mu.Unlock()
	if !ok {
		stripeError(w, http.StatusNotFound, "invalid_request_error", "resource_missing", "session", "No such checkout.session: '"+id+"'")
		return
	}
	writeJSON(w, http.StatusOK, obj)
}

func (s *Simulator) apiExpireSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := readAPIBody(w, r)
	if err != nil {
		stripeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "", "", "request body too large")
		return
	}
	s.idempotent(w, r, body, func() (int, []byte) {
		up, err := s.forward(r, body)
		if err != nil {
			s.upstreamFailed(w, err)
			return http.StatusBadGateway, nil
		}
		if !up.ok() {
			writeUpstream(w, up)
			return up.status, up.body
		}
		form, _ := url.ParseQuery(string(body))
		s.mu.Lock()
		ss, ok := s.sessions[id]
		if !ok {
			s.mu.Unlock()
			return http.StatusNotFound, stripeError(w, http.StatusNotFound, "invalid_request_error", "resource_missing", "session", "No such checkout.session: '"+id+"'")
		}
		if ss.Status != "open" {
			s.mu.Unlock()
			return http.StatusBadRequest, stripeError(w, http.StatusBadRequest, "invalid_request_error", "checkout_session_not_open", "",
				"Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \""+ss.Status+"\".")
		}
		ss.Status = "expired"
		ss.threeDS = false
		snap := s.snapshot(ss)
		obj := s.renderSession(up.body, ss, expandsOf(form))
		s.mu.Unlock()
		s.deliverLater(snap, []eventSpec{{typ: stripe.EventTypeCheckoutSessionExpired}})
		return http.StatusOK, writeJSON(w, http.StatusOK, obj)
	})
}

func (s *Simulator) apiGetIntent(w http.ResponseWriter, r *http.Request) {
	s.intentCall(w, r, nil, nil)
}

func (s *Simulator) apiCaptureIntent(w http.ResponseWriter, r *http.Request) {
	body, err := readAPIBody(w, r)
	if err != nil {
		stripeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "", "", "request body too large")
		return
	}
	form, _ := url.ParseQuery(string(body))
	s.idempotent(w, r, body, func() (int, []byte) {
		return s.intentCall(w, r, body, func(pi *simIntent) (*apiError, []eventSpec) {
			if pi.status != "requires_capture" {
				return &apiError{http.StatusBadRequest, "payment_intent_unexpected_state", "",
					"This PaymentIntent could not be captured because it has a status of " + pi.status + ". Only a PaymentIntent with one of the following statuses may be captured: requires_capture."}, nil
			}
			amount := pi.amountCapturable
			if v := form.Get("amount_to_capture"); v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n <= 0 || n > pi.amountCapturable {
					return &apiError{http.StatusBadRequest, "amount_too_large", "amount_to_capture",
						"The amount to capture must be a positive integer no greater than the amount capturable (" + strconv.FormatInt(pi.amountCapturable, 10) + ")."}, nil
				}
				amount = n
			}
			pi.status, pi.amountReceived, pi.amountCapturable = "succeeded", amount, 0
			return nil, []eventSpec{{typ: stripe.EventTypePaymentIntentSucceeded, amount: amount}}
		})
	})
}

func (s *Simulator) apiCancelIntent(w http.ResponseWriter, r *http.Request) {
	body, err := readAPIBody(w, r)
	if err != nil {
		stripeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "", "", "request body too large")
		return
	}
	s.idempotent(w, r, body, func() (int, []byte) {
		return s.intentCall(w, r, body, func(pi *simIntent) (*apiError, []eventSpec) {
			switch pi.status {
			case "succeeded", "canceled", "processing":
				return &apiError{http.StatusBadRequest, "payment_intent_unexpected_state", "",
					"You cannot cancel this PaymentIntent because it has a status of " + pi.status + ". Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action."}, nil
			}
			pi.status, pi.amountCapturable, pi.canceledAt = "canceled", 0, s.now()
			return nil, []eventSpec{{typ: stripe.EventTypePaymentIntentCanceled}}
		})
	})
}

// intentCall forwards a PaymentIntent request and answers with the
// recorded PaymentIntent, after change (if not nil) has changed it.
func (s *Simulator) intentCall(w http.ResponseWriter, r *http.Request, body []byte, change func(*simIntent) (*apiError, []eventSpec)) (int, []byte) {
	id := r.PathValue("id")
	up, err := s.forward(r, body)
	if err != nil {
		s.upstreamFailed(w, err)
		return http.StatusBadGateway, nil
	}
	if !up.ok() {
		writeUpstream(w, up)
		return up.status, up.body
	}
	s.mu.Lock()
	pi, ok := s.intents[id]
	if !ok {
		s.mu.Unlock()
		if change != nil {
			// A PaymentIntent the Simulator did not create: stripe-mock's
			// answer, as for any other object.
			writeUpstream(w, up)
			return up.status, up.body
		}
		return http.StatusNotFound, stripeError(w, http.StatusNotFound, "invalid_request_error", "resource_missing", "intent", "No such payment_intent: '"+id+"'")
	}
	var events []eventSpec
	var snap SimulatedSession
	if change != nil {
		var apiErr *apiError
		apiErr, events = change(pi)
		if apiErr != nil {
			s.mu.Unlock()
			return apiErr.status, stripeError(w, apiErr.status, "invalid_request_error", apiErr.code, apiErr.param, apiErr.msg)
		}
		for _, ss := range s.sessions {
			if ss.PaymentIntentID == pi.id {
				if pi.status == "succeeded" {
					ss.PaymentStatus = "paid"
				}
				snap = s.snapshot(ss)
			}
		}
	}
	var base map[string]any
	_ = json.Unmarshal(up.body, &base)
	obj := s.renderIntent(base, pi)
	s.mu.Unlock()
	if len(events) > 0 && snap.ID != "" {
		s.deliverLater(snap, events)
	}
	return http.StatusOK, writeJSON(w, http.StatusOK, obj)
}

// ---------------------------------------------------------------------------
// Payments

// cardResult is what a test card does.
type cardResult struct {
	outcome     string // "succeed", "decline", "3ds", "invalid"
	code        string
	declineCode string
	message     string
}

// Stripe's messages, as its API and Checkout show them.
const (
	msgDeclined       = "Your card was declined."
	msgAuthentication = "We are unable to authenticate your payment method. Please choose a different payment method and try again."
)

// testCards are the cards the payment page takes, from
// https://docs.stripe.com/testing.
var testCards = map[string]cardResult{
	CardSucceeds:       {outcome: "succeed"},
	"4000056655665556": {outcome: "succeed"}, // Visa (debit)
	"5555555555554444": {outcome: "succeed"}, // Mastercard
	"378282246310005":  {outcome: "succeed"}, // American Express
	CardDeclined:       {outcome: "decline", code: "card_declined", declineCode: "generic_decline", message: msgDeclined},
	"4000000000009995": {outcome: "decline", code: "card_declined", declineCode: "insufficient_funds", message: "Your card has insufficient funds."},
	"4000000000009987": {outcome: "decline", code: "card_declined", declineCode: "lost_card", message: msgDeclined},
	"4000000000000069": {outcome: "decline", code: "expired_card", declineCode: "", message: "Your card has expired."},
	"4000000000000127": {outcome: "decline", code: "incorrect_cvc", declineCode: "", message: "Your card's security code is incorrect."},
	CardThreeDSecure:   {outcome: "3ds"},
	"4000002760003184": {outcome: "3ds"},
}

func classifyCard(number string) cardResult {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		if r == ' ' || r == '-' {
			return -1
		}
		return 'x'
	}, number)
	if c, ok := testCards[digits]; ok {
		return c
	}
	if len(digits) < 12 || len(digits) > 19 || strings.Contains(digits, "x") || !luhn(digits) {
		return cardResult{outcome: "invalid", message: "Your card number is invalid."}
	}
	return cardResult{outcome: "invalid", message: "Your card was declined. Your request was in test mode, but used a non test card. For a list of valid test cards, visit: https://stripe.com/docs/testing."}
}

func luhn(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// eventSpec is one event to send about a session.
type eventSpec struct {
	typ    stripe.EventType
	amount int64 // minor units; the session's total if 0
	fail   *cardResult
}

// intentFor returns the session's PaymentIntent, creating it on the first
// attempt to pay; s.mu must be held.
func (s *Simulator) intentFor(ss *simSession) *simIntent {
	if pi := s.intents[ss.PaymentIntentID]; pi != nil {
		return pi
	}
	id := "pi_3" + simID(24)
	pi := &simIntent{
		id:            id,
		status:        "requires_payment_method",
		amount:        ss.AmountTotal,
		currency:      ss.Currency,
		captureMethod: ss.CaptureMethod,
		metadata:      copyStrings(ss.piMetadata),
		livemode:      ss.Livemode,
		created:       s.now(),
		secret:        id + "_secret_" + simID(25),
	}
	s.intents[id] = pi
	ss.PaymentIntentID = id
	return pi
}

// succeed completes a session paid with a card; s.mu must be held. It
// returns the events to send.
func (s *Simulator) succeed(ss *simSession) []eventSpec {
	ss.threeDS = false
	ss.lastError = ""
	ss.Status = "complete"
	if ss.AmountTotal == 0 {
		ss.PaymentStatus = "no_payment_required"
		return []eventSpec{{typ: stripe.EventTypeCheckoutSessionCompleted}}
	}
	pi := s.intentFor(ss)
	pi.lastError = nil
	pi.paymentMethodID = "pm_1" + simID(24)
	pi.chargeID = "ch_3" + simID(24)
	if ss.Mode == "subscription" {
		ss.SubscriptionID = "sub_1" + simID(24)
		ss.PaymentStatus = "paid"
		pi.status, pi.amountReceived = "succeeded", pi.amount
		return []eventSpec{{typ: stripe.EventTypeCheckoutSessionCompleted}}
	}
	if ss.CaptureMethod == "manual" {
		ss.PaymentStatus = "unpaid"
		pi.status, pi.amountCapturable = "requires_capture", pi.amount
		return []eventSpec{
			{typ: stripe.EventTypeCheckoutSessionCompleted},
			{typ: stripe.EventTypePaymentIntentAmountCapturableUpdated},
		}
	}
	ss.PaymentStatus = "paid"
	pi.status, pi.amountReceived = "succeeded", pi.amount
	return []eventSpec{
		{typ: stripe.EventTypeCheckoutSessionCompleted},
		{typ: stripe.EventTypePaymentIntentSucceeded},
	}
}

// fail records a failed attempt; s.mu must be held.
func (s *Simulator) fail(ss *simSession, c cardResult) []eventSpec {
	ss.threeDS = false
	ss.lastError = c.message
	pi := s.intentFor(ss)
	pi.status = "requires_payment_method"
	pi.paymentMethodID = ""
	pi.chargeID = "ch_3" + simID(24)
	cc := c
	pi.lastError = &cc
	return []eventSpec{{typ: stripe.EventTypePaymentIntentPaymentFailed, fail: &cc}}
}

// buildEvent makes one signed-ready event about a session, from this
// package's builders, with the session's real IDs.
func (s *Simulator) buildEvent(ss SimulatedSession, spec eventSpec) ([]byte, string, error) {
	amountMinor := spec.amount
	if amountMinor == 0 {
		amountMinor = ss.AmountTotal
	}
	amount, err := majorUnits(amountMinor, ss.Currency)
	if err != nil {
		return nil, "", err
	}
	ev := NewEvent(spec.typ, ss.OrderID, amount, ss.Currency)
	ev.ID = "evt_" + simID(24)
	ev.Created = s.now()
	ev.Livemode = ss.Livemode
	ev.PaymentIntentID = ss.PaymentIntentID
	if ss.PaymentStatus == "no_payment_required" {
		ev.PaymentStatus = stripe.CheckoutSessionPaymentStatusNoPaymentRequired
	}
	if spec.typ == stripe.EventTypeCheckoutSessionCompleted && ss.CaptureMethod == "manual" {
		ev.DeferredCapture = true
	}
	if f := spec.fail; f != nil {
		ev.FailureCode, ev.DeclineCode, ev.FailureMessage = f.code, f.declineCode, f.message
	}
	payload, err := ev.JSON()
	if err != nil {
		return nil, "", err
	}

	// The builders make typical objects: give them this session's facts.
	patch := map[string]any{}
	switch spec.typ {
	case stripe.EventTypeCheckoutSessionCompleted, stripe.EventTypeCheckoutSessionExpired:
		patch["id"] = ss.ID
		patch["metadata"] = ss.Metadata
		patch["mode"] = ss.Mode
		patch["success_url"] = nilIfEmpty(ss.SuccessURL)
		patch["cancel_url"] = nilIfEmpty(ss.CancelURL)
		patch["customer_email"] = nilIfEmpty(ss.CustomerEmail)
		patch["created"] = ss.Created.Unix()
		patch["expires_at"] = ss.ExpiresAt.Unix()
		patch["payment_intent"] = nil
		if ss.Mode == "payment" && ss.PaymentIntentID != "" && spec.typ == stripe.EventTypeCheckoutSessionCompleted {
			patch["payment_intent"] = ss.PaymentIntentID
		}
		if ss.Mode == "subscription" {
			patch["subscription"] = nilIfEmpty(ss.SubscriptionID)
		}
	default: // payment_intent.*
		s.mu.Lock()
		if pi := s.intents[ss.PaymentIntentID]; pi != nil {
			patch["metadata"] = copyStrings(pi.metadata)
			patch["capture_method"] = pi.captureMethod
			patch["created"] = pi.created.Unix()
			if pi.paymentMethodID != "" {
				patch["payment_method"] = pi.paymentMethodID
			}
			if spec.typ == stripe.EventTypePaymentIntentCanceled {
				patch["cancellation_reason"] = "requested_by_customer"
			}
		}
		s.mu.Unlock()
	}
	payload, err = patchEventObject(payload, patch)
	if err != nil {
		return nil, "", err
	}
	return payload, ev.ID, nil
}

// majorUnits converts minor units to the major unit with the gateway's
// currency table.
func majorUnits(minor int64, cur string) (decimal.Decimal, error) {
	exp, _, err := currencyDigits(cur)
	if err != nil {
		return decimal.Decimal{}, err
	}
	return decimal.New(minor, -exp), nil
}

// currencyDigits returns the currency's exponent in Stripe's API (2 for
// EUR, 0 for JPY) and how many decimals its amounts show (2 for EUR, 0 for
// JPY and ISK), from the gateway's currency table.
func currencyDigits(cur string) (exponent, decimals int32, err error) {
	one, err := stripegateway.MinorUnits(decimal.NewFromInt(1), cur)
	if err != nil {
		return 0, 0, err
	}
	for one >= 10 {
		exponent++
		one /= 10
	}
	for decimals = exponent; decimals > 0; decimals-- {
		if _, err := stripegateway.MinorUnits(decimal.New(1, -decimals), cur); err == nil {
			break
		}
	}
	return exponent, decimals, nil
}

// patchEventObject sets fields of an event's data.object, keeping the
// envelope's key order.
func patchEventObject(payload []byte, patch map[string]any) ([]byte, error) {
	if len(patch) == 0 {
		return payload, nil
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("stripegatewaytest: event is not a JSON object")
	}
	var keys []string
	vals := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		keys = append(keys, k)
		vals[k] = v
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(vals["data"], &data); err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data["object"], &obj); err != nil {
		return nil, err
	}
	for k, v := range patch {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		obj[k] = b
	}
	var err error
	if data["object"], err = json.Marshal(obj); err != nil {
		return nil, err
	}
	if vals["data"], err = json.Marshal(data); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vals[k])
	}
	buf.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// deliver builds, signs and POSTs the events, in order, and waits for the
// answers.
func (s *Simulator) deliver(ctx context.Context, ss SimulatedSession, specs []eventSpec) {
	for _, spec := range specs {
		d := WebhookDelivery{EventType: spec.typ, SessionID: ss.ID, OrderID: ss.OrderID, At: s.now()}
		payload, id, err := s.buildEvent(ss, spec)
		d.EventID = id
		if err != nil {
			d.Err = "building the event: " + err.Error()
		} else {
			s.post(ctx, payload, &d)
		}
		level := slog.LevelInfo
		if d.Err != "" {
			level = slog.LevelWarn
		}
		s.logger.Log(ctx, level, "stripegatewaytest: simulator delivered webhook event",
			"event_id", d.EventID, "type", string(d.EventType), "session_id", d.SessionID, "order_id", d.OrderID,
			"status", d.StatusCode, "attempts", d.Attempts, "error", d.Err)
		s.mu.Lock()
		s.deliveries = append(s.deliveries, d)
		s.mu.Unlock()
	}
}

// deliverLater delivers in the background, for events caused by API calls
// (Stripe sends those after answering).
func (s *Simulator) deliverLater(ss SimulatedSession, specs []eventSpec) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s.deliver(ctx, ss, specs)
	}()
}

func (s *Simulator) post(ctx context.Context, payload []byte, d *WebhookDelivery) {
	backoff := []time.Duration{0, 200 * time.Millisecond, time.Second}
	for _, wait := range backoff {
		if wait > 0 {
			select {
			case <-ctx.Done():
				d.Err = ctx.Err().Error()
				return
			case <-time.After(wait):
			}
		}
		d.Attempts++
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(payload))
		if err != nil {
			d.Err = err.Error()
			return
		}
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
		req.Header.Set("Stripe-Signature", SignatureHeader(payload, s.cfg.WebhookSecret, At(s.now())))
		resp, err := s.client.Do(req)
		if err != nil {
			d.StatusCode, d.Err = 0, err.Error()
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		d.StatusCode = resp.StatusCode
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			d.Err = ""
			return
		case resp.StatusCode == http.StatusConflict || resp.StatusCode >= 500:
			d.Err = "the endpoint answered " + resp.Status
		default:
			d.Err = "the endpoint answered " + resp.Status
			return
		}
	}
}

// simID returns n random letters and digits.
func simID(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
