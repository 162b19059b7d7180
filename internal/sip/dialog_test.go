package sip

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-voice/switchboard/internal/media"
)

func TestSplitHeaderValues(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"<sip:p1.example.com;lr>", []string{"<sip:p1.example.com;lr>"}},
		{"<sip:p1;lr>, <sip:p2;lr>", []string{"<sip:p1;lr>", "<sip:p2;lr>"}},
		{`"a, b" <sip:x@y>, <sip:z;lr;x=1,2>`, []string{`"a, b" <sip:x@y>`, "<sip:z;lr;x=1,2>"}},
		{" , ", nil},
	}
	for _, tt := range tests {
		if got := splitHeaderValues(tt.in); !cmp.Equal(got, tt.want) {
			t.Errorf("splitHeaderValues(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRouteURI(t *testing.T) {
	for in, want := range map[string]string{
		"<sip:p1.example.com;lr>;foo=bar": "sip:p1.example.com;lr",
		"sip:p2.example.com":              "sip:p2.example.com",
		"<sip:broken":                     "<sip:broken",
	} {
		if got := routeURI(in); got != want {
			t.Errorf("routeURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseInfoDTMF(t *testing.T) {
	tests := []struct {
		ct, body string
		want     media.DTMF
		ok       bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", media.DTMF{Digit: '5', Duration: 160 * time.Millisecond}, true},
		{"Application/DTMF-Relay; charset=x", "signal= #\nduration=250", media.DTMF{Digit: '#', Duration: 250 * time.Millisecond}, true},
		{"application/dtmf-relay", "Signal=a\r\n", media.DTMF{Digit: 'A'}, true},
		{"application/dtmf", "9", media.DTMF{Digit: '9'}, true},
		{"application/dtmf", " * \r\n", media.DTMF{Digit: '*'}, true},
		{"application/dtmf-relay", "Signal=10\r\n", media.DTMF{}, false},
		{"application/dtmf-relay", "Duration=160", media.DTMF{}, false},
		{"application/dtmf", "x", media.DTMF{}, false},
		{"text/plain", "5", media.DTMF{}, false},
		{"application/dtmf-relay", "Signal=1\r\nDuration=-5", media.DTMF{Digit: '1'}, true},
	}
	for _, tt := range tests {
		got, ok := parseInfoDTMF(tt.ct, []byte(tt.body))
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseInfoDTMF(%q, %q) = %+v, %v; want %+v, %v", tt.ct, tt.body, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseInfoDTMF(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		d, ok := parseInfoDTMF(ct, body)
		if ok && !strings.ContainsRune("0123456789*#ABCD", rune(d.Digit)) {
			t.Fatalf("accepted digit %q", d.Digit)
		}
	})
}

func TestParseDialURI(t *testing.T) {
	const (
		ok = iota
		bad
		tls
	)
	tests := []struct {
		in      string
		host    string
		user    string
		params  string
		headers []Header
		err     int
	}{
		{"sip:jack@example.com", "example.com", "jack", "", nil, ok},
		{"SIP:+14155550100@10.0.0.1:5080;transport=TCP", "10.0.0.1", "+14155550100", "transport=TCP", nil, ok},
		{"sip:jack@example.com?x-customname=Madhu%2CMathiyalagan%3BTitle%3DManager&x-myotherheader=bar", "example.com", "jack", "",
			[]Header{{"x-customname", "Madhu,Mathiyalagan;Title=Manager"}, {"x-myotherheader", "bar"}}, ok},
		{"sip:jack@example.com?User-to-User=123456789%3Bencoding%3Dhex", "example.com", "jack", "",
			[]Header{{"User-to-User", "123456789;encoding=hex"}}, ok},
		// Twilio's region is for Twilio: dropped; the other parameters stay.
		{"sip:alice@example.com;region=ie1", "example.com", "alice", "", nil, ok},
		{"sip:+14155550100@example.com;user=phone;Region=au1;transport=tcp?X-A=1", "example.com", "+14155550100", "user=phone;transport=tcp",
			[]Header{{"X-A", "1"}}, ok},
		{"sips:jack@example.com", "", "", "", nil, tls},
		{"sips:jack@example.com:5071;transport=tcp", "", "", "", nil, tls},
		{"sip:jack@example.com;transport=tls", "", "", "", nil, tls},
		{"sip:jack@example.com;transport=TLS;region=ie1", "", "", "", nil, tls},
		{"sip:jack@example.com;Transport=Tls", "", "", "", nil, tls},
		{"tel:+14155550100", "", "", "", nil, bad},
		{"sip:", "", "", "", nil, bad},
		{"sips:", "", "", "", nil, bad},
		{"sip:jack@example.com;transport=sctp", "", "", "", nil, bad},
		{"sip:jack@example.com?x-a=%zz", "", "", "", nil, bad},
		{"sip:jack@example.com:port", "", "", "", nil, bad},
	}
	for _, tt := range tests {
		u, hs, err := parseDialURI(tt.in)
		switch tt.err {
		case bad:
			if !errors.Is(err, ErrBadURI) || errors.Is(err, ErrTLSUnsupported) {
				t.Errorf("parseDialURI(%q) err = %v, want ErrBadURI", tt.in, err)
			}
			continue
		case tls:
			if !errors.Is(err, ErrTLSUnsupported) || errors.Is(err, ErrBadURI) {
				t.Errorf("parseDialURI(%q) err = %v, want ErrTLSUnsupported only", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseDialURI(%q) err = %v", tt.in, err)
			continue
		}
		if u.Host != tt.host || u.User != tt.user || u.UriParams.ToString(';') != tt.params || !cmp.Equal(hs, tt.headers) || u.Headers != nil {
			t.Errorf("parseDialURI(%q) = %s@%s;%s %v", tt.in, u.User, u.Host, u.UriParams.ToString(';'), hs)
		}
	}
}

// The TLS refusal names where TLS would have gone: the URI's port, or 5061.
func TestParseDialURITLSMessage(t *testing.T) {
	for in, want := range map[string]string{
		"sip:alice@example.com;transport=tls":   "example.com:5061",
		"sips:alice@example.com":                "example.com:5061",
		"sips:alice@example.com:5071":           "example.com:5071",
		"sip:bob@10.0.0.7:5070;transport=TLS":   "10.0.0.7:5070",
		"sips:carol@[2001:db8::1]?X-Customer=1": "[2001:db8::1]:5061",
	} {
		_, _, err := parseDialURI(in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(strings.ToLower(err.Error()), "tls") {
			t.Errorf("parseDialURI(%q) err = %v, want it to name TLS and %s", in, err, want)
		}
	}
}

func FuzzParseDialURI(f *testing.F) {
	f.Add("sip:jack@example.com?x-a=1&x-b=%20")
	f.Add("sip:+14155550100@10.0.0.1:5080;transport=tcp")
	f.Add("sip:[::1]:5060")
	f.Fuzz(func(t *testing.T, in string) {
		u, hs, err := parseDialURI(in)
		if err != nil {
			return
		}
		if u.Host == "" {
			t.Fatalf("accepted %q without a host", in)
		}
		if _, err := dialHeaders(hs, nil); err == nil {
			for _, h := range hs {
				if strings.ContainsAny(h.Value, "\r\n") {
					t.Fatalf("header value with a line break accepted: %q", h.Value)
				}
			}
		}
	})
}

func TestDialHeaders(t *testing.T) {
	got, err := dialHeaders([]Header{{"x-from-uri", "1"}}, map[string]string{"X-B": "2", "X-A": "1", "P-Asserted-Identity": "<sip:+1@x>"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Header{{"x-from-uri", "1"}, {"P-Asserted-Identity", "<sip:+1@x>"}, {"X-A", "1"}, {"X-B", "2"}}
	if !cmp.Equal(got, want) {
		t.Fatalf("dialHeaders = %v, want %v", got, want)
	}
	for _, bad := range []map[string]string{
		{"Via": "SIP/2.0/UDP evil"},
		{"Call-ID": "x"},
		{"X-Bad": "line\r\nVia: injected"},
		{"X Bad": "1"},
		{"X-Long": strings.Repeat("a", 2000)},
	} {
		if _, err := dialHeaders(nil, bad); !errors.Is(err, ErrBadURI) {
			t.Errorf("dialHeaders(%v) err = %v, want ErrBadURI", bad, err)
		}
	}
}

// legLike is the transport-neutral view of a call a consumer (the
// interpreter, a bridge) needs; *Leg provides it without exposing SIP.
type legLike interface {
	Media() *media.Session
	Hangup(ctx context.Context) error
	Done() <-chan struct{}
	EndReason() EndReason
}

var _ legLike = (*Leg)(nil)
