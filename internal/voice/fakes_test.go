package voice

// Fakes for the interpreter's collaborators: a leg and its media driven by
// the test one 20 ms tick at a time (with the fake clock in step), an
// inbound call, a dialer, a speech engine, a store, and the user's app
// served in memory. No sockets, no espeak-ng.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/audiocache"
	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/tts"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// Tone frequencies the fakes produce, far enough apart for Goertzel.
const (
	toneSay      = 440.0 // a <Say> (default)
	toneAppError = 300.0 // the application error message
	toneBeep     = 1000.0
	toneCaller   = 700.0 // what the far end says
	tonePlay     = 850.0 // <Play> of /tone.wav
)

// appBase is the user's app.
const appBase = "http://app.test"

// ---------------------------------------------------------------- waiting

// waitFor polls cond (real time) until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// waitChan waits for ch to be closed (or to deliver).
func waitChan[T any](t testing.TB, what string, ch <-chan T) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// ---------------------------------------------------------------- audio

func toneSamples(freq float64, n int, amp float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/media.SampleRate))
	}
	return s
}

func writeWAV(t testing.TB, path string, pcm []int16) {
	t.Helper()
	w, err := wav.Create(path, wav.Format{Encoding: wav.PCM, SampleRate: 8000, Channels: 1, BitsPerSample: 16})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSamples(pcm); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func wavBytes(t testing.TB, pcm []int16) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.wav")
	writeWAV(t, path, pcm)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// toneFrames counts the 20 ms frames of pcm where freq dominates.
func toneFrames(pcm []int16, freq float64) int {
	n := 0
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		f := pcm[i : i+media.FrameSamples]
		ms := dsp.RMS(f)
		ms *= ms
		if ms < 1e4 { // below about -50 dBFS: silence
			continue
		}
		if dsp.GoertzelPower(f, freq, media.SampleRate) > 0.3*ms {
			n++
		}
	}
	return n
}

func readRecording(t testing.TB, path string) []int16 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, pcm, err := wav.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// ---------------------------------------------------------------- media

// fakePlay is one Play in progress.
type fakePlay struct {
	src  media.Source
	done chan struct{}
	once sync.Once
	err  error
}

func (p *fakePlay) finish(err error) {
	p.once.Do(func() {
		p.err = err
		close(p.done)
	})
}

// fakeMedia is a Media that moves only when the test ticks it: each tick
// takes one queued frame of the far end's audio (silence when none), gives
// it to the sink and the taps (TapIn), reads one frame of the playing
// source (silence when none), keeps it as what the far end heard and gives
// it to the taps (TapOut), then advances the fake clock by 20 ms, and only
// then lets a Play whose source ended return.
type fakeMedia struct {
	clk *clock.Fake

	mu       sync.Mutex
	remote   media.Remote
	play     *fakePlay
	plays    int // Play calls with a source
	sink     media.Sink
	taps     []media.Tap
	callerQ  [][]int16
	heard    []int16
	sent     []string
	dtmf     chan media.DTMF
	closed   bool
	done     chan struct{}
	ticks    int
	onDigits func(string) // called by SendDTMF
	theEar   *ear         // the interpreter's ear on this media (Interpreter.earHook)
}

func newFakeMedia(clk *clock.Fake) *fakeMedia {
	return &fakeMedia{
		clk:    clk,
		remote: media.Remote{EventPT: 101},
		dtmf:   make(chan media.DTMF, 32),
		done:   make(chan struct{}),
	}
}

var _ Media = (*fakeMedia)(nil)

func (m *fakeMedia) Play(ctx context.Context, src media.Source) error {
	var pb *fakePlay
	if src != nil {
		pb = &fakePlay{src: src, done: make(chan struct{})}
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return media.ErrClosed
	}
	old := m.play
	m.play = pb
	if pb != nil {
		m.plays++
	}
	m.mu.Unlock()
	if old != nil {
		old.finish(media.ErrReplaced)
	}
	if pb == nil {
		return nil
	}
	select {
	case <-pb.done:
	case <-ctx.Done():
		m.detach(pb)
		pb.finish(ctx.Err())
	case <-m.done:
		m.detach(pb)
		pb.finish(media.ErrClosed)
	}
	return pb.err
}

func (m *fakeMedia) detach(pb *fakePlay) {
	m.mu.Lock()
	if m.play == pb {
		m.play = nil
	}
	m.mu.Unlock()
}

func (m *fakeMedia) SetSink(s media.Sink) {
	m.mu.Lock()
	m.sink = s
	m.mu.Unlock()
}

func (m *fakeMedia) SendDTMF(ctx context.Context, digits string) error {
	m.mu.Lock()
	m.sent = append(m.sent, digits)
	f := m.onDigits
	m.mu.Unlock()
	if f != nil {
		f(digits)
	}
	return nil
}

func (m *fakeMedia) DTMF() <-chan media.DTMF { return m.dtmf }

func (m *fakeMedia) Remote() media.Remote {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.remote
}

func (m *fakeMedia) AddTap(t media.Tap) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.taps {
		if x == t {
			return
		}
	}
	m.taps = append(m.taps, t)
}

func (m *fakeMedia) RemoveTap(t media.Tap) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, x := range m.taps {
		if x == t {
			m.taps = append(m.taps[:i:i], m.taps[i+1:]...)
			return
		}
	}
}

// close ends the media with the leg.
func (m *fakeMedia) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.closed = true
	close(m.done)
	close(m.dtmf)
}

// tick runs one 20 ms frame in both directions, then moves the clock.
func (m *fakeMedia) tick() {
	var finished *fakePlay
	var ferr error
	m.mu.Lock()
	if !m.closed {
		in := make([]int16, media.FrameSamples)
		if len(m.callerQ) > 0 {
			copy(in, m.callerQ[0])
			m.callerQ = m.callerQ[1:]
		}
		if m.sink != nil {
			m.sink.WriteFrame(in)
		}
		for _, t := range m.taps {
			t.TapIn(in)
		}
		out := make([]int16, media.FrameSamples)
		if m.play != nil {
			if err := m.play.src.ReadFrame(out); err != nil {
				clear(out)
				finished, m.play = m.play, nil
				if !errors.Is(err, io.EOF) {
					ferr = err
				}
			}
		}
		m.heard = append(m.heard, out...)
		for _, t := range m.taps {
			t.TapOut(out)
		}
		m.ticks++
	}
	m.mu.Unlock()
	// The clock moves before a finished Play returns: what the interpreter
	// does next starts at the next tick's time, whatever the scheduling.
	m.clk.Advance(media.FrameDuration)
	if finished != nil {
		finished.finish(ferr)
	}
}

// ticks runs n ticks.
func (m *fakeMedia) tickN(n int) {
	for range n {
		m.tick()
	}
}

// say queues the far end's audio, split in frames.
func (m *fakeMedia) say(pcm []int16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := 0; i < len(pcm); i += media.FrameSamples {
		f := make([]int16, media.FrameSamples)
		copy(f, pcm[i:min(len(pcm), i+media.FrameSamples)])
		m.callerQ = append(m.callerQ, f)
	}
}

// press sends digits as RFC 4733 events.
func (m *fakeMedia) press(t testing.TB, digits string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		t.Fatalf("press %q on an ended call", digits)
	}
	for i := range len(digits) {
		m.dtmf <- media.DTMF{Digit: digits[i], Duration: 100 * time.Millisecond}
	}
}

// ear is the interpreter's ear on this media (nil before the answer).
func (m *fakeMedia) ear() *ear {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.theEar
}

func (m *fakeMedia) playing() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.play != nil
}

func (m *fakeMedia) playCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.plays
}

func (m *fakeMedia) tapCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.taps)
}

func (m *fakeMedia) heardPCM() []int16 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int16(nil), m.heard...)
}

func (m *fakeMedia) sentDigits() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.sent...)
}

// waitPlaying waits for the n-th Play (counting from 1) to be in progress.
func (m *fakeMedia) waitPlaying(t testing.TB, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("play #%d", n), func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.plays >= n && m.play != nil
	})
}

// playOut ticks until nothing plays (at most max ticks) and returns the
// number of ticks.
func (m *fakeMedia) playOut(t testing.TB, max int) int {
	t.Helper()
	n := 0
	for m.playing() {
		if n >= max {
			t.Fatalf("still playing after %d ticks", max)
		}
		m.tick()
		n++
	}
	return n
}

// playUntil ticks while something plays until cond holds (at most max
// ticks): the clock moves only with the audio.
func (m *fakeMedia) playUntil(t testing.TB, what string, max int, cond func() bool) int {
	t.Helper()
	n := 0
	waitFor(t, what, func() bool {
		if cond() {
			return true
		}
		if m.playing() {
			if n >= max {
				t.Fatalf("no %s after %d ticks", what, max)
			}
			m.tick()
			n++
		}
		return false
	})
	return n
}

// tickUntil ticks until cond holds (at most max ticks), giving the
// interpreter a moment between ticks.
func (m *fakeMedia) tickUntil(t testing.TB, what string, max int, cond func() bool) int {
	t.Helper()
	for n := 0; ; n++ {
		if cond() {
			return n
		}
		if n >= max {
			t.Fatalf("no %s after %d ticks", what, max)
		}
		m.tick()
		time.Sleep(100 * time.Microsecond)
	}
}

// ---------------------------------------------------------------- leg

// fakeLeg is an answered call. Its end (our Hangup or the far end's) closes
// Done once and runs the OnEnd functions on their own goroutines, like
// sip.Leg.
type fakeLeg struct {
	m    *fakeMedia
	info chan media.DTMF
	done chan struct{}

	mu      sync.Mutex
	ended   bool
	byUs    bool
	hangups int
	onEnd   []func()
	gone    func() // the transport's own reaction to the end (inbound ctx)
}

func newFakeLeg(clk *clock.Fake) *fakeLeg {
	return &fakeLeg{m: newFakeMedia(clk), info: make(chan media.DTMF, 8), done: make(chan struct{})}
}

var _ Leg = (*fakeLeg)(nil)

func (l *fakeLeg) Media() Media                { return l.m }
func (l *fakeLeg) Done() <-chan struct{}       { return l.done }
func (l *fakeLeg) InfoDTMF() <-chan media.DTMF { return l.info }

func (l *fakeLeg) Hangup(ctx context.Context) error {
	l.mu.Lock()
	l.hangups++
	l.mu.Unlock()
	l.end(true)
	return nil
}

func (l *fakeLeg) OnEnd(f func()) {
	l.mu.Lock()
	if !l.ended {
		l.onEnd = append(l.onEnd, f)
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	go f()
}

func (l *fakeLeg) end(byUs bool) {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return
	}
	l.ended, l.byUs = true, byUs
	fs := l.onEnd
	l.onEnd = nil
	gone := l.gone
	l.mu.Unlock()
	close(l.done) // Done first, as sip.Leg: its media closes with the call
	l.m.close()
	for _, f := range fs {
		go f()
	}
	if gone != nil {
		gone()
	}
}

// remoteHangup: the far end hangs up.
func (l *fakeLeg) remoteHangup() { l.end(false) }

func (l *fakeLeg) hangupCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hangups
}

func (l *fakeLeg) isEnded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ended
}

// ---------------------------------------------------------------- inbound

// fakeInbound is an incoming call not yet answered. Like the SIP layer, it
// ends the handler's context when the caller cancels or the call ends.
type fakeInbound struct {
	leg      *fakeLeg
	canceled chan struct{}
	answered chan struct{}
	stop     context.CancelFunc

	answerErr error  // set before the call starts
	onAnswer  func() // called (unlocked) as Answer begins; set before the call starts

	mu          sync.Mutex
	ringing     int
	rejectCode  int
	rejectWhy   string
	answerCount int
	cancelOnce  sync.Once
}

var _ Inbound = (*fakeInbound)(nil)

func (f *fakeInbound) Ringing() error {
	f.mu.Lock()
	f.ringing++
	f.mu.Unlock()
	return nil
}

func (f *fakeInbound) Answer(ctx context.Context) (Leg, error) {
	if f.onAnswer != nil {
		f.onAnswer()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answerCount++
	if f.answerErr != nil {
		return nil, f.answerErr
	}
	if f.answerCount == 1 {
		close(f.answered)
	}
	return f.leg, nil
}

func (f *fakeInbound) Reject(code int, reason string) error {
	f.mu.Lock()
	f.rejectCode, f.rejectWhy = code, reason
	f.mu.Unlock()
	return nil
}

func (f *fakeInbound) Canceled() <-chan struct{} { return f.canceled }

// cancel: the caller gives up before the answer.
func (f *fakeInbound) cancel() {
	f.cancelOnce.Do(func() { close(f.canceled) })
	f.stop()
}

func (f *fakeInbound) rejected() (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rejectCode, f.rejectWhy
}

func (f *fakeInbound) ringCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ringing
}

func (f *fakeInbound) wasAnswered() bool {
	select {
	case <-f.answered:
		return true
	default:
		return false
	}
}

// ---------------------------------------------------------------- dialer

// dialScript decides how one Dial goes.
type dialScript func(ctx context.Context, r DialRequest, leg *fakeLeg) (Leg, error)

// answer rings (OnRinging) and answers.
func answerDial(ctx context.Context, r DialRequest, leg *fakeLeg) (Leg, error) {
	if r.OnRinging != nil {
		r.OnRinging()
	}
	return leg, nil
}

// failDial fails with err after ringing.
func failDial(err error) dialScript {
	return func(ctx context.Context, r DialRequest, leg *fakeLeg) (Leg, error) {
		if r.OnRinging != nil {
			r.OnRinging()
		}
		return nil, err
	}
}

// blockDial rings, then waits for ctx to end.
func blockDial(ctx context.Context, r DialRequest, leg *fakeLeg) (Leg, error) {
	if r.OnRinging != nil {
		r.OnRinging()
	}
	<-ctx.Done()
	return nil, &DialError{Err: ctx.Err()}
}

type dialRecord struct {
	req      DialRequest
	at       time.Time
	leg      *fakeLeg
	canceled bool          // ctx ended while dialing
	done     chan struct{} // closed when Dial has returned (canceled is set)
}

type fakeDialer struct {
	clk *clock.Fake

	mu     sync.Mutex
	script dialScript
	dials  []*dialRecord
}

var _ Dialer = (*fakeDialer)(nil)

func (d *fakeDialer) Dial(ctx context.Context, r DialRequest) (Leg, error) {
	leg := newFakeLeg(d.clk)
	rec := &dialRecord{req: r, at: d.clk.Now(), leg: leg, done: make(chan struct{})}
	defer close(rec.done)
	d.mu.Lock()
	d.dials = append(d.dials, rec)
	script := d.script
	d.mu.Unlock()
	if script == nil {
		script = answerDial
	}
	l, err := script(ctx, r, leg)
	if ctx.Err() != nil {
		d.mu.Lock()
		rec.canceled = true
		d.mu.Unlock()
	}
	return l, err
}

func (d *fakeDialer) setScript(s dialScript) {
	d.mu.Lock()
	d.script = s
	d.mu.Unlock()
}

func (d *fakeDialer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.dials)
}

func (d *fakeDialer) dial(i int) dialRecord {
	d.mu.Lock()
	defer d.mu.Unlock()
	return *d.dials[i]
}

// returned waits for dial i to have returned (the interpreter may record
// the leg's end before the dial's goroutine is back) and returns it.
func (d *fakeDialer) returned(t *testing.T, i int) dialRecord {
	t.Helper()
	select {
	case <-d.dial(i).done:
	case <-time.After(10 * time.Second):
		t.Fatalf("dial %d has not returned", i)
	}
	return d.dial(i)
}

// ---------------------------------------------------------------- speech

// fakeTTS writes a short tone per request: 200 ms (10 frames) at a
// frequency picked by the text (toneSay by default, toneAppError for the
// application error message).
type fakeTTS struct {
	dir string

	mu    sync.Mutex
	reqs  []tts.Request
	freqs map[string]float64
	fail  map[string]error
}

func (f *fakeTTS) Get(ctx context.Context, req tts.Request) (string, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	n := len(f.reqs)
	freq, ok := f.freqs[req.Text]
	err := f.fail[req.Text]
	f.mu.Unlock()
	if err != nil {
		return "", err
	}
	if !ok {
		freq = toneSay
		if req.Text == webhook.ApplicationErrorMessage {
			freq = toneAppError
		}
	}
	path := filepath.Join(f.dir, fmt.Sprintf("say-%d.wav", n))
	w, werr := wav.Create(path, wav.Format{Encoding: wav.PCM, SampleRate: 8000, Channels: 1, BitsPerSample: 16})
	if werr != nil {
		return "", werr
	}
	w.WriteSamples(toneSamples(freq, 10*media.FrameSamples, 8000))
	if werr := w.Close(); werr != nil {
		return "", werr
	}
	return path, nil
}

func (f *fakeTTS) texts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s []string
	for _, r := range f.reqs {
		s = append(s, r.Text)
	}
	return s
}

func (f *fakeTTS) requests() []tts.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tts.Request(nil), f.reqs...)
}

// ---------------------------------------------------------------- store

// fakeStore keeps what the interpreter writes, with store.Store's rule that
// a final call status never changes (ErrConflict).
type fakeStore struct {
	mu        sync.Mutex
	calls     map[string]store.Call
	order     []string
	events    []store.Event
	callbacks []store.Callback
	notes     []store.Notification
	recs      map[string]store.Recording
	confs     map[string]store.Conference
	parts     map[string]store.Participant
	queues    map[string]store.Queue // by SID
	conflicts int

	// Hooks, set before the calls start: beforeSave runs (unlocked) before
	// each SaveCall and may fail it; beforeCreateRecording before each
	// CreateRecording.
	beforeSave            func(store.Call) error
	beforeCreateRecording func()
}

var _ Store = (*fakeStore)(nil)
var _ Store = store.Store(nil)

func (s *fakeStore) CreateQueue(_ context.Context, q store.Queue) (store.Queue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queues == nil {
		s.queues = map[string]store.Queue{}
	}
	for _, x := range s.queues {
		if x.AccountSID == q.AccountSID && x.FriendlyName == q.FriendlyName {
			return store.Queue{}, store.ErrConflict
		}
	}
	s.queues[q.SID] = q
	return q, nil
}

func (s *fakeStore) Queue(_ context.Context, accountSID, sid string) (store.Queue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.queues[sid]; ok && q.AccountSID == accountSID {
		return q, nil
	}
	return store.Queue{}, store.ErrNotFound
}

func (s *fakeStore) QueueByName(_ context.Context, accountSID, name string) (store.Queue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.queues {
		if q.AccountSID == accountSID && q.FriendlyName == name {
			return q, nil
		}
	}
	return store.Queue{}, store.ErrNotFound
}

func (s *fakeStore) QueueWaited(_ context.Context, accountSID, sid string, wait time.Duration, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[sid]
	if !ok || q.AccountSID != accountSID {
		return store.ErrNotFound
	}
	q.WaitTotal += wait
	q.Dequeued++
	q.DateUpdated = at
	s.queues[sid] = q
	return nil
}

func newFakeStore() *fakeStore {
	return &fakeStore{calls: map[string]store.Call{}, recs: map[string]store.Recording{},
		confs: map[string]store.Conference{}, parts: map[string]store.Participant{}}
}

// SaveConference keeps the room, its participants (by SID), the events and
// the callbacks; a completed room never changes.
func (s *fakeStore) SaveConference(ctx context.Context, c store.Conference, parts []store.Participant, evs []store.Event, cbs []store.Callback) (store.Conference, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.confs[c.SID]; ok && old.Status == store.ConferenceCompleted && c.Status != store.ConferenceCompleted {
		return store.Conference{}, fmt.Errorf("conference %s is completed: %w", c.SID, store.ErrConflict)
	}
	s.confs[c.SID] = c
	for _, p := range parts {
		s.parts[p.SID] = p
	}
	s.events = append(s.events, evs...)
	for _, cb := range cbs {
		if cb.CallSID == "" {
			cb.CallSID = c.SID
		}
		s.callbacks = append(s.callbacks, cb)
	}
	return c, nil
}

func (s *fakeStore) SaveCall(ctx context.Context, c store.Call, ev store.Event, cbs []store.Callback) (store.Call, error) {
	if s.beforeSave != nil {
		if err := s.beforeSave(c); err != nil {
			return store.Call{}, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.calls[c.SID]; ok {
		if old.Status.Final() && old.Status != c.Status {
			s.conflicts++
			return store.Call{}, fmt.Errorf("call %s is %s: %w", c.SID, old.Status, store.ErrConflict)
		}
		c.DateCreated = old.DateCreated
	} else {
		s.order = append(s.order, c.SID)
	}
	if c.DateUpdated.IsZero() {
		c.DateUpdated = time.Now().UTC()
	}
	if c.DateCreated.IsZero() {
		c.DateCreated = c.DateUpdated
	}
	s.calls[c.SID] = c
	ev.AccountSID, ev.CallSID, ev.ResourceSID = c.AccountSID, c.SID, c.SID
	if ev.Type == "" {
		ev.Type = store.EventCall
	}
	s.events = append(s.events, ev)
	for _, cb := range cbs {
		if cb.AccountSID == "" {
			cb.AccountSID = c.AccountSID
		}
		if cb.CallSID == "" {
			cb.CallSID = c.SID
		}
		cb.ID = int64(len(s.callbacks) + 1)
		s.callbacks = append(s.callbacks, cb)
	}
	return c, nil
}

func (s *fakeStore) AppendEvent(ctx context.Context, ev store.Event, cbs []store.Callback) (store.Event, error) {
	if len(ev.Payload) > 0 && !json.Valid(ev.Payload) { // the store's rule
		return store.Event{}, fmt.Errorf("%w: %s event payload is not JSON", store.ErrInvalid, ev.Type)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ev.Seq = int64(len(s.events) + 1)
	s.events = append(s.events, ev)
	for _, cb := range cbs {
		if cb.AccountSID == "" {
			cb.AccountSID = ev.AccountSID
		}
		if cb.CallSID == "" {
			cb.CallSID = ev.CallSID
		}
		cb.ID = int64(len(s.callbacks) + 1)
		s.callbacks = append(s.callbacks, cb)
	}
	return ev, nil
}

func (s *fakeStore) CreateNotification(ctx context.Context, n store.Notification) (store.Notification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notes = append(s.notes, n)
	return n, nil
}

func (s *fakeStore) CreateRecording(ctx context.Context, r store.Recording) (store.Recording, error) {
	if s.beforeCreateRecording != nil {
		s.beforeCreateRecording()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.recs[r.SID]; ok {
		return store.Recording{}, store.ErrConflict
	}
	s.recs[r.SID] = r
	return r, nil
}

func (s *fakeStore) UpdateRecording(ctx context.Context, accountSID, sid string, update func(*store.Recording) error) (store.Recording, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[sid]
	if !ok || r.AccountSID != accountSID {
		return store.Recording{}, store.ErrNotFound
	}
	if err := update(&r); err != nil {
		return store.Recording{}, err
	}
	s.recs[sid] = r
	return r, nil
}

func (s *fakeStore) call(sid string) store.Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[sid]
}

// callFrom returns the SID of the call from "from" ("" when none yet).
func (s *fakeStore) callFrom(from string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sid := range s.order {
		if s.calls[sid].From == from {
			return sid
		}
	}
	return ""
}

// statuses lists the names of a call's events.
func (s *fakeStore) statuses(sid string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, ev := range s.events {
		if ev.CallSID == sid && ev.Type == store.EventCall {
			names = append(names, ev.Name)
		}
	}
	return names
}

// callbacksOf returns the callbacks queued for a call, params decoded.
func (s *fakeStore) callbacksOf(sid string) []queuedCallback {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []queuedCallback
	for _, cb := range s.callbacks {
		if cb.CallSID == sid {
			p, _ := url.ParseQuery(cb.Params)
			out = append(out, queuedCallback{cb, p})
		}
	}
	return out
}

type queuedCallback struct {
	store.Callback
	p url.Values
}

func (s *fakeStore) notifications(sid string) []store.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Notification
	for _, n := range s.notes {
		if n.CallSID == sid {
			out = append(out, n)
		}
	}
	return out
}

func (s *fakeStore) codes(sid string) []int {
	var c []int
	for _, n := range s.notifications(sid) {
		c = append(c, n.ErrorCode)
	}
	return c
}

func (s *fakeStore) recordings(sid string) []store.Recording {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Recording
	for _, r := range s.recs {
		if r.CallSID == sid {
			out = append(out, r)
		}
	}
	return out
}

func (s *fakeStore) recording(sid string) store.Recording {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recs[sid]
}

// ---------------------------------------------------------------- app

// appRoute is one answer of the user's app.
type appRoute struct {
	status      int
	contentType string
	body        []byte
	// fn, when set, answers instead (it may block on the request's context).
	fn func(w http.ResponseWriter, r *http.Request)
}

// appRequest is a request the app received.
type appRequest struct {
	Method string
	Path   string
	Params url.Values
	At     time.Time // fake time
}

// fakeApp is the user's app: path → answer, served in memory.
type fakeApp struct {
	clk *clock.Fake

	mu     sync.Mutex
	routes map[string]appRoute
	reqs   []appRequest
}

func (a *fakeApp) twiml(path, doc string) {
	a.route(path, appRoute{contentType: "text/xml", body: []byte(doc)})
}

func (a *fakeApp) route(path string, r appRoute) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.status == 0 {
		r.status = http.StatusOK
	}
	a.routes[path] = r
}

func (a *fakeApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	a.mu.Lock()
	a.reqs = append(a.reqs, appRequest{Method: r.Method, Path: r.URL.Path, Params: r.Form, At: a.clk.Now()})
	rt, ok := a.routes[r.URL.Path]
	a.mu.Unlock()
	switch {
	case !ok:
		http.NotFound(w, r)
	case rt.fn != nil:
		rt.fn(w, r)
	default:
		w.Header().Set("Content-Type", rt.contentType)
		w.WriteHeader(rt.status)
		w.Write(rt.body)
	}
}

func (a *fakeApp) requests() []appRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]appRequest(nil), a.reqs...)
}

// paths lists the paths requested, in order.
func (a *fakeApp) paths() []string {
	var p []string
	for _, r := range a.requests() {
		p = append(p, r.Path)
	}
	return p
}

// requestsTo returns the requests to path.
func (a *fakeApp) requestsTo(path string) []appRequest {
	var out []appRequest
	for _, r := range a.requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// handlerTransport serves HTTP requests with a handler, in memory.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	var body []byte
	if req.Body != nil {
		var buf bytes.Buffer
		buf.ReadFrom(req.Body)
		req.Body.Close()
		body = buf.Bytes()
	}
	sreq := req.Clone(req.Context())
	sreq.Body = nopCloser{bytes.NewReader(body)}
	sreq.RequestURI = req.URL.RequestURI()
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, sreq)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// ---------------------------------------------------------------- harness

// harness wires an Interpreter to the fakes.
type harness struct {
	t       *testing.T
	clk     *clock.Fake
	st      *fakeStore
	app     *fakeApp
	tts     *fakeTTS
	dialer  *fakeDialer
	in      *Interpreter
	acct    store.Account
	dataDir string

	mu    sync.Mutex
	calls []*inboundCall
	nfrom int
}

var epoch = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// newHarness builds an interpreter on fakes; mod adjusts its Config.
func newHarness(t *testing.T, mod ...func(*Config)) *harness {
	t.Helper()
	clk := clock.NewFake(epoch)
	h := &harness{
		t:       t,
		clk:     clk,
		st:      newFakeStore(),
		app:     &fakeApp{clk: clk, routes: map[string]appRoute{}},
		tts:     &fakeTTS{dir: t.TempDir(), freqs: map[string]float64{}, fail: map[string]error{}},
		dialer:  &fakeDialer{clk: clk},
		acct:    store.Account{SID: "AC00000000000000000000000000000001", AuthToken: "secret", Status: store.StatusActive},
		dataDir: t.TempDir(),
	}
	h.app.route("/tone.wav", appRoute{contentType: "audio/wav", body: wavBytes(t, toneSamples(tonePlay, 10*media.FrameSamples, 8000))})
	wh := webhook.New(webhook.Config{Transport: handlerTransport{h.app}, Retries: -1})
	audio, err := audiocache.New(audiocache.Options{Dir: t.TempDir(), HTTPClient: &http.Client{Transport: handlerTransport{h.app}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Store: h.st, Webhooks: wh, Speech: h.tts, Audio: audio, Dialer: h.dialer,
		Clock: clk, DataDir: h.dataDir, PublicURL: "https://sb.test",
	}
	for _, f := range mod {
		f(&cfg)
	}
	h.in = New(cfg)
	h.in.earHook = func(leg Leg, e *ear) {
		if m, ok := leg.Media().(*fakeMedia); ok {
			m.mu.Lock()
			m.theEar = e
			m.mu.Unlock()
		}
	}
	t.Cleanup(func() {
		h.endAll()
		h.in.Close()
		audio.Close()
		wh.Close()
		if n := h.in.Live(); n != 0 {
			t.Errorf("%d calls still live at the end", n)
		}
	})
	return h
}

// url is an absolute URL of the app.
func (h *harness) url(path string) string { return appBase + path }

// inboundCall is an incoming call the test placed to the interpreter.
type inboundCall struct {
	h    *harness
	inb  *fakeInbound
	leg  *fakeLeg
	m    *fakeMedia
	from string
	done chan struct{}
}

// inbound runs an incoming call to c (URL relative to the app when it
// starts with /) on its own goroutine; setup adjusts its leg first.
func (h *harness) inbound(c Call, setup ...func(*inboundCall)) *inboundCall {
	h.mu.Lock()
	h.nfrom++
	from := fmt.Sprintf("+1555000%04d", h.nfrom)
	h.mu.Unlock()
	if c.Account.SID == "" {
		c.Account = h.acct
	}
	if c.From == "" {
		c.From = from
	}
	if c.To == "" {
		c.To = "+15550100000"
	}
	if strings.HasPrefix(c.URL, "/") {
		c.URL = h.url(c.URL)
	}
	if strings.HasPrefix(c.FallbackURL, "/") {
		c.FallbackURL = h.url(c.FallbackURL)
	}
	if strings.HasPrefix(c.StatusCallback, "/") {
		c.StatusCallback = h.url(c.StatusCallback)
	}
	ctx, cancel := context.WithCancel(context.Background())
	leg := newFakeLeg(h.clk)
	leg.gone = cancel
	inb := &fakeInbound{leg: leg, canceled: make(chan struct{}), answered: make(chan struct{}), stop: cancel}
	ic := &inboundCall{h: h, inb: inb, leg: leg, m: leg.m, from: c.From, done: make(chan struct{})}
	for _, f := range setup {
		f(ic)
	}
	h.mu.Lock()
	h.calls = append(h.calls, ic)
	h.mu.Unlock()
	go func() {
		defer close(ic.done)
		defer cancel()
		h.in.HandleInbound(ctx, c, inb)
	}()
	return ic
}

// sid waits for the call's record and returns its SID.
func (ic *inboundCall) sid() string {
	ic.h.t.Helper()
	var sid string
	waitFor(ic.h.t, "the call's record", func() bool { sid = ic.h.st.callFrom(ic.from); return sid != "" })
	return sid
}

// wait waits for HandleInbound to return.
func (ic *inboundCall) wait() {
	ic.h.t.Helper()
	waitChan(ic.h.t, "the end of the call", ic.done)
}

func (ic *inboundCall) ended() bool {
	select {
	case <-ic.done:
		return true
	default:
		return false
	}
}

// answered waits for the answer.
func (ic *inboundCall) answered() {
	ic.h.t.Helper()
	waitChan(ic.h.t, "the answer", ic.inb.answered)
}

// record is the call's record as stored.
func (ic *inboundCall) record() store.Call { return ic.h.st.call(ic.sid()) }

// endAll ends the calls still running (the far end hangs up or cancels)
// and waits for them.
func (h *harness) endAll() {
	h.mu.Lock()
	calls := h.calls
	h.mu.Unlock()
	for _, ic := range calls {
		ic.leg.remoteHangup()
		ic.inb.cancel()
	}
	for _, ic := range calls {
		select {
		case <-ic.done:
		case <-time.After(10 * time.Second):
			h.t.Errorf("call from %s did not end", ic.from)
		}
	}
}

// waitTimers waits for n timers to be armed on the fake clock.
// advanceBefore moves the fake clock forward by d, short of every timer
// armed: it fails the test if one fires. What a test then checks has not
// happened, and cannot happen later, so no sleep is needed to wait for it.
func (h *harness) advanceBefore(d time.Duration) {
	h.t.Helper()
	before := h.clk.Waiters()
	h.clk.Advance(d)
	if after := h.clk.Waiters(); after < before {
		h.t.Fatalf("a timer fired within %v (%d armed, were %d)", d, after, before)
	}
}

func (h *harness) waitTimers(n int) {
	h.t.Helper()
	waitFor(h.t, fmt.Sprintf("%d timers", n), func() bool { return h.clk.Waiters() >= n })
}

// place places an outbound call through the fake dialer and lets it go
// past the calls-per-second queue. So that every call waits exactly once,
// whatever was placed before, place takes a turn of the account's rate
// itself: the call then waits one interval of the fake clock, which place
// advances once the call's timer is armed.
func (h *harness) place(c Call) store.Call {
	h.t.Helper()
	if c.Account.SID == "" {
		c.Account = h.acct
	}
	if c.From == "" {
		c.From = "+15550100000"
	}
	if c.To == "" {
		c.To = "+15550109999"
	}
	for _, u := range []*string{&c.URL, &c.FallbackURL, &c.StatusCallback} {
		if strings.HasPrefix(*u, "/") {
			*u = h.url(*u)
		}
	}
	base := h.clk.Waiters()
	wait := h.in.rate.reserve(c.Account.SID, h.clk.Now())
	call, err := h.in.Place(context.Background(), c)
	if err != nil {
		h.t.Fatal(err)
	}
	h.waitTimers(base + 1)
	h.clk.Advance(wait + h.in.rate.interval)
	return call
}

// outboundLeg waits for the i-th dial and returns its leg.
func (h *harness) outboundLeg(i int) *fakeLeg {
	h.t.Helper()
	waitFor(h.t, fmt.Sprintf("dial #%d", i+1), func() bool { return h.dialer.count() > i })
	return h.dialer.dial(i).leg
}

// waitStatus waits for the call's stored status.
func (h *harness) waitStatus(sid string, want store.CallStatus) store.Call {
	h.t.Helper()
	waitFor(h.t, "status "+string(want), func() bool { return h.st.call(sid).Status == want })
	return h.st.call(sid)
}

// waitEnded waits for the call to leave the interpreter.
func (h *harness) waitEnded(sid string) {
	h.t.Helper()
	waitFor(h.t, "the end of call "+sid, func() bool {
		h.in.mu.Lock()
		defer h.in.mu.Unlock()
		return h.in.live[sid] == nil
	})
}

// waitRequest waits for a request to path and returns it.
func (h *harness) waitRequest(path string) appRequest {
	h.t.Helper()
	var r appRequest
	waitFor(h.t, "a request to "+path, func() bool {
		rs := h.app.requestsTo(path)
		if len(rs) == 0 {
			return false
		}
		r = rs[len(rs)-1]
		return true
	})
	return r
}
