//go:build !linux

package sqlstore_test

// pgServer is a throwaway PostgreSQL server; only Linux starts one.
type pgServer struct{ dsn string }

func startPG(string) (*pgServer, error) {
	return nil, errPGUnsupported
}

func (*pgServer) stop() {}
