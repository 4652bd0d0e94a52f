package stripegateway

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"
)

// Fuzz targets of the security-relevant inputs. Their seed corpora (f.Add
// below, and testdata/fuzz/<FuzzName>/) run in every `go test`; .ci/run
// fuzzes each for a bounded time. FuzzMinorUnits is in money_test.go, and
// webhook_test.go's FuzzVerifyAndParse decodes correctly signed random
// payloads; FuzzVerifyAndParseSignature here attacks the signature check.

// fuzzNow is the gateway clock of FuzzVerifyAndParseSignature.
var fuzzNow = time.Date(2023, 11, 15, 12, 0, 0, 0, time.UTC)

// webhookSentinels are the errors VerifyAndParse may return.
var webhookSentinels = []error{ErrInvalidSignature, ErrTimestampOutsideTolerance, ErrInvalidPayload, ErrLivemodeMismatch, ErrAPIVersionMismatch}

func isWebhookSentinel(err error) bool {
	for _, s := range webhookSentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// signedWith is an oracle independent of stripe-go and of webhook.go: it
// reports whether header carries, under its last t=, a v1 signature that
// is the HMAC-SHA256 of "t.payload" with one of the secrets, and returns
// that t.
func signedWith(payload []byte, header string, secrets []string) (time.Time, bool) {
	var t string
	var sigs []string
	for _, pair := range strings.Split(header, ",") {
		parts := strings.Split(pair, "=")
		if len(parts) != 2 {
			return time.Time{}, false
		}
		switch parts[0] {
		case "t":
			t = parts[1]
		case "v1":
			sigs = append(sigs, parts[1])
		}
	}
	ts, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	for _, secret := range secrets {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(strconv.FormatInt(ts, 10) + "."))
		mac.Write(payload)
		want := mac.Sum(nil)
		for _, s := range sigs {
			if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
				return time.Unix(ts, 0), true
			}
		}
	}
	return time.Time{}, false
}

// fuzzMutate returns body changed at pos: a flipped bit, an insertion, a
// deletion or a truncation. The result always differs from body.
func fuzzMutate(body []byte, pos uint32, insert []byte) []byte {
	i := int(pos % uint32(len(body)+1))
	out := append([]byte(nil), body[:i]...)
	switch {
	case len(insert) > 0 && pos&(1<<31) == 0: // insert
		out = append(out, insert...)
		return append(out, body[i:]...)
	case len(insert) > 0 && i < len(body): // delete
		return append(out, body[min(i+len(insert), len(body)):]...)
	case i < len(body): // flip one bit
		out = append(out, body[i:]...)
		out[i] ^= 1 << (pos >> 28 & 7)
		return out
	default: // truncate
		return body[:len(body)-1]
	}
}

func fuzzEvents(f *testing.F) [][]byte {
	entries, err := os.ReadDir(filepath.Join("testdata", "events"))
	require.NoError(f, err)
	var events [][]byte
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", "events", e.Name()))
		require.NoError(f, err)
		events = append(events, b)
	}
	require.NotEmpty(f, events)
	return events
}

// FuzzVerifyAndParseSignature attacks VerifyAndParse's signature and
// timestamp checks. For every input:
//
//   - random payloads and headers never panic, fail only with
//     VerifyAndParse's sentinels, and are accepted only when the header
//     carries a valid signature made with a configured secret (checked by
//     an independent HMAC oracle) within the tolerance;
//   - a valid event signed with a configured secret (current or previous)
//     at a fuzzed time verifies exactly when the time is within the
//     tolerance;
//   - the same event signed with another secret never verifies;
//   - the event's body mutated (bit flip, insertion, deletion, truncation)
//     under its valid header never verifies;
//   - the valid header with fuzzed text spliced in verifies only under the
//     oracle's conditions.
func FuzzVerifyAndParseSignature(f *testing.F) {
	events := fuzzEvents(f)
	cfg := validConfig()
	cfg.PreviousWebhookSecrets = []Secret{testWHSEC2}
	secrets := []string{testWHSEC, testWHSEC2}
	g, err := New(cfg, WithClock(func() time.Time { return fuzzNow }))
	require.NoError(f, err)
	tol := g.opts.webhook.tolerance

	valid := events[0]
	validHeader := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: valid, Secret: testWHSEC, Timestamp: fuzzNow}).Header
	hexSig := validHeader[strings.Index(validHeader, "v1=")+3:]
	now := strconv.FormatInt(fuzzNow.Unix(), 10)
	for i, s := range []struct {
		payload []byte
		header  string
		insert  []byte
		skew    int64
	}{
		{valid, validHeader, nil, 0},
		{valid, "t=" + now + ",v1=" + hexSig + ",t=" + now, []byte(" "), 300},
		{valid, "t=" + now + ",v1=" + strings.ToUpper(hexSig), []byte("\x00"), -300},
		{valid, "v1=" + hexSig + ",t=" + now, []byte(`"`), 301},
		{valid, "t=+" + now + ",v1=" + hexSig, []byte("whsec_"), -301},
		{valid, "t=0" + now + ",v0=" + hexSig + ",v1=" + hexSig, []byte("testsigningsecretvalue0001"), math.MaxInt64},
		{valid, "t=" + now + ",v1=" + hexSig + "=", []byte("previoussigningsecret00002"), math.MinInt64},
		{[]byte("{}"), "", nil, 1},
		{nil, "t=,v1=", nil, -1},
		{[]byte(" "), "t=1,v1=zz,v1=", []byte("{"), 2},
		{[]byte("null"), "t=99999999999999999999,v1=00", nil, 3},
		{valid, "t=1700049600,v1=" + strings.Repeat("0", 64), []byte(","), 4},
		{valid, strings.Repeat("t=1,", 100), []byte("=="), 5},
	} {
		f.Add(s.payload, s.header, uint64(i), uint32(i*977), s.insert, s.skew)
	}

	f.Fuzz(func(t *testing.T, payload []byte, header string, pick uint64, pos uint32, insert []byte, skew int64) {
		// Random payload and header.
		o, err := g.VerifyAndParse(payload, header)
		if err != nil {
			require.Nil(t, o)
			require.True(t, isWebhookSentinel(err), "unexpected error: %v", err)
		} else {
			signedAt, ok := signedWith(payload, header, secrets)
			require.True(t, ok, "accepted a payload not signed with a configured secret")
			require.LessOrEqual(t, fuzzNow.Sub(signedAt).Abs(), tol)
		}

		// A valid event, signed with a configured secret at a fuzzed time.
		body := events[pick%uint64(len(events))]
		secret := secrets[pick>>8&1]
		if skew%2 == 0 {
			skew = skew / 2 % 1200 // near the tolerance's edges
		}
		sec := fuzzNow.Unix() + skew
		if (skew > 0 && sec < fuzzNow.Unix()) || (skew < 0 && sec > fuzzNow.Unix()) {
			sec = fuzzNow.Unix() // overflow
		}
		signedAt := time.Unix(sec, 0)
		h := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: signedAt}).Header
		o, err = g.VerifyAndParse(body, h)
		if age := fuzzNow.Sub(signedAt); age >= -tol && age <= tol {
			require.NoError(t, err)
			require.NotEmpty(t, o.EventID)
		} else {
			require.ErrorIs(t, err, ErrTimestampOutsideTolerance)
			require.Nil(t, o)
		}

		// The event signed with another secret. HMAC pads short keys with
		// zero bytes, so a configured secret followed by NULs is the same
		// key: that is not another secret.
		other := "whsec_" + strings.TrimRight(string(insert), "\x00")
		if other != testWHSEC && other != testWHSEC2 {
			oh := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: other, Timestamp: fuzzNow}).Header
			o, err = g.VerifyAndParse(body, oh)
			require.ErrorIs(t, err, ErrInvalidSignature, "signed with %q", other)
			require.Nil(t, o)
		}

		// The event's body mutated under its valid header.
		h = webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: fuzzNow}).Header
		mutated := fuzzMutate(body, pos, insert)
		require.False(t, bytes.Equal(mutated, body))
		o, err = g.VerifyAndParse(mutated, h)
		require.ErrorIs(t, err, ErrInvalidSignature)
		require.Nil(t, o)

		// The valid header with fuzzed text spliced in.
		i := int(pos % uint32(len(h)+1))
		spliced := h[:i] + header + h[i:]
		o, err = g.VerifyAndParse(body, spliced)
		if err != nil {
			require.True(t, isWebhookSentinel(err), "unexpected error: %v", err)
			require.Nil(t, o)
		} else {
			at, ok := signedWith(body, spliced, secrets)
			require.True(t, ok, "accepted header %q", spliced)
			require.LessOrEqual(t, fuzzNow.Sub(at).Abs(), tol)
		}
	})
}

// fuzzCanary marks every secret in FuzzConfigValidate. It is made of
// upper-case letters that no escape sequence of %q produces, so it can only
// reach an error text by copying a secret, and it never fits in the four
// last characters that redaction shows.
const fuzzCanary = "QZJVWKXQ"

var fuzzKeyPrefixes = []string{"pk_test_", "pk_live_", "sk_test_", "sk_live_", "rk_test_", "rk_live_", "whsec_", ""}

// fuzzSecret is prefix + body with the canary in its middle.
func fuzzSecret(prefix, body string) Secret {
	return Secret(prefix + body[:len(body)/2] + fuzzCanary + body[len(body)/2:])
}

// fuzzAlnum keeps the ASCII letters and digits of s.
func fuzzAlnum(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, s)
}

func leaksCanary(s string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(fuzzCanary))
}

// FuzzConfigValidate checks that Config.Validate and ConfigFromLookup never
// panic, that every error is a *ConfigError matching ErrInvalidConfig, and
// that no secret shows up in an error, or in the Config printed, marshalled
// or logged: the key fields hold fuzzed secrets under every prefix
// (misplaced keys included), and a realistic secret may be pasted into a
// field that is echoed (Status, Mode) or not (DisplayName).
//
// sel picks, three bits each, the prefixes of PublishableKey, SecretKey,
// WebhookSecret and the previous secret, then where a realistic secret is
// pasted, whether Status and Mode are valid values, whether a key has
// surrounding whitespace, and whether there is a previous secret.
func FuzzConfigValidate(f *testing.F) {
	f.Add("Credit Card", "active", "test", "51Habcdefghijklmnopqrstuv", "51Hzyxwvutsrqponmlkjihgfe", "testsigningsecretvalue0001", "previous", "0.50", uint64(0)|2<<3|6<<6|6<<9|1<<15|1<<18)
	f.Add("", "", "", "", "", "", "", "", uint64(0))
	f.Add(" Card ", "Active", "LIVE", "x", "y", "z", "w", "-1", uint64(1|3<<3|2<<6|0<<9|1<<12|1<<16))
	f.Add("Card", "sk_live_", "rk_test_", "abc def", "a\nb", "+/=_-", "a,b", "1e-5", uint64(2|4<<3|7<<6|1<<9|2<<12|3<<13))
	f.Add(strings.Repeat("é", 101), "inactive", "test", "\x00\xff", "é", "", "", "NaN", uint64(7|7<<3|7<<6|7<<9|1<<15))
	f.Add("Card", "active", "live", "whsec_x", "sk_test_x", "pk_live_x", "rk_live_x", "", uint64(5|1<<3|3<<6|2<<9|1<<13|1<<15|1<<16|1<<17))

	fields := map[string]bool{"DisplayName": true, "MinimumAmount": true, "Status": true, "Mode": true,
		"PublishableKey": true, "SecretKey": true, "WebhookSecret": true, "PreviousWebhookSecrets": true}

	f.Fuzz(func(t *testing.T, displayName, status, mode, pkBody, skBody, whBody, prevBody, minimum string, sel uint64) {
		for _, s := range []string{displayName, status, mode, minimum} {
			if leaksCanary(s) {
				return // a non-secret field already holds the marker
			}
		}
		prefix := func(shift uint) string { return fuzzKeyPrefixes[sel>>shift&7] }
		cfg := Config{
			DisplayName:    displayName,
			Status:         Status(status),
			Mode:           Mode(mode),
			PublishableKey: fuzzSecret(prefix(0), pkBody),
			SecretKey:      fuzzSecret(prefix(3), skBody),
			WebhookSecret:  fuzzSecret(prefix(6), whBody),
		}
		if sel&(1<<16) == 0 {
			cfg.PreviousWebhookSecrets = []Secret{fuzzSecret(prefix(9), prevBody)}
		}
		realistic := fuzzSecret("sk_live_", fuzzAlnum(skBody))
		switch sel >> 13 & 3 {
		case 1:
			cfg.Status = Status(string(realistic))
		case 2:
			cfg.Mode = Mode(string(realistic))
		case 3:
			cfg.DisplayName = string(realistic)
		}
		if sel&(1<<15) != 0 {
			cfg.Status, cfg.Mode = StatusActive, ModeTest
			if sel&(1<<17) != 0 {
				cfg.Status, cfg.Mode = StatusInactive, ModeLive
			}
		}
		if sel&(1<<12) != 0 {
			cfg.SecretKey = " " + cfg.SecretKey + "\n"
		}
		if d, err := decimal.NewFromString(minimum); err == nil && d.Exponent() > -50 && d.Exponent() < 50 {
			cfg.MinimumAmount = d
		}
		// A valid publishable key is public by design: it may be shown.
		leaks := func(text string, c Config) bool {
			if parseKey(string(c.PublishableKey)).kind == keyPublishable {
				text = strings.ReplaceAll(text, string(c.PublishableKey), "")
			}
			return leaksCanary(text)
		}
		checkErr := func(err error, c Config) {
			if err == nil {
				return
			}
			require.ErrorIs(t, err, ErrInvalidConfig)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			require.NotEmpty(t, ce.Fields)
			for _, fe := range ce.Fields {
				require.True(t, fields[fe.Field], "unknown field %q", fe.Field)
				require.NotEmpty(t, fe.Message)
			}
			require.False(t, leaks(err.Error(), c), "a secret in the error: %s", err)
			require.False(t, leaks(fmt.Sprintf("%v|%+v|%#v|%q", err, err, err, err), c), "a secret in the formatted error")
		}
		checkPrinted := func(c Config) {
			j, err := json.Marshal(c)
			require.NoError(t, err)
			for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v|%+v|%#v|%s|%q|%x", c, c, c, c, c, c), string(j), fmt.Sprint(slog.AnyValue(c))} {
				require.False(t, leaks(s, c), "a secret in the printed Config: %s", s)
			}
		}

		checkErr(cfg.Validate(), cfg)
		checkErr(cfg.Normalize().Validate(), cfg.Normalize())
		checkPrinted(cfg)

		env := map[string]string{
			envDisplayName:    cfg.DisplayName,
			envStatus:         string(cfg.Status),
			envMode:           string(cfg.Mode),
			envPublishableKey: string(cfg.PublishableKey),
			envSecretKey:      string(cfg.SecretKey),
			envWebhookSecret:  joinSecrets(cfg.WebhookSecret, cfg.PreviousWebhookSecrets),
			envMinimumAmount:  minimum,
		}
		got, err := ConfigFromEnv(func(name string) string { return env[name] })
		checkErr(err, got)
		checkPrinted(got)
	})
}

// joinSecrets writes secrets as STRIPE_WEBHOOK_SECRET lists them.
func joinSecrets(first Secret, rest []Secret) string {
	all := []string{string(first)}
	for _, s := range rest {
		all = append(all, string(s))
	}
	return strings.Join(all, ",")
}
