package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/media"
)

// A Leg is an established call, inbound or outbound: a confirmed SIP dialog
// with its RTP session. Nothing in its methods is SIP-specific, so the
// interpreter, a bridge or a conference can drive it without knowing how it
// was set up. The leg answers re-INVITEs itself (hold and unhold update the
// session's direction), answers BYE, and hangs up with BYE when its session
// sees no RTP for the media engine's inactivity timeout.
type Leg struct {
	s        *Server
	d        *dialog
	sess     *media.Session
	inbound  bool
	answered time.Time
	headers  []Header
	done     chan struct{}
	info     chan media.DTMF

	// mu guards the fields below.
	mu      sync.Mutex
	state   State
	end     EndReason
	local   localSDP
	neg     negotiation
	pending bool                         // a re-INVITE awaits its final response
	acks    map[uint32]chan *sip.Request // ACK waiters by the CSeq of their INVITE
	onEnd   []func()
}

func newLeg(s *Server, d *dialog, sess *media.Session, inbound bool, local localSDP, neg negotiation) *Leg {
	return &Leg{
		s: s, d: d, sess: sess, inbound: inbound,
		answered: s.clock.Now(),
		done:     make(chan struct{}),
		info:     make(chan media.DTMF, 16),
		acks:     make(map[uint32]chan *sip.Request),
		state:    StateAnswered,
		local:    local,
		neg:      neg,
	}
}

// Media is the leg's RTP session: play to it, attach a sink, read DTMF.
func (l *Leg) Media() *media.Session { return l.sess }

// Done is closed when the call is over, whoever ended it.
func (l *Leg) Done() <-chan struct{} { return l.done }

// EndReason says why the call ended; EndNone while it lasts.
func (l *Leg) EndReason() EndReason {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.end
}

// State is where the call stands.
func (l *Leg) State() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// CallID is the SIP Call-ID of the leg (Twilio's SipCallId).
func (l *Leg) CallID() string { return l.d.callID }

// Inbound reports whether the far end called switchboard.
func (l *Leg) Inbound() bool { return l.inbound }

// AnsweredAt is when the call was answered.
func (l *Leg) AnsweredAt() time.Time { return l.answered }

// Headers are the custom headers (X-..., User-to-User) the far end sent when
// the call was set up: those of the INVITE for an inbound leg, of the 200 OK
// for an outbound one (Twilio's SipHeader_ and DialSipHeader_ parameters).
func (l *Leg) Headers() []Header { return l.headers }

// Codec is the audio codec negotiated for the leg.
func (l *Leg) Codec() media.Codec {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.neg.codec
}

// Direction is what switchboard currently does on the leg: SendRecv, or
// RecvOnly/Inactive while the far end holds the call.
func (l *Leg) Direction() media.Direction {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.neg.local
}

// InfoDTMF delivers digits the far end sends as SIP INFO instead of RFC 4733
// events. Digits are dropped when nobody reads and 16 are waiting.
func (l *Leg) InfoDTMF() <-chan media.DTMF { return l.info }

// Hangup ends the call with BYE (RFC 3261 §15.1.1). The session closes and
// Done is closed at once; Hangup then waits for the far end's answer to the
// BYE until ctx's deadline, or 64*T1 (32 s) without one. Canceling ctx does not
// cut the wait short: ending the call cancels the context the Handler was
// given, which is usually the one passed here. Hanging up a leg that has
// already ended does nothing and returns nil.
func (l *Leg) Hangup(ctx context.Context) error {
	if !l.finish(EventHangup, EndNone) {
		return nil
	}
	byeCtx := context.WithoutCancel(ctx)
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		byeCtx, cancel = context.WithDeadline(byeCtx, dl)
		defer cancel()
	}
	return l.sendBye(byeCtx)
}

// OnEnd registers f to run (on its own goroutine) when the call ends; at once
// if it has ended.
func (l *Leg) OnEnd(f func()) {
	l.mu.Lock()
	if l.state != StateTerminated {
		l.onEnd = append(l.onEnd, f)
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	go f()
}

// fire applies e to the leg's state and reports whether it was legal.
func (l *Leg) fire(e Event) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	next, err := Transition(l.state, e)
	if err != nil {
		return false
	}
	l.state = next
	return true
}

// finish ends the leg on event e (reason overrides the reason e implies when
// not EndNone). It reports whether this call ended it; only that caller sends
// a BYE, if one is due.
func (l *Leg) finish(e Event, reason EndReason) bool {
	l.mu.Lock()
	if l.state == StateTerminated {
		l.mu.Unlock()
		return false
	}
	next, err := Transition(l.state, e)
	if err != nil || next != StateTerminated {
		l.mu.Unlock()
		return false
	}
	l.state = StateTerminated
	l.end = endReasonOf(e)
	if reason != EndNone {
		l.end = reason
	}
	onEnd := l.onEnd
	l.onEnd = nil
	l.mu.Unlock()

	l.s.removeLeg(l)
	_ = l.sess.Close()
	close(l.done)
	for _, f := range onEnd {
		go f()
	}
	return true
}

// sendBye sends BYE within the dialog and waits for the answer. A 481 means
// the far end already forgot the call, which is fine.
func (l *Leg) sendBye(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 64*sip.T1)
		defer cancel()
	}
	res, err := l.s.do(ctx, l.d.newRequest(l.s, sip.BYE))
	if err != nil {
		return fmt.Errorf("hangup: %w", err)
	}
	if !res.IsSuccess() && res.StatusCode != 481 {
		return fmt.Errorf("hangup: bye answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// monitor ends the leg when its session ends on its own (no RTP for the
// inactivity timeout, or the engine closed).
func (l *Leg) monitor() {
	defer l.s.wg.Done()
	select {
	case <-l.done:
		return
	case <-l.sess.Done():
	}
	e, reason := EventHangup, EndFailed
	if errors.Is(l.sess.Err(), media.ErrInactive) {
		e, reason = EventMediaTimeout, EndMediaTimeout
	}
	if l.finish(e, reason) {
		ctx, cancel := context.WithTimeout(l.s.baseCtx, 64*sip.T1)
		defer cancel()
		if err := l.sendBye(ctx); err != nil {
			l.s.log.Debug("sip bye after media end failed", "call_id", l.d.callID, "err", err)
		}
	}
}

// expectAck registers a waiter for the ACK of the INVITE with CSeq seq, before
// the 2xx goes out so that a quick ACK is not missed.
func (l *Leg) expectAck(seq uint32) chan *sip.Request {
	ch := make(chan *sip.Request, 1)
	l.mu.Lock()
	l.acks[seq] = ch
	l.mu.Unlock()
	return ch
}

// deliverAck hands an ACK to the waiter for its CSeq; a retransmitted ACK,
// or one for an INVITE nobody waits for, is dropped.
func (l *Leg) deliverAck(req *sip.Request) {
	l.mu.Lock()
	ch := l.acks[req.CSeq().SeqNo]
	delete(l.acks, req.CSeq().SeqNo)
	l.mu.Unlock()
	if ch != nil {
		ch <- req
	}
}

func (l *Leg) deliverInfoDTMF(d media.DTMF) {
	select {
	case l.info <- d:
	default:
	}
}

// remoteOf turns a negotiation into what the session needs.
func remoteOf(n negotiation) media.Remote {
	return media.Remote{Addr: n.remote, Codec: n.codec, EventPT: n.eventPT, Direction: n.local}
}

// awaitAck waits on acks (from expectAck) for the ACK of the 2xx res, sent on
// tx for the INVITE with CSeq seq, retransmitting res over UDP from T1
// doubling up to T2 and giving up after 64*T1 (RFC 3261 §13.3.1.4, RFC 6026
// §8.1: this is the core's job, not the transaction's).
func (l *Leg) awaitAck(ctx context.Context, tx sip.ServerTransaction, res *sip.Response, seq uint32, acks chan *sip.Request) (*sip.Request, error) {
	defer func() {
		l.mu.Lock()
		if l.acks[seq] == acks {
			delete(l.acks, seq)
		}
		l.mu.Unlock()
	}()
	clk := l.s.clock
	giveUp := clk.NewTimer(64 * sip.T1)
	defer giveUp.Stop()
	var retransmit <-chan time.Time
	var t clock.Timer
	interval := sip.T1
	if l.d.transport == "UDP" {
		t = clk.NewTimer(interval)
		defer t.Stop()
		retransmit = t.C()
	}
	for {
		select {
		case ack := <-acks:
			return ack, nil
		case ack := <-tx.Acks():
			return ack, nil
		case <-retransmit:
			interval = min(2*interval, sip.T2)
			t.Reset(interval)
			select {
			case <-tx.Done():
				// The transaction lingers InviteLinger, less than the 64*T1
				// this waits: the 2xx goes out on the transport.
				_ = l.s.srv.WriteResponse(res)
			default:
				_ = tx.Respond(res)
			}
		case <-giveUp.C():
			return nil, ErrAckTimeout
		case <-l.done:
			return nil, ErrCallEnded
		case <-ctx.Done():
			select {
			case <-l.done:
				// Ending the call cancels the handler's context too.
				return nil, ErrCallEnded
			default:
			}
			return nil, ctx.Err()
		}
	}
}

// okResponse is a 200 OK to an INVITE carrying SDP.
func (s *Server) okResponse(req *sip.Request, body []byte, transport string) *sip.Response {
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	ct := sip.ContentTypeHeader("application/sdp")
	res.AppendHeader(&ct)
	res.AppendHeader(s.contact(transport))
	s.decorate(res, sip.NewHeader("Allow", allowed))
	return res
}

// handleReinvite answers an INVITE within the dialog (RFC 3261 §14.2): a new
// offer (hold with sendonly/inactive or c=0.0.0.0, unhold with sendrecv) is
// answered with the mirrored direction and applied to the session; an offer
// it cannot accept gets 488 and leaves the session as it was.
func (l *Leg) handleReinvite(req *sip.Request, tx sip.ServerTransaction) {
	s := l.s
	l.mu.Lock()
	switch {
	case l.state == StateTerminated:
		l.mu.Unlock()
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	case l.pending:
		// RFC 3261 §14.2: a second INVITE before the first has its final
		// response gets a 500 with a Retry-After of 0 to 10 seconds. (Once the
		// 200 is out, the dialog exists: a re-INVITE may overtake the ACK.)
		l.mu.Unlock()
		s.respond(tx, req, 500, "Server Internal Error", nil,
			sip.NewHeader("Retry-After", strconv.Itoa(rand.IntN(11))))
		return
	}
	l.pending = true
	l.mu.Unlock()
	// RFC 3261 §14.2 forbids a second INVITE only until the first has its
	// final response; the ACK may still be on its way.
	final := sync.OnceFunc(func() {
		l.mu.Lock()
		l.pending = false
		l.mu.Unlock()
	})
	defer final()

	respond := func(code int, reason string, hdrs ...sip.Header) {
		final()
		s.respond(tx, req, code, reason, nil, hdrs...)
	}
	seq := req.CSeq().SeqNo
	if !l.d.acceptRemoteSeq(seq) {
		respond(500, "Server Internal Error", warning("CSeq out of order"))
		return
	}
	var offer *sessionDesc
	if len(req.Body()) > 0 {
		if !isSDP(req) {
			respond(415, "Unsupported Media Type", sip.NewHeader("Accept", "application/sdp"))
			return
		}
		var err error
		if offer, err = parseSDP(req.Body()); err != nil {
			code, reason := sdpErrorStatus(err)
			respond(code, reason, warning(err.Error()))
			return
		}
	}
	l.d.refreshTarget(req)
	l.fire(EventReinvite)

	l.mu.Lock()
	l.local.version++
	var body []byte
	if offer != nil {
		l.neg = offer.negotiate(l.neg.codec.Name)
		body = l.local.answer(offer, l.neg)
	} else {
		// An offerless re-INVITE: offer in the 200, the answer comes in the ACK.
		body = l.local.offer(media.SendRecv)
	}
	neg := l.neg
	l.mu.Unlock()
	if offer != nil {
		l.sess.SetRemote(remoteOf(neg))
	}

	res := s.okResponse(req, body, l.d.transport)
	acks := l.expectAck(seq)
	final()
	s.invites.add(inviteKey(req), s.clock.Now()) // linger.go
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip re-invite 200 failed", "call_id", l.d.callID, "err", err)
		return
	}
	ack, err := l.awaitAck(s.baseCtx, tx, res, seq, acks)
	switch {
	case errors.Is(err, ErrAckTimeout):
		if l.finish(EventHangup, EndAckTimeout) {
			ctx, cancel := context.WithTimeout(s.baseCtx, 64*sip.T1)
			defer cancel()
			_ = l.sendBye(ctx)
		}
		return
	case err != nil:
		return
	}
	if offer == nil {
		n, err := answerToOffer(ack.Body())
		if err != nil {
			s.log.Debug("sip re-invite: unusable answer in ack; session unchanged", "call_id", l.d.callID, "err", err)
			return
		}
		l.mu.Lock()
		l.neg = n
		l.mu.Unlock()
		l.sess.SetRemote(remoteOf(n))
	}
}

// isSDP reports whether a message body is a session description.
func isSDP(req *sip.Request) bool {
	ct := req.ContentType()
	if ct == nil {
		return true // RFC 3261 §20.15 asks for it; many senders omit it on SDP
	}
	v, _, _ := strings.Cut(string(*ct), ";")
	return strings.EqualFold(strings.TrimSpace(v), "application/sdp")
}

// sdpErrorStatus maps an SDP error to the SIP status it is answered with.
func sdpErrorStatus(err error) (int, string) {
	if errors.Is(err, ErrNoSharedCodec) {
		return 488, "Not Acceptable Here"
	}
	return 400, "Bad Request"
}
