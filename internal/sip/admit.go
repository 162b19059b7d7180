package sip

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// Overload is refused up front, and refusals cost no more than the request.
//
// A new INVITE is first put to Config.Admit and to the Config.MaxCallRate
// token bucket; a refusal is a 503 with Retry-After sent before anything else
// happens (no 100 Trying, no media session, no handler goroutine).
//
// Refusals decided before any dialog exists (these 503s, the 4xx of a bad
// INVITE, 505, the 481 of an INVITE for an unknown dialog, and a Reject that
// comes before any provisional response) are sent statelessly over UDP (RFC
// 3261 §8.2.7): once, without the server transaction's retransmissions (Timer
// G, up to ten sends over 32 s until an ACK). A source address can be
// spoofed; a transaction retransmitting toward it multiplies what the spoofer
// sends. A lost response is recovered the stateless way: having had no
// provisional response, the caller retransmits its INVITE, which is answered
// again. So that a quick refusal precedes any provisional response, the 100
// Trying of a new INVITE waits trying100Delay (under the 200 ms in which RFC
// 3261 §17.2.1 wants one, after which sipgo would send its own): a Handler
// rejecting within that time sends its response statelessly.

// trying100Delay is how long a new INVITE waits for its 100 Trying: a Handler
// that decides sooner sends its final response instead, statelessly. It runs
// on real time, as sipgo's own 200 ms timer for the 100 does.
const trying100Delay = 100 * time.Millisecond

// statelessWindow is how long after a new INVITE a refusal may be sent
// statelessly: past it sipgo's own 100 Trying may have gone out.
const statelessWindow = 150 * time.Millisecond

// tokenBucket limits a rate: burst tokens, refilled at rate per second, on
// the injectable clock.
type tokenBucket struct {
	clock clock.Clock
	rate  float64
	burst float64

	// mu guards the fields below.
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// newTokenBucket returns a full bucket for rate per second with one second's
// worth of burst (at least 1), or nil for rate <= 0 (no limit).
func newTokenBucket(clk clock.Clock, rate float64) *tokenBucket {
	if rate <= 0 || math.IsNaN(rate) {
		return nil
	}
	burst := max(1, rate)
	return &tokenBucket{clock: clk, rate: rate, burst: burst, tokens: burst, last: clk.Now()}
}

// take takes a token if there is one. A nil bucket always has one.
func (b *tokenBucket) take() bool {
	if b == nil {
		return true
	}
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// admitInvite decides whether a new INVITE may be handled. It returns 0, or
// how long the caller should wait (the Retry-After of the 503).
func (s *Server) admitInvite() time.Duration {
	if d := s.refusing(); d > 0 {
		return d
	}
	if !s.rate.take() {
		s.rateRefused.Add(1)
		return time.Second
	}
	return 0
}

// refusing returns how long new calls are refused for now (the listener's
// queue stands, or Config.Admit refuses), or 0. Unlike admitInvite it takes
// nothing from the MaxCallRate bucket: the reader asks it of every new
// INVITE it sees (shed.go) before sipgo parses it.
func (s *Server) refusing() time.Duration {
	if s.queue.standing.Load() {
		return time.Second
	}
	if s.cfg.Admit != nil {
		return max(0, s.cfg.Admit())
	}
	return 0
}

// retryAfter is a Retry-After header (RFC 3261 §20.33) for d, in whole seconds
// rounded up, at least 1.
func retryAfter(d time.Duration) sip.Header {
	secs := max(1, int64(math.Ceil(d.Seconds())))
	return sip.NewHeader("Retry-After", strconv.FormatInt(secs, 10))
}

// refuse sends a final error response to a request for which no dialog
// exists. For an INVITE over UDP it goes out statelessly (see above) and the
// transaction ends when the handler returns; otherwise the transaction sends
// it, as respond does.
func (s *Server) refuse(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	if !req.IsInvite() || req.Transport() != "UDP" {
		s.respond(tx, req, code, reason, nil, hdrs...)
		return
	}
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	s.decorate(res, hdrs...)
	s.sendStateless(res)
}

// sendStateless sends a response outside its transaction, once.
func (s *Server) sendStateless(res *sip.Response) {
	if err := s.srv.WriteResponse(res); err != nil {
		s.log.Debug("sip stateless response failed", "code", res.StatusCode, "err", err)
	}
}

// RateRefused is the number of new INVITEs refused for Config.MaxCallRate
// since the server started.
func (s *Server) RateRefused() uint64 { return s.rateRefused.Load() }

// Admitted is the number of new INVITEs taken into setup (past the overload
// checks) since the server started: its rate is the rate of setups.
func (s *Server) Admitted() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.admitted
}

// Pending is the number of new INVITEs received whose Handler has not yet
// answered or rejected them: the calls waiting on the application, a measure
// of how far behind it is.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}
