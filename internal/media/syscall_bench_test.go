//go:build linux && !386

package media

import (
	"fmt"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// threadCPU returns the CPU time (user and system) of the calling thread: on
// a shared machine, where wall time counts the time other processes ran, it
// is what an operation costs.
func threadCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter reports the thread CPU time per operation of a benchmark (which
// must stay on one thread: it locks it).
type cpuMeter struct {
	b     *testing.B
	total time.Duration
	start time.Duration
	ops   int
}

func newCPUMeter(b *testing.B) *cpuMeter {
	runtime.LockOSThread()
	b.Cleanup(runtime.UnlockOSThread)
	return &cpuMeter{b: b}
}

func (m *cpuMeter) begin() { m.start = threadCPU(m.b) }
func (m *cpuMeter) end(ops int) {
	m.total += threadCPU(m.b) - m.start
	m.ops += ops
}
func (m *cpuMeter) report(unit string) {
	if m.ops > 0 {
		m.b.ReportMetric(float64(m.total.Nanoseconds())/float64(m.ops), "cpu-ns/"+unit)
	}
}

// socketBench is n RTP sockets of an idle engine and a peer sending to them.
func socketBench(b *testing.B, n int) (*Engine, []*Session, *peer) {
	e := idleEngine(b, n)
	var ss []*Session
	for range n {
		s, err := e.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		ss = append(ss, s)
	}
	p := newPeer(&testing.T{})
	b.Cleanup(func() { p.conn.Close() })
	return e, ss, p
}

// BenchmarkSocketCalls measures the system calls of the RTP path on loopback,
// in thread CPU time per call: a null system call (the entry and exit cost
// alone), recvmmsg on an empty socket, recvmmsg returning one datagram (as
// in each tick of a leg that receives audio), and the two reads of every
// other tick, and sendto of one RTP packet (which on loopback also delivers
// it to the receiving socket), or the same sent through an io_uring.
func BenchmarkSocketCalls(b *testing.B) {
	const n = 200
	nop := func([]byte, netip.AddrPort, time.Duration) {}
	b.Run("null", func(b *testing.B) {
		m := newCPUMeter(b)
		m.begin()
		for range b.N {
			syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
		}
		m.end(b.N)
		m.report("call")
	})
	b.Run("recvmmsg-empty", func(b *testing.B) {
		e, ss, _ := socketBench(b, n)
		rb := e.shards[0].rxBufs
		m := newCPUMeter(b)
		m.begin()
		for i := range b.N {
			ss[i%n].sock.poll(rb, time.Now(), nop)
		}
		m.end(b.N)
		m.report("call")
	})
	for _, per := range []int{1, 2} {
		b.Run(fmt.Sprintf("recvmmsg-%d", per), func(b *testing.B) {
			e, ss, p := socketBench(b, n)
			rb := e.shards[0].rxBufs
			pkt := p.audio(0)
			m := newCPUMeter(b)
			got := 0
			count := func([]byte, netip.AddrPort, time.Duration) { got++ }
			for i := 0; i < b.N; i += n {
				for _, s := range ss {
					for range per {
						p.send(s.LocalAddr(), pkt)
					}
				}
				m.begin()
				for j := 0; j < n && i+j < b.N; j++ {
					ss[j].sock.poll(rb, time.Now(), count)
				}
				m.end(min(n, b.N-i))
				for _, s := range ss { // what was not read (b.N not a multiple of n)
					s.sock.poll(rb, time.Now(), nop)
				}
			}
			m.report("call")
		})
	}
	b.Run("sendto", func(b *testing.B) {
		e, ss, _ := socketBench(b, n+1)
		rb := e.shards[0].rxBufs
		from := ss[n].sock
		pkt := make([]byte, headerSize+FrameSamples)
		m := newCPUMeter(b)
		for i := 0; i < b.N; i += n {
			m.begin()
			for j := 0; j < n && i+j < b.N; j++ {
				if err := from.sendTo(pkt, ss[j].LocalAddr()); err != nil {
					b.Fatal(err)
				}
			}
			m.end(min(n, b.N-i))
			for _, s := range ss[:n] {
				s.sock.poll(rb, time.Now(), nop)
			}
		}
		m.report("call")
	})
	// The same packets from n sockets (each to the next), sent as a pacer
	// shard sends a tick's: queued, then one io_uring submission.
	b.Run("sendmsg-io_uring", func(b *testing.B) {
		e, ss, _ := socketBench(b, n)
		rb := e.shards[0].rxBufs
		tx, err := newSendBatch(true, nil)
		if err != nil {
			b.Skip(err)
		}
		b.Cleanup(tx.close)
		pkt := make([]byte, headerSize+FrameSamples)
		m := newCPUMeter(b)
		for i := 0; i < b.N; i += n {
			m.begin()
			for j := 0; j < n && i+j < b.N; j++ {
				s := ss[j]
				s.sockMu.Lock()
				if err := tx.queue(s, pkt, ss[(j+1)%n].LocalAddr()); err != nil {
					b.Fatal(err)
				}
				s.sockMu.Unlock()
			}
			tx.flush()
			m.end(min(n, b.N-i))
			for _, s := range ss {
				s.sock.poll(rb, time.Now(), nop)
			}
		}
		if errs := ss[0].Stats().SendErrors; errs != 0 {
			b.Fatalf("%d send errors", errs)
		}
		m.report("call")
	})
}

// BenchmarkEngineTickReads is one tick over 1,000 sessions, in thread CPU
// time per session: sessions that send each other audio in pairs, their
// sockets read every tick or every other tick (ReadEvery 2); and sessions
// that receive nothing, whose sockets are read every tick (as before idle
// sockets were read less) or parked (idleWatch: not read at all).
func BenchmarkEngineTickReads(b *testing.B) {
	const n = 1000
	run := func(b *testing.B, e *Engine, ss []*Session, alwaysRead bool) {
		m := newCPUMeter(b)
		k := uint64(0)
		for range b.N {
			k++
			if alwaysRead {
				for _, s := range ss {
					s.rxIdle, s.parked = 0, false // never idle: the socket is read every tick
				}
			}
			m.begin()
			e.service(k)
			m.end(n)
		}
		m.report("session")
	}
	for _, every := range []int{1, 2} {
		b.Run(fmt.Sprintf("active/ReadEvery=%d", every), func(b *testing.B) {
			e, ss := pairedEngine(b, n)
			e.cfg.ReadEvery = every
			run(b, e, ss, false)
		})
	}
	for _, always := range []bool{true, false} {
		b.Run(fmt.Sprintf("idle/every-tick=%v", always), func(b *testing.B) {
			e := idleEngine(b, n/2)
			var ss []*Session
			for range n {
				s, err := e.NewSession()
				if err != nil {
					b.Fatal(err)
				}
				ss = append(ss, s)
			}
			for k := range uint64(idleReadTicks) { // become idle
				e.service(k + 1)
			}
			run(b, e, ss, always)
		})
	}
}

// sharedSource copies one frame, rewritten every tick, as a conference
// mixer's Endpoint hands its shared mix to every listener.
type sharedSource struct{ f *[FrameSamples]int16 }

func (s sharedSource) ReadFrame(f []int16) error {
	copy(f, s.f[:])
	return nil
}

// BenchmarkSendSharedFrame is the send side of 250 sessions of one shard
// in thread CPU time (no system call: their socket is closed) whose sources give them the same
// frame (a conference's listeners) or each its own (its talkers): the
// encoding memo encodes a shared frame once per tick and copies it.
func BenchmarkSendSharedFrame(b *testing.B) {
	const n = 250
	for _, shared := range []bool{true, false} {
		b.Run(fmt.Sprintf("shared=%v", shared), func(b *testing.B) {
			proto := socketlessSession()
			e := proto.e
			to := netip.MustParseAddrPort("127.0.0.1:4000")
			frames := make([][FrameSamples]int16, n)
			var ss []*Session
			for i := range n {
				s := newSession(e, 0, closedSocket(), closedSocket())
				s.SetRemote(Remote{Addr: to, Codec: PCMU, Direction: SendRecv})
				src := &frames[0]
				if !shared {
					src = &frames[i]
				}
				s.play = &playback{src: sharedSource{src}, done: make(chan struct{})}
				ss = append(ss, s)
			}
			r := newRand(1)
			m := newCPUMeter(b)
			b.ReportAllocs()
			b.ResetTimer()
			m.begin()
			for k := range b.N {
				for i := range frames {
					frames[i][0] = int16(r.IntN(65536)) // new audio every tick
					frames[i][FrameSamples-1] = int16(k)
				}
				for _, s := range ss {
					s.receiveTick(uint64(k) + 1)
				}
				for _, s := range ss {
					s.sendTick()
				}
			}
			m.end(b.N * n)
			m.report("session")
		})
	}
}

// processCPU returns the CPU time of the whole process.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEngineTickShards is one tick over 2,000 sessions sending each
// other audio in pairs, on one shard or two, the two sessions of a pair on
// different shards (as sessions are spread) or on one: ns/op is the tick's
// wall time (two shards on two free cores: about half), cpu-ns/session the
// process's CPU time per session and tick (what sharding costs: the
// hand-over to the worker each tick, and, with the pairs split, loopback
// sockets written on one core and read on the other).
func BenchmarkEngineTickShards(b *testing.B) {
	const n = 2000
	for _, c := range []struct {
		shards   int
		together bool
	}{{1, true}, {2, false}, {2, true}} {
		// One engine for every run of the sub-benchmark (4,000 sockets).
		e, ss := pairedShardedEngine(b, n, c.shards)
		if c.together {
			for i := 0; i < n; i += 2 {
				if err := (&Group{e: e, sh: ss[i].sh.Load()}).Adopt(ss[i+1]); err != nil {
					b.Fatal(err)
				}
			}
		}
		k := uint64(0)
		b.Run(fmt.Sprintf("shards=%d/pairs-on-one-shard=%v", c.shards, c.together), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU(b)
			b.ResetTimer()
			for range b.N {
				k++
				e.service(k)
			}
			b.StopTimer()
			b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(b.N)/n, "cpu-ns/session")
		})
		e.Close()
	}
}
