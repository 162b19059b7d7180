package voice

import (
	"context"

	"github.com/switchboard-voice/switchboard/internal/media"
)

// Inbound is an incoming call that has not been answered yet.
type Inbound interface {
	// Ringing tells the caller the call is ringing (SIP 180).
	Ringing() error
	// Answer answers the call and returns its established leg.
	Answer(ctx context.Context) (Leg, error)
	// Reject refuses the call with a final status code (486 busy, 603
	// declined, 500...) without answering it.
	Reject(code int, reason string) error
	// Canceled is closed when the caller gives up before the call is
	// answered.
	Canceled() <-chan struct{}
}

// Leg is an answered call: a media session that the interpreter plays to and
// listens to, until one side hangs up.
type Leg interface {
	Media() *media.Session
	// Hangup ends the call from our side.
	Hangup(ctx context.Context) error
	// Done is closed when the call has ended, whichever side ended it.
	Done() <-chan struct{}
	// InfoDTMF delivers the digits the caller sends in SIP INFO requests
	// (application/dtmf-relay, application/dtmf); nil when the transport has
	// no such thing.
	InfoDTMF() <-chan media.DTMF
}
