package sip_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/sip"
	"github.com/switchboard-voice/switchboard/internal/softphone"
)

func sdpDirection(body []byte) string {
	for _, d := range []string{"sendrecv", "sendonly", "recvonly", "inactive"} {
		if strings.Contains(string(body), "a="+d) {
			return d
		}
	}
	return ""
}

func TestOptions(t *testing.T) {
	srv := startServer(t, nil, serverOpts{})
	u := newRawUA(t, srv.Addr())
	c := u.newCall("")
	branch := c.nextBranch()
	u.send("OPTIONS sip:"+u.serverAddr()+" SIP/2.0\n"+c.headers("OPTIONS", 1, branch), "")
	res := u.final(branch, 5*time.Second)
	if res.StatusCode != 200 {
		t.Fatalf("OPTIONS: %d", res.StatusCode)
	}
	allow := res.GetHeader("Allow")
	if allow == nil || !strings.Contains(allow.Value(), "INVITE") || !strings.Contains(allow.Value(), "BYE") {
		t.Fatalf("Allow = %v", allow)
	}
	if a := res.GetHeader("Accept"); a == nil || a.Value() != "application/sdp" {
		t.Fatalf("Accept = %v", a)
	}
}

// Hold and unhold by re-INVITE, the RFC 3264 way (sendonly, inactive) and the
// RFC 2543 way (c=0.0.0.0); an unacceptable re-offer leaves the call as it was.
func TestReinviteHold(t *testing.T) {
	legs := make(chan *sip.Leg, 1)
	srv := startServer(t, answerAndWait(legs), serverOpts{})
	u := newRawUA(t, srv.Addr())
	c := u.newCall("+14155550100")
	c.establish(t)
	leg := recvLeg(t, legs)
	waitState(t, leg, sip.StateConfirmed)

	if n := u.rtpDuring(300 * time.Millisecond); n < 5 {
		t.Fatalf("%d RTP packets in 300 ms before the hold, want a stream", n)
	}
	// Each offer lists its codecs in another order: the codec must not change.
	steps := []struct {
		name   string
		sdp    string
		code   int
		answer string
		leg    media.Direction
	}{
		{"hold sendonly", c.offer("sendonly", "0 8 101"), 200, "recvonly", media.RecvOnly},
		{"unhold", c.offer("sendrecv", "8 0 101"), 200, "sendrecv", media.SendRecv},
		{"hold inactive", c.offer("inactive", "0 101"), 200, "inactive", media.Inactive},
		{"hold c=0.0.0.0", strings.ReplaceAll(c.offer("sendrecv", "0 101"), "IN IP4 127.0.0.1", "IN IP4 0.0.0.0"), 200, "recvonly", media.RecvOnly},
		{"no shared codec", c.offer("sendrecv", "18 101"), 488, "", media.RecvOnly},
		{"malformed sdp", "v=0\r\nthis is not sdp\r\n", 400, "", media.RecvOnly},
		{"unhold again", c.offer("sendrecv", "0 101"), 200, "sendrecv", media.SendRecv},
	}
	for _, st := range steps {
		c.cseq++
		branch, cseq := c.invite(st.sdp)
		res := u.final(branch, 5*time.Second)
		if res.StatusCode != st.code {
			t.Fatalf("%s: %d %s, want %d\n%s", st.name, res.StatusCode, res.Reason, st.code, res)
		}
		if st.code == 200 {
			if got := sdpDirection(res.Body()); got != st.answer {
				t.Fatalf("%s: answer says %q, want %q\n%s", st.name, got, st.answer, res.Body())
			}
			if !strings.Contains(string(res.Body()), "m=audio ") || !strings.Contains(string(res.Body()), " RTP/AVP 0 101") {
				t.Fatalf("%s: answer switched codec:\n%s", st.name, res.Body())
			}
			c.ack(cseq, "")
		}
		if got := leg.Direction(); got != st.leg {
			t.Fatalf("%s: leg direction %s, want %s", st.name, got, st.leg)
		}
		// Honoured: no RTP while held, RTP again once unheld.
		time.Sleep(60 * time.Millisecond) // packets already in flight
		n := u.rtpDuring(300 * time.Millisecond)
		if st.leg == media.SendRecv && n < 5 {
			t.Fatalf("%s: %d RTP packets in 300 ms, want the stream back", st.name, n)
		}
		if st.leg != media.SendRecv && n > 0 {
			t.Fatalf("%s: %d RTP packets in 300 ms while held, want none", st.name, n)
		}
	}
	if leg.Codec() != media.PCMU {
		t.Fatalf("codec %v after the re-INVITEs, want PCMU kept", leg.Codec())
	}
	if res := u.final(c.request("BYE", "", ""), 5*time.Second); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
	select {
	case <-leg.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("leg up after BYE")
	}
	if leg.EndReason() != sip.EndRemoteHangup {
		t.Fatalf("ended %q", leg.EndReason())
	}
}

func waitState(t *testing.T, leg *sip.Leg, s sip.State) {
	t.Helper()
	for i := 0; i < 200 && leg.State() != s; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if leg.State() != s {
		t.Fatalf("leg in state %s, want %s", leg.State(), s)
	}
}

// An INVITE without SDP: switchboard offers in the 200 OK and takes the
// answer from the ACK (RFC 3261 §13.2.1).
func TestDelayedOffer(t *testing.T) {
	legs := make(chan *sip.Leg, 1)
	srv := startServer(t, answerAndWait(legs), serverOpts{})
	u := newRawUA(t, srv.Addr())
	c := u.newCall("bob")
	branch, cseq := c.invite("")
	res := u.final(branch, 5*time.Second)
	if !strings.Contains(string(res.Body()), "RTP/AVP 0 8 101") {
		t.Fatalf("200 OK does not offer PCMU, PCMA and telephone-event:\n%s", res.Body())
	}
	c.established(res)
	c.ack(cseq, c.offer("sendrecv", "8 101"))
	leg := recvLeg(t, legs)
	waitState(t, leg, sip.StateConfirmed)
	if leg.Codec() != media.PCMA {
		t.Fatalf("codec %v, want PCMA from the answer in the ACK", leg.Codec())
	}
	_ = leg.Hangup(testContext(t, 5*time.Second))
}

// DTMF sent as SIP INFO reaches the leg.
func TestInfoDTMF(t *testing.T) {
	legs := make(chan *sip.Leg, 1)
	srv := startServer(t, answerAndWait(legs), serverOpts{})
	u := newRawUA(t, srv.Addr())
	c := u.newCall("bob")
	c.establish(t)
	leg := recvLeg(t, legs)
	if res := u.final(c.request("INFO", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"), 5*time.Second); res.StatusCode != 200 {
		t.Fatalf("INFO: %d", res.StatusCode)
	}
	if res := u.final(c.request("INFO", "application/dtmf", "#"), 5*time.Second); res.StatusCode != 200 {
		t.Fatalf("INFO: %d", res.StatusCode)
	}
	for _, want := range []media.DTMF{{Digit: '5', Duration: 160 * time.Millisecond}, {Digit: '#'}} {
		select {
		case d := <-leg.InfoDTMF():
			if d != want {
				t.Fatalf("got %+v, want %+v", d, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no INFO digit")
		}
	}
	_ = leg.Hangup(testContext(t, 5*time.Second))
}

// No RTP from the far end for the inactivity timeout: the server hangs up.
func TestMediaTimeout(t *testing.T) {
	legs := make(chan *sip.Leg, 1)
	srv := startServer(t, answerAndWait(legs), serverOpts{inactivity: 300 * time.Millisecond})
	u := newRawUA(t, srv.Addr())
	c := u.newCall("bob")
	c.establish(t)
	leg := recvLeg(t, legs)
	u.request("BYE", 5*time.Second) // answered 200 by the raw UA
	<-leg.Done()
	if leg.EndReason() != sip.EndMediaTimeout {
		t.Fatalf("ended %q, want media-timeout", leg.EndReason())
	}
}

func TestNoSharedCodec(t *testing.T) {
	var calls atomic.Int32
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		calls.Add(1)
		_ = call.Reject(404, "")
	}), serverOpts{})
	u := newRawUA(t, srv.Addr())
	for _, codecs := range []string{"18 101", "9", "111"} {
		c := u.newCall("+14155550100")
		branch, _ := c.invite(c.offer("sendrecv", codecs))
		if res := u.final(branch, 5*time.Second); res.StatusCode != 488 {
			t.Fatalf("offer %q: %d, want 488", codecs, res.StatusCode)
		}
	}
	c := u.newCall("+14155550100")
	branch, _ := c.invite(strings.Replace(c.offer("sendrecv", "0"), "RTP/AVP", "RTP/SAVP", 1))
	if res := u.final(branch, 5*time.Second); res.StatusCode != 488 {
		t.Fatalf("SRTP offer: %d, want 488", res.StatusCode)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("handler called %d times for calls that cannot be answered", n)
	}
}

// Malformed requests get a clear status (never silence where a response can
// be routed, never a crash), and the server goes on serving calls.
func TestMalformedRequests(t *testing.T) {
	var calls atomic.Int32
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		calls.Add(1)
		_ = call.Reject(404, "")
	}), serverOpts{})
	u := newRawUA(t, srv.Addr())

	invite := func(c *rawCall, mutate func(string) string) ([]byte, string) {
		sdp := c.offer("sendrecv", "0 101")
		branch := c.nextBranch()
		head := "INVITE sip:+14155550100@" + u.serverAddr() + " SIP/2.0\n" + c.headers("INVITE", 1, branch) + "Content-Type: application/sdp\n"
		msg := strings.ReplaceAll(strings.TrimRight(head, "\n"), "\n", "\r\n") + "\r\nContent-Length: " + itoa(len(sdp)) + "\r\n\r\n" + sdp
		return []byte(mutate(msg)), branch
	}
	replace := func(old, new string) func(string) string {
		return func(s string) string { return strings.Replace(s, old, new, 1) }
	}
	tests := []struct {
		name   string
		mutate func(string) string
		code   int // 0: no response expected
	}{
		{"malformed sdp", func(s string) string {
			i := strings.Index(s, "\r\n\r\n")
			return strings.Replace(s[:i], "Content-Length: ", "Content-Length: 1", 1)[:0] + replaceBody(s, "v=0\r\nnonsense\r\n")
		}, 400},
		{"malformed From", replace("From: \"Raw\" <sip:raw@", "From: \"Raw <sip:raw@"), 400},
		{"missing Call-ID", func(s string) string { return dropHeader(s, "Call-ID") }, 400},
		{"malformed CSeq", replace("CSeq: 1 INVITE", "CSeq: x INVITE"), 400},
		{"CSeq method mismatch", replace("CSeq: 1 INVITE", "CSeq: 1 OPTIONS"), 400},
		{"missing Contact", func(s string) string { return dropHeader(s, "Contact") }, 400},
		{"malformed Request-URI", replace("INVITE sip:+14155550100@", "INVITE sip:@@:"), 400},
		{"Content-Length beyond the datagram", func(s string) string {
			i := strings.Index(s, "Content-Length: ")
			j := strings.Index(s[i:], "\r\n")
			return s[:i] + "Content-Length: 4000" + s[i+j:]
		}, 400},
		{"body that is not SDP", replace("Content-Type: application/sdp", "Content-Type: text/plain"), 415},
		{"tel URI", replace("INVITE sip:+14155550100@"+u.serverAddr(), "INVITE tel:+14155550100"), 416},
		{"unsupported extension", replace("Max-Forwards: 70", "Max-Forwards: 70\r\nRequire: 100rel"), 420},
		{"bare LF line ends (parsed, routed)", func(s string) string {
			return replaceBody(s, "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n")
		}, 404},
		{"not SIP at all", func(string) string { return "GET / HTTP/1.1\r\nHost: x\r\n\r\n" }, 0},
		{"binary junk", func(string) string { return "\x00\x01\xff\xfe garbage \x80\x81" }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := u.as(t)
			c := u.newCall("+14155550100")
			msg, branch := invite(c, tt.mutate)
			if strings.HasPrefix(tt.name, "bare LF") {
				msg = []byte(strings.ReplaceAll(string(msg), "\r\n", "\n"))
			}
			u.sendRaw(msg)
			if tt.code == 0 {
				u.quiet(300 * time.Millisecond)
				return
			}
			res := u.final(branch, 5*time.Second)
			if res.StatusCode != tt.code {
				t.Fatalf("%d %s, want %d\n%s", res.StatusCode, res.Reason, tt.code, res)
			}
		})
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler called %d times, want once (the bare-LF INVITE)", n)
	}

	// Requests for dialogs that do not exist: 481; unknown methods: 501/405.
	c := u.newCall("x")
	c.toTag, c.target = "nosuchtag", "sip:switchboard@"+u.serverAddr()
	for _, m := range []string{"BYE", "INFO", "CANCEL"} {
		if res := u.final(c.request(m, "", ""), 5*time.Second); res.StatusCode != 481 {
			t.Fatalf("%s outside any dialog: %d, want 481", m, res.StatusCode)
		}
	}
	branch, _ := c.invite(c.offer("sendrecv", "0"))
	if res := u.final(branch, 5*time.Second); res.StatusCode != 481 {
		t.Fatalf("re-INVITE outside any dialog: %d, want 481", res.StatusCode)
	}
	for m, code := range map[string]int{"FROBNICATE": 501, "REGISTER": 405, "SUBSCRIBE": 405} {
		if res := u.final(c.request(m, "", ""), 5*time.Second); res.StatusCode != code {
			t.Fatalf("%s: %d, want %d", m, res.StatusCode, code)
		}
	}

	// After all that, a real call still goes through.
	res, err := startPhone(t).Call(testContext(t, 10*time.Second), softphone.Options{URI: "sip:+14155550100@" + srv.Addr().String()})
	var de *sip.DialError
	if !errors.As(err, &de) || res.StatusCode != 404 {
		t.Fatalf("call after the malformed requests: %+v, %v", res, err)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// replaceBody swaps the body of a wire message, fixing its Content-Length.
func replaceBody(msg, body string) string {
	i := strings.Index(msg, "\r\n\r\n")
	head := msg[:i]
	j := strings.Index(head, "Content-Length: ")
	k := strings.Index(head[j:], "\r\n")
	if k < 0 {
		k = len(head) - j
	}
	head = head[:j] + "Content-Length: " + itoa(len(body)) + head[j+k:]
	return head + "\r\n\r\n" + body
}

func dropHeader(msg, name string) string {
	lines := strings.Split(msg, "\r\n")
	out := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(l, name+":") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\r\n")
}

// A retransmitted INVITE is absorbed: one call, one handler. A 200 OK that is
// not acknowledged is retransmitted (T1, 2*T1, ... T2), also once the INVITE
// transaction is gone (InviteLinger), and, after 64*T1, the call is hung up (RFC
// 3261 §13.3.1.4). The call's timers run on a fake clock.
func TestRetransmissionsAndAckTimeout(t *testing.T) {
	linger := gosip.Timer_L
	gosip.Timer_L = 300 * time.Millisecond // read when the 200 is sent
	t.Cleanup(func() { gosip.Timer_L = linger })
	fake := clock.NewFake(time.Now())
	var calls atomic.Int32
	proceed := make(chan struct{})
	answer := make(chan error, 1)
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		calls.Add(1)
		<-proceed
		_, err := call.Answer(ctx)
		answer <- err
	}), serverOpts{cfg: func(c *sip.Config) { c.Clock = fake }})
	u := newRawUA(t, srv.Addr())
	c := u.newCall("bob")
	sdp := c.offer("sendrecv", "0")
	head := "INVITE sip:bob@" + u.serverAddr() + " SIP/2.0\n" + c.headers("INVITE", 1, "z9hG4bK-retrans-1") + "Content-Type: application/sdp\n"
	u.send(head, sdp)
	u.response(100, 5*time.Second)
	// The retransmission (same branch) is absorbed by the transaction, which
	// answers it with its last provisional response (RFC 3261 §17.2.1).
	u.send(head, sdp)
	u.response(100, 5*time.Second)
	close(proceed)
	u.final("z9hG4bK-retrans-1", 5*time.Second)

	// Retransmissions of the 200 follow the fake clock.
	for i := 0; i < 1000 && fake.Waiters() < 2; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if fake.Waiters() < 2 {
		t.Fatalf("%d timers armed, want the retransmission and the give-up timers", fake.Waiters())
	}
	for _, step := range []time.Duration{gosip.T1, 2 * gosip.T1, 4 * gosip.T1} {
		fake.Advance(step)
		u.retransmission("z9hG4bK-retrans-1", 200, 5*time.Second)
	}
	// The INVITE transaction is gone after Timer L (sipgo's own timer, in
	// real time: shortened for this test), and the 200 is still
	// retransmitted until the ACK's 64*T1, now on the transport: six more
	// T2 steps over 1.2 s of real time, 27.5 s of the fake clock.
	for range 6 {
		select {
		case <-time.After(200 * time.Millisecond):
		case <-t.Context().Done():
		}
		fake.Advance(gosip.T2)
		u.retransmission("z9hG4bK-retrans-1", 200, 5*time.Second)
	}
	fake.Advance(64 * gosip.T1)
	u.request("BYE", 5*time.Second)
	if err := <-answer; !errors.Is(err, sip.ErrAckTimeout) {
		t.Fatalf("answer: %v, want ErrAckTimeout", err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler ran %d times for one INVITE sent twice", n)
	}
	waitCalls(t, srv, 0)
}

// logWatch is a slog handler that closes seen at the first record with
// message msg.
type logWatch struct {
	msg  string
	seen chan struct{}
	once sync.Once
}

func (w *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *logWatch) WithGroup(string) slog.Handler            { return w }
func (w *logWatch) Handle(_ context.Context, r slog.Record) error {
	if r.Message == w.msg {
		w.once.Do(func() { close(w.seen) })
	}
	return nil
}

// retransmitUntilAbsorbed sends the request head with body until the server
// logs that it absorbed a retransmission (watch), every 100 ms for 5 s at
// most. sipgo closes a transaction's Done before it takes the transaction
// out of its table: a retransmission sent in between meets the ending
// transaction, which drops it; the server's absorbing is for those after.
func retransmitUntilAbsorbed(t *testing.T, u *rawUA, watch *logWatch, head, body string) {
	t.Helper()
	for range 50 {
		u.send(head, body)
		select {
		case <-watch.seen:
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("the late retransmission was not absorbed")
}

// An INVITE retransmitted after sipgo has ended its transaction
// (InviteLinger, shorter than the 64*T1 a caller may retransmit for) is
// absorbed, as the transaction's Accepted state would (RFC 6026 §7.1): the
// call goes on, and no second call starts. A new INVITE of the same Call-ID
// (a new branch and CSeq, as after a challenge) is a new transaction still.
func TestLateInviteRetransmissionAbsorbed(t *testing.T) {
	linger := gosip.Timer_L
	gosip.Timer_L = 10 * time.Millisecond // read when the 200 is sent
	t.Cleanup(func() { gosip.Timer_L = linger })
	watch := &logWatch{msg: "sip invite retransmission absorbed", seen: make(chan struct{})}
	var calls atomic.Int32
	txDone := make(chan (<-chan struct{}), 2)
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		calls.Add(1)
		txDone <- call.TxDone()
		leg, err := call.Answer(ctx)
		if err != nil {
			return
		}
		<-leg.Done()
	}), serverOpts{cfg: func(c *sip.Config) { c.Logger = slog.New(watch) }})
	u := newRawUA(t, srv.Addr())
	c := u.newCall("bob")
	sdp := c.offer("sendrecv", "0")
	head := "INVITE sip:bob@" + u.serverAddr() + " SIP/2.0\n" + c.headers("INVITE", 1, "z9hG4bK-late-1") + "Content-Type: application/sdp\n"
	u.send(head, sdp)
	res := u.final("z9hG4bK-late-1", 5*time.Second)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE answered %d", res.StatusCode)
	}
	c.established(res)
	c.ack(1, "")
	select {
	case <-<-txDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the INVITE transaction did not end after Timer L")
	}

	// The caller never saw the 200, and tries again.
	retransmitUntilAbsorbed(t, u, watch, head, sdp)
	if n := calls.Load(); n != 1 {
		t.Fatalf("the handler ran %d times for one INVITE", n)
	}
	if srv.Calls() != 1 {
		t.Fatalf("%d calls up, want 1", srv.Calls())
	}
	if res := u.final(c.request("BYE", "", ""), 5*time.Second); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
	waitCalls(t, srv, 0)

	// The same Call-ID with a new branch and CSeq is another transaction:
	// a call of its own.
	c.toTag, c.target, c.cseq = "", "", 2
	c.establish(t)
	if n := calls.Load(); n != 2 {
		t.Fatalf("a new INVITE of the same Call-ID: the handler ran %d times in all, want 2", n)
	}
	if res := u.final(c.request("BYE", "", ""), 5*time.Second); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
	waitCalls(t, srv, 0)
}

// A re-INVITE retransmitted after its transaction has gone is absorbed too,
// not taken for a new offer (which its old CSeq would have refused with 500).
func TestLateReinviteRetransmissionAbsorbed(t *testing.T) {
	linger := gosip.Timer_L
	gosip.Timer_L = 10 * time.Millisecond // read when the 200 is sent
	t.Cleanup(func() { gosip.Timer_L = linger })
	watch := &logWatch{msg: "sip invite retransmission absorbed", seen: make(chan struct{})}
	legs := make(chan *sip.Leg, 1)
	srv := startServer(t, answerAndWait(legs), serverOpts{cfg: func(c *sip.Config) { c.Logger = slog.New(watch) }})
	u := newRawUA(t, srv.Addr())
	c := u.newCall("bob")
	c.establish(t)
	leg := recvLeg(t, legs)
	waitState(t, leg, sip.StateConfirmed)

	c.cseq++
	sdp := c.offer("sendonly", "0 101")
	branch, cseq := c.invite(sdp)
	if res := u.final(branch, 5*time.Second); res.StatusCode != 200 {
		t.Fatalf("re-INVITE: %d %s", res.StatusCode, res.Reason)
	}
	c.ack(cseq, "")
	head := "INVITE " + c.target + " SIP/2.0\n" + c.headers("INVITE", cseq, branch) + "Content-Type: application/sdp\n"
	retransmitUntilAbsorbed(t, u, watch, head, sdp)
	if got := leg.Direction(); got != media.RecvOnly {
		t.Fatalf("leg direction %s after the retransmission, want %s (held)", got, media.RecvOnly)
	}
	if res := u.final(c.request("BYE", "", ""), 5*time.Second); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
	waitCalls(t, srv, 0)
}

// A CANCEL that crosses the 200 OK changes nothing: the call is up.
func TestCancelAfterAnswer(t *testing.T) {
	legs := make(chan *sip.Leg, 1)
	srv := startServer(t, answerAndWait(legs), serverOpts{})
	u := newRawUA(t, srv.Addr())
	c := u.newCall("bob")
	branch, cseq := c.invite(c.offer("sendrecv", "0"))
	res := u.final(branch, 5*time.Second)
	c.established(res)
	toTag := c.toTag
	c.toTag = ""
	u.send("CANCEL sip:bob@"+u.serverAddr()+" SIP/2.0\n"+strings.Replace(c.headers("CANCEL", cseq, branch), "Contact: <sip:raw@"+u.addr()+">\n", "", 1), "")
	u.final(branch, 5*time.Second) // 200 to the CANCEL
	c.toTag = toTag
	c.ack(cseq, "")
	leg := recvLeg(t, legs)
	waitState(t, leg, sip.StateConfirmed)
	if res := u.final(c.request("BYE", "", ""), 5*time.Second); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
}

// A far end that does not answer the INVITE at all: Dial gives up at its
// timeout at once (a local 408), and since RFC 3261 §9.1 allows a CANCEL only
// after a provisional response, the CANCEL goes out when the 180 finally
// comes.
func TestDialGiveUpWithoutProvisional(t *testing.T) {
	srv := startServer(t, nil, serverOpts{})
	u := newRawUA(t, srv.Addr())
	start := time.Now()
	_, err := srv.Dial(testContext(t, 10*time.Second), sip.DialRequest{URI: "sip:slow@" + u.addr(), Timeout: 200 * time.Millisecond})
	var de *sip.DialError
	if !errors.As(err, &de) || de.Code != 408 || !errors.Is(err, sip.ErrNoAnswer) {
		t.Fatalf("dial: %v; want a local 408, no answer", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("dial took %v to give up", d)
	}
	invite := u.request("INVITE", 5*time.Second)
	ringing := gosip.NewResponseFromRequest(invite, 180, "Ringing", nil)
	u.sendRaw([]byte(ringing.String()))
	cancel := u.request("CANCEL", 5*time.Second)
	if b1, b2 := branchOf(cancel), branchOf(invite); b1 != b2 {
		t.Fatalf("CANCEL branch %q, INVITE branch %q: must match", b1, b2)
	}
	ok := gosip.NewResponseFromRequest(cancel, 200, "OK", nil)
	u.sendRaw([]byte(ok.String()))
	terminated := gosip.NewResponseFromRequest(invite, 487, "Request Terminated", nil)
	u.sendRaw([]byte(terminated.String()))
}
