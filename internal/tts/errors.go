package tts

import (
	"errors"
	"fmt"

	"github.com/switchboard-voice/switchboard/internal/errcode"
)

// Sentinel errors. Every error returned by this package wraps one of these, so
// callers test with errors.Is; TwilioCode maps them to Twilio's error codes.
var (
	// ErrEmptyText means the request has no text at all (or only white space).
	// Twilio: 13520 "Say: Invalid text".
	ErrEmptyText = errors.New("tts: empty text")
	// ErrNothingToSay means the text has no letter, digit or symbol to speak,
	// only punctuation or white space (e.g. "..."). Twilio: 13520.
	ErrNothingToSay = errors.New("tts: nothing to say")
	// ErrTextTooLong means the spoken text exceeds the engine's character limit.
	// Twilio: 13521 "<Say> element character limits exceeded".
	ErrTextTooLong = errors.New("tts: text too long")
	// ErrInvalidSSML means the SSML document is not well-formed XML.
	// Twilio: 13520 ("empty or un-parsable").
	ErrInvalidSSML = errors.New("tts: invalid ssml")
	// ErrInvalidLoop means a <Say loop> value is not an integer >= 0.
	// Twilio: 13510 "Say: Invalid loop value".
	ErrInvalidLoop = errors.New("tts: invalid loop value")
	// ErrEngineNotFound means the speech engine's program could not be run
	// (for espeak-ng: the binary is not installed or the path is wrong).
	ErrEngineNotFound = errors.New("tts: speech engine not found")
	// ErrEngineFailed means the engine ran and failed; the wrapping error carries
	// the engine's own message (espeak-ng's stderr).
	ErrEngineFailed = errors.New("tts: speech engine failed")
	// ErrTimeout means synthesis took longer than the engine's time limit.
	ErrTimeout = errors.New("tts: synthesis timed out")
	// ErrOutputTooLarge means the engine produced more audio than allowed.
	ErrOutputTooLarge = errors.New("tts: synthesized audio too large")
	// ErrNoAudio means the engine finished but produced no samples.
	ErrNoAudio = errors.New("tts: no audio produced")
	// ErrBadWAV means audio (from an engine or the cache) is not a usable WAV file.
	ErrBadWAV = errors.New("tts: malformed wav")
	// ErrClosed means the Cache has been closed.
	ErrClosed = errors.New("tts: cache closed")
)

// Twilio error and warning codes used by this package, as named in package
// errcode (https://www.twilio.com/docs/api/errors).
const (
	CodeInvalidLoop  = errcode.SayInvalidLoop  // Say: Invalid loop value
	CodeInvalidVoice = errcode.SayInvalidVoice // Say: Invalid voice value
	CodeInvalidRate  = errcode.SayInvalidRate  // Say: Invalid rate value (<prosody rate>)
	CodeInvalidText  = errcode.SayInvalidText  // Say: Invalid text (empty or un-parsable)
	CodeTextTooLong  = errcode.SayTooLong      // <Say> element character limits exceeded
)

// TwilioCode returns the Twilio error code that err corresponds to, or 0 when
// Twilio has none (engine failures are internal errors on our side).
func TwilioCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrEmptyText), errors.Is(err, ErrNothingToSay), errors.Is(err, ErrInvalidSSML):
		return CodeInvalidText
	case errors.Is(err, ErrTextTooLong):
		return CodeTextTooLong
	case errors.Is(err, ErrInvalidLoop):
		return CodeInvalidLoop
	}
	return 0
}

// A Warning is a problem that did not stop synthesis: the request was spoken,
// but not exactly as asked (an unknown voice, an unsupported language, an
// invalid <prosody rate>). Code is Twilio's warning code.
type Warning struct {
	Code    int
	Message string
}

// String formats the warning as "CODE message".
func (w Warning) String() string { return fmt.Sprintf("%d %s", w.Code, w.Message) }
