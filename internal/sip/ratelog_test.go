package sip_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/sip"
)

// logCapture is a slog handler that keeps every line, as text.
type logCapture struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
	h   slog.Handler
}

func newLogCapture() *logCapture {
	c := &logCapture{mu: &sync.Mutex{}, buf: &bytes.Buffer{}}
	c.h = slog.NewTextHandler(c.buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	return c
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }

func (c *logCapture) Handle(ctx context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.h.Handle(ctx, r)
}

func (c *logCapture) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logCapture{mu: c.mu, buf: c.buf, h: c.h.WithAttrs(attrs)}
}

func (c *logCapture) WithGroup(name string) slog.Handler {
	return &logCapture{mu: c.mu, buf: c.buf, h: c.h.WithGroup(name)}
}

// lines returns the lines at WARN or above that contain s.
func (c *logCapture) lines(s string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range strings.Split(c.buf.String(), "\n") {
		if strings.Contains(l, s) && (strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR")) {
			out = append(out, l)
		}
	}
	return out
}

// A flood of unparseable datagrams from one source is logged once per
// interval, truncated, with the count of those held back in the next line.
func TestUnparseableLogRateLimited(t *testing.T) {
	logs := newLogCapture()
	fake := clock.NewFake(time.Now())
	srv := startServer(t, nil, serverOpts{cfg: func(c *sip.Config) {
		c.Logger = slog.New(logs)
		c.Clock = fake
	}})
	p := newUDPPeer(t, srv.Addr())
	// Not a SIP start line; control characters and a long tail.
	garbage := "GARBAGE-FLOOD \x1b[31m\x00 not sip\r\n" + strings.Repeat("X\x01", 300) + "\r\n\r\n"
	options := func() {
		t.Helper()
		// An OPTIONS answered means every datagram sent before it was read:
		// sipgo reads a UDP socket in order, on one goroutine.
		a := p.conn.LocalAddr().String()
		p.send("OPTIONS sip:" + srv.Addr().String() + " SIP/2.0\r\nVia: SIP/2.0/UDP " + a + ";branch=z9hG4bK-flood-" + time.Now().Format("150405.000000000") +
			"\r\nFrom: <sip:p@" + a + ">;tag=f\r\nTo: <sip:s@" + srv.Addr().String() + ">\r\nCall-ID: flood@p\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
		if res := p.one(5 * time.Second); res.StatusCode != 200 {
			t.Fatalf("OPTIONS after the flood: %d", res.StatusCode)
		}
	}
	for i := 0; i < 1000; i++ {
		p.send(garbage)
		if i%50 == 49 {
			options() // paced, so that the socket's buffer does not drop them
		}
	}
	lines := logs.lines("GARBAGE-FLOOD")
	if len(lines) != 1 {
		t.Fatalf("%d lines logged for 1000 unparseable datagrams from one source, want 1:\n%s", len(lines), strings.Join(lines[:min(3, len(lines))], "\n"))
	}
	fake.Advance(10 * time.Second)
	p.send(garbage)
	options()
	lines = logs.lines("GARBAGE-FLOOD")
	if len(lines) != 2 {
		t.Fatalf("%d lines after the interval, want 2", len(lines))
	}
	for _, l := range lines {
		if len(l) > 1024 {
			t.Errorf("line of %d bytes, want at most 1 KB: %.200s...", len(l), l)
		}
		if strings.ContainsAny(l, "\x1b\x00\x01") {
			t.Errorf("control characters logged as they are: %q", l)
		}
		if !strings.Contains(l, "source="+p.conn.LocalAddr().String()) {
			t.Errorf("line does not name the source %s: %s", p.conn.LocalAddr(), l)
		}
	}
	if !strings.Contains(lines[1], "suppressed=999") {
		t.Errorf("second line does not count the 999 held back: %s", lines[1])
	}
}

// Unparseable messages over TCP close their connection, and are logged at
// most once per interval however many connections send them.
func TestUnparseableTCPLogRateLimited(t *testing.T) {
	logs := newLogCapture()
	srv := startServer(t, nil, serverOpts{cfg: func(c *sip.Config) { c.Logger = slog.New(logs) }})
	for i := 0; i < 20; i++ {
		c := dialTCP(t, srv)
		if _, err := c.Write([]byte("GARBAGE-TCP \x1b[31m not sip\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, c, 5*time.Second)
	}
	lines := logs.lines("GARBAGE-TCP")
	if len(lines) != 1 {
		t.Fatalf("%d lines logged for 20 connections sending garbage, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if strings.Contains(lines[0], "\x1b") {
		t.Errorf("control characters logged as they are: %q", lines[0])
	}
}
