package tts

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// speak synthesizes req with a real espeak-ng and decodes the result.
func speak(t *testing.T, e *Espeak, req Request) audio {
	t.Helper()
	var buf bytes.Buffer
	if err := e.Synthesize(context.Background(), req, &buf); err != nil {
		t.Fatalf("Synthesize(%+v): %v", req, err)
	}
	return decodeWAV(t, buf.Bytes())
}

// minSpeechRMS separates speech from silence: espeak-ng speaks at an RMS of
// about 2,400; silence is 0.
const minSpeechRMS = 300

func TestEspeakEnglish(t *testing.T) {
	needEspeak(t)
	e := &Espeak{}
	a := speak(t, e, Request{Text: "Hello, this is a test of the switchboard speech engine."})
	if a.info.sampleRate != 22050 || a.info.channels != 1 {
		t.Errorf("format %d Hz %d ch, want 22050 Hz mono", a.info.sampleRate, a.info.channels)
	}
	if d := a.seconds(); d < 2 || d > 6 {
		t.Errorf("duration %.2fs, want 2-6 s for ten words", d)
	}
	if r := a.rms(); r < minSpeechRMS {
		t.Errorf("rms %.0f: output is silent", r)
	}
	// Female voice and a slower rate are different audio of the same words.
	f := speak(t, e, Request{Text: "Hello, this is a test of the switchboard speech engine.", Voice: "woman"})
	if bytes.Equal(int16Bytes(f.samples), int16Bytes(a.samples)) {
		t.Error("woman sounds exactly like man")
	}
	slow := speak(t, &Espeak{Rate: 100}, Request{Text: "Hello, this is a test of the switchboard speech engine."})
	if slow.seconds() < a.seconds()*1.4 {
		t.Errorf("rate 100: %.2fs, default %.2fs; want much longer", slow.seconds(), a.seconds())
	}
}

func int16Bytes(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		b[2*i], b[2*i+1] = byte(v), byte(v>>8)
	}
	return b
}

func TestEspeakBreak(t *testing.T) {
	needEspeak(t)
	e := &Espeak{}
	base := speak(t, e, Request{SSML: mustSSML(t, `Hello there goodbye now`)})
	long := speak(t, e, Request{SSML: mustSSML(t, `Hello there <break time="1s"/> goodbye now`)})
	half := speak(t, e, Request{SSML: mustSSML(t, `Hello there. <break time="500ms"/> Goodbye now.`)})
	if d := long.seconds() - base.seconds(); d < 0.9 || d > 1.3 {
		t.Errorf(`<break time="1s"/> added %.2fs, want about 1 s`, d)
	}
	// The silence is really there, as long as asked: the longest quiet
	// stretch is the break.
	if q := longestQuiet(long); q < 0.95 || q > 1.15 {
		t.Errorf(`<break time="1s"/>: longest quiet stretch %.2fs, want about 1 s`, q)
	}
	if q := longestQuiet(half); q < 0.45 || q > 0.65 {
		t.Errorf(`<break time="500ms"/>: longest quiet stretch %.2fs, want about 0.5 s`, q)
	}
	if q := longestQuiet(base); q > 0.4 {
		t.Errorf("no break: longest quiet stretch %.2fs, want < 0.4 s", q)
	}
}

// longestQuiet returns the longest stretch of near-silence, in seconds.
func longestQuiet(a audio) float64 {
	best, cur := 0, 0
	for _, s := range a.samples {
		if s > -100 && s < 100 {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return float64(best) / float64(a.info.sampleRate)
}

func mustSSML(t *testing.T, inner string) string {
	t.Helper()
	doc, err := BuildSSML(inner)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestEspeakProsody(t *testing.T) {
	needEspeak(t)
	e := &Espeak{}
	normal := speak(t, e, Request{SSML: mustSSML(t, `Please hold while we connect your call.`)})
	slow := speak(t, e, Request{SSML: mustSSML(t, `<prosody rate="50%">Please hold while we connect your call.</prosody>`)})
	loud := speak(t, e, Request{SSML: mustSSML(t, `<prosody volume="+6dB">Please hold while we connect your call.</prosody>`)})
	if slow.seconds() < normal.seconds()*1.5 {
		t.Errorf("rate 50%%: %.2fs vs %.2fs normal, want much longer", slow.seconds(), normal.seconds())
	}
	if loud.rms() < normal.rms()*1.3 {
		t.Errorf("+6dB: rms %.0f vs %.0f normal, want louder", loud.rms(), normal.rms())
	}
}

func TestEspeakJapanese(t *testing.T) {
	needEspeak(t)
	e := &Espeak{}
	word := speak(t, e, Request{Text: "東京", Language: "ja-JP"})
	sentence := speak(t, e, Request{Text: "東京は晴れです。日本語を話します。", Language: "ja-JP", Voice: "Polly.Mizuki"})
	if sentence.rms() < minSpeechRMS {
		t.Errorf("japanese speech is silent (rms %.0f)", sentence.rms())
	}
	if sentence.seconds() <= word.seconds() {
		t.Errorf("sentence %.2fs not longer than one word %.2fs", sentence.seconds(), word.seconds())
	}
	// Kanji are read as kana: the same audio as the kana spelling, not
	// "Chinese letter" (which is far longer).
	kana := speak(t, e, Request{Text: "トーキョー", Language: "ja-JP"})
	if !bytes.Equal(int16Bytes(word.samples), int16Bytes(kana.samples)) {
		t.Errorf("東京 (%.2fs) does not sound like トーキョー (%.2fs)", word.seconds(), kana.seconds())
	}
	ssml := speak(t, e, Request{SSML: mustSSML(t, `東京は<break time="500ms"/>晴れです`), Language: "ja-JP"})
	if ssml.rms() < minSpeechRMS || ssml.seconds() < sentence.seconds()/3 {
		t.Errorf("japanese ssml: %.2fs rms %.0f", ssml.seconds(), ssml.rms())
	}
}

// TestEspeakBadInput feeds text espeak-ng cannot speak: each gives a clean
// WAV or a clear error, never a panic or a hang.
func TestEspeakBadInput(t *testing.T) {
	needEspeak(t)
	e := &Espeak{}
	tests := []struct {
		name    string
		req     Request
		wantErr error // nil: a WAV with speech
	}{
		{"empty", Request{Text: ""}, ErrEmptyText},
		{"white space", Request{Text: " \t\n "}, ErrEmptyText},
		{"only punctuation", Request{Text: "...!?"}, ErrNothingToSay},
		{"only japanese punctuation", Request{Text: "。、！", Language: "ja-JP"}, ErrNothingToSay},
		{"100 KB", Request{Text: strings.Repeat("hello world ", 100<<10/12)}, ErrTextTooLong},
		{"100 KB ssml", Request{SSML: "<speak>" + strings.Repeat("hello <break/>", 100<<10/14) + "</speak>"}, ErrTextTooLong},
		{"control characters", Request{Text: "hello\x00 world\x07\x1b[31m red"}, nil},
		{"invalid utf-8", Request{Text: "hello \xff\xfe\xfd world"}, nil},
		{"phoneme injection", Request{Text: "say [[h@l'oU]] now"}, nil},
		{"empty ssml", Request{SSML: "<speak> </speak>"}, ErrEmptyText},
		{"punctuation ssml", Request{SSML: "<speak>...</speak>"}, ErrNothingToSay},
		{"malformed ssml", Request{SSML: "<speak><prosody>unclosed</speak>"}, ErrInvalidSSML},
		{"only a break", Request{SSML: `<speak><break time="1s"/></speak>`}, nil},
		{"emoji", Request{Text: "😀"}, nil},
		{"unknown language", Request{Text: "hello", Language: "tlh-KL"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := e.Synthesize(context.Background(), tt.req, &buf)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if buf.Len() != 0 {
					t.Fatalf("wrote %d bytes along with an error", buf.Len())
				}
				if TwilioCode(err) == 0 {
					t.Errorf("no Twilio code for %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			a := decodeWAV(t, buf.Bytes())
			if a.seconds() <= 0 {
				t.Fatal("no audio")
			}
			if tt.name != "only a break" && a.rms() < minSpeechRMS {
				t.Errorf("silent output (rms %.0f)", a.rms())
			}
		})
	}
}

func TestEspeakMissingBinary(t *testing.T) {
	for _, path := range []string{
		filepath.Join(t.TempDir(), "no-such-espeak"),
		"no-such-espeak-ng-binary",
	} {
		e := &Espeak{Path: path}
		err := e.Synthesize(context.Background(), Request{Text: "hello"}, &bytes.Buffer{})
		if !errors.Is(err, ErrEngineNotFound) {
			t.Errorf("path %q: err = %v, want ErrEngineNotFound", path, err)
		}
		if err != nil && !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the path", err)
		}
		if _, err := e.Version(context.Background()); !errors.Is(err, ErrEngineNotFound) {
			t.Errorf("Version: err = %v, want ErrEngineNotFound", err)
		}
	}
}

func TestEspeakVersion(t *testing.T) {
	needEspeak(t)
	v, err := (&Espeak{}).Version(context.Background())
	if err != nil || !strings.Contains(v, "eSpeak NG") {
		t.Fatalf("Version() = %q, %v", v, err)
	}
}

// fakeEspeak writes a shell script standing in for espeak-ng.
func fakeEspeak(t *testing.T, script string) string {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	p := filepath.Join(t.TempDir(), "espeak-ng")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEspeakFailureCarriesStderr(t *testing.T) {
	e := &Espeak{Path: fakeEspeak(t, `echo "Error: The specified espeak-ng voice does not exist." >&2; exit 1`)}
	err := e.Synthesize(context.Background(), Request{Text: "hello"}, &bytes.Buffer{})
	if !errors.Is(err, ErrEngineFailed) || !strings.Contains(err.Error(), "voice does not exist") {
		t.Fatalf("err = %v, want ErrEngineFailed with the stderr text", err)
	}
}

func TestEspeakGarbageOutput(t *testing.T) {
	e := &Espeak{Path: fakeEspeak(t, `cat >/dev/null; echo "this is not a wav file"`)}
	err := e.Synthesize(context.Background(), Request{Text: "hello"}, &bytes.Buffer{})
	if !errors.Is(err, ErrBadWAV) {
		t.Fatalf("err = %v, want ErrBadWAV", err)
	}
	e = &Espeak{Path: fakeEspeak(t, `cat >/dev/null`)} // exits 0, writes nothing
	if err := e.Synthesize(context.Background(), Request{Text: "hello"}, &bytes.Buffer{}); !errors.Is(err, ErrBadWAV) {
		t.Fatalf("empty output: err = %v, want ErrBadWAV", err)
	}
}

func TestEspeakStdinNotArgv(t *testing.T) {
	// The fake echoes its arguments to stderr and fails: the text must not
	// be among them.
	e := &Espeak{Path: fakeEspeak(t, `echo "args: $*" >&2; exit 3`)}
	err := e.Synthesize(context.Background(), Request{Text: "secret-words; rm -rf /"}, &bytes.Buffer{})
	if err == nil || strings.Contains(err.Error(), "secret-words") {
		t.Fatalf("err = %v: text leaked onto the command line", err)
	}
	if !strings.Contains(err.Error(), "--stdout") || !strings.Contains(err.Error(), "-v en-us") {
		t.Fatalf("err = %v: want the arguments espeak-ng got", err)
	}
}

func TestEspeakTimeout(t *testing.T) {
	fake := clock.NewFake(time.Unix(0, 0))
	e := &Espeak{Path: fakeEspeak(t, `exec sleep 30`), Timeout: 5 * time.Second, Clock: fake}
	errc := make(chan error, 1)
	go func() { errc <- e.Synthesize(context.Background(), Request{Text: "hello"}, &bytes.Buffer{}) }()
	waitFor(t, func() bool { return fake.Waiters() > 0 })
	fake.Advance(5 * time.Second)
	select {
	case err := <-errc:
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Synthesize did not return after its timeout")
	}
}

func TestEspeakContextCancel(t *testing.T) {
	e := &Espeak{Path: fakeEspeak(t, `exec sleep 30`)}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- e.Synthesize(ctx, Request{Text: "hello"}, &bytes.Buffer{}) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Synthesize ignored cancellation")
	}
}

func TestEspeakOutputCap(t *testing.T) {
	needEspeak(t)
	e := &Espeak{MaxOutputBytes: 10_000}
	err := e.Synthesize(context.Background(), Request{Text: "This sentence is much longer than ten thousand bytes of audio."}, &bytes.Buffer{})
	if !errors.Is(err, ErrOutputTooLarge) {
		t.Fatalf("err = %v, want ErrOutputTooLarge", err)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not reached")
}

func BenchmarkEspeakSynthesize(b *testing.B) {
	needEspeak(b)
	e := &Espeak{}
	req := Request{Text: "Thank you for calling. Please hold."}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Synthesize(context.Background(), req, &bytes.Buffer{}); err != nil {
			b.Fatal(err)
		}
	}
}
