package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

type evPkt struct {
	ssrc, ts uint32
	marker   bool
	event    uint8
	end      bool
	dur      uint16
	tick     uint64
}

func TestDTMFReceiver(t *testing.T) {
	// A typical key press: start with marker, updates every 20 ms, three end
	// packets (RFC 4733 §2.5.1).
	press := func(ssrc, ts uint32, event uint8, tick uint64, updates int) []evPkt {
		var out []evPkt
		for i := 1; i <= updates; i++ {
			out = append(out, evPkt{ssrc, ts, i == 1, event, false, uint16(i * 160), tick})
			tick++
		}
		for range 3 {
			out = append(out, evPkt{ssrc, ts, false, event, true, uint16(updates * 160), tick})
			tick++
		}
		return out
	}
	cat := func(ps ...[]evPkt) []evPkt { return slices.Concat(ps...) }
	tests := []struct {
		name string
		pkts []evPkt
		at   uint64 // run the end timeout at this tick
		want []DTMF
	}{
		{
			name: "one press, redundant ends counted once",
			pkts: press(1, 1000, 5, 0, 5),
			want: []DTMF{{'5', ms(100)}},
		},
		{
			name: "two presses",
			pkts: cat(press(1, 1000, 1, 0, 5), press(1, 3000, 11, 20, 8)),
			want: []DTMF{{'1', ms(100)}, {'#', ms(160)}},
		},
		{
			name: "the same digit twice",
			pkts: cat(press(1, 1000, 7, 0, 4), press(1, 3000, 7, 20, 4)),
			want: []DTMF{{'7', ms(80)}, {'7', ms(80)}},
		},
		{
			name: "end packets lost: reported when the next event starts",
			pkts: cat(press(1, 1000, 2, 0, 5)[:5], press(1, 2000, 3, 10, 5)),
			want: []DTMF{{'2', ms(100)}, {'3', ms(100)}},
		},
		{
			name: "end packets lost: reported after the timeout",
			pkts: press(1, 1000, 9, 0, 6)[:6],
			at:   6 + dtmfEndTimeoutTicks,
			want: []DTMF{{'9', ms(120)}},
		},
		{
			name: "end packets lost and no timeout yet",
			pkts: press(1, 1000, 9, 0, 6)[:6],
			at:   5 + dtmfEndTimeoutTicks - 1,
		},
		{
			name: "only an end packet arrives",
			pkts: press(1, 1000, 4, 0, 5)[6:],
			want: []DTMF{{'4', ms(100)}},
		},
		{
			name: "reordered: an update after the end",
			pkts: func() []evPkt {
				p := press(1, 1000, 0, 0, 5)
				p[4], p[5] = p[5], p[4]
				return p
			}(),
			want: []DTMF{{'0', ms(100)}},
		},
		{
			name: "a stray update of an earlier event while a later one is on",
			pkts: cat(press(1, 1000, 1, 0, 5), press(1, 5000, 2, 20, 3)[:2],
				[]evPkt{{1, 1000, false, 1, false, 480, 22}}, press(1, 5000, 2, 20, 3)[2:]),
			want: []DTMF{{'1', ms(100)}, {'2', ms(60)}},
		},
		{
			// Packet captures replayed back to back (SIPp's dtmf_2833_*.pcap
			// share one SSRC and go backwards in timestamp).
			name: "captures replayed: backwards timestamps, same SSRC",
			pkts: cat(press(9, 17632, 0, 0, 7), press(9, 13280, 1, 20, 7), press(9, 17632, 0, 40, 7)),
			want: []DTMF{{'0', ms(140)}, {'1', ms(140)}, {'0', ms(140)}},
		},
		{
			name: "events that are not digits are not reported",
			pkts: cat(press(1, 1000, EventFlash, 0, 5), press(1, 3000, 200, 10, 5), press(1, 5000, 12, 20, 2)),
			want: []DTMF{{'A', ms(40)}},
		},
		{
			name: "different SSRCs are different events",
			pkts: cat(press(1, 1000, 1, 0, 3)[:2], press(2, 1000, 1, 2, 3)),
			want: []DTMF{{'1', ms(40)}, {'1', ms(60)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r dtmfReceiver
			var got []DTMF
			emit := func(d DTMF) { got = append(got, d) }
			for _, p := range tt.pkts {
				r.receive(eventKey{p.ssrc, p.ts, p.event}, p.marker, TelephoneEvent{Event: p.event, End: p.end, Duration: p.dur}, p.tick, emit)
			}
			if tt.at > 0 {
				r.tick(tt.at, emit)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// traceJob steps a DTMF job to the end and describes each tick.
func traceJob(digits string, inband bool, cancelAt int) string {
	j := newDTMFJob(digits, inband)
	var b strings.Builder
	frame := make([]int16, FrameSamples)
	const ts0 = 1000
	for tick := 0; tick < 1000 && !j.finished; tick++ {
		if tick == cancelAt {
			j.cancel.Store(true)
		}
		clear(frame)
		ts := ts0 + uint32(tick)*frameTS
		switch j.step(ts, frame) {
		case stepAudio:
			fmt.Fprintf(&b, "%3d audio\n", tick)
		case stepTone:
			lo, hi := goertzel(frame, j.lo), goertzel(frame, j.hi)
			fmt.Fprintf(&b, "%3d tone %v+%v Hz level %.0f/%.0f\n", tick, j.lo, j.hi, sqrt(lo), sqrt(hi))
		case stepEvent:
			var buf [4]byte
			j.out.MarshalTo(buf[:])
			fmt.Fprintf(&b, "%3d event ts=+%d marker=%v payload=% x (event %d end=%v duration %d)\n",
				tick, j.startTS-ts0, j.marker, buf, j.out.Event, j.out.End, j.out.Duration)
		}
	}
	if !j.finished {
		b.WriteString("not finished\n")
	}
	return b.String()
}

func TestDTMFSenderGolden(t *testing.T) {
	tests := []struct {
		file     string
		digits   string
		inband   bool
		cancelAt int
	}{
		{"senddtmf_rfc4733.golden", "1w#", false, -1},
		{"senddtmf_cancel.golden", "12", false, 2},
		{"senddtmf_inband.golden", "*D", true, -1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := traceJob(tt.digits, tt.inband, tt.cancelAt)
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Fatalf("trace of %q differs from %s:\n%s", tt.digits, path, got)
			}
		})
	}
}

// runDTMF sends digits from a to b under the fake clock and returns what b got
// and how many ticks SendDTMF took.
func runDTMF(t *testing.T, h *harness, a, b *Session, digits string) ([]DTMF, int) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- a.SendDTMF(context.Background(), digits) }()
	waitUntil(t, func() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.dtmfJob != nil }, "SendDTMF to start")
	ticks := 0
	jobDone := func() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.dtmfJob == nil }
	for ; ticks < 2000; ticks++ {
		if jobDone() { // finished in the last tick serviced
			err := <-done
			if err != nil {
				t.Fatalf("SendDTMF: %v", err)
			}
			h.advance(3, delivered([2]*Session{a, b}, [2]*Session{b, a}))
			var got []DTMF
			for {
				select {
				case d := <-b.DTMF():
					got = append(got, d)
				default:
					return got, ticks
				}
			}
		}
		h.advance(1, delivered([2]*Session{a, b}, [2]*Session{b, a}))
	}
	t.Fatal("SendDTMF did not finish")
	return nil, 0
}

func TestDTMFBothWays(t *testing.T) {
	h := newHarness(t)
	a, b := h.session(), h.session()
	connect(a, b, PCMU, 101)
	h.advance(2, nil)

	got, ticks := runDTMF(t, h, a, b, "123#")
	want := []DTMF{{'1', ms(100)}, {'2', ms(100)}, {'3', ms(100)}, {'#', ms(100)}}
	if !slices.Equal(got, want) {
		t.Fatalf("b got %v, want %v", got, want)
	}
	// Each digit: 100 ms of tone, two more end packets, the gap; the last has
	// no gap. SendDTMF returns right after the last end packet.
	const digitTicks = 5 + endRepeats - 1 // 100 ms of tone, then the repeated end packets
	gap := gapTicks - (endRepeats - 1)
	if wantTicks := 4*digitTicks + 3*gap + 1; ticks != wantTicks {
		t.Errorf("SendDTMF took %d ticks, want about %d", ticks, wantTicks)
	}

	got, ticks = runDTMF(t, h, b, a, "*w0D")
	want = []DTMF{{'*', ms(100)}, {'0', ms(100)}, {'D', ms(100)}}
	if !slices.Equal(got, want) {
		t.Fatalf("a got %v, want %v", got, want)
	}
	if wantTicks := 3*digitTicks + 2*gap + pauseTicks + 1; ticks != wantTicks {
		t.Errorf("SendDTMF with a pause took %d ticks, want about %d", ticks, wantTicks)
	}
	// The audio stream was not disturbed: nothing lost or late on either side.
	for _, s := range []*Session{a, b} {
		if st := s.Stats(); st.PacketsLost != 0 || st.PacketsLate != 0 {
			t.Fatalf("stats %+v", st)
		}
	}
}

func TestDTMFInBandWithoutTelephoneEvent(t *testing.T) {
	h := newHarness(t)
	a, b := h.session(), h.session()
	connect(a, b, PCMA, 0)
	rec := &recorder{}
	b.SetSink(rec)
	got, _ := runDTMF(t, h, a, b, "5")
	if len(got) != 0 {
		t.Fatalf("got events %v without telephone-event negotiated", got)
	}
	first, last, n := voicedFrames(rec.frames, 500)
	if n != 5 || last-first != 4 {
		t.Fatalf("tone in %d frames (%d..%d), want 5 contiguous (100 ms)", n, first, last)
	}
	var tone []int16
	for _, f := range rec.frames[first : last+1] {
		tone = append(tone, f...)
	}
	// Digit 5 is 770 + 1336 Hz; every other DTMF frequency is far below.
	p770, p1336 := goertzel(tone, 770), goertzel(tone, 1336)
	for _, f := range []float64{697, 852, 941, 1209, 1477, 1633} {
		if p := goertzel(tone, f); p*20 > p770 || p*20 > p1336 {
			t.Errorf("power at %v Hz %.3g vs %.3g/%.3g", f, p, p770, p1336)
		}
	}
}

func TestSendDTMFErrors(t *testing.T) {
	h := newHarness(t)
	a := h.session()
	if err := a.SendDTMF(context.Background(), "12x"); !errors.Is(err, ErrInvalidDigit) {
		t.Fatalf("SendDTMF(12x) = %v, want ErrInvalidDigit", err)
	}
	if err := a.SendDTMF(context.Background(), ""); err != nil {
		t.Fatalf("SendDTMF(\"\") = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.SendDTMF(ctx, "123") }()
	waitUntil(t, func() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.dtmfJob != nil }, "SendDTMF to start")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled SendDTMF = %v", err)
	}
	// The cancelled job winds down within a few ticks and frees the sender.
	h.advance(5, nil)
	go func() { done <- a.SendDTMF(context.Background(), "9") }()
	waitUntil(t, func() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.dtmfJob != nil }, "second SendDTMF to start")
	a.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("SendDTMF on a closed session = %v", err)
	}
	if _, ok := <-a.DTMF(); ok {
		t.Fatal("DTMF channel open after Close")
	}
}

// pcapRTP returns the UDP payloads of a classic pcap file of Ethernet/IPv4/UDP.
func pcapRTP(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("no %s: %v", path, err)
	}
	if len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 {
		t.Fatalf("%s: not a little-endian pcap", path)
	}
	var out [][]byte
	for off := 24; off+16 <= len(data); {
		incl := int(binary.LittleEndian.Uint32(data[off+8:]))
		pkt := data[off+16 : off+16+incl]
		off += 16 + incl
		ip := pkt[14:]
		ihl := int(ip[0]&0x0f) * 4
		out = append(out, bytes.Clone(ip[ihl+8:]))
	}
	return out
}

func TestDTMFFromSIPpCaptures(t *testing.T) {
	p := newPeer(t)
	r := newRx(t, p.addr(), 101)
	// Audio on its own SSRC, events from the captures on another.
	for i := range 3 {
		r.send(p, p.audio(i))
		r.tick(1)
	}
	for _, d := range "1101#" {
		name := string(d)
		if d == '#' {
			name = "pound"
		}
		for _, pkt := range pcapRTP(t, "/usr/share/sip-tester/dtmf_2833_"+name+".pcap") {
			r.send(p, pkt)
			r.tick(1)
		}
		r.tick(5)
	}
	var got []byte
	for {
		select {
		case d := <-r.s.DTMF():
			got = append(got, d.Digit)
			if d.Duration != 280*time.Millisecond {
				t.Errorf("digit %c lasted %v, want the captures' 280 ms", d.Digit, d.Duration)
			}
			continue
		default:
		}
		break
	}
	if string(got) != "1101#" {
		t.Fatalf("digits %q, want %q", got, "1101#")
	}
}

func TestSendDTMFOnTheWire(t *testing.T) {
	h := newHarness(t)
	p := newPeer(t)
	s := h.session()
	s.SetRemote(Remote{Addr: p.addr(), Codec: PCMU, EventPT: 101, Direction: SendRecv})
	h.advance(2, nil)
	done := make(chan error, 1)
	go func() { done <- s.SendDTMF(context.Background(), "5") }()
	waitUntil(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.dtmfJob != nil }, "SendDTMF to start")
	h.advance(10, nil)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var pk []header
	var payloads [][]byte
	for _, b := range p.drain(50 * time.Millisecond) {
		pk = append(pk, parse(t, b))
		payloads = append(payloads, b[12:])
	}
	if len(pk) != 12 {
		t.Fatalf("%d packets in 12 ticks", len(pk))
	}
	for i := 1; i < len(pk); i++ {
		if pk[i].seq != pk[i-1].seq+1 || pk[i].ssrc != pk[0].ssrc {
			t.Fatalf("packet %d: seq %d after %d, ssrc %x", i, pk[i].seq, pk[i-1].seq, pk[i].ssrc)
		}
	}
	// Two audio packets, seven event packets (RFC 4733 §2.5.1), audio again.
	start := pk[1].ts + frameTS // the event starts at the third tick
	wantDur := []uint16{160, 320, 480, 640, 800, 800, 800}
	for i, hd := range pk {
		var ev TelephoneEvent
		switch {
		case i < 2 || i >= 9:
			if hd.pt != 0 || hd.ts != pk[0].ts+uint32(i)*frameTS {
				t.Fatalf("packet %d: %+v, want audio with the tick's timestamp", i, hd)
			}
		default:
			if err := ev.Unmarshal(payloads[i]); err != nil {
				t.Fatal(err)
			}
			k := i - 2
			if hd.pt != 101 || hd.ts != start || hd.marker != (k == 0) || ev.Event != 5 ||
				ev.Duration != wantDur[k] || ev.End != (k >= 4) || ev.Volume != eventVolume {
				t.Fatalf("event packet %d: %+v %+v", k, hd, ev)
			}
		}
	}
}
