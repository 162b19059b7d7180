package config

import (
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var prefixEqual = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseServeDefaults(t *testing.T) {
	c, err := ParseServe(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Serve{
		HTTP: "127.0.0.1:8080", SIP: "127.0.0.1:5060", RTPPorts: PortRange{10000, 20000},
		Data: "switchboard-data", PublicURL: "http://127.0.0.1:8080", LogLevel: "info",
		MediaTimeout: time.Minute, InbandDTMF: "auto", CPS: 10, RTPReadInterval: 20 * time.Millisecond, RTPIOUring: true,
	}
	if diff := cmp.Diff(want, c, prefixEqual); diff != "" {
		t.Fatalf("defaults (-want +got):\n%s", diff)
	}
}

func TestParseServeEnvironmentAndFlags(t *testing.T) {
	e := env(map[string]string{
		"SWITCHBOARD_HTTP":              "127.0.0.2:9000",
		"SWITCHBOARD_SIP":               "127.0.0.2:5070",
		"SWITCHBOARD_RTP_PORTS":         "30000-30100",
		"SWITCHBOARD_DATA":              "/tmp/sb",
		"SWITCHBOARD_DB":                "postgres://u@localhost/sb",
		"SWITCHBOARD_PUBLIC_URL":        "https://voice.example.com/",
		"SWITCHBOARD_TRUNK":             "sip:trunk.example.com;transport=tcp",
		"SWITCHBOARD_ACCOUNT_SID":       "AC0123456789abcdef0123456789abcdef",
		"SWITCHBOARD_AUTH_TOKEN":        "0123456789abcdef0123456789abcdef",
		"SWITCHBOARD_PUBLIC_MEDIA":      "true",
		"SWITCHBOARD_MEDIA_TIMEOUT":     "90s",
		"SWITCHBOARD_INBAND_DTMF":       "never",
		"SWITCHBOARD_WEBHOOK_DENY":      "10.0.0.0/8, 169.254.0.0/16",
		"SWITCHBOARD_MAX_CALL_RATE":     "250",
		"SWITCHBOARD_RTP_READ_INTERVAL": "40ms",
		"SWITCHBOARD_COMMIT_DELAY":      "2ms",
		"SWITCHBOARD_RTP_IO_URING":      "false",
	})
	c, err := ParseServe([]string{"--http", "127.0.0.3:9001", "--rtp-ports=40000-40010", "--webhook-deny", "127.0.0.0/8,::1"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Serve{
		HTTP: "127.0.0.3:9001", SIP: "127.0.0.2:5070", RTPPorts: PortRange{40000, 40010},
		Data: "/tmp/sb", DB: "postgres://u@localhost/sb", PublicURL: "https://voice.example.com",
		Trunk: "sip:trunk.example.com;transport=tcp", LogLevel: "info", PublicMedia: true,
		MediaTimeout: 90 * time.Second, InbandDTMF: "never", CPS: 10, MaxCallRate: 250, RTPReadInterval: 40 * time.Millisecond,
		CommitDelay: 2 * time.Millisecond,
		// The flag replaces the environment's list.
		WebhookDeny: PrefixList{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		AccountSID:  "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef",
	}
	if diff := cmp.Diff(want, c, prefixEqual); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestParseServeRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"bad http", []string{"--http", "nonsense"}, nil},
		{"empty host", []string{"--sip", ":5060"}, nil},
		{"reversed ports", []string{"--rtp-ports", "20000-10000"}, nil},
		{"privileged ports", []string{"--rtp-ports", "80-90"}, nil},
		{"tiny range", []string{"--rtp-ports", "10000-10001"}, nil},
		{"bad env ports", nil, map[string]string{"SWITCHBOARD_RTP_PORTS": "x"}},
		{"mysql dsn", []string{"--db", "mysql://x"}, nil},
		{"relative public url", []string{"--public-url", "/x"}, nil},
		{"trunk not sip", []string{"--trunk", "http://x"}, nil},
		{"stray argument", []string{"extra"}, nil},
		{"unknown flag", []string{"--nope"}, nil},
		{"log level", []string{"--log-level", "loud"}, nil},
		{"negative media timeout", []string{"--media-timeout", "-1s"}, nil},
		{"inband dtmf", []string{"--inband-dtmf", "sometimes"}, nil},
		{"public media not a boolean", nil, map[string]string{"SWITCHBOARD_PUBLIC_MEDIA": "sometimes"}},
		{"webhook deny not a prefix", []string{"--webhook-deny", "127.0.0.0/8,localhost"}, nil},
		{"webhook deny bad length", []string{"--webhook-deny", "10.0.0.0/33"}, nil},
		{"webhook deny bad env", nil, map[string]string{"SWITCHBOARD_WEBHOOK_DENY": "10.0.0/8"}},
		{"negative max call rate", []string{"--max-call-rate", "-1"}, nil},
		{"negative commit delay", []string{"--commit-delay", "-1ms"}, nil},
		{"commit delay too long", []string{"--commit-delay", "51ms"}, nil},
		{"rtp read interval not a tick multiple", []string{"--rtp-read-interval", "30ms"}, nil},
		{"rtp read interval too long", []string{"--rtp-read-interval", "60ms"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseServe(tc.args, env(tc.env), io.Discard)
			if !errors.Is(err, ErrUsage) {
				t.Fatalf("err = %v, want ErrUsage", err)
			}
		})
	}
}

func TestPrefixList(t *testing.T) {
	var l PrefixList
	if err := l.Set(" 10.1.2.3/8 ,, 192.168.0.1, fe80::/10,::ffff:127.0.0.1 "); err != nil {
		t.Fatal(err)
	}
	// Prefixes are masked; bare addresses stand for themselves.
	if got, want := l.String(), "10.0.0.0/8,192.168.0.1/32,fe80::/10,::ffff:127.0.0.1/128"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if err := l.Set(""); err != nil || len(l) != 0 {
		t.Errorf("Set(\"\") = %v, %v; want an empty list", l, err)
	}
	for _, bad := range []string{"10.0.0.0/8,nope", "1.2.3.4/-1", "fe80::1%eth0", "10.0.0.0/"} {
		err := l.Set(bad)
		if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(bad, "10.0.0.0/8,")) {
			t.Errorf("Set(%q) = %v, want an error", bad, err)
		}
	}
}
