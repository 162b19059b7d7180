package media

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// Defaults of EngineConfig.
const (
	DefaultPortMin           = 10000
	DefaultPortMax           = 20000
	DefaultInactivityTimeout = 60 * time.Second
)

// maxCatchUp is how many overdue ticks the pacer services back to back after a
// stall (GC, an overloaded machine) before it gives up on the older ones: a burst
// of up to 100 ms is better than a hole, a longer burst would only arrive late at
// the far end's jitter buffer.
const maxCatchUp = 5

// EngineConfig configures an Engine.
type EngineConfig struct {
	// IP is the address RTP sockets bind to and that the SIP layer advertises in
	// SDP (127.0.0.1 in tests). Required.
	IP netip.Addr
	// PortMin and PortMax bound the UDP ports used; a session takes an even RTP
	// port and the odd port above it for RTCP. Both zero means 10000-20000.
	PortMin, PortMax int
	// InactivityTimeout ends a session (Err() == ErrInactive) when no RTP has
	// been received for this long while the session is SendRecv. Zero means 60 s;
	// negative disables the timeout.
	InactivityTimeout time.Duration
	// JitterTarget and JitterMax set each session's JitterBuffer; zero means
	// DefaultJitterTarget and DefaultJitterMax.
	JitterTarget, JitterMax time.Duration
	// Clock paces the media; nil means clock.Real.
	Clock clock.Clock
	// Logger receives the engine's diagnostics; nil discards them.
	Logger *slog.Logger
}

// An Engine owns a range of RTP ports and one pacer: a single goroutine that
// ticks every 20 ms on the (monotonic) clock and services every session on each
// tick, so that thousands of sessions cost one timer, not thousands.
type Engine struct {
	cfg          EngineConfig
	clock        clock.Clock
	log          *slog.Logger
	ports        *portAllocator
	timeoutTicks uint64
	reader       datagramReader // of RTCP sockets
	rxBufs       *recvBuffers   // the pacer's, for reading RTP sockets

	start     time.Time // tick k is due at start + k*FrameDuration
	quit      chan struct{}
	pacerDone chan struct{}
	closeOnce sync.Once
	tickNow   atomic.Uint64 // the tick being serviced (or last serviced)
	processed atomic.Uint64 // the last tick fully serviced
	skipped   atomic.Uint64 // ticks given up after stalls
	onTick    func(tick uint64)
	poke      chan struct{} // makes the pacer read every socket between ticks (tests)

	// hooks is the tick hooks, copied on write (nil for none); hooksMu
	// serializes AddTickHook and the removals and is held by the pacer while
	// it calls the hooks, so that once a removal returns the hook is not
	// called again.
	hooksMu sync.Mutex
	hooks   atomic.Pointer[[]*tickHook]

	// mu guards the fields below.
	mu       sync.Mutex
	sessions []*Session
	closed   bool

	// Pacer-only state.
	scratch pacerScratch
	rxNow   time.Time // when the sockets are read, on e.clock
	rxWall  time.Time // the same on the wall clock, for kernel receive timestamps
	tick    uint64
	list    []*Session
	ending  []*Session
}

// NewEngine validates cfg, fills in defaults and starts the pacer.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	return newEngine(cfg, nil)
}

// newEngine lets tests observe each serviced tick.
func newEngine(cfg EngineConfig, onTick func(uint64)) (*Engine, error) {
	if !cfg.IP.IsValid() || cfg.IP.IsUnspecified() {
		return nil, fmt.Errorf("engine ip %v is not an address to bind and advertise: %w", cfg.IP, ErrBadConfig)
	}
	cfg.IP = cfg.IP.Unmap()
	if cfg.PortMin == 0 && cfg.PortMax == 0 {
		cfg.PortMin, cfg.PortMax = DefaultPortMin, DefaultPortMax
	}
	ports, err := newPortAllocator(cfg.IP, cfg.PortMin, cfg.PortMax)
	if err != nil {
		return nil, err
	}
	if cfg.InactivityTimeout == 0 {
		cfg.InactivityTimeout = DefaultInactivityTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		cfg:       cfg,
		clock:     cfg.Clock,
		log:       cfg.Logger,
		ports:     ports,
		reader:    goroutineReader{},
		rxBufs:    newRecvBuffers(),
		poke:      make(chan struct{}, 1),
		quit:      make(chan struct{}),
		pacerDone: make(chan struct{}),
		onTick:    onTick,
	}
	if cfg.InactivityTimeout > 0 {
		e.timeoutTicks = uint64((cfg.InactivityTimeout + FrameDuration - 1) / FrameDuration)
	}
	e.start = e.clock.Now()
	ticker := e.clock.NewTicker(FrameDuration)
	go e.pace(ticker)
	return e, nil
}

// pace is the pacer goroutine. Deadlines are computed from the start time, not
// from the previous tick, so the media never drifts: after n*20 ms exactly n
// frames have been serviced, however late individual ticks were delivered (a
// late tick services every frame that has come due, up to maxCatchUp).
func (e *Engine) pace(t clock.Ticker) {
	defer close(e.pacerDone)
	defer t.Stop()
	for {
		select {
		case <-e.quit:
			return
		case <-e.poke:
			e.pollAll()
			continue
		case <-t.C():
		}
		due := uint64(e.clock.Now().Sub(e.start) / FrameDuration)
		if due <= e.tick {
			continue
		}
		if n := due - e.tick; n > maxCatchUp {
			skip := n - maxCatchUp
			e.skipTicks(skip)
			e.tick += skip
			e.skipped.Add(skip)
			e.log.Warn("media pacer fell behind; dropped ticks", "ticks", skip)
		}
		for e.tick < due {
			e.tick++
			e.service(e.tick)
		}
		e.processed.Store(e.tick)
		if e.onTick != nil {
			e.onTick(e.tick)
		}
	}
}

// snapshot copies the live sessions into the pacer's reused slice.
func (e *Engine) snapshot() []*Session {
	e.mu.Lock()
	e.list = append(e.list[:0], e.sessions...)
	e.mu.Unlock()
	return e.list
}

// service runs tick k for every session: first every session's receive side
// (jitter buffer playout to its sink and taps), then the tick hooks, then every
// session's send side (its source to RTP, and to its taps). Consumers that
// connect sessions (a bridge, a mixer) therefore see all of this tick's
// received audio before any of this tick's audio is sent.
func (e *Engine) service(k uint64) {
	e.tickNow.Store(k)
	e.rxNow, e.rxWall = e.clock.Now(), time.Now()
	list := e.snapshot()
	for _, s := range list {
		if s.receiveTick(k) {
			e.ending = append(e.ending, s)
		}
	}
	if e.hooks.Load() != nil {
		e.runHooks(k)
	}
	for _, s := range list {
		s.sendTick()
	}
	for _, s := range e.ending {
		s.end(ErrInactive)
	}
	clear(e.ending)
	e.ending = e.ending[:0]
	clear(list)
}

// A tickHook is one AddTickHook registration (a func is not comparable, its
// pointer is).
type tickHook struct{ f func(tick uint64) }

// AddTickHook registers f to run on the pacer goroutine in every tick, after
// every session's receive phase and before any session's send phase: where a
// mixer computes its mix, from what its participants' taps or sinks got in the
// receive phase, for its Sources to hand out in the send phase. tick is the
// number of the tick (they count 20 ms frames since the engine started; ticks
// given up after a stall are skipped).
//
// The returned function removes the hook; once it returns, f is not called
// again. Calling it again does nothing. f must return promptly and must not
// call AddTickHook or a remove function of this engine (the engine's hook lock
// is held while hooks run; from f, remove with `go remove()`). No session lock
// is held: f may call SetSink, AddTap, RemoveTap, Close and Play(ctx, nil) of
// any session (not a Play that waits for its source: that needs the pacer).
func (e *Engine) AddTickHook(f func(tick uint64)) (remove func()) {
	h := &tickHook{f: f}
	e.hooksMu.Lock()
	var cur []*tickHook
	if p := e.hooks.Load(); p != nil {
		cur = *p
	}
	// Copy on write: the pacer may be reading the old slice.
	next := make([]*tickHook, len(cur), len(cur)+1)
	copy(next, cur)
	next = append(next, h)
	e.hooks.Store(&next)
	e.hooksMu.Unlock()
	return func() {
		e.hooksMu.Lock()
		defer e.hooksMu.Unlock()
		p := e.hooks.Load()
		if p == nil {
			return
		}
		i := slices.Index(*p, h)
		if i < 0 {
			return
		}
		if len(*p) == 1 {
			e.hooks.Store(nil)
			return
		}
		next := slices.Delete(slices.Clone(*p), i, i+1)
		e.hooks.Store(&next)
	}
}

// runHooks calls the tick hooks (the pacer, between the phases of tick k).
func (e *Engine) runHooks(k uint64) {
	e.hooksMu.Lock()
	if p := e.hooks.Load(); p != nil {
		for _, h := range *p {
			h.f(k)
		}
	}
	e.hooksMu.Unlock()
}

// pollNow asks the pacer to read every session's socket before the next tick,
// as a tick's receive phase does. Tests on a fake clock use it to see datagrams
// handled without advancing the clock.
func (e *Engine) pollNow() {
	select {
	case e.poke <- struct{}{}:
	default:
	}
}

// pollAll reads every session's socket.
func (e *Engine) pollAll() {
	e.rxNow, e.rxWall = e.clock.Now(), time.Now()
	for _, s := range e.snapshot() {
		s.mu.Lock()
		if s.err == nil {
			s.sock.poll(e.rxBufs, e.rxWall, s.polled)
		}
		s.mu.Unlock()
	}
	clear(e.list)
}

func (e *Engine) skipTicks(n uint64) {
	for _, s := range e.snapshot() {
		s.skip(n)
	}
	clear(e.list)
}

func (e *Engine) remove(s *Session) {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := s.idx
	if i < 0 || i >= len(e.sessions) || e.sessions[i] != s {
		return
	}
	last := len(e.sessions) - 1
	e.sessions[i] = e.sessions[last]
	e.sessions[i].idx = i
	e.sessions[last] = nil
	e.sessions = e.sessions[:last]
	s.idx = -1
}

// NewSession binds a free RTP/RTCP port pair from the range and returns a
// session on it, sending nothing until SetRemote.
func (e *Engine) NewSession() (*Session, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	port, rtpSock, rtcpConn, err := e.ports.acquire()
	if err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	s := newSession(e, port, rtpSock, rtcpConn)
	s.idx = len(e.sessions)
	e.sessions = append(e.sessions, s)
	s.sock.start(s)
	// RTCP is rare (one packet every few seconds, if any) and only counted:
	// a goroutine blocked on the socket costs no CPU.
	s.readers.Add(1)
	e.reader.start(rtcpConn, s.rtcpBuf[:], s.handleRTCP, s.readers.Done)
	return s, nil
}

// ActiveSessions returns the number of live sessions.
func (e *Engine) ActiveSessions() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.sessions)
}

// Close stops the pacer and closes every session (their Err becomes ErrClosed).
// It waits until every goroutine of the engine has returned, so it must not be
// called from a Source or Sink (they run on the pacer).
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		close(e.quit)
		<-e.pacerDone
		e.mu.Lock()
		all := append([]*Session(nil), e.sessions...)
		e.mu.Unlock()
		for _, s := range all {
			s.Close()
		}
	})
	return nil
}
