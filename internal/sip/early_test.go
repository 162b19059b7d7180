package sip_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/sip"
)

// within waits for ch to deliver, failing after d.
func within[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("no %s within %v", what, d)
		var zero T
		return zero
	}
}

// isDone reports whether a session has ended.
func isDone(s *media.Session) bool {
	select {
	case <-s.Done():
		return true
	default:
		return false
	}
}

// The callee opens early media (183 with its SDP answer) and plays a tone
// before answering; the caller, a sip.Server dialing, hears the tone through
// OnEarlyMedia before Dial returns. The answer keeps the same session: one
// RTP port on each side.
func TestInboundEarlyMediaThenAnswer(t *testing.T) {
	var calleeMedia *media.Engine
	type answered struct {
		early    *media.Session
		leg      *sip.Leg
		sessions int
	}
	got := make(chan answered, 1)
	callee := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		sess, err := call.EarlyMedia(ctx)
		if err != nil {
			t.Errorf("early media: %v", err)
			return
		}
		if again, err := call.EarlyMedia(ctx); err != nil || again != sess {
			t.Errorf("second EarlyMedia: %p, %v; want the same session %p", again, err, sess)
		}
		if s := call.State(); s != sip.StateRinging {
			t.Errorf("state after EarlyMedia %s, want ringing", s)
		}
		if err := sess.Play(ctx, sine(1000, 500*time.Millisecond)); err != nil {
			t.Errorf("play early media: %v", err)
			return
		}
		leg, err := call.Answer(ctx)
		if err != nil {
			t.Errorf("answer: %v", err)
			return
		}
		got <- answered{sess, leg, calleeMedia.ActiveSessions()}
		<-leg.Done()
	}), serverOpts{cfg: func(c *sip.Config) { calleeMedia = c.Media }})
	caller := startServer(t, nil, serverOpts{})

	heard := &collector{}
	var earlies []*media.Session
	leg, err := caller.Dial(testContext(t, 10*time.Second), sip.DialRequest{
		URI: "sip:+14155550100@" + callee.Addr().String(),
		OnEarlyMedia: func(s *media.Session) {
			earlies = append(earlies, s)
			s.SetSink(heard)
		},
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	beforeAnswer := heard.all()
	a := within(t, got, 5*time.Second, "answer by the callee")

	if len(earlies) != 1 || earlies[0] != leg.Media() {
		t.Errorf("OnEarlyMedia called %d times; want once, with the leg's session", len(earlies))
	}
	if !heardTone(beforeAnswer, 1000) {
		t.Errorf("the caller did not hear the early tone before the answer (%d samples)", len(beforeAnswer))
	}
	if a.leg.Media() != a.early {
		t.Error("the answered leg's Media is not the early media session")
	}
	if a.sessions != 1 {
		t.Errorf("callee holds %d RTP sessions after the answer, want 1", a.sessions)
	}
	if got, want := leg.Media().RemoteAddr(), a.early.LocalAddr(); got != want {
		t.Errorf("caller sends RTP to %s, want the early session's %s", got, want)
	}
	if err := leg.Hangup(testContext(t, 5*time.Second)); err != nil {
		t.Fatalf("hangup: %v", err)
	}
	within(t, a.leg.Done(), 5*time.Second, "end of the callee's leg")
	waitCalls(t, callee, 0)
	waitCalls(t, caller, 0)
}

// On the wire: the 183 carries the SDP answer, in the early dialog of the
// 200's To tag, without 100rel; the 200 carries the very same SDP. An
// offerless INVITE gets no early media: EarlyMedia fails with ErrNoOffer and
// the call is still answered (offer in the 200, answer in the ACK).
func TestInboundEarlyMediaRaw(t *testing.T) {
	legs := make(chan *sip.Leg, 1)
	noOffer := make(chan error, 1)
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		sess, err := call.EarlyMedia(ctx)
		if call.RequestUser == "nooffer" {
			noOffer <- err
		} else if err != nil {
			t.Errorf("early media: %v", err)
			return
		} else if err := sess.Play(ctx, sine(700, 200*time.Millisecond)); err != nil {
			t.Errorf("play early media: %v", err)
		}
		leg, err := call.Answer(ctx)
		if err != nil {
			t.Errorf("answer: %v", err)
			return
		}
		legs <- leg
		<-leg.Done()
	}), serverOpts{})
	u := newRawUA(t, srv.Addr())

	t.Run("offer", func(t *testing.T) {
		u := u.as(t)
		c := u.newCall("bob")
		branch, cseq := c.invite(c.offer("sendrecv", "8 0 101"))
		early := u.response(183, 5*time.Second)
		rtpBefore200 := u.rtpIn.Load()
		ok := u.final(branch, 5*time.Second)
		if ok.StatusCode != 200 {
			t.Fatalf("INVITE answered %d", ok.StatusCode)
		}
		if ct := early.ContentType(); ct == nil || ct.Value() != "application/sdp" {
			t.Errorf("183 Content-Type %v, want application/sdp", ct)
		}
		if len(early.Body()) == 0 || string(early.Body()) != string(ok.Body()) {
			t.Errorf("183 SDP differs from the 200's:\n%s\n---\n%s", early.Body(), ok.Body())
		}
		if !strings.Contains(string(early.Body()), "RTP/AVP 8 101") {
			t.Errorf("183 SDP does not answer PCMA:\n%s", early.Body())
		}
		earlyTag, _ := early.To().Params.Get("tag")
		okTag, _ := ok.To().Params.Get("tag")
		if earlyTag == "" || earlyTag != okTag {
			t.Errorf("183 To tag %q, 200 To tag %q: want the same, set", earlyTag, okTag)
		}
		if early.GetHeader("Require") != nil || early.GetHeader("RSeq") != nil || early.Contact() == nil {
			t.Errorf("183 must be unreliable (no Require, no RSeq) with a Contact:\n%s", early)
		}
		if rtpBefore200 == 0 && u.rtpIn.Load() == 0 {
			t.Error("no RTP received with the early media")
		}
		c.established(ok)
		c.ack(cseq, "")
		leg := recvLeg(t, legs)
		waitState(t, leg, sip.StateConfirmed)
		if leg.Codec() != media.PCMA {
			t.Errorf("codec %v, want PCMA", leg.Codec())
		}
		if res := u.final(c.request("BYE", "", ""), 5*time.Second); res.StatusCode != 200 {
			t.Fatalf("BYE: %d", res.StatusCode)
		}
		within(t, leg.Done(), 5*time.Second, "end of the leg")
	})

	t.Run("offerless", func(t *testing.T) {
		u := u.as(t)
		c := u.newCall("nooffer")
		branch, cseq := c.invite("")
		if err := within(t, noOffer, 5*time.Second, "EarlyMedia result"); !errors.Is(err, sip.ErrNoOffer) {
			t.Fatalf("EarlyMedia on an offerless INVITE: %v, want ErrNoOffer", err)
		}
		first := u.next(5*time.Second, "response above 100", func(m gosip.Message) bool {
			r, ok := m.(*gosip.Response)
			return ok && r.StatusCode > 100 && branchOf(r) == branch
		}).(*gosip.Response)
		if first.StatusCode != 200 {
			t.Fatalf("first response %d, want the 200 (no 183 without an offer)", first.StatusCode)
		}
		c.established(first)
		c.ack(cseq, c.offer("sendrecv", "0 101"))
		leg := recvLeg(t, legs)
		waitState(t, leg, sip.StateConfirmed)
		if res := u.final(c.request("BYE", "", ""), 5*time.Second); res.StatusCode != 200 {
			t.Fatalf("BYE: %d", res.StatusCode)
		}
		within(t, leg.Done(), 5*time.Second, "end of the leg")
	})
	waitCalls(t, srv, 0)
}

// Early media, then a rejection: the callee's early session is closed, and so
// is the caller's (the one handed to OnEarlyMedia) when Dial fails.
func TestInboundEarlyMediaThenReject(t *testing.T) {
	heardEarly := make(chan struct{})
	result := make(chan error, 1)
	callee := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		result <- func() error {
			sess, err := call.EarlyMedia(ctx)
			if err != nil {
				return err
			}
			select {
			case <-heardEarly:
			case <-time.After(5 * time.Second):
				return errors.New("the caller never got early media")
			}
			if err := call.Reject(486, ""); err != nil {
				return err
			}
			select {
			case <-sess.Done():
			case <-time.After(5 * time.Second):
				return errors.New("early media session still open after Reject")
			}
			if _, err := call.EarlyMedia(ctx); !errors.Is(err, sip.ErrAlreadyFinal) {
				return fmt.Errorf("EarlyMedia after Reject: %v, want ErrAlreadyFinal", err)
			}
			return nil
		}()
	}), serverOpts{})
	caller := startServer(t, nil, serverOpts{})

	var early *media.Session
	_, err := caller.Dial(testContext(t, 10*time.Second), sip.DialRequest{
		URI: "sip:bob@" + callee.Addr().String(),
		OnEarlyMedia: func(s *media.Session) {
			early = s
			close(heardEarly)
		},
	})
	var de *sip.DialError
	if !errors.As(err, &de) || de.Code != 486 || de.CallID == "" {
		t.Fatalf("dial: %v; want a DialError 486 with the Call-ID", err)
	}
	if early == nil || !isDone(early) {
		t.Error("the caller's early media session is not closed after the failed dial")
	}
	if err := within(t, result, 5*time.Second, "handler result"); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, callee, 0)
	waitCalls(t, caller, 0)
}

// Early media, then the caller gives up: the CANCEL closes the callee's early
// session, and Answer is refused.
func TestInboundEarlyMediaThenCancel(t *testing.T) {
	result := make(chan error, 1)
	callee := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		result <- func() error {
			sess, err := call.EarlyMedia(ctx)
			if err != nil {
				return err
			}
			select {
			case <-call.Canceled():
			case <-time.After(5 * time.Second):
				return errors.New("no CANCEL")
			}
			select {
			case <-sess.Done():
			case <-time.After(5 * time.Second):
				return errors.New("early media session still open after the CANCEL")
			}
			if _, err := call.Answer(context.Background()); !errors.Is(err, sip.ErrCanceled) {
				return fmt.Errorf("answer after cancel: %v, want ErrCanceled", err)
			}
			return nil
		}()
	}), serverOpts{})
	caller := startServer(t, nil, serverOpts{})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := caller.Dial(ctx, sip.DialRequest{
		URI:          "sip:bob@" + callee.Addr().String(),
		OnEarlyMedia: func(*media.Session) { cancel() },
	})
	var de *sip.DialError
	if !errors.As(err, &de) || de.Code != 487 || !errors.Is(err, context.Canceled) {
		t.Fatalf("dial: %v; want 487 after the cancel", err)
	}
	if err := within(t, result, 5*time.Second, "handler result"); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, callee, 0)
	waitCalls(t, caller, 0)
}

// respondTo sends a response to inv from the raw UA, in the dialog with the
// To tag "callee": body, if any, is SDP; extra headers are added as given.
func respondTo(u *rawUA, inv *gosip.Request, code int, reason, body string, extra ...gosip.Header) {
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	res := gosip.NewResponseFromRequest(inv, code, reason, b)
	res.To().Params.Add("tag", "callee")
	if code < 300 {
		res.AppendHeader(gosip.NewHeader("Contact", "<sip:callee@"+u.addr()+">"))
	}
	if body != "" {
		res.AppendHeader(gosip.NewHeader("Content-Type", "application/sdp"))
	}
	for _, h := range extra {
		res.AppendHeader(h)
	}
	u.sendRaw([]byte(res.String()))
}

// inviteFor waits for the INVITE to user (skipping retransmissions of
// others).
func inviteFor(t *testing.T, u *rawUA, user string) *gosip.Request {
	t.Helper()
	return u.as(t).next(5*time.Second, "INVITE for "+user, func(m gosip.Message) bool {
		r, ok := m.(*gosip.Request)
		return ok && r.Method == gosip.INVITE && r.Recipient.User == user
	}).(*gosip.Request)
}

func headerMap(hs []sip.Header) map[string]string {
	m := map[string]string{}
	for _, h := range hs {
		m[strings.ToLower(h.Name)] = h.Value
	}
	return m
}

// An outbound call gets 180 without SDP, then two 183s with SDP, then the
// 200: OnEarlyMedia is called exactly once, with the session already sending
// to the far end's RTP address, and that session is the Leg's Media. The
// Leg's Headers are the X- and User-to-User headers of the 200.
func TestDialOnEarlyMediaOnce(t *testing.T) {
	srv := startServer(t, nil, serverOpts{})
	u := newRawUA(t, srv.Addr())
	type dialed struct {
		leg *sip.Leg
		err error
	}
	got := make(chan dialed, 1)
	var early []*media.Session
	var remoteAtEarly netip.AddrPort
	var progress []int
	progressed := make(chan int, 8)
	go func() {
		leg, err := srv.Dial(testContext(t, 10*time.Second), sip.DialRequest{
			URI: "sip:early@" + u.addr(),
			OnProgress: func(code int, _ string) {
				progress = append(progress, code)
				progressed <- code
			},
			OnEarlyMedia: func(s *media.Session) {
				early = append(early, s)
				remoteAtEarly = s.RemoteAddr()
			},
		})
		got <- dialed{leg, err}
	}()
	inv := inviteFor(t, u, "early")
	sdp := u.newCall("").offer("sendrecv", "0 101")
	respondTo(u, inv, 180, "Ringing", "")
	respondTo(u, inv, 183, "Session Progress", sdp)
	respondTo(u, inv, 183, "Session Progress", strings.Replace(sdp, "o=raw 1 1 ", "o=raw 1 2 ", 1))
	// The 200 only once all three are in: sipgo handles each datagram on a
	// goroutine of its own, so one sent right behind could overtake them.
	for range 3 {
		within(t, progressed, 5*time.Second, "provisional response")
	}
	respondTo(u, inv, 200, "OK", sdp,
		gosip.NewHeader("X-Result", "accepted"),
		gosip.NewHeader("User-to-User", "56a390f3d2b7310023a2;encoding=hex"),
		gosip.NewHeader("Warning", `399 callee "not a custom header"`))
	nextRequest(t, u, "ACK")
	d := within(t, got, 5*time.Second, "Dial result")
	if d.err != nil {
		t.Fatalf("dial: %v", d.err)
	}
	leg := d.leg
	if len(early) != 1 || early[0] != leg.Media() {
		t.Errorf("OnEarlyMedia called %d times; want once, with the leg's session", len(early))
	}
	if want := netip.AddrPortFrom(loopback, uint16(u.rtpPort())); remoteAtEarly != want {
		t.Errorf("session sent to %s when OnEarlyMedia ran, want %s", remoteAtEarly, want)
	}
	// Provisional responses sent back to back may be seen in any order.
	slices.Sort(progress)
	if !slices.Equal(progress, []int{180, 183, 183}) {
		t.Errorf("OnProgress saw %v, want 180 and two 183s", progress)
	}
	h := headerMap(leg.Headers())
	if h["x-result"] != "accepted" || h["user-to-user"] != "56a390f3d2b7310023a2;encoding=hex" || len(h) != 2 {
		t.Errorf("leg headers %v, want the 200's X-Result and User-to-User only", leg.Headers())
	}
	hungUp := make(chan error, 1)
	go func() { hungUp <- leg.Hangup(testContext(t, 5*time.Second)) }()
	if err := within(t, hungUp, 6*time.Second, "hangup"); err != nil {
		t.Fatalf("hangup: %v", err)
	}
	if !isDone(leg.Media()) {
		t.Error("session still open after the hangup")
	}
	waitCalls(t, srv, 0)
}

// A 4xx, 5xx or 6xx final: the DialError has its code, reason, the Call-ID
// of the INVITE and the custom headers of the response.
func TestDialErrorHeaders(t *testing.T) {
	srv := startServer(t, nil, serverOpts{})
	u := newRawUA(t, srv.Addr())
	for _, tc := range []struct {
		code   int
		reason string
	}{{404, "Not Found"}, {486, "Busy Here"}, {503, "Service Unavailable"}, {603, "Decline"}} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			user := fmt.Sprintf("code%d", tc.code)
			got := make(chan error, 1)
			go func() {
				_, err := srv.Dial(testContext(t, 10*time.Second), sip.DialRequest{URI: "sip:" + user + "@" + u.addr()})
				got <- err
			}()
			inv := inviteFor(t, u, user)
			respondTo(u, inv, tc.code, tc.reason, "",
				gosip.NewHeader("X-Reason", fmt.Sprint("code-", tc.code)),
				gosip.NewHeader("User-to-User", "abcd;encoding=hex"),
				gosip.NewHeader("Warning", `399 callee "no"`))
			err := within(t, got, 5*time.Second, "Dial result")
			var de *sip.DialError
			if !errors.As(err, &de) {
				t.Fatalf("dial: %v, want a DialError", err)
			}
			if de.Code != tc.code || de.Reason != tc.reason || de.CallID != inv.CallID().Value() {
				t.Errorf("DialError %d %q call-id %q; want %d %q %q", de.Code, de.Reason, de.CallID, tc.code, tc.reason, inv.CallID().Value())
			}
			h := headerMap(de.Headers)
			if h["x-reason"] != fmt.Sprint("code-", tc.code) || h["user-to-user"] != "abcd;encoding=hex" || len(h) != 2 {
				t.Errorf("DialError headers %v, want X-Reason and User-to-User only", de.Headers)
			}
		})
	}
	waitCalls(t, srv, 0)
}

// TLS is refused before anything is sent, with ErrTLSUnsupported (not
// ErrBadURI) naming the host and port TLS would have used. Nothing reaches
// a TCP listener on the target port (the first connection it accepts is one
// the test opens afterwards), nor the UDP one (the first INVITE it receives
// is that of a later plain dial).
func TestDialTLSRefused(t *testing.T) {
	srv := startServer(t, nil, serverOpts{})
	u := newRawUA(t, srv.Addr())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 16)
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for c := range accepted {
			c.Close()
		}
	})
	tcpAddr := ln.Addr().String()
	for uri, where := range map[string]string{
		"sip:alice@" + tcpAddr + ";transport=tls":       tcpAddr,
		"sip:alice@" + tcpAddr + ";Transport=TLS":       tcpAddr,
		"sips:alice@" + tcpAddr:                         tcpAddr,
		"sips:alice@" + u.addr() + ";transport=udp":     u.addr(),
		"sip:alice@127.0.0.1;transport=tls;region=ie1":  "127.0.0.1:5061",
		"sips:+14155550100@example.com?X-Customer=1":    "example.com:5061",
		"sip:alice@example.com:5070;transport=tls":      "example.com:5070",
		"sip:alice@" + u.addr() + ";transport=tls?X-A=": u.addr(),
	} {
		_, err := srv.Dial(testContext(t, 5*time.Second), sip.DialRequest{URI: uri})
		if !errors.Is(err, sip.ErrTLSUnsupported) || errors.Is(err, sip.ErrBadURI) {
			t.Errorf("dial %q: %v; want ErrTLSUnsupported, not ErrBadURI", uri, err)
			continue
		}
		var de *sip.DialError
		if errors.As(err, &de) {
			t.Errorf("dial %q: %v is a DialError: nothing should have been tried", uri, err)
		}
		if !strings.Contains(err.Error(), where) {
			t.Errorf("dial %q: %q does not name %s", uri, err, where)
		}
	}
	if srv.Calls() != 0 {
		t.Errorf("server holds %d calls", srv.Calls())
	}

	sentinel, err := net.Dial("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer sentinel.Close()
	first := within(t, accepted, 5*time.Second, "sentinel connection")
	if first.RemoteAddr().String() != sentinel.LocalAddr().String() {
		t.Errorf("a connection from %s reached the TLS target before the sentinel", first.RemoteAddr())
	}

	got := make(chan error, 1)
	go func() {
		_, err := srv.Dial(testContext(t, 10*time.Second), sip.DialRequest{URI: "sip:plain@" + u.addr()})
		got <- err
	}()
	first2 := u.next(5*time.Second, "first message", func(gosip.Message) bool { return true })
	inv, ok := first2.(*gosip.Request)
	if !ok || inv.Method != gosip.INVITE || inv.Recipient.User != "plain" {
		t.Fatalf("first message at the UDP target:\n%s\nwant the plain INVITE", first2)
	}
	respondTo(u, inv, 486, "Busy Here", "")
	if err := within(t, got, 5*time.Second, "plain dial result"); err == nil {
		t.Fatal("plain dial answered 486 succeeded")
	}
}

// Twilio's region parameter is not sent to the far end: not in the
// Request-URI, not in the To header; the other parameters and the URI's
// headers are.
func TestDialStripsRegion(t *testing.T) {
	srv := startServer(t, nil, serverOpts{})
	u := newRawUA(t, srv.Addr())
	got := make(chan error, 1)
	go func() {
		_, err := srv.Dial(testContext(t, 10*time.Second), sip.DialRequest{
			URI: "sip:alice@" + u.addr() + ";region=ie1;user=phone;Region=au1?X-Customer=7",
		})
		got <- err
	}()
	inv := inviteFor(t, u, "alice")
	if ru := inv.Recipient.String(); strings.Contains(strings.ToLower(ru), "region") || !strings.Contains(ru, ";user=phone") {
		t.Errorf("Request-URI %q: want user=phone kept, region dropped", ru)
	}
	if to := inv.To().Value(); strings.Contains(strings.ToLower(to), "region") {
		t.Errorf("To %q carries the region", to)
	}
	if h := inv.GetHeader("X-Customer"); h == nil || h.Value() != "7" {
		t.Errorf("X-Customer header %v, want 7", h)
	}
	respondTo(u, inv, 486, "Busy Here", "")
	var de *sip.DialError
	if err := within(t, got, 5*time.Second, "Dial result"); !errors.As(err, &de) || de.Code != 486 {
		t.Fatalf("dial: %v, want 486", err)
	}
	waitCalls(t, srv, 0)
}
