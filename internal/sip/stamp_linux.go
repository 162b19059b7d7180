package sip

import (
	"syscall"
	"unsafe"
)

// enableStamps asks the kernel for each datagram's receive time
// (SO_TIMESTAMPNS).
func enableStamps(fd uintptr) {
	_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
}

// rxTime is the SCM_TIMESTAMPNS among a datagram's control messages, in
// UnixNano; 0 without one.
func rxTime(oob []byte) int64 {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SCM_TIMESTAMPNS &&
			uintptr(len(m.Data)) >= unsafe.Sizeof(syscall.Timespec{}) {
			return (*syscall.Timespec)(unsafe.Pointer(&m.Data[0])).Nano()
		}
	}
	return 0
}
