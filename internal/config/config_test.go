package config

import (
	"errors"
	"io"
	"testing"
	"time"
)

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
		MediaTimeout: time.Minute, InbandDTMF: "auto", CPS: 10,
	}
	if c != want {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
}

func TestParseServeEnvironmentAndFlags(t *testing.T) {
	e := env(map[string]string{
		"SWITCHBOARD_HTTP":          "127.0.0.2:9000",
		"SWITCHBOARD_SIP":           "127.0.0.2:5070",
		"SWITCHBOARD_RTP_PORTS":     "30000-30100",
		"SWITCHBOARD_DATA":          "/tmp/sb",
		"SWITCHBOARD_DB":            "postgres://u@localhost/sb",
		"SWITCHBOARD_PUBLIC_URL":    "https://voice.example.com/",
		"SWITCHBOARD_TRUNK":         "sip:trunk.example.com;transport=tcp",
		"SWITCHBOARD_ACCOUNT_SID":   "AC0123456789abcdef0123456789abcdef",
		"SWITCHBOARD_AUTH_TOKEN":    "0123456789abcdef0123456789abcdef",
		"SWITCHBOARD_PUBLIC_MEDIA":  "true",
		"SWITCHBOARD_MEDIA_TIMEOUT": "90s",
		"SWITCHBOARD_INBAND_DTMF":   "never",
	})
	c, err := ParseServe([]string{"--http", "127.0.0.3:9001", "--rtp-ports=40000-40010"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Serve{
		HTTP: "127.0.0.3:9001", SIP: "127.0.0.2:5070", RTPPorts: PortRange{40000, 40010},
		Data: "/tmp/sb", DB: "postgres://u@localhost/sb", PublicURL: "https://voice.example.com",
		Trunk: "sip:trunk.example.com;transport=tcp", LogLevel: "info", PublicMedia: true,
		MediaTimeout: 90 * time.Second, InbandDTMF: "never", CPS: 10,
		AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef",
	}
	if c != want {
		t.Fatalf("\n got %+v\nwant %+v", c, want)
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseServe(tc.args, env(tc.env), io.Discard)
			if !errors.Is(err, ErrUsage) {
				t.Fatalf("err = %v, want ErrUsage", err)
			}
		})
	}
}
