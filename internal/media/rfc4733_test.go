package media

import (
	"errors"
	"slices"
	"testing"
)

func TestTelephoneEventWireFormat(t *testing.T) {
	tests := []struct {
		ev   TelephoneEvent
		wire []byte
	}{
		// RFC 4733 §2.3: event, E|R|volume, duration (network order).
		{TelephoneEvent{Event: 5, Volume: 10, Duration: 160}, []byte{0x05, 0x0a, 0x00, 0xa0}},
		{TelephoneEvent{Event: EventPound, End: true, Volume: 10, Duration: 800}, []byte{0x0b, 0x8a, 0x03, 0x20}},
		{TelephoneEvent{Event: 255, End: true, Volume: 63, Duration: 65535}, []byte{0xff, 0xbf, 0xff, 0xff}},
		{TelephoneEvent{Event: 0}, []byte{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		var b [4]byte
		n, err := tt.ev.MarshalTo(b[:])
		if err != nil || n != 4 || !slices.Equal(b[:], tt.wire) {
			t.Errorf("MarshalTo(%+v) = % x, %d, %v; want % x", tt.ev, b, n, err, tt.wire)
		}
		var got TelephoneEvent
		if err := got.Unmarshal(tt.wire); err != nil || got != tt.ev {
			t.Errorf("Unmarshal(% x) = %+v, %v; want %+v", tt.wire, got, err, tt.ev)
		}
	}
	// The reserved bit is ignored on receipt; volume beyond 6 bits is truncated.
	var got TelephoneEvent
	if err := got.Unmarshal([]byte{1, 0x40 | 0x05, 0, 1}); err != nil || got != (TelephoneEvent{Event: 1, Volume: 5, Duration: 1}) {
		t.Errorf("R bit set: %+v %v", got, err)
	}
	if _, err := (TelephoneEvent{}).MarshalTo(make([]byte, 3)); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("MarshalTo short buffer: %v", err)
	}
}

func TestParseTelephoneEvents(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    []TelephoneEvent
		err     error
	}{
		{"empty", nil, nil, ErrShortPayload},
		{"three bytes", []byte{1, 2, 3}, nil, ErrShortPayload},
		{"one", []byte{1, 0x8a, 0, 160}, []TelephoneEvent{{1, true, 10, 160}}, nil},
		{"one with trailing bytes", []byte{1, 0x8a, 0, 160, 9, 9}, []TelephoneEvent{{1, true, 10, 160}}, nil},
		{
			"packed (RFC 4733 §2.5.1.5)",
			[]byte{1, 0x8a, 0, 160, 2, 0x0a, 0, 80},
			[]TelephoneEvent{{1, true, 10, 160}, {2, false, 10, 80}},
			nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTelephoneEvents(nil, tt.payload)
			if !errors.Is(err, tt.err) || !slices.Equal(got, tt.want) {
				t.Fatalf("got %+v, %v; want %+v, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestDigitEventMapping(t *testing.T) {
	for i := range 256 {
		d, ok := EventDigit(uint8(i))
		if ok != (i <= 15) {
			t.Fatalf("EventDigit(%d) ok=%v", i, ok)
		}
		if !ok {
			continue
		}
		back, ok := DigitEvent(d)
		if !ok || back != uint8(i) {
			t.Fatalf("DigitEvent(EventDigit(%d)=%q) = %d, %v", i, d, back, ok)
		}
	}
	for d, want := range map[byte]uint8{'0': 0, '9': 9, '*': 10, '#': 11, 'A': 12, 'd': 15} {
		if got, ok := DigitEvent(d); !ok || got != want {
			t.Errorf("DigitEvent(%q) = %d, %v; want %d", d, got, ok, want)
		}
	}
	for _, d := range []byte{'e', 'E', 'w', ' ', 0, '+'} {
		if _, ok := DigitEvent(d); ok {
			t.Errorf("DigitEvent(%q) ok", d)
		}
	}
}

func FuzzParseTelephoneEvents(f *testing.F) {
	f.Add([]byte{1, 0x8a, 0, 160})
	f.Add([]byte{1, 0x8a, 0, 160, 2, 0x0a, 0, 80, 7})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := ParseTelephoneEvents(nil, b)
		if (err != nil) != (len(b) < TelephoneEventSize) {
			t.Fatalf("err %v for %d bytes", err, len(b))
		}
		if len(evs) != len(b)/TelephoneEventSize {
			t.Fatalf("%d events from %d bytes", len(evs), len(b))
		}
		// What was parsed marshals back to the same bytes, but for the R bit.
		for i, ev := range evs {
			var w [4]byte
			if _, err := ev.MarshalTo(w[:]); err != nil {
				t.Fatal(err)
			}
			in := b[i*4 : i*4+4]
			if w[0] != in[0] || w[1] != in[1]&^0x40 || w[2] != in[2] || w[3] != in[3] {
				t.Fatalf("round trip % x -> % x", in, w)
			}
		}
	})
}

// FuzzDTMFReceiver feeds arbitrary packet sequences to the event receiver: it
// must never panic, never report more digits than end packets plus starts, and
// report only DTMF digits.
func FuzzDTMFReceiver(f *testing.F) {
	f.Add([]byte{0, 1, 0x80, 5, 0x8a, 3, 0x20})
	f.Add([]byte{0, 1, 0x01, 5, 0x0a, 0, 0xa0, 1, 1, 0x00, 5, 0x8a, 3, 0x20, 2, 1, 0x00, 5, 0x8a, 3, 0x20})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r dtmfReceiver
		var got []DTMF
		emit := func(d DTMF) {
			if _, ok := DigitEvent(d.Digit); !ok || d.Duration < 0 {
				t.Fatalf("bad digit %+v", d)
			}
			got = append(got, d)
		}
		var tick uint64
		packets := 0
		for len(b) >= 7 {
			// tick delta, ssrc/ts selector, marker|ts, event, flags, duration
			tick += uint64(b[0] % 8)
			key := eventKey{ssrc: uint32(b[1] % 3), ts: uint32(b[2]&0x7f) * 160, event: b[3] % 20}
			ev := TelephoneEvent{Event: key.event, End: b[4]&0x80 != 0, Volume: b[4] & 0x3f, Duration: uint16(b[5])<<8 | uint16(b[6])}
			r.receive(key, b[2]&0x80 != 0, ev, tick, emit)
			r.tick(tick, emit)
			packets++
			b = b[7:]
		}
		r.tick(tick+dtmfEndTimeoutTicks, emit)
		if len(got) > packets {
			t.Fatalf("%d digits from %d packets", len(got), packets)
		}
	})
}
