package media

import (
	"strconv"
	"strings"
)

// A Codec is an audio encoding as negotiated in SDP: the rtpmap encoding name, the
// RTP payload type and the RTP clock rate (RFC 3551 §6, RFC 4566 a=rtpmap).
type Codec struct {
	Name        string
	PayloadType uint8
	ClockRate   int
}

// The codecs a Session speaks: G.711 μ-law and A-law with their static payload
// types from RFC 3551 Table 4.
var (
	PCMU = Codec{"PCMU", 0, 8000}
	PCMA = Codec{"PCMA", 8, 8000}
)

// Static RTP payload types the receiver understands whatever was negotiated.
const (
	ptPCMU = 0
	ptCN   = 13 // RFC 3389 comfort noise: heard as silence
	ptPCMA = 8
)

// isALaw reports whether c is A-law. Anything else a Session is given is sent as
// μ-law; a zero Codec is PCMU.
func (c Codec) isALaw() bool {
	if c.Name == "" {
		return c.PayloadType == ptPCMA
	}
	return strings.EqualFold(c.Name, "PCMA")
}

// A Direction is the SDP media direction (RFC 3264 §5.1, §8.4) of a session seen
// from switchboard's side: what switchboard does. SendOnly means switchboard sends
// and does not expect to receive (switchboard put the remote on hold and plays it
// music); RecvOnly means the remote put switchboard on hold.
type Direction int

// Directions, in SDP terms: a=sendrecv, a=sendonly, a=recvonly, a=inactive.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

// String returns the SDP attribute name of d ("sendrecv"...).
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return "direction(" + strconv.Itoa(int(d)) + ")"
}

// sends reports whether switchboard sends RTP in direction d.
func (d Direction) sends() bool { return d == SendRecv || d == SendOnly }
