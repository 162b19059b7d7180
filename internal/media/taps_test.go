package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

// callLog records tap and hook calls, in order, across sessions.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(s string) {
	l.mu.Lock()
	l.calls = append(l.calls, s)
	l.mu.Unlock()
}

func (l *callLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

// recTap is a Tap that keeps copies of the frames it gets and, with a log,
// records its calls as "name in k" and "name out k" (k the tick serviced).
type recTap struct {
	name string
	e    *Engine
	log  *callLog

	mu      sync.Mutex
	in, out [][]int16
}

func (r *recTap) TapIn(f []int16) {
	r.mu.Lock()
	r.in = append(r.in, slices.Clone(f))
	r.mu.Unlock()
	if r.log != nil {
		r.log.add(fmt.Sprintf("%s in %d", r.name, r.e.tickNow.Load()))
	}
}

func (r *recTap) TapOut(f []int16) {
	r.mu.Lock()
	r.out = append(r.out, slices.Clone(f))
	r.mu.Unlock()
	if r.log != nil {
		r.log.add(fmt.Sprintf("%s out %d", r.name, r.e.tickNow.Load()))
	}
}

// frames returns what the tap got so far and forgets it.
func (r *recTap) frames() (in, out [][]int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	in, out = r.in, r.out
	r.in, r.out = nil, nil
	return in, out
}

func concat(frames [][]int16) []int16 {
	var out []int16
	for _, f := range frames {
		out = append(out, f...)
	}
	return out
}

// silent reports whether every frame is silence.
func silent(frames [][]int16) bool {
	return !slices.ContainsFunc(frames, func(f []int16) bool { return rms(f) != 0 })
}

// waitPlaying waits until the pacer will read src on s's next tick.
func waitPlaying(t *testing.T, s *Session, src Source) {
	t.Helper()
	waitUntil(t, func() bool {
		s.playMu.Lock()
		defer s.playMu.Unlock()
		return s.play != nil && s.play.src == src
	}, "play to start")
}

// A tap hears what the remote sent and what the session sent: the source, an
// in-band DTMF tone; silence before SetRemote and on hold.
func TestTapHearsBothDirections(t *testing.T) {
	h := newHarness(t)
	s := h.session()
	p := newPeer(t)
	tap := &recTap{}
	s.AddTap(tap)
	s.SetSink(&recorder{})

	// Before SetRemote the source is consumed but nothing is sent.
	src := &toneSource{freq: 1000, amp: 6000, frames: 1 << 20}
	playing := playAsync(s, context.Background(), src)
	waitPlaying(t, s, src)
	h.advance(3, nil)
	in, out := tap.frames()
	if len(in) != 3 || len(out) != 3 || !silent(in) || !silent(out) {
		t.Fatalf("before SetRemote: %d/%d frames, silent %v/%v; want 3 silent each way", len(in), len(out), silent(in), silent(out))
	}
	if src.n != 3*FrameSamples {
		t.Fatalf("source read %d samples in 3 ticks", src.n)
	}

	// The remote says frames 0-9 while the session plays its tone.
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	var rx uint64
	for i := range 10 {
		p.send(s.LocalAddr(), p.audio(i))
		rx++
		waitUntil(t, func() bool { h.e.pollNow(); return s.Stats().PacketsReceived >= rx }, "packet to arrive")
		h.advance(1, nil)
	}
	h.advance(4, nil) // the jitter buffer's 40 ms
	in, out = tap.frames()
	if len(in) != 14 || len(out) != 14 {
		t.Fatalf("%d TapIn and %d TapOut calls in 14 ticks", len(in), len(out))
	}
	if got := voiced(heardIDs(in)); !slices.Equal(got, upTo(10)) {
		t.Fatalf("TapIn heard %v, want frames 0..9", got)
	}
	// TapOut got exactly what was encoded into the packets the remote got.
	pkts := p.drain(50 * time.Millisecond)
	if len(pkts) != 14 {
		t.Fatalf("remote got %d packets in 14 ticks", len(pkts))
	}
	payload := make([]byte, FrameSamples)
	for i, b := range pkts {
		g711.EncodeUlaw(payload, out[i])
		if !bytes.Equal(b[headerSize:], payload) {
			t.Fatalf("packet %d does not carry the frame TapOut got", i)
		}
	}
	if p1k, p2k := goertzel(concat(out), 1000), goertzel(concat(out), 2000); p1k < 6000*6000/2 || p1k < 1000*p2k {
		t.Fatalf("TapOut is not the 1 kHz tone played: %.3g at 1 kHz, %.3g at 2 kHz", p1k, p2k)
	}

	// In-band DTMF replaces the source's audio: TapOut has the tone.
	if err := s.Play(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := <-playing; !errors.Is(err, ErrReplaced) {
		t.Fatalf("Play = %v", err)
	}
	h.advance(1, nil)
	tap.frames()
	p.drain(50 * time.Millisecond)
	sendDTMF(t, h, s, "5")
	h.advance(2, nil)
	_, out = tap.frames()
	first, last, n := voicedFrames(out, 500)
	if n != 5 || last-first != 4 {
		t.Fatalf("TapOut has the DTMF tone in %d frames (%d..%d), want 5 contiguous", n, first, last)
	}
	tone := concat(out[first : last+1])
	if p770, p1336, p697 := goertzel(tone, 770), goertzel(tone, 1336), goertzel(tone, 697); p770 < 20*p697 || p1336 < 20*p697 {
		t.Fatalf("TapOut tone is not digit 5: %.3g at 770 Hz, %.3g at 1336 Hz, %.3g at 697 Hz", p770, p1336, p697)
	}
	pkts = p.drain(50 * time.Millisecond)
	if len(pkts) != len(out) {
		t.Fatalf("%d packets for %d TapOut frames", len(pkts), len(out))
	}
	for i, b := range pkts {
		g711.EncodeUlaw(payload, out[i])
		if !bytes.Equal(b[headerSize:], payload) {
			t.Fatalf("packet %d does not carry the frame TapOut got", i)
		}
	}

	// On hold nothing is sent: TapOut is silence though the source plays, and
	// TapIn goes on.
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: RecvOnly})
	src = &toneSource{freq: 1000, amp: 6000, frames: 1 << 20}
	playAsync(s, context.Background(), src)
	waitPlaying(t, s, src)
	h.advance(5, nil)
	in, out = tap.frames()
	if len(in) != 5 || len(out) != 5 || !silent(out) {
		t.Fatalf("on hold: %d TapIn, %d TapOut, TapOut silent %v; want 5, 5, true", len(in), len(out), silent(out))
	}
	if src.n != 5*FrameSamples {
		t.Fatalf("source read %d samples in 5 ticks on hold", src.n)
	}
	if pk := p.drain(50 * time.Millisecond); len(pk) != 0 {
		t.Fatalf("%d packets sent on hold", len(pk))
	}
}

// While RFC 4733 events replace the audio, TapOut gives silence.
func TestTapOutSilentDuringTelephoneEvent(t *testing.T) {
	h := newHarness(t)
	s := h.session()
	p := newPeer(t)
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMA, EventPT: 101, Direction: SendRecv})
	tap := &recTap{}
	s.AddTap(tap)
	src := &toneSource{freq: 1000, amp: 6000, frames: 1 << 20}
	playAsync(s, context.Background(), src)
	waitPlaying(t, s, src)
	h.advance(2, nil)
	sendDTMF(t, h, s, "1")
	h.advance(2, nil)
	_, out := tap.frames()
	pkts := p.drain(50 * time.Millisecond)
	if len(out) != len(pkts) || len(out) < 5+endRepeats-1+4 {
		t.Fatalf("%d TapOut frames and %d packets", len(out), len(pkts))
	}
	events := 0
	for i, b := range pkts {
		isEvent := parse(t, b).pt == 101
		if isEvent {
			events++
		}
		if isEvent != (rms(out[i]) == 0) {
			t.Fatalf("tick %d: event packet %v, TapOut rms %.0f: want silence exactly for the events", i, isEvent, rms(out[i]))
		}
	}
	if events != 5+endRepeats-1 {
		t.Fatalf("%d event packets", events)
	}
}

// sendDTMF runs SendDTMF on the fake clock until it returns.
func sendDTMF(t *testing.T, h *harness, s *Session, digits string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.SendDTMF(context.Background(), digits) }()
	waitUntil(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.dtmfJob != nil }, "SendDTMF to start")
	for range 1000 {
		h.advance(1, nil)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("SendDTMF: %v", err)
			}
			return
		case <-time.After(time.Millisecond):
		}
	}
	t.Fatal("SendDTMF did not return")
}

// Changing the consumer (SetSink, Play) does not lose the tap.
func TestTapSurvivesConsumerChange(t *testing.T) {
	h := newHarness(t)
	a, b := h.session(), h.session()
	connect(a, b, PCMU, 0)
	all := delivered([2]*Session{a, b}, [2]*Session{b, a})
	tap := &recTap{}
	b.AddTap(tap)

	// a says 1 kHz throughout.
	playAsync(a, context.Background(), &toneSource{freq: 1000, amp: 6000, frames: 1 << 20})
	// b's first consumer: a recorder, and a 500 Hz tone.
	rec1 := &recorder{}
	b.SetSink(rec1)
	src1 := &toneSource{freq: 500, amp: 6000, frames: 1 << 20}
	first := playAsync(b, context.Background(), src1)
	waitPlaying(t, b, src1)
	h.advance(10, all)
	tap.frames()

	// The next consumer: another recorder, a 700 Hz tone.
	rec2 := &recorder{}
	b.SetSink(rec2)
	src2 := &toneSource{freq: 700, amp: 6000, frames: 1 << 20}
	playAsync(b, context.Background(), src2)
	if err := <-first; !errors.Is(err, ErrReplaced) {
		t.Fatalf("first Play = %v", err)
	}
	waitPlaying(t, b, src2)
	n1 := rec1.count()
	h.advance(10, all)
	if rec1.count() != n1 || rec2.count() != 10 {
		t.Fatalf("old sink got %d more frames, new sink %d", rec1.count()-n1, rec2.count())
	}
	in, out := tap.frames()
	if len(in) != 10 || len(out) != 10 {
		t.Fatalf("after the change the tap got %d/%d frames in 10 ticks", len(in), len(out))
	}
	if p1k, p500 := goertzel(concat(in), 1000), goertzel(concat(in), 500); p1k < 1000*p500 {
		t.Fatalf("TapIn after the change: %.3g at 1 kHz, %.3g at 500 Hz", p1k, p500)
	}
	if p700, p500 := goertzel(concat(out), 700), goertzel(concat(out), 500); p700 < 1000*p500 {
		t.Fatalf("TapOut after the change is not the new source: %.3g at 700 Hz, %.3g at 500 Hz", p700, p500)
	}
	if !slices.Equal(concat(in), rec2.samples()) {
		t.Fatal("TapIn frames differ from what the sink got")
	}

	// No consumer at all: the tap still hears both directions.
	b.SetSink(nil)
	b.Play(context.Background(), nil)
	h.advance(5, all)
	in, out = tap.frames()
	if len(in) != 5 || len(out) != 5 || rms(concat(in)) < 1000 || !silent(out) {
		t.Fatalf("without a consumer: %d/%d frames, TapIn rms %.0f, TapOut silent %v", len(in), len(out), rms(concat(in)), silent(out))
	}
}

// Each tick calls every TapIn, then the tick hooks, then every TapOut; and
// each tap's TapIn and TapOut are of the same tick.
func TestTapAndHookOrderWithinTick(t *testing.T) {
	h := newHarness(t)
	a, b := h.session(), h.session()
	connect(a, b, PCMU, 0)
	log := &callLog{}
	a.AddTap(&recTap{name: "a", e: h.e, log: log})
	b.AddTap(&recTap{name: "b", e: h.e, log: log})
	remove := h.e.AddTickHook(func(k uint64) { log.add(fmt.Sprintf("hook %d", k)) })
	defer remove()
	h.advance(1, nil) // the engine may have taken the taps or the hook mid-tick
	log.take()

	const ticks = 20
	h.advance(ticks, nil)
	calls := log.take()
	if len(calls) != 5*ticks {
		t.Fatalf("%d calls in %d ticks, want 5 a tick:\n%s", len(calls), ticks, strings.Join(calls, "\n"))
	}
	for i := range ticks {
		k := uint64(i + 2)
		got := calls[5*i : 5*i+5]
		in := []string{fmt.Sprintf("a in %d", k), fmt.Sprintf("b in %d", k)}
		out := []string{fmt.Sprintf("a out %d", k), fmt.Sprintf("b out %d", k)}
		slices.Sort(got[:2]) // sessions are serviced in any order
		slices.Sort(got[3:])
		if !slices.Equal(got[:2], in) || got[2] != fmt.Sprintf("hook %d", k) || !slices.Equal(got[3:], out) {
			t.Fatalf("tick %d: calls %q, want both TapIns, the hook, both TapOuts", k, got)
		}
	}
}

// A tap added or removed between the phases of a tick (here by a tick hook)
// gets no unpaired TapOut.
func TestTapAddedOrRemovedBetweenPhases(t *testing.T) {
	h := newHarness(t)
	s := h.session()
	log := &callLog{}
	tap := &recTap{name: "t", e: h.e, log: log}
	var op atomic.Value // func(), run once by the hook
	remove := h.e.AddTickHook(func(k uint64) {
		if f, ok := op.Swap(func() {}).(func()); ok {
			f()
		}
		log.add(fmt.Sprintf("hook %d", k))
	})
	defer remove()
	h.advance(1, nil)
	log.take()

	op.Store(func() { s.AddTap(tap) })
	h.advance(2, nil)
	if got, want := log.take(), []string{"hook 2", "t in 3", "hook 3", "t out 3"}; !slices.Equal(got, want) {
		t.Fatalf("tap added by a hook: calls %q, want %q", got, want)
	}
	op.Store(func() { s.RemoveTap(tap) })
	h.advance(2, nil)
	if got, want := log.take(), []string{"t in 4", "hook 4", "hook 5"}; !slices.Equal(got, want) {
		t.Fatalf("tap removed by a hook: calls %q, want %q", got, want)
	}
}

func TestRemoveTapAndHook(t *testing.T) {
	h := newHarness(t)
	s := h.session()
	t1, t2 := &recTap{}, &recTap{}
	s.AddTap(t1)
	s.AddTap(t2)
	s.AddTap(t1) // already there: no second call a tick
	var hookCalls atomic.Int64
	remove := h.e.AddTickHook(func(uint64) { hookCalls.Add(1) })
	h.advance(3, nil)
	if in, out := t1.frames(); len(in) != 3 || len(out) != 3 {
		t.Fatalf("tap got %d/%d calls in 3 ticks", len(in), len(out))
	}
	if n := hookCalls.Load(); n != 3 {
		t.Fatalf("hook called %d times in 3 ticks", n)
	}
	s.RemoveTap(t1)
	s.RemoveTap(t1) // not there any more: nothing happens
	s.RemoveTap(&recTap{})
	remove()
	remove()
	h.advance(3, nil)
	if in, out := t1.frames(); len(in)+len(out) != 0 {
		t.Fatalf("removed tap got %d/%d calls", len(in), len(out))
	}
	if in, out := t2.frames(); len(in) != 6 || len(out) != 6 {
		t.Fatalf("remaining tap got %d/%d calls in 6 ticks", len(in), len(out))
	}
	if n := hookCalls.Load(); n != 3 {
		t.Fatalf("removed hook called %d more times", n-3)
	}
	s.RemoveTap(t2)
	h.advance(1, nil)
	if s.taps.Load() != nil {
		t.Fatal("no taps left, but the pointer is not nil")
	}
}

// flagTap counts calls made after it was marked removed.
type flagTap struct {
	calls   atomic.Int64
	removed atomic.Bool
	bad     *atomic.Int64
}

func (f *flagTap) TapIn([]int16)  { f.call() }
func (f *flagTap) TapOut([]int16) { f.call() }
func (f *flagTap) call() {
	f.calls.Add(1)
	if f.removed.Load() {
		f.bad.Add(1)
	}
}

// Once RemoveTap or a hook's remove function returns, no call comes, however
// they race with the pacer.
func TestRemoveRacesWithPacer(t *testing.T) {
	h := newHarness(t)
	s := h.session()
	stop := make(chan struct{})
	ticking := make(chan struct{})
	go func() {
		defer close(ticking)
		k := h.e.processed.Load()
		for {
			select {
			case <-stop:
				return
			default:
			}
			h.fake.Advance(FrameDuration)
			k++
			for h.e.processed.Load() < k {
				select {
				case <-stop:
					return
				default:
					time.Sleep(time.Microsecond)
				}
			}
		}
	}()
	defer func() { close(stop); <-ticking }()

	var bad atomic.Int64
	for i := range 300 {
		tap := &flagTap{bad: &bad}
		s.AddTap(tap)
		var calls atomic.Int64
		var removed atomic.Bool
		remove := h.e.AddTickHook(func(uint64) {
			calls.Add(1)
			if removed.Load() {
				bad.Add(1)
			}
		})
		waitUntil(t, func() bool { return tap.calls.Load() >= int64(i%3+1) && calls.Load() > 0 }, "tap and hook calls")
		s.RemoveTap(tap)
		tap.removed.Store(true)
		remove()
		removed.Store(true)
	}
	if n := bad.Load(); n != 0 {
		t.Fatalf("%d calls after removal", n)
	}
}

// A session that has ended calls its taps no more.
func TestTapStopsWhenSessionEnds(t *testing.T) {
	h := newHarness(t)
	s := h.session()
	tap := &recTap{}
	s.AddTap(tap)
	h.advance(2, nil)
	s.Close()
	tap.frames()
	h.advance(2, nil)
	if in, out := tap.frames(); len(in)+len(out) != 0 {
		t.Fatalf("closed session's tap got %d/%d calls", len(in), len(out))
	}
}
