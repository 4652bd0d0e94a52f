// Package redact hides Stripe secrets and card numbers in text, and bounds
// text on a rune boundary. The gateway, its SQL store and its test kit share
// it, so that there is one rule for what counts as a secret.
package redact

import (
	"regexp"
	"strings"
)

// prefixes are the prefixes of Stripe's credentials.
var prefixes = []string{"pk_test_", "pk_live_", "sk_test_", "sk_live_", "rk_test_", "rk_live_", "whsec_"}

// Key shows a credential as its prefix and last four characters, e.g.
// "sk_test_…abcd". Values too short to keep four characters hidden, and
// values without a known prefix, show no character of the secret at all.
func Key(s string) string {
	if s == "" {
		return ""
	}
	prefix := ""
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			prefix = p
			break
		}
	}
	body := s[len(prefix):]
	if prefix == "" || len(body) < 12 {
		return prefix + "…"
	}
	return prefix + "…" + body[len(body)-4:]
}

// secretPattern matches anything that looks like a Stripe secret in free
// text: API keys (publishable ones too, in case of a mix-up), webhook
// secrets, and client secrets of PaymentIntents, SetupIntents and Checkout
// Sessions. A key already redacted by Key (sk_live_…abcd) matches too, and
// is left as it is.
var secretPattern = regexp.MustCompile(`(?:[spr]k_(?:test|live)_|whsec_)…?[A-Za-z0-9+/=_-]*|[A-Za-z0-9_]*_secret_[A-Za-z0-9_]+`)

// Text replaces every secret-looking token in s with its redacted form
// (Key), every client secret with a placeholder, and every run of 13 to 19
// digits that passes the Luhn check (a card number, say in a host's
// callback error) with a placeholder. It allocates only when it changes s.
func Text(s string) string {
	s = cardNumbers(s)
	if !strings.Contains(s, "k_test_") && !strings.Contains(s, "k_live_") &&
		!strings.Contains(s, "whsec_") && !strings.Contains(s, "_secret_") {
		return s
	}
	return secretPattern.ReplaceAllStringFunc(s, func(tok string) string {
		if _, last4, ok := strings.Cut(tok, "…"); ok && len(last4) <= 4 {
			return tok // already redacted
		}
		if strings.Contains(tok, "_secret_") && !strings.HasPrefix(tok, "whsec_") {
			return "[redacted client secret]"
		}
		return Key(tok)
	})
}

// cardNumbers masks runs of 13 to 19 ASCII digits that pass the Luhn
// check. It allocates only when it masks something.
func cardNumbers(s string) string {
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
		if n := j - i; n >= 13 && n <= 19 && Luhn(s[i:j]) {
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

// Luhn reports whether a non-empty string of ASCII digits passes the Luhn
// checksum, as card numbers do. Anything but digits fails.
func Luhn(digits string) bool {
	if digits == "" {
		return false
	}
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		if !isDigit(digits[i]) {
			return false
		}
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

// Limit shortens s to at most n bytes, cut on a rune boundary, ending with
// "…" when anything was cut. s is returned as is when it fits.
func Limit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	n -= len(ellipsis)
	if n < 0 {
		n = 0
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + ellipsis
}
