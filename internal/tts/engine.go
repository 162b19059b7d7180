package tts

import (
	"context"
	"io"
)

// An Engine turns a Request into speech. Synthesize writes one complete WAV file
// (RIFF, PCM) to w, at whatever sample rate the engine produces; the audio layer
// resamples it to 8 kHz. Synthesize must honour ctx and must not write anything
// to w when it returns an error, so that a failed synthesis never leaves half a
// file behind. Implementations are safe for concurrent use.
type Engine interface {
	// Name identifies the engine (e.g. "espeak-ng"); the cache keeps each
	// engine's files in a directory of that name.
	Name() string
	Synthesize(ctx context.Context, req Request, w io.Writer) error
}

// A Request is one <Say>: what to speak and how.
type Request struct {
	// Text is the plain text to speak.
	Text string
	// SSML is a full <speak> document, set when the <Say> had SSML children
	// (see BuildSSML). When SSML is set, Text is ignored.
	SSML string
	// Voice is Twilio's voice attribute: "man", "woman", "alice",
	// "Polly.Joanna", "Polly.Joanna-Neural", "Google.en-US-Standard-C"... Empty
	// means Twilio's default, "man".
	Voice string
	// Language is Twilio's language attribute, e.g. "en-US", "ja-JP". Empty
	// means the named voice's own language, else "en-US".
	Language string
}

// A Resolver is an Engine that can tell, without synthesizing, which concrete
// voice it would use for a request. The Cache uses it so that requests that
// sound the same ("man" and "Polly.Matthew" both become espeak-ng's en-us)
// share one cached file.
type Resolver interface {
	Resolve(req Request) (Voice, error)
}

// Gender is the gender of a voice.
type Gender int

// Genders.
const (
	GenderUnknown Gender = iota
	Male
	Female
)

// String returns "male", "female" or "unknown".
func (g Gender) String() string {
	switch g {
	case Male:
		return "male"
	case Female:
		return "female"
	}
	return "unknown"
}

// A Voice is the concrete voice an engine speaks a request with.
type Voice struct {
	// Language is the language actually spoken, as a Twilio code ("en-US").
	Language string
	// Gender is the voice's gender.
	Gender Gender
	// Name is the engine's own name for the voice (espeak-ng: "en-us+f3").
	Name string
	// Params are the engine settings that change the audio, such as espeak-ng's
	// speaking rate; they are part of the cache key.
	Params string
	// Warnings say where the request could not be honoured exactly.
	Warnings []Warning
}
