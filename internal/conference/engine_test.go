package conference

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
)

// recorder is a Sink keeping what a phone hears.
type recorder struct {
	mu     sync.Mutex
	frames [][]int16
}

func (r *recorder) WriteFrame(f []int16) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, append([]int16(nil), f...))
	return nil
}

func (r *recorder) last(n int) [][]int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.frames) < n {
		return nil
	}
	return r.frames[len(r.frames)-n:]
}

// TestMixerOnEngine runs a three-party conference on the real media engine:
// each phone plays its own tone over RTP to its leg; each leg's sink and
// source are a mixer endpoint; the mixer runs in the engine's tick hook. Each
// phone hears the other two tones and not its own.
func TestMixerOnEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time test")
	}
	lo := 20000 + 2*rand.IntN(15000)
	engine, err := media.NewEngine(media.EngineConfig{IP: netip.MustParseAddr("127.0.0.1"), PortMin: lo, PortMax: lo + 63})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	m := NewMixer(MixerConfig{})
	remove := engine.AddTickHook(func(uint64) { m.Mix() })
	defer remove()

	ctx, cancel := context.WithCancel(context.Background())
	var plays sync.WaitGroup
	defer plays.Wait()
	defer cancel()

	freqs := []float64{400, 650, 900}
	recs := make([]*recorder, len(freqs))
	for i, f := range freqs {
		phone, err := engine.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		leg, err := engine.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer phone.Close()
		defer leg.Close()
		phone.SetRemote(media.Remote{Addr: leg.LocalAddr(), Codec: media.PCMU, Direction: media.SendRecv})
		leg.SetRemote(media.Remote{Addr: phone.LocalAddr(), Codec: media.PCMU, Direction: media.SendRecv})
		recs[i] = &recorder{}
		phone.SetSink(recs[i])

		ep := m.Add(string(rune('A' + i)))
		ep.Set(talker)
		leg.SetSink(ep)
		plays.Add(2)
		go func() { defer plays.Done(); leg.Play(ctx, ep) }()
		go func() { defer plays.Done(); phone.Play(ctx, dsp.ToneSource([]float64{f}, toneLevel, dsp.Forever)) }()
	}

	// PCMU both ways and the jitter buffers: give it half a second, then
	// look at the last 200 ms each phone heard.
	deadline := time.Now().Add(10 * time.Second)
	for i, rec := range recs {
		for {
			frames := rec.last(10)
			if frames != nil && !silence(frames[0]) && len(rec.last(35)) == 35 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("phone %d heard nothing", i)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for i, rec := range recs {
		var heard []int16
		for _, f := range rec.last(10) {
			heard = append(heard, f...)
		}
		for j, f := range freqs {
			p := dsp.GoertzelPower(heard, f, dsp.SampleRate)
			switch {
			case j == i && p > tonePower/100:
				t.Errorf("phone %d hears its own %v Hz (%.0f)", i, f, p)
			case j != i && (p < tonePower*0.7 || p > tonePower*1.4):
				t.Errorf("phone %d hears %v Hz at %.0f, want about %.0f", i, f, p, tonePower)
			}
		}
	}
}
