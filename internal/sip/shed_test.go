package sip_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sip"
)

// While calls are refused, a new INVITE over UDP is answered 503 from its
// bytes: every Via, From, Call-ID and CSeq as sent, a To tag (the same for a
// retransmission), Retry-After; no 100 Trying, no handler. The caller's ACK
// gets nothing back, and the server goes on answering.
func TestShedFromTheBytes(t *testing.T) {
	var handled atomic.Int32
	srv := startServer(t, rejecting(&handled), serverOpts{cfg: func(c *sip.Config) {
		c.Admit = func() time.Duration { return time.Second }
	}})
	p := newUDPPeer(t, srv.Addr())
	inv := p.invite("bob", "z9hG4bK-shed-1")
	// A second Via, as a proxy in front would add, and a compact header.
	inv = strings.Replace(inv, "Via: ", "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-proxy-1\r\nv: ", 1)
	p.send(inv)
	rs := p.collect(300 * time.Millisecond)
	if len(rs) != 1 || rs[0].StatusCode != 503 {
		t.Fatalf("INVITE answered %v, want one 503 and nothing before it", codes(rs))
	}
	r := rs[0]
	if ra := r.GetHeader("Retry-After"); ra == nil || ra.Value() != "1" {
		t.Errorf("Retry-After = %v, want 1", ra)
	}
	vias := r.GetHeaders("Via")
	if len(vias) != 2 || !strings.Contains(vias[0].Value(), "z9hG4bK-proxy-1") || !strings.Contains(vias[1].Value(), "z9hG4bK-shed-1") {
		t.Errorf("Via headers %v, want both, in order", vias)
	}
	if r.CallID().Value() != "z9hG4bK-shed-1@peer" || r.CSeq().Value() != "1 INVITE" {
		t.Errorf("Call-ID %q, CSeq %q", r.CallID().Value(), r.CSeq().Value())
	}
	if tag, _ := r.From().Params.Get("tag"); tag != "z9hG4bK-shed-1" {
		t.Errorf("From tag %q", tag)
	}
	tag, _ := r.To().Params.Get("tag")
	if !strings.HasPrefix(tag, "sb503") {
		t.Fatalf("To tag %q", tag)
	}
	if s := r.GetHeader("Server"); s == nil || s.Value() != "switchboard" {
		t.Errorf("Server = %v", s)
	}

	p.send(inv) // a retransmission: the same answer
	again := p.one(2 * time.Second)
	if got, _ := again.To().Params.Get("tag"); again.StatusCode != 503 || got != tag {
		t.Errorf("retransmission answered %d with To tag %q, want 503 with %q", again.StatusCode, got, tag)
	}

	// The ACK for the 503 (RFC 3261 §17.1.1.3: the INVITE's branch, the
	// response's To) is taken and dropped.
	a := p.conn.LocalAddr().String()
	ack := "ACK sip:bob@" + srv.Addr().String() + " SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-proxy-1\r\n" +
		"From: <sip:peer@" + a + ">;tag=z9hG4bK-shed-1\r\nTo: <sip:bob@" + srv.Addr().String() + ">;tag=" + tag + "\r\n" +
		"Call-ID: z9hG4bK-shed-1@peer\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	p.send(ack)
	p.send(p.options("z9hG4bK-opt-1"))
	if rs := p.collect(500 * time.Millisecond); len(rs) != 1 || rs[0].StatusCode != 200 || rs[0].CSeq().MethodName != "OPTIONS" {
		t.Fatalf("after the ACK and an OPTIONS: %v, want only the OPTIONS' 200", codes(rs))
	}
	if n := handled.Load(); n != 0 {
		t.Fatalf("the handler saw %d refused INVITEs", n)
	}
	if n := srv.Pending(); n != 0 {
		t.Fatalf("Pending() = %d", n)
	}
}

// The listener's queue: with a target of a nanosecond every datagram has
// waited too long, so once waits have been over it for the interval, new
// INVITEs are refused (503, Retry-After: 1), read from the kernel's receive
// timestamps; OPTIONS are still answered.
func TestQueueStandingRefusesNewCalls(t *testing.T) {
	var handled atomic.Int32
	srv := startServer(t, rejecting(&handled), serverOpts{cfg: func(c *sip.Config) {
		c.QueueTarget, c.QueueInterval = time.Nanosecond, time.Nanosecond
	}})
	p := newUDPPeer(t, srv.Addr())
	p.send(p.options("z9hG4bK-opt-2"))
	if r := p.one(5 * time.Second); r.StatusCode != 200 {
		t.Fatalf("OPTIONS answered %d", r.StatusCode)
	}
	p.send(p.invite("bob", "z9hG4bK-queue-1"))
	r := p.one(5 * time.Second)
	if r.StatusCode != 503 {
		t.Fatalf("INVITE behind a standing queue answered %d, want 503", r.StatusCode)
	}
	if ra := r.GetHeader("Retry-After"); ra == nil || ra.Value() != "1" {
		t.Errorf("Retry-After = %v, want 1", ra)
	}
	if n := handled.Load(); n != 0 {
		t.Errorf("the handler saw %d refused INVITEs", n)
	}
}

// An INVITE handed on before calls were refused keeps its transaction: its
// retransmission, read while new calls are refused, is not answered 503
// (the caller would get a 503 and then the call's own answer).
func TestShedLeavesRetransmissionsToTheirTransaction(t *testing.T) {
	var refusing atomic.Bool
	release := make(chan struct{})
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		_ = call.Reject(486, "")
	}), serverOpts{cfg: func(c *sip.Config) {
		c.Admit = func() time.Duration {
			if refusing.Load() {
				return time.Second
			}
			return 0
		}
	}})
	p := newUDPPeer(t, srv.Addr())
	inv := p.invite("bob", "z9hG4bK-kept-1")
	p.send(inv)
	if r := p.one(5 * time.Second); r.StatusCode != 100 {
		t.Fatalf("INVITE answered %d, want 100 Trying while its handler works", r.StatusCode)
	}
	refusing.Store(true)
	p.send(inv) // the retransmission
	p.send(p.invite("bob", "z9hG4bK-new-1"))
	rs := p.collect(time.Second)
	close(release)
	rs = append(rs, p.collect(time.Second)...)
	var kept, fresh []int
	for _, r := range rs {
		if r.CallID().Value() == "z9hG4bK-kept-1@peer" {
			kept = append(kept, r.StatusCode)
		} else {
			fresh = append(fresh, r.StatusCode)
		}
	}
	if len(fresh) != 1 || fresh[0] != 503 {
		t.Errorf("the new INVITE while refusing got %v, want one 503", fresh)
	}
	// The kept call: its 100 again, then its own 486 (retransmitted: nobody
	// acknowledges it here); never a 503.
	if len(kept) < 2 || kept[0] != 100 || kept[len(kept)-1] != 486 || slices.Contains(kept, 503) {
		t.Errorf("the kept call got %v, want 100, then 486, no 503", kept)
	}
}

// rejecting is a Handler that counts the calls it sees and rejects them.
func rejecting(handled *atomic.Int32) sip.Handler {
	return sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		handled.Add(1)
		_ = call.Reject(486, "")
	})
}
