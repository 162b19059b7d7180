package media

import (
	"context"
	"errors"
	"io"
	"testing"
)

func TestPipe(t *testing.T) {
	p := NewPipe()
	out := make([]int16, FrameSamples)
	if err := p.ReadFrame(out); err != nil || rms(out) != 0 {
		t.Fatalf("empty pipe: %v, rms %v", err, rms(out))
	}
	for id := range 6 { // two more than it holds
		p.WriteFrame(jbFrame(id))
	}
	for want := 2; want < 6; want++ {
		p.ReadFrame(out)
		if got := frameID(out); got != want {
			t.Fatalf("read frame %d, want %d (oldest dropped first)", got, want)
		}
	}
	p.ReadFrame(out)
	if frameID(out) != -1 {
		t.Fatal("drained pipe did not give silence")
	}
	p.Close()
	if err := p.ReadFrame(out); err != io.EOF {
		t.Fatalf("ReadFrame after Close = %v", err)
	}
	if err := p.WriteFrame(out); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("WriteFrame after Close = %v", err)
	}
}

func TestMultiSink(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	bad := SinkFunc(func([]int16) error { return errors.New("full") })
	m := MultiSink(a, bad, b)
	for range 3 {
		if err := m.WriteFrame(jbFrame(1)); err != nil {
			t.Fatal(err)
		}
	}
	if a.count() != 3 || b.count() != 3 {
		t.Fatalf("sinks got %d and %d frames", a.count(), b.count())
	}
	if err := MultiSink(bad).WriteFrame(jbFrame(1)); err == nil {
		t.Fatal("no error when every sink failed")
	}
}

// Two legs bridged through a Pipe: what the far end of one says, the far end
// of the other hears, at 1 kHz, for as long as it was said, without delay added
// by the bridge when both legs are in one group. Across shards the pipe is
// written and read at the same time by two goroutines (-race checks it) and
// may add one tick of delay.
func TestBridgeThroughPipe(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sameGroup bool
	}{{"one group", true}, {"two shards", false}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *EngineConfig) { c.Shards = 2 })
			caller, legA, legB, callee := h.session(), h.session(), h.session(), h.session()
			g0, g1 := &Group{e: h.e, sh: h.e.shards[0]}, &Group{e: h.e, sh: h.e.shards[1]}
			for _, s := range []*Session{caller, legA, callee} {
				if err := g0.Adopt(s); err != nil {
					t.Fatal(err)
				}
			}
			if tc.sameGroup {
				g1 = g0
			}
			if err := g1.Adopt(legB); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 4, false: 3}[tc.sameGroup]; h.e.shards[0].n.Load() != int64(want) {
				t.Fatalf("shard 0 has %d sessions, want %d", h.e.shards[0].n.Load(), want)
			}
			connect(caller, legA, PCMU, 0)
			connect(legB, callee, PCMA, 0) // and transcoded on the way
			pipe := NewPipe()
			legA.SetSink(pipe)
			bridge := playAsync(legB, context.Background(), pipe)
			heard := &recorder{}
			callee.SetSink(heard)
			all := delivered([2]*Session{caller, legA}, [2]*Session{legA, caller}, [2]*Session{legB, callee}, [2]*Session{callee, legB})

			done := playAsync(caller, context.Background(), &toneSource{freq: 1000, amp: 6000, frames: 25})
			// Both plays must have started before the first tick.
			waitUntil(t, func() bool { legB.playMu.Lock(); defer legB.playMu.Unlock(); return legB.play != nil }, "bridge play")
			waitUntil(t, func() bool { caller.playMu.Lock(); defer caller.playMu.Unlock(); return caller.play != nil }, "play")
			h.advance(40, all)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			pipe.Close()
			h.advance(1, nil)
			if err := <-bridge; err != nil {
				t.Fatalf("bridge Play = %v, want nil after the pipe closed", err)
			}
			first, last, n := voicedFrames(heard.samplesByFrame(), 600)
			// Across shards the pipe may run empty once (the reader went
			// first while nothing was queued): one frame of silence, then
			// one frame of delay for good.
			slack := 0
			if !tc.sameGroup {
				slack = 1
			}
			if n != 25 || last-first > 24+slack {
				t.Fatalf("tone heard in %d frames (%d..%d), want 25", n, first, last)
			}
			// Each hop takes three ticks: sent in tick k, played from the far end's
			// jitter buffer (40 ms) in tick k+3. The bridge itself adds nothing.
			if first > 3+3+slack {
				t.Fatalf("tone first heard at frame %d: the bridge adds delay", first)
			}
			var tone []int16
			for _, f := range heard.samplesByFrame()[first : last+1] {
				tone = append(tone, f...)
			}
			if p1k, p2k := goertzel(tone, 1000), goertzel(tone, 2000); p1k < 100*p2k {
				t.Fatalf("not a clean 1 kHz tone: %.3g vs %.3g at 2 kHz", p1k, p2k)
			}
		})
	}
}
