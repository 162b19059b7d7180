package sip

import (
	"bytes"
	"hash/fnv"
	"hash/maphash"
	"net"
	"strconv"
	"time"
)

// While the server refuses new calls, a new INVITE over UDP is answered
// from its bytes as they are read, before sipgo parses it: the 503 is built
// from the request's Via, From, To, Call-ID and CSeq lines, copied as they
// came, and the ACK the caller sends for it is dropped the same way. The
// request never gets a goroutine, a transaction or a parse; a server shedding
// load spends on each refusal about what reading it cost. Anything this does
// not recognise for certain (a To tag, a missing header, a folded line it
// cannot place) goes the ordinary way, where it is refused all the same.

// shedTagPrefix starts the To tag of the 503s sent this way, which their
// ACKs carry back.
const shedTagPrefix = "sb503"

// sipHeader is one header line of a request's head, its name as sent.
type sipHeader struct {
	name, line []byte // line: the whole line, name included
}

// headerLines returns the header lines of a SIP message's head (after the
// start line, before the blank line), appended to dst. ok is false if the
// head does not end, or a line is folded onto the next or has no colon.
func headerLines(data []byte, dst []sipHeader) (start []byte, hs []sipHeader, ok bool) {
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		return nil, dst, false
	}
	head := data[:end]
	start, head, _ = bytes.Cut(head, []byte("\r\n"))
	hs = dst
	for len(head) > 0 {
		var line []byte
		line, head, _ = bytes.Cut(head, []byte("\r\n"))
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			return start, hs, false // folded (RFC 3261 §7.3.1): the ordinary way
		}
		name, _, found := bytes.Cut(line, []byte(":"))
		if !found {
			return start, hs, false
		}
		hs = append(hs, sipHeader{name: bytes.TrimRight(name, " \t"), line: line})
	}
	return start, hs, true
}

// is reports whether h is the header long (or its compact form, one letter).
func (h sipHeader) is(long string, compact byte) bool {
	return bytes.EqualFold(h.name, []byte(long)) || (len(h.name) == 1 && (h.name[0]|0x20) == compact)
}

// value is the header's value, trimmed.
func (h sipHeader) value() []byte {
	_, v, _ := bytes.Cut(h.line, []byte(":"))
	return bytes.TrimSpace(v)
}

// rawTag returns the tag parameter of a To or From value ("" if none). A value
// whose display name is quoted is not looked into: ok false.
func rawTag(v []byte) (tag []byte, ok bool) {
	if bytes.IndexByte(v, '"') >= 0 {
		return nil, false
	}
	if i := bytes.LastIndexByte(v, '>'); i >= 0 {
		v = v[i+1:]
	}
	for _, p := range bytes.Split(v, []byte(";")) {
		k, val, _ := bytes.Cut(bytes.TrimSpace(p), []byte("="))
		if bytes.EqualFold(bytes.TrimSpace(k), []byte("tag")) {
			return bytes.TrimSpace(val), true
		}
	}
	return nil, true
}

// rawInvite is what shed503 reads of a new INVITE: the lines its response
// copies.
type rawInvite struct {
	vias                   [][]byte
	from, to, callID, cseq []byte
}

// readInvite reads data as a new INVITE (no To tag) with every header a
// response copies; ok is false for anything else, or anything it cannot read
// for certain. scratch is reused for the header lines, inv.vias for the Vias.
func readInvite(data []byte, inv *rawInvite, scratch []sipHeader) (ok bool, hs []sipHeader) {
	if !bytes.HasPrefix(data, []byte("INVITE ")) {
		return false, scratch
	}
	start, hs, ok := headerLines(data, scratch[:0])
	if !ok || !bytes.HasSuffix(start, []byte(" SIP/2.0")) {
		return false, hs
	}
	*inv = rawInvite{vias: inv.vias[:0]}
	for _, h := range hs {
		switch {
		case h.is("Via", 'v'):
			inv.vias = append(inv.vias, h.line)
		case h.is("From", 'f'):
			inv.from = h.line
		case h.is("To", 't'):
			inv.to = h.line
		case h.is("Call-ID", 'i'):
			inv.callID = h.line
		case h.is("CSeq", 0):
			inv.cseq = h.line
		}
	}
	if len(inv.vias) == 0 || inv.from == nil || inv.to == nil || inv.callID == nil || inv.cseq == nil {
		return false, hs
	}
	if tag, ok := rawTag(sipHeader{line: inv.to}.value()); !ok || tag != nil {
		return false, hs // a re-INVITE, or a To it cannot read for certain
	}
	return true, hs
}

// shed503 returns the 503 Service Unavailable for inv, with Retry-After
// retry.
func shed503(inv *rawInvite, server string, retry time.Duration) []byte {
	// The same request (a retransmission) gets the same tag (RFC 3261
	// §8.2.6.2).
	f := fnv.New64a()
	f.Write(inv.vias[0])
	f.Write(inv.callID)
	f.Write(inv.from)
	f.Write(inv.cseq)
	secs := max(1, int64((retry+time.Second-1)/time.Second))

	res := make([]byte, 0, 512)
	res = append(res, "SIP/2.0 503 Service Unavailable\r\n"...)
	for _, v := range inv.vias {
		res = append(append(res, v...), "\r\n"...)
	}
	res = append(append(res, inv.from...), "\r\n"...)
	res = append(append(res, bytes.TrimRight(inv.to, " \t")...), ";tag="+shedTagPrefix...)
	res = strconv.AppendUint(res, f.Sum64(), 36)
	res = append(res, "\r\n"...)
	res = append(append(res, inv.callID...), "\r\n"...)
	res = append(append(res, inv.cseq...), "\r\n"...)
	res = append(res, "Retry-After: "...)
	res = strconv.AppendInt(res, secs, 10)
	res = append(res, "\r\nServer: "...)
	res = append(res, server...)
	res = append(res, "\r\nContent-Length: 0\r\n\r\n"...)
	return res
}

// A recentSet is a set of keys, each remembered for retransmitWindow from
// when it was added: how long a caller may retransmit an INVITE. The reader
// keeps the Call-IDs of the new INVITEs it handed to sipgo (stampedConn), the
// server the transactions of the INVITEs that started calls (inviteMemory).
// Not safe for concurrent use.
//
// At 2,000 calls/s each set holds 64,000 keys. They are kept as 64-bit
// hashes (hash/maphash, a random seed per set, so that no caller can choose
// keys that collide; two keys share a hash once in 2^64), and times as
// offsets on the monotonic clock: nothing in the set is a pointer, so the
// garbage collector does not scan it, and adding a key allocates nothing
// but the set's growth.
type recentSet struct {
	seed  maphash.Seed
	base  time.Time // of the first add: the offsets' origin
	until map[uint64]time.Duration
	fifo  []recentEntry // from head on: in the order added, so of expiry
	head  int
}

type recentEntry struct {
	key   uint64
	until time.Duration
}

// retransmitWindow is how long an INVITE may be retransmitted: 64*T1 (RFC 3261
// §17.1.1.2, Timer B).
const retransmitWindow = 32 * time.Second

func (p *recentSet) has(key []byte, now time.Time) bool {
	if p.until == nil {
		return false
	}
	p.expire(now)
	_, ok := p.until[maphash.Bytes(p.seed, key)]
	return ok
}

func (p *recentSet) add(key []byte, now time.Time) {
	if p.until == nil {
		p.seed, p.base = maphash.MakeSeed(), now
		p.until = make(map[uint64]time.Duration)
	}
	k, u := maphash.Bytes(p.seed, key), now.Sub(p.base)+retransmitWindow
	p.until[k] = u
	p.fifo = append(p.fifo, recentEntry{k, u})
}

func (p *recentSet) expire(now time.Time) {
	off := now.Sub(p.base)
	for p.head < len(p.fifo) && off >= p.fifo[p.head].until {
		e := p.fifo[p.head]
		if u, ok := p.until[e.key]; ok && off >= u {
			delete(p.until, e.key)
		}
		p.fifo[p.head] = recentEntry{}
		p.head++
	}
	if p.head > 0 && p.head >= len(p.fifo)/2 { // amortised: each entry moves once
		p.fifo = append(p.fifo[:0], p.fifo[p.head:]...)
		p.head = 0
	}
}

// isShedAck reports whether data is the ACK of a 503 sent by shed503.
func isShedAck(data []byte, scratch []sipHeader) (bool, []sipHeader) {
	if !bytes.HasPrefix(data, []byte("ACK ")) {
		return false, scratch
	}
	_, hs, ok := headerLines(data, scratch[:0])
	if !ok {
		return false, hs
	}
	for _, h := range hs {
		if h.is("To", 't') {
			tag, ok := rawTag(h.value())
			return ok && bytes.HasPrefix(tag, []byte(shedTagPrefix)), hs
		}
	}
	return false, hs
}

// shed answers data, read from the listener c, from its bytes if it is a new
// INVITE while calls are refused (503), or drops it if it is the ACK of such
// a 503. It reports whether it took the datagram; it runs on c's reader.
func (s *Server) shed(c *stampedConn, data []byte, from *net.UDPAddr) bool {
	switch {
	case bytes.HasPrefix(data, []byte("INVITE ")):
		var ok bool
		if ok, c.headers = readInvite(data, &c.invite, c.headers); !ok || from == nil {
			return false
		}
		_, callID, _ := bytes.Cut(c.invite.callID, []byte(":"))
		callID = bytes.TrimSpace(callID)
		now := time.Now()
		if c.passed.has(callID, now) {
			return false // a retransmission: its transaction answers it
		}
		if d := s.refusing(); d > 0 && !s.isClosing() { // closing: the ordinary way answers 503 without Retry-After
			if _, err := c.WriteTo(shed503(&c.invite, s.cfg.UserAgent, d), from); err != nil {
				s.log.Debug("sip stateless response failed", "code", 503, "err", err)
			}
			return true
		}
		c.passed.add(callID, now)
		return false
	case bytes.HasPrefix(data, []byte("ACK ")):
		var ok bool
		ok, c.headers = isShedAck(data, c.headers)
		return ok
	}
	return false
}
