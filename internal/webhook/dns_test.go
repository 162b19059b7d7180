package webhook_test

import (
	"context"
	"net"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// nxdomainServer answers every DNS query on a loopback UDP socket with
// NXDOMAIN (RFC 1035 section 4.1.1, RCODE 3), so name resolution is tested
// without leaving the machine.
func nxdomainServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 512)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			resp := append([]byte(nil), buf[:n]...)
			resp[2] = 0x80 | (buf[2] & 0x79) | 0x04 // QR, opcode and RD kept, AA
			resp[3] = 0x80 | 0x03                   // RA, RCODE=NXDOMAIN
			resp[6], resp[7], resp[8], resp[9], resp[10], resp[11] = 0, 0, 0, 0, 0, 0
			pc.WriteTo(resp, addr)
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().String()
}

func TestFetchUnresolvableHostThroughDNS(t *testing.T) {
	dnsAddr := nxdomainServer(t)
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", dnsAddr)
	}}
	c := newClient(t, webhook.Config{Resolver: r})
	_, err := c.Fetch(context.Background(), webhook.Request{URL: "http://no-such-app.example.com/voice"})
	if code(err) != webhook.CodeBadHostName {
		t.Fatalf("err = %v, want 11210", err)
	}
}
