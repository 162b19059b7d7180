//go:build !unix

package store

import "syscall"

// helperProcAttr: no process groups here.
func helperProcAttr() *syscall.SysProcAttr { return nil }
