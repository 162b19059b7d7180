package audiocache_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-voice/switchboard/internal/audiocache"
	"github.com/switchboard-voice/switchboard/internal/clock"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// start is the fake clock's starting time: whole seconds, as Date has.
var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// wavBody returns a small WAV file of n bytes in all (header + silence).
func wavBody(n int) []byte {
	if n < 44 {
		n = 44
	}
	b := make([]byte, n)
	copy(b, "RIFF")
	le32(b[4:], uint32(n-8))
	copy(b[8:], "WAVEfmt ")
	le32(b[16:], 16)
	b[20], b[22] = 1, 1 // PCM, mono
	le32(b[24:], 8000)
	le32(b[28:], 16000)
	b[32], b[34] = 2, 16
	copy(b[36:], "data")
	le32(b[40:], uint32(n-44))
	return b
}

func le32(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }

// A file is what the origin serves at a path.
type file struct {
	body         []byte
	contentType  string // "-" for no Content-Type at all
	cacheControl string
	etag         string
	lastModified time.Time
	header       map[string]string // more header fields (Expires, Age, Vary...)
	status       int               // 0: 200 (or 304 when the validators match)
}

// An origin is the user's web server: it serves files with caching headers,
// answers conditional requests with 304 as RFC 9110 section 13.1 says, and
// counts what it was asked for and what it sent.
type origin struct {
	srv *httptest.Server
	clk *clock.Fake

	mu       sync.Mutex
	files    map[string]*file
	requests map[string]int         // by path
	bodies   map[string]int         // 200s with a body, by path
	last     map[string]http.Header // the last request's header, by path
	gate     chan struct{}          // when set, requests wait for it to close
	arrived  chan string            // when set, gets each request's path
}

// newOrigin starts an origin; wrap, if given, builds the server's handler
// around o.serve.
func newOrigin(t testing.TB, clk *clock.Fake, wrap ...func(*origin) http.Handler) *origin {
	t.Helper()
	o := &origin{
		clk:      clk,
		files:    make(map[string]*file),
		requests: make(map[string]int),
		bodies:   make(map[string]int),
		last:     make(map[string]http.Header),
	}
	var h http.Handler = http.HandlerFunc(o.serve)
	if len(wrap) > 0 {
		h = wrap[0](o)
	}
	o.srv = httptest.NewServer(h)
	t.Cleanup(o.srv.Close)
	return o
}

// newTLSServer serves o over TLS with httptest's certificate, which the
// cache does not trust, and returns its URL.
func newTLSServer(t *testing.T, o *origin) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(o.serve))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake errors are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

// hold makes requests wait until gate is closed, announcing each on arrived
// (when not nil).
func (o *origin) hold(gate chan struct{}, arrived chan string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.gate, o.arrived = gate, arrived
}

func (o *origin) url(path string) string { return o.srv.URL + path }

func (o *origin) set(path string, f *file) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.files[path] = f
}

func (o *origin) counts(path string) (requests, bodies int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.requests[path], o.bodies[path]
}

func (o *origin) lastHeader(path string) http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last[path]
}

func (o *origin) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.requests[r.URL.Path]++
	o.last[r.URL.Path] = r.Header.Clone()
	f := o.files[r.URL.Path]
	gate, arrived := o.gate, o.arrived
	o.mu.Unlock()
	if arrived != nil {
		arrived <- r.URL.Path
	}
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	h := w.Header()
	h.Set("Date", o.clk.Now().UTC().Format(http.TimeFormat))
	if f == nil {
		http.NotFound(w, r)
		return
	}
	if f.cacheControl != "" {
		h.Set("Cache-Control", f.cacheControl)
	}
	if f.etag != "" {
		h.Set("ETag", f.etag)
	}
	if !f.lastModified.IsZero() {
		h.Set("Last-Modified", f.lastModified.UTC().Format(http.TimeFormat))
	}
	for k, v := range f.header {
		h.Set(k, v)
	}
	if f.status != 0 {
		w.WriteHeader(f.status)
		return
	}
	if notModified(r, f) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	switch f.contentType {
	case "-":
		h["Content-Type"] = nil // no sniffing by net/http either
	case "":
		h.Set("Content-Type", "audio/wav")
	default:
		h.Set("Content-Type", f.contentType)
	}
	o.mu.Lock()
	o.bodies[r.URL.Path]++
	o.mu.Unlock()
	w.Write(f.body)
}

// notModified evaluates If-None-Match, else If-Modified-Since (RFC 9110
// section 13.2.2).
func notModified(r *http.Request, f *file) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		return f.etag != "" && strings.Contains(inm, strings.TrimPrefix(f.etag, "W/"))
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !f.lastModified.IsZero() {
		t, err := http.ParseTime(ims)
		return err == nil && !f.lastModified.Truncate(time.Second).After(t)
	}
	return false
}

// newCache returns a cache in dir (a new temporary directory when empty),
// closed at the end of the test.
func newCache(t *testing.T, clk clock.Clock, dir string, opts audiocache.Options) *audiocache.Cache {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	opts.Dir, opts.Clock = dir, clk
	c, err := audiocache.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// get fetches u and fails the test on error; the entry is released at the end
// of the test.
func get(t *testing.T, c *audiocache.Cache, u string) audiocache.Entry {
	t.Helper()
	e, err := c.Get(context.Background(), u)
	if err != nil {
		t.Fatalf("Get(%s): %v", u, err)
	}
	t.Cleanup(func() { e.Release() })
	return e
}

// mustRead returns the content of the entry's file.
func mustRead(t *testing.T, e audiocache.Entry) []byte {
	t.Helper()
	b, err := os.ReadFile(e.Path)
	if err != nil {
		t.Fatalf("entry file: %v", err)
	}
	if int64(len(b)) != e.Size {
		t.Fatalf("entry file has %d bytes, Size says %d", len(b), e.Size)
	}
	return b
}

func wantBody(t *testing.T, e audiocache.Entry, want []byte) {
	t.Helper()
	if got := mustRead(t, e); !bytes.Equal(got, want) {
		t.Fatalf("entry body: %d bytes %q..., want %d bytes", len(got), got[:min(len(got), 16)], len(want))
	}
}

func wantCounts(t *testing.T, o *origin, path string, requests, bodies int) {
	t.Helper()
	r, b := o.counts(path)
	if r != requests || b != bodies {
		t.Fatalf("origin saw %d requests and sent %d bodies for %s, want %d and %d", r, b, path, requests, bodies)
	}
}

// code returns the Twilio code of err, failing when err is not an *Error.
func code(t *testing.T, err error) int {
	t.Helper()
	var e *audiocache.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *audiocache.Error", err, err)
	}
	return e.Code
}

// files lists the names in dir, sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	sort.Strings(names)
	return names
}

// bodyFiles counts the stored body files in dir (not sidecars, not temps).
func bodyFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	for _, name := range files(t, dir) {
		if !strings.HasPrefix(name, ".") && filepath.Ext(name) != ".json" {
			n++
		}
	}
	return n
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
