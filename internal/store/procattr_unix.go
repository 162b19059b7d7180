//go:build unix

package store

import "syscall"

// helperProcAttr puts the checkpoint helper in a process group of its own:
// a terminal's Ctrl-C reaches the server only, which then stops the helper.
func helperProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
