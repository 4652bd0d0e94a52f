package main

import (
	"testing"

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
