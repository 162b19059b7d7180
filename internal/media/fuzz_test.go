package media

import (
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// socketlessSession is a session for driving the receive path directly: no
// sockets, no pacer.
func socketlessSession() *Session {
	e := &Engine{
		cfg:   EngineConfig{IP: loopback, NoIOUring: true},
		clock: clock.NewFake(time.Unix(0, 0)),
		log:   slog.New(slog.DiscardHandler),
	}
	e.start = e.clock.Now()
	e.shards = []*shard{newShard(e, 0)}
	return newSession(e, 0, closedSocket(), closedSocket())
}

// FuzzReceive feeds arbitrary datagrams from a few sources to a session's
// receive path, with playout ticks in between. Whatever arrives, it must not
// panic, and playout must deliver exactly one full frame per tick.
func FuzzReceive(f *testing.F) {
	seed := func(pkts ...[]byte) []byte {
		var out []byte
		for i, p := range pkts {
			out = append(out, byte(i%3), byte(len(p)))
			out = append(out, p...)
		}
		return out
	}
	f.Add(seed(rtpPacket(0, true, 1, 160, 7, codedFrame(1)), rtpPacket(0, false, 2, 320, 7, codedFrame(2))))
	f.Add(seed(rtpPacket(101, true, 5, 1000, 9, []byte{1, 10, 0, 160}), rtpPacket(101, false, 6, 1000, 9, []byte{1, 0x8a, 1, 64})))
	f.Add(seed(rtpPacket(8, false, 65535, 1<<32-160, 1, codedFrame(3)), rtpPacket(8, false, 0, 0, 1, codedFrame(4))))
	f.Add(seed([]byte{0x81, 200, 0, 6, 1, 2, 3, 4}, []byte{0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff}))
	f.Add(seed([]byte{0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 200}, []byte{0x8f, 13}))
	sources := []netip.AddrPort{
		netip.MustParseAddrPort("127.0.0.1:4000"),
		netip.MustParseAddrPort("127.0.0.1:4002"),
		netip.MustParseAddrPort("[::1]:4000"),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := socketlessSession()
		s.SetRemote(Remote{Addr: sources[0], Codec: PCMU, EventPT: 101, Direction: SendRecv})
		frames := 0
		s.SetSink(SinkFunc(func(fr []int16) error {
			if len(fr) != FrameSamples {
				t.Fatalf("frame of %d samples", len(fr))
			}
			frames++
			return nil
		}))
		var tick uint64
		for len(data) >= 2 {
			src, n := int(data[0]), int(data[1])
			data = data[2:]
			n = min(n, len(data))
			s.handleRTP(data[:n], sources[src%len(sources)])
			data = data[n:]
			if src&4 != 0 {
				tick++
				s.e.tickNow.Store(tick)
				s.receiveTick(tick)
			}
		}
		tick++
		s.receiveTick(tick)
		if uint64(frames) != tick {
			t.Fatalf("%d frames in %d ticks", frames, tick)
		}
		st := s.Stats()
		if st.PacketsLate > st.PacketsReceived+st.PacketsDuplicate {
			t.Fatalf("inconsistent stats %+v", st)
		}
	})
}
