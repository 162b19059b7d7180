package media

import (
	"encoding/binary"
	"fmt"
)

// TelephoneEventSize is the size of one RFC 4733 event block.
const TelephoneEventSize = 4

// Telephone-event codes for DTMF, RFC 4733 §3.2 Table 1.
const (
	EventStar  uint8 = 10
	EventPound uint8 = 11
	EventA     uint8 = 12
	EventD     uint8 = 15
	// EventFlash is the hook flash, RFC 4733 §3.2.
	EventFlash uint8 = 16
)

// A TelephoneEvent is one event block of the RFC 4733 §2.3 payload format:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The R bit is reserved: sent as zero, ignored on receipt (§2.3.3).
type TelephoneEvent struct {
	// Event is the event code (§2.3.1); 0-15 are the DTMF digits.
	Event uint8
	// End marks the final packet(s) of the event (§2.3.2, §2.5.1.4).
	End bool
	// Volume is the power level as a positive number of dBm0 below zero,
	// 0 to 63 (§2.3.4).
	Volume uint8
	// Duration is the time since the event began, in RTP timestamp units
	// (§2.3.5): at 8 kHz, 8 units per millisecond.
	Duration uint16
}

// MarshalTo writes e into the first TelephoneEventSize bytes of b and returns the
// number of bytes written. Volume is truncated to its 6 bits.
func (e TelephoneEvent) MarshalTo(b []byte) (int, error) {
	if len(b) < TelephoneEventSize {
		return 0, fmt.Errorf("marshal telephone-event into %d bytes: %w", len(b), ErrShortBuffer)
	}
	b[0] = e.Event
	b[1] = e.Volume & 0x3f
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], e.Duration)
	return TelephoneEventSize, nil
}

// Unmarshal decodes the first event block of an RFC 4733 payload. Bytes after the
// first block are not examined; use ParseTelephoneEvents for packed events.
func (e *TelephoneEvent) Unmarshal(b []byte) error {
	if len(b) < TelephoneEventSize {
		return fmt.Errorf("telephone-event payload of %d bytes: %w", len(b), ErrShortPayload)
	}
	e.Event = b[0]
	e.End = b[1]&0x80 != 0
	e.Volume = b[1] & 0x3f
	e.Duration = binary.BigEndian.Uint16(b[2:])
	return nil
}

// ParseTelephoneEvents appends to dst every event block of payload and returns the
// extended slice. RFC 4733 §2.5.1.5 allows several consecutive events packed in one
// packet, each block following the previous one in time; a trailing fragment
// shorter than a block is ignored. A payload without any complete block is an
// error wrapping ErrShortPayload.
func ParseTelephoneEvents(dst []TelephoneEvent, payload []byte) ([]TelephoneEvent, error) {
	if len(payload) < TelephoneEventSize {
		return dst, fmt.Errorf("telephone-event payload of %d bytes: %w", len(payload), ErrShortPayload)
	}
	for len(payload) >= TelephoneEventSize {
		var e TelephoneEvent
		_ = e.Unmarshal(payload) // cannot fail: length checked
		dst = append(dst, e)
		payload = payload[TelephoneEventSize:]
	}
	return dst, nil
}

// EventDigit returns the DTMF character of an RFC 4733 §3.2 event code: '0'-'9',
// '*', '#', 'A'-'D'. ok is false for codes that are not DTMF digits.
func EventDigit(event uint8) (digit byte, ok bool) {
	switch {
	case event <= 9:
		return '0' + event, true
	case event == EventStar:
		return '*', true
	case event == EventPound:
		return '#', true
	case event >= EventA && event <= EventD:
		return 'A' + event - EventA, true
	}
	return 0, false
}

// DigitEvent returns the RFC 4733 §3.2 event code of a DTMF character; letters
// may be either case. ok is false for anything else.
func DigitEvent(digit byte) (event uint8, ok bool) {
	switch {
	case digit >= '0' && digit <= '9':
		return digit - '0', true
	case digit == '*':
		return EventStar, true
	case digit == '#':
		return EventPound, true
	case digit >= 'A' && digit <= 'D':
		return EventA + digit - 'A', true
	case digit >= 'a' && digit <= 'd':
		return EventA + digit - 'a', true
	}
	return 0, false
}
