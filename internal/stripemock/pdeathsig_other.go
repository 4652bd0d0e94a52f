//go:build !linux

package stripemock

import "os/exec"

func setPdeathsig(*exec.Cmd) {}
