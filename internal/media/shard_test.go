package media

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func shardSessions(e *Engine) []int64 {
	var n []int64
	for _, sh := range e.shards {
		n = append(n, sh.n.Load())
	}
	return n
}

func TestNewSessionGoesToTheLeastLoadedShard(t *testing.T) {
	h := newHarness(t, func(c *EngineConfig) { c.Shards = 3 })
	var ss []*Session
	for range 6 {
		ss = append(ss, h.session())
	}
	if got := fmt.Sprint(shardSessions(h.e)); got != "[2 2 2]" {
		t.Fatalf("sessions per shard %s, want [2 2 2]", got)
	}
	var on1 []*Session
	for _, s := range ss {
		if s.sh.Load() == h.e.shards[1] {
			on1 = append(on1, s)
		}
	}
	for _, s := range on1 {
		s.Close()
	}
	a, b := h.session(), h.session()
	if a.sh.Load() != h.e.shards[1] || b.sh.Load() != h.e.shards[1] {
		t.Fatalf("new sessions on shards %d and %d, want 1 (emptied)", a.sh.Load().id, b.sh.Load().id)
	}
	if n := h.e.ActiveSessions(); n != 6 {
		t.Fatalf("ActiveSessions = %d, want 6", n)
	}
	if g := h.e.NewGroup(); g.sh.n.Load() != 2 {
		t.Fatalf("NewGroup on a shard with %d sessions", g.sh.n.Load())
	}
}

// unsyncTap records, without any lock, the order in which a group's hook and
// its sessions' taps run: -race fails if they run on different goroutines.
type unsyncTap struct {
	name string
	log  *[]string
}

func (u *unsyncTap) TapIn([]int16)  { *u.log = append(*u.log, u.name+" in") }
func (u *unsyncTap) TapOut([]int16) { *u.log = append(*u.log, u.name+" out") }

// A group's hook and sessions run on one goroutine, the hook between their
// receive and send phases, while other groups' sessions (on other shards)
// are serviced at the same time; every shard services every tick.
func TestGroupRunsItsHookBetweenItsSessionsPhases(t *testing.T) {
	h := newHarness(t, func(c *EngineConfig) { c.Shards = 3 })
	type room struct {
		g     *Group
		log   []string
		ticks []uint64
	}
	var rooms []*room
	for i := range 3 {
		r := &room{g: &Group{e: h.e, sh: h.e.shards[i]}}
		rooms = append(rooms, r)
		for j := range 2 {
			// Made anywhere, then adopted.
			s := h.session()
			if err := r.g.Adopt(s); err != nil {
				t.Fatal(err)
			}
			s.AddTap(&unsyncTap{name: fmt.Sprint("s", j), log: &r.log})
		}
		gs, err := r.g.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { gs.Close() })
		gs.AddTap(&unsyncTap{name: "s2", log: &r.log})
		r.g.AddTickHook(func(k uint64) {
			r.log = append(r.log, "hook")
			r.ticks = append(r.ticks, k)
		})
	}
	if got := fmt.Sprint(shardSessions(h.e)); got != "[3 3 3]" {
		t.Fatalf("sessions per shard %s after adoption, want [3 3 3]", got)
	}
	h.advance(5, nil)
	for i, r := range rooms {
		if fmt.Sprint(r.ticks) != "[1 2 3 4 5]" {
			t.Errorf("room %d hook ran in ticks %v, want 1 to 5", i, r.ticks)
		}
		for k := range 5 {
			tick := r.log[k*7 : k*7+7]
			in, hook, out := tick[:3], tick[3], tick[4:]
			for j, e := range in {
				if e != fmt.Sprint("s", j, " in") {
					t.Fatalf("room %d tick %d: %q", i, k+1, tick)
				}
			}
			if hook != "hook" || out[0] != "s0 out" || out[2] != "s2 out" {
				t.Fatalf("room %d tick %d: %q", i, k+1, tick)
			}
		}
	}
}

// The engine's own hooks (AddTickHook) keep their meaning with shards: every
// session's receive phase before them, every send phase after.
func TestEngineHookSeesEveryShardsReceivePhase(t *testing.T) {
	h := newHarness(t, func(c *EngineConfig) { c.Shards = 4 })
	var mu sync.Mutex
	var ins, outs int
	var bad atomic.Value
	tap := func(in bool) func([]int16) {
		return func([]int16) {
			mu.Lock()
			defer mu.Unlock()
			if in {
				ins++
			} else {
				outs++
			}
		}
	}
	for range 8 {
		h.session().AddTap(&tapFuncs{in: tap(true), out: tap(false)})
	}
	h.e.AddTickHook(func(k uint64) {
		mu.Lock()
		defer mu.Unlock()
		if ins != int(k)*8 || outs != int(k-1)*8 {
			bad.Store(fmt.Sprintf("tick %d: hook after %d TapIn and %d TapOut, want %d and %d", k, ins, outs, k*8, (k-1)*8))
		}
	})
	if got := fmt.Sprint(shardSessions(h.e)); got != "[2 2 2 2]" {
		t.Fatalf("sessions per shard %s", got)
	}
	h.advance(20, nil)
	if b := bad.Load(); b != nil {
		t.Fatal(b)
	}
}

// tapFuncs is a Tap of two functions (use a pointer: taps are compared).
type tapFuncs struct{ in, out func([]int16) }

func (f *tapFuncs) TapIn(p []int16)  { f.in(p) }
func (f *tapFuncs) TapOut(p []int16) { f.out(p) }

// Moving a session between shards while the pacer runs neither skips nor
// repeats a tick: its packets keep consecutive sequence numbers and
// timestamps.
func TestAdoptWhileTicking(t *testing.T) {
	h := newHarness(t, func(c *EngineConfig) { c.Shards = 2 })
	p := newPeer(t)
	s := h.session()
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, Direction: SendRecv})
	g := [2]*Group{{e: h.e, sh: h.e.shards[0]}, {e: h.e, sh: h.e.shards[1]}}
	stop := make(chan struct{})
	moved := make(chan int)
	go func() {
		n := 0
		defer func() { moved <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := g[n%2].Adopt(s); err != nil {
				panic(err)
			}
			n++
		}
	}()
	const ticks = 100
	h.advance(ticks, nil)
	close(stop)
	if n := <-moved; n < 2 {
		t.Fatalf("moved only %d times", n)
	}
	got := p.collect(ticks)
	for i := 1; i < ticks; i++ {
		a, b := parse(t, got[i-1]), parse(t, got[i])
		if b.seq != a.seq+1 || b.ts != a.ts+frameTS {
			t.Fatalf("packet %d: seq %d ts %d after seq %d ts %d", i, b.seq, b.ts, a.seq, a.ts)
		}
	}
	if extra := p.drain(50 * time.Millisecond); len(extra) != 0 {
		t.Fatalf("%d ticks sent %d packets", ticks, ticks+len(extra))
	}
	if n := h.e.ActiveSessions(); n != 1 {
		t.Fatalf("ActiveSessions = %d", n)
	}
}

func TestAdoptEndedOrForeignSession(t *testing.T) {
	h := newHarness(t, func(c *EngineConfig) { c.Shards = 2 })
	other := newHarness(t, func(c *EngineConfig) { c.Shards = 2 })
	g := h.e.NewGroup()
	if err := g.Adopt(other.session()); !errors.Is(err, ErrOtherEngine) {
		t.Fatalf("Adopt of another engine's session = %v", err)
	}
	s := h.session()
	s.Close()
	for _, gr := range []*Group{{e: h.e, sh: h.e.shards[0]}, {e: h.e, sh: h.e.shards[1]}} {
		if err := gr.Adopt(s); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.e.ActiveSessions(); n != 0 {
		t.Fatalf("an ended session adopted: ActiveSessions = %d", n)
	}
}

// A phase of many sessions lets the goroutines made runnable meanwhile have
// the processor (shard.yield): on one processor, a goroutine woken by the
// first session's tap runs before the pacer reaches the last session, not
// after the whole phase. A tick already late keeps the processor.
func TestLongPhaseLetsOthersRun(t *testing.T) {
	for _, late := range []bool{false, true} {
		t.Run(fmt.Sprintf("late=%v", late), func(t *testing.T) {
			if got := othersRunDuringPhase(t, late); got == late {
				t.Errorf("a goroutine woken at the first session ran before the last: %v", got)
			}
		})
	}
}

// othersRunDuringPhase reports whether, on one processor, a goroutine woken
// by the first of many sessions' taps runs before the last session's; with
// late, the first tap moves the clock yieldWithin past the tick's start.
func othersRunDuringPhase(t *testing.T, late bool) bool {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const n = 2*yieldEvery + 1
	h := newHarness(t, func(c *EngineConfig) { c.PortMin, c.PortMax = testPortRange(n + 8) })
	var ranBeforeLast atomic.Bool
	ran := make(chan struct{})
	woke := false
	for i := range n {
		s := h.session()
		tap := &tapFuncs{in: func([]int16) {}, out: func([]int16) {}}
		switch i {
		case 0:
			tap.in = func([]int16) {
				if !woke {
					woke = true
					if late {
						h.fake.Advance(yieldWithin)
					}
					go func() { close(ran) }()
				}
			}
		case n - 1:
			tap.in = func([]int16) {
				select {
				case <-ran:
					ranBeforeLast.Store(true)
				default:
				}
			}
		}
		s.AddTap(tap)
	}
	h.advance(1, nil)
	<-ran
	return ranBeforeLast.Load()
}
