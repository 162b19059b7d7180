package server

import "testing"

func TestCallerID(t *testing.T) {
	for from, want := range map[string]string{
		"+14155550100":          "+14155550100",
		"alice":                 "alice",
		"client:alice":          "alice",
		"alice@example.com":     "sip:alice@example.com",
		"sip:bob@example.com":   "sip:bob@example.com",
		"SIP:bob@example.com:5": "SIP:bob@example.com:5",
	} {
		if got := callerID(from); got != want {
			t.Errorf("callerID(%q) = %q, want %q", from, got, want)
		}
	}
}

func TestTrunk(t *testing.T) {
	tr, err := parseTrunk("sip:acme:s3cret@trunk.example.com:5080;transport=tcp", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if tr.username != "acme" || tr.password != "s3cret" {
		t.Errorf("credentials from the URI: %q %q", tr.username, tr.password)
	}
	if got, want := tr.target("+14155550100"), "sip:+14155550100@trunk.example.com:5080;transport=tcp"; got != want {
		t.Errorf("target = %q, want %q", got, want)
	}
	tr, err = parseTrunk("sip:acme:s3cret@trunk.example.com", "ops", "pw")
	if err != nil || tr.username != "ops" || tr.password != "pw" {
		t.Errorf("flag credentials win: %+v %v", tr, err)
	}
	if tr, err := parseTrunk("", "", ""); err != nil || tr.set {
		t.Errorf("no trunk: %+v %v", tr, err)
	}
	if _, err := parseTrunk("sip:", "", ""); err == nil {
		t.Error("a trunk URI without a host was accepted")
	}
}
