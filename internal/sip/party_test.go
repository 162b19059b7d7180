package sip

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestE164(t *testing.T) {
	tests := []struct {
		user string
		want string
		ok   bool
	}{
		{"+14155550100", "+14155550100", true},
		{"14155550100", "+14155550100", true},
		{"+1-415-555-0100", "+14155550100", true},
		{"+1 (415) 555.0100", "+14155550100", true},
		{"+81312345678", "+81312345678", true},
		{"0312345678", "", false}, // national, trunk prefix 0
		{"+0312345678", "", false},
		{"1000", "", false},     // an extension
		{"+1234567", "", false}, // too short for E.164
		{"+1234567890123456", "", false},
		{"alice", "", false},
		{"+1415abc", "", false},
		{"", "", false},
		{"+", "", false},
	}
	for _, tt := range tests {
		got, ok := E164(tt.user)
		if got != tt.want || ok != tt.ok {
			t.Errorf("E164(%q) = %q, %v; want %q, %v", tt.user, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPartyID(t *testing.T) {
	tests := []struct {
		uri  string
		name string
		want Party
		id   string
	}{
		{"sip:+14155550100@trunk.example.com;user=phone", "", Party{User: "+14155550100", Host: "trunk.example.com", URI: "sip:+14155550100@trunk.example.com"}, "+14155550100"},
		{"sip:14155550100@10.0.0.1:5060", "Bob", Party{DisplayName: "Bob", User: "14155550100", Host: "10.0.0.1:5060", URI: "sip:14155550100@10.0.0.1:5060"}, "+14155550100"},
		{"sip:alice@example.com", "Alice", Party{DisplayName: "Alice", User: "alice", Host: "example.com", URI: "sip:alice@example.com"}, "alice"},
		{"sip:support%20desk@example.com", "", Party{User: "support desk", Host: "example.com", URI: "sip:support%20desk@example.com"}, "support desk"},
		{"sip:example.com", "", Party{Host: "example.com", URI: "sip:example.com"}, "example.com"},
	}
	for _, tt := range tests {
		var u sip.Uri
		if err := sip.ParseUri(tt.uri, &u); err != nil {
			t.Fatalf("%s: %v", tt.uri, err)
		}
		p := partyOf(tt.name, &u)
		if p != tt.want {
			t.Errorf("partyOf(%q) = %+v, want %+v", tt.uri, p, tt.want)
		}
		if id := p.ID(); id != tt.id {
			t.Errorf("%q: ID() = %q, want %q", tt.uri, id, tt.id)
		}
	}
}

func TestIsCustomHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"X-Customer-Id": true, "x-foo": true, "User-to-User": true, "user-to-user": true,
		"X-": false, "Via": false, "Xylophone": false, "P-Asserted-Identity": false,
	} {
		if got := isCustomHeader(name); got != want {
			t.Errorf("isCustomHeader(%q) = %v", name, got)
		}
	}
}
