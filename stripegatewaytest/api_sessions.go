package stripegatewaytest

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stripe/stripe-go/v76"
)

// This file serves the Checkout Session endpoints: create, retrieve and
// expire, answered with the recorded state.

func (s *Simulator) apiCreateSession(w http.ResponseWriter, r *http.Request) {
	s.idempotent(w, r, func(body []byte) (int, []byte) {
		up, status, written := s.forwardOK(w, r, body)
		if up == nil {
			return status, written
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
		ID:            "cs_test_a1" + randomID(56),
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
		ss.ID = "cs_live_a1" + randomID(56)
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
	for _, i := range slices.Sorted(maps.Keys(fields)) {
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

// setSessionFacts sets the fields of a Checkout Session object that the
// API's answers and the events both take from the recorded session.
func setSessionFacts(obj map[string]any, ss SimulatedSession) {
	obj["id"] = ss.ID
	obj["metadata"] = copyStrings(ss.Metadata)
	obj["mode"] = ss.Mode
	obj["success_url"] = nilIfEmpty(ss.SuccessURL)
	obj["cancel_url"] = nilIfEmpty(ss.CancelURL)
	obj["customer_email"] = nilIfEmpty(ss.CustomerEmail)
	obj["created"] = ss.Created.Unix()
	obj["expires_at"] = ss.ExpiresAt.Unix()
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
	setSessionFacts(base, ss.SimulatedSession)
	base["object"] = "checkout.session"
	base["amount_subtotal"] = ss.AmountTotal
	base["amount_total"] = ss.AmountTotal
	base["currency"] = ss.Currency
	base["client_reference_id"] = nilIfEmpty(ss.OrderID)
	base["status"] = ss.Status
	base["payment_status"] = ss.PaymentStatus
	base["livemode"] = ss.Livemode
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

func (s *Simulator) apiGetSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	up, _, _ := s.forwardOK(w, r, nil)
	if up == nil {
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
	s.idempotent(w, r, func(body []byte) (int, []byte) {
		up, status, written := s.forwardOK(w, r, body)
		if up == nil {
			return status, written
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
