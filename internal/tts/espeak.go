package tts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// Defaults for Espeak's zero fields.
const (
	DefaultEspeakPath = "espeak-ng"
	// DefaultRate is espeak-ng's own default speaking rate, in words per minute.
	DefaultRate = 175
	// DefaultTimeout bounds one synthesis; espeak-ng speaks ~4,000 characters
	// in well under a second.
	DefaultTimeout = 20 * time.Second
	// DefaultMaxOutputBytes bounds the WAV one synthesis may produce: about
	// 12 minutes at 22,050 Hz 16-bit mono.
	DefaultMaxOutputBytes = 32 << 20
	// DefaultMaxChars is Twilio's limit for its basic voices' text
	// (https://www.twilio.com/docs/api/errors/13521); markup is not counted.
	DefaultMaxChars = 4096
	// maxStderr is how much of espeak-ng's stderr is kept for the error.
	maxStderr = 1024
)

// femaleVariant is the espeak-ng voice variant used for female voices
// (see `espeak-ng --voices=variant`).
const femaleVariant = "+f3"

// Espeak is the default speech engine: espeak-ng (GPL-3, so run as a
// subprocess, never linked). The text goes in on stdin, never on the command
// line; the WAV comes out on stdout (22,050 Hz mono 16-bit PCM) and is
// returned with its RIFF sizes patched. SSML is rewritten into the dialect
// espeak-ng reads (-m); Japanese is turned into kana first (see ToKana).
//
// The zero value is ready to use; the fields tune it. An Espeak is safe for
// concurrent use; each Synthesize runs its own process.
type Espeak struct {
	// Path is the espeak-ng binary, looked up in PATH when it has no slash.
	// Default DefaultEspeakPath.
	Path string
	// Rate is the speaking rate in words per minute (-s). Default DefaultRate.
	Rate int
	// Timeout bounds one synthesis. Default DefaultTimeout.
	Timeout time.Duration
	// MaxOutputBytes bounds the WAV one synthesis may produce; more fails with
	// ErrOutputTooLarge. Default DefaultMaxOutputBytes.
	MaxOutputBytes int
	// MaxChars bounds the characters of text one request may speak; more fails
	// with ErrTextTooLong (Twilio 13521). Default DefaultMaxChars.
	MaxChars int
	// Clock times the Timeout. Default clock.Real.
	Clock clock.Clock
}

var (
	_ Engine   = (*Espeak)(nil)
	_ Resolver = (*Espeak)(nil)
)

// Name returns "espeak-ng".
func (e *Espeak) Name() string { return "espeak-ng" }

func (e *Espeak) path() string {
	if e.Path == "" {
		return DefaultEspeakPath
	}
	return e.Path
}

func (e *Espeak) rate() int {
	if e.Rate <= 0 {
		return DefaultRate
	}
	return min(max(e.Rate, 80), 450) // espeak-ng's own limits
}

func (e *Espeak) timeout() time.Duration {
	if e.Timeout <= 0 {
		return DefaultTimeout
	}
	return e.Timeout
}

func (e *Espeak) maxOutput() int {
	if e.MaxOutputBytes <= 0 {
		return DefaultMaxOutputBytes
	}
	return e.MaxOutputBytes
}

func (e *Espeak) maxChars() int {
	if e.MaxChars <= 0 {
		return DefaultMaxChars
	}
	return e.MaxChars
}

func (e *Espeak) clock() clock.Clock {
	if e.Clock == nil {
		return clock.Real
	}
	return e.Clock
}

// Resolve returns the espeak-ng voice a request is spoken with: the language
// chosen by SelectVoice mapped to espeak-ng's voice for it, with the female
// variant for female voices. A language espeak-ng cannot speak falls back to
// en-US with a 13511 warning (Twilio has no <Say> code for an unsupported
// language; 13511 is its warning for an unusable voice/language choice). The
// warnings also cover SSML that cannot be honoured (13513 for a bad
// <prosody rate>).
func (e *Espeak) Resolve(req Request) (Voice, error) {
	v := e.voice(req)
	if strings.TrimSpace(req.SSML) != "" && len(req.SSML) <= e.maxSSMLBytes() {
		// Report what the SSML will lose (13513); an invalid document fails
		// later, in Synthesize.
		if res, err := espeakSSML(req.SSML, ssmlOptions{}); err == nil {
			v.Warnings = append(v.Warnings, res.warnings...)
		}
	}
	return v, nil
}

// voice picks the espeak-ng voice for req.
func (e *Espeak) voice(req Request) Voice {
	sel := SelectVoice(req.Voice, req.Language)
	v := Voice{Gender: sel.Gender, Warnings: sel.Warnings}
	l, ok := lookupLanguage(sel.Language)
	if !ok {
		l, _ = lookupLanguage(DefaultLanguage)
		v.Warnings = append(v.Warnings, Warning{CodeInvalidVoice,
			fmt.Sprintf("language %q is not supported by espeak-ng: speaking %s", sel.Language, DefaultLanguage)})
	}
	v.Language = l.codes[0]
	v.Name = l.espeak
	if sel.Gender == Female {
		v.Name += femaleVariant
	}
	v.Params = "rate=" + strconv.Itoa(e.rate())
	return v
}

// maxSSMLBytes bounds the size of an SSML document: markup is not counted
// against MaxChars, but a document this much larger cannot be within it.
func (e *Espeak) maxSSMLBytes() int { return 64*e.maxChars() + 1024 }

// Synthesize speaks req and writes the WAV to w. Bad text fails before any
// process starts: ErrEmptyText, ErrNothingToSay (punctuation only),
// ErrTextTooLong, ErrInvalidSSML. A missing binary gives ErrEngineNotFound, a
// failing one ErrEngineFailed with its stderr, a slow one ErrTimeout.
func (e *Espeak) Synthesize(ctx context.Context, req Request, w io.Writer) error {
	v := e.voice(req)
	input, ssml, err := e.input(req, v)
	if err != nil {
		return err
	}
	args := []string{"-v", v.Name, "-s", strconv.Itoa(e.rate()), "-b", "1", "--stdout"}
	if ssml {
		args = append(args, "-m")
	}
	out, err := e.run(ctx, args, input)
	if err != nil {
		return err
	}
	info, err := fixWAV(out)
	if err != nil {
		return fmt.Errorf("tts: espeak-ng output: %w", err)
	}
	if info.dataSize == 0 {
		return fmt.Errorf("%w: espeak-ng wrote no samples", ErrNoAudio)
	}
	if _, err := w.Write(out[:info.dataOffset+info.dataSize]); err != nil {
		return fmt.Errorf("tts: write audio: %w", err)
	}
	return nil
}

// input checks the request's text and prepares what goes on espeak-ng's stdin,
// reporting whether it is SSML.
func (e *Espeak) input(req Request, v Voice) (string, bool, error) {
	var rewrite func(string) string
	if v.Language == "ja-JP" {
		rewrite = ToKana
	}
	limit := e.maxChars()
	if strings.TrimSpace(req.SSML) != "" {
		if len(req.SSML) > e.maxSSMLBytes() {
			return "", false, fmt.Errorf("%w: %d bytes of ssml", ErrTextTooLong, len(req.SSML))
		}
		res, err := espeakSSML(req.SSML, ssmlOptions{text: rewrite, gender: v.Gender, base: baseLanguage(v.Name)})
		switch {
		case err != nil:
			return "", false, err
		case res.chars > limit:
			return "", false, fmt.Errorf("%w: %d characters, limit %d", ErrTextTooLong, res.chars, limit)
		case !res.hasText && !res.pauses:
			return "", false, ErrEmptyText
		case !res.speaks && !res.pauses:
			return "", false, ErrNothingToSay
		}
		return res.doc, true, nil
	}
	if n := utf8.RuneCountInString(req.Text); n > limit {
		return "", false, fmt.Errorf("%w: %d characters, limit %d", ErrTextTooLong, n, limit)
	}
	text := cleanText(req.Text)
	switch {
	case strings.TrimSpace(text) == "":
		return "", false, ErrEmptyText
	case !speakable(text):
		return "", false, ErrNothingToSay
	}
	if rewrite != nil {
		text = rewrite(text)
	}
	return text, false, nil
}

// run runs espeak-ng with input on stdin and returns its stdout.
func (e *Espeak) run(ctx context.Context, args []string, input string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tts: espeak-ng: %w", err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timeout := e.timeout()
	timer := e.clock().NewTimer(timeout)
	defer timer.Stop()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-timer.C():
			cancel(ErrTimeout)
		case <-done:
		}
	}()

	stdout := &capWriter{max: e.maxOutput(), onOverflow: func() { cancel(ErrOutputTooLarge) }}
	stderr := &capWriter{max: maxStderr, truncate: true}
	cmd := exec.CommandContext(ctx, e.path(), args...)
	cmd.Stdin = strings.NewReader(input)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.WaitDelay = time.Second // do not wait for pipes held by stray children
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("%w: %q: %w", ErrEngineNotFound, e.path(), err)
		}
		return nil, fmt.Errorf("%w: start %q: %w", ErrEngineFailed, e.path(), err)
	}
	err := cmd.Wait()
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, ErrTimeout):
		return nil, fmt.Errorf("%w after %v", ErrTimeout, timeout)
	case errors.Is(cause, ErrOutputTooLarge):
		return nil, fmt.Errorf("%w: more than %d bytes", ErrOutputTooLarge, stdout.max)
	case cause != nil:
		return nil, fmt.Errorf("tts: espeak-ng: %w", cause)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = "no message"
		}
		return nil, fmt.Errorf("%w: %w: %s", ErrEngineFailed, err, msg)
	}
	return stdout.buf.Bytes(), nil
}

var errCapExceeded = errors.New("tts: output limit exceeded")

// A capWriter collects at most max bytes. Past that it either drops the rest
// (truncate, for stderr) or fails and calls onOverflow (for the audio).
type capWriter struct {
	buf        bytes.Buffer
	max        int
	truncate   bool
	onOverflow func()
	overflowed bool
}

func (c *capWriter) Write(p []byte) (int, error) {
	if c.buf.Len()+len(p) <= c.max {
		return c.buf.Write(p)
	}
	if c.truncate {
		c.buf.Write(p[:c.max-c.buf.Len()])
		return len(p), nil
	}
	if !c.overflowed && c.onOverflow != nil {
		c.onOverflow()
	}
	c.overflowed = true
	return 0, errCapExceeded
}

func (c *capWriter) String() string { return strings.ToValidUTF8(c.buf.String(), "?") }

// Version runs `espeak-ng --version` and returns its first line, to check at
// start-up that the engine is installed.
func (e *Espeak) Version(ctx context.Context) (string, error) {
	out, err := e.run(ctx, []string{"--version"}, "")
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line), nil
}

// baseLanguage is the language part of an espeak-ng voice name: "en-us+f3" -> "en-us".
func baseLanguage(voice string) string {
	l, _, _ := strings.Cut(voice, "+")
	return l
}
