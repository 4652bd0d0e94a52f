package stripegatewaytest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// This file forwards API requests to stripe-mock, writes answers in
// Stripe's shape and replays idempotent requests.

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

// readAPIBody reads an API request's body. When it cannot, it answers 413
// and returns false.
func readAPIBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Body == nil {
		return nil, true
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		stripeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "", "", "request body too large")
		return nil, false
	}
	return body, true
}

// forwardOK forwards the request to stripe-mock and returns its answer when
// it is a success. Otherwise it passes the failure on to the client and
// returns nil with the status and body it wrote, for idempotent.
func (s *Simulator) forwardOK(w http.ResponseWriter, r *http.Request, body []byte) (up *upstreamResponse, status int, written []byte) {
	up, err := s.forward(r, body)
	if err != nil {
		s.upstreamFailed(w, err)
		return nil, http.StatusBadGateway, nil
	}
	if !up.ok() {
		writeUpstream(w, up)
		return nil, up.status, up.body
	}
	return up, 0, nil
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
	w.Header().Set("Request-Id", "req_sim"+randomID(14))
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
	body, ok := readAPIBody(w, r)
	if !ok {
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

// idempotent reads the body of a POST that changes the Simulator's state
// and runs it at most once per Idempotency-Key: a repeat with the same
// request gets the first answer, with Idempotent-Replayed: true; a repeat
// with another request is refused, as Stripe does. run writes the answer
// and returns its status and body.
func (s *Simulator) idempotent(w http.ResponseWriter, r *http.Request, run func(body []byte) (int, []byte)) {
	body, ok := readAPIBody(w, r)
	if !ok {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		run(body)
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
		w.Header().Set("Request-Id", "req_sim"+randomID(14))
		w.WriteHeader(e.status)
		_, _ = w.Write(e.body)
		return
	}
	status, out := run(body)
	s.mu.Lock()
	if status >= 500 || status == 0 {
		delete(s.idempotency, key) // not stored: a retry may succeed
	} else {
		s.idempotency[key] = &idemEntry{fingerprint: fp, status: status, body: out}
	}
	s.mu.Unlock()
}
