package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voice/switchboard/internal/media"
)

// A DialRequest describes an outbound call (switchboard as the UAC).
type DialRequest struct {
	// URI is the SIP URI called: "sip:alice@example.com",
	// "sip:+14155550100@trunk.example.com:5060;transport=tcp". Headers in the
	// URI ("?X-Customer=42&User-to-User=...") are sent with the INVITE, as
	// with Twilio's <Sip>. A region parameter (";region=ie1", which tells
	// Twilio where to place the call) is dropped from the Request-URI sent;
	// other parameters (transport, user=phone...) are kept. TLS is not spoken:
	// a sips: URI or ";transport=tls" fails with ErrTLSUnsupported.
	URI string
	// From is the caller: a user part ("+14155550100", "alice"), or a SIP URI;
	// default "switchboard". DisplayName is its optional display name.
	From        string
	DisplayName string
	// Headers are sent with the INVITE: X- headers, User-to-User, and the
	// identity headers P-Asserted-Identity, P-Preferred-Identity,
	// Remote-Party-ID, P-Called-Party-ID.
	Headers map[string]string
	// Username and Password answer a digest challenge (401/407) from the far
	// end or a trunk (RFC 3261 §22).
	Username, Password string
	// Timeout is how long to ring before giving up with CANCEL (ErrNoAnswer);
	// 0 rings until ctx ends.
	Timeout time.Duration
	// OnProgress, if set, is called with each provisional response above 100
	// (180 Ringing, 183 Session Progress).
	OnProgress func(code int, reason string)
	// OnEarlyMedia, if set, is called once, on the goroutine running Dial,
	// the first time a provisional response carries an SDP answer (early
	// media, RFC 3960: typically a 183 Session Progress with a ringback tone
	// or an announcement), right after that answer is applied to the call's
	// RTP session s, so that s already sends to and hears from the far end.
	// The consumer may SetSink on s to hear the early media, or Play to it,
	// before the call is answered. Later provisional answers (another 183,
	// another fork's) update s without a second call. If the call is
	// answered, s is the Leg's Media (a sink set on it stays set); if dialing
	// fails, s is closed before Dial returns (a Play on it then returns an
	// error wrapping media.ErrClosed). OnProgress, when set, is called first
	// for the same response. It must not block: the dialing waits for it.
	OnEarlyMedia func(s *media.Session)
}

// A DialError reports an outbound call that was not answered: the final
// response (Code 486 for busy, 487 after a CANCEL, 408 when the far end never
// answered the INVITE, 503 when it could not be reached), the Call-ID used,
// the custom headers of the final response (Twilio's DialSipHeader_), and the
// cause (ErrNoAnswer, ErrNoSharedCodec, context.Canceled...) when there is one.
type DialError struct {
	Code    int
	Reason  string
	CallID  string
	Headers []Header
	Err     error
}

func (e *DialError) Error() string {
	var b strings.Builder
	b.WriteString("sip: dial")
	if e.Code != 0 {
		fmt.Fprintf(&b, ": %d %s", e.Code, e.Reason)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *DialError) Unwrap() error { return e.Err }

// identityHeaders may be set on an outbound INVITE besides custom headers.
var identityHeaders = map[string]bool{
	"p-asserted-identity": true, "p-preferred-identity": true,
	"remote-party-id": true, "p-called-party-id": true,
}

// Dial places an outbound call and returns the established Leg once the far
// end answers (200 OK and ACK). The offer carries PCMU, PCMA and
// telephone-event; an SDP answer in a provisional response (early media in a
// 183) is applied to the session before the answer, and handed to
// OnEarlyMedia. Dialing ends with a *DialError when the far end rejects the
// call (its Code, Reason and custom Headers, and the Call-ID used), when
// Timeout or ctx ends it first (CANCEL is sent, RFC 3261 §9.1), or when the
// answer shares no codec (the call is then hung up). A URI that cannot be
// dialed fails before anything is sent: ErrBadURI, or ErrTLSUnsupported for
// sips: and ;transport=tls.
//
// When a proxy forks the INVITE, several phones may answer, each with a 2xx of
// its own dialog (RFC 3261 §13.2.2.4): the first one becomes the Leg; every
// other one is acknowledged within its own dialog and hung up with BYE.
func (s *Server) Dial(ctx context.Context, r DialRequest) (*Leg, error) {
	select {
	case <-s.ready:
	default:
		return nil, fmt.Errorf("sip: dial: %w: not listening", ErrServerClosed)
	}
	if s.isClosing() {
		return nil, fmt.Errorf("sip: dial: %w", ErrServerClosed)
	}
	if s.cfg.Media == nil {
		return nil, fmt.Errorf("sip: dial: %w: no media engine", ErrBadConfig)
	}
	target, uriHeaders, err := parseDialURI(r.URI)
	if err != nil {
		return nil, err
	}
	headers, err := dialHeaders(uriHeaders, r.Headers)
	if err != nil {
		return nil, err
	}
	transport := "UDP"
	if t, ok := uriParam(target, "transport"); ok {
		transport = strings.ToUpper(t)
	}
	from, err := s.fromHeader(r.From, r.DisplayName)
	if err != nil {
		return nil, err
	}

	sess, err := s.cfg.Media.NewSession()
	if err != nil {
		return nil, fmt.Errorf("sip: dial: %w", err)
	}
	local := localSDP{addr: sess.LocalAddr(), id: newSessionID(), version: 1}
	req := sip.NewRequest(sip.INVITE, target)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: target.Scheme, User: target.User, Host: target.Host, Port: target.Port}}
	callID := sip.CallIDHeader(sip.GenerateTagN(32))
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	req.AppendHeader(&maxFwd)
	req.AppendHeader(s.contact(transport))
	req.AppendHeader(sip.NewHeader("User-Agent", s.cfg.UserAgent))
	req.AppendHeader(sip.NewHeader("Allow", allowed))
	for _, h := range headers {
		req.AppendHeader(sip.NewHeader(h.Name, h.Value))
	}
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	req.SetTransport(transport)
	s.route(req, "")
	req.SetBody(local.offer(media.SendRecv))

	fail := func(de *DialError) (*Leg, error) {
		_ = sess.Close()
		de.CallID = string(callID)
		return nil, de
	}
	tx, err := s.client.TransactionRequest(ctx, req, sipgo.ClientRequestAddVia)
	if err != nil {
		// RFC 3261 §8.1.3.1: a transport failure counts as a 503.
		return fail(&DialError{Code: 503, Reason: "Service Unavailable", Err: err})
	}
	f := s.watchForks(tx, req)
	var ring <-chan time.Time
	if r.Timeout > 0 {
		t := s.clock.NewTimer(r.Timeout)
		defer t.Stop()
		ring = t.C()
	}
	// The transactions of the challenged INVITEs stay in Completed until Dial
	// returns: a retransmission of their 401/407 (the ACK was lost) must be
	// acknowledged again (RFC 3261 §17.1.1.2), which the transaction does
	// without passing it up to Responses (nothing reads them any more), on
	// sipgo's response goroutine after holding it T2 (its guard against ACK
	// loops; that wait ends early when the transaction terminates).
	// Terminating them at the end keeps their timer D and those goroutines
	// from outliving Dial.
	var challenged []sip.ClientTransaction
	defer func() {
		for _, c := range challenged {
			c.Terminate()
		}
	}()
	provisional, authTries, early := false, 0, false
	for {
		var res *sip.Response
		select {
		case res = <-tx.Responses():
		case <-tx.Done():
			// Timer B (RFC 3261 §17.1.1.2) or a transport error: a local 408.
			return fail(&DialError{Code: 408, Reason: "Request Timeout", Err: tx.Err()})
		case <-ring:
			return fail(s.giveUp(tx, req, f, provisional, ErrNoAnswer))
		case <-ctx.Done():
			return fail(s.giveUp(tx, req, f, provisional, ctx.Err()))
		}
		switch {
		case res.IsProvisional():
			provisional = true
			if res.StatusCode > 100 {
				if r.OnProgress != nil {
					r.OnProgress(res.StatusCode, res.Reason)
				}
				if len(res.Body()) > 0 {
					// Early media (RFC 3960): hear the ringback or announcement.
					if n, err := answerToOffer(res.Body()); err == nil {
						sess.SetRemote(remoteOf(n))
						if !early && r.OnEarlyMedia != nil {
							r.OnEarlyMedia(sess)
						}
						early = true
					}
				}
			}
		case res.IsSuccess():
			return s.establish(f, res, sess, local)
		case (res.StatusCode == 401 || res.StatusCode == 407) && r.Password != "" && authTries < 2:
			authTries++
			challenged = append(challenged, tx)
			// The challenged transaction keeps its request (its ACK is built
			// from it): the retry is a copy, with the credentials, the next
			// CSeq and a new Via branch (RFC 3261 §22.2, §8.1.3.5).
			retry := req.Clone()
			if err := authorize(retry, res, r.Username, r.Password); err != nil {
				return fail(&DialError{Code: res.StatusCode, Reason: res.Reason, Headers: customHeaders(res), Err: err})
			}
			retry.CSeq().SeqNo++
			retry.RemoveHeader("Via")
			tx, err = s.client.TransactionRequest(ctx, retry, sipgo.ClientRequestAddVia)
			if err != nil {
				return fail(&DialError{Code: res.StatusCode, Reason: res.Reason, Headers: customHeaders(res), Err: err})
			}
			req = retry
			f = s.watchForks(tx, req)
			provisional = false
		default:
			return fail(&DialError{Code: res.StatusCode, Reason: res.Reason, Headers: customHeaders(res)})
		}
	}
}

// establish completes an answered outbound call: the dialog is registered
// (so that a BYE right behind the ACK finds it), the SDP answer applied, then
// the ACK sent; f sends it again on each retransmission of the 2xx, and ends
// the dialogs of other forks' 2xx (RFC 3261 §13.2.2.4).
func (s *Server) establish(f *forks, res *sip.Response, sess *media.Session, local localSDP) (*Leg, error) {
	d := f.dialog(res)
	headers := customHeaders(res)
	neg, err := answerToOffer(res.Body())
	if err != nil {
		// RFC 3264 §6: an answer switchboard cannot use ends the call.
		_ = sess.Close()
		f.accept(d)
		s.byeOnce(d)
		return nil, &DialError{Code: res.StatusCode, Reason: res.Reason, CallID: d.callID, Headers: headers, Err: err}
	}
	sess.SetRemote(remoteOf(neg))
	leg := newLeg(s, d, sess, false, local, neg)
	leg.headers = headers
	if !s.addLeg(leg) {
		_ = sess.Close()
		f.accept(d)
		s.byeOnce(d)
		return nil, &DialError{CallID: d.callID, Err: ErrServerClosed}
	}
	f.accept(d)
	leg.fire(EventAck)
	return leg, nil
}

// byeOnce ends a dialog that never became a Leg.
func (s *Server) byeOnce(d *dialog) {
	ctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
	defer cancel()
	if _, err := s.do(ctx, d.newRequest(s, sip.BYE)); err != nil {
		s.log.Debug("sip bye failed", "call_id", d.callID, "err", err)
	}
}

// ackAndBye acknowledges a 2xx that crossed a CANCEL and hangs it up (RFC 3261
// §9.1: the CANCEL came too late, the call must still be ended).
func (s *Server) ackAndBye(f *forks, res *sip.Response) {
	d := f.dialog(res)
	f.accept(d)
	s.byeOnce(d)
}

// goBackground runs fn on a goroutine that ListenAndServe waits for before it
// returns. Once the server has stopped taking background work it reports
// false and fn does not run.
func (s *Server) goBackground(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bgClosed {
		return false
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		fn()
	}()
	return true
}

// forks handles the 2xx responses to one outbound INVITE that come after the
// first. A forking proxy may deliver several 2xx, each establishing a dialog
// of its own (RFC 3261 §13.2.2.4); the UAC must acknowledge each, and hangs up
// those it does not want. The transaction passes every 2xx after the first to
// the retransmission hook, where forks tells them apart by their To tag: a
// retransmission of the kept dialog's 2xx (or of another dialog's) is
// acknowledged again with that dialog's ACK; the first 2xx of another dialog
// gets an ACK built for its own dialog (its To tag, its Contact as
// Request-URI, its Record-Route as the route set) and then a BYE, once.
type forks struct {
	s   *Server
	inv *sip.Request // a copy of the INVITE as sent

	// mu guards the fields below.
	mu       sync.Mutex
	accepted bool                    // accept was called: the kept dialog is known
	acks     map[string]*sip.Request // the ACK sent for each dialog, by To tag
	pending  []*sip.Response         // 2xx that came before accept
}

// watchForks starts watching tx, the transaction of the INVITE inv, for
// further 2xx responses. It must be called before the first 2xx is read from
// tx, so that none is missed.
func (s *Server) watchForks(tx sip.ClientTransaction, inv *sip.Request) *forks {
	f := &forks{s: s, inv: inv.Clone(), acks: make(map[string]*sip.Request)}
	tx.OnRetransmission(func(res *sip.Response) {
		if res.IsSuccess() {
			f.late(res)
		}
	})
	return f
}

// dialog is the dialog a 2xx to the INVITE establishes.
func (f *forks) dialog(res *sip.Response) *dialog { return uacDialog(f.inv, res) }

// accept acknowledges the 2xx of d, the first answer, then deals with any
// other 2xx that came before.
func (f *forks) accept(d *dialog) {
	f.sendAck(d)
	f.mu.Lock()
	f.accepted = true
	pending := f.pending
	f.pending = nil
	f.mu.Unlock()
	for _, res := range pending {
		f.late(res)
	}
}

// late handles a 2xx after the first: see forks.
func (f *forks) late(res *sip.Response) {
	tag := toTag(res)
	f.mu.Lock()
	if !f.accepted {
		f.pending = append(f.pending, res)
		f.mu.Unlock()
		return
	}
	ack, known := f.acks[tag]
	if !known {
		f.acks[tag] = nil // claimed: this goroutine acknowledges and hangs up
	}
	f.mu.Unlock()
	if known {
		if ack != nil {
			// The template already carries its Via: send it as it is.
			if err := f.s.client.WriteRequest(ack.Clone(), func(*sipgo.Client, *sip.Request) error { return nil }); err != nil {
				f.s.log.Debug("sip ack retransmission failed", "call_id", string(*f.inv.CallID()), "err", err)
			}
		}
		return
	}
	d := f.dialog(res)
	f.s.log.Debug("sip 2xx from another fork: acknowledging and hanging up", "call_id", d.callID, "to_tag", tag)
	f.sendAck(d)
	f.s.goBackground(func() { f.s.byeOnce(d) })
}

// sendAck sends the ACK of d's 2xx (RFC 3261 §13.2.2.4: CSeq of the INVITE,
// outside any transaction) and keeps it for the retransmissions of that 2xx.
func (f *forks) sendAck(d *dialog) {
	ack := d.ack(f.s, f.inv.CSeq().SeqNo)
	if err := f.s.client.WriteRequest(ack, sipgo.ClientRequestAddVia); err != nil {
		f.s.log.Debug("sip ack failed", "call_id", d.callID, "err", err)
	}
	f.mu.Lock()
	f.acks[d.remoteTag] = ack.Clone()
	f.mu.Unlock()
}

// toTag is the To tag of a response: the far end's dialog identifier.
func toTag(res *sip.Response) string {
	if to := res.To(); to != nil {
		tag, _ := to.Params.Get("tag")
		return tag
	}
	return ""
}

// giveUp ends a pending INVITE because of cause (the ring timeout, the
// caller's context). After a provisional response it sends CANCEL and reports
// the final response (normally 487). Without one, RFC 3261 §9.1 forbids the
// CANCEL until a provisional arrives: that wait happens in the background and
// the attempt is reported at once as a local 408.
func (s *Server) giveUp(tx sip.ClientTransaction, req *sip.Request, f *forks, provisional bool, cause error) *DialError {
	if !provisional {
		cancel := func() {
			if res, _ := s.cancelInvite(tx, req, false); res != nil && res.IsSuccess() {
				s.ackAndBye(f, res)
			}
		}
		if !s.goBackground(cancel) {
			tx.Terminate()
		}
		return &DialError{Code: 408, Reason: "Request Timeout", Err: cause}
	}
	res, err := s.cancelInvite(tx, req, true)
	switch {
	case res == nil:
		if err == nil {
			err = cause
		}
		return &DialError{Err: errors.Join(cause, err)}
	case res.IsSuccess():
		// The answer crossed the CANCEL.
		s.ackAndBye(f, res)
		return &DialError{Err: cause}
	}
	return &DialError{Code: res.StatusCode, Reason: res.Reason, Headers: customHeaders(res), Err: cause}
}

// cancelInvite cancels a pending INVITE (RFC 3261 §9.1) and returns its final
// response: normally 487, a 2xx when the answer crossed the CANCEL, nil when
// none came. A CANCEL may only follow a provisional response, so without one
// it first waits for one.
func (s *Server) cancelInvite(tx sip.ClientTransaction, req *sip.Request, provisional bool) (*sip.Response, error) {
	giveUp := s.clock.NewTimer(64 * sip.T1)
	defer giveUp.Stop()
	for !provisional {
		select {
		case res := <-tx.Responses():
			if !res.IsProvisional() {
				return res, nil
			}
			provisional = true
		case <-tx.Done():
			return nil, tx.Err()
		case <-giveUp.C():
			return nil, ErrNoAnswer
		}
	}
	cancel := sip.NewRequest(sip.CANCEL, *req.Recipient.Clone())
	cancel.AppendHeader(req.Via().Clone())
	cancel.AppendHeader(sip.HeaderClone(req.From()))
	cancel.AppendHeader(sip.HeaderClone(req.To()))
	cancel.AppendHeader(sip.HeaderClone(req.CallID()))
	cancel.AppendHeader(&sip.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: sip.CANCEL})
	maxFwd := sip.MaxForwardsHeader(70)
	cancel.AppendHeader(&maxFwd)
	sip.CopyHeaders("Route", req, cancel)
	cancel.SetTransport(req.Transport())
	cancel.SetDestination(req.Destination())
	cancel.Laddr = req.Laddr
	cancel.SetBody(nil)
	ctx, stop := context.WithTimeout(context.Background(), 64*sip.T1)
	defer stop()
	// The CANCEL reuses the INVITE's Via (same branch): no Via is added.
	ctx2, err := s.client.TransactionRequest(ctx, cancel, func(*sipgo.Client, *sip.Request) error { return nil })
	if err != nil {
		return nil, fmt.Errorf("send CANCEL: %w", err)
	}
	defer ctx2.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if !res.IsProvisional() {
				return res, nil
			}
		case <-ctx2.Responses():
			// 200 to the CANCEL; keep waiting for the INVITE's 487.
		case <-tx.Done():
			return nil, tx.Err()
		case <-giveUp.C():
			return nil, ErrNoAnswer
		}
	}
}

// fromHeader builds the From of an outbound INVITE, with a fresh tag.
func (s *Server) fromHeader(from, name string) (*sip.FromHeader, error) {
	h := &sip.FromHeader{DisplayName: name, Params: sip.NewParams()}
	switch {
	case from == "":
		h.Address = sip.Uri{Scheme: "sip", User: "switchboard", Host: s.cfg.ContactHost}
	case strings.HasPrefix(strings.ToLower(from), "sip:") || strings.HasPrefix(strings.ToLower(from), "sips:"):
		if err := sip.ParseUri(from, &h.Address); err != nil {
			return nil, fmt.Errorf("%w: from %q: %w", ErrBadURI, from, err)
		}
	default:
		if strings.ContainsAny(from, " \t\r\n<>@;:?\"") {
			return nil, fmt.Errorf("%w: from user %q", ErrBadURI, from)
		}
		h.Address = sip.Uri{Scheme: "sip", User: from, Host: s.cfg.ContactHost}
	}
	h.Params.Add("tag", sip.GenerateTagN(16))
	return h, nil
}

// tlsPort is the default port of SIP over TLS (RFC 3261 §19.1.2).
const tlsPort = 5061

// parseDialURI parses the URI given to Dial, splitting off its headers
// (RFC 3261 §19.1.1: "?name=value&..." percent-encoded) and dropping its
// region parameter. A URI asking for TLS (sips:, ;transport=tls) fails with
// ErrTLSUnsupported, any other unusable one with ErrBadURI.
func parseDialURI(raw string) (sip.Uri, []Header, error) {
	var u sip.Uri
	raw = strings.TrimSpace(raw)
	lower := strings.ToLower(raw)
	sips := strings.HasPrefix(lower, "sips:")
	if !sips && !strings.HasPrefix(lower, "sip:") {
		return u, nil, fmt.Errorf("%w: %q: want sip:user@host", ErrBadURI, raw)
	}
	if len(raw) > 255+1024 {
		return u, nil, fmt.Errorf("%w: too long", ErrBadURI)
	}
	base, query, _ := strings.Cut(raw, "?")
	if err := sip.ParseUri(base, &u); err != nil {
		return u, nil, fmt.Errorf("%w: %q: %w", ErrBadURI, raw, err)
	}
	if u.Host == "" {
		return u, nil, fmt.Errorf("%w: %q: no host", ErrBadURI, raw)
	}
	t, hasTransport := uriParam(u, "transport")
	if sips || (hasTransport && strings.EqualFold(t, "tls")) {
		port := u.Port
		if port == 0 {
			port = tlsPort
		}
		what := "transport=" + t
		if sips {
			what = "a sips: URI"
		}
		target := net.JoinHostPort(strings.Trim(u.Host, "[]"), strconv.Itoa(port))
		return u, nil, fmt.Errorf("sip: dial %q: %w: %s asks for TLS to %s; switchboard dials over udp or tcp",
			base, ErrTLSUnsupported, what, target)
	}
	if hasTransport && !strings.EqualFold(t, "udp") && !strings.EqualFold(t, "tcp") {
		return u, nil, fmt.Errorf("%w: %q: transport %q is not supported (udp, tcp)", ErrBadURI, raw, t)
	}
	// Twilio's region parameter says where Twilio places the call; it means
	// nothing to the far end.
	u.UriParams = slices.DeleteFunc(u.UriParams, func(kv sip.HeaderKV) bool { return strings.EqualFold(kv.K, "region") })
	u.Headers = nil
	var hs []Header
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			name, err1 := url.PathUnescape(k)
			value, err2 := url.PathUnescape(v)
			if err1 != nil || err2 != nil || name == "" {
				return u, nil, fmt.Errorf("%w: %q: bad header %q", ErrBadURI, raw, kv)
			}
			hs = append(hs, Header{Name: name, Value: value})
		}
	}
	return u, hs, nil
}

// uriParam is the value of a URI parameter; parameter names are
// case-insensitive (RFC 3261 §19.1.4).
func uriParam(u sip.Uri, name string) (string, bool) {
	for _, kv := range u.UriParams {
		if strings.EqualFold(kv.K, name) {
			return kv.V, true
		}
	}
	return "", false
}

// dialHeaders validates the headers an outbound INVITE carries: those of the
// URI, then those of the request in name order.
func dialHeaders(fromURI []Header, extra map[string]string) ([]Header, error) {
	out := append([]Header(nil), fromURI...)
	names := make([]string, 0, len(extra))
	for k := range extra {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		out = append(out, Header{Name: k, Value: extra[k]})
	}
	for _, h := range out {
		if !isToken([]byte(h.Name)) || (!isCustomHeader(h.Name) && !identityHeaders[strings.ToLower(h.Name)]) {
			return nil, fmt.Errorf("%w: header %q may not be set", ErrBadURI, h.Name)
		}
		if strings.ContainsAny(h.Value, "\r\n\x00") || len(h.Value) > 1024 {
			return nil, fmt.Errorf("%w: header %q: bad value", ErrBadURI, h.Name)
		}
	}
	return out, nil
}

// customHeaders are the X- and User-to-User headers of a message.
func customHeaders(m interface{ Headers() []sip.Header }) []Header {
	var out []Header
	for _, h := range m.Headers() {
		if isCustomHeader(h.Name()) {
			out = append(out, Header{Name: h.Name(), Value: h.Value()})
		}
	}
	return out
}
