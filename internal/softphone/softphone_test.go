package softphone

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
	"github.com/switchboard-voice/switchboard/internal/sip"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var ports atomic.Int32

func startPhone(t *testing.T) *Phone {
	t.Helper()
	// Below Linux's ephemeral range (32768+), which other sockets draw from.
	lo := 28000 + int(ports.Add(1)%15)*100
	p, err := Start(Config{RTPPortMin: lo, RTPPortMax: lo + 99, InactivityTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// writeTone writes a WAV file of a tone at rate Hz.
func writeTone(t *testing.T, path string, rate int, freq float64, d time.Duration) {
	t.Helper()
	w, err := wav.Create(path, wav.Format{Encoding: wav.PCM, SampleRate: rate, Channels: 1, BitsPerSample: 16})
	if err != nil {
		t.Fatal(err)
	}
	n := int(d.Seconds() * float64(rate))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(9000 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	if err := w.WriteSamples(s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// toneIn reports whether a 100 ms window of samples is dominated by freq.
func toneIn(samples []int16, freq float64) bool {
	const win = 800
	for off := 0; off+win <= len(samples); off += win {
		b := samples[off : off+win]
		if dsp.RMS(b) > 1000 && dsp.GoertzelPower(b, freq, 8000) > 50*dsp.GoertzelPower(b, freq*1.37, 8000) {
			return true
		}
	}
	return false
}

// One phone calls another: the callee plays a 16 kHz WAV file (resampled),
// the caller records it and sends digits, which the callee receives.
func TestPhoneToPhone(t *testing.T) {
	dir := t.TempDir()
	prompt := filepath.Join(dir, "prompt.wav")
	writeTone(t, prompt, 16000, 800, 700*time.Millisecond)
	caller, callee := startPhone(t), startPhone(t)

	answered := make(chan Result, 1)
	go func() {
		res, err := callee.Answer(ctxFor(t, 10*time.Second), AnswerOptions{
			Ring:   50 * time.Millisecond,
			Script: Script{PlayFile: prompt, Duration: 3 * time.Second},
		})
		if err != nil {
			t.Errorf("answer: %v", err)
		}
		answered <- res
	}()
	heard := filepath.Join(dir, "heard.wav")
	var rang, up atomic.Bool
	res, err := caller.Call(ctxFor(t, 10*time.Second), Options{
		URI:        callee.URI("+14155550100"),
		Headers:    map[string]string{"X-Test": "yes"},
		OnProgress: func(code int, _ string) { rang.Store(code == 180) },
		OnAnswer:   func() { up.Store(true) },
		Script:     Script{Record: heard, Digits: "4#", Duration: 1500 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if !res.Answered || res.StatusCode != 200 || res.End != sip.EndLocalHangup || !rang.Load() || !up.Load() {
		t.Fatalf("caller result %+v (rang %v, answered %v)", res, rang.Load(), up.Load())
	}
	if res.Talk < time.Second || res.HeardSamples < 8000 {
		t.Fatalf("talk %v, heard %d samples", res.Talk, res.HeardSamples)
	}
	samples, err := LoadWAV(heard)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != res.HeardSamples {
		t.Fatalf("recording has %d samples, result says %d heard", len(samples), res.HeardSamples)
	}
	if !toneIn(samples, 800) {
		t.Fatal("the recording lacks the callee's 800 Hz prompt")
	}
	cres := <-answered
	if cres.Digits != "4#" || cres.End != sip.EndRemoteHangup {
		t.Fatalf("callee result %+v; want digits 4# and hung up by the caller", cres)
	}
	if len(cres.Headers) != 1 || cres.Headers[0] != (sip.Header{Name: "X-Test", Value: "yes"}) {
		t.Fatalf("callee saw headers %v", cres.Headers)
	}
}

func TestCallRejected(t *testing.T) {
	caller, callee := startPhone(t), startPhone(t)
	go callee.Answer(ctxFor(t, 5*time.Second), AnswerOptions{Reject: 603})
	res, err := caller.Call(ctxFor(t, 5*time.Second), Options{URI: callee.URI("x")})
	var de *sip.DialError
	if !errors.As(err, &de) || res.StatusCode != 603 || res.Answered {
		t.Fatalf("call: %+v, %v; want 603", res, err)
	}
}

func TestCallBadInput(t *testing.T) {
	p := startPhone(t)
	if _, err := p.Call(context.Background(), Options{URI: "sip:x@127.0.0.1", Script: Script{PlayFile: "/nonexistent.wav"}}); err == nil {
		t.Fatal("missing play file accepted")
	}
	if _, err := p.Call(context.Background(), Options{URI: "mailto:x@example.com"}); !errors.Is(err, sip.ErrBadURI) {
		t.Fatalf("bad uri: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Answer(ctx, AnswerOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("answer with nobody calling: %v", err)
	}
}

func TestLoadWAV(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		rate int
		want int // samples at 8 kHz for 500 ms
	}{
		{8000, 4000},
		{16000, 4000},
		{22050, 4000},
		{44100, 4000},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, "t.wav")
		writeTone(t, path, tt.rate, 500, 500*time.Millisecond)
		s, err := LoadWAV(path)
		if err != nil {
			t.Fatalf("%d Hz: %v", tt.rate, err)
		}
		if d := len(s) - tt.want; d < -2 || d > 2 {
			t.Errorf("%d Hz: %d samples, want %d", tt.rate, len(s), tt.want)
		}
		if !toneIn(s, 500) {
			t.Errorf("%d Hz: tone lost in resampling", tt.rate)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.wav"), []byte("not a wave file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadWAV(filepath.Join(dir, "bad.wav")); !errors.Is(err, wav.ErrNotWAVE) {
		t.Fatalf("bad file: %v", err)
	}
}

func TestSamplesSource(t *testing.T) {
	src := NewSamplesSource([]int16{1, 2, 3})
	frame := make([]int16, media.FrameSamples)
	for i := range frame {
		frame[i] = 99
	}
	if err := src.ReadFrame(frame); err != nil || frame[0] != 1 || frame[2] != 3 || frame[3] != 0 || frame[159] != 0 {
		t.Fatalf("first frame %v, %v", frame[:5], err)
	}
	if err := src.ReadFrame(frame); err == nil {
		t.Fatal("no EOF after the samples")
	}
}

func TestParseCLI(t *testing.T) {
	tests := []struct {
		name string
		args []string
		ok   bool
		uri  string
	}{
		{"uri first", []string{"sip:+14155550100@127.0.0.1:5060", "--play", "a.wav", "--digits", "12#", "--duration", "10s"}, true, "sip:+14155550100@127.0.0.1:5060"},
		{"uri last", []string{"--record", "h.wav", "sip:bob@127.0.0.1"}, true, "sip:bob@127.0.0.1"},
		{"uri between", []string{"--from", "alice", "sip:bob@127.0.0.1", "--header", "X-A=1", "--header", "X-B=2"}, true, "sip:bob@127.0.0.1"},
		{"no uri", []string{"--play", "a.wav"}, false, ""},
		{"two uris", []string{"sip:a@h", "sip:b@h"}, false, ""},
		{"not sip", []string{"http://example.com"}, false, ""},
		{"bad rtp ports", []string{"sip:a@h", "--rtp-ports", "10-20"}, false, ""},
		{"unspecified bind", []string{"sip:a@h", "--sip-bind", "0.0.0.0:5070"}, false, ""},
		{"bad header", []string{"sip:a@h", "--header", "novalue"}, false, ""},
		{"unknown flag", []string{"sip:a@h", "--loud"}, false, ""},
		{"negative duration", []string{"sip:a@h", "--duration", "-1s"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseCLI(tt.args, &bytes.Buffer{})
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrUsage)) {
				t.Fatalf("err = %v, want ok=%v (or ErrUsage)", err, tt.ok)
			}
			if tt.ok && a.Call.URI != tt.uri {
				t.Fatalf("uri %q, want %q", a.Call.URI, tt.uri)
			}
		})
	}
	a, err := ParseCLI([]string{"--header", "X-A=1", "--header", "X-B=x=y", "sip:a@127.0.0.1", "--rtp-ports", "30000-30099", "--sip-bind", "127.0.0.1:5099"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Call.Headers["X-A"] != "1" || a.Call.Headers["X-B"] != "x=y" || a.Phone.RTPPortMin != 30000 || a.Phone.RTPPortMax != 30099 || a.Phone.SIPAddr != "127.0.0.1:5099" || a.Phone.IP.String() != "127.0.0.1" {
		t.Fatalf("parsed %+v", a)
	}
	if _, err := ParseCLI([]string{"-h"}, &bytes.Buffer{}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
}

// RunCLI against a switchboard SIP server: the exit code and report a user
// sees.
func TestRunCLI(t *testing.T) {
	engine, err := media.NewEngine(media.EngineConfig{IP: netip.MustParseAddr("127.0.0.1"), PortMin: 29500, PortMax: 29599, InactivityTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	srv, err := sip.NewServer(sip.Config{Addr: "127.0.0.1:0", Media: engine}, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		if call.RequestUser == "busy" {
			_ = call.Reject(486, "")
			return
		}
		_ = call.Ringing()
		time.Sleep(100 * time.Millisecond) // let the 180 arrive before the 200
		leg, err := call.Answer(ctx)
		if err != nil {
			return
		}
		_ = leg.Media().Play(ctx, NewSamplesSource(make([]int16, 4000)))
		_ = leg.Media().SendDTMF(ctx, "9")
		_ = leg.Hangup(ctx)
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe(ctx) }()
	defer func() { cancel(); <-served }()
	<-srv.Ready()

	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := RunCLI(ctxFor(t, 10*time.Second), []string{"sip:+14155550100@" + srv.Addr().String(), "--record", filepath.Join(dir, "h.wav"), "--rtp-ports", "29600-29699"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errOut)
	}
	for _, want := range []string{"calling sip:+14155550100@", "180 Ringing", "answered", "ended: remote-hangup", "digits received: 9", "recorded to "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, &out)
		}
	}
	out.Reset()
	if code := RunCLI(ctxFor(t, 10*time.Second), []string{"sip:busy@" + srv.Addr().String(), "--rtp-ports", "29600-29699"}, &out, &errOut); code != 1 {
		t.Fatalf("busy: exit %d, want 1\n%s", code, &out)
	}
	if !strings.Contains(out.String(), "not answered: 486 Busy Here") {
		t.Errorf("busy output:\n%s", &out)
	}
	if code := RunCLI(context.Background(), []string{"--play"}, &out, &errOut); code != 2 {
		t.Fatalf("usage error: exit %d, want 2", code)
	}
}

// Script.Duration runs on the phone's clock: with a fake one, the call lasts
// exactly as long as the test says.
func TestDurationOnFakeClock(t *testing.T) {
	fake := clock.NewFake(time.Unix(1_700_000_000, 0))
	// Below Linux's ephemeral range (32768+), which other sockets draw from.
	lo := 28000 + int(ports.Add(1)%15)*100
	caller, err := Start(Config{RTPPortMin: lo, RTPPortMax: lo + 99, InactivityTimeout: -1, Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	callee := startPhone(t)
	answered := make(chan Result, 1)
	go func() {
		res, _ := callee.Answer(ctxFor(t, 10*time.Second), AnswerOptions{})
		answered <- res
	}()
	done := make(chan Result, 1)
	go func() {
		res, err := caller.Call(ctxFor(t, 10*time.Second), Options{URI: callee.URI("x"), Script: Script{Duration: time.Minute}})
		if err != nil {
			t.Errorf("call: %v", err)
		}
		done <- res
	}()
	// Wait for the duration timer, then let a fake minute pass.
	for i := 0; i < 1000 && fake.Waiters() == 0; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case res := <-done:
		t.Fatalf("call ended before its duration: %+v", res)
	default:
	}
	fake.Advance(time.Minute)
	res := <-done
	if res.End != sip.EndLocalHangup || res.Talk != time.Minute {
		t.Fatalf("result %+v; want hung up by the caller after exactly a minute", res)
	}
	if cres := <-answered; cres.End != sip.EndRemoteHangup {
		t.Fatalf("callee %+v", cres)
	}
}

// tone is a media.Source of freq Hz for d.
func tone(freq float64, d time.Duration) media.Source {
	s := make([]int16, int(d.Seconds()*8000))
	for i := range s {
		s[i] = int16(9000 * math.Sin(2*math.Pi*freq*float64(i)/8000))
	}
	return NewSamplesSource(s)
}

// keep is a media.Sink keeping what it hears.
type keep struct {
	mu      sync.Mutex
	samples []int16
}

func (k *keep) WriteFrame(frame []int16) error {
	k.mu.Lock()
	k.samples = append(k.samples, frame...)
	k.mu.Unlock()
	return nil
}

func (k *keep) all() []int16 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.samples)
}

// The callee answers with early media first: 183 with SDP, a 900 Hz tone for
// 300 ms, then the 200 and its script's 600 Hz prompt. The caller hears and
// records both: the early tone before the answer, the prompt after.
func TestAnswerWithEarlyMedia(t *testing.T) {
	caller, callee := startPhone(t), startPhone(t)
	answered := make(chan Result, 1)
	go func() {
		res, err := callee.Answer(ctxFor(t, 10*time.Second), AnswerOptions{
			Early: tone(900, 5*time.Second), EarlyFor: 300 * time.Millisecond,
			Script: Script{Play: tone(600, 400*time.Millisecond)},
		})
		if err != nil {
			t.Errorf("answer: %v", err)
		}
		answered <- res
	}()
	record := filepath.Join(t.TempDir(), "heard.wav")
	heard := &keep{}
	var progress []int
	var earlyAt, answerAt time.Time
	var atAnswer []int16
	res, err := caller.Call(ctxFor(t, 10*time.Second), Options{
		URI: callee.URI("bob"),
		OnProgress: func(code int, _ string) {
			progress = append(progress, code)
			if code == 183 && earlyAt.IsZero() {
				earlyAt = time.Now()
			}
		},
		OnAnswer: func() {
			answerAt = time.Now()
			atAnswer = heard.all()
		},
		Script: Script{Record: record, Sink: heard, Duration: time.Second},
	})
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if !res.Answered || res.End != sip.EndLocalHangup {
		t.Fatalf("caller result %+v", res)
	}
	if !slices.Equal(progress, []int{183}) {
		t.Errorf("provisional responses %v, want a single 183 (no ringing asked)", progress)
	}
	if d := answerAt.Sub(earlyAt); d < 250*time.Millisecond {
		t.Errorf("answered %v after the 183, want about 300 ms of early media", d)
	}
	if !toneIn(atAnswer, 900) {
		t.Errorf("the early 900 Hz tone was not heard before the answer (%d samples)", len(atAnswer))
	}
	if toneIn(atAnswer, 600) {
		t.Error("the answered call's prompt was heard before the answer")
	}
	samples, err := LoadWAV(record)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != res.HeardSamples || len(samples) <= len(atAnswer) {
		t.Errorf("recording has %d samples, result says %d heard, %d before the answer", len(samples), res.HeardSamples, len(atAnswer))
	}
	if !toneIn(samples, 900) || !toneIn(samples, 600) {
		t.Error("the recording lacks the early tone or the prompt")
	}
	cres := <-answered
	if !cres.Answered || cres.End != sip.EndRemoteHangup {
		t.Fatalf("callee result %+v", cres)
	}
}

// Early media, then a rejection: the caller's Result still reports (and its
// recording holds) what it heard before the 486.
func TestEarlyMediaThenReject(t *testing.T) {
	caller, callee := startPhone(t), startPhone(t)
	go callee.Answer(ctxFor(t, 10*time.Second), AnswerOptions{
		Early: tone(900, 5*time.Second), EarlyFor: 300 * time.Millisecond, Reject: 486,
	})
	record := filepath.Join(t.TempDir(), "heard.wav")
	res, err := caller.Call(ctxFor(t, 10*time.Second), Options{URI: callee.URI("bob"), Script: Script{Record: record}})
	var de *sip.DialError
	if !errors.As(err, &de) || res.StatusCode != 486 || res.Answered {
		t.Fatalf("call: %+v, %v; want 486", res, err)
	}
	samples, err := LoadWAV(record)
	if err != nil {
		t.Fatal(err)
	}
	if res.HeardSamples == 0 || len(samples) != res.HeardSamples || !toneIn(samples, 900) {
		t.Fatalf("heard %d samples, recorded %d; want the early tone", res.HeardSamples, len(samples))
	}
}
