package media

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// How long the pacer takes to service its ticks, and how late it starts
// them, is counted in fixed histograms that the pacer fills without locks or
// allocation and anyone may read at any time (Engine.TickStats,
// Group.HookStats).

// Histogram buckets are log-linear: durations below histSub ns have a bucket
// each; above, every power of two is cut into histSub buckets, so a bucket
// is at most 1/histSub (12.5 %) wide relative to its lower bound. The last
// bucket holds everything from about 18 minutes up.
const (
	histSubBits = 3
	histSub     = 1 << histSubBits
	histBuckets = 38 * histSub
)

// histBucket returns the bucket of a duration of v ns.
func histBucket(v uint64) int {
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - 1 - histSubBits
	b := (shift+1)*histSub + int(v>>shift)&(histSub-1)
	return min(b, histBuckets-1)
}

// histUpper returns the largest duration bucket b holds.
func histUpper(b int) time.Duration {
	if b < histSub {
		return time.Duration(b)
	}
	shift := b/histSub - 1
	lower := uint64(histSub+b%histSub) << shift
	return time.Duration(lower + 1<<shift - 1)
}

// liveHist is a histogram one goroutine records into while others read it.
type liveHist struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

// record counts one duration; only one goroutine records into a liveHist.
func (h *liveHist) record(d time.Duration) {
	d = max(d, 0)
	h.counts[histBucket(uint64(d))].Add(1)
	h.n.Add(1)
	if int64(d) > h.max.Load() {
		h.max.Store(int64(d))
	}
}

// snapshot copies the counts (a concurrent record may be half in it: a
// count without its total, which Quantile tolerates).
func (h *liveHist) snapshot() Histogram {
	var s Histogram
	for i := range h.counts {
		s.counts[i] = h.counts[i].Load()
	}
	s.n = h.n.Load()
	s.max = time.Duration(h.max.Load())
	return s
}

// A Histogram is a distribution of durations (tick service times, lateness)
// in fixed logarithmic buckets, 12.5 % wide: quantiles are the upper bound of
// their bucket, so they may be up to 12.5 % above the true value (never above
// Max). Histograms are cumulative since the engine started; Sub gives the
// distribution over a window between two snapshots.
type Histogram struct {
	counts [histBuckets]uint64
	n      uint64
	max    time.Duration
}

// Count returns how many durations were counted.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the longest duration counted (since the engine started, also
// for a Histogram from Sub).
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the duration below which a fraction q (0..1) of the
// counted durations lie: Quantile(0.99) is the p99. It is 0 when nothing was
// counted.
func (h *Histogram) Quantile(q float64) time.Duration {
	var total uint64
	for _, c := range h.counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(q * float64(total))
	if float64(rank) < q*float64(total) || rank == 0 {
		rank++ // the ceiling, and at least the first
	}
	var seen uint64
	for b, c := range h.counts {
		if seen += c; seen >= rank {
			return min(histUpper(b), h.max)
		}
	}
	return h.max
}

// Sub returns what h counted since prev, an earlier snapshot of the same
// histogram (its Max stays h's).
func (h Histogram) Sub(prev Histogram) Histogram {
	for i := range h.counts {
		h.counts[i] -= min(prev.counts[i], h.counts[i])
	}
	h.n -= min(prev.n, h.n)
	return h
}

// add merges o into h.
func (h *Histogram) add(o *Histogram) {
	for i := range h.counts {
		h.counts[i] += o.counts[i]
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Timing summarises a Histogram.
type Timing struct {
	Count         uint64
	P50, P99, Max time.Duration
}

// Timing returns h's count, median, p99 and maximum.
func (h *Histogram) Timing() Timing {
	return Timing{Count: h.n, P50: h.Quantile(0.5), P99: h.Quantile(0.99), Max: h.max}
}

// TickStats is how the pacer has kept up since the engine started: how late
// ticks started and how long their phases took. See Engine.TickStats.
type TickStats struct {
	// Ticks counts the ticks since the engine started, up to the last one
	// serviced; Dropped those of them given up after a stall of the pacer
	// (more than 100 ms behind). Tick.Count() is the number serviced.
	Ticks, Dropped uint64
	// Late is how late each tick's service started after it was due (the
	// timer's delay, and the previous ticks' overrun).
	Late Histogram
	// Tick is each tick's whole service, every shard's work included.
	Tick Histogram
	// Receive, Hooks and Send are the phases of each tick, per shard (one
	// count per shard and tick): reading the sockets and playing out to the
	// sinks and taps; the tick hooks of the groups on the shard; reading
	// the sources, encoding and sending.
	Receive, Hooks, Send Histogram
	// EngineHooks is the time of the hooks added with Engine.AddTickHook,
	// which run once every shard has finished its receive phase.
	EngineHooks Histogram
	// Shards is each shard's share: its sessions now and its phases.
	Shards []ShardStats
}

// ShardStats is one pacer shard's part of TickStats.
type ShardStats struct {
	Sessions             int
	Receive, Hooks, Send Histogram
}

// Sub returns the statistics of the window since prev, an earlier TickStats
// of the same engine.
func (t TickStats) Sub(prev TickStats) TickStats {
	t.Ticks -= min(prev.Ticks, t.Ticks)
	t.Dropped -= min(prev.Dropped, t.Dropped)
	t.Late = t.Late.Sub(prev.Late)
	t.Tick = t.Tick.Sub(prev.Tick)
	t.Receive = t.Receive.Sub(prev.Receive)
	t.Hooks = t.Hooks.Sub(prev.Hooks)
	t.Send = t.Send.Sub(prev.Send)
	t.EngineHooks = t.EngineHooks.Sub(prev.EngineHooks)
	shards := make([]ShardStats, len(t.Shards))
	for i, s := range t.Shards {
		if i < len(prev.Shards) {
			p := prev.Shards[i]
			s.Receive, s.Hooks, s.Send = s.Receive.Sub(p.Receive), s.Hooks.Sub(p.Hooks), s.Send.Sub(p.Send)
		}
		shards[i] = s
	}
	t.Shards = shards
	return t
}
