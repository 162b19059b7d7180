package rtpio

import "encoding/binary"

const (
	HeaderSize = 12 // RTP fixed header (RFC 3550 §5.1)
	PTPCMU     = 0  // payload type of G.711 u-law
)

// Payload returns the payload of a PCMU RTP packet, its sequence number and
// timestamp; ok is false when b is not one.
func Payload(b []byte) (payload []byte, seq uint16, ts uint32, ok bool) {
	if len(b) < HeaderSize || b[0]>>6 != 2 || b[1]&0x7f != PTPCMU {
		return nil, 0, 0, false
	}
	off := HeaderSize + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 { // header extension
		if len(b) < off+4 {
			return nil, 0, 0, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 && end > off { // padding
		end -= int(b[end-1])
	}
	if off > end {
		return nil, 0, 0, false
	}
	return b[off:end], binary.BigEndian.Uint16(b[2:]), binary.BigEndian.Uint32(b[4:]), true
}

// AppendHeader appends the fixed header of a PCMU RTP packet to buf.
func AppendHeader(buf []byte, seq uint16, ts, ssrc uint32) []byte {
	var h [HeaderSize]byte
	h[0] = 0x80
	h[1] = PTPCMU
	binary.BigEndian.PutUint16(h[2:], seq)
	binary.BigEndian.PutUint32(h[4:], ts)
	binary.BigEndian.PutUint32(h[8:], ssrc)
	return append(buf, h[:]...)
}
