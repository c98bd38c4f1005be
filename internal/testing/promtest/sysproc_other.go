//go:build !linux

package promtest

import "os/exec"

func setProcAttrs(cmd *exec.Cmd) {}
