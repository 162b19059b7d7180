package sip

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// crlf turns a readable message into wire form: LF line ends become CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

const validInvite = `INVITE sip:+14155550100@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1
From: "Alice" <sip:alice@127.0.0.1:5070>;tag=a1
To: <sip:+14155550100@127.0.0.1:5060>
Call-ID: c1@test
CSeq: 1 INVITE
Contact: <sip:alice@127.0.0.1:5070>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: 4

v=0
`

var testParser = sip.NewParser(sip.WithHeadersParsers(lenientHeaders()))

func parseRequest(t *testing.T, data string) *sip.Request {
	t.Helper()
	msg, err := testParser.ParseSIP([]byte(data))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		t.Fatalf("not a request: %v", msg)
	}
	return req
}

func TestSanitizeDatagram(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		problem string // requestProblem of the repaired request; "" when fine
		same    bool   // returned unchanged
	}{
		{"valid", crlf(validInvite), "", true},
		{"bad request-uri", crlf(strings.Replace(validInvite, "sip:+14155550100@127.0.0.1:5060 SIP", "sip:@@:: SIP", 1)), "malformed Request-URI", false},
		{"space in request-uri", crlf(strings.Replace(validInvite, "sip:+14155550100@127.0.0.1:5060 SIP", "sip:a b@host SIP", 1)), "malformed Request-URI", false},
		{"content-length overruns", crlf(strings.Replace(validInvite, "Content-Length: 4", "Content-Length: 400", 1)), "Content-Length 400 larger than the body", false},
		{"compact content-length overruns", crlf(strings.Replace(validInvite, "Content-Length: 4", "l: 99", 1)), "Content-Length 99 larger than the body", false},
		{"bare LF", validInvite, "", false},
		{"response untouched", crlf("SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK-1\nContent-Length: 99\n\n"), "", true},
		{"short", "hi", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := sanitizeDatagram([]byte(tt.in))
			if got := string(out) == tt.in; got != tt.same {
				t.Fatalf("unchanged = %v, want %v:\n%s", got, tt.same, out)
			}
			if strings.HasPrefix(tt.in, "SIP/") || len(tt.in) < 16 {
				return
			}
			req := parseRequest(t, string(out))
			if got := requestProblem(req); !strings.Contains(got, tt.problem) || (tt.problem == "" && got != "") {
				t.Fatalf("requestProblem = %q, want %q", got, tt.problem)
			}
		})
	}
}

func TestRequestProblem(t *testing.T) {
	tests := []struct {
		name, from, to, want string
	}{
		{"fine", "", "", ""},
		{"malformed From", "From: \"Alice\" <sip:alice@127.0.0.1:5070>;tag=a1", "From: <<<>", "malformed From header"},
		{"missing From", "From: \"Alice\" <sip:alice@127.0.0.1:5070>;tag=a1\n", "", "missing From header"},
		{"malformed To", "To: <sip:+14155550100@127.0.0.1:5060>", "To: <sip:a@b:port>", "malformed To header"},
		{"missing Call-ID", "Call-ID: c1@test\n", "", "missing Call-ID header"},
		{"empty Call-ID", "Call-ID: c1@test", "Call-ID: ", "malformed Call-ID header"},
		{"malformed CSeq", "CSeq: 1 INVITE", "CSeq: one INVITE", "malformed CSeq header"},
		{"CSeq method mismatch", "CSeq: 1 INVITE", "CSeq: 1 BYE", "CSeq method does not match the request method"},
		{"malformed Max-Forwards", "Max-Forwards: 70", "Max-Forwards: lots", "malformed Max-Forwards header"},
		{"malformed Contact", "Contact: <sip:alice@127.0.0.1:5070>", "Contact: <sip:a@b", "malformed Contact header"},
		{"malformed Content-Length", "Content-Length: 4", "Content-Length: four", "malformed Content-Length header"},
		{"malformed Via", "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1", "Via: nonsense", "malformed Via header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := validInvite
			if tt.from != "" {
				msg = strings.Replace(msg, tt.from, tt.to, 1)
			}
			req := parseRequest(t, crlf(msg))
			if got := requestProblem(req); got != tt.want {
				t.Fatalf("requestProblem = %q, want %q", got, tt.want)
			}
		})
	}
}

// Multi-valued headers still parse through the lenient wrappers.
func TestLenientHeadersKeepCommaLists(t *testing.T) {
	msg := strings.Replace(validInvite, "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1",
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-2, SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1", 1)
	msg = strings.Replace(msg, "Contact: <sip:alice@127.0.0.1:5070>", "Contact: <sip:a@h1>, <sip:b@h2>", 1)
	req := parseRequest(t, crlf(msg))
	if n := len(req.GetHeaders("Via")); n != 2 {
		t.Fatalf("%d Via headers, want 2", n)
	}
	if b, _ := req.Via().Params.Get("branch"); b != "z9hG4bK-2" {
		t.Fatalf("top Via branch %q", b)
	}
	if n := len(req.GetHeaders("Contact")); n != 2 {
		t.Fatalf("%d Contact headers, want 2", n)
	}
	if p := requestProblem(req); p != "" {
		t.Fatalf("requestProblem = %q", p)
	}
}

func FuzzSanitizeDatagram(f *testing.F) {
	f.Add([]byte(crlf(validInvite)))
	f.Add([]byte(validInvite))
	f.Add([]byte(crlf(strings.Replace(validInvite, "Content-Length: 4", "Content-Length: 4000", 1))))
	f.Add([]byte(crlf(strings.Replace(validInvite, "sip:+14155550100@127.0.0.1:5060", "sip:[::1", 1))))
	f.Add([]byte("OPTIONS * SIP/2.0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out := sanitizeDatagram(data)
		// What comes out must be safe to parse and inspect.
		if msg, err := testParser.ParseSIP(out); err == nil {
			if req, ok := msg.(*sip.Request); ok {
				_ = requestProblem(req)
			}
		}
	})
}

func BenchmarkSanitizeValidInvite(b *testing.B) {
	data := []byte(crlf(validInvite))
	b.ReportAllocs()
	for b.Loop() {
		if out := sanitizeDatagram(data); len(out) != len(data) {
			b.Fatal("changed a valid INVITE")
		}
	}
}
