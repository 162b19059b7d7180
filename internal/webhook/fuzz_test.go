package webhook_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/switchboard-voice/switchboard/internal/webhook"
)

func FuzzParseOverrides(f *testing.F) {
	for _, s := range []string{"", "ct=1000&rt=2000&tt=3000&rc=2&rp=all", "rp=4xx,5xx,ct,rt", "rc=-1", "ct=%zz", "=&&=", "e=ashburn&sni=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frag string) {
		o := webhook.ParseOverrides(frag)
		in := func(d time.Duration, lo, hi int) bool {
			return d == 0 || (d >= time.Duration(lo)*time.Millisecond && d <= time.Duration(hi)*time.Millisecond)
		}
		if !in(o.ConnectTimeout, 100, 10000) || !in(o.ReadTimeout, 100, 15000) || !in(o.TotalTimeout, 100, 15000) {
			t.Errorf("timeouts out of range: %+v", o)
		}
		if o.RetryCount < -1 || o.RetryCount > 5 || o.RetryPolicy&^webhook.RetryAll != 0 {
			t.Errorf("retries out of range: %+v", o)
		}
	})
}

func FuzzClassifyContentType(f *testing.F) {
	for _, s := range []string{"text/xml", "application/xml; charset=utf-8", "AUDIO/MPEG", "text/plain;;", "", "/", "a/b; c=\"d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		kind, mt, ok := webhook.ClassifyContentType(ct)
		if ok != (kind != 0) {
			t.Errorf("%q: kind %v but ok %v", ct, kind, ok)
		}
		if ok && mt != strings.ToLower(mt) {
			t.Errorf("%q: media type %q not lower case", ct, mt)
		}
	})
}

func FuzzResolve(f *testing.F) {
	f.Add("https://example.com/a/b?c=d#ct=100", "../x")
	f.Add("http://127.0.0.1:8080/", "//other/y")
	f.Add("", "https://example.com")
	f.Add("https://example.com", " \t?q=1 ")
	f.Fuzz(func(t *testing.T, base, ref string) {
		got, err := webhook.Resolve(base, ref)
		if err != nil {
			return
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("Resolve(%q, %q) = %q, which does not parse: %v", base, ref, got, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			t.Fatalf("Resolve(%q, %q) = %q: not an absolute http(s) URL", base, ref, got)
		}
	})
}

// FuzzSign checks that twilio-go's validator accepts every signature Sign
// makes for single-valued parameters.
func FuzzSign(f *testing.F) {
	f.Add("https://example.com/voice?x=1", "CallSid", "CA1", "From", "+1")
	f.Add("http://127.0.0.1:8080/", "SipHeader_X-ü", "☕", "", "")
	f.Fuzz(func(t *testing.T, u, k1, v1, k2, v2 string) {
		params := url.Values{k1: {v1}}
		if k2 != k1 {
			params[k2] = []string{v2}
		}
		v := client.NewRequestValidator(testToken)
		if !v.Validate(u, first(params), webhook.Sign(testToken, u, params)) {
			t.Fatalf("twilio-go rejects Sign(%q, %v)", u, params)
		}
	})
}
