package main

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media/g711"
)

// The marked audio survives what a bridge does to it: u-law decoded to
// linear and encoded again by switchboard's codec.
func TestMarksSurviveTranscoding(t *testing.T) {
	a := markedAudio(250)
	pcm := make([]int16, len(a))
	g711.DecodeUlaw(pcm, a)
	back := make([]byte, len(a))
	g711.EncodeUlaw(back, pcm)
	for f := range 250 {
		fr := back[f*frameBytes : (f+1)*frameBytes]
		if !bytes.Equal(fr[:markSize], a[f*frameBytes:f*frameBytes+markSize]) {
			t.Fatalf("frame %d: mark % x became % x", f, a[f*frameBytes:f*frameBytes+markSize], fr[:markSize])
		}
		if i, ok := findMark(fr, 250); !ok || i != f {
			t.Fatalf("frame %d: findMark = %d, %v", f, i, ok)
		}
	}
	// Our encoder is G.711's: the tone is the same octets as switchboard's.
	diff := 0
	for i := range a {
		if a[i] != back[i] {
			diff++
		}
	}
	if diff > 0 {
		t.Errorf("%d octets changed by decode+encode", diff)
	}
}

// Whatever the alignment of the payloads to the frames, each payload gives
// the index of the frame it holds most of, and the tone gives no false mark.
func TestFindMarkAnyAlignment(t *testing.T) {
	const n = 50
	a := markedAudio(n)
	loop := append(append([]byte(nil), a...), a...)
	for d := range frameBytes {
		for f := 1; f < n; f++ {
			start := f*frameBytes - d
			i, ok := findMark(loop[start:start+frameBytes], n)
			if !ok || i != f {
				t.Fatalf("offset %d, frame %d: findMark = %d, %v", d, f, i, ok)
			}
		}
	}
	tone := markedAudio(n)
	for f := range n { // the tone alone, marks overwritten with the tone's neighbours
		copy(tone[f*frameBytes:], tone[f*frameBytes+markSize:f*frameBytes+2*markSize])
		copy(tone[f*frameBytes+80:], tone[f*frameBytes+80+markSize:f*frameBytes+80+2*markSize])
	}
	for off := 0; off+frameBytes <= len(tone); off += 7 {
		if i, ok := findMark(tone[off:off+frameBytes], n); ok {
			t.Fatalf("a false mark (%d) in the tone at %d", i, off)
		}
	}
}

func rtp(seq uint16, payload []byte) []byte {
	b := []byte{0x80, 0, byte(seq >> 8), byte(seq), 0, 0, 0, 0, 1, 2, 3, 4}
	return append(b, payload...)
}

func TestCounting(t *testing.T) {
	const n = 10
	a := markedAudio(n)
	fr := func(i int) []byte { return a[i*frameBytes : (i+1)*frameBytes] }
	silence := bytes.Repeat([]byte{0xff}, frameBytes)
	p := &peer{audio: a, frames: n, streams: map[netip.AddrPort]*stream{}}
	from := netip.MustParseAddrPort("127.0.0.1:10000")
	now := time.Now()
	seq := uint16(65530)
	send := func(b []byte) { p.packet(from, rtp(seq, b), now); seq++ }
	send(silence) // before the bridge: not a gap
	send(fr(8))
	send(fr(9))
	send(fr(0)) // the file loops
	send(silence)
	send(fr(1)) // one unmarked frame in between
	send(fr(1)) // repeated
	seq += 2    // two packets lost on the way
	send(fr(4)) // frames 2 and 3 missing
	p.packet(from, []byte("junk"), now)
	s := p.streams[from]
	want := counters{rx: 8, seqLost: 2, marked: 6, lost: 2, repeated: 1, gap: 1, other: 1}
	if s.counters != want {
		t.Errorf("counters %+v, want %+v", s.counters, want)
	}
}
