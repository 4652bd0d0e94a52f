package stripegateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/b27de697/stripegateway/internal/stripemock"
)

// This file records the API requests a gateway sends and checks every
// parameter against stripe-mock's OpenAPI spec, which stripe-mock itself
// does not fully enforce.

// --- Recording requests ---

// recordedAPIRequest is one API request as it went over the wire.
type recordedAPIRequest struct {
	Method string
	Path   string
	// Form holds the form body of a POST, or the query of a GET.
	Form   url.Values
	Header http.Header
}

// key is the request's Idempotency-Key header.
func (r recordedAPIRequest) key() string { return r.Header.Get("Idempotency-Key") }

// apiRecorder is an http.RoundTripper that records every request's form
// parameters and headers before passing it on. patch, when set, may rewrite
// a response body (to turn a stripe-mock fixture into the state a test
// needs); it is given the request's method and path.
type apiRecorder struct {
	base  http.RoundTripper
	patch func(method, path string, body []byte) []byte

	mu   sync.Mutex
	reqs []recordedAPIRequest
}

func (r *apiRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		clone := req.Clone(req.Context())
		clone.Body = io.NopCloser(bytes.NewReader(body))
		req = clone
	}
	rec := recordedAPIRequest{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone()}
	if req.Method == http.MethodPost {
		rec.Form, _ = url.ParseQuery(string(body))
	} else {
		rec.Form = req.URL.Query()
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()

	resp, err := r.base.RoundTrip(req)
	if err != nil || r.patch == nil {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	b = r.patch(req.Method, req.URL.Path, b)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// requests returns a copy of the requests recorded so far.
func (r *apiRecorder) requests() []recordedAPIRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// only returns the single recorded request, failing the test otherwise.
func (r *apiRecorder) only(t *testing.T) recordedAPIRequest {
	t.Helper()
	reqs := r.requests()
	require.Len(t, reqs, 1, "want exactly one API request")
	return reqs[0]
}

// newRecordedGateway is newMockGateway with an apiRecorder in front of
// stripe-mock.
func newRecordedGateway(t *testing.T, cfg Config, opts ...Option) (*Gateway, *apiRecorder) {
	t.Helper()
	rec := &apiRecorder{base: http.DefaultTransport}
	opts = append([]Option{WithHTTPClient(&http.Client{Transport: rec, Timeout: 30 * time.Second})}, opts...)
	return newMockGateway(t, cfg, opts...), rec
}

// patchAPIJSON returns an apiRecorder patch that sets top-level fields of the JSON
// responses to requests of method and path.
func patchAPIJSON(method, path string, fields map[string]any) func(string, string, []byte) []byte {
	return func(m, p string, body []byte) []byte {
		if m != method || p != path {
			return body
		}
		var obj map[string]any
		if err := json.Unmarshal(body, &obj); err != nil {
			return body
		}
		for k, v := range fields {
			obj[k] = v
		}
		out, err := json.Marshal(obj)
		if err != nil {
			return body
		}
		return out
	}
}

// --- Checking sent parameters against Stripe's OpenAPI spec ---
//
// stripe-mock rejects unknown top-level parameters only: a misspelt nested
// parameter such as payment_intent_data[captur_method] is accepted (checked
// by hand against v0.180.0). So the tests also check every parameter they
// record against the OpenAPI spec that stripe-mock embeds, read from the
// pinned stripe-mock module's source (the harness builds stripe-mock from
// it, so it is normally in the module cache already).

type specSchema struct {
	Type                 string                 `json:"type"`
	Properties           map[string]*specSchema `json:"properties"`
	Items                *specSchema            `json:"items"`
	AnyOf                []*specSchema          `json:"anyOf"`
	AdditionalProperties json.RawMessage        `json:"additionalProperties"`
	Enum                 []any                  `json:"enum"`
	MaxLength            int                    `json:"maxLength"`
}

type specOperation struct {
	Parameters []struct {
		Name   string      `json:"name"`
		In     string      `json:"in"`
		Schema *specSchema `json:"schema"`
	} `json:"parameters"`
	RequestBody struct {
		Content map[string]struct {
			Schema *specSchema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type stripeSpec struct {
	Paths map[string]map[string]*specOperation `json:"paths"`
}

var (
	specOnce sync.Once
	specDoc  *stripeSpec
	specErr  error
)

// specAllowList holds parameters that are real but newer than stripe-mock's
// spec (API 2023-10-16 as of stripe-mock v0.180.0).
var specAllowList = map[string]string{
	// In stripe-go v76.25.0's CheckoutSessionPaymentMethodOptionsCardParams
	// and Stripe's API reference; added after stripe-mock's spec was cut.
	"payment_method_options[card][request_three_d_secure]": "any automatic challenge",
}

func loadStripeSpec() (*stripeSpec, error) {
	specOnce.Do(func() {
		version, err := stripemock.Version()
		if err != nil {
			specErr = err
			return
		}
		// go mod download prints the module's directory, downloading it
		// first if the cache lacks it. It runs outside any module so that
		// no go.mod or go.sum is touched.
		cmd := exec.Command("go", "mod", "download", "-json", "github.com/stripe/stripe-mock@"+version)
		cmd.Dir = os.TempDir()
		out, err := cmd.Output()
		if err != nil {
			specErr = fmt.Errorf("go mod download stripe-mock@%s: %w", version, err)
			return
		}
		var mod struct{ Dir string }
		if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
			specErr = fmt.Errorf("go mod download stripe-mock@%s: no directory in %q", version, out)
			return
		}
		path := filepath.Join(mod.Dir, "embedded", "openapi", "spec3.json")
		b, err := os.ReadFile(path)
		if err != nil {
			specErr = err
			return
		}
		var doc stripeSpec
		if err := json.Unmarshal(b, &doc); err != nil {
			specErr = err
			return
		}
		specDoc = &doc
	})
	return specDoc, specErr
}

var specTemplateRE = regexp.MustCompile(`\{[^}]+\}`)

// assertInSpec checks that every parameter of r exists in the spec of its
// endpoint, with an allowed value where the spec lists them.
func assertInSpec(t *testing.T, r recordedAPIRequest) {
	t.Helper()
	spec, err := loadStripeSpec()
	if err != nil {
		t.Fatalf("stripe-mock's OpenAPI spec not found (it comes with the pinned stripe-mock module): %v", err)
	}
	var op *specOperation
	for tmpl, ops := range spec.Paths {
		re := "^" + specTemplateRE.ReplaceAllString(tmpl, `[^/]+`) + "$"
		if ok, _ := regexp.MatchString(re, r.Path); ok && ops[strings.ToLower(r.Method)] != nil {
			op = ops[strings.ToLower(r.Method)]
			break
		}
	}
	require.NotNil(t, op, "%s %s is not an endpoint of Stripe's spec", r.Method, r.Path)

	var root *specSchema
	if r.Method == http.MethodPost {
		if c, ok := op.RequestBody.Content["application/x-www-form-urlencoded"]; ok {
			root = c.Schema
		}
	} else {
		root = &specSchema{Type: "object", Properties: map[string]*specSchema{}}
		for _, p := range op.Parameters {
			if p.In == "query" {
				root.Properties[p.Name] = p.Schema
			}
		}
	}
	require.NotNil(t, root, "%s %s has no parameters in the spec", r.Method, r.Path)

	for key, values := range r.Form {
		if allowed, ok := specAllowList[key]; ok {
			for _, v := range values {
				require.Contains(t, strings.Fields(allowed), v, "parameter %s", key)
			}
			continue
		}
		parts := splitFormKey(key)
		for _, v := range values {
			require.True(t, specAccepts(root, parts, v), "%s %s: parameter %s=%q is not in Stripe's spec", r.Method, r.Path, key, v)
		}
	}
}

// splitFormKey splits "a[b][0][c]" into a, b, 0, c.
func splitFormKey(key string) []string {
	first, rest, _ := strings.Cut(key, "[")
	parts := []string{first}
	if rest == "" {
		return parts
	}
	return append(parts, strings.Split(strings.TrimSuffix(rest, "]"), "][")...)
}

func specAccepts(s *specSchema, parts []string, value string) bool {
	if s == nil {
		return false
	}
	for _, alt := range s.AnyOf {
		if specAccepts(alt, parts, value) {
			return true
		}
	}
	if len(parts) == 0 {
		if len(s.AnyOf) > 0 && s.Type == "" {
			return false
		}
		if s.MaxLength > 0 && len([]rune(value)) > s.MaxLength {
			return false
		}
		if len(s.Enum) > 0 {
			for _, e := range s.Enum {
				if fmt.Sprint(e) == value {
					return true
				}
			}
			return false
		}
		switch s.Type {
		case "integer":
			_, err := strconv.ParseInt(value, 10, 64)
			return err == nil
		case "boolean":
			return value == "true" || value == "false"
		case "object", "array":
			return false
		}
		return true
	}
	switch {
	case s.Type == "array" || s.Items != nil:
		if _, err := strconv.Atoi(parts[0]); err != nil && parts[0] != "" {
			return false
		}
		return specAccepts(s.Items, parts[1:], value)
	case s.Properties[parts[0]] != nil:
		return specAccepts(s.Properties[parts[0]], parts[1:], value)
	case len(s.AdditionalProperties) > 0 && string(s.AdditionalProperties) != "false":
		var ap specSchema
		_ = json.Unmarshal(s.AdditionalProperties, &ap)
		return specAccepts(&ap, parts[1:], value)
	}
	return false
}

// TestSpecCheckCatchesWhatStripeMockMisses shows why assertInSpec exists:
// stripe-mock accepts a misspelt nested parameter, the spec check does not.
func TestSpecCheckCatchesWhatStripeMockMisses(t *testing.T) {
	mockURL := stripemock.URL(t)
	spec, err := loadStripeSpec()
	if err != nil {
		t.Fatalf("stripe-mock's OpenAPI spec not found (it comes with the pinned stripe-mock module): %v", err)
	}
	root := spec.Paths["/v1/checkout/sessions"]["post"].RequestBody.Content["application/x-www-form-urlencoded"].Schema
	for _, tt := range []struct {
		key, value string
		ok         bool
	}{
		{"payment_intent_data[capture_method]", "manual", true},
		{"payment_intent_data[captur_method]", "manual", false},
		{"line_items[3][price_data][recurring][interval_count]", "3", true},
		{"line_items[3][price_data][recurring][intervals]", "3", false},
		{"line_items[3][price_data][unit_amount]", "19.99", false},
		{"metadata[anything]", "x", true},
		{"subscription_data[metadata][order_id]", "order-1", true},
		{"mode", "payment", true},
		{"bogus", "1", false},
	} {
		assert.Equal(t, tt.ok, specAccepts(root, splitFormKey(tt.key), tt.value), "%s=%s", tt.key, tt.value)
	}
	assert.False(t, specAccepts(root, []string{"mode"}, "setupx"), "enum values are checked")
	assert.False(t, specAccepts(root, []string{"client_reference_id"}, strings.Repeat("x", 201)), "maxLength is checked")

	// stripe-mock itself lets the misspelt nested parameter through.
	rec := &apiRecorder{base: http.DefaultTransport}
	body := url.Values{"mode": {"payment"}, "payment_intent_data[captur_method]": {"manual"}}.Encode()
	req, err := http.NewRequest(http.MethodPost, mockURL+"/v1/checkout/sessions", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+testSK)
	resp, err := (&http.Client{Transport: rec}).Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "stripe-mock's nested validation; if this fails, stripe-mock got stricter")
}
