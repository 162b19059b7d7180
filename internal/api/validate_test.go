package api

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

func TestNormalizePhoneNumber(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"+14155550100", "+14155550100", true},
		{"+1 (415) 555-0100", "+14155550100", true},
		{"  +81.3.1234.5678 ", "+81312345678", true},
		{"+442071234567", "+442071234567", true},
		{"+123456789012345", "+123456789012345", true}, // 15 digits
		{"+1234567890123456", "", false},               // 16 digits
		{"+1", "", false},
		{"+", "", false},
		{"+0123456", "", false},
		{"+1415555010a", "", false},
		{"+1-800-FLOWERS", "", false},
		{"++14155550100", "", false},
		{"support", "support", true},
		{"Sales_Desk-2.b", "Sales_Desk-2.b", true},
		{"1001", "1001", true},
		{"14155550100", "+14155550100", true}, // E.164 without its '+', as a trunk sends it
		{"1-415-555-0100", "+14155550100", true},
		{"(415) 555-0100", "+4155550100", true}, // country code first: no national numbering plan is assumed
		{"1234567", "1234567", true},            // 7 digits: an extension, a name
		{"0312345678", "0312345678", true},      // a national trunk prefix: a name, not E.164
		{"031 234", "", false},                  // a name cannot hold a space
		{"-support", "", false},
		{"sup port", "", false},
		{"support@example.com", "", false},
		{"sip:support", "", false},
		{"ünïcode", "", false},
		{strings.Repeat("a", 64), strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), "", false},
		{"", "", false},
		{"   ", "", false},
	}
	for _, tt := range tests {
		got, ok := normalizePhoneNumber(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("normalizePhoneNumber(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDefaultFriendlyName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+14155550100", "(415) 555-0100"},
		{"+442071234567", "+442071234567"},
		{"+1415555010", "+1415555010"},
		{"support", "support"},
	}
	for _, tt := range tests {
		if got := defaultFriendlyName(tt.in); got != tt.want {
			t.Errorf("defaultFriendlyName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidURL(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"https://app.example.com/voice", true},
		{"http://127.0.0.1:8080/twiml?a=1&b=2", true},
		{"HTTPS://EXAMPLE.COM", true},
		{"https://user:pass@example.com/voice", true},
		{"https://[::1]:8080/x", true},
		{"ftp://example.com/x", false},
		{"javascript:alert(1)", false},
		{"mailto:a@example.com", false},
		{"/relative/path", false},
		{"www.example.com/voice", false},
		{"https://", false},
		{"https:///path", false},
		{"https://exa mple.com", false},
		{"https://example.com/\nx", false},
		{"https://example.com/%zz", false},
		{"https://example.com/" + strings.Repeat("a", 4000), false},
		{"", false},
	}
	for _, tt := range tests {
		if got := validURL(tt.in); got != tt.ok {
			t.Errorf("validURL(%q) = %v, want %v", tt.in, got, tt.ok)
		}
	}
}

func TestNormalizeMethod(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"GET", "GET", true}, {"post", "POST", true}, {"Get", "GET", true},
		{"PUT", "", false}, {"", "", false}, {"G ET", "", false},
	}
	for _, tt := range tests {
		got, ok := normalizeMethod(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("normalizeMethod(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValidFriendlyName(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"Front desk", true},
		{"受付", true},
		{strings.Repeat("受", 64), true},
		{strings.Repeat("受", 65), false},
		{"", false},
		{"tab\there", false},
		{"\xff", false},
	}
	for _, tt := range tests {
		if got := validFriendlyName(tt.in); got != tt.ok {
			t.Errorf("validFriendlyName(%q) = %v, want %v", tt.in, got, tt.ok)
		}
	}
}

func TestParseBool(t *testing.T) {
	tests := []struct {
		in      string
		v, okay bool
	}{
		{"true", true, true}, {"True", true, true}, {"FALSE", false, true},
		{"1", false, false}, {"yes", false, false}, {"", false, false},
	}
	for _, tt := range tests {
		v, ok := parseBool(tt.in)
		if v != tt.v || ok != tt.okay {
			t.Errorf("parseBool(%q) = %v, %v; want %v, %v", tt.in, v, ok, tt.v, tt.okay)
		}
	}
}

func TestPageToken(t *testing.T) {
	c := store.Cursor{DateCreated: time.Date(2024, 5, 1, 12, 0, 0, 123456000, time.UTC), SID: "PN" + strings.Repeat("ab", 16)}
	for _, dir := range []string{tokenAfter, tokenBefore} {
		tok := encodePageToken(dir, c)
		gotDir, got, ok := parsePageToken(tok, sid.IncomingPhoneNumber)
		if !ok || gotDir != dir || got.SID != c.SID || !got.DateCreated.Equal(c.DateCreated) {
			t.Errorf("parsePageToken(%q) = %q, %+v, %v", tok, gotDir, got, ok)
		}
	}
	bad := []string{
		"",
		"PA",
		"PX" + c.SID + "_1",
		"PA" + c.SID + "_",
		"PA" + c.SID + "-1",
		"PA" + c.SID + "_-1",
		"PA" + c.SID + "_1a",
		"PA" + c.SID + "_99999999999999999999",
		"PA" + "AC" + strings.Repeat("ab", 16) + "_1",
		"PA" + c.SID[:33] + "_1",
	}
	for _, tok := range bad {
		if _, _, ok := parsePageToken(tok, sid.IncomingPhoneNumber); ok {
			t.Errorf("parsePageToken(%q) accepted", tok)
		}
	}
}

func FuzzNormalizePhoneNumber(f *testing.F) {
	for _, s := range []string{"+14155550100", "+1 (415) 555-0100", "support", "", "+", "a b", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := normalizePhoneNumber(s)
		if !ok {
			return
		}
		// The canonical form is a fixed point, short, and safe in a SIP
		// URI user part and in a LIKE pattern's literal characters.
		again, ok2 := normalizePhoneNumber(n)
		if !ok2 || again != n {
			t.Fatalf("normalizePhoneNumber(%q) = %q, but %q normalizes to %q, %v", s, n, n, again, ok2)
		}
		if len(n) > maxSIPUser || strings.ContainsAny(n, " @:;%*\\") {
			t.Fatalf("normalizePhoneNumber(%q) = %q", s, n)
		}
	})
}

func FuzzValidURL(f *testing.F) {
	for _, s := range []string{"https://example.com/x", "http://[::1]:80/", "javascript:x", "https://", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !validURL(s) {
			return
		}
		u, err := url.Parse(s)
		if err != nil || u.Hostname() == "" || (strings.ToLower(u.Scheme) != "http" && strings.ToLower(u.Scheme) != "https") {
			t.Fatalf("validURL(%q) = true, but it parses as %v, %v", s, u, err)
		}
	})
}

func FuzzParsePageToken(f *testing.F) {
	c := store.Cursor{DateCreated: time.UnixMicro(1714564920000000).UTC(), SID: "PN" + strings.Repeat("0", 32)}
	f.Add(encodePageToken(tokenAfter, c))
	f.Add(encodePageToken(tokenBefore, c))
	f.Add("PAxyz")
	f.Fuzz(func(t *testing.T, tok string) {
		dir, got, ok := parsePageToken(tok, sid.IncomingPhoneNumber)
		if !ok {
			return
		}
		if re := encodePageToken(dir, got); re != tok && strings.TrimLeft(tok[2+sid.Len+1:], "0") != strings.TrimLeft(re[2+sid.Len+1:], "0") {
			t.Fatalf("token %q parses to %+v, which encodes as %q", tok, got, re)
		}
	})
}
