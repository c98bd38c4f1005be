//go:build !linux

package e2e

import "os/exec"

// setProcAttrs is a no-op off Linux: children are killed at t.Cleanup.
func setProcAttrs(*exec.Cmd) {}
