package conference

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media/dsp"
)

// rig drives a mixer as the media pacer would: every endpoint's WriteFrame
// (the receive phase), Mix (the tick hook), every endpoint's ReadFrame (the
// send phase).
type rig struct {
	t   *testing.T
	m   *Mixer
	eps []*Endpoint
}

func newRig(t *testing.T, cfg MixerConfig, flags ...Flags) *rig {
	r := &rig{t: t, m: NewMixer(cfg)}
	for i := range flags {
		r.eps = append(r.eps, r.m.Add(string(rune('A'+i))))
	}
	for i, f := range flags {
		r.eps[i].Set(f)
	}
	return r
}

// tick writes in[i] to endpoint i (none when nil), mixes and returns what
// every endpoint hears.
func (r *rig) tick(in ...[]int16) [][]int16 {
	r.t.Helper()
	for i, e := range r.eps {
		if i < len(in) && in[i] != nil {
			if err := e.WriteFrame(in[i]); err != nil {
				r.t.Fatal(err)
			}
		}
	}
	r.m.Mix()
	out := make([][]int16, len(r.eps))
	for i, e := range r.eps {
		out[i] = make([]int16, frameLen)
		if err := e.ReadFrame(out[i]); err != nil {
			r.t.Fatalf("ReadFrame %s: %v", e.ID(), err)
		}
	}
	return out
}

var talker = Flags{Talks: true, Hears: true}

const toneLevel = -20 // dBFS

// tones returns one generator per frequency. Frequencies that are multiples of
// 50 Hz make a whole number of periods in a 20 ms frame, so Goertzel on one
// frame separates them cleanly.
func tones(freqs ...float64) []*dsp.Generator {
	g := make([]*dsp.Generator, len(freqs))
	for i, f := range freqs {
		g[i] = dsp.ToneSource([]float64{f}, toneLevel, dsp.Forever)
	}
	return g
}

func next(gs []*dsp.Generator) [][]int16 {
	out := make([][]int16, len(gs))
	for i, g := range gs {
		out[i] = make([]int16, frameLen)
		if g != nil {
			g.ReadFrame(out[i])
		}
	}
	return out
}

// power of a -20 dBFS sine at its frequency.
var tonePower = math.Pow(dsp.Amplitude(toneLevel), 2) / 2

// hears reports whether frame holds freq at about the level of one tone.
func hears(frame []int16, freq float64) bool {
	p := dsp.GoertzelPower(frame, freq, dsp.SampleRate)
	return p > tonePower*0.8 && p < tonePower*1.25
}

// silentAt reports whether frame holds nothing of freq (30 dB below a tone).
func silentAt(frame []int16, freq float64) bool {
	return dsp.GoertzelPower(frame, freq, dsp.SampleRate) < tonePower/1000
}

// TestMixTones: each participant sends its own frequency; each hears every
// other frequency and not its own, and exactly the sum of the others.
func TestMixTones(t *testing.T) {
	freqs := []float64{400, 650, 900, 1150, 1400}
	r := newRig(t, MixerConfig{}, talker, talker, talker, talker, talker)
	gens := tones(freqs...)
	for tick := range 10 {
		in := next(gens)
		out := r.tick(in...)
		for i := range out {
			for k := range frameLen {
				var want int32
				for j := range in {
					if j != i {
						want += int32(in[j][k])
					}
				}
				if int32(out[i][k]) != want {
					t.Fatalf("tick %d: %s sample %d = %d, want %d", tick, r.eps[i].ID(), k, out[i][k], want)
				}
			}
			for j, f := range freqs {
				if j == i && !silentAt(out[i], f) {
					t.Errorf("tick %d: %s hears its own %v Hz", tick, r.eps[i].ID(), f)
				}
				if j != i && !hears(out[i], f) {
					t.Errorf("tick %d: %s does not hear %v Hz", tick, r.eps[i].ID(), f)
				}
			}
		}
	}
}

// TestMixMuted: a muted participant is heard by nobody and hears everyone,
// from the buffer shared by everyone whose voice is not in the mix.
func TestMixMuted(t *testing.T) {
	freqs := []float64{400, 650, 900}
	muted := Flags{Hears: true}
	r := newRig(t, MixerConfig{}, talker, muted, talker, muted)
	gens := tones(append(freqs, 1150)...)
	for range 3 {
		out := r.tick(next(gens)...)
		if !hears(out[0], 900) || !silentAt(out[0], 650) || !silentAt(out[0], 1150) {
			t.Error("A: wants C only")
		}
		if !hears(out[2], 400) || !silentAt(out[2], 650) {
			t.Error("C: wants A only")
		}
		for _, i := range []int{1, 3} {
			if !hears(out[i], 400) || !hears(out[i], 900) || !silentAt(out[i], 650) || !silentAt(out[i], 1150) {
				t.Errorf("%s (muted): wants A and C", r.eps[i].ID())
			}
		}
	}
	if r.eps[1].src != &r.m.full || r.eps[3].src != &r.m.full {
		t.Error("muted listeners do not share the full mix")
	}
	if r.eps[0].src == &r.m.full || r.eps[0].src == r.eps[2].src {
		t.Error("talkers share a buffer")
	}
}

// TestMixSilentTalkers: talkers who said nothing this tick hear the shared
// full mix.
func TestMixSilentTalkers(t *testing.T) {
	r := newRig(t, MixerConfig{}, talker, talker, talker, talker)
	in := next([]*dsp.Generator{dsp.ToneSource([]float64{400}, toneLevel, dsp.Forever), nil, nil, nil})
	// B, C and D send digital silence.
	out := r.tick(in...)
	for i := 1; i < 4; i++ {
		if r.eps[i].src != &r.m.full || !hears(out[i], 400) {
			t.Errorf("%s: not on the shared mix", r.eps[i].ID())
		}
	}
	if !silence(out[0]) {
		t.Error("A hears something")
	}
}

func silence(f []int16) bool {
	for _, v := range f {
		if v != 0 {
			return false
		}
	}
	return true
}

// TestMixWaitingAndHeld: the room's routing applied to the mixer: waiting
// and held participants are not mixed and hear silence from the mixer (the
// owner plays them music).
func TestMixWaitingAndHeld(t *testing.T) {
	room := mustRoom(t, RoomConfig{})
	m := NewMixer(MixerConfig{})
	r := &rig{t: t, m: m}
	calls := []string{callA, callB, callM}
	gens := tones(400, 650, 900)
	for _, c := range calls[:2] {
		if _, err := room.Join(c, attendee, t0); err != nil {
			t.Fatal(err)
		}
		r.eps = append(r.eps, m.Add(c))
	}
	m.Apply(room.Routing())
	out := r.tick(next(gens[:2])...)
	for i, o := range out {
		if !silence(o) {
			t.Errorf("waiting %s hears the mix", r.eps[i].ID())
		}
	}

	if _, err := room.Join(callM, moderator, t0); err != nil {
		t.Fatal(err)
	}
	r.eps = append(r.eps, m.Add(callM))
	if _, err := room.Update(callA, Update{Hold: new(true)}, t0); err != nil {
		t.Fatal(err)
	}
	m.Apply(room.Routing())
	out = r.tick(next(gens)...)
	if !silence(out[0]) {
		t.Error("held A hears the mix")
	}
	if !hears(out[1], 900) || !silentAt(out[1], 400) {
		t.Error("B: wants M only (A is held)")
	}
	if !hears(out[2], 650) || !silentAt(out[2], 400) {
		t.Error("M: wants B only (A is held)")
	}
}

// TestMixCoach: a coach is heard only by the participant it coaches, and
// hears everyone.
func TestMixCoach(t *testing.T) {
	room := mustRoom(t, RoomConfig{})
	m := NewMixer(MixerConfig{})
	r := &rig{t: t, m: m}
	// A customer, B agent, C coach of B; D a muted listener.
	joins := []struct {
		call string
		o    Options
	}{{callA, Options{}}, {callB, Options{}}, {callC, Options{Coach: callB}}, {callD, Options{Muted: true}}}
	for _, j := range joins {
		if _, err := room.Join(j.call, j.o, t0); err != nil {
			t.Fatal(err)
		}
		r.eps = append(r.eps, m.Add(j.call))
	}
	m.Apply(room.Routing())
	gens := tones(400, 650, 900, 1150)
	for range 3 {
		out := r.tick(next(gens)...)
		checkHears(t, "A (customer)", out[0], []float64{650}, []float64{400, 900, 1150})
		checkHears(t, "B (agent)", out[1], []float64{400, 900}, []float64{650, 1150})
		checkHears(t, "C (coach)", out[2], []float64{400, 650}, []float64{900, 1150})
		checkHears(t, "D (listener)", out[3], []float64{400, 650}, []float64{900, 1150})
	}

	// B on hold: nobody hears the coach.
	if _, err := room.Update(callB, Update{Hold: new(true)}, t0); err != nil {
		t.Fatal(err)
	}
	m.Apply(room.Routing())
	out := r.tick(next(gens)...)
	for i, o := range out {
		if !silentAt(o, 900) {
			t.Errorf("%s hears the coach of a held participant", r.eps[i].ID())
		}
	}

	// B leaves: the coach talks to nobody, even once the mixer forgets B.
	if _, err := room.Leave(callB, LeaveHungUp, t0); err != nil {
		t.Fatal(err)
	}
	m.Remove(r.eps[1])
	m.Apply(room.Routing())
	in := next(gens)
	for i, e := range r.eps {
		if i != 1 {
			e.WriteFrame(in[i])
		}
	}
	m.Mix()
	for i, e := range r.eps {
		o := make([]int16, frameLen)
		err := e.ReadFrame(o)
		if i == 1 {
			if !errors.Is(err, io.EOF) {
				t.Errorf("removed B: ReadFrame %v, want EOF", err)
			}
			continue
		}
		if !silentAt(o, 900) {
			t.Errorf("%s hears the coach of a participant who left", e.ID())
		}
	}
}

func checkHears(t *testing.T, who string, frame []int16, yes, no []float64) {
	t.Helper()
	for _, f := range yes {
		if !hears(frame, f) {
			t.Errorf("%s does not hear %v Hz", who, f)
		}
	}
	for _, f := range no {
		if !silentAt(frame, f) {
			t.Errorf("%s hears %v Hz", who, f)
		}
	}
}

// TestMixTwoCoaches: two coaches of one participant, who also talks: it hears
// the others and both coaches, not itself.
func TestMixTwoCoaches(t *testing.T) {
	r := newRig(t, MixerConfig{}, talker, talker, talker, talker)
	r.eps[2].Set(Flags{Talks: true, Hears: true, Coach: r.eps[1]})
	r.eps[3].Set(Flags{Talks: true, Hears: true, Coach: r.eps[1]})
	out := r.tick(next(tones(400, 650, 900, 1150))...)
	checkHears(t, "A", out[0], []float64{650}, []float64{400, 900, 1150})
	checkHears(t, "B (coached twice)", out[1], []float64{400, 900, 1150}, []float64{650})
	checkHears(t, "C (coach)", out[2], []float64{400, 650}, []float64{900, 1150})
}

// TestMixExclude: a talker excluded from one listener (the join beep, kept
// from the participant joining) is heard by everyone else; the listener
// still hears the others and, when it talks too, never itself; Exclude(nil)
// lets it hear again.
func TestMixExclude(t *testing.T) {
	r := newRig(t, MixerConfig{}, talker, talker, talker, talker)
	beep, joiner := r.eps[3], r.eps[1]
	beep.Exclude(joiner)
	gens := tones(400, 650, 900, 1150)
	out := r.tick(next(gens)...)
	checkHears(t, "A", out[0], []float64{650, 900, 1150}, []float64{400})
	checkHears(t, "B (joining)", out[1], []float64{400, 900}, []float64{650, 1150})
	checkHears(t, "C", out[2], []float64{400, 650, 1150}, []float64{900})
	// Excluded from a coached listener: coach heard, beep not.
	r.eps[2].Set(Flags{Talks: true, Hears: true, Coach: joiner})
	out = r.tick(next(gens)...)
	checkHears(t, "B (joining, coached)", out[1], []float64{400, 900}, []float64{650, 1150})
	checkHears(t, "A", out[0], []float64{650, 1150}, []float64{400, 900})
	beep.Exclude(nil)
	out = r.tick(next(gens)...)
	checkHears(t, "B after the beep", out[1], []float64{400, 900, 1150}, []float64{650})
}

// TestMixSaturation: sums beyond 16 bits clip at full scale instead of
// wrapping around.
func TestMixSaturation(t *testing.T) {
	listener := Flags{Hears: true}
	r := newRig(t, MixerConfig{}, talker, talker, talker, listener)
	constant := func(v int16) []int16 {
		f := make([]int16, frameLen)
		for i := range f {
			f[i] = v
		}
		return f
	}
	for _, tt := range []struct {
		in        int16
		own, full int16
	}{
		{30000, 32767, 32767},
		{-30000, -32768, -32768},
		{-32768, -32768, -32768},
		{12000, 24000, 32767},
		{-12000, -24000, -32768},
		{10000, 20000, 30000},
	} {
		out := r.tick(constant(tt.in), constant(tt.in), constant(tt.in))
		for i, o := range out {
			want := tt.own
			if i == 3 {
				want = tt.full
			}
			for k, v := range o {
				if v != want {
					t.Fatalf("input %d: %s sample %d = %d, want %d", tt.in, r.eps[i].ID(), k, v, want)
				}
			}
		}
	}
}

// TestMixSinkNotCalled: a participant whose sink was not called in a tick
// counts as silence in it; its frame of the tick before is not used again.
func TestMixSinkNotCalled(t *testing.T) {
	r := newRig(t, MixerConfig{}, talker, talker, Flags{Hears: true})
	gens := tones(400, 650)
	in := next(gens)
	out := r.tick(in[0], in[1])
	if !hears(out[1], 400) || !hears(out[2], 400) {
		t.Fatal("A not heard at first")
	}
	if r.eps[0].Power() == 0 {
		t.Error("A has no power")
	}
	in = next(gens)
	out = r.tick(nil, in[1]) // A's sink is not called
	if !silentAt(out[1], 400) || !silentAt(out[2], 400) {
		t.Error("A heard in a tick it said nothing")
	}
	if !hears(out[0], 650) || !hears(out[2], 650) {
		t.Error("B not heard")
	}
	if r.eps[0].Power() != 0 {
		t.Errorf("A's power %d in a tick it said nothing", r.eps[0].Power())
	}
	out = r.tick() // nobody's
	for i, o := range out {
		if !silence(o) {
			t.Errorf("%s hears something in a silent tick", r.eps[i].ID())
		}
	}
}

// TestEndpointLifecycle: what ReadFrame gives before the first Mix, twice in
// a tick, and after Remove; a short frame is padded.
func TestEndpointLifecycle(t *testing.T) {
	m := NewMixer(MixerConfig{Capacity: 2})
	a, b := m.Add("A"), m.Add("B")
	a.Set(talker)
	b.Set(Flags{Hears: true})
	f := make([]int16, frameLen)
	for i := range f {
		f[i] = 7
	}
	if err := b.ReadFrame(f); err != nil || !silence(f) {
		t.Fatalf("before the first Mix: %v %v", err, f[:4])
	}
	a.WriteFrame([]int16{1, 2, 3}) // short: the rest is silence
	m.Mix()
	if err := b.ReadFrame(f); err != nil || f[0] != 1 || f[2] != 3 || !silence(f[3:]) {
		t.Fatalf("after Mix: %v %v", err, f[:4])
	}
	if err := b.ReadFrame(f); err != nil || !silence(f) {
		t.Fatalf("second read in a tick: %v %v", err, f[:4])
	}
	m.Remove(b)
	m.Remove(b) // twice is harmless
	m.Remove(nil)
	NewMixer(MixerConfig{}).Remove(a) // not its mixer: ignored
	if err := b.ReadFrame(f); err != nil {
		t.Fatalf("removed but before Mix: %v", err)
	}
	m.Mix()
	if err := b.ReadFrame(f); !errors.Is(err, io.EOF) {
		t.Fatalf("after removal: %v, want EOF", err)
	}
	if err := b.WriteFrame(f); err != nil {
		t.Fatalf("WriteFrame after removal: %v", err)
	}
	// Removed before it ever joined the mix.
	c := m.Add("C")
	m.Remove(c)
	m.Mix()
	if err := c.ReadFrame(f); !errors.Is(err, io.EOF) {
		t.Fatalf("removed before joining: %v", err)
	}
	if len(m.live) != 1 || m.live[0] != a || a.idx != 0 {
		t.Fatalf("live %v", m.live)
	}
}

// TestSetCoachElsewhere: a coach of another mixer's endpoint, or of itself,
// talks to nobody.
func TestSetCoachElsewhere(t *testing.T) {
	r := newRig(t, MixerConfig{}, talker, talker, Flags{Hears: true})
	other := NewMixer(MixerConfig{}).Add("X")
	r.eps[0].Set(Flags{Talks: true, Hears: true, Coach: other})
	r.eps[1].Set(Flags{Talks: true, Hears: true, Coach: r.eps[1]})
	out := r.tick(next(tones(400, 650))...)
	for i, o := range out {
		if !silence(o) {
			t.Errorf("%s hears a misrouted coach", r.eps[i].ID())
		}
	}
	// Apply: a coach of a call without an endpoint talks to nobody.
	r.m.Apply([]Route{{CallSID: "A", Role: RoleMixed, Talks: true, Hears: true, CoachOf: "nobody"}, {CallSID: "unknown"}})
	out = r.tick(next(tones(400, 650))...)
	if !silentAt(out[2], 400) || !silentAt(out[1], 400) {
		t.Error("a coach of nobody is heard")
	}
}

// TestMixOnInput: the input hook sees every endpoint's frame and power each
// tick, muted ones' too, and silence for a sink not called; the power reads
// as the tone's level.
func TestMixOnInput(t *testing.T) {
	type call struct {
		id    string
		n     int
		power uint32
	}
	var got []call
	r := newRig(t, MixerConfig{OnInput: func(id string, frame []int16, power uint32) {
		got = append(got, call{id, len(frame), power})
	}}, talker, Flags{Hears: true}, talker, Flags{Talks: true, Hears: true})
	in := next([]*dsp.Generator{dsp.ToneSource([]float64{400}, toneLevel, dsp.Forever), dsp.ToneSource([]float64{650}, toneLevel, dsp.Forever), nil})
	r.tick(in[0], in[1], in[2]) // C sends digital silence, D's sink is not called
	if len(got) != 4 || got[0].id != "A" || got[1].id != "B" || got[2].id != "C" || got[3].id != "D" {
		t.Fatalf("hook calls %+v, want A, B, C, D", got)
	}
	if got[2].power != 0 || got[3].power != 0 || got[3].n != frameLen {
		t.Errorf("silent inputs: %+v", got[2:])
	}
	for _, c := range got[:2] {
		if db := PowerDBFS(c.power); math.Abs(db-toneLevel) > 0.1 {
			t.Errorf("%s at %.2f dBFS, want %d", c.id, db, toneLevel)
		}
	}
	for i, c := range got {
		if r.eps[i].Power() != c.power {
			t.Errorf("%s: Power() = %d, hook got %d", c.id, r.eps[i].Power(), c.power)
		}
	}
	if !math.IsInf(PowerDBFS(0), -1) {
		t.Error("PowerDBFS(0) is not -Inf")
	}
}

// TestMixAllocs: a steady-state tick (every sink, Mix, every source)
// allocates nothing, with coaches, an excluded talker, an input hook and
// changes of flags.
func TestMixAllocs(t *testing.T) {
	const n = 250
	var hooked int
	m := NewMixer(MixerConfig{OnInput: func(string, []int16, uint32) { hooked++ }})
	eps := make([]*Endpoint, n)
	in := make([][]int16, n)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range eps {
		eps[i] = m.Add(string(rune(i)))
		eps[i].Set(talker)
		in[i] = make([]int16, frameLen)
		for k := range in[i] {
			in[i][k] = int16(rnd.IntN(2000) - 1000)
		}
	}
	eps[1].Set(Flags{Talks: true, Hears: true, Coach: eps[0]})
	eps[2].Set(Flags{Hears: true})
	eps[4].Exclude(eps[5])
	out := make([]int16, frameLen)
	tick := func() {
		for i, e := range eps {
			e.WriteFrame(in[i])
		}
		m.Mix()
		for _, e := range eps {
			e.ReadFrame(out)
		}
	}
	tick()
	if a := testing.AllocsPerRun(100, tick); a != 0 {
		t.Errorf("%v allocations per tick", a)
	}
	// Flags changed between ticks: applying them allocates nothing either.
	if a := testing.AllocsPerRun(100, func() {
		eps[3].Set(Flags{Hears: true})
		tick()
	}); a != 0 {
		t.Errorf("%v allocations per tick with a change of flags", a)
	}
	if hooked == 0 {
		t.Error("hook not called")
	}
}

// TestMixConcurrent: endpoints are added, routed and removed from another
// goroutine while a pacer goroutine mixes (run with -race).
func TestMixConcurrent(t *testing.T) {
	m := NewMixer(MixerConfig{Capacity: 8})
	var (
		mu       sync.Mutex
		attached []*Endpoint // what the "sessions" use: handed over as SetSink/Play would
		stop     = make(chan struct{})
		ended    = make(map[*Endpoint]bool)
	)
	pacerDone := make(chan struct{})
	go func() { // the pacer
		defer close(pacerDone)
		var mine []*Endpoint
		in := make([]int16, frameLen)
		out := make([]int16, frameLen)
		gen := dsp.ToneSource([]float64{400}, toneLevel, dsp.Forever)
		for {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			mine = append(mine[:0], attached...)
			mu.Unlock()
			gen.ReadFrame(in)
			for _, e := range mine {
				e.WriteFrame(in)
			}
			m.Mix()
			for _, e := range mine {
				if err := e.ReadFrame(out); errors.Is(err, io.EOF) {
					mu.Lock()
					ended[e] = true
					mu.Unlock()
				}
			}
		}
	}()

	rnd := rand.New(rand.NewPCG(3, 4))
	var live []*Endpoint
	deadline := time.Now().Add(300 * time.Millisecond)
	var removed []*Endpoint
	for i := 0; time.Now().Before(deadline) || i < 500; i++ {
		switch op := rnd.IntN(5); {
		case op == 0 || len(live) < 2:
			e := m.Add(string(rune('a' + i%26)))
			e.Set(talker)
			mu.Lock()
			attached = append(attached, e)
			mu.Unlock()
			live = append(live, e)
		case op == 1:
			k := rnd.IntN(len(live))
			m.Remove(live[k])
			removed = append(removed, live[k])
			live = append(live[:k], live[k+1:]...)
		case op == 2:
			live[rnd.IntN(len(live))].Set(Flags{Talks: true, Hears: true, Coach: live[rnd.IntN(len(live))]})
		case op == 3:
			routes := make([]Route, len(live))
			for k, e := range live {
				routes[k] = Route{CallSID: e.ID(), Role: RoleMixed, Talks: k%2 == 0, Hears: true}
			}
			m.Apply(routes)
		default:
			_ = live[rnd.IntN(len(live))].Power()
		}
	}
	// Every removed endpoint ends its Play within a few ticks.
	waitFor := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := 0
		for _, e := range removed {
			if ended[e] {
				n++
			}
		}
		mu.Unlock()
		if n == len(removed) {
			break
		}
		if time.Now().After(waitFor) {
			t.Fatalf("%d of %d removed endpoints still give audio", len(removed)-n, len(removed))
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	<-pacerDone
	if len(removed) == 0 {
		t.Fatal("nothing was removed")
	}
}
