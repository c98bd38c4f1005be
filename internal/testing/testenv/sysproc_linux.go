package testenv

import (
	"os/exec"
	"syscall"
)

// SetProcAttrs puts the child in its own process group and asks the kernel to SIGKILL it when
// the thread that started it dies (the test binary exiting or being killed).
func SetProcAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// SignalGroup sends sig to the child's whole process group.
func SignalGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	return syscall.Kill(-cmd.Process.Pid, sig)
}
