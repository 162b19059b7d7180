package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voice/switchboard/internal/media"
)

// An InboundCall is an INVITE waiting for the application's decision. Its
// exported fields describe the call; its methods send the responses. Exactly
// one final response goes out: Answer's 200, Reject's error, or the 487 sent
// for the caller's CANCEL. Before it, Ringing sends 180s and EarlyMedia a
// 183 with the SDP answer, opening the RTP session before the answer.
type InboundCall struct {
	// CallID is the Call-ID header (Twilio's SipCallId).
	CallID string
	// From is the caller, To the callee, as their headers name them.
	From, To Party
	// RequestURI is the Request-URI of the INVITE; RequestUser its user part,
	// unescaped, which routes the call to a phone number or SIP user name; and
	// Domain its host (Twilio's SipDomain).
	RequestURI  string
	RequestUser string
	Domain      string
	// Source is the address the INVITE came from (Twilio's SipSourceIp).
	Source netip.AddrPort
	// Transport is "udp" or "tcp".
	Transport string
	// Headers are the INVITE's X- headers and User-to-User, in order.
	Headers []Header

	s        *Server
	req      *sip.Request // the INVITE, with switchboard's To tag
	localTag string
	tx       sip.ServerTransaction
	offer    *sessionDesc // nil for an INVITE without SDP (delayed offer)
	ctx      context.Context
	cancel   context.CancelFunc
	final    chan struct{} // closed once a final response went out
	canceled chan struct{} // closed on the caller's CANCEL
	once     sync.Once
	// earlyMu serializes EarlyMedia, so that one session is opened.
	earlyMu sync.Mutex
	// arrived is when the INVITE came, on real time like sipgo's timers.
	arrived time.Time
	// trying sends the 100 Trying if nothing was sent within trying100Delay.
	trying *time.Timer
	// hook is what the transaction calls on CANCEL. It holds the call only
	// until the final response: sipgo keeps the transaction, and with it the
	// hook, for InviteLinger more (Timer L), and the call holds its Leg and
	// RTP session.
	hook *atomic.Pointer[InboundCall]

	// mu guards the fields below.
	mu          sync.Mutex
	state       State
	wasCancel   bool
	provisional bool // a 1xx went out: a final response must be sent reliably
	leg         *Leg
	early       *earlyMedia // set by EarlyMedia
}

// earlyMedia is the RTP session an inbound call opened before its answer,
// with the SDP answer the 183 carried: the 200 OK carries the same one.
type earlyMedia struct {
	sess  *media.Session
	local localSDP
	neg   negotiation
	body  []byte
}

// WebhookParams are the parameters Twilio sends the application's webhook for
// a call that arrived over SIP: From and To (with Caller and Called) as
// Party.ID gives them, SipCallId, SipSourceIp, SipDomain, and SipHeader_<name>
// for each X- header (and User-to-User) of the INVITE.
func (c *InboundCall) WebhookParams() url.Values {
	v := url.Values{}
	v.Set("From", c.From.ID())
	v.Set("Caller", c.From.ID())
	v.Set("To", c.To.ID())
	v.Set("Called", c.To.ID())
	v.Set("SipCallId", c.CallID)
	v.Set("SipSourceIp", c.Source.Addr().String())
	v.Set("SipDomain", c.Domain)
	sipHeaderParams(v, c.Headers)
	return v
}

// State is where the call stands before it becomes a Leg.
func (c *InboundCall) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Canceled is closed when the caller sends CANCEL before the call is answered
// (RFC 3261 §9.2). The 487 Request Terminated has been sent for you.
func (c *InboundCall) Canceled() <-chan struct{} { return c.canceled }

// Ringing sends 180 Ringing. It may be sent more than once, until the final
// response.
func (c *InboundCall) Ringing() error {
	c.mu.Lock()
	if err := c.finalErrLocked(); err != nil {
		c.mu.Unlock()
		return err
	}
	c.state, _ = Transition(c.state, EventRing)
	c.provisional = true
	c.mu.Unlock()
	res := sip.NewResponseFromRequest(c.req, 180, "Ringing", nil)
	res.AppendHeader(c.s.contact(c.Transport))
	c.s.decorate(res)
	if err := c.tx.Respond(res); err != nil {
		return fmt.Errorf("sip: ringing: %w", err)
	}
	return nil
}

// EarlyMedia sends 183 Session Progress carrying the SDP answer to the
// caller's offer (early media, RFC 3960; sent unreliably, without 100rel)
// and returns the call's RTP session, already sending to the caller's RTP
// address: what is played to it before the answer is what the caller hears
// (a ringback tone, an announcement), and a sink set on it hears the caller.
// Calling it again returns the same session and sends nothing. Answer then
// keeps that session, and its 200 OK carries the same SDP (same origin
// session id and version, same port): the Leg's Media is that session. Reject,
// the caller's CANCEL, the server's shutdown, or the handler returning without
// answering closes it. The media engine's inactivity timeout runs from the
// 183 on, as it does after the answer; a session it ended makes Answer fail.
//
// An INVITE without an offer (a delayed offer, RFC 3261 §13.2.1) cannot have
// early media: EarlyMedia then fails with ErrNoOffer, sends nothing, and the
// call can still be answered. After the final response it fails like Ringing
// (ErrAlreadyFinal, or ErrCanceled after the caller's CANCEL).
func (c *InboundCall) EarlyMedia(ctx context.Context) (*media.Session, error) {
	c.earlyMu.Lock()
	defer c.earlyMu.Unlock()
	c.mu.Lock()
	if err := c.finalErrLocked(); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	if c.early != nil {
		sess := c.early.sess
		c.mu.Unlock()
		return sess, nil
	}
	c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sip: early media: %w", err)
	}
	if c.offer == nil {
		return nil, fmt.Errorf("sip: early media: %w", ErrNoOffer)
	}
	s := c.s
	if s.cfg.Media == nil {
		return nil, fmt.Errorf("sip: early media: %w: no media engine", ErrBadConfig)
	}
	sess, err := s.cfg.Media.NewSession()
	if err != nil {
		return nil, fmt.Errorf("sip: early media: %w", err)
	}
	e := &earlyMedia{sess: sess, local: localSDP{addr: sess.LocalAddr(), id: newSessionID(), version: 1}}
	e.neg = c.offer.negotiate("")
	e.body = e.local.answer(c.offer, e.neg)
	sess.SetRemote(remoteOf(e.neg))

	c.mu.Lock()
	if err := c.finalErrLocked(); err != nil {
		// Rejected, answered or canceled meanwhile.
		c.mu.Unlock()
		_ = sess.Close()
		return nil, err
	}
	c.early = e
	c.state, _ = Transition(c.state, EventRing)
	c.provisional = true
	c.mu.Unlock()

	res := sip.NewResponseFromRequest(c.req, 183, "Session Progress", e.body)
	ct := sip.ContentTypeHeader("application/sdp")
	res.AppendHeader(&ct)
	res.AppendHeader(s.contact(c.Transport))
	s.decorate(res)
	if err := c.tx.Respond(res); err != nil {
		// The session stays the call's: Answer may still use it, the end of
		// the call closes it.
		return nil, fmt.Errorf("sip: early media: %w", err)
	}
	return sess, nil
}

// closeEarly closes the early media session of a call that will not be
// answered.
func (c *InboundCall) closeEarly() {
	c.mu.Lock()
	e := c.early
	c.mu.Unlock()
	if e != nil {
		_ = e.sess.Close()
	}
}

// Reject ends the call with a final error response (300-699): 486 Busy Here
// and 603 Decline are what <Reject> sends, 404 Not Found what an unknown
// number gets. An empty reason takes the standard phrase of the code. It
// closes the session EarlyMedia opened. A Reject over UDP before any
// provisional response (a quick refusal: an unknown number) is sent
// statelessly, once (see admit.go).
func (c *InboundCall) Reject(code int, reason string) error {
	if code < 300 || code > 699 {
		return fmt.Errorf("%w: %d", ErrBadStatus, code)
	}
	if reason == "" {
		reason = reasonPhrase(code)
	}
	// A 183 EarlyMedia is sending goes out before the final response.
	c.earlyMu.Lock()
	c.mu.Lock()
	if err := c.finalErrLocked(); err != nil {
		c.mu.Unlock()
		c.earlyMu.Unlock()
		return err
	}
	c.state = StateTerminated
	stateless := !c.provisional && c.Transport == "udp" && time.Since(c.arrived) < statelessWindow
	c.mu.Unlock()
	c.earlyMu.Unlock()
	res := sip.NewResponseFromRequest(c.req, code, reason, nil)
	c.s.decorate(res)
	c.leavePending()
	var err error
	if stateless {
		c.s.sendStateless(res)
	} else {
		err = c.tx.Respond(res)
	}
	c.markFinal()
	c.cancel()
	c.closeEarly()
	if err != nil {
		return fmt.Errorf("sip: reject: %w", err)
	}
	return nil
}

// Answer accepts the call: it opens the RTP session (or keeps the one
// EarlyMedia opened, with the SDP answer it sent), sends 200 OK with the SDP
// answer and waits for the ACK. The returned Leg carries the call from there.
// If the caller canceled first it returns ErrCanceled; if the ACK never comes,
// ErrAckTimeout (the call is then hung up); if the caller hangs up before
// acknowledging, the Leg it returns has already ended.
func (c *InboundCall) Answer(ctx context.Context) (*Leg, error) {
	s := c.s
	// A 183 EarlyMedia is sending goes out before the 200.
	c.earlyMu.Lock()
	c.mu.Lock()
	if err := c.finalErrLocked(); err != nil {
		c.mu.Unlock()
		c.earlyMu.Unlock()
		return nil, err
	}
	c.state = StateAnswered // claims the final response
	early := c.early
	c.mu.Unlock()
	c.earlyMu.Unlock()

	var (
		sess  *media.Session
		local localSDP
		neg   negotiation
		body  []byte
		err   error
	)
	switch {
	case early != nil:
		// The 200 repeats the 183's answer (RFC 3264 §5: the same SDP, so the
		// same origin version) on the session already running.
		sess, local, neg, body = early.sess, early.local, early.neg, early.body
		if serr := sess.Err(); serr != nil {
			c.sendFinal(500, "Server Internal Error")
			return nil, fmt.Errorf("sip: answer: early media session ended: %w", serr)
		}
		sess.SetRemote(remoteOf(neg)) // restarts the inactivity timer
	case s.cfg.Media == nil:
		c.sendFinal(500, "Server Internal Error")
		return nil, fmt.Errorf("sip: answer: %w: no media engine", ErrBadConfig)
	default:
		sess, err = s.cfg.Media.NewSession()
		if err != nil {
			c.sendFinal(503, "Service Unavailable")
			return nil, fmt.Errorf("sip: answer: %w", err)
		}
		local = localSDP{addr: sess.LocalAddr(), id: newSessionID(), version: 1}
		if c.offer != nil {
			neg = c.offer.negotiate("")
			sess.SetRemote(remoteOf(neg))
			body = local.answer(c.offer, neg)
		} else {
			// Delayed offer (RFC 3261 §13.2.1): offer in the 200, answer in
			// the ACK.
			body = local.offer(media.SendRecv)
		}
	}
	d := uasDialog(c.req, c.localTag)
	leg := newLeg(s, d, sess, true, local, neg)
	leg.headers = c.Headers
	leg.OnEnd(c.cancel)
	if !s.addLeg(leg) {
		_ = sess.Close()
		c.sendFinal(503, "Service Unavailable")
		return nil, ErrServerClosed
	}
	c.mu.Lock()
	c.leg = leg
	c.mu.Unlock()

	seq := c.req.CSeq().SeqNo
	res := s.okResponse(c.req, body, c.Transport)
	acks := leg.expectAck(seq)
	c.leavePending()
	// From here the transaction absorbs retransmissions of the INVITE,
	// and then the server does (linger.go). A refused INVITE is not
	// remembered: a retransmission gets the refusal again.
	s.invites.add(inviteKey(c.req), s.clock.Now())
	err = c.tx.Respond(res)
	c.markFinal()
	if c.isCanceled() {
		// The CANCEL reached the transaction before the 200: 487 went out.
		leg.finish(EventHangup, EndCanceled)
		return nil, ErrCanceled
	}
	if err != nil {
		leg.finish(EventHangup, EndFailed)
		return nil, fmt.Errorf("sip: answer: %w", err)
	}
	ack, err := leg.awaitAck(ctx, c.tx, res, seq, acks)
	switch {
	case errors.Is(err, ErrCallEnded):
		return leg, nil
	case err != nil:
		reason := EndNone
		if errors.Is(err, ErrAckTimeout) {
			reason = EndAckTimeout
		}
		if leg.finish(EventHangup, reason) {
			byeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 64*sip.T1)
			defer cancel()
			_ = leg.sendBye(byeCtx)
		}
		return nil, fmt.Errorf("sip: answer: %w", err)
	}
	if c.offer == nil {
		n, err := answerToOffer(ack.Body())
		if err != nil {
			if leg.finish(EventHangup, EndFailed) {
				byeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 64*sip.T1)
				defer cancel()
				_ = leg.sendBye(byeCtx)
			}
			return nil, fmt.Errorf("sip: answer: sdp answer in ack: %w", err)
		}
		leg.mu.Lock()
		leg.neg = n
		leg.mu.Unlock()
		sess.SetRemote(remoteOf(n))
	}
	leg.fire(EventAck)
	return leg, nil
}

// finalErrLocked says why no final response can be sent any more.
func (c *InboundCall) finalErrLocked() error {
	switch {
	case c.wasCancel:
		return ErrCanceled
	case c.state == StateAnswered || c.state == StateConfirmed || c.state == StateTerminated:
		return ErrAlreadyFinal
	}
	return nil
}

// sendFinal sends an error response after Answer claimed the final response
// but could not go on.
func (c *InboundCall) sendFinal(code int, reason string) {
	c.mu.Lock()
	c.state = StateTerminated
	c.mu.Unlock()
	res := sip.NewResponseFromRequest(c.req, code, reason, nil)
	c.s.decorate(res)
	c.leavePending()
	_ = c.tx.Respond(res)
	c.markFinal()
	c.cancel()
	c.closeEarly()
}

func (c *InboundCall) markFinal() {
	c.once.Do(func() {
		c.mu.Lock()
		trying := c.trying
		c.mu.Unlock()
		if trying != nil {
			trying.Stop()
		}
		c.hook.Store(nil)
		close(c.final)
		c.leavePending()
	})
}

// leavePending takes the call out of Server.Pending: it is answered. The
// final response's senders call it before sending, so that a caller who
// has the response never sees its call still pending; markFinal again after.
func (c *InboundCall) leavePending() {
	c.s.mu.Lock()
	delete(c.s.calls, c)
	c.s.mu.Unlock()
}

func (c *InboundCall) isCanceled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wasCancel
}

// onCancel runs inside sipgo's transaction, which sends the 487 right after:
// it must not block or touch the transaction.
func (c *InboundCall) onCancel(*sip.Request) {
	c.mu.Lock()
	if c.wasCancel {
		c.mu.Unlock()
		return
	}
	c.wasCancel = true
	var early *earlyMedia
	if c.state == StateTrying || c.state == StateRinging {
		// Not answered: the early media session, if any, ends with the call.
		// (Once Answer claimed the call, its Leg owns the session.)
		c.state = StateTerminated
		early = c.early
	}
	c.mu.Unlock()
	// The handler's context ends first: a handler woken by Canceled finds
	// it done. One woken by its context meanwhile may find Canceled still
	// open: Answer (wasCancel) tells it with ErrCanceled.
	c.cancel()
	close(c.canceled)
	c.markFinal()
	if early != nil {
		_ = early.sess.Close()
	}
}

// sendTrying sends 100 Trying for req (the INVITE as received), unless a
// response went out first.
func (c *InboundCall) sendTrying(req *sip.Request) {
	c.mu.Lock()
	if c.provisional || c.finalErrLocked() != nil {
		c.mu.Unlock()
		return
	}
	c.provisional = true
	c.mu.Unlock()
	c.s.respond(c.tx, req, 100, "Trying", nil)
}

// run runs the handler for the call, then makes sure the call is over.
func (c *InboundCall) run(h Handler) {
	defer c.s.wg.Done()
	defer c.cancel()
	defer func() {
		if r := recover(); r != nil {
			c.s.log.Error("sip handler panicked", "call_id", c.CallID, "panic", r)
		}
		c.mu.Lock()
		pending := c.finalErrLocked() == nil
		leg := c.leg
		c.mu.Unlock()
		if pending {
			_ = c.Reject(500, "Server Internal Error")
		}
		if leg != nil && leg.finish(EventHangup, EndNone) {
			ctx, cancel := context.WithTimeout(context.Background(), 64*sip.T1)
			defer cancel()
			_ = leg.sendBye(ctx)
		}
	}()
	h.HandleInbound(c.ctx, c)
}

// onInvite handles INVITEs: a re-INVITE goes to its leg; a new one is put to
// admission control (503 with Retry-After when refused or closing), checked
// (400 malformed, 416 scheme, 420 extensions, 415 body type, 400/488 SDP) and
// handed to the Handler. Refusals go out statelessly (see admit.go); the 100
// Trying follows after trying100Delay unless the Handler decided first.
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	arrived := time.Now()
	if s.invites.seen(inviteKey(req), s.clock.Now()) {
		// A retransmission of an INVITE (or re-INVITE) answered with a
		// 2xx whose transaction sipgo has already ended (InviteLinger):
		// absorbed, as the transaction's Accepted state would (RFC 6026
		// §7.1). Its leg, if still up, retransmits the 2xx until the ACK.
		s.log.Debug("sip invite retransmission absorbed", "source", req.Source())
		return
	}
	if req.To().Params.Has("tag") {
		if l := s.leg(req); l != nil {
			l.handleReinvite(req, tx)
			return
		}
		s.refuse(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if s.isClosing() {
		s.refuse(tx, req, 503, "Service Unavailable")
		return
	}
	if d := s.admitInvite(); d > 0 {
		s.log.Debug("sip invite refused: overload", "source", req.Source(), "retry_after", d)
		s.refuse(tx, req, 503, "Service Unavailable", retryAfter(d))
		return
	}
	if req.Contact() == nil {
		s.refuse(tx, req, 400, "Bad Request", warning("missing Contact header"))
		return
	}
	if sc := strings.ToLower(req.Recipient.Scheme); sc != "sip" && sc != "sips" {
		s.refuse(tx, req, 416, "Unsupported URI Scheme")
		return
	}
	if tags := requiredExtensions(req); tags != "" {
		// RFC 3261 §8.2.2.3: no extension is supported.
		s.refuse(tx, req, 420, "Bad Extension", sip.NewHeader("Unsupported", tags))
		return
	}
	var offer *sessionDesc
	if len(req.Body()) > 0 {
		if !isSDP(req) {
			s.refuse(tx, req, 415, "Unsupported Media Type", sip.NewHeader("Accept", "application/sdp"))
			return
		}
		var err error
		if offer, err = parseSDP(req.Body()); err != nil {
			code, reason := sdpErrorStatus(err)
			s.refuse(tx, req, code, reason, warning(err.Error()))
			return
		}
	}

	c := s.newInboundCall(req, tx, offer)
	c.arrived = arrived
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		c.cancel()
		s.refuse(tx, c.req, 503, "Service Unavailable")
		return
	}
	s.calls[c] = struct{}{}
	s.admitted++
	s.wg.Add(1)
	s.mu.Unlock()
	// RFC 3261 §17.2.1: a 100 stops the caller's retransmissions; it waits a
	// little so that a quick refusal can be sent statelessly instead.
	c.mu.Lock()
	c.trying = time.AfterFunc(trying100Delay, func() { c.sendTrying(req) })
	c.mu.Unlock()
	hook := c.hook
	if !tx.OnCancel(func(r *sip.Request) {
		if c := hook.Load(); c != nil {
			c.onCancel(r)
		}
	}) {
		c.onCancel(nil) // canceled before we could listen
	}
	go c.run(s.h)
	// sipgo ends the transaction when this handler returns: hold it until the
	// final response is out.
	select {
	case <-c.final:
	case <-tx.Done():
	}
}

func (s *Server) newInboundCall(req *sip.Request, tx sip.ServerTransaction, offer *sessionDesc) *InboundCall {
	inv := req.Clone()
	tag := sip.GenerateTagN(16)
	inv.To().Params.Add("tag", tag)
	ctx, cancel := context.WithCancel(s.baseCtx)
	from, to := req.From(), req.To()
	c := &InboundCall{
		CallID:      string(*req.CallID()),
		From:        partyOf(from.DisplayName, &from.Address),
		To:          partyOf(to.DisplayName, &to.Address),
		RequestURI:  req.Recipient.String(),
		RequestUser: unescapeUser(req.Recipient.User),
		Domain:      req.Recipient.Host,
		Transport:   strings.ToLower(req.Transport()),
		s:           s, req: inv, localTag: tag, tx: tx, offer: offer,
		ctx: ctx, cancel: cancel,
		final:    make(chan struct{}),
		canceled: make(chan struct{}),
		hook:     new(atomic.Pointer[InboundCall]),
	}
	c.hook.Store(c)
	if ap, err := netip.ParseAddrPort(req.Source()); err == nil {
		c.Source = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	for _, h := range req.Headers() {
		if isCustomHeader(h.Name()) {
			c.Headers = append(c.Headers, Header{Name: h.Name(), Value: h.Value()})
		}
	}
	return c
}

// requiredExtensions returns the option tags of the Require headers.
func requiredExtensions(req *sip.Request) string {
	var tags []string
	for _, h := range req.GetHeaders("Require") {
		for _, t := range strings.Split(h.Value(), ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return strings.Join(tags, ", ")
}

func newSessionID() uint64 { return rand.Uint64N(1<<62) + 1 }

// reasonPhrase is the standard reason phrase of a status code (RFC 3261 §21).
func reasonPhrase(code int) string {
	switch code {
	case 300:
		return "Multiple Choices"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Moved Temporarily"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 408:
		return "Request Timeout"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 500:
		return "Server Internal Error"
	case 503:
		return "Service Unavailable"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	case 604:
		return "Does Not Exist Anywhere"
	}
	switch {
	case code < 400:
		return "Redirection"
	case code < 500:
		return "Request Failure"
	case code < 600:
		return "Server Failure"
	}
	return "Global Failure"
}
