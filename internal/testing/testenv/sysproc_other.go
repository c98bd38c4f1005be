//go:build !linux

package testenv

import (
	"os/exec"
	"syscall"
)

// SetProcAttrs: process groups and Pdeathsig are Linux-only.
func SetProcAttrs(cmd *exec.Cmd) {}

// SignalGroup signals the child only.
func SignalGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Signal(sig)
}
