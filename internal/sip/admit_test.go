package sip_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/sip"
)

// udpPeer is a bare UDP socket that never acknowledges anything: it sees
// every message the server sends, retransmissions included.
type udpPeer struct {
	t      *testing.T
	conn   *net.UDPConn
	server netip.AddrPort
}

func newUDPPeer(t *testing.T, server netip.AddrPort) *udpPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &udpPeer{t: t, conn: conn, server: server}
}

func (p *udpPeer) send(msg string) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort([]byte(msg), p.server); err != nil {
		p.t.Fatal(err)
	}
}

// invite is an INVITE from the peer to user, with branch as its Via branch.
func (p *udpPeer) invite(user, branch string) string {
	a := p.conn.LocalAddr().String()
	return fmt.Sprintf("INVITE sip:%s@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s\r\n"+
		"From: <sip:peer@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\nCall-ID: %s@peer\r\nCSeq: 1 INVITE\r\n"+
		"Contact: <sip:peer@%s>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		user, p.server, a, branch, a, branch, user, p.server, branch, a)
}

// options is an OPTIONS from the peer, with branch as its Via branch.
func (p *udpPeer) options(branch string) string {
	a := p.conn.LocalAddr().String()
	return fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s\r\n"+
		"From: <sip:peer@%s>;tag=%s\r\nTo: <sip:%s>\r\nCall-ID: %s@peer\r\nCSeq: 1 OPTIONS\r\n"+
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", p.server, a, branch, a, branch, p.server, branch)
}

// collect returns the responses received within d.
func (p *udpPeer) collect(d time.Duration) []*gosip.Response {
	p.t.Helper()
	var out []*gosip.Response
	deadline := time.Now().Add(d)
	buf := make([]byte, 65535)
	for {
		_ = p.conn.SetReadDeadline(deadline)
		n, err := p.conn.Read(buf)
		if err != nil {
			return out
		}
		m, err := gosip.ParseMessage(append([]byte(nil), buf[:n]...))
		if err != nil {
			p.t.Fatalf("unparseable message from the server: %v\n%s", err, buf[:n])
		}
		if r, ok := m.(*gosip.Response); ok {
			out = append(out, r)
		}
	}
}

// one waits up to d for a response and returns it.
func (p *udpPeer) one(d time.Duration) *gosip.Response {
	p.t.Helper()
	buf := make([]byte, 65535)
	_ = p.conn.SetReadDeadline(time.Now().Add(d))
	n, err := p.conn.Read(buf)
	if err != nil {
		p.t.Fatalf("no response within %v: %v", d, err)
	}
	m, err := gosip.ParseMessage(append([]byte(nil), buf[:n]...))
	if err != nil {
		p.t.Fatalf("unparseable message from the server: %v", err)
	}
	r, ok := m.(*gosip.Response)
	if !ok {
		p.t.Fatalf("a request, want a response:\n%s", m)
	}
	return r
}

// finals waits for the final responses to the requests sent with branches,
// in whatever order they come.
func (u *rawUA) finals(branches []string, d time.Duration) map[string]*gosip.Response {
	u.t.Helper()
	out := make(map[string]*gosip.Response)
	for range branches {
		m := u.next(d, "final responses", func(m gosip.Message) bool {
			r, ok := m.(*gosip.Response)
			if !ok || r.StatusCode < 200 {
				return false
			}
			for _, b := range branches {
				if _, seen := out[b]; !seen && branchOf(r) == b {
					return true
				}
			}
			return false
		})
		out[branchOf(m)] = m.(*gosip.Response)
	}
	return out
}

func codes(rs []*gosip.Response) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.StatusCode)
	}
	return out
}

// An INVITE to an unknown number, never acknowledged, gets its 404 once
// (stateless: no retransmissions toward a source that may be spoofed); a
// retransmission of the INVITE gets it again, and real calls go on.
func TestQuickRejectIsStateless(t *testing.T) {
	var handled atomic.Int32
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		handled.Add(1)
		if call.RequestUser != "+14155550100" {
			_ = call.Reject(404, "")
			return
		}
		if leg, err := call.Answer(ctx); err == nil {
			<-leg.Done()
		}
	}), serverOpts{})
	p := newUDPPeer(t, srv.Addr())
	inv := p.invite("+19995550000", "z9hG4bK-unknown-1")
	p.send(inv)
	// Timer G would resend at 0.5 s and 1.5 s.
	got := p.collect(2 * time.Second)
	if len(got) != 1 || got[0].StatusCode != 404 {
		t.Fatalf("responses to an unacknowledged INVITE: %v, want one 404", codes(got))
	}
	p.send(inv) // the caller's retransmission: the 404 was lost
	if got := p.collect(700 * time.Millisecond); len(got) != 1 || got[0].StatusCode != 404 {
		t.Fatalf("responses to the retransmitted INVITE: %v, want one 404", codes(got))
	}

	u := newRawUA(t, srv.Addr())
	c := u.newCall("+14155550100")
	c.establish(t)
	if res := u.final(c.request("BYE", "", ""), 5*time.Second); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
	waitCalls(t, srv, 0)
}

// A Handler that takes its time gets a 100 Trying first; its rejection is
// then sent by the transaction, reliably (the caller stopped retransmitting).
func TestSlowRejectIsReliable(t *testing.T) {
	decide := make(chan struct{})
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		<-decide // the application deciding slowly
		_ = call.Reject(486, "")
	}), serverOpts{})
	p := newUDPPeer(t, srv.Addr())
	p.send(p.invite("bob", "z9hG4bK-slow-1"))
	if res := p.one(5 * time.Second); res.StatusCode != 100 {
		t.Fatalf("first response %d, want 100 Trying", res.StatusCode)
	}
	close(decide)
	got := p.collect(1200 * time.Millisecond)
	if len(got) < 2 || got[0].StatusCode != 486 || got[1].StatusCode != 486 {
		t.Fatalf("responses after the 100: %v, want 486 retransmitted until acknowledged", codes(got))
	}
}

// A request in a version other than SIP/2.0 gets 505 Version Not Supported.
func TestVersionNotSupported(t *testing.T) {
	var handled atomic.Int32
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		handled.Add(1)
		_ = call.Reject(486, "")
	}), serverOpts{})
	p := newUDPPeer(t, srv.Addr())
	a := p.conn.LocalAddr().String()
	for _, method := range []string{"INVITE", "OPTIONS"} {
		p.send(fmt.Sprintf("%s sip:bob@%s SIP/7.0\r\nVia: SIP/7.0/UDP %s;branch=z9hG4bK-v7-%s\r\n"+
			"From: <sip:peer@%s>;tag=v7\r\nTo: <sip:bob@%s>\r\nCall-ID: v7-%s@peer\r\nCSeq: 1 %s\r\n"+
			"Contact: <sip:peer@%s>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
			method, srv.Addr(), a, method, a, srv.Addr(), method, method, a))
		res := p.one(5 * time.Second)
		if res.StatusCode != 505 || res.SipVersion != "SIP/2.0" {
			t.Fatalf("%s SIP/7.0 answered %s %d %s, want SIP/2.0 505", method, res.SipVersion, res.StatusCode, res.Reason)
		}
	}
	if n := handled.Load(); n != 0 {
		t.Fatalf("the handler saw %d SIP/7.0 INVITEs", n)
	}
}

// Admit refuses a new INVITE before any work: 503 with its Retry-After, no
// Handler, no media session, no 100 Trying.
func TestAdmitRefusesUpFront(t *testing.T) {
	var handled atomic.Int32
	var engine *media.Engine
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		handled.Add(1)
		_, _ = call.EarlyMedia(ctx)
		_ = call.Reject(486, "")
	}), serverOpts{cfg: func(c *sip.Config) {
		engine = c.Media
		c.Admit = func() time.Duration { return 1500 * time.Millisecond }
	}})
	u := newRawUA(t, srv.Addr())
	c := u.newCall("bob")
	inv := "INVITE sip:bob@" + u.serverAddr() + " SIP/2.0\n" + c.headers("INVITE", 1, "z9hG4bK-admit-1") + "Content-Type: application/sdp\n"
	// With an SDP offer: the handler would open a media session for it.
	u.send(inv, c.offer("sendrecv", "0"))
	res := u.next(5*time.Second, "a response", func(gosip.Message) bool { return true }).(*gosip.Response)
	if res.StatusCode != 503 {
		t.Fatalf("INVITE answered %d, want 503 before anything else", res.StatusCode)
	}
	if ra := res.GetHeader("Retry-After"); ra == nil || ra.Value() != "2" {
		t.Fatalf("Retry-After = %v, want 2", ra)
	}
	if n := handled.Load(); n != 0 {
		t.Fatalf("the handler ran %d times for a refused call", n)
	}
	if n := engine.ActiveSessions(); n != 0 {
		t.Fatalf("%d media sessions open for a refused call", n)
	}
	if n := srv.Pending(); n != 0 {
		t.Fatalf("Pending() = %d after a refusal", n)
	}
	if n := srv.Admitted(); n != 0 {
		t.Fatalf("Admitted() = %d after a refusal", n)
	}
}

// MaxCallRate: a burst of one second's worth is taken, the next INVITE of the
// same instant gets 503 with Retry-After: 1; once the clock moves on, calls
// are taken again. A re-INVITE within a live dialog is never refused.
func TestMaxCallRate(t *testing.T) {
	fake := clock.NewFake(time.Now())
	var admit atomic.Int64 // Retry-After Admit returns
	legs := make(chan *sip.Leg, 4)
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		if call.RequestUser != "answer" {
			_ = call.Reject(486, "")
			return
		}
		leg, err := call.Answer(ctx)
		if err != nil {
			return
		}
		legs <- leg
		<-leg.Done()
	}), serverOpts{cfg: func(c *sip.Config) {
		c.Clock = fake
		c.MaxCallRate = 2
		c.Admit = func() time.Duration { return time.Duration(admit.Load()) }
	}})
	u := newRawUA(t, srv.Addr())
	live := u.newCall("answer")
	live.establish(t) // one token
	leg := recvLeg(t, legs)
	waitState(t, leg, sip.StateConfirmed)

	// One token left for three INVITEs of the same instant.
	var branches []string
	for i := 0; i < 3; i++ {
		b, _ := u.newCall("busy").invite("")
		branches = append(branches, b)
	}
	got := map[int]int{}
	for _, res := range u.finals(branches, 5*time.Second) {
		got[res.StatusCode]++
		if res.StatusCode == 503 {
			if ra := res.GetHeader("Retry-After"); ra == nil || ra.Value() != "1" {
				t.Fatalf("Retry-After = %v, want 1", ra)
			}
		}
	}
	if got[486] != 1 || got[503] != 2 {
		t.Fatalf("final responses %v, want one 486 and two 503", got)
	}
	if n := srv.RateRefused(); n != 2 {
		t.Fatalf("RateRefused() = %d, want the 2 refused", n)
	}

	// Refused for the rate and for Admit, the live call takes a re-INVITE.
	admit.Store(int64(5 * time.Second))
	live.cseq++
	b, cseq := live.invite(live.offer("sendonly", "0"))
	if res := u.final(b, 5*time.Second); res.StatusCode != 200 {
		t.Fatalf("re-INVITE of a live call answered %d", res.StatusCode)
	}
	live.ack(cseq, "")
	admit.Store(0)

	fake.Advance(time.Second)
	b, _ = u.newCall("busy").invite("")
	if res := u.final(b, 5*time.Second); res.StatusCode != 486 {
		t.Fatalf("INVITE a second later answered %d, want it taken (486 from the handler)", res.StatusCode)
	}
	if res := u.final(live.request("BYE", "", ""), 5*time.Second); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
}

// Pending counts the INVITEs the Handler has not decided yet; Admitted, all
// those it was given.
func TestPending(t *testing.T) {
	release := make(chan struct{})
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		<-release
		_ = call.Reject(486, "")
	}), serverOpts{})
	u := newRawUA(t, srv.Addr())
	var branches []string
	for i := 0; i < 3; i++ {
		b, _ := u.newCall("bob").invite("")
		branches = append(branches, b)
	}
	for deadline := time.Now().Add(5 * time.Second); srv.Pending() != 3; {
		if time.Now().After(deadline) {
			t.Fatalf("Pending() = %d, want 3", srv.Pending())
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	u.finals(branches, 5*time.Second)
	if n := srv.Pending(); n != 0 {
		t.Fatalf("Pending() = %d once all were rejected", n)
	}
	if n := srv.Admitted(); n != 3 {
		t.Fatalf("Admitted() = %d, want the 3 INVITEs", n)
	}
}
