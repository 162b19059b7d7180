package sip_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/sip"
	"github.com/switchboard-voice/switchboard/internal/softphone"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var loopback = netip.MustParseAddr("127.0.0.1")

// rtpPorts hands each test engine a range of its own, so parallel tests never
// compete for ports.
var rtpPorts atomic.Int32

func newEngine(t testing.TB, inactivity time.Duration) *media.Engine {
	t.Helper()
	// Below Linux's ephemeral range (32768+), which other sockets draw from.
	lo := 23000 + int(rtpPorts.Add(1)%30)*100
	e, err := media.NewEngine(media.EngineConfig{IP: loopback, PortMin: lo, PortMax: lo + 99, InactivityTimeout: inactivity})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

type serverOpts struct {
	inactivity time.Duration // media inactivity timeout; 0 disables it
	cfg        func(*sip.Config)
}

// startServer runs a Server on a free loopback port until the test ends.
func startServer(t *testing.T, h sip.Handler, o serverOpts) *sip.Server {
	t.Helper()
	inactivity := o.inactivity
	if inactivity == 0 {
		inactivity = -1
	}
	cfg := sip.Config{Addr: "127.0.0.1:0", Media: newEngine(t, inactivity), ShutdownTimeout: 3 * time.Second}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	srv, err := sip.NewServer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ListenAndServe: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("ListenAndServe did not return")
		}
	})
	return srv
}

func startPhone(t *testing.T) *softphone.Phone {
	t.Helper()
	lo := 26000 + int(rtpPorts.Add(1)%20)*100
	p, err := softphone.Start(softphone.Config{RTPPortMin: lo, RTPPortMax: lo + 99, InactivityTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// sine is a tiny tone generator: a media.Source of freq Hz for d.
func sine(freq float64, d time.Duration) media.Source {
	total := int(d.Seconds() * media.SampleRate)
	n := 0
	return media.SourceFunc(func(frame []int16) error {
		if n >= total {
			return io.EOF
		}
		for i := range frame {
			frame[i] = int16(10000 * math.Sin(2*math.Pi*freq*float64(n)/media.SampleRate))
			n++
		}
		return nil
	})
}

// collector is a media.Sink that keeps what it hears.
type collector struct {
	mu      sync.Mutex
	samples []int16
}

func (c *collector) WriteFrame(frame []int16) error {
	c.mu.Lock()
	c.samples = append(c.samples, frame...)
	c.mu.Unlock()
	return nil
}

func (c *collector) all() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int16(nil), c.samples...)
}

// heardTone reports whether samples hold a tone at freq: in some 100 ms
// window the tone's power dominates that of a tone elsewhere in the band.
func heardTone(samples []int16, freq float64) bool {
	const win = 800
	for off := 0; off+win <= len(samples); off += win {
		block := samples[off : off+win]
		on := dsp.GoertzelPower(block, freq, media.SampleRate)
		off1 := dsp.GoertzelPower(block, freq*1.37, media.SampleRate)
		if dsp.RMS(block) > 1000 && on > 50*off1 {
			return true
		}
	}
	return false
}

// rawUA speaks SIP over UDP byte by byte, to send what a well-behaved user
// agent would not and to watch every response.
type rawUA struct {
	t      testing.TB
	conn   *net.UDPConn
	rtp    *net.UDPConn
	server netip.AddrPort
	msgs   chan gosip.Message
	done   chan struct{}
	seen   *sync.Map     // branches whose final response was consumed
	rtpIn  *atomic.Int64 // RTP packets received
}

func newRawUA(t testing.TB, server netip.AddrPort) *rawUA {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUA{t: t, conn: conn, rtp: rtp, server: server, msgs: make(chan gosip.Message, 256), done: make(chan struct{}), seen: &sync.Map{}, rtpIn: &atomic.Int64{}}
	go u.read()
	go u.drainRTP()
	t.Cleanup(func() {
		conn.Close()
		rtp.Close()
		<-u.done
	})
	return u
}

func (u *rawUA) read() {
	defer close(u.done)
	buf := make([]byte, 65535)
	for {
		n, err := u.conn.Read(buf)
		if err != nil {
			return
		}
		msg, err := gosip.ParseMessage(append([]byte(nil), buf[:n]...))
		if err != nil {
			continue
		}
		if r, ok := msg.(*gosip.Response); ok && r.StatusCode >= 300 && r.CSeq() != nil && r.CSeq().MethodName == gosip.INVITE {
			u.ackFailure(r)
		}
		if r, ok := msg.(*gosip.Request); ok && r.Method == gosip.BYE {
			res := gosip.NewResponseFromRequest(r, 200, "OK", nil)
			_, _ = u.conn.WriteToUDPAddrPort([]byte(res.String()), u.server)
		}
		select {
		case u.msgs <- msg:
		default:
		}
	}
}

// ackFailure acknowledges a final error response to an INVITE, as the client
// transaction must (RFC 3261 §17.1.1.3), so the server stops retransmitting it.
func (u *rawUA) ackFailure(r *gosip.Response) {
	via := r.Via()
	if via == nil {
		return
	}
	branch, _ := via.Params.Get("branch")
	ack := fmt.Sprintf("ACK sip:ack@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s\r\nCSeq: %d ACK\r\nMax-Forwards: 70\r\n", u.server, u.addr(), branch, r.CSeq().SeqNo)
	for _, h := range []gosip.Header{r.From(), r.To(), r.CallID()} {
		if h != nil && !reflect.ValueOf(h).IsNil() {
			ack += h.Name() + ": " + h.Value() + "\r\n"
		}
	}
	ack += "Content-Length: 0\r\n\r\n"
	_, _ = u.conn.WriteToUDPAddrPort([]byte(ack), u.server)
}

// as returns the UA reporting failures to t (a subtest).
func (u *rawUA) as(t testing.TB) *rawUA {
	c := *u
	c.t = t
	return &c
}

func (u *rawUA) drainRTP() {
	buf := make([]byte, 2048)
	for {
		if _, err := u.rtp.Read(buf); err != nil {
			return
		}
		u.rtpIn.Add(1)
	}
}

func (u *rawUA) addr() string       { return u.conn.LocalAddr().String() }
func (u *rawUA) rtpPort() int       { return u.rtp.LocalAddr().(*net.UDPAddr).Port }
func (u *rawUA) serverAddr() string { return u.server.String() }

// rtpDuring counts the RTP packets the UA receives during d.
func (u *rawUA) rtpDuring(d time.Duration) int64 {
	n := u.rtpIn.Load()
	time.Sleep(d)
	return u.rtpIn.Load() - n
}

// sendRaw sends bytes as they are.
func (u *rawUA) sendRaw(b []byte) {
	u.t.Helper()
	if _, err := u.conn.WriteToUDPAddrPort(b, u.server); err != nil {
		u.t.Fatal(err)
	}
}

// send sends a message written with LF line ends, with CRLF on the wire and
// the Content-Length of body added.
func (u *rawUA) send(head string, body string) {
	u.t.Helper()
	head = strings.TrimRight(head, "\n")
	msg := strings.ReplaceAll(head, "\n", "\r\n") + fmt.Sprintf("\r\nContent-Length: %d\r\n\r\n", len(body)) + body
	u.sendRaw([]byte(msg))
}

// branchOf is the top Via branch of a message.
func branchOf(m gosip.Message) string {
	if v := m.Via(); v != nil {
		b, _ := v.Params.Get("branch")
		return b
	}
	return ""
}

// txOf names the transaction a response belongs to: its branch and method.
func txOf(m gosip.Message) string {
	method := ""
	if c := m.CSeq(); c != nil {
		method = string(c.MethodName)
	}
	return branchOf(m) + " " + method
}

// retransmitted reports whether m is a final response already consumed (the
// server retransmits final responses over UDP until they are acknowledged).
func (u *rawUA) retransmitted(m gosip.Message) bool {
	r, ok := m.(*gosip.Response)
	if !ok || r.StatusCode < 200 {
		return false
	}
	_, seen := u.seen.Load(txOf(m))
	return seen
}

// next returns the next message that satisfies ok, failing after d.
func (u *rawUA) next(d time.Duration, what string, ok func(gosip.Message) bool) gosip.Message {
	u.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-u.msgs:
			if u.retransmitted(m) || !ok(m) {
				continue
			}
			if r, isRes := m.(*gosip.Response); isRes && r.StatusCode >= 200 {
				u.seen.Store(txOf(m), true)
			}
			return m
		case <-deadline:
			u.t.Fatalf("no %s within %v", what, d)
			return nil
		}
	}
}

// response waits for a response with the code (skipping others).
func (u *rawUA) response(code int, d time.Duration) *gosip.Response {
	u.t.Helper()
	return u.next(d, fmt.Sprintf("%d response", code), func(m gosip.Message) bool {
		r, ok := m.(*gosip.Response)
		return ok && r.StatusCode == code
	}).(*gosip.Response)
}

// final waits for the final response to the request sent with branch.
func (u *rawUA) final(branch string, d time.Duration) *gosip.Response {
	u.t.Helper()
	return u.next(d, "final response to "+branch, func(m gosip.Message) bool {
		r, ok := m.(*gosip.Response)
		return ok && r.StatusCode >= 200 && branchOf(r) == branch
	}).(*gosip.Response)
}

// retransmission waits for a final response to the request sent with branch,
// retransmissions included.
func (u *rawUA) retransmission(branch string, code int, d time.Duration) {
	u.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-u.msgs:
			if r, ok := m.(*gosip.Response); ok && r.StatusCode == code && branchOf(r) == branch {
				return
			}
		case <-deadline:
			u.t.Fatalf("no retransmitted %d within %v", code, d)
		}
	}
}

// request waits for a request of method.
func (u *rawUA) request(method string, d time.Duration) *gosip.Request {
	u.t.Helper()
	return u.next(d, method, func(m gosip.Message) bool {
		r, ok := m.(*gosip.Request)
		return ok && string(r.Method) == method
	}).(*gosip.Request)
}

// quiet asserts that no new message arrives within d (retransmissions of
// responses already seen do not count).
func (u *rawUA) quiet(d time.Duration) {
	u.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-u.msgs:
			if !u.retransmitted(m) {
				u.t.Fatalf("unexpected message:\n%s", m)
			}
		case <-deadline:
			return
		}
	}
}

// rawCall is one call of the raw UA: what its requests need.
type rawCall struct {
	u       *rawUA
	callID  string
	fromTag string
	toTag   string
	user    string
	cseq    int
	branch  int
	target  string // the server's Contact, from the 200
}

var rawSeq atomic.Int64

func (u *rawUA) newCall(user string) *rawCall {
	n := rawSeq.Add(1)
	return &rawCall{u: u, callID: fmt.Sprintf("raw-%d@test", n), fromTag: fmt.Sprintf("ft%d", n), user: user, cseq: 1}
}

func (c *rawCall) nextBranch() string {
	c.branch++
	return fmt.Sprintf("z9hG4bK-%s-%d", c.fromTag, c.branch)
}

// offer is an SDP offer for the raw UA's RTP port.
func (c *rawCall) offer(dir string, codecs string) string {
	return fmt.Sprintf("v=0\r\no=raw 1 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n",
		c.cseq, c.u.rtpPort(), codecs, dir)
}

// headers are the dialog headers of a request with method and CSeq cseq.
func (c *rawCall) headers(method string, cseq int, branch string) string {
	to := fmt.Sprintf("<sip:%s@%s>", c.user, c.u.serverAddr())
	if c.toTag != "" {
		to += ";tag=" + c.toTag
	}
	return fmt.Sprintf("Via: SIP/2.0/UDP %s;branch=%s;rport\nFrom: \"Raw\" <sip:raw@%s>;tag=%s\nTo: %s\nCall-ID: %s\nCSeq: %d %s\nContact: <sip:raw@%s>\nMax-Forwards: 70\n",
		c.u.addr(), branch, c.u.addr(), c.fromTag, to, c.callID, cseq, method, c.u.addr())
}

// invite sends an INVITE (a re-INVITE once the dialog has its To tag) and
// returns its branch and CSeq; extra headers are added as they are.
func (c *rawCall) invite(sdp string, extra ...string) (branch string, cseq int) {
	branch = c.nextBranch()
	uri := fmt.Sprintf("sip:%s@%s", c.user, c.u.serverAddr())
	if c.target != "" {
		uri = c.target
	}
	head := "INVITE " + uri + " SIP/2.0\n" + c.headers("INVITE", c.cseq, branch)
	for _, h := range extra {
		head += h + "\n"
	}
	if sdp != "" {
		head += "Content-Type: application/sdp\n"
	}
	c.u.send(head, sdp)
	return branch, c.cseq
}

// established records the dialog a 2xx creates.
func (c *rawCall) established(res *gosip.Response) {
	c.toTag, _ = res.To().Params.Get("tag")
	if ct := res.Contact(); ct != nil {
		c.target = ct.Address.String()
	}
}

// ack acknowledges the 2xx of the INVITE with CSeq cseq.
func (c *rawCall) ack(cseq int, sdp string) {
	head := "ACK " + c.target + " SIP/2.0\n" + c.headers("ACK", cseq, c.nextBranch())
	if sdp != "" {
		head += "Content-Type: application/sdp\n"
	}
	c.u.send(head, sdp)
}

// request sends a new request within the dialog and returns its branch.
func (c *rawCall) request(method, contentType, body string) string {
	c.cseq++
	branch := c.nextBranch()
	head := method + " " + c.target + " SIP/2.0\n" + c.headers(method, c.cseq, branch)
	if contentType != "" {
		head += "Content-Type: " + contentType + "\n"
	}
	c.u.send(head, body)
	return branch
}

// establish runs INVITE, 200, ACK and returns the 200.
func (c *rawCall) establish(t *testing.T, extra ...string) *gosip.Response {
	t.Helper()
	branch, cseq := c.invite(c.offer("sendrecv", "0 8 101"), extra...)
	res := c.u.as(t).final(branch, 5*time.Second)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE answered %d %s", res.StatusCode, res.Reason)
	}
	c.established(res)
	c.ack(cseq, "")
	return res
}
