package stripegateway

import (
	"os"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/b27de697/stripegateway/internal/stripemock"
)

// TestMain stops the package's shared stripe-mock after the tests.
func TestMain(m *testing.M) { os.Exit(stripemock.Main(m)) }

// Keys used across the tests. They have the shapes of real keys and are
// long enough to be redacted to their last four characters.
const (
	testPK     = "pk_test_51Habcdefghijklmnopqrstuv"
	testSK     = "sk_test_51Hzyxwvutsrqponmlkjihgfe"
	testRK     = "rk_test_51Hrestrictedkeyvaluexyz9"
	testWHSEC  = "whsec_xxxxxxtestsigningsecretvalue0001"
	testWHSEC2 = "whsec_xxxxxxprevioussigningsecret00002"
	livePK     = "pk_live_51Hlivepublishablekey12345"
	liveSK     = "sk_live_51Hlivesecretkeyvalue67890"
)

// validConfig is a complete, valid test-mode Config.
func validConfig() Config {
	return Config{
		DisplayName:    "Credit Card",
		MinimumAmount:  decimal.Zero,
		Status:         StatusActive,
		Mode:           ModeTest,
		PublishableKey: testPK,
		SecretKey:      testSK,
		WebhookSecret:  testWHSEC,
	}
}

// newMockGateway returns a gateway talking to the package's stripe-mock.
func newMockGateway(t testing.TB, cfg Config, opts ...Option) *Gateway {
	t.Helper()
	opts = append([]Option{WithAPIURL(stripemock.URL(t))}, opts...)
	g, err := New(cfg, opts...)
	require.NoError(t, err)
	return g
}

// fieldMessage returns the message of the named field of a ConfigError.
func fieldMessage(e *ConfigError, name string) (string, bool) {
	for _, f := range e.Fields {
		if f.Field == name {
			return f.Message, true
		}
	}
	return "", false
}

// len returns how many events the store holds, processed or in progress.
func (s *MemoryEventStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}
