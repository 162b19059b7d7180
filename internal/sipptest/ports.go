package sipptest

import (
	"net"
	"testing"
)

// FreeUDPPort returns a loopback UDP port free at the time of the call.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// MediaPort returns a base for SIPp's -mp: SIPp binds that port and the three
// above it (audio RTP and RTCP, video RTP and RTCP), so all four must be free,
// not only the first (a taken video port fails SIPp at start).
func MediaPort(t testing.TB) int {
	t.Helper()
	for range 100 {
		base := FreeUDPPort(t) &^ 3
		var held []*net.UDPConn
		for p := base; p < base+4; p++ {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if len(held) == 4 {
			return base
		}
	}
	t.Fatal("no four free UDP ports in a row for SIPp's media")
	return 0
}
