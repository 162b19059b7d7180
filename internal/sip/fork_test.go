package sip_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchboard-voice/switchboard/internal/sip"
)

// ok200 is a 200 OK to inv from the dialog with toTag, as a UAS behind a
// forking proxy sends it.
func ok200(inv *gosip.Request, toTag, contact, recordRoute, sdp string) []byte {
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	for _, h := range inv.GetHeaders("Via") {
		b.WriteString("Via: " + h.Value() + "\r\n")
	}
	b.WriteString("From: " + inv.From().Value() + "\r\n")
	b.WriteString("To: " + inv.To().Value() + ";tag=" + toTag + "\r\n")
	b.WriteString("Call-ID: " + inv.CallID().Value() + "\r\n")
	b.WriteString("CSeq: " + inv.CSeq().Value() + "\r\n")
	b.WriteString("Contact: " + contact + "\r\n")
	if recordRoute != "" {
		b.WriteString("Record-Route: " + recordRoute + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(sdp), sdp)
	return []byte(b.String())
}

// nextRequest returns the next request the raw UA receives, which must be a
// method one; retransmitted INVITEs and responses are skipped.
func nextRequest(t *testing.T, u *rawUA, method string) *gosip.Request {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-u.msgs:
			r, ok := m.(*gosip.Request)
			if !ok || r.Method == gosip.INVITE {
				continue
			}
			if string(r.Method) != method {
				t.Fatalf("got %s, want %s:\n%s", r.Method, method, r)
			}
			return r
		case <-deadline:
			t.Fatalf("no %s within 5s", method)
			return nil
		}
	}
}

// inDialog checks that req was sent within the dialog with toTag: its To
// tag, its Request-URI (the dialog's remote target), its Route set and CSeq.
func inDialog(t *testing.T, req *gosip.Request, toTag, target, route string, cseq uint32) {
	t.Helper()
	if tag, _ := req.To().Params.Get("tag"); tag != toTag {
		t.Errorf("%s To tag %q, want %q", req.Method, tag, toTag)
	}
	if got := req.Recipient.String(); got != target {
		t.Errorf("%s Request-URI %q, want %q", req.Method, got, target)
	}
	var routes []string
	for _, h := range req.GetHeaders("Route") {
		routes = append(routes, h.Value())
	}
	if got := strings.Join(routes, ","); got != route {
		t.Errorf("%s Route %q, want %q", req.Method, got, route)
	}
	if got := req.CSeq().SeqNo; got != cseq {
		t.Errorf("%s CSeq %d, want %d", req.Method, got, cseq)
	}
}

// A forked INVITE answered by two phones (RFC 3261 §13.2.2.4): the first 2xx
// becomes the Leg; the second, from another dialog, gets an ACK of its own
// dialog (To tag, Contact, route set) and a BYE. Retransmissions of either
// 2xx are acknowledged again in their own dialog, without a second BYE, and
// the Leg stays up.
func TestDialForked2xx(t *testing.T) {
	srv := startServer(t, nil, serverOpts{})
	u := newRawUA(t, srv.Addr())
	type dialed struct {
		leg *sip.Leg
		err error
	}
	got := make(chan dialed, 1)
	go func() {
		leg, err := srv.Dial(testContext(t, 10*time.Second), sip.DialRequest{URI: "sip:fork@" + u.addr()})
		got <- dialed{leg, err}
	}()
	inv := u.request("INVITE", 5*time.Second)
	sdp := u.newCall("").offer("sendrecv", "0 101")
	// Phone A answers directly; phone B's answer names a proxy (the raw UA
	// again) in Record-Route, and a Contact nobody listens on: the ACK and BYE
	// of B's dialog must go to the Contact by way of the route.
	targetA, targetB := "sip:a@"+u.addr(), "sip:b@127.0.0.1:9"
	route := "<sip:proxy@" + u.addr() + ";lr>"
	okA := ok200(inv, "tag-a", "<"+targetA+">", "", sdp)
	okB := ok200(inv, "tag-b", "<"+targetB+">", route, sdp)

	u.sendRaw(okA)
	inDialog(t, nextRequest(t, u, "ACK"), "tag-a", targetA, "", 1)
	d := <-got
	if d.err != nil {
		t.Fatalf("dial: %v", d.err)
	}
	leg := d.leg

	u.sendRaw(okB)
	inDialog(t, nextRequest(t, u, "ACK"), "tag-b", targetB, route, 1)
	inDialog(t, nextRequest(t, u, "BYE"), "tag-b", targetB, route, 2)

	// Retransmissions of each 2xx: re-acknowledged in their own dialog.
	u.sendRaw(okB)
	inDialog(t, nextRequest(t, u, "ACK"), "tag-b", targetB, route, 1)
	u.sendRaw(okA)
	inDialog(t, nextRequest(t, u, "ACK"), "tag-a", targetA, "", 1)

	select {
	case <-leg.Done():
		t.Fatalf("leg ended (%s) by the other fork's BYE", leg.EndReason())
	default:
	}
	if leg.State() != sip.StateConfirmed || leg.CallID() != inv.CallID().Value() || srv.Calls() != 1 {
		t.Fatalf("leg state %s, call-id %q, %d calls; want the first dialog confirmed, alone", leg.State(), leg.CallID(), srv.Calls())
	}
	// Hanging up the leg ends dialog A; the next BYE is that one, so none
	// was sent again for B.
	hungUp := make(chan error, 1)
	go func() { hungUp <- leg.Hangup(testContext(t, 5*time.Second)) }()
	inDialog(t, nextRequest(t, u, "BYE"), "tag-a", targetA, "", 2)
	if err := <-hungUp; err != nil {
		t.Fatalf("hangup: %v", err)
	}
}

// tcpUAS is a user agent server that listens on TCP only and hands over every
// request it reads with the connection it came on.
type tcpUAS struct {
	ln   net.Listener
	reqs chan tcpRequest
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
}

type tcpRequest struct {
	req  *gosip.Request
	conn net.Conn
}

func newTCPUAS(t *testing.T) *tcpUAS {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &tcpUAS{ln: ln, reqs: make(chan tcpRequest, 16)}
	u.wg.Add(1)
	go u.accept()
	t.Cleanup(func() {
		ln.Close()
		u.mu.Lock()
		for _, c := range u.conns {
			c.Close()
		}
		u.mu.Unlock()
		u.wg.Wait()
	})
	return u
}

func (u *tcpUAS) accept() {
	defer u.wg.Done()
	for {
		c, err := u.ln.Accept()
		if err != nil {
			return
		}
		u.mu.Lock()
		u.conns = append(u.conns, c)
		u.mu.Unlock()
		u.wg.Add(1)
		go u.read(c)
	}
}

func (u *tcpUAS) read(c net.Conn) {
	defer u.wg.Done()
	r := bufio.NewReader(c)
	for {
		msg, err := readStreamMessage(r)
		if err != nil {
			return
		}
		if req, ok := msg.(*gosip.Request); ok {
			u.reqs <- tcpRequest{req, c}
		}
	}
}

// readStreamMessage reads one SIP message from a stream: the head up to the
// empty line, then Content-Length bytes of body.
func readStreamMessage(r *bufio.Reader) (gosip.Message, error) {
	var head strings.Builder
	length := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		trimmed := strings.TrimRight(line, "\r\n")
		if trimmed == "" {
			if head.Len() == 0 {
				continue // keep-alive CRLF
			}
			break
		}
		head.WriteString(trimmed + "\r\n")
		if name, value, ok := strings.Cut(trimmed, ":"); ok {
			if n := strings.ToLower(strings.TrimSpace(name)); n == "content-length" || n == "l" {
				length, _ = strconv.Atoi(strings.TrimSpace(value))
			}
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return gosip.ParseMessage([]byte(head.String() + "\r\n" + string(body)))
}

func (u *tcpUAS) next(t *testing.T, method string) tcpRequest {
	t.Helper()
	select {
	case r := <-u.reqs:
		if string(r.req.Method) != method {
			t.Fatalf("got %s, want %s:\n%s", r.req.Method, method, r.req)
		}
		return r
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s within 5s", method)
		return tcpRequest{}
	}
}

// respond answers r on the connection it came on.
func (r tcpRequest) respond(t *testing.T, b []byte) {
	t.Helper()
	if _, err := r.conn.Write(b); err != nil {
		t.Fatal(err)
	}
}

// ;transport=tcp in the Dial URI is honoured: the INVITE, its ACK and the BYE
// reach a UAS that listens on TCP only, and switchboard's Via and Contact say
// TCP.
func TestDialTCPOnly(t *testing.T) {
	srv := startServer(t, nil, serverOpts{})
	uas := newTCPUAS(t)
	addr := uas.ln.Addr().String()
	type dialed struct {
		leg *sip.Leg
		err error
	}
	got := make(chan dialed, 1)
	go func() {
		leg, err := srv.Dial(testContext(t, 10*time.Second), sip.DialRequest{URI: "sip:tcp@" + addr + ";transport=tcp"})
		got <- dialed{leg, err}
	}()
	inv := uas.next(t, "INVITE")
	if v := inv.req.Via(); v == nil || !strings.EqualFold(v.Transport, "TCP") {
		t.Fatalf("INVITE Via %v, want SIP/2.0/TCP", v)
	}
	if c := inv.req.Contact(); c == nil || !strings.Contains(c.Value(), "transport=tcp") {
		t.Fatalf("INVITE Contact %v, want ;transport=tcp", c)
	}
	target := "sip:tcp@" + addr + ";transport=tcp"
	inv.respond(t, ok200(inv.req, "tcp-tag", "<"+target+">", "",
		"v=0\r\no=tcp 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n"))
	ack := uas.next(t, "ACK")
	inDialog(t, ack.req, "tcp-tag", target, "", 1)
	d := <-got
	if d.err != nil {
		t.Fatalf("dial: %v", d.err)
	}
	if d.leg.State() != sip.StateConfirmed {
		t.Fatalf("leg state %s", d.leg.State())
	}
	hungUp := make(chan error, 1)
	go func() { hungUp <- d.leg.Hangup(testContext(t, 5*time.Second)) }()
	bye := uas.next(t, "BYE")
	inDialog(t, bye.req, "tcp-tag", target, "", 2)
	if v := bye.req.Via(); v == nil || !strings.EqualFold(v.Transport, "TCP") {
		t.Fatalf("BYE Via %v, want TCP", v)
	}
	bye.respond(t, []byte(gosip.NewResponseFromRequest(bye.req, 200, "OK", nil).String()))
	if err := <-hungUp; err != nil {
		t.Fatalf("hangup: %v", err)
	}
}
