package stripegateway

import (
	"regexp"
	"strings"
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

// redactKey shows a credential as its prefix and last four characters, e.g.
// "sk_test_…abcd". Values too short to keep four characters hidden, and values
// without a known prefix, show no characters of the secret at all.
func redactKey(s string) string {
	if s == "" {
		return ""
	}
	p := parseKey(s)
	prefix := p.prefix
	body := s[len(prefix):]
	if prefix == "" || len(body) < 12 {
		return prefix + "…"
	}
	return prefix + "…" + body[len(body)-4:]
}

// secretPattern matches anything that looks like a Stripe secret in free
// text: API keys (publishable ones too, in case of a mix-up), webhook secrets,
// and client secrets of PaymentIntents, SetupIntents and Checkout Sessions.
var secretPattern = regexp.MustCompile(`(?:[spr]k_(?:test|live)_|whsec_)[A-Za-z0-9+/=_-]*|[A-Za-z0-9_]*_secret_[A-Za-z0-9_]+`)

// redactText replaces every secret-looking token in s with its redacted form,
// and every run of 13 to 19 digits that passes the Luhn check (a card
// number, say in a host's callback error) with a placeholder.
func redactText(s string) string {
	s = redactCardNumbers(s)
	if !strings.Contains(s, "k_test_") && !strings.Contains(s, "k_live_") &&
		!strings.Contains(s, "whsec_") && !strings.Contains(s, "_secret_") {
		return s
	}
	return secretPattern.ReplaceAllStringFunc(s, func(tok string) string {
		if strings.Contains(tok, "_secret_") && !strings.HasPrefix(tok, "whsec_") {
			return "[redacted client secret]"
		}
		return redactKey(tok)
	})
}

// redactCardNumbers masks runs of 13 to 19 ASCII digits that pass the Luhn
// check. It allocates only when it masks something.
func redactCardNumbers(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if n := j - i; n >= 13 && n <= 19 && luhnValid(s[i:j]) {
			if b.Len() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last:i])
			b.WriteString("[redacted card number]")
			last = j
		}
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// luhnValid reports whether a string of digits passes the Luhn checksum.
func luhnValid(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
