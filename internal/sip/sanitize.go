package sip

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Malformed requests get a 400, not silence.
//
// sipgo drops a message whose start line or core headers do not parse: the
// sender, which never hears back, retransmits until its timers give up. RFC
// 3261 asks for a 400 (Bad Request) wherever a response can still be routed,
// that is wherever the Via header is readable (§8.2, §16.3, §18.3). Two cheap
// measures make that so without parsing anything twice:
//
//   - lenientHeaders wraps sipgo's header parsers so that a From, To, Call-ID,
//     CSeq, Via, Contact, Max-Forwards, Content-Type or Content-Length that does
//     not parse is kept as an unparsed header instead of failing the whole
//     message. The typed accessor (req.From()) is then nil while the header is
//     present, which requestProblem reports; a bad CSeq or Via is answered
//     400 by sipgo's transaction layer itself, which cannot key a transaction
//     without them.
//   - sanitizeDatagram, run on each UDP datagram before parsing, replaces an
//     unparseable Request-URI with a placeholder, fixes a Content-Length larger
//     than the body it announces (RFC 3261 §18.3: a request that is too short
//     gets a 400), adding a markerHeader naming the problem, so the request
//     reaches a handler that answers 400. It also turns bare LF line ends of
//     the header section into CRLF, which is harmless leniency (RFC 3261 §7.5
//     asks for CRLF; hand-made tools send LF). On a well-formed datagram it only reads the start line,
//     parses the Request-URI and finds the Content-Length: about a tenth of
//     the cost of parsing the message.

// markerHeader carries the problems sanitizeDatagram found to the handlers.
const markerHeader = "X-Switchboard-Malformed"

// lenientHeaders returns sipgo's header parsers with the core ones made
// lenient (see above).
func lenientHeaders() sip.HeadersParser {
	base := sip.DefaultHeadersParser()
	out := make(sip.HeadersParser, len(base))
	for name, p := range base {
		out[name] = p
	}
	for _, name := range []string{
		"from", "f", "to", "t", "call-id", "i", "cseq", "via", "v", "contact", "m",
		"max-forwards", "content-type", "c", "content-length", "l",
	} {
		if p, ok := base[name]; ok {
			out[name] = lenient(p)
		}
	}
	return out
}

// lenient wraps a header parser: a value it cannot parse is kept as an
// unparsed header. The parser's own signal for comma-separated values (an
// error whose text is "comma detected", used by Via and Contact) is passed on.
func lenient(p sip.HeaderParser) sip.HeaderParser {
	return func(name []byte, text string) (sip.Header, error) {
		h, err := p(name, text)
		if err == nil || err.Error() == "comma detected" {
			return h, err
		}
		return sip.NewHeader(canonicalHeaderName(string(name)), text), nil
	}
}

// canonicalHeaderName expands compact forms (RFC 3261 §7.3.3) and restores the
// usual capitalisation of the core headers.
func canonicalHeaderName(lower string) string {
	switch lower {
	case "f", "from":
		return "From"
	case "t", "to":
		return "To"
	case "i", "call-id":
		return "Call-ID"
	case "cseq":
		return "CSeq"
	case "v", "via":
		return "Via"
	case "m", "contact":
		return "Contact"
	case "max-forwards":
		return "Max-Forwards"
	case "c", "content-type":
		return "Content-Type"
	case "l", "content-length":
		return "Content-Length"
	}
	return lower
}

// requestProblem names what makes a parsed request unusable ("" when nothing
// does): a problem sanitizeDatagram marked, or a core header that is missing or
// did not parse (RFC 3261 §8.1.1 lists those a request must carry).
func requestProblem(req *sip.Request) string {
	if h := req.GetHeader(markerHeader); h != nil {
		return h.Value()
	}
	check := func(ok bool, name string) string {
		if ok {
			return ""
		}
		if req.GetHeader(name) != nil {
			return "malformed " + name + " header"
		}
		return "missing " + name + " header"
	}
	for _, p := range []string{
		check(req.From() != nil, "From"),
		check(req.To() != nil, "To"),
		check(req.CallID() != nil, "Call-ID"),
		check(req.CSeq() != nil, "CSeq"),
		check(req.Via() != nil, "Via"),
	} {
		if p != "" {
			return p
		}
	}
	if req.GetHeader("Max-Forwards") != nil && req.MaxForwards() == nil {
		return "malformed Max-Forwards header"
	}
	// A Content-Length that did not parse is kept unparsed, and the parser
	// then adds one of its own: two of them.
	if len(req.GetHeaders("Content-Length")) > 1 || (req.GetHeader("Content-Length") != nil && req.ContentLength() == nil) {
		return "malformed Content-Length header"
	}
	if req.GetHeader("Content-Type") != nil && req.ContentType() == nil {
		return "malformed Content-Type header"
	}
	if req.GetHeader("Contact") != nil && req.Contact() == nil {
		return "malformed Contact header"
	}
	if cseq := req.CSeq(); cseq != nil && cseq.MethodName != req.Method && !(req.Method == sip.ACK && cseq.MethodName == sip.INVITE) {
		return "CSeq method does not match the request method"
	}
	return ""
}

// sanitizeDatagram repairs what would make sipgo drop a UDP datagram carrying a
// request (see the comment at the top of this file). It returns data itself
// when there is nothing to repair.
func sanitizeDatagram(data []byte) []byte {
	if len(data) < 16 {
		return data
	}
	var problems []string
	// Bare LF line ends in the header section (some hand-made tools send them).
	if bytes.IndexByte(data, '\r') < 0 {
		if end := bytes.Index(data, []byte("\n\n")); end > 0 {
			head := bytes.ReplaceAll(data[:end+1], []byte("\n"), []byte("\r\n"))
			fixed := make([]byte, 0, len(head)+2+len(data)-end-2)
			fixed = append(fixed, head...)
			fixed = append(fixed, "\r\n"...)
			data = append(fixed, data[end+2:]...)
		}
	}
	lineEnd := bytes.Index(data, []byte("\r\n"))
	if lineEnd < 0 {
		return data
	}
	startLine := data[:lineEnd]
	if bytes.HasPrefix(startLine, []byte("SIP/")) {
		return data // a response: nothing to answer
	}
	method, rest, ok := bytes.Cut(startLine, []byte(" "))
	if !ok || !isToken(method) || !bytes.HasSuffix(rest, []byte(" SIP/2.0")) {
		return data // not a request line: sipgo drops it, there is no one to answer
	}
	uri := string(bytes.TrimSuffix(rest, []byte(" SIP/2.0")))
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil || u.Wildcard || strings.ContainsAny(uri, " \t") {
		line := make([]byte, 0, len(method)+32)
		line = append(line, method...)
		line = append(line, " sip:invalid.invalid SIP/2.0"...)
		data = append(line, data[lineEnd:]...)
		lineEnd = len(line)
		problems = append(problems, "malformed Request-URI")
	}
	// RFC 3261 §18.3: a Content-Length larger than the datagram's body.
	if hdrEnd := bytes.Index(data, []byte("\r\n\r\n")); hdrEnd > 0 {
		body := len(data) - hdrEnd - 4
		if off, n, ok := contentLengthValue(data[:hdrEnd]); ok && n > body {
			fixed := make([]byte, 0, len(data))
			fixed = append(fixed, data[:off.start]...)
			fixed = strconv.AppendInt(fixed, int64(body), 10)
			fixed = append(fixed, data[off.end:]...)
			data = fixed
			problems = append(problems, "Content-Length "+strconv.Itoa(n)+" larger than the body")
		}
	}
	if len(problems) == 0 {
		return data
	}
	marker := markerHeader + ": " + strings.Join(problems, ", ") + "\r\n"
	out := make([]byte, 0, len(data)+len(marker))
	out = append(out, data[:lineEnd+2]...)
	out = append(out, marker...)
	return append(out, data[lineEnd+2:]...)
}

type span struct{ start, end int }

// contentLengthValue finds the Content-Length (or compact l) header in a header
// section and returns the span of its value and the value.
func contentLengthValue(head []byte) (span, int, bool) {
	for pos := 0; pos < len(head); {
		end := bytes.IndexByte(head[pos:], '\n')
		if end < 0 {
			end = len(head) - pos
		}
		line := head[pos : pos+end]
		start := pos
		pos += end + 1
		if len(line) == 0 || (line[0]|0x20 != 'c' && line[0]|0x20 != 'l') {
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		name := bytes.TrimRight(line[:colon], " \t")
		if !bytes.EqualFold(name, []byte("content-length")) && !bytes.EqualFold(name, []byte("l")) {
			continue
		}
		v := bytes.TrimRight(line[colon+1:], " \t\r")
		lead := len(v) - len(bytes.TrimLeft(v, " \t"))
		v = v[lead:]
		n, ok := atoi(v)
		if !ok {
			return span{}, 0, false
		}
		at := start + colon + 1 + lead
		return span{at, at + len(v)}, n, true
	}
	return span{}, 0, false
}

// atoi parses a small non-negative decimal number without allocating.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// isToken reports whether b is a SIP method token (RFC 3261 §25.1), which is
// what a request line starts with.
func isToken(b []byte) bool {
	if len(b) == 0 || len(b) > 32 {
		return false
	}
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0) {
			return false
		}
	}
	return true
}
