package media

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoad measures the CPU cost of many concurrent legs in real time. Every
// session plays a looped tone to its partner, so each leg sends and receives 50
// packets a second, as a call leg talking to an outside peer does. It only runs
// with SWITCHBOARD_MEDIA_LOAD=<legs> (e.g. 2000), optionally
// SWITCHBOARD_MEDIA_LOAD_SECONDS (default 10), SWITCHBOARD_MEDIA_LOAD_SHARDS and
// SWITCHBOARD_MEDIA_LOAD_READ_EVERY (EngineConfig.Shards and ReadEvery), and
// SWITCHBOARD_MEDIA_LOAD_ONEWAY=1 (in each pair only one leg sends: the other's
// socket is idle, as on hold) and SWITCHBOARD_MEDIA_LOAD_PORT (the first RTP
// port, default 30000: two processes at once need ranges apart) and
// SWITCHBOARD_MEDIA_LOAD_PAIRS=shard (the two legs of a pair on one shard, as
// Group puts them; by default each session goes to the least loaded shard,
// so with two shards every packet crosses them). Besides the process's CPU
// it reports the whole machine's busy share over the window (/proc/stat:
// the kernel's softirq threads too). Pin it to one core to compare with
// bench/README.md:
//
//	go test -c -o /tmp/media.test ./internal/media
//	SWITCHBOARD_MEDIA_LOAD=2000 taskset -c 0 /tmp/media.test -test.run TestLoad -test.v
func TestLoad(t *testing.T) {
	legs, _ := strconv.Atoi(os.Getenv("SWITCHBOARD_MEDIA_LOAD"))
	if legs <= 0 {
		t.Skip("set SWITCHBOARD_MEDIA_LOAD=<legs> to run")
	}
	seconds := 10
	if s, err := strconv.Atoi(os.Getenv("SWITCHBOARD_MEDIA_LOAD_SECONDS")); err == nil && s > 0 {
		seconds = s
	}
	legs += legs % 2
	shards, _ := strconv.Atoi(os.Getenv("SWITCHBOARD_MEDIA_LOAD_SHARDS"))
	every, _ := strconv.Atoi(os.Getenv("SWITCHBOARD_MEDIA_LOAD_READ_EVERY"))
	oneWay := os.Getenv("SWITCHBOARD_MEDIA_LOAD_ONEWAY") == "1"
	samePair := os.Getenv("SWITCHBOARD_MEDIA_LOAD_PAIRS") == "shard"
	port := 30000
	if p, err := strconv.Atoi(os.Getenv("SWITCHBOARD_MEDIA_LOAD_PORT")); err == nil && p > 0 {
		port = p
	}
	e, err := NewEngine(EngineConfig{IP: loopback, PortMin: port, PortMax: port + 2*legs + 400, Shards: shards, ReadEvery: every})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ss := make([]*Session, legs)
	newSession := e.NewSession
	for i := range ss {
		if samePair && i%2 == 0 {
			newSession = e.NewGroup().NewSession
		}
		if ss[i], err = newSession(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < legs; i += 2 {
		connect(ss[i], ss[i+1], PCMU, 101)
		if oneWay {
			ss[i+1].SetRemote(Remote{Addr: ss[i].LocalAddr(), Codec: PCMU, Direction: RecvOnly})
		}
	}
	for _, s := range ss {
		s.playMu.Lock()
		s.play = &playback{src: newLoopSource(), done: make(chan struct{})}
		s.playMu.Unlock()
		s.SetSink(SinkFunc(func([]int16) error { return nil }))
	}
	// Warm up: let every session latch and its jitter buffer fill.
	time.Sleep(time.Second)
	total := func() (sent, recv, lost, late uint64) {
		for _, s := range ss {
			st := s.Stats()
			sent += st.PacketsSent
			recv += st.PacketsReceived
			lost += uint64(max(st.PacketsLost, 0))
			late += st.PacketsLate
		}
		return
	}
	sent0, recv0, lost0, late0 := total()
	ticks0 := e.TickStats()
	cpu0 := cpuTime(t)
	busy0, all0, ncpu := machineTicks()
	wall0 := time.Now()
	time.Sleep(time.Duration(seconds) * time.Second)
	cpu := cpuTime(t) - cpu0
	busy1, all1, _ := machineTicks()
	wall := time.Since(wall0)
	sent1, recv1, lost1, late1 := total()
	ts := e.TickStats().Sub(ticks0)
	sent, recv := sent1-sent0, recv1-recv0
	t.Logf("RSS %d KiB (%.1f KiB per leg, test harness included)", rssKiB(), float64(rssKiB())/float64(legs))
	t.Logf("%d legs for %v: CPU %.1f%% of one core (%.2f µs per leg per tick serviced)", legs, wall.Round(time.Millisecond),
		100*cpu.Seconds()/wall.Seconds(), float64(cpu.Microseconds())/float64(max(ts.Tick.Count(), 1)*uint64(legs)))
	if all1 > all0 {
		t.Logf("machine busy %.1f%% of its %d CPUs", 100*float64(busy1-busy0)/float64(all1-all0), ncpu)
	}
	t.Logf("packets sent %d (%.1f/s per leg, want 50), received %d, lost %d (%.3f%%), late %d, ticks skipped %d",
		sent, float64(sent)/float64(legs)/wall.Seconds(), recv, lost1-lost0, 100*float64(lost1-lost0)/float64(sent), late1-late0, e.skipped.Load())
	tm, late := ts.Tick.Timing(), ts.Late.Timing()
	t.Logf("%d shards, ReadEvery %d: %d ticks (%d dropped); tick service p50 %v p99 %v max %v; started late p50 %v p99 %v max %v",
		len(e.shards), e.cfg.ReadEvery, ts.Ticks, ts.Dropped, tm.P50, tm.P99, tm.Max, late.P50, late.P99, late.Max)
	for i, sh := range ts.Shards {
		rx, tx := sh.Receive.Timing(), sh.Send.Timing()
		t.Logf("  shard %d: %d sessions; receive p50 %v p99 %v, send p50 %v p99 %v", i, sh.Sessions, rx.P50, rx.P99, tx.P50, tx.P99)
	}
}

// machineTicks returns the busy and total clock ticks of all the machine's
// CPUs so far (the first line of /proc/stat; busy is all but idle and
// iowait) and how many CPUs it has, or zeros.
func machineTicks() (busy, all uint64, cpus int) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0
	}
	lines := strings.Split(string(b), "\n")
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "cpu") {
			cpus++
		}
	}
	f := strings.Fields(lines[0])
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, 0
	}
	for i, v := range f[1:8] {
		n, _ := strconv.ParseUint(v, 10, 64)
		all += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, all, cpus
}

// rssKiB returns the process's resident set size.
func rssKiB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
