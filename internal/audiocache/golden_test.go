package audiocache

import (
	"bytes"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestSidecarGolden pins the sidecar format: what is written for an entry,
// and that a file in that format loads back into the same entry.
func TestSidecarGolden(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	norm := "https://user:xxxxx@media.example.com/prompts/welcome.wav?v=2"
	key := keyOf(norm)
	e := &entry{
		key:         key,
		display:     norm,
		body:        key + "-00112233445566ff.wav",
		size:        44,
		contentType: "audio/wav",
	}
	m := newMeta(http.Header{
		"Cache-Control": {"public, max-age=3600"},
		"Date":          {t0.Format(http.TimeFormat)},
		"Etag":          {`"5e1f-62a"`},
		"Last-Modified": {t0.Add(-72 * time.Hour).Format(http.TimeFormat)},
		"Content-Type":  {"audio/wav"},
		"Vary":          {"Accept-Encoding"},
		"Set-Cookie":    {"session=not-kept"},
		"Server":        {"not-kept"},
	}, t0.Add(-150*time.Millisecond), t0)
	got, err := encodeSidecar(newSidecar(e, m, t0.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "sidecar.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("sidecar differs from %s (run with -update if intended):\n%s", golden, got)
	}

	// The golden file loads back.
	dir := t.TempDir()
	c := &Cache{dir: dir, maxFileBytes: DefaultMaxFileBytes}
	if err := os.WriteFile(c.sidecarPath(key), want, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, e.body), make([]byte, 44), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := c.loadSidecar(key)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case l.body != e.body || l.size != e.size || l.contentType != e.contentType || l.display != norm:
		t.Fatalf("loaded %+v", l)
	case l.url != "":
		t.Fatal("an entry whose password was redacted claims to know its URL")
	case !l.withAuth || !l.lastUsed.Equal(t0.Add(time.Minute)):
		t.Fatalf("withAuth %v lastUsed %v", l.withAuth, l.lastUsed)
	case l.meta.lifetime != time.Hour || l.meta.etag() != `"5e1f-62a"` || !l.meta.freshUntil.Equal(m.freshUntil):
		t.Fatalf("meta lifetime %v etag %q fresh until %v, want %v", l.meta.lifetime, l.meta.etag(), l.meta.freshUntil, m.freshUntil)
	}
}
