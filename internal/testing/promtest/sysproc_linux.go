package promtest

import (
	"os/exec"
	"syscall"
)

// setProcAttrs asks the kernel to SIGKILL Prometheus when the thread that
// started it dies (the test binary exiting or being killed).
func setProcAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
