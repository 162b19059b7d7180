package media

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

// playAsync runs Play in a goroutine and returns its result channel.
func playAsync(s *Session, ctx context.Context, src Source) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- s.Play(ctx, src) }()
	return ch
}

func TestToneArrivesAtRightFrequencyLevelAndDuration(t *testing.T) {
	for _, codec := range []Codec{PCMU, PCMA} {
		t.Run(codec.Name, func(t *testing.T) {
			h := newHarness(t)
			a, b := h.session(), h.session()
			connect(a, b, codec, 101)
			rec := &recorder{}
			b.SetSink(rec)
			h.advance(3, delivered([2]*Session{a, b}, [2]*Session{b, a}))

			const frames = 50 // one second
			const amp = 8000.0
			done := playAsync(a, context.Background(), &toneSource{freq: 1000, amp: amp, frames: frames})
			// Wait until the pacer has taken the source, then run 1.2 s.
			waitUntil(t, func() bool { a.playMu.Lock(); defer a.playMu.Unlock(); return a.play != nil }, "play to start")
			h.advance(frames+10, delivered([2]*Session{a, b}, [2]*Session{b, a}))
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Play = %v, want nil", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Play did not return after its source ended")
			}

			rec.mu.Lock()
			frames_ := rec.frames
			rec.mu.Unlock()
			if got, want := len(frames_), 3+frames+10; got != want {
				t.Fatalf("sink got %d frames in %d ticks, want one per tick", got, want)
			}
			first, last, n := voicedFrames(frames_, amp/10)
			if n != frames || last-first+1 != frames {
				t.Fatalf("tone heard in %d frames (%d..%d), want %d contiguous (1 s)", n, first, last, frames)
			}
			var tone []int16
			for _, f := range frames_[first : last+1] {
				tone = append(tone, f...)
			}
			// Frequency: 1 kHz dominates its neighbours by far.
			p1k := goertzel(tone, 1000)
			for _, f := range []float64{500, 900, 1100, 2000} {
				if p := goertzel(tone, f); p*1000 > p1k {
					t.Errorf("power at %v Hz is %.3g, at 1 kHz %.3g: not a clean 1 kHz tone", f, p, p1k)
				}
			}
			// Level: G.711 keeps the level within a fraction of a dB.
			wantRMS := amp / math.Sqrt2
			if got := rms(tone); math.Abs(20*math.Log10(got/wantRMS)) > 0.3 {
				t.Errorf("tone RMS %.0f, want %.0f ±0.3 dB", got, wantRMS)
			}
			st := b.Stats()
			if st.PacketsLost != 0 || st.PacketsLate != 0 {
				t.Errorf("stats %+v: want no loss, nothing late", st)
			}
		})
	}
}

func TestPlayEndsOnContextReplaceAndClose(t *testing.T) {
	h := newHarness(t)
	a, b := h.session(), h.session()
	connect(a, b, PCMU, 0)

	ctx, cancel := context.WithCancel(context.Background())
	first := playAsync(a, ctx, &toneSource{freq: 440, amp: 1000, frames: 1000})
	waitUntil(t, func() bool { a.playMu.Lock(); defer a.playMu.Unlock(); return a.play != nil }, "play to start")
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("Play after cancel = %v, want context.Canceled", err)
	}

	first = playAsync(a, context.Background(), &toneSource{freq: 440, amp: 1000, frames: 1000})
	waitUntil(t, func() bool { a.playMu.Lock(); defer a.playMu.Unlock(); return a.play != nil }, "play to start")
	second := playAsync(a, context.Background(), &toneSource{freq: 440, amp: 1000, frames: 1000})
	if err := <-first; !errors.Is(err, ErrReplaced) {
		t.Fatalf("replaced Play = %v, want ErrReplaced", err)
	}
	a.Close()
	if err := <-second; !errors.Is(err, ErrClosed) {
		t.Fatalf("Play on closed session = %v, want ErrClosed", err)
	}
	if err := a.Play(context.Background(), &toneSource{frames: 1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Play after Close = %v, want ErrClosed", err)
	}
	if !errors.Is(a.Err(), ErrClosed) {
		t.Fatalf("Err = %v, want ErrClosed", a.Err())
	}
}

// SetJitterBuffer changes the playout delay from the next packet on:
// conference participants' jitterBufferSize.
func TestSessionSetJitterBuffer(t *testing.T) {
	h := newHarness(t)
	s := h.session()
	if tgt, mx := s.JitterBuffer(); tgt != 0 || mx != 0 {
		t.Errorf("default %v %v", tgt, mx)
	}
	s.SetJitterBuffer(20*time.Millisecond, 20*time.Millisecond)
	if tgt, mx := s.JitterBuffer(); tgt != 20*time.Millisecond || mx != 20*time.Millisecond {
		t.Errorf("after SetJitterBuffer: %v %v", tgt, mx)
	}
}
