package media

import "errors"

// Sentinel errors of the media engine. Errors returned by this package wrap them,
// so callers test with errors.Is.
var (
	// ErrClosed reports that the session (or the engine) has been closed.
	ErrClosed = errors.New("media: session closed")
	// ErrInactive reports that a session ended because no RTP arrived for
	// EngineConfig.InactivityTimeout.
	ErrInactive = errors.New("media: no rtp received within the inactivity timeout")
	// ErrNoPorts reports that every RTP port pair of the engine's range is in use.
	ErrNoPorts = errors.New("media: no free rtp port in range")
	// ErrBadConfig reports an unusable EngineConfig.
	ErrBadConfig = errors.New("media: bad engine config")
	// ErrReplaced is returned by Play when a later Play on the same session took
	// over before the first finished.
	ErrReplaced = errors.New("media: playback replaced by a later play")
	// ErrInvalidDigit reports a character SendDTMF cannot send.
	ErrInvalidDigit = errors.New("media: invalid dtmf digit")
	// ErrShortPayload reports an RFC 4733 payload shorter than one event block.
	ErrShortPayload = errors.New("media: telephone-event payload too short")
	// ErrShortBuffer reports a destination buffer too small for what is marshalled.
	ErrShortBuffer = errors.New("media: buffer too short")
	// ErrOtherEngine reports a session given to a Group of another engine.
	ErrOtherEngine = errors.New("media: session of another engine")
)
