package skipnote

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// toGoCommand writes text to the output of the go command running this
// test binary, and reports whether it did. It writes to the go command's
// standard output if that is a terminal, a pipe or a file opened for
// appending, else to its standard error on the same terms (a line written
// into a file the go command writes at its own offset would be overwritten),
// else to the terminal.
func toGoCommand(text string) bool {
	ppid := os.Getppid()
	proc := "/proc/" + strconv.Itoa(ppid)
	exe, err := os.Readlink(proc + "/exe")
	if err != nil {
		return false
	}
	if base := strings.TrimSuffix(filepath.Base(exe), ".exe"); base != "go" {
		return false // not run by go test (by hand, or with go test -exec)
	}
	for _, fd := range []string{"1", "2"} {
		if !safeTarget(proc, fd) {
			continue
		}
		f, err := os.OpenFile(proc+"/fd/"+fd, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			continue
		}
		_, err = f.WriteString(text)
		_ = f.Close()
		if err == nil {
			return true
		}
	}
	// Both are plain files (go test >file 2>&1): the terminal, if any.
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	defer tty.Close()
	_, err = tty.WriteString(text)
	return err == nil
}

// safeTarget reports whether the go command's file descriptor fd can be
// written to by another process without the go command overwriting it.
func safeTarget(proc, fd string) bool {
	fi, err := os.Stat(proc + "/fd/" + fd)
	if err != nil {
		return false
	}
	if !fi.Mode().IsRegular() {
		return fi.Mode()&(os.ModeNamedPipe|os.ModeCharDevice|os.ModeSocket) != 0
	}
	info, err := os.ReadFile(proc + "/fdinfo/" + fd)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			return err == nil && flags&syscall.O_APPEND != 0
		}
	}
	return false
}
