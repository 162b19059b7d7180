package media

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// A shard is one part of the pacer's work: its sessions, the tick hooks of the
// groups on it, and the buffers a tick passes through. Shard 0 is serviced by
// the pacer goroutine itself, every other shard by a worker goroutine that
// the pacer hands each tick (jobs) and that reports back (ack). All shards
// service the same tick at the same time.
type shard struct {
	e  *Engine
	id int

	// mu guards sessions (and each session's idx).
	mu       sync.Mutex
	sessions []*Session
	n        atomic.Int64 // len(sessions), read without mu

	hooks hookList // of the groups on this shard

	jobs   chan shardJob // the worker's ticks (not shard 0)
	ack    chan struct{} // the worker's receive phase (split ticks) and tick done
	resume chan struct{} // the send phase may start (split ticks)

	// Timing of this shard's phases (recorded by its worker only).
	rxTime, hookTime, txTime liveHist

	// Worker-only state.
	scratch pacerScratch
	rxBufs  *recvBuffers
	tx      *sendBatch
	rx      *readBatch
	idle    *idleWatch // the parked sockets; nil: none are parked
	list    []*Session
	ending  []*Session
}

func newShard(e *Engine, id int) *shard {
	sh := &shard{
		e:      e,
		id:     id,
		rxBufs: newRecvBuffers(),
		jobs:   make(chan shardJob),
		ack:    make(chan struct{}),
		resume: make(chan struct{}),
	}
	log := func(err error) {
		e.log.Warn("media: io_uring failed; sending or reading RTP with one system call per socket", "shard", id, "err", err)
	}
	tx, err := newSendBatch(!e.cfg.NoIOUring, log)
	if err != nil && id == 0 {
		e.log.Info("media: io_uring not available; sending and reading RTP with one system call per socket", "err", err)
	}
	sh.tx = tx
	sh.rx, _ = newReadBatch(tx.batched(), log)
	sh.idle = newIdleWatch()
	return sh
}

// work is a worker goroutine: it services the ticks the pacer hands it until
// the pacer closes jobs.
func (sh *shard) work() {
	defer sh.e.workers.Done()
	for job := range sh.jobs {
		sh.receive(job.k)
		if job.split {
			sh.ack <- struct{}{}
			<-sh.resume
		}
		sh.send()
		sh.ack <- struct{}{}
	}
}

// snapshot copies the shard's sessions into the worker's reused slice.
func (sh *shard) snapshot() []*Session {
	sh.mu.Lock()
	sh.list = append(sh.list[:0], sh.sessions...)
	sh.mu.Unlock()
	return sh.list
}

// receive is the first half of tick k on this shard: every session's receive
// side, then the hooks of the groups on the shard.
func (sh *shard) receive(k uint64) {
	c := sh.e.clock
	t0 := c.Now()
	list := sh.snapshot()
	sh.idle.ready()
	if sh.rx.batched() {
		sh.rx.read(list, k, sh.e.rxWall, sh.rxBufs)
	}
	for i, s := range list {
		if s.receiveTick(k) {
			sh.ending = append(sh.ending, s)
		}
		sh.yield(i)
	}
	t1 := c.Now()
	sh.rxTime.record(t1.Sub(t0))
	if sh.hooks.active() {
		sh.hooks.run(k, c)
		sh.hookTime.record(c.Now().Sub(t1))
	}
}

// send is the second half of a tick on this shard: every session's send side,
// then the end of the sessions that timed out.
func (sh *shard) send() {
	c := sh.e.clock
	t0 := c.Now()
	for i, s := range sh.list {
		s.sendTick()
		sh.yield(i)
	}
	sh.tx.flush()
	sh.txTime.record(c.Now().Sub(t0))
	for _, s := range sh.ending {
		s.end(ErrInactive)
	}
	clear(sh.ending)
	sh.ending = sh.ending[:0]
	clear(sh.list)
}

// A tick of thousands of sessions is milliseconds of work, and on one
// processor nothing else runs meanwhile: a call's setup waiting for its turn
// (a webhook's answer read, a store write committed, an INVITE parsed) would
// wait for the whole phase at every step. So the worker lets the runnable
// goroutines have the processor after every yieldEvery sessions, as long as
// the tick is young (yieldWithin of its start): a tick running late keeps the
// processor, so that the media never falls behind for the sake of setups.
const (
	yieldEvery  = 128
	yieldWithin = FrameDuration / 2
)

// yield lets other goroutines run after the i-th session of a phase (see
// yieldEvery).
func (sh *shard) yield(i int) {
	if i%yieldEvery == yieldEvery-1 && sh.e.clock.Now().Sub(sh.e.rxNow) < yieldWithin {
		runtime.Gosched()
	}
}

// addLocked appends s to the shard's sessions; sh.mu is held.
func (sh *shard) addLocked(s *Session) {
	s.idx = len(sh.sessions)
	sh.sessions = append(sh.sessions, s)
	sh.n.Store(int64(len(sh.sessions)))
}

// removeLocked takes s out of the shard's sessions, if it is there; sh.mu is
// held.
func (sh *shard) removeLocked(s *Session) {
	i := s.idx
	if i < 0 || i >= len(sh.sessions) || sh.sessions[i] != s {
		return
	}
	last := len(sh.sessions) - 1
	sh.sessions[i] = sh.sessions[last]
	sh.sessions[i].idx = i
	sh.sessions[last] = nil
	sh.sessions = sh.sessions[:last]
	sh.n.Store(int64(len(sh.sessions)))
	s.idx = -1
}

// A Group keeps sessions and tick hooks that work together on one shard of
// the pacer: a conference room's mixer hook and its participants' legs, the
// two legs of a bridge. Within a group, as within an engine of one shard,
// every session's receive phase of a tick runs before the group's hooks, and
// they before any session's send phase, on one goroutine: the hooks, sinks,
// sources and taps of the group's sessions may share unsynchronized state.
//
// Sessions of different shards are serviced in parallel: a Pipe between them
// stays safe (it locks), but a frame written in one shard's receive phase
// may be read in the same tick or the next, so a bridge across shards may
// play one frame of silence once and then run 20 ms late. Adopt both legs
// into one group to avoid that.
type Group struct {
	e        *Engine
	sh       *shard
	hookTime liveHist
}

// NewGroup returns a group on the shard with the fewest sessions now.
func (e *Engine) NewGroup() *Group {
	return &Group{e: e, sh: e.leastLoaded()}
}

// AddTickHook registers f to run on the group's shard in every tick, after
// the receive phase of every session on that shard (the group's and others)
// and before any of their send phases; see Engine.AddTickHook for the
// rules, which are the same, except that f sees the receive phase of the
// group's sessions only: sessions on other shards are serviced at the same
// time. The returned function removes the hook.
func (g *Group) AddTickHook(f func(tick uint64)) (remove func()) {
	return g.sh.hooks.add(&tickHook{f: f, g: g})
}

// NewSession is Engine.NewSession with the session in the group.
func (g *Group) NewSession() (*Session, error) {
	return g.e.newSessionOn(g.sh)
}

// Adopt moves s into the group, on the group's shard: from the next tick on
// it is serviced with the group's hooks. It waits for the tick being
// serviced, if any, to end (one tick's work, well under 20 ms while the
// pacer keeps up), so it must not be
// called on the pacer (from a Source, Sink, Tap or tick hook). Adopting a
// session already in the group, or one that has ended, does nothing; a
// session of another engine is an error wrapping ErrOtherEngine.
func (g *Group) Adopt(s *Session) error {
	if s.e != g.e {
		return fmt.Errorf("adopt session on port %d: %w", s.port, ErrOtherEngine)
	}
	e := g.e
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	from, to := s.sh.Load(), g.sh
	if from == to {
		return nil
	}
	// Both shards' locks, in a fixed order, so that remove (which locks the
	// session's shard, then checks it is still the session's) never misses
	// the session.
	first, second := from, to
	if second.id < first.id {
		first, second = second, first
	}
	first.mu.Lock()
	second.mu.Lock()
	if s.idx >= 0 && s.idx < len(from.sessions) && from.sessions[s.idx] == s {
		from.removeLocked(s)
		to.addLocked(s)
	}
	s.sh.Store(to)
	second.mu.Unlock()
	first.mu.Unlock()
	// A parked socket is in from's idleWatch, which to's ticks do not
	// consult: read it on to's ticks, every tick, until it parks there.
	s.mu.Lock()
	s.parked, s.rxIdle = false, 0
	s.mu.Unlock()
	return nil
}

// HookStats returns the times of the group's tick hooks, each call counted:
// for a conference room whose mixer is the group's one hook, the mixer's
// time per tick.
func (g *Group) HookStats() Histogram { return g.hookTime.snapshot() }
