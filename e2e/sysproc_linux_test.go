package e2e

import (
	"os/exec"
	"syscall"
)

// setProcAttrs asks the kernel to SIGKILL the child when the thread that
// started it dies, so no exporter outlives a crashed or timed-out test binary.
func setProcAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
