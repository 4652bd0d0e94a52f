package redact

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"sk_test_51Hzyxwvutsrqponmlkjihgfe", "sk_test_…hgfe"},
		{"rk_live_51Habcdefghijklmn1234", "rk_live_…1234"},
		{"whsec_xxxxxxxxxxxxabcdefghijklmnop5678", "whsec_…5678"},
		{"sk_test_short", "sk_test_…"},
		{"not-a-key-at-all-but-long", "…"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Key(tt.in), tt.in)
	}
}

func TestTextMasksCardNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"card 4242424242424242 declined", "card [redacted card number] declined"},
		{"4000000000000002", "[redacted card number]"},
		{"two 4000002500003155/5555555555554444.", "two [redacted card number]/[redacted card number]."},
		{"not luhn 4242424242424241", "not luhn 4242424242424241"},
		{"too short 424242424242", "too short 424242424242"},
		{"evt_1700000000 amount 1999", "evt_1700000000 amount 1999"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Text(tt.in), tt.in)
	}
}

func TestTextRedactsSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"key sk_test_51Hzyxwvutsrqponmlkjihgfe here", "key sk_test_…hgfe here"},
		{"whsec_xxxxxxxxxxxxabcdefghijklmnop5678", "whsec_…5678"},
		{"pi_3Abc_secret_xyz123", "[redacted client secret]"},
		{"already sk_live_…abcd", "already sk_live_…abcd"},
		{"nothing to see", "nothing to see"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Text(tt.in), tt.in)
	}
}

func TestLuhn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"4242424242424242", true},
		{"4000000000000002", true},
		{"4242424242424241", false},
		{"", false},
		{"42424242x4242424", false},
		{"0", true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Luhn(tt.in), tt.in)
	}
}

func TestLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"0123456789abc", 10, "0123456…"},
		{"ééééé", 6, "é…"}, // never splits a two-byte rune
		{"abc", 0, "…"},
	}
	for _, tt := range tests {
		got := Limit(tt.in, tt.n)
		assert.Equal(t, tt.want, got, "%q %d", tt.in, tt.n)
		assert.True(t, utf8.ValidString(got))
	}
}
