package stripemock

import (
	"os/exec"
	"syscall"
)

// setPdeathsig makes the kernel kill stripe-mock when the test binary dies,
// so that a crashed or killed test run leaves no server behind.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
