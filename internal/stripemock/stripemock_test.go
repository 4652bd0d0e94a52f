package stripemock

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// fakeBuild stands in for go build: it writes an empty file and counts the
// builds.
func fakeBuild(t *testing.T) *int {
	t.Helper()
	n := 0
	old := build
	build = func(_ context.Context, _, out string) ([]byte, error) {
		n++
		return nil, os.WriteFile(out, []byte("#!/bin/sh\n"), 0o755)
	}
	t.Cleanup(func() { build = old })
	return &n
}

// A first run says, once, that stripe-mock is being built and how long that
// takes; a run that finds it cached says nothing.
func TestBinaryAnnouncesABuildOnce(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	builds := fakeBuild(t)
	var msgs []string
	logf := func(format string, args ...any) { msgs = append(msgs, fmt.Sprintf(format, args...)) }

	bin, err := Binary(context.Background(), logf)
	if err != nil {
		t.Fatal(err)
	}
	if *builds != 1 {
		t.Fatalf("%d builds, want 1", *builds)
	}
	if len(msgs) != 2 || !strings.Contains(msgs[0], "building stripe-mock") || !strings.Contains(msgs[0], "takes about a minute") || !strings.Contains(msgs[1], "built stripe-mock") {
		t.Fatalf("messages of a first build: %q", msgs)
	}

	msgs = nil
	again, err := Binary(context.Background(), logf)
	if err != nil || again != bin {
		t.Fatalf("Binary again = %q, %v; want %q", again, err, bin)
	}
	if *builds != 1 || len(msgs) != 0 {
		t.Fatalf("a cached binary: %d builds, messages %q; want none", *builds, msgs)
	}
}

// Without logf, the messages go to standard error.
func TestBinaryAnnouncesToStderr(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	fakeBuild(t)
	var buf bytes.Buffer
	old := stderr
	stderr = &buf
	t.Cleanup(func() { stderr = old })
	if _, err := Binary(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); strings.Count(got, "building stripe-mock") != 1 || !strings.HasSuffix(got, "\n") {
		t.Fatalf("standard error: %q", got)
	}
	buf.Reset()
	if _, err := Binary(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Fatalf("a cached binary wrote %q", buf.String())
	}
}
