//go:build !linux

package pgtest

// Server is a throwaway PostgreSQL server; only Linux starts one.
type Server struct {
	// DSN is the server's data source name.
	DSN string
}

// Start returns ErrUnsupported.
func Start(string) (*Server, error) { return nil, ErrUnsupported }

// Stop does nothing.
func (*Server) Stop() {}

// Crash returns ErrUnsupported.
func (*Server) Crash() error { return ErrUnsupported }

// Restart returns ErrUnsupported.
func (*Server) Restart() error { return ErrUnsupported }
