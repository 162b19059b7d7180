package sipptest

import (
	"net"
	"testing"
)

// The four ports from MediaPort's base can all be bound.
func TestMediaPortFourFree(t *testing.T) {
	base := MediaPort(t)
	if base%4 != 0 {
		t.Fatalf("base %d is not a multiple of 4", base)
	}
	for p := base; p < base+4; p++ {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err != nil {
			t.Fatalf("port %d: %v", p, err)
		}
		c.Close()
	}
}
