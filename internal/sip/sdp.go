package sip

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/switchboard-voice/switchboard/internal/media"
)

// SDP offer/answer for G.711 legs (RFC 3264 on RFC 4566 session descriptions).
//
// switchboard speaks one audio stream per call: PCMU or PCMA over RTP/AVP with
// RFC 4733 telephone-events. As the answerer it takes the first codec of the
// offer it speaks (the offerer's order of preference, RFC 3264 §6.1), the
// offer's telephone-event payload type, and answers with exactly that codec plus
// telephone-event, with the direction mirrored (sendonly↔recvonly, RFC 3264
// §6.1) and every other m= line rejected with port 0 (RFC 3264 §6). As the
// offerer it offers PCMU, PCMA and telephone-event/8000.

// eventPTDefault is the telephone-event payload type switchboard offers; 101
// is what nearly every SIP device uses.
const eventPTDefault = 101

// maxSDPSize bounds the session descriptions parsed: a G.711 offer is a few
// hundred bytes; anything past this is refused rather than parsed.
const maxSDPSize = 16 << 10

// sessionDesc is a session description reduced to what a G.711 leg needs.
type sessionDesc struct {
	// addr is where the far end receives RTP (the c= address, media level over
	// session level, and the m= port). Its address is unspecified for the old
	// c=0.0.0.0 hold (RFC 3264 §8.4).
	addr netip.AddrPort
	// codecs are the audio codecs switchboard speaks, in the description's order.
	codecs []media.Codec
	// eventPT is the telephone-event/8000 payload type; 0 when absent.
	eventPT uint8
	// eventFmtp is the fmtp of the telephone-event payload (the events offered).
	eventFmtp string
	// dir is the direction attribute as written, from the writer's point of view.
	dir media.Direction
	// ptime is the a=ptime of the audio stream in milliseconds; 0 when absent.
	ptime int
	// audio is the index of the m= line used; lines are all m= lines, kept to
	// reject the others in an answer.
	audio int
	lines []mline
}

// mline is what an answer must repeat of an offered m= line it rejects.
type mline struct {
	media, proto, format string
}

// hold reports whether the description puts the stream on hold the RFC 2543
// way, with a connection address of 0.0.0.0.
func (d *sessionDesc) hold() bool { return d.addr.Addr().IsUnspecified() }

// parseSDP parses a session description. It fails with ErrMalformedSDP when the
// text is not SDP or lacks what RTP needs (a connection address), and with
// ErrNoSharedCodec when no audio stream carries PCMU or PCMA over RTP/AVP.
func parseSDP(body []byte) (*sessionDesc, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformedSDP)
	}
	if len(body) > maxSDPSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformedSDP, len(body))
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedSDP, err)
	}
	d := &sessionDesc{audio: -1, lines: make([]mline, 0, len(sd.MediaDescriptions))}
	sessionDir, _ := directionOf(sd.Attributes)
	sawAudio := false
	for i, md := range sd.MediaDescriptions {
		ml := mline{media: md.MediaName.Media, proto: strings.Join(md.MediaName.Protos, "/")}
		if len(md.MediaName.Formats) > 0 {
			ml.format = md.MediaName.Formats[0]
		}
		d.lines = append(d.lines, ml)
		if d.audio >= 0 || md.MediaName.Media != "audio" {
			continue
		}
		sawAudio = true
		// RFC 3264 §6: a port of zero rejects (or disables) the stream. Only
		// plain RTP/AVP (and AVPF, its superset) is spoken: no SRTP.
		if md.MediaName.Port.Value == 0 || (ml.proto != "RTP/AVP" && ml.proto != "RTP/AVPF") {
			continue
		}
		codecs, eventPT, eventFmtp := formatsOf(md)
		if len(codecs) == 0 {
			continue
		}
		ci := md.ConnectionInformation
		if ci == nil {
			ci = sd.ConnectionInformation
		}
		if ci == nil || ci.Address == nil {
			return nil, fmt.Errorf("%w: no connection address (c=) for the audio stream", ErrMalformedSDP)
		}
		ip, err := netip.ParseAddr(ci.Address.Address)
		if err != nil {
			return nil, fmt.Errorf("%w: connection address %q is not an ip address", ErrMalformedSDP, ci.Address.Address)
		}
		if md.MediaName.Port.Value < 0 || md.MediaName.Port.Value > 65535 {
			return nil, fmt.Errorf("%w: port %d", ErrMalformedSDP, md.MediaName.Port.Value)
		}
		d.audio = i
		d.addr = netip.AddrPortFrom(ip.Unmap(), uint16(md.MediaName.Port.Value))
		d.codecs, d.eventPT, d.eventFmtp = codecs, eventPT, eventFmtp
		d.dir = sessionDir
		if dir, ok := directionOf(md.Attributes); ok {
			d.dir = dir
		}
		if v, ok := md.Attribute("ptime"); ok {
			if p, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && p > 0 && p <= 1000 {
				d.ptime = p
			}
		}
	}
	if d.audio < 0 {
		if !sawAudio {
			return nil, fmt.Errorf("%w: no audio stream", ErrNoSharedCodec)
		}
		return nil, fmt.Errorf("%w: no PCMU or PCMA over RTP/AVP", ErrNoSharedCodec)
	}
	return d, nil
}

// directionOf returns the direction attribute among attrs (RFC 3264 §5.1).
func directionOf(attrs []sdp.Attribute) (media.Direction, bool) {
	for _, a := range attrs {
		switch a.Key {
		case "sendrecv":
			return media.SendRecv, true
		case "sendonly":
			return media.SendOnly, true
		case "recvonly":
			return media.RecvOnly, true
		case "inactive":
			return media.Inactive, true
		}
	}
	return media.SendRecv, false
}

// formatsOf returns the G.711 codecs of an m= line in its order, and its
// telephone-event/8000 payload type and fmtp. A format with an a=rtpmap is
// known by its encoding name (RFC 4566 §6); one without is known by its static
// payload type (RFC 3551 Table 4).
func formatsOf(md *sdp.MediaDescription) (codecs []media.Codec, eventPT uint8, eventFmtp string) {
	rtpmap := make(map[uint8]string, len(md.MediaName.Formats))
	fmtp := make(map[uint8]string)
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" && a.Key != "fmtp" {
			continue
		}
		ptText, rest, ok := strings.Cut(strings.TrimSpace(a.Value), " ")
		if !ok {
			continue
		}
		pt, err := strconv.ParseUint(ptText, 10, 7)
		if err != nil {
			continue
		}
		if a.Key == "rtpmap" {
			rtpmap[uint8(pt)] = strings.TrimSpace(rest)
		} else {
			fmtp[uint8(pt)] = strings.TrimSpace(rest)
		}
	}
	for _, f := range md.MediaName.Formats {
		pt64, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue // not an RTP payload type: ignored
		}
		pt := uint8(pt64)
		name, rate := "", 0
		if m, ok := rtpmap[pt]; ok {
			enc, r, _ := strings.Cut(m, "/")
			r, _, _ = strings.Cut(r, "/")
			name = strings.ToUpper(enc)
			rate, _ = strconv.Atoi(r)
		} else {
			switch pt {
			case media.PCMU.PayloadType:
				name, rate = "PCMU", 8000
			case media.PCMA.PayloadType:
				name, rate = "PCMA", 8000
			}
		}
		if rate != 8000 {
			continue
		}
		switch name {
		case "PCMU", "PCMA":
			if !hasCodec(codecs, name) {
				codecs = append(codecs, media.Codec{Name: name, PayloadType: pt, ClockRate: 8000})
			}
		case "TELEPHONE-EVENT":
			if eventPT == 0 && pt != 0 {
				eventPT, eventFmtp = pt, fmtp[pt]
			}
		}
	}
	return codecs, eventPT, eventFmtp
}

func hasCodec(codecs []media.Codec, name string) bool {
	for _, c := range codecs {
		if c.Name == name {
			return true
		}
	}
	return false
}

// negotiation is the outcome of offer/answer for the audio stream.
type negotiation struct {
	codec     media.Codec
	eventPT   uint8
	eventFmtp string
	// remote is where to send RTP; its address is unspecified on c=0.0.0.0 hold.
	remote netip.AddrPort
	// local is switchboard's direction (what it does), the mirror of the far
	// end's declared one; it is what the session runs with and what an answer
	// declares.
	local media.Direction
}

// negotiate picks the codec for an offer: keep, when the offer still carries
// it (a re-INVITE must not switch codecs under a running call), else the first
// codec of the offer. The offer's telephone-event payload type is used as is.
func (d *sessionDesc) negotiate(keep string) negotiation {
	n := negotiation{codec: d.codecs[0], eventPT: d.eventPT, eventFmtp: d.eventFmtp, remote: d.addr}
	for _, c := range d.codecs {
		if keep != "" && c.Name == keep {
			n.codec = c
		}
	}
	n.local = mirror(d.remoteDirection())
	return n
}

// remoteDirection is what the far end does, with the old hold (c=0.0.0.0,
// RFC 3264 §8.4) read as "it does not receive".
func (d *sessionDesc) remoteDirection() media.Direction {
	dir := d.dir
	if d.hold() {
		switch dir {
		case media.SendRecv:
			dir = media.SendOnly
		case media.RecvOnly:
			dir = media.Inactive
		}
	}
	return dir
}

// mirror turns the far end's direction into ours (RFC 3264 §6.1): if it only
// sends, we only receive.
func mirror(d media.Direction) media.Direction {
	switch d {
	case media.SendOnly:
		return media.RecvOnly
	case media.RecvOnly:
		return media.SendOnly
	}
	return d
}

// localSDP identifies switchboard's side of a session across the offers and
// answers of one dialog (RFC 4566 §5.2: the version grows with every change).
type localSDP struct {
	addr    netip.AddrPort
	id      uint64
	version uint64
}

func (l *localSDP) base() *sdp.SessionDescription {
	nettype := "IP4"
	if l.addr.Addr().Is6() {
		nettype = "IP6"
	}
	ip := l.addr.Addr().String()
	return &sdp.SessionDescription{
		Version: 0,
		Origin: sdp.Origin{
			Username: "switchboard", SessionID: l.id, SessionVersion: l.version,
			NetworkType: "IN", AddressType: nettype, UnicastAddress: ip,
		},
		SessionName: "switchboard",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: nettype, Address: &sdp.Address{Address: ip},
		},
		TimeDescriptions: []sdp.TimeDescription{{Timing: sdp.Timing{}}},
	}
}

func audioLine(port uint16, codecs []media.Codec, eventPT uint8, eventFmtp string, dir media.Direction) *sdp.MediaDescription {
	md := &sdp.MediaDescription{
		MediaName: sdp.MediaName{
			Media: "audio", Port: sdp.RangedPort{Value: int(port)}, Protos: []string{"RTP", "AVP"},
		},
	}
	for _, c := range codecs {
		pt := strconv.Itoa(int(c.PayloadType))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", pt+" "+c.Name+"/8000"))
	}
	if eventPT != 0 {
		pt := strconv.Itoa(int(eventPT))
		if eventFmtp == "" {
			eventFmtp = "0-16"
		}
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes,
			sdp.NewAttribute("rtpmap", pt+" telephone-event/8000"),
			sdp.NewAttribute("fmtp", pt+" "+eventFmtp))
	}
	md.Attributes = append(md.Attributes,
		sdp.NewAttribute("ptime", "20"),
		sdp.NewPropertyAttribute(dir.String()))
	return md
}

// answer writes the SDP answer to offer for negotiation n (RFC 3264 §6): the
// same number of m= lines as the offer, the audio one answered with exactly one
// codec and telephone-event, the others rejected with port 0.
func (l *localSDP) answer(offer *sessionDesc, n negotiation) []byte {
	sd := l.base()
	for i, ml := range offer.lines {
		if i == offer.audio {
			sd.MediaDescriptions = append(sd.MediaDescriptions,
				audioLine(l.addr.Port(), []media.Codec{n.codec}, n.eventPT, n.eventFmtp, n.local))
			continue
		}
		md := &sdp.MediaDescription{MediaName: sdp.MediaName{
			Media: ml.media, Port: sdp.RangedPort{Value: 0}, Protos: strings.Split(ml.proto, "/"),
		}}
		if ml.format != "" {
			md.MediaName.Formats = []string{ml.format}
		}
		sd.MediaDescriptions = append(sd.MediaDescriptions, md)
	}
	b, _ := sd.Marshal() // pion's Marshal has no failure path
	return b
}

// offer writes switchboard's SDP offer: PCMU, PCMA and telephone-event.
func (l *localSDP) offer(dir media.Direction) []byte {
	sd := l.base()
	sd.MediaDescriptions = []*sdp.MediaDescription{
		audioLine(l.addr.Port(), []media.Codec{media.PCMU, media.PCMA}, eventPTDefault, "0-16", dir),
	}
	b, _ := sd.Marshal() // pion's Marshal has no failure path
	return b
}

// answerToOffer reads the far end's answer to switchboard's offer (RFC 3264
// §7): the codec is the first of the answer's that switchboard offered.
func answerToOffer(body []byte) (negotiation, error) {
	d, err := parseSDP(body)
	if err != nil {
		return negotiation{}, err
	}
	return d.negotiate(""), nil
}
