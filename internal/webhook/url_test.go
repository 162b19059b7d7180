package webhook_test

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/webhook"
)

func TestResolve(t *testing.T) {
	const base = "https://app.example.com/voice/menu.xml?lang=ja#ct=1000"
	tests := []struct {
		ref, want string
	}{
		{"next", "https://app.example.com/voice/next"},
		{"  ../gather?step=2 \n", "https://app.example.com/gather?step=2"},
		{"/abs", "https://app.example.com/abs"},
		{"?lang=en", "https://app.example.com/voice/menu.xml?lang=en"},
		{"", "https://app.example.com/voice/menu.xml?lang=ja"},
		{"//cdn.example.com/a.mp3", "https://cdn.example.com/a.mp3"},
		{"http://other.example.com/x#rc=2", "http://other.example.com/x#rc=2"},
		{"sounds/ベル.mp3", "https://app.example.com/voice/sounds/%E3%83%99%E3%83%AB.mp3"},
	}
	for _, tt := range tests {
		got, err := webhook.Resolve(base, tt.ref)
		if err != nil || got != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.ref, got, err, tt.want)
		}
	}
	for _, ref := range []string{"ftp://example.com/a", "mailto:x@example.com", "http://%zz", "http:///nohost"} {
		if _, err := webhook.Resolve(base, ref); !errors.Is(err, webhook.ErrBadURL) {
			t.Errorf("Resolve(%q): err = %v, want ErrBadURL", ref, err)
		}
	}
	if _, err := webhook.Resolve("not a base", "relative"); !errors.Is(err, webhook.ErrBadURL) {
		t.Errorf("relative against a relative base: %v", err)
	}
}

func TestParseOverrides(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		frag string
		want webhook.Overrides
	}{
		{"", webhook.Overrides{RetryCount: -1}},
		{"ct=1000&rt=2000&tt=3000&rc=2&rp=all&e=tokyo&sni=y",
			webhook.Overrides{ConnectTimeout: 1000 * ms, ReadTimeout: 2000 * ms, TotalTimeout: 3000 * ms, RetryCount: 2, RetryPolicy: webhook.RetryAll, Edge: "tokyo", SNI: "y"}},
		{"rp=4xx,ct&rp=rt", webhook.Overrides{RetryCount: -1, RetryPolicy: webhook.Retry4xx | webhook.RetryConnect | webhook.RetryRead}},
		{"rc=0", webhook.Overrides{RetryCount: 0}},
		// Out of Twilio's ranges or malformed: ignored.
		{"ct=99&rt=15001&tt=-5&rc=6&rp=bogus", webhook.Overrides{RetryCount: -1}},
		{"ct=abc;rc=%zz&rt=100", webhook.Overrides{RetryCount: -1, ReadTimeout: 100 * ms}},
	}
	for _, tt := range tests {
		if got := webhook.ParseOverrides(tt.frag); got != tt.want {
			t.Errorf("ParseOverrides(%q) = %+v, want %+v", tt.frag, got, tt.want)
		}
	}
}
