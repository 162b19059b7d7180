package conference

import (
	"io"
	"math"
	"sync"
	"sync/atomic"

	"github.com/switchboard-voice/switchboard/internal/media"
)

// frameLen is the number of samples of a tick's frame.
const frameLen = media.FrameSamples

// frame is one tick of audio.
type frame = [frameLen]int16

// MixerConfig configures a Mixer.
type MixerConfig struct {
	// Capacity is how many endpoints the mixer preallocates for; more may
	// be added (Add then allocates). Zero means MaxParticipants.
	Capacity int
	// OnInput, when not nil, is called by Mix once per tick for every
	// endpoint in the mix, muted or not, with what it said this tick
	// (silence when its sink was not called) and the frame's power (see
	// Endpoint.Power): where a voice activity detector is fed. It runs on
	// the mixing goroutine (the media pacer): it must return promptly and
	// never block, must neither modify nor retain frame, and must not call
	// Mix.
	OnInput func(id string, frame []int16, power uint32)
}

// Flags route one endpoint's audio.
type Flags struct {
	// Talks: what the endpoint says is mixed.
	Talks bool
	// Hears: the endpoint hears the mix (otherwise ReadFrame gives silence:
	// the owner plays wait or hold music to the leg instead).
	Hears bool
	// Coach, when not nil, makes the endpoint a coach of that endpoint: what
	// it says goes to Coach's output only (while Coach is in the mixer and
	// hears), and to nobody else. A coach hears the mix like anyone.
	Coach *Endpoint
}

// A Mixer mixes the audio of one room, one 20 ms tick at a time: every
// endpoint that hears gets the sum of everyone who talks except itself
// ("mix-minus"), plus what its coaches say; see the package documentation
// for who calls what from which goroutine.
type Mixer struct {
	onInput func(id string, frame []int16, power uint32)

	// dirty says pending or some endpoint's want changed since Mix last
	// applied them.
	dirty atomic.Bool

	// mu guards pending, byID and every endpoint's want; Mix holds it
	// while it applies them.
	mu      sync.Mutex
	pending []pendingOp
	byID    map[string]*Endpoint

	// Mixing-goroutine state.
	live    []*Endpoint
	coaches []*Endpoint // coaches heard this tick
	hidden  []*Endpoint // talkers heard this tick that one listener must not hear
	custom  []*Endpoint // endpoints that hear a mix of their own this tick
	sum     [frameLen]int32
	acc     [frameLen]int32
	full    frame // the sum of every talker, for those whose voice is not in it
	zero    frame
}

type pendingOp struct {
	e   *Endpoint
	add bool
}

// An Endpoint is one participant's connection to a Mixer: a media.Sink that
// takes what the participant says (WriteFrame, in the receive phase of a
// tick) and a media.Source that gives what it hears (ReadFrame, in the send
// phase, after Mix).
type Endpoint struct {
	m  *Mixer
	id string

	// Mixing-goroutine state.
	idx     int // in m.live; -1 when not live
	written bool
	fresh   bool // Mix produced an output not yet read
	removed bool
	contrib bool // its voice is in m.sum this tick
	custom  bool // in m.custom: a coach talks to it, or a talker is hidden from it
	cur     Flags
	// exclude is the listener that must not hear this endpoint (Exclude).
	exclude *Endpoint
	src     *frame // what ReadFrame gives this tick
	in      frame
	out     frame

	power atomic.Uint32

	// want is the Flags to apply at the next Mix; guarded by m.mu.
	want Flags
}

var (
	_ media.Sink   = (*Endpoint)(nil)
	_ media.Source = (*Endpoint)(nil)
)

// NewMixer returns an empty mixer.
func NewMixer(cfg MixerConfig) *Mixer {
	if cfg.Capacity <= 0 {
		cfg.Capacity = MaxParticipants
	}
	return &Mixer{
		onInput: cfg.OnInput,
		pending: make([]pendingOp, 0, cfg.Capacity),
		byID:    make(map[string]*Endpoint, cfg.Capacity),
		live:    make([]*Endpoint, 0, cfg.Capacity),
		coaches: make([]*Endpoint, 0, cfg.Capacity),
		hidden:  make([]*Endpoint, 0, cfg.Capacity),
		custom:  make([]*Endpoint, 0, cfg.Capacity),
	}
}

// Add returns a new endpoint named id (a call SID), which neither talks nor
// hears until Set or Apply say so. It joins the mix at the start of the next
// Mix. Safe to call from any goroutine.
func (m *Mixer) Add(id string) *Endpoint {
	e := &Endpoint{m: m, id: id, idx: -1}
	m.mu.Lock()
	m.byID[id] = e
	m.pending = append(m.pending, pendingOp{e: e, add: true})
	m.mu.Unlock()
	m.dirty.Store(true)
	return e
}

// Remove takes e out of the mix at the start of the next Mix; from then on
// its ReadFrame returns io.EOF (a Play of it ends) and what WriteFrame gets
// is ignored. Safe to call from any goroutine; removing twice does nothing
// more.
func (m *Mixer) Remove(e *Endpoint) {
	if e == nil || e.m != m {
		return
	}
	m.mu.Lock()
	if m.byID[e.id] == e {
		delete(m.byID, e.id)
	}
	m.pending = append(m.pending, pendingOp{e: e})
	m.mu.Unlock()
	m.dirty.Store(true)
}

// Apply sets the Flags of every endpoint named in routes (by call SID, as
// Room.Routing gives them) at once; they take effect at the start of the
// next Mix. A coach whose coached participant has no endpoint talks to
// nobody. Routes of unknown calls are ignored. Safe to call from any
// goroutine.
func (m *Mixer) Apply(routes []Route) {
	m.mu.Lock()
	for _, r := range routes {
		e := m.byID[r.CallSID]
		if e == nil {
			continue
		}
		f := Flags{Talks: r.Talks, Hears: r.Hears}
		if r.CoachOf != "" {
			f.Coach = m.byID[r.CoachOf]
			if f.Coach == nil || f.Coach == e {
				f.Coach, f.Talks = nil, false
			}
		}
		e.want = f
	}
	m.mu.Unlock()
	m.dirty.Store(true)
}

// ID returns the name the endpoint was added with.
func (e *Endpoint) ID() string { return e.id }

// Set routes the endpoint from the next Mix on. A Coach of another mixer, or
// the endpoint itself, makes it talk to nobody. Safe to call from any
// goroutine.
func (e *Endpoint) Set(f Flags) {
	if f.Coach != nil && (f.Coach.m != e.m || f.Coach == e) {
		f.Coach, f.Talks = nil, false
	}
	e.m.mu.Lock()
	e.want = f
	e.m.mu.Unlock()
	e.m.dirty.Store(true)
}

// Exclude keeps what the endpoint says from one listener (nil: from nobody)
// until changed: the room's beep, which the participant joining does not
// hear. It must be called on the mixing goroutine, before Mix, like
// WriteFrame.
func (e *Endpoint) Exclude(listener *Endpoint) { e.exclude = listener }

// Power returns the power of what the endpoint said in the last tick mixed,
// whether it talks or is muted: the mean square of its samples (0 for
// digital silence or a tick its sink was not called in, about 2^29 for a
// full-scale sine; PowerDBFS converts it). Safe to call from any goroutine.
func (e *Endpoint) Power() uint32 { return e.power.Load() }

// PowerDBFS converts a power (a mean square, as Endpoint.Power gives it) to
// dBFS on the AES17 scale of package dsp: a full-scale sine is 0 dBFS,
// silence -Inf.
func PowerDBFS(power uint32) float64 {
	return 10 * math.Log10(2*float64(power)/(math.MaxInt16*math.MaxInt16))
}

// WriteFrame takes what the participant said this tick (the receive phase);
// a short frame is padded with silence. It must be called on the mixing
// goroutine, before Mix; an endpoint whose WriteFrame was not called in a
// tick counts as silent in it.
func (e *Endpoint) WriteFrame(f []int16) error {
	n := copy(e.in[:], f)
	if n < frameLen {
		clear(e.in[n:])
	}
	e.written = true
	return nil
}

// ReadFrame gives what the participant hears this tick (the send phase): its
// mix, or silence when it does not hear or Mix has not run since the last
// ReadFrame. After the endpoint was removed it returns io.EOF. It must be
// called on the mixing goroutine, after Mix.
func (e *Endpoint) ReadFrame(f []int16) error {
	if e.removed {
		return io.EOF
	}
	if !e.fresh || e.src == nil {
		clear(f)
		return nil
	}
	e.fresh = false
	n := copy(f, e.src[:])
	clear(f[n:])
	return nil
}

// Mix mixes one tick: it applies the Adds, Removes and Flags made since the
// last Mix, takes what every endpoint said (WriteFrame, since the last Mix)
// and prepares what every endpoint hears (ReadFrame, until the next Mix). It
// must be called on the mixing goroutine, once per tick, between the receive
// and the send phase (media.Engine.AddTickHook). It allocates nothing.
//
// Everyone who talks and said something (a frame not all zeros) is summed
// once, in 32 bits. A listener whose own voice is in the sum hears the sum
// minus its voice, saturated to 16 bits, in its own buffer; every other
// listener (muted, silent this tick, a coach) hears the same saturated sum
// from one shared buffer. A listener with a coach talking to it gets its own
// buffer with the coach's voice added before saturation, and so does one
// from whom a talker is hidden (Exclude), with that talker's voice taken out.
func (m *Mixer) Mix() {
	if m.dirty.Load() {
		m.apply()
	}
	sum := &m.sum
	*sum = [frameLen]int32{}
	clear(m.coaches)
	m.coaches = m.coaches[:0]
	clear(m.hidden)
	m.hidden = m.hidden[:0]
	clear(m.custom)
	m.custom = m.custom[:0]
	for _, e := range m.live {
		e.contrib, e.custom = false, false
	}
	for _, e := range m.live {
		written := e.written
		e.written = false
		var sq uint64
		switch {
		case !written: // silence
		case e.cur.Talks && e.cur.Coach == nil:
			sq = accumulate(sum, &e.in)
			e.contrib = sq != 0
			if l := e.exclude; e.contrib && l != nil && l.m == m && l.idx >= 0 && l.cur.Hears {
				m.hidden = append(m.hidden, e)
				m.needsOwn(l)
			}
		default:
			sq = energy(&e.in)
			if c := e.cur.Coach; c != nil && e.cur.Talks && sq != 0 && c.idx >= 0 && c.cur.Hears {
				m.coaches = append(m.coaches, e)
				m.needsOwn(c)
			}
		}
		p := uint32(sq / uint64(frameLen))
		if e.power.Load() != p { // a store is a locked instruction: skip it when it changes nothing
			e.power.Store(p)
		}
		if m.onInput != nil {
			in := &m.zero
			if written {
				in = &e.in
			}
			m.onInput(e.id, in[:], p)
		}
	}
	saturate(&m.full, sum)
	for _, e := range m.live {
		e.fresh = true
		switch {
		case !e.cur.Hears:
			e.src = &m.zero
		case e.custom:
			e.src = &e.out // below
		case e.contrib:
			mixMinus(&e.out, sum, &e.in)
			e.src = &e.out
		default:
			e.src = &m.full
		}
	}
	for _, t := range m.custom {
		acc := &m.acc
		*acc = *sum
		if t.contrib {
			subtract(acc, &t.in)
		}
		for _, c := range m.coaches {
			if c.cur.Coach == t {
				add(acc, &c.in)
			}
		}
		for _, h := range m.hidden {
			if h.exclude == t {
				subtract(acc, &h.in)
			}
		}
		saturate(&t.out, acc)
	}
}

// needsOwn marks a listener as hearing a mix of its own this tick.
func (m *Mixer) needsOwn(l *Endpoint) {
	if !l.custom {
		l.custom = true
		m.custom = append(m.custom, l)
	}
}

// apply makes the pending Adds and Removes and every endpoint's Flags
// current.
func (m *Mixer) apply() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dirty.Store(false)
	for i, op := range m.pending {
		e := op.e
		switch {
		case op.add && !e.removed && e.idx < 0:
			e.idx = len(m.live)
			m.live = append(m.live, e)
		case !op.add:
			if e.idx >= 0 {
				last := len(m.live) - 1
				m.live[e.idx] = m.live[last]
				m.live[e.idx].idx = e.idx
				m.live[last] = nil
				m.live = m.live[:last]
				e.idx = -1
			}
			e.removed, e.fresh, e.src = true, false, nil
		}
		m.pending[i] = pendingOp{}
	}
	m.pending = m.pending[:0]
	for _, e := range m.live {
		e.cur = e.want
	}
}
