package sip

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// Logs driven by what the network sends are rate-limited: one line per
// source and interval at most, the next line saying how many were held back.
// Otherwise whoever sends garbage decides how much the server logs.

const (
	// rateLogInterval is how often a line about one source may be logged.
	rateLogInterval = 10 * time.Second
	// rateLogKeys bounds the sources remembered; beyond it (spoofed sources
	// by the thousand) the rest share one line per interval.
	rateLogKeys = 4096
	// logDataMax is how many bytes of a message a log line quotes.
	logDataMax = 256
	// logErrMax is how many bytes of an error text a log line quotes.
	logErrMax = 160
)

// rateLog decides which of the lines about a key (a source address) get
// logged: the first of each interval.
type rateLog struct {
	clock clock.Clock
	every time.Duration

	// mu guards the fields below.
	mu     sync.Mutex
	keys   map[string]*rateEntry
	pruned time.Time // when keys was last pruned
}

type rateEntry struct {
	at         time.Time // when the last line was logged
	suppressed int       // lines held back since
}

func newRateLog(clk clock.Clock, every time.Duration) *rateLog {
	return &rateLog{clock: clk, every: every, keys: make(map[string]*rateEntry)}
}

// allow reports whether a line about key may be logged now and, if so, how
// many were held back since the last one.
func (r *rateLog) allow(key string) (ok bool, suppressed int) {
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.keys[key]
	if e == nil {
		if len(r.keys) >= rateLogKeys && now.Sub(r.pruned) >= r.every {
			r.pruneLocked(now)
			r.pruned = now
		}
		if len(r.keys) >= rateLogKeys {
			key = "*"
			e = r.keys[key]
		}
	}
	if e == nil {
		r.keys[key] = &rateEntry{at: now}
		return true, 0
	}
	if now.Sub(e.at) < r.every {
		e.suppressed++
		return false, 0
	}
	suppressed = e.suppressed
	e.at, e.suppressed = now, 0
	return true, suppressed
}

// pruneLocked forgets the keys whose interval is over (and the count of
// lines they held back).
func (r *rateLog) pruneLocked(now time.Time) {
	for k, e := range r.keys {
		if now.Sub(e.at) >= r.every && k != "*" {
			delete(r.keys, k)
		}
	}
}

// printable makes network bytes safe for a log line: at most max bytes,
// control characters other than CR, LF and tab and non-ASCII bytes shown as
// '.', so that a line never grows past about twice max once quoted.
func printable(s string, max int) string {
	cut := len(s) > max
	if cut {
		s = s[:max]
	}
	var b strings.Builder
	b.Grow(len(s) + 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c > 0x7e {
			c = '.'
		}
		b.WriteByte(c)
	}
	if cut {
		b.WriteString("...")
	}
	return b.String()
}

// sipgoLogHandler is the slog handler of sipgo's logs. It passes everything on,
// except the "failed to parse" lines of its transports, which carry the whole
// message at ERROR: those become one WARN line per source and interval, with
// the message truncated (see Server.logUnparseable).
type sipgoLogHandler struct {
	next slog.Handler
	s    *Server
	// transport is "UDP" or "TCP" for the loggers of sipgo's transports
	// (they are derived with the attribute caller=Transport<UDP>).
	transport string
}

// Enabled implements slog.Handler.
func (h *sipgoLogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h *sipgoLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.transport == "" || r.Message != "failed to parse" {
		return h.next.Handle(ctx, r)
	}
	var data, cause string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "data":
			data = a.Value.String()
		case "error":
			cause = a.Value.String()
		}
		return true
	})
	source := "tcp"
	if h.transport == "UDP" {
		// sipgo parses each datagram on its reader goroutine right after the
		// read filter, which noted where the datagram came from.
		if a := h.s.udpSource.Load(); a != nil {
			source = a.String()
		}
	}
	h.s.logUnparseable(ctx, h.next, h.transport, source, data, cause)
	return nil
}

// WithAttrs implements slog.Handler.
func (h *sipgoLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	for _, a := range attrs {
		if a.Key == "caller" {
			switch a.Value.String() {
			case "Transport<UDP>":
				c.transport = "UDP"
			case "Transport<TCP>":
				c.transport = "TCP"
			}
		}
	}
	return &c
}

// WithGroup implements slog.Handler.
func (h *sipgoLogHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}

// logUnparseable logs a message sipgo could not parse: once per source and
// interval, with the number of messages held back since the last line.
// Stream transports share one key: a parse error closes the connection.
func (s *Server) logUnparseable(ctx context.Context, h slog.Handler, transport, source, data, cause string) {
	ok, suppressed := s.noise.allow("unparseable " + source)
	if !ok || !h.Enabled(ctx, slog.LevelWarn) {
		return
	}
	r := slog.NewRecord(s.clock.Now(), slog.LevelWarn, "sip unparseable message dropped", 0)
	r.AddAttrs(
		slog.String("transport", transport),
		slog.String("source", source),
		slog.String("error", printable(cause, logErrMax)),
		slog.Int("bytes", len(data)),
		slog.String("data", printable(data, logDataMax)),
		slog.Int("suppressed", suppressed),
	)
	_ = h.Handle(ctx, r)
}
