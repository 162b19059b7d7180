package media

import (
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
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
	// ReadEvery is how often, in ticks, the pacer reads a session's RTP
	// socket: 1 (or 0) every tick; 2 every other tick, which halves the
	// system calls of receiving and plays received audio up to 20 ms later.
	// A session whose jitter buffer target is below ReadEvery ticks is read
	// every tick. (Whatever it is, a socket on which nothing arrived for
	// half a second is read every other tick until something does.)
	ReadEvery int
	// Shards is how many goroutines share the pacer's work, each servicing
	// its own part of the sessions on the same 20 ms schedule, so that the
	// media of many calls spreads over several cores; zero means GOMAXPROCS.
	Shards int
	// NoIOUring sends each RTP packet with its own sendto(2) and reads each
	// socket with its own recvmmsg(2). By default, on Linux, each shard
	// sends a tick's packets, and reads its sockets, through an io_uring,
	// one system call for up to 256 sockets; where io_uring is not
	// available (old kernels, seccomp) the engine falls back to one system
	// call per socket by itself, and says so in its log.
	NoIOUring bool
}

// An Engine owns a range of RTP ports and one pacer that ticks every 20 ms on
// the (monotonic) clock and services every session on each tick, so that
// thousands of sessions cost one timer, not thousands. The pacer's work is
// split among shards (EngineConfig.Shards), each a goroutine with its own
// sessions and tick hooks; a Group keeps related sessions and hooks on one.
type Engine struct {
	cfg          EngineConfig
	clock        clock.Clock
	log          *slog.Logger
	ports        *portAllocator
	timeoutTicks uint64

	start     time.Time // tick k is due at start + k*FrameDuration
	quit      chan struct{}
	pacerDone chan struct{}
	closeOnce sync.Once
	closed    atomic.Bool
	tickNow   atomic.Uint64 // the tick being serviced (or last serviced)
	processed atomic.Uint64 // the last tick fully serviced
	skipped   atomic.Uint64 // ticks given up after stalls
	onTick    func(tick uint64)
	poke      chan struct{} // makes the pacer read every socket between ticks (tests)

	// shards share the sessions; shards[0]'s work is done by the pacer
	// goroutine itself, the others' by a worker goroutine each. rr breaks
	// ties when a shard is picked for a new session or group.
	shards  []*shard
	rr      atomic.Uint32
	workers sync.WaitGroup

	// tickMu is held by the pacer while it services a tick (or reads the
	// sockets between ticks), so that a session moves between shards
	// (Group.Adopt) only while no shard is servicing it.
	tickMu sync.Mutex

	// hooks are the engine-wide tick hooks (AddTickHook): they run once
	// every shard has finished the tick's receive phase.
	hooks hookList

	// Pacer timing (written by the pacer goroutine only).
	late, tickTime, engineHooks liveHist

	// Pacer-only state.
	rxNow  time.Time // when the sockets are read, on e.clock
	rxWall time.Time // the same on the wall clock, for kernel receive timestamps
	tick   uint64
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
	if cfg.Clock == nil {
		cfg.Clock = clock.Real
	}
	ports, err := newPortAllocator(cfg.IP, cfg.PortMin, cfg.PortMax, cfg.Clock.Now)
	if err != nil {
		return nil, err
	}
	if cfg.InactivityTimeout == 0 {
		cfg.InactivityTimeout = DefaultInactivityTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.ReadEvery = max(cfg.ReadEvery, 1)
	if cfg.Shards <= 0 {
		cfg.Shards = runtime.GOMAXPROCS(0)
	}
	e := &Engine{
		cfg:       cfg,
		clock:     cfg.Clock,
		log:       cfg.Logger,
		ports:     ports,
		poke:      make(chan struct{}, 1),
		quit:      make(chan struct{}),
		pacerDone: make(chan struct{}),
		onTick:    onTick,
	}
	if cfg.InactivityTimeout > 0 {
		e.timeoutTicks = uint64((cfg.InactivityTimeout + FrameDuration - 1) / FrameDuration)
	}
	for i := range cfg.Shards {
		e.shards = append(e.shards, newShard(e, i))
	}
	e.start = e.clock.Now()
	for _, sh := range e.shards[1:] {
		e.workers.Add(1)
		go sh.work()
	}
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
	defer func() {
		for _, sh := range e.shards {
			sh.tx.close()
			sh.rx.close()
			sh.idle.close()
		}
	}()
	defer e.workers.Wait()
	defer func() {
		for _, sh := range e.shards[1:] {
			close(sh.jobs)
		}
	}()
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
		now := e.clock.Now()
		due := uint64(now.Sub(e.start) / FrameDuration)
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
			e.late.record(now.Sub(e.start.Add(time.Duration(e.tick) * FrameDuration)))
			e.service(e.tick)
			now = e.clock.Now()
			e.tickTime.record(now.Sub(e.rxNow))
		}
		e.processed.Store(e.tick)
		if e.onTick != nil {
			e.onTick(e.tick)
		}
	}
}

// A shardJob is a tick for a shard's worker: split says the engine-wide hooks
// run between the phases, so the worker reports the end of its receive phase
// and waits to be resumed before its send phase.
type shardJob struct {
	k     uint64
	split bool
}

// service runs tick k for every session: first every session's receive side
// (jitter buffer playout to its sink and taps), then the tick hooks, then every
// session's send side (its source to RTP, and to its taps). Consumers that
// connect sessions (a bridge, a mixer) therefore see all of this tick's
// received audio before any of this tick's audio is sent; with several
// shards, this holds within a shard (and a Group's hooks), and across shards
// for the engine-wide hooks (AddTickHook): every shard finishes its receive
// phase before they run and starts its send phase after.
func (e *Engine) service(k uint64) {
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	e.tickNow.Store(k)
	e.rxNow, e.rxWall = e.clock.Now(), time.Now()
	split := e.hooks.active()
	others := e.shards[1:]
	for _, sh := range others {
		sh.jobs <- shardJob{k: k, split: split}
	}
	sh0 := e.shards[0]
	sh0.receive(k)
	if split {
		for _, sh := range others {
			<-sh.ack
		}
		t0 := e.clock.Now()
		e.hooks.run(k, nil)
		e.engineHooks.record(e.clock.Now().Sub(t0))
		for _, sh := range others {
			sh.resume <- struct{}{}
		}
	}
	sh0.send()
	for _, sh := range others {
		<-sh.ack
	}
}

// A tickHook is one AddTickHook registration (a func is not comparable, its
// pointer is).
type tickHook struct {
	f func(tick uint64)
	g *Group // whose hook time it counts in, or nil
}

// hookList is a set of tick hooks, copied on write (nil for none); mu
// serializes additions and removals and is held while the hooks run, so that
// once a removal returns the hook is not called again.
type hookList struct {
	mu sync.Mutex
	p  atomic.Pointer[[]*tickHook]
}

func (l *hookList) active() bool { return l.p.Load() != nil }

// add registers h and returns its removal.
func (l *hookList) add(h *tickHook) (remove func()) {
	l.mu.Lock()
	var cur []*tickHook
	if p := l.p.Load(); p != nil {
		cur = *p
	}
	// Copy on write: the pacer may be reading the old slice.
	next := make([]*tickHook, len(cur), len(cur)+1)
	copy(next, cur)
	next = append(next, h)
	l.p.Store(&next)
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		p := l.p.Load()
		if p == nil {
			return
		}
		i := slices.Index(*p, h)
		if i < 0 {
			return
		}
		if len(*p) == 1 {
			l.p.Store(nil)
			return
		}
		next := slices.Delete(slices.Clone(*p), i, i+1)
		l.p.Store(&next)
	}
}

// run calls the hooks (on the pacer, between the phases of tick k); with c
// it times each hook of a group into the group's histogram.
func (l *hookList) run(k uint64, c clock.Clock) {
	l.mu.Lock()
	if p := l.p.Load(); p != nil {
		var t0 time.Time
		if c != nil {
			t0 = c.Now()
		}
		for _, h := range *p {
			h.f(k)
			if c != nil && h.g != nil {
				t1 := c.Now()
				h.g.hookTime.record(t1.Sub(t0))
				t0 = t1
			}
		}
	}
	l.mu.Unlock()
}

// AddTickHook registers f to run on the pacer in every tick, after every
// session's receive phase and before any session's send phase: where a
// mixer computes its mix, from what its participants' taps or sinks got in the
// receive phase, for its Sources to hand out in the send phase. tick is the
// number of the tick (they count 20 ms frames since the engine started; ticks
// given up after a stall are skipped).
//
// With several shards, the engine's hooks make every tick wait for the
// slowest shard's receive phase, run alone, then let the shards send:
// correct whichever shards the sessions f touches are on, but serial. A
// Group's hooks (Group.AddTickHook) run on the group's shard without that
// barrier; prefer them for a mixer whose participants the group adopts.
//
// The returned function removes the hook; once it returns, f is not called
// again. Calling it again does nothing. f must return promptly and must not
// call AddTickHook or a remove function of this engine (the engine's hook lock
// is held while hooks run; from f, remove with `go remove()`), nor
// Group.Adopt. No session lock is held: f may call SetSink, AddTap,
// RemoveTap, Close and Play(ctx, nil) of any session (not a Play that waits
// for its source: that needs the pacer).
func (e *Engine) AddTickHook(f func(tick uint64)) (remove func()) {
	return e.hooks.add(&tickHook{f: f})
}

// pollNow asks the pacer to read every session's sockets before the next tick,
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
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	e.rxNow, e.rxWall = e.clock.Now(), time.Now()
	for _, sh := range e.shards {
		for _, s := range sh.snapshot() {
			s.mu.Lock()
			if s.err == nil {
				s.sock.poll(sh.rxBufs, e.rxWall, s.polled)
				s.rtcp.poll(sh.rxBufs, e.rxWall, s.polledRTCP)
			}
			s.mu.Unlock()
		}
		clear(sh.list)
	}
}

func (e *Engine) skipTicks(n uint64) {
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	for _, sh := range e.shards {
		for _, s := range sh.snapshot() {
			s.skip(n)
		}
		clear(sh.list)
	}
}

// remove takes s out of its shard's sessions.
func (e *Engine) remove(s *Session) {
	for {
		sh := s.sh.Load()
		sh.mu.Lock()
		if s.sh.Load() != sh {
			sh.mu.Unlock()
			continue // moved meanwhile (Group.Adopt)
		}
		sh.removeLocked(s)
		sh.mu.Unlock()
		return
	}
}

// NewSession binds a free RTP/RTCP port pair from the range and returns a
// session on it, sending nothing until SetRemote. The session goes to the
// shard with the fewest sessions.
func (e *Engine) NewSession() (*Session, error) {
	return e.newSessionOn(e.leastLoaded())
}

// leastLoaded returns the shard with the fewest sessions (ties in turn).
func (e *Engine) leastLoaded() *shard {
	n := len(e.shards)
	first := int(e.rr.Add(1)) % n
	best := e.shards[first]
	for i := 1; i < n; i++ {
		sh := e.shards[(first+i)%n]
		if sh.n.Load() < best.n.Load() {
			best = sh
		}
	}
	return best
}

// newSessionOn makes a session on shard sh. The sockets are bound before any
// lock the pacer takes is held: binding is several system calls, and
// sessions come and go by the hundred a second.
func (e *Engine) newSessionOn(sh *shard) (*Session, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	port, rtpSock, rtcpSock, err := e.ports.acquire()
	if err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	s := newSession(e, port, rtpSock, rtcpSock)
	s.sh.Store(sh)
	s.sock.start(s)
	s.rtcp.startRTCP(s)
	sh.mu.Lock()
	if e.closed.Load() {
		// Close has taken the sessions to close: this one ends here.
		sh.mu.Unlock()
		s.Close()
		return nil, ErrClosed
	}
	sh.addLocked(s)
	sh.mu.Unlock()
	return s, nil
}

// ActiveSessions returns the number of live sessions.
func (e *Engine) ActiveSessions() int {
	n := 0
	for _, sh := range e.shards {
		n += int(sh.n.Load())
	}
	return n
}

// TickStats returns how the pacer has kept up since the engine started: ticks
// serviced and dropped, how late they started, how long each tick and each
// of its phases took, in all and per shard. Take two and Sub them for a
// window. It may be called from any goroutine at any time.
func (e *Engine) TickStats() TickStats {
	t := TickStats{
		Ticks:       e.processed.Load(),
		Dropped:     e.skipped.Load(),
		Late:        e.late.snapshot(),
		Tick:        e.tickTime.snapshot(),
		EngineHooks: e.engineHooks.snapshot(),
		Shards:      make([]ShardStats, len(e.shards)),
	}
	for i, sh := range e.shards {
		st := ShardStats{
			Sessions: int(sh.n.Load()),
			Receive:  sh.rxTime.snapshot(),
			Hooks:    sh.hookTime.snapshot(),
			Send:     sh.txTime.snapshot(),
		}
		t.Receive.add(&st.Receive)
		t.Hooks.add(&st.Hooks)
		t.Send.add(&st.Send)
		t.Shards[i] = st
	}
	return t
}

// Close stops the pacer and closes every session (their Err becomes ErrClosed).
// It waits until every goroutine of the engine has returned, so it must not be
// called from a Source or Sink (they run on the pacer).
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.closed.Store(true)
		close(e.quit)
		<-e.pacerDone
		var all []*Session
		for _, sh := range e.shards {
			sh.mu.Lock()
			all = append(all, sh.sessions...)
			sh.mu.Unlock()
		}
		for _, s := range all {
			s.Close()
		}
		e.ports.closeKept()
	})
	return nil
}
