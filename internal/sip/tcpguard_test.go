package sip_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchboard-voice/switchboard/internal/sip"
	"github.com/switchboard-voice/switchboard/internal/softphone"
)

// dialTCP opens a raw TCP connection to the server, closed when the test ends.
func dialTCP(t *testing.T, srv *sip.Server) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", srv.Addr().String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitClosed waits up to d for the server to close c: a read that returns
// EOF (or a reset). It returns how long that took.
func waitClosed(t *testing.T, c net.Conn, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		switch {
		case err == nil:
			continue // a response, a pong: keep reading
		case errors.Is(err, os.ErrDeadlineExceeded):
			t.Fatalf("connection %s still open after %v", c.LocalAddr(), d)
		case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset"):
			return time.Since(start)
		default:
			t.Fatalf("read: %v", err)
		}
	}
}

// stillOpen asserts that the server does not close c within d.
func stillOpen(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("connection closed early: %v", err)
		}
		return
	}
}

// tcpOptions sends an OPTIONS over a raw TCP connection and reads its
// response.
func tcpOptions(t *testing.T, c net.Conn, r *bufio.Reader) *gosip.Response {
	t.Helper()
	local := c.LocalAddr().String()
	msg := fmt.Sprintf("OPTIONS sip:%s;transport=tcp SIP/2.0\r\n"+
		"Via: SIP/2.0/TCP %s;branch=z9hG4bK-tcp-%d\r\n"+
		"From: <sip:probe@%s>;tag=tcp%d\r\nTo: <sip:%s>\r\n"+
		"Call-ID: tcp-%d@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		c.RemoteAddr(), local, rawSeq.Add(1), local, rawSeq.Add(1), c.RemoteAddr(), rawSeq.Add(1))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	tp := textproto.NewReader(r)
	start, err := tp.ReadLine()
	if err != nil {
		t.Fatalf("reading the response to OPTIONS: %v", err)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("reading the response headers: %v", err)
	}
	n, _ := strconv.Atoi(hdr.Get("Content-Length"))
	if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
		t.Fatal(err)
	}
	res, err := gosip.ParseMessage([]byte(start + "\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatalf("response %q: %v", start, err)
	}
	return res.(*gosip.Response)
}

// Connections that never send a complete message are closed after the
// handshake timeout; the server goes on answering calls over TCP and UDP.
func TestTCPHandshakeTimeout(t *testing.T) {
	const handshake = 300 * time.Millisecond
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		if leg, err := call.Answer(ctx); err == nil {
			_ = leg.Hangup(ctx)
		}
	}), serverOpts{cfg: func(c *sip.Config) {
		c.TCPHandshakeTimeout = handshake
		c.TCPIdleTimeout = 10 * time.Second
	}})

	var conns []net.Conn
	opened := time.Now()
	for i := 0; i < 20; i++ {
		c := dialTCP(t, srv)
		if i%2 == 1 {
			// Half a message: no end of the header block.
			if _, err := c.Write([]byte("INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1\r\n")); err != nil {
				t.Fatal(err)
			}
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		waitClosed(t, c, 5*time.Second)
	}
	if took := time.Since(opened); took < handshake {
		t.Errorf("all closed %v after they opened, before the handshake timeout %v", took, handshake)
	}

	phone := startPhone(t)
	for _, transport := range []string{"tcp", "udp"} {
		res, err := phone.Call(testContext(t, 10*time.Second), softphone.Options{
			URI: "sip:+14155550100@" + srv.Addr().String() + ";transport=" + transport,
		})
		if err != nil || !res.Answered {
			t.Fatalf("call over %s after the timeouts: %+v, %v", transport, res, err)
		}
	}
}

// A connection that sent a complete request and then went quiet lives the
// idle timeout from its last traffic, and no longer.
func TestTCPIdleTimeout(t *testing.T) {
	const idle = 800 * time.Millisecond
	srv := startServer(t, nil, serverOpts{cfg: func(c *sip.Config) {
		c.TCPHandshakeTimeout = 200 * time.Millisecond
		c.TCPIdleTimeout = idle
	}})
	c := dialTCP(t, srv)
	r := bufio.NewReader(c)
	// Past the handshake timeout, but traffic keeps it open. The server's
	// last traffic is after the last request was sent: the idle time is
	// counted from then at the earliest.
	var last time.Time
	for i := 0; i < 3; i++ {
		last = time.Now()
		if res := tcpOptions(t, c, r); res.StatusCode != 200 {
			t.Fatalf("OPTIONS over TCP: %d", res.StatusCode)
		}
		stillOpen(t, c, idle/3)
	}
	stillOpen(t, c, idle/3)
	waitClosed(t, c, 5*time.Second)
	if took := time.Since(last); took < idle {
		t.Fatalf("idle connection closed %v after its last traffic, want %v or more", took, idle)
	}
}

// Connections over the caps are closed as they are accepted; those under
// them stay.
func TestTCPConnectionCaps(t *testing.T) {
	for _, tc := range []struct {
		name  string
		perIP int
		total int
	}{
		{"per address", 3, -1},
		{"in total", -1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, nil, serverOpts{cfg: func(c *sip.Config) {
				c.MaxTCPConnsPerIP = tc.perIP
				c.MaxTCPConns = tc.total
			}})
			var kept []net.Conn
			for i := 0; i < 3; i++ {
				c := dialTCP(t, srv)
				r := bufio.NewReader(c)
				if res := tcpOptions(t, c, r); res.StatusCode != 200 {
					t.Fatalf("OPTIONS over connection %d: %d", i, res.StatusCode)
				}
				kept = append(kept, c)
			}
			for i := 0; i < 3; i++ {
				over := dialTCP(t, srv)
				// Refused at once: long before the 30 s handshake timeout.
				waitClosed(t, over, 3*time.Second)
			}
			for _, c := range kept {
				stillOpen(t, c, 50*time.Millisecond)
			}
			// A place freed is taken again.
			kept[0].Close()
			for deadline := time.Now().Add(5 * time.Second); ; {
				c := dialTCP(t, srv)
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Write([]byte("OPTIONS")); err == nil {
					if _, err := c.Write([]byte(" sip:x SIP/2.0\r\n")); err == nil {
						_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
						if _, err := c.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
							break // accepted: the server waits for the rest
						}
					}
				}
				c.Close()
				if time.Now().After(deadline) {
					t.Fatal("no connection accepted after one closed")
				}
			}
		})
	}
}
