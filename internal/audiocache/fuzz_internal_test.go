package audiocache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseCacheControl checks that any Cache-Control value parses without
// panicking, that directive names are case-insensitive, and that the
// canonical rendering of the result parses back to the same directives.
func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{
		"max-age=60",
		"public, max-age=86400, s-maxage=3600",
		`no-cache="Set-Cookie, X-Foo", max-age="5"`,
		"no-store, no-cache, must-revalidate, proxy-revalidate, private, immutable",
		"max-age=99999999999999999999, max-age=1",
		`x="unterminated, no-store`,
		`a="q\"uoted\\", max-age=1`,
		",,, =,=\t\"",
		"max-age=abc",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cc := parseCacheControl([]string{s})
		for _, d := range []deltaSeconds{cc.maxAge, cc.sMaxAge} {
			if d.secs < 0 || d.secs > maxDeltaSeconds || (!d.valid && d.secs != 0) || (!d.set && d.valid) {
				t.Fatalf("parse(%q): bad delta-seconds %+v", s, d)
			}
		}
		if up := parseCacheControl([]string{asciiUpper(s)}); up != cc {
			t.Fatalf("case matters:\n%q -> %+v\n%q -> %+v", s, cc, asciiUpper(s), up)
		}
		canon := cc.String()
		if again := parseCacheControl([]string{canon}); again != cc {
			t.Fatalf("round trip: %q -> %+v -> %q -> %+v", s, cc, canon, again)
		}
		// Splitting the value over two header lines at a top-level comma
		// changes nothing (RFC 9110 section 5.3).
		if i := strings.IndexByte(s, ','); i >= 0 && !strings.ContainsAny(s, `"`) {
			if two := parseCacheControl([]string{s[:i], s[i+1:]}); two != cc {
				t.Fatalf("split at %d: %+v, want %+v", i, two, cc)
			}
		}
	})
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// FuzzNormalize checks that any string either fails with ErrBadURL or gives
// an http(s) URL that is its own normal form (the fast path of Get relies on
// it).
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"http://example.com",
		"HTTPS://Example.COM:443/a.mp3?x=1#f",
		"http://[::1]:80/a",
		"http://u:p@h/%2F%zz",
		"ftp://x/y",
		" http://h/a b ",
		"http://h:99999/",
		"http://%41/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, norm, err := normalize(s)
		if err != nil {
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("normalize(%q) accepted scheme %q", s, u.Scheme)
		}
		_, again, err := normalize(norm)
		if err != nil || again != norm {
			t.Fatalf("normalize(%q) = %q, which normalises to %q, %v", s, norm, again, err)
		}
	})
}

// FuzzSidecar checks that New's loader survives any sidecar content: it
// either loads a consistent entry or rejects the file.
func FuzzSidecar(f *testing.F) {
	f.Add([]byte(`{"version":1,"url":"http://h/a.wav","body":"x","size":3,"content_type":"audio/wav"}`))
	f.Add([]byte(`{"version":1,"header":{"Cache-Control":["max-age=5"],"Date":["0"]}}`))
	f.Add([]byte(`{`))
	f.Add([]byte(`null`))
	dir := f.TempDir()
	norm := "http://h/a.wav"
	key := keyOf(norm)
	body := key + "-0123456789abcdef.wav"
	if err := os.WriteFile(filepath.Join(dir, body), []byte("abc"), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"version":1,"url":"http://h/a.wav","body":"` + body + `","size":3,"content_type":"audio/wav",` +
		`"request_time":"2026-01-01T00:00:00Z","response_time":"2026-01-01T00:00:01Z","last_used":"2026-01-01T00:00:01Z",` +
		`"header":{"Cache-Control":["max-age=5"],"Etag":["\"e\""]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &Cache{dir: dir, maxFileBytes: DefaultMaxFileBytes}
		if err := os.WriteFile(c.sidecarPath(key), data, 0o644); err != nil {
			t.Fatal(err)
		}
		// The loader deletes a body whose size is wrong: put it back.
		os.WriteFile(filepath.Join(dir, body), []byte("abc"), 0o644)
		e, err := c.loadSidecar(key)
		if err != nil {
			return
		}
		if e.key != key || e.body != body || e.size != 3 || e.meta == nil || e.contentType == "" {
			t.Fatalf("inconsistent entry loaded: %+v", e)
		}
	})
}
