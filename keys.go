package stripegateway

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/b27de697/stripegateway/internal/redact"
)

// keyKind is what a Stripe credential is, judged by its prefix.
type keyKind int

const (
	keyUnknown keyKind = iota
	keyPublishable
	keySecret
	keyRestricted
	keyWebhookSecret
)

func (k keyKind) String() string {
	switch k {
	case keyPublishable:
		return "publishable key"
	case keySecret:
		return "secret key"
	case keyRestricted:
		return "restricted key"
	case keyWebhookSecret:
		return "webhook signing secret"
	}
	return "unrecognised value"
}

// parsedKey is a credential's kind and mode. A webhook secret has no mode.
type parsedKey struct {
	kind   keyKind
	mode   Mode // ModeTest, ModeLive, or "" when unknown or not applicable
	prefix string
	body   string
}

var keyPrefixes = []struct {
	prefix string
	kind   keyKind
	mode   Mode
}{
	{"pk_test_", keyPublishable, ModeTest},
	{"pk_live_", keyPublishable, ModeLive},
	{"sk_test_", keySecret, ModeTest},
	{"sk_live_", keySecret, ModeLive},
	{"rk_test_", keyRestricted, ModeTest},
	{"rk_live_", keyRestricted, ModeLive},
	{"whsec_", keyWebhookSecret, ""},
}

// parseKey recognises a Stripe credential by its prefix. The body after the
// prefix must be non-empty and made only of ASCII letters and digits (the
// characters Stripe uses); anything else is keyUnknown.
func parseKey(s string) parsedKey {
	for _, p := range keyPrefixes {
		if strings.HasPrefix(s, p.prefix) {
			body := s[len(p.prefix):]
			if body == "" || !isKeyBody(body, p.kind == keyWebhookSecret) {
				return parsedKey{kind: keyUnknown, prefix: p.prefix, body: body}
			}
			return parsedKey{kind: p.kind, mode: p.mode, prefix: p.prefix, body: body}
		}
	}
	return parsedKey{kind: keyUnknown}
}

func isKeyBody(s string, webhook bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case webhook && (c == '+' || c == '/' || c == '=' || c == '_' || c == '-'):
			// Older CLI-generated secrets use base64 characters.
		default:
			return false
		}
	}
	return true
}

// Secret holds a Stripe credential: an API key (sk_…, rk_…, pk_…) or a
// webhook signing secret (whsec_…). It prints, logs and marshals redacted,
// as its prefix and last four characters ("sk_test_…abcd"), at every fmt
// verb, through encoding/json and through log/slog, so that a Config or an
// error that holds one can be shown safely. (A Config shows a well-formed
// publishable key whole, since it is public by design.)
//
// Read the value itself with string(s). The zero value is the empty
// credential. Secret has no String method: every fmt verb, %s and %v
// included, goes through Format.
type Secret string

// redacted returns the redacted form of s.
func (s Secret) redacted() string { return redact.Key(string(s)) }

// public returns a well-formed publishable key whole, since it is public by
// design, and anything else redacted.
func (s Secret) public() string {
	if parseKey(string(s)).kind == keyPublishable {
		return string(s)
	}
	return s.redacted()
}

// Format implements fmt.Formatter: every verb prints the redacted form, %q
// and %#v quoted. log/slog's handlers print through it too.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' || (verb == 'v' && f.Flag('#')) {
		_, _ = io.WriteString(f, strconv.Quote(s.redacted()))
		return
	}
	_, _ = io.WriteString(f, s.redacted())
}

// MarshalJSON encodes the redacted form as a JSON string: the JSON form is
// for display and logs, not for storage.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.redacted()) }
