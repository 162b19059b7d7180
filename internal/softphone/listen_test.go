package softphone

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/sip"
)

// startPhoneClock starts a phone on clk.
func startPhoneClock(t *testing.T, clk clock.Clock) *Phone {
	t.Helper()
	lo := 28000 + int(ports.Add(1)%15)*100
	p, err := Start(Config{RTPPortMin: lo, RTPPortMax: lo + 99, InactivityTimeout: -1, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// listened is what Listen returned, with what OnCall saw.
type listened struct {
	results []Result
	errs    []error // OnCall's, one per call
	err     error
}

// listen runs p.Listen on its own goroutine.
func listen(t *testing.T, p *Phone, o ListenOptions) <-chan listened {
	done := make(chan listened, 1)
	go func() {
		var l listened
		o.OnCall = func(_ int, _ Result, err error) { l.errs = append(l.errs, err) }
		l.results, l.err = p.Listen(ctxFor(t, 10*time.Second), o)
		done <- l
	}()
	return done
}

func waitListen(t *testing.T, done <-chan listened, calls int) listened {
	t.Helper()
	select {
	case l := <-done:
		if l.err != nil || len(l.results) != calls || len(l.errs) != calls {
			t.Fatalf("listen: %d results, OnCall errors %v, %v; want %d calls", len(l.results), l.errs, l.err, calls)
		}
		for _, err := range l.errs {
			if err != nil {
				t.Fatalf("OnCall error: %v", err)
			}
		}
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not return")
		return listened{}
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s within 5s", what)
	}
}

// A listening phone rings, answers only once the ring time has passed on its
// clock, and plays a WAV file the caller records.
func TestListenAnswersAfterRing(t *testing.T) {
	dir := t.TempDir()
	prompt := filepath.Join(dir, "prompt.wav")
	writeTone(t, prompt, 16000, 600, 700*time.Millisecond)
	fake := clock.NewFake(time.Unix(1_700_000_000, 0))
	callee, caller := startPhoneClock(t, fake), startPhone(t)
	const ring = 3 * time.Second
	done := listen(t, callee, ListenOptions{AnswerOptions: AnswerOptions{Ring: ring, Script: Script{PlayFile: prompt}}})

	rang, answered := make(chan struct{}), make(chan struct{})
	var once sync.Once
	heard := filepath.Join(dir, "heard.wav")
	called := make(chan Result, 1)
	go func() {
		res, err := caller.Call(ctxFor(t, 10*time.Second), Options{
			URI: callee.URI("alice"), From: "+14155550100",
			OnProgress: func(code int, _ string) {
				if code == 180 {
					once.Do(func() { close(rang) })
				}
			},
			OnAnswer: func() { close(answered) },
			Script:   Script{Record: heard, Duration: 1500 * time.Millisecond},
		})
		if err != nil {
			t.Errorf("call: %v", err)
		}
		called <- res
	}()
	waitFor(t, rang, "180 Ringing")
	// The ring timer is armed before the 180 goes out, and the fake clock has
	// not moved: nothing may have answered.
	select {
	case <-answered:
		t.Fatal("answered before the ring time")
	default:
	}
	fake.Advance(ring - time.Millisecond)
	fake.Advance(time.Millisecond)
	waitFor(t, answered, "answer after the ring time")

	res := <-called
	if !res.Answered || res.End != sip.EndLocalHangup {
		t.Fatalf("caller: %+v", res)
	}
	samples, err := LoadWAV(heard)
	if err != nil {
		t.Fatal(err)
	}
	if !toneIn(samples, 600) {
		t.Fatalf("the caller's recording (%d samples) lacks the 600 Hz prompt", len(samples))
	}
	l := waitListen(t, done, 1)
	got := l.results[0]
	if !got.Answered || got.End != sip.EndRemoteHangup || got.CallID != res.CallID {
		t.Fatalf("callee: %+v", got)
	}
	if got.From.ID() != "+14155550100" || got.To.ID() != "alice" {
		t.Fatalf("callee saw from %q to %q", got.From.ID(), got.To.ID())
	}
}

// A listening phone records the audio and the digits the caller sends.
func TestListenRecordsCaller(t *testing.T) {
	dir := t.TempDir()
	tone := filepath.Join(dir, "tone.wav")
	writeTone(t, tone, 8000, 700, 600*time.Millisecond)
	callee, caller := startPhone(t), startPhone(t)
	heard := filepath.Join(dir, "heard.wav")
	done := listen(t, callee, ListenOptions{AnswerOptions: AnswerOptions{Ring: 50 * time.Millisecond, Script: Script{Record: heard}}})
	res, err := caller.Call(ctxFor(t, 10*time.Second), Options{
		URI:    callee.URI("bob"),
		Script: Script{PlayFile: tone, Digits: "12#", Duration: 2 * time.Second},
	})
	if err != nil || !res.Answered {
		t.Fatalf("call: %+v, %v", res, err)
	}
	got := waitListen(t, done, 1).results[0]
	if got.Digits != "12#" || got.End != sip.EndRemoteHangup {
		t.Fatalf("callee: %+v; want digits 12#, hung up by the caller", got)
	}
	samples, err := LoadWAV(heard)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != got.HeardSamples || !toneIn(samples, 700) {
		t.Fatalf("recording of %d samples (result says %d) lacks the caller's 700 Hz tone", len(samples), got.HeardSamples)
	}
}

// Outcomes without an answer: busy, and ringing until the caller gives up.
func TestListenWithoutAnswer(t *testing.T) {
	t.Run("reject 486", func(t *testing.T) {
		callee, caller := startPhone(t), startPhone(t)
		done := listen(t, callee, ListenOptions{AnswerOptions: AnswerOptions{Reject: 486}})
		res, err := caller.Call(ctxFor(t, 10*time.Second), Options{URI: callee.URI("bob")})
		var de *sip.DialError
		if !errors.As(err, &de) || de.Code != 486 || res.Answered {
			t.Fatalf("call: %+v, %v; want 486", res, err)
		}
		got := waitListen(t, done, 1).results[0]
		if got.Answered || got.StatusCode != 486 || got.CallID != res.CallID {
			t.Fatalf("callee: %+v", got)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		callee, caller := startPhone(t), startPhone(t)
		done := listen(t, callee, ListenOptions{AnswerOptions: AnswerOptions{NoAnswer: true}})
		var rang bool
		res, err := caller.Call(ctxFor(t, 10*time.Second), Options{
			URI: callee.URI("bob"), Timeout: 300 * time.Millisecond,
			OnProgress: func(code int, _ string) { rang = rang || code == 180 },
		})
		var de *sip.DialError
		if !errors.As(err, &de) || !errors.Is(err, sip.ErrNoAnswer) || de.Code != 487 || !rang {
			t.Fatalf("call: %+v, %v (rang %v); want no answer, 487 after a 180", res, err, rang)
		}
		got := waitListen(t, done, 1).results[0]
		if got.Answered || got.End != sip.EndCanceled || got.StatusCode != 487 {
			t.Fatalf("callee: %+v; want canceled by the caller", got)
		}
	})
}

// Listen ends with ctx when no call comes.
func TestListenCanceled(t *testing.T) {
	p := startPhone(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Listen(ctx, ListenOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("listen: %v, want context.Canceled", err)
	}
	if _, err := p.Listen(context.Background(), ListenOptions{AnswerOptions: AnswerOptions{Script: Script{PlayFile: "/nonexistent.wav"}}}); err == nil {
		t.Fatal("a missing play file was accepted")
	}
}

func TestRecordPath(t *testing.T) {
	for _, tt := range []struct {
		path     string
		n, calls int
		want     string
	}{
		{"heard.wav", 1, 1, "heard.wav"},
		{"heard.wav", 2, 3, "heard-2.wav"},
		{"/tmp/x/heard", 1, 2, "/tmp/x/heard-1"},
		{"", 1, 2, ""},
	} {
		if got := recordPath(tt.path, tt.n, tt.calls); got != tt.want {
			t.Errorf("recordPath(%q, %d, %d) = %q, want %q", tt.path, tt.n, tt.calls, got, tt.want)
		}
	}
}

func TestParseCLIListen(t *testing.T) {
	tests := []struct {
		name string
		args []string
		ok   bool
		want func(CLIArgs) bool
	}{
		{"defaults", []string{"--listen", "127.0.0.1:5070"}, true, func(a CLIArgs) bool {
			return a.Listening && a.Phone.SIPAddr == "127.0.0.1:5070" && a.Phone.IP.String() == "127.0.0.1" &&
				a.Listen.Ring == time.Second && a.Listen.Calls == 1 && a.Listen.Reject == 0 && !a.Listen.NoAnswer
		}},
		{"script", []string{"--listen", "127.0.0.1:0", "--ring", "2s", "--play", "hello.wav", "--digits", "1#", "--record", "heard.wav", "--duration", "5s", "--calls", "3"}, true, func(a CLIArgs) bool {
			s := a.Listen.Script
			return a.Listen.Ring == 2*time.Second && a.Listen.Calls == 3 && s.PlayFile == "hello.wav" && s.Digits == "1#" && s.Record == "heard.wav" && s.Duration == 5*time.Second
		}},
		{"reject at once", []string{"--listen", "127.0.0.1:0", "--reject", "486"}, true, func(a CLIArgs) bool {
			return a.Listen.Reject == 486 && a.Listen.Ring == 0
		}},
		{"reject after ringing", []string{"--listen", "127.0.0.1:0", "--ring", "3s", "--reject", "603"}, true, func(a CLIArgs) bool {
			return a.Listen.Reject == 603 && a.Listen.Ring == 3*time.Second
		}},
		{"no answer", []string{"--no-answer", "--listen", "127.0.0.1:0"}, true, func(a CLIArgs) bool { return a.Listen.NoAnswer }},
		{"uri with listen", []string{"--listen", "127.0.0.1:0", "sip:a@h"}, false, nil},
		{"reject out of range", []string{"--listen", "127.0.0.1:0", "--reject", "200"}, false, nil},
		{"reject and no answer", []string{"--listen", "127.0.0.1:0", "--reject", "486", "--no-answer"}, false, nil},
		{"zero calls", []string{"--listen", "127.0.0.1:0", "--calls", "0"}, false, nil},
		{"negative ring", []string{"--listen", "127.0.0.1:0", "--ring", "-1s"}, false, nil},
		{"unspecified address", []string{"--listen", "0.0.0.0:5070"}, false, nil},
		{"no port", []string{"--listen", "127.0.0.1"}, false, nil},
		{"bad port", []string{"--listen", "127.0.0.1:99999"}, false, nil},
		{"call flag with listen", []string{"--listen", "127.0.0.1:0", "--timeout", "5s"}, false, nil},
		{"sip-bind with listen", []string{"--listen", "127.0.0.1:0", "--sip-bind", "127.0.0.1:0"}, false, nil},
		{"listen flag without listen", []string{"sip:a@h", "--ring", "2s"}, false, nil},
		{"calls without listen", []string{"sip:a@h", "--calls", "2"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseCLI(tt.args, &bytes.Buffer{})
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrUsage)) {
				t.Fatalf("err = %v, want ok=%v (or ErrUsage)", err, tt.ok)
			}
			if tt.ok && !tt.want(a) {
				t.Fatalf("parsed %+v", a)
			}
		})
	}
	if _, err := ParseCLI([]string{"--listen", "127.0.0.1:0", "-h"}, &bytes.Buffer{}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
}

// lines collects what a command writes, line by line.
func lines(r io.Reader) <-chan string {
	ch := make(chan string, 16)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

func nextLine(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok {
			t.Fatal("output ended")
		}
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no output line within 10s")
		return ""
	}
}

// `switchboard call --listen` takes two calls, one line each, records each
// to a file of its own and exits 0; interrupted while waiting it exits 0 too.
func TestRunCLIListen(t *testing.T) {
	dir := t.TempDir()
	prompt := filepath.Join(dir, "prompt.wav")
	writeTone(t, prompt, 8000, 900, 500*time.Millisecond)
	pr, pw := io.Pipe()
	out := lines(pr)
	var errOut bytes.Buffer
	exit := make(chan int, 1)
	go func() {
		exit <- RunCLI(ctxFor(t, 20*time.Second), []string{"--listen", "127.0.0.1:0", "--ring", "50ms", "--calls", "2",
			"--play", prompt, "--record", filepath.Join(dir, "heard.wav"), "--rtp-ports", "29700-29799"}, pw, &errOut)
		pw.Close()
	}()
	first := nextLine(t, out)
	addr, ok := strings.CutPrefix(first, "listening on ")
	addr, _, _ = strings.Cut(addr, " ")
	if !ok {
		t.Fatalf("first line %q", first)
	}
	caller := startPhone(t)
	for i, user := range []string{"alice", "bob"} {
		heard := filepath.Join(dir, user+".wav")
		res, err := caller.Call(ctxFor(t, 10*time.Second), Options{
			URI: "sip:" + user + "@" + addr, From: "+14155550100",
			Script: Script{Record: heard, Digits: "7", Duration: 1200 * time.Millisecond},
		})
		if err != nil || !res.Answered {
			t.Fatalf("call %d: %+v, %v", i+1, res, err)
		}
		samples, err := LoadWAV(heard)
		if err != nil {
			t.Fatal(err)
		}
		if !toneIn(samples, 900) {
			t.Fatalf("call %d: the prompt was not heard", i+1)
		}
		line := nextLine(t, out)
		t.Log(line)
		for _, want := range []string{"from=+14155550100", "to=" + user, "call-id=" + res.CallID, " answered ", "end=remote-hangup", "digits=7",
			"recorded=" + filepath.Join(dir, "heard-"+string(rune('1'+i))+".wav")} {
			if !strings.Contains(line, want) {
				t.Errorf("call %d: line lacks %q:\n%s", i+1, want, line)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "heard-"+string(rune('1'+i))+".wav")); err != nil {
			t.Errorf("call %d: %v", i+1, err)
		}
	}
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, &errOut)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not exit after its calls")
	}

	// Interrupted while waiting: a clean exit.
	ctx, cancel := context.WithCancel(context.Background())
	pr2, pw2 := io.Pipe()
	out2 := lines(pr2)
	exit2 := make(chan int, 1)
	go func() {
		exit2 <- RunCLI(ctx, []string{"--listen", "127.0.0.1:0", "--rtp-ports", "29700-29799"}, pw2, &errOut)
		pw2.Close()
	}()
	if l := nextLine(t, out2); !strings.HasPrefix(l, "listening on ") {
		t.Fatalf("first line %q", l)
	}
	cancel()
	if code := <-exit2; code != 0 {
		t.Fatalf("interrupted: exit %d\n%s", code, &errOut)
	}
	if code := RunCLI(context.Background(), []string{"--listen", "127.0.0.1:0", "sip:a@h"}, io.Discard, &errOut); code != 2 {
		t.Fatalf("usage error: exit %d, want 2", code)
	}
}
