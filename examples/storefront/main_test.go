package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/b27de697/stripegateway/examples/storefront/internal/shop"
)

func TestDBFlagWinsOverEnv(t *testing.T) {
	env := map[string]string{shop.EnvDB: "from-env.db", "ADDR": "127.0.0.1:0"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, path := range []string{"from-flag.db", ""} {
		got := withDB(lookup, path)
		if v, ok := got(shop.EnvDB); !ok || v != path {
			t.Errorf("-db %q: %s = %q, %v; want the flag's value", path, shop.EnvDB, v, ok)
		}
		if v, _ := got("ADDR"); v != "127.0.0.1:0" {
			t.Errorf("-db %q: ADDR = %q; want the environment's", path, v)
		}
	}
}

// TestBanner: a password made up for the run is printed once, with how to
// choose one's own; a password from the environment is never printed; the
// webhook secret never is.
func TestBanner(t *testing.T) {
	srv := &shop.Server{URL: "http://localhost:8080", Offline: true, AdminPassword: "abcdefghijkmnpqrstuv", AdminPasswordGenerated: true, WebhookSecret: "whsec_thesecretthatmustnotshow000000000"}
	var b bytes.Buffer
	printBanner(&b, srv)
	out := b.String()
	assert.Equal(t, 1, strings.Count(out, "abcdefghijkmnpqrstuv"), out)
	assert.Contains(t, out, "set "+shop.EnvAdminPassword+" to choose your own")
	assert.Contains(t, out, "http://localhost:8080/stripe-sim/")
	assert.NotContains(t, out, "whsec_")

	srv.AdminPassword, srv.AdminPasswordGenerated = "from the environment", false
	b.Reset()
	printBanner(&b, srv)
	assert.NotContains(t, b.String(), "from the environment")
	assert.Contains(t, b.String(), "the one in "+shop.EnvAdminPassword)
}
