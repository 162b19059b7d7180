package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/media"
)

// Config configures a Server.
type Config struct {
	// Addr is the host:port SIP listens on, over UDP and TCP alike. Port 0
	// picks a free port (the same number for both transports).
	Addr string
	// Media creates the RTP session of every call. Required to answer or dial.
	Media *media.Engine
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// UserAgent is the User-Agent and Server header value; default "switchboard".
	UserAgent string
	// ContactHost is the host written in Contact and Via headers; default the
	// host of Addr (or 127.0.0.1 when Addr's host is unspecified).
	ContactHost string
	// Clock drives the call timers (2xx retransmission, ACK wait, ring
	// timeout); default clock.Real. sipgo's transaction timers run on real time.
	Clock clock.Clock
	// ShutdownTimeout bounds how long ListenAndServe waits, once its context
	// ends, for calls to be hung up and handlers to return; default 5 s.
	ShutdownTimeout time.Duration

	// TCPHandshakeTimeout is how long an accepted SIP TCP connection has to
	// deliver its first complete message before it is closed; default 30 s,
	// negative for no limit.
	TCPHandshakeTimeout time.Duration
	// TCPIdleTimeout is how long a SIP TCP connection lives without traffic
	// in either direction once it delivered a message; default 120 s (as
	// Kamailio), negative for no limit. A call set up over TCP that sends no
	// SIP for longer has its next request (a BYE) sent on a new connection.
	TCPIdleTimeout time.Duration
	// MaxTCPConnsPerIP caps the SIP TCP connections from one address; those
	// over it are closed as they are accepted. Default 64, negative for no cap.
	MaxTCPConnsPerIP int
	// MaxTCPConns caps the SIP TCP connections in all; default 1024, negative
	// for no cap.
	MaxTCPConns int

	// Admit is consulted for every new INVITE (not re-INVITEs, not
	// retransmissions absorbed by their transaction) before any work is done
	// for it. A positive result refuses the call at once: 503 Service
	// Unavailable with that Retry-After (in seconds, rounded up), sent
	// without retransmissions, and the Handler never sees the call. nil
	// admits everything.
	Admit func() (retryAfter time.Duration)
	// MaxCallRate caps new INVITEs per second (a token bucket on Clock, with
	// one second's worth of burst, at least 1); those over it get 503 with
	// Retry-After: 1 as for Admit. 0 means no cap.
	MaxCallRate float64
	// QueueTarget and QueueInterval judge the UDP listener's queue (see
	// queuedelay.go): while the datagrams read have waited over QueueTarget
	// since they arrived, for at least QueueInterval, new INVITEs get 503
	// with Retry-After: 1. Defaults DefaultQueueTarget and
	// DefaultQueueInterval; a negative QueueTarget turns the rule off.
	QueueTarget, QueueInterval time.Duration
}

// Handler decides what to do with a new inbound call. HandleInbound runs on a
// goroutine of its own for each call; ctx ends when the call is over (canceled
// before the answer, hung up by either side, timed out) or the server shuts
// down. The call is over when HandleInbound returns: a call it left
// unanswered is rejected with 500, a leg it answered and left up is hung up.
type Handler interface {
	HandleInbound(ctx context.Context, call *InboundCall)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, call *InboundCall)

// HandleInbound calls f(ctx, call).
func (f HandlerFunc) HandleInbound(ctx context.Context, call *InboundCall) { f(ctx, call) }

// lateMessageGrace is how long shutdown lets messages already read finish
// before the transport layer closes.
const lateMessageGrace = 20 * time.Millisecond

// allowed is the Allow header of switchboard's responses (RFC 3261 §20.5).
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"

// knownMethods are the methods answered 405 rather than 501 (RFC 3261 §21.4.6,
// §21.5.2): recognised, but not something a voice application server does.
var knownMethods = map[sip.RequestMethod]bool{
	sip.REGISTER: true, sip.SUBSCRIBE: true, sip.NOTIFY: true, sip.MESSAGE: true,
	sip.PUBLISH: true, sip.REFER: true, sip.UPDATE: true, sip.PRACK: true,
}

// A Server is a SIP user agent: it answers calls (UAS) through its Handler and
// places calls (UAC) with Dial, on one UDP and one TCP listener. sipgo provides
// the parser, transports and transactions; dialogs, the call state machine and
// SDP offer/answer are this package's.
type Server struct {
	cfg     Config
	h       Handler
	log     *slog.Logger
	clock   clock.Clock
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	client  *sipgo.Client
	ready   chan struct{}
	baseCtx context.Context
	stop    context.CancelFunc
	// wg counts handler goroutines and leg monitors.
	wg sync.WaitGroup
	// draining is set once shutdown has ended the calls.
	draining atomic.Bool
	// bg counts background work that outlives a Dial (waiting to CANCEL).
	bg sync.WaitGroup

	// noise rate-limits the logs the network's input causes (ratelog.go).
	noise *rateLog
	// udpSource is the source of the datagram sipgo's UDP reader is parsing,
	// noted by readFilter for sipgoLogHandler.
	udpSource atomic.Pointer[net.UDPAddr]
	// rate is the MaxCallRate bucket; nil for no cap.
	rate        *tokenBucket
	rateRefused atomic.Uint64 // INVITEs refused for it (RateRefused)
	// udpConn is the UDP listener, with the arrival time of the datagram
	// being read; queue judges those waits.
	udpConn atomic.Pointer[stampedConn]
	queue   queueDelay

	// mu guards the fields below.
	mu       sync.Mutex
	started  bool
	closing  bool
	bgClosed bool // no more background work: bg is being waited for
	addr     netip.AddrPort
	udpLaddr sip.Addr
	legs     map[dialogKey]*Leg
	calls    map[*InboundCall]struct{}
	admitted uint64 // new INVITEs ever put in calls (Admitted)
	// invites are the INVITEs answered with a 2xx, for their
	// retransmissions (linger.go).
	invites inviteMemory
}

// NewServer returns a server that passes inbound calls to h. A nil h makes a
// dial-only user agent that declines inbound calls with 480 Temporarily
// Unavailable. Nothing listens until ListenAndServe.
func NewServer(cfg Config, h Handler) (*Server, error) {
	if cfg.Addr == "" {
		return nil, fmt.Errorf("sip: %w: Addr is required", ErrBadConfig)
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("sip: %w: addr %q: %w", ErrBadConfig, cfg.Addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("sip: %w: addr %q: bad port", ErrBadConfig, cfg.Addr)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "switchboard"
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	if cfg.TCPHandshakeTimeout == 0 {
		cfg.TCPHandshakeTimeout = 30 * time.Second
	}
	if cfg.TCPIdleTimeout == 0 {
		cfg.TCPIdleTimeout = 120 * time.Second
	}
	if cfg.MaxTCPConnsPerIP == 0 {
		cfg.MaxTCPConnsPerIP = 64
	}
	if cfg.MaxTCPConns == 0 {
		cfg.MaxTCPConns = 1024
	}
	if cfg.QueueTarget == 0 {
		cfg.QueueTarget = DefaultQueueTarget
	}
	if cfg.QueueInterval <= 0 {
		cfg.QueueInterval = DefaultQueueInterval
	}
	if cfg.ContactHost == "" {
		cfg.ContactHost = host
		if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
			cfg.ContactHost = "127.0.0.1"
		}
	}
	if h == nil {
		h = HandlerFunc(func(_ context.Context, c *InboundCall) {
			_ = c.Reject(480, "Temporarily Unavailable")
		})
	}
	s := &Server{cfg: cfg, h: h, log: cfg.Logger, clock: cfg.Clock,
		noise: newRateLog(cfg.Clock, rateLogInterval), rate: newTokenBucket(cfg.Clock, cfg.MaxCallRate),
		queue: queueDelay{target: cfg.QueueTarget, interval: cfg.QueueInterval}}
	sipLog := slog.New(&sipgoLogHandler{next: cfg.Logger.Handler(), s: s}).With("component", "sipgo")
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentHostname(cfg.ContactHost),
		sipgo.WithUserAgentParser(sip.NewParser(sip.WithHeadersParsers(lenientHeaders()))),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog),
			sip.WithTransactionLayerUnhandledResponseHandler(func(*sip.Response) {})),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog),
			sip.WithTransportLayerReadFilter(s.readFilter)),
	)
	if err != nil {
		return nil, fmt.Errorf("sip: user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("sip: server: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(sipLog), sipgo.WithClientHostname(cfg.ContactHost))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("sip: client: %w", err)
	}
	s.ua, s.srv, s.client = ua, srv, client
	s.baseCtx, s.stop = context.WithCancel(context.Background())
	s.ready = make(chan struct{})
	s.legs = make(map[dialogKey]*Leg)
	s.calls = make(map[*InboundCall]struct{})
	srv.OnInvite(s.guard(s.onInvite))
	srv.OnAck(s.onAck)
	srv.OnBye(s.guard(s.onBye))
	srv.OnCancel(s.guard(s.onCancel))
	srv.OnOptions(s.guard(s.onOptions))
	srv.OnInfo(s.guard(s.onInfo))
	srv.OnNoRoute(s.guard(s.onOther))
	return s, nil
}

// readFilter is the transport read hook: it repairs malformed UDP requests so
// they can be answered 400 (see sanitize.go), and once the calls have been
// hung up at shutdown it drops new UDP requests, so that none starts a
// transaction while the listeners close. On the listener it also judges how
// long datagrams waited to be read (queuedelay.go) and, while new calls are
// refused, answers new INVITEs itself (shed.go). Stream transports deliver
// reads, not messages, so they are left alone.
func (s *Server) readFilter(p sip.TransportReadProps, data []byte) ([]byte, error) {
	if p.Transport != "UDP" {
		return data, nil
	}
	a, _ := p.RemoteAddr.(*net.UDPAddr)
	s.udpSource.Store(a)
	if s.draining.Load() && !bytes.HasPrefix(data, []byte("SIP/")) {
		return nil, nil
	}
	if c := s.udpConn.Load(); c != nil && p.LocalAddr == c.LocalAddr() {
		if s.cfg.QueueTarget > 0 {
			now := time.Now()
			wait := c.wait(now)
			if standing, changed := s.queue.observe(now, wait); standing && changed {
				if ok, n := s.noise.allow("sip queue"); ok {
					s.log.Warn("overload: requests wait in the SIP socket; refusing new calls until they do not",
						"wait", wait, "target", s.cfg.QueueTarget, "suppressed", n)
				}
			}
		}
		if s.shed(c, data, a) {
			return nil, nil
		}
	}
	return sanitizeDatagram(data), nil
}

// Ready is closed once the server listens on both UDP and TCP.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the address the server listens on (valid once Ready is closed).
func (s *Server) Addr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// ListenAndServe listens on Config.Addr over UDP and TCP and serves until ctx
// ends. Then it stops taking calls (new INVITEs get 503), hangs up every call
// with BYE, waits for handlers to return (up to Config.ShutdownTimeout) and
// closes the listeners. It returns nil after a shutdown, or the error that kept
// it from listening.
func (s *Server) ListenAndServe(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("sip: server already started")
	}
	s.started = true
	s.mu.Unlock()

	udp, rawTCP, err := listen(s.cfg.Addr)
	if err != nil {
		s.stop()
		s.ua.Close()
		return err
	}
	tcp := s.guardListener(rawTCP)
	if uc, ok := udp.(*net.UDPConn); ok {
		sc := stampConn(uc)
		s.udpConn.Store(sc)
		udp = sc
	}
	ap := netip.MustParseAddrPort(udp.LocalAddr().String())
	s.mu.Lock()
	s.addr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	host, port, _ := sip.ParseAddr(udp.LocalAddr().String())
	s.udpLaddr = sip.Addr{IP: net.ParseIP(host), Port: port, Hostname: host}
	s.mu.Unlock()

	var serving sync.WaitGroup
	serving.Add(2)
	go func() {
		defer serving.Done()
		if err := s.srv.ServeUDP(udp); err != nil {
			s.log.Error("sip udp listener stopped", "err", err)
		}
	}()
	go func() {
		defer serving.Done()
		if err := s.srv.ServeTCP(tcp); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("sip tcp listener stopped", "err", err)
		}
	}()
	// Requests leave from the UDP listener (see route), which sipgo registers
	// in its connection pool from the serving goroutine: wait for it.
	pool := s.ua.TransportLayer().Pool("udp")
	for i := 0; i < 2000; i++ {
		if c := pool.Get(s.udpLaddr.String()); c != nil {
			_, _ = c.TryClose()
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(s.ready)
	s.log.Info("sip listening", "addr", s.addr.String(), "transports", "udp,tcp")

	<-ctx.Done()
	s.shutdown()
	_ = udp.Close()
	_ = tcp.Close()
	serving.Wait()
	// sipgo handles each message on a goroutine of its own; one still running
	// once the listener is gone would open a socket to answer. Let them
	// finish before the transport layer closes its sockets.
	time.Sleep(lateMessageGrace)
	s.ua.Close() // ends every transaction, so background work returns
	s.mu.Lock()
	s.bgClosed = true
	s.mu.Unlock()
	s.bg.Wait()
	return nil
}

// listen binds UDP and TCP on addr; with port 0 it finds a port free on both.
func listen(addr string) (net.PacketConn, net.Listener, error) {
	host, port, _ := net.SplitHostPort(addr)
	for attempt := 0; ; attempt++ {
		udp, err := net.ListenPacket("udp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, nil, fmt.Errorf("sip: listen udp %s: %w", addr, err)
		}
		_, got, _ := net.SplitHostPort(udp.LocalAddr().String())
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, got))
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		if port != "0" || attempt >= 20 {
			return nil, nil, fmt.Errorf("sip: listen tcp %s: %w", net.JoinHostPort(host, got), err)
		}
	}
}

// shutdown ends every call: pending inbound calls get 503, established ones
// BYE; then handlers are told to stop and waited for.
func (s *Server) shutdown() {
	s.mu.Lock()
	s.closing = true
	legs := make([]*Leg, 0, len(s.legs))
	for _, l := range s.legs {
		legs = append(legs, l)
	}
	calls := make([]*InboundCall, 0, len(s.calls))
	for c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range calls {
		_ = c.Reject(503, "Service Unavailable")
	}
	for _, l := range legs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.finish(EventShutdown, EndNone) {
				_ = l.sendBye(ctx)
			}
		}()
	}
	wg.Wait()
	s.stop()

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("sip shutdown: handlers still running after the timeout")
	}
	s.draining.Store(true)
}

// isClosing reports whether the server stopped taking calls.
func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// guard answers 505 to requests in a version other than SIP/2.0, and 400 to
// those whose core headers are missing or malformed (see sanitize.go), before
// they reach h.
func (s *Server) guard(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if !strings.EqualFold(req.SipVersion, "SIP/2.0") {
			// RFC 3261 §8.2 and §21.5.7: only SIP/2.0 is spoken.
			s.log.Debug("sip version not supported", "method", req.Method, "version", req.SipVersion, "source", req.Source())
			s.refuse(tx, req, 505, "Version Not Supported")
			return
		}
		if p := requestProblem(req); p != "" {
			s.log.Debug("sip bad request", "method", req.Method, "problem", p, "source", req.Source())
			s.refuse(tx, req, 400, "Bad Request", warning(p))
			return
		}
		h(req, tx)
	}
}

// warning builds a Warning header (RFC 3261 §20.43) with the miscellaneous
// code 399, which tells a human what was wrong.
func warning(text string) sip.Header {
	text = strings.NewReplacer(`"`, `'`, "\r", " ", "\n", " ").Replace(text)
	return sip.NewHeader("Warning", `399 switchboard "`+text+`"`)
}

// respond sends a response to req on tx, with the Server header.
func (s *Server) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, body []byte, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	s.decorate(res, hdrs...)
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip respond failed", "code", code, "method", req.Method, "err", err)
	}
}

// decorate adds hdrs and the Server header to a response, which always
// speaks SIP/2.0 (sipgo copies the version of the request).
func (s *Server) decorate(res *sip.Response, hdrs ...sip.Header) {
	res.SipVersion = "SIP/2.0"
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	res.AppendHeader(sip.NewHeader("Server", s.cfg.UserAgent))
}

// contact is switchboard's Contact header for a transport (RFC 3261 §8.1.1.8):
// where the far end sends requests within the dialog.
func (s *Server) contact(transport string) *sip.ContactHeader {
	s.mu.Lock()
	port := int(s.addr.Port())
	s.mu.Unlock()
	c := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "switchboard", Host: s.cfg.ContactHost, Port: port}}
	if !strings.EqualFold(transport, "udp") && transport != "" {
		c.Address.UriParams = sip.NewParams()
		c.Address.UriParams.Add("transport", strings.ToLower(transport))
	}
	return c
}

// onOptions answers OPTIONS, in or out of a dialog (RFC 3261 §11.2): what
// switchboard accepts. While shutting down it answers 503, so a load balancer
// pinging with OPTIONS takes the node out of rotation.
func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if s.isClosing() {
		s.respond(tx, req, 503, "Service Unavailable", nil)
		return
	}
	s.respond(tx, req, 200, "OK", nil,
		sip.NewHeader("Allow", allowed),
		sip.NewHeader("Accept", "application/sdp"),
		sip.NewHeader("Accept-Encoding", "identity"),
		sip.NewHeader("Accept-Language", "en"))
}

// onCancel sees only CANCELs that match no INVITE transaction (sipgo's
// transaction layer answers the others): 481 (RFC 3261 §9.2).
func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	s.respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
}

// onOther answers methods switchboard does not handle: 405 with Allow for
// known ones, 501 for the rest (RFC 3261 §8.2.1).
func (s *Server) onOther(req *sip.Request, tx sip.ServerTransaction) {
	if knownMethods[req.Method] {
		s.respond(tx, req, 405, "Method Not Allowed", nil, sip.NewHeader("Allow", allowed))
		return
	}
	s.respond(tx, req, 501, "Not Implemented", nil, sip.NewHeader("Allow", allowed))
}

// dialogKey identifies a dialog from switchboard's side (RFC 3261 §12).
type dialogKey struct{ callID, localTag, remoteTag string }

// keyOfRequest is the dialog a request received within a dialog belongs to:
// the To tag is ours, the From tag the far end's.
func keyOfRequest(req *sip.Request) (dialogKey, bool) {
	cid, from, to := req.CallID(), req.From(), req.To()
	if cid == nil || from == nil || to == nil {
		return dialogKey{}, false
	}
	lt, _ := to.Params.Get("tag")
	rt, _ := from.Params.Get("tag")
	if lt == "" {
		return dialogKey{}, false
	}
	return dialogKey{callID: string(*cid), localTag: lt, remoteTag: rt}, true
}

func (s *Server) leg(req *sip.Request) *Leg {
	k, ok := keyOfRequest(req)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.legs[k]
}

// addLeg registers an established dialog and starts watching its session.
// It refuses (false) once the server is shutting down.
func (s *Server) addLeg(l *Leg) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.legs[l.d.key()] = l
	s.wg.Add(1)
	go l.monitor()
	return true
}

func (s *Server) removeLeg(l *Leg) {
	s.mu.Lock()
	if s.legs[l.d.key()] == l {
		delete(s.legs, l.d.key())
	}
	s.mu.Unlock()
}

// Calls reports how many calls the server holds: inbound calls not yet
// answered or rejected, and established legs.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls) + len(s.legs)
}

// onAck hands an ACK to the dialog waiting for it. ACKs for non-2xx responses
// are absorbed by the INVITE server transaction and never get here; an ACK
// matching nothing is dropped (RFC 3261 §17.2.3: it gets no response).
func (s *Server) onAck(req *sip.Request, _ sip.ServerTransaction) {
	if l := s.leg(req); l != nil {
		l.deliverAck(req)
	}
}

// onBye ends the call the BYE belongs to (RFC 3261 §15.1.2).
func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	l := s.leg(req)
	if l == nil {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	if !l.d.acceptRemoteSeq(req.CSeq().SeqNo) {
		s.respond(tx, req, 500, "Server Internal Error", nil, warning("CSeq out of order"))
		return
	}
	s.respond(tx, req, 200, "OK", nil)
	l.finish(EventBye, EndNone)
}

// onInfo takes DTMF sent as SIP INFO (application/dtmf-relay or
// application/dtmf) within a dialog; other INFO bodies are acknowledged and
// ignored.
func (s *Server) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	l := s.leg(req)
	if l == nil {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	if !l.d.acceptRemoteSeq(req.CSeq().SeqNo) {
		s.respond(tx, req, 500, "Server Internal Error", nil, warning("CSeq out of order"))
		return
	}
	if ct := req.ContentType(); ct != nil {
		if d, ok := parseInfoDTMF(string(*ct), req.Body()); ok {
			l.deliverInfoDTMF(d)
		}
	}
	s.respond(tx, req, 200, "OK", nil)
}

// parseInfoDTMF reads a digit from an INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160") or application/dtmf ("5").
func parseInfoDTMF(contentType string, body []byte) (media.DTMF, bool) {
	ct, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(contentType)), ";")
	var d media.DTMF
	switch strings.TrimSpace(ct) {
	case "application/dtmf-relay":
		for _, line := range strings.Split(string(body), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "signal":
				if len(v) == 1 {
					d.Digit = v[0]
				}
			case "duration":
				if ms, err := strconv.Atoi(v); err == nil && ms > 0 && ms < 60000 {
					d.Duration = time.Duration(ms) * time.Millisecond
				}
			}
		}
	case "application/dtmf":
		if v := strings.TrimSpace(string(body)); len(v) == 1 {
			d.Digit = v[0]
		}
	default:
		return media.DTMF{}, false
	}
	switch c := d.Digit; {
	case c >= '0' && c <= '9', c == '*', c == '#', c >= 'A' && c <= 'D':
		return d, true
	case c >= 'a' && c <= 'd':
		d.Digit = c - 'a' + 'A'
		return d, true
	}
	return media.DTMF{}, false
}
