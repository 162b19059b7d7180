package webhook

import (
	"net/url"
	"reflect"
	"testing"
)

// FuzzParseTarget feeds arbitrary URLs to the request preparation: it must
// not panic, and what it accepts goes on the wire with a valid query.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:8080/voice?a=b&c=d#ct=100",
		"https://user:pw@example.com/é?q=日本 語",
		"http://[::1]:80/x?%zz",
		"HTTP://EXAMPLE.COM",
		"http://example.com/?a=|b`c{d}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tg, err := parseTarget(raw)
		if err != nil {
			return
		}
		q := tg.u.RawQuery
		for i := 0; i < len(q); i++ {
			if !queryByteOK(q[i]) {
				t.Fatalf("%q: byte %q left unescaped in query %q", raw, q[i], q)
			}
		}
		if tg.u.User != nil || tg.u.Fragment != "" {
			t.Fatalf("%q: credentials or fragment kept: %s", raw, tg.u)
		}
		if _, err := url.Parse(tg.u.String()); err != nil {
			t.Fatalf("%q: prepared URL %q does not parse: %v", raw, tg.u.String(), err)
		}
	})
}

// FuzzEscapeQuery checks that escaping never changes what a query means.
func FuzzEscapeQuery(f *testing.F) {
	for _, s := range []string{"a=b", "a=ü&b=日本", "x= y", "a=%41", "%zz", "a=|&b=\"", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		e := escapeQuery(q)
		if escapeQuery(e) != e {
			t.Fatalf("escapeQuery not idempotent on %q", q)
		}
		want, err1 := url.ParseQuery(q)
		got, err2 := url.ParseQuery(e)
		if (err1 == nil) != (err2 == nil) || (err1 == nil && !reflect.DeepEqual(want, got)) {
			t.Fatalf("escapeQuery(%q) = %q changes the query: %v (%v) vs %v (%v)", q, e, want, err1, got, err2)
		}
	})
}
