package voice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
)

// Inbound is an incoming call that has not been answered yet.
type Inbound interface {
	// Ringing tells the caller the call is ringing (SIP 180).
	Ringing() error
	// Answer answers the call and returns its established leg; its error
	// wraps ErrCanceled if the caller canceled first.
	Answer(ctx context.Context) (Leg, error)
	// Reject refuses the call with a final status code (486 busy, 603
	// declined, 500...) without answering it.
	Reject(code int, reason string) error
	// Canceled is closed when the caller gives up before the call is
	// answered.
	Canceled() <-chan struct{}
}

// ErrCanceled is what Inbound.Answer's error wraps when the caller canceled
// first. The transport may end the call's context before it closes Canceled
// (or the other way round): a call that tries to answer in between learns of
// the cancel from the answer.
var ErrCanceled = errors.New("call canceled before answer")

// Leg is an answered call, inbound or outbound: its media and its end.
type Leg interface {
	// Media is the leg's audio.
	Media() Media
	// Hangup ends the call from our side.
	Hangup(ctx context.Context) error
	// Done is closed when the call has ended, whichever side ended it.
	Done() <-chan struct{}
	// OnEnd registers f to run (on its own goroutine) when the call ends;
	// at once if it has ended.
	OnEnd(f func())
	// InfoDTMF delivers the digits the far end sends in SIP INFO requests
	// (application/dtmf-relay, application/dtmf); nil when the transport has
	// no such thing.
	InfoDTMF() <-chan media.DTMF
}

// Media is what the interpreter (and, next, a bridge or a room) does with a
// leg's audio. *media.Session implements it.
//
// The leg has one consumer at a time: whoever plays to it (Play) and takes
// what it hears (SetSink) — the interpreter's playback now, a bridge or a
// mixer later. Taps listen to both directions whoever the consumer is: the
// ear for digits, the recorders. Changing the consumer loses no tap.
type Media interface {
	// Play sends src to the far end until it ends, ctx ends or the leg ends.
	Play(ctx context.Context, src media.Source) error
	// SetSink hands what the far end says to sink (nil: to nobody).
	SetSink(sink media.Sink)
	// SendDTMF sends digits ('w' pauses half a second).
	SendDTMF(ctx context.Context, digits string) error
	// DTMF delivers the digits received as RFC 4733 events.
	DTMF() <-chan media.DTMF
	// Remote is what the far end negotiated.
	Remote() media.Remote
	// AddTap and RemoveTap attach and detach a listener of both directions.
	AddTap(t media.Tap)
	RemoveTap(t media.Tap)
}

var _ Media = (*media.Session)(nil)

// DialRequest is an outbound call to place.
type DialRequest struct {
	// To is a sip: URI (";transport=tcp" honoured) or an E.164 number (sent
	// to the trunk).
	To string
	// From is the caller ID: a user part ("+14155550100", "alice") or a SIP
	// URI.
	From string
	// Timeout is how long to ring before giving up.
	Timeout time.Duration
	// Username and Password answer a digest challenge.
	Username, Password string
	// OnRinging, when set, is called (on the dialing goroutine) at the first
	// provisional response above 100.
	OnRinging func()
	// OnEarlyMedia, when set, is called (on the dialing goroutine) once, when
	// the far end starts sending early media (a 183 with SDP): m is the
	// media of the call to come, which may be listened to before the answer.
	OnEarlyMedia func(m Media)
}

// SIPInfo is what a leg set up over SIP tells the application: the Call-ID
// and the custom headers (X-, User-to-User) of the INVITE or of its answer.
// Legs implement it optionally (interface{ SIPInfo() SIPInfo }).
type SIPInfo struct {
	CallID  string
	Headers []Header
}

// A Header is one SIP header.
type Header struct{ Name, Value string }

// EarlyMedia is implemented by an Inbound that can send early media (SIP
// 183 with SDP): the caller hears what is played to the returned media
// before the call is answered; Answer afterwards keeps that media.
type EarlyMedia interface {
	EarlyMedia(ctx context.Context) (Media, error)
}

// A Dialer places outbound calls. The SIP server implements it (through the
// server package); tests use fakes.
type Dialer interface {
	// Dial calls r.To and returns the leg once answered, or a *DialError.
	Dial(ctx context.Context, r DialRequest) (Leg, error)
}

// A DialError says why an outbound call was not answered.
type DialError struct {
	// Code is the final SIP response (486, 404, 503...), 0 when none came.
	Code   int
	Reason string
	// NoAnswer is set when the ring timeout ended the attempt.
	NoAnswer bool
	// Unreachable is set when the far end never answered the request at
	// all (no response before the transaction timed out, or no route).
	Unreachable bool
	// CallID and Headers are the SIP Call-ID used and the custom headers of
	// the final response (Twilio's DialSipCallId, DialSipHeader_*).
	CallID  string
	Headers []Header
	Err     error
}

func (e *DialError) Error() string {
	switch {
	case e.NoAnswer:
		return "no answer"
	case e.Code != 0:
		return fmt.Sprintf("%d %s", e.Code, e.Reason)
	case e.Err != nil:
		return e.Err.Error()
	}
	return "dial failed"
}

func (e *DialError) Unwrap() error { return e.Err }

// ErrNoDialer: the interpreter was built without a Dialer.
var ErrNoDialer = errors.New("voice: no dialer configured")
