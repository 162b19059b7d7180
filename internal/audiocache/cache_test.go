package audiocache_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/audiocache"
	"github.com/switchboard-voice/switchboard/internal/clock"
)

func TestFreshHitMakesNoRequest(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	body := wavBody(1000)
	o.set("/hello.wav", &file{body: body, cacheControl: "max-age=60"})
	c := newCache(t, clk, "", audiocache.Options{})

	first := get(t, c, o.url("/hello.wav"))
	if first.Outcome != audiocache.Fetched || first.ContentType != "audio/wav" {
		t.Fatalf("first Get: outcome %v, content type %q", first.Outcome, first.ContentType)
	}
	wantBody(t, first, body)

	clk.Advance(59 * time.Second)
	second := get(t, c, o.url("/hello.wav"))
	if second.Outcome != audiocache.Hit || second.Path != first.Path {
		t.Fatalf("second Get: outcome %v path %s, want a hit on %s", second.Outcome, second.Path, first.Path)
	}
	wantBody(t, second, body)
	wantCounts(t, o, "/hello.wav", 1, 1)
	if c.Len() != 1 || c.Bytes() != int64(len(body)) {
		t.Fatalf("Len %d Bytes %d, want 1 and %d", c.Len(), c.Bytes(), len(body))
	}
}

func TestSameResourceDifferentSpelling(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	o.set("/a.wav", &file{body: wavBody(100), cacheControl: "max-age=60"})
	c := newCache(t, clk, "", audiocache.Options{})
	get(t, c, o.url("/a.wav"))
	// Upper-case scheme and host, a fragment, whitespace around it: one
	// resource, one entry.
	spelled := "  HTTP://" + strings.ToUpper(strings.TrimPrefix(o.srv.URL, "http://")) + "/a.wav#frag\n"
	if e := get(t, c, spelled); e.Outcome != audiocache.Hit {
		t.Fatalf("Get(%q): outcome %v, want hit", spelled, e.Outcome)
	}
	wantCounts(t, o, "/a.wav", 1, 1)
}

func TestStaleRevalidatedWithETag(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	body := wavBody(4000)
	o.set("/e.wav", &file{body: body, cacheControl: "max-age=60", etag: `"v1"`})
	c := newCache(t, clk, "", audiocache.Options{})

	first := get(t, c, o.url("/e.wav"))
	clk.Advance(61 * time.Second)
	second := get(t, c, o.url("/e.wav"))
	if second.Outcome != audiocache.Revalidated || second.Path != first.Path {
		t.Fatalf("after max-age: outcome %v path %s, want revalidated %s", second.Outcome, second.Path, first.Path)
	}
	wantBody(t, second, body)
	h := o.lastHeader("/e.wav")
	if got := h.Get("If-None-Match"); got != `"v1"` {
		t.Fatalf("If-None-Match %q, want %q", got, `"v1"`)
	}
	if got := h.Get("If-Modified-Since"); got != "" {
		t.Fatalf("If-Modified-Since %q sent without a Last-Modified", got)
	}
	wantCounts(t, o, "/e.wav", 2, 1) // the 304 carried no body

	// The 304 started a new freshness lifetime.
	clk.Advance(59 * time.Second)
	if e := get(t, c, o.url("/e.wav")); e.Outcome != audiocache.Hit {
		t.Fatalf("after revalidation: outcome %v, want hit", e.Outcome)
	}
	wantCounts(t, o, "/e.wav", 2, 1)
}

func TestStaleRevalidatedWithLastModified(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	lm := start.Add(-48 * time.Hour)
	o.set("/lm.wav", &file{body: wavBody(500), cacheControl: "max-age=30", lastModified: lm})
	c := newCache(t, clk, "", audiocache.Options{})

	get(t, c, o.url("/lm.wav"))
	clk.Advance(31 * time.Second)
	if e := get(t, c, o.url("/lm.wav")); e.Outcome != audiocache.Revalidated {
		t.Fatalf("outcome %v, want revalidated", e.Outcome)
	}
	h := o.lastHeader("/lm.wav")
	if got, want := h.Get("If-Modified-Since"), lm.Format(http.TimeFormat); got != want {
		t.Fatalf("If-Modified-Since %q, want the stored Last-Modified %q", got, want)
	}
	if got := h.Get("If-None-Match"); got != "" {
		t.Fatalf("If-None-Match %q sent without an ETag", got)
	}
	wantCounts(t, o, "/lm.wav", 2, 1)
}

func TestChangedFileReplacesEntry(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	v1, v2 := wavBody(300), wavBody(600)
	o.set("/c.wav", &file{body: v1, cacheControl: "max-age=10", etag: `"1"`})
	c := newCache(t, clk, "", audiocache.Options{})

	old := get(t, c, o.url("/c.wav")) // still held: its file must survive
	o.set("/c.wav", &file{body: v2, cacheControl: "max-age=10", etag: `"2"`})
	clk.Advance(11 * time.Second)
	e := get(t, c, o.url("/c.wav"))
	if e.Outcome != audiocache.Fetched || e.Path == old.Path {
		t.Fatalf("outcome %v path %s (old %s), want fetched into a new file", e.Outcome, e.Path, old.Path)
	}
	wantBody(t, e, v2)
	wantBody(t, old, v1)
	if c.Len() != 1 || c.Bytes() != int64(len(v2)) {
		t.Fatalf("Len %d Bytes %d after replacement", c.Len(), c.Bytes())
	}
	old.Release()
	if _, err := os.Stat(old.Path); !os.IsNotExist(err) {
		t.Fatalf("replaced body still on disk after release: %v", err)
	}
	if n := bodyFiles(t, c.Dir()); n != 1 {
		t.Fatalf("%d body files, want 1", n)
	}
}

func TestNoStoreFetchedEveryTime(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	body := wavBody(800)
	o.set("/ns.wav", &file{body: body, cacheControl: "no-store", etag: `"x"`})
	c := newCache(t, clk, "", audiocache.Options{})

	var paths []string
	for i := range 3 {
		e, err := c.Get(context.Background(), o.url("/ns.wav"))
		if err != nil {
			t.Fatal(err)
		}
		if e.Outcome != audiocache.Uncached {
			t.Fatalf("Get %d: outcome %v, want uncached", i, e.Outcome)
		}
		wantBody(t, e, body)
		if h := o.lastHeader("/ns.wav"); h.Get("If-None-Match") != "" {
			t.Fatalf("Get %d was conditional: nothing should be stored", i)
		}
		paths = append(paths, e.Path)
		if err := e.Release(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(e.Path); !os.IsNotExist(err) {
			t.Fatalf("temporary file %s left after Release", e.Path)
		}
	}
	wantCounts(t, o, "/ns.wav", 3, 3)
	if c.Len() != 0 {
		t.Fatalf("Len %d, want 0", c.Len())
	}
	if names := files(t, c.Dir()); len(names) != 0 {
		t.Fatalf("files left in the cache directory: %v", names)
	}
}

func TestNoCacheRevalidatedEveryTime(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	body := wavBody(700)
	o.set("/nc.wav", &file{body: body, cacheControl: "no-cache, max-age=3600", etag: `W/"nc"`})
	c := newCache(t, clk, "", audiocache.Options{})

	if e := get(t, c, o.url("/nc.wav")); e.Outcome != audiocache.Fetched {
		t.Fatalf("first: %v", e.Outcome)
	}
	for i := range 3 {
		e := get(t, c, o.url("/nc.wav"))
		if e.Outcome != audiocache.Revalidated {
			t.Fatalf("Get %d: outcome %v, want revalidated", i, e.Outcome)
		}
		wantBody(t, e, body)
		if got := o.lastHeader("/nc.wav").Get("If-None-Match"); got != `W/"nc"` {
			t.Fatalf("If-None-Match %q", got)
		}
	}
	wantCounts(t, o, "/nc.wav", 4, 1)
}

func TestFreshnessSources(t *testing.T) {
	// Each case: the headers, how long the response is fresh for.
	tests := []struct {
		name  string
		f     file
		fresh time.Duration
	}{
		{"max-age", file{cacheControl: "max-age=100", etag: `"a"`}, 100 * time.Second},
		{"s-maxage wins over max-age", file{cacheControl: "max-age=10, s-maxage=200", etag: `"a"`}, 200 * time.Second},
		{"max-age wins over Expires", file{cacheControl: "max-age=50", etag: `"a"`,
			header: map[string]string{"Expires": start.Add(time.Hour).Format(http.TimeFormat)}}, 50 * time.Second},
		{"Expires minus Date", file{etag: `"a"`,
			header: map[string]string{"Expires": start.Add(120 * time.Second).Format(http.TimeFormat)}}, 120 * time.Second},
		{"Age counts", file{cacheControl: "max-age=60", etag: `"a"`, header: map[string]string{"Age": "50"}}, 10 * time.Second},
		{"heuristic 10% of an hour", file{lastModified: start.Add(-time.Hour)}, 6 * time.Minute},
		{"heuristic capped at 24h", file{lastModified: start.Add(-30 * 24 * time.Hour)}, 24 * time.Hour},
		{"max-age=0", file{cacheControl: "max-age=0", etag: `"a"`}, 0},
		{"invalid max-age is stale", file{cacheControl: "max-age=soon", etag: `"a"`}, 0},
		{"Expires 0 is stale", file{etag: `"a"`, header: map[string]string{"Expires": "0"}}, 0},
		{"validator only", file{etag: `"a"`}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(start)
			o := newOrigin(t, clk)
			f := tt.f
			f.body = wavBody(100)
			o.set("/f.wav", &f)
			c := newCache(t, clk, "", audiocache.Options{})
			if e := get(t, c, o.url("/f.wav")); e.Outcome != audiocache.Fetched {
				t.Fatalf("first Get: %v", e.Outcome)
			}
			if tt.fresh > 0 {
				clk.Advance(tt.fresh - time.Second)
				if e := get(t, c, o.url("/f.wav")); e.Outcome != audiocache.Hit {
					t.Fatalf("1 s before the end of freshness: outcome %v, want hit", e.Outcome)
				}
				clk.Advance(time.Second)
			}
			if e := get(t, c, o.url("/f.wav")); e.Outcome != audiocache.Revalidated {
				t.Fatalf("at the end of freshness: outcome %v, want revalidated", e.Outcome)
			}
			wantCounts(t, o, "/f.wav", 2, 1)
		})
	}
}

func TestNotStored(t *testing.T) {
	tests := []struct {
		name string
		f    file
		auth bool
	}{
		{"no-store", file{cacheControl: "no-store, max-age=60"}, false},
		{"private", file{cacheControl: "private, max-age=60", etag: `"p"`}, false},
		{"Vary *", file{cacheControl: "max-age=60", header: map[string]string{"Vary": "Accept, *"}}, false},
		{"no freshness, no validator", file{}, false},
		{"no-cache without validator", file{cacheControl: "no-cache, max-age=60"}, false},
		{"credentials without public", file{cacheControl: "max-age=60", etag: `"a"`}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(start)
			o := newOrigin(t, clk)
			f := tt.f
			f.body = wavBody(100)
			o.set("/n.wav", &f)
			c := newCache(t, clk, "", audiocache.Options{})
			u := o.url("/n.wav")
			if tt.auth {
				u = strings.Replace(u, "http://", "http://user:secret@", 1)
			}
			for i := range 2 {
				if e := get(t, c, u); e.Outcome != audiocache.Uncached {
					t.Fatalf("Get %d: outcome %v, want uncached", i, e.Outcome)
				}
			}
			wantCounts(t, o, "/n.wav", 2, 2)
			if c.Len() != 0 {
				t.Fatalf("Len %d, want 0", c.Len())
			}
		})
	}
}

func TestCredentialsStoredWhenPublic(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	o.set("/auth.wav", &file{body: wavBody(100), cacheControl: "public, max-age=60"})
	dir := t.TempDir()
	c := newCache(t, clk, dir, audiocache.Options{})
	u := strings.Replace(o.url("/auth.wav"), "http://", "http://user:s3cret@", 1)
	get(t, c, u)
	if got := o.lastHeader("/auth.wav").Get("Authorization"); !strings.HasPrefix(got, "Basic ") {
		t.Fatalf("Authorization %q: user info should become basic auth", got)
	}
	if e := get(t, c, u); e.Outcome != audiocache.Hit {
		t.Fatalf("outcome %v, want hit", e.Outcome)
	}
	sc, err := os.ReadFile(filepath.Join(dir, audiocache.Key(u)+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sc), "s3cret") {
		t.Fatalf("the password is written to disk: %s", sc)
	}
	// After a restart the entry is found by its key.
	c.Close()
	c2 := newCache(t, clk, dir, audiocache.Options{})
	if e := get(t, c2, u); e.Outcome != audiocache.Hit {
		t.Fatalf("after restart: outcome %v, want hit", e.Outcome)
	}
	wantCounts(t, o, "/auth.wav", 1, 1)
}

func TestHTTPErrorsAreNotCached(t *testing.T) {
	for _, status := range []int{404, 403, 500, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			clk := clock.NewFake(start)
			o := newOrigin(t, clk)
			o.set("/x.wav", &file{status: status, cacheControl: "max-age=600"})
			c := newCache(t, clk, "", audiocache.Options{})
			for range 2 {
				_, err := c.Get(context.Background(), o.url("/x.wav"))
				if code(t, err) != audiocache.CodeRetrievalFailure || !errors.Is(err, audiocache.ErrStatus) {
					t.Fatalf("err = %v, want 11200", err)
				}
				var ae *audiocache.Error
				errors.As(err, &ae)
				if ae.Status != status || ae.URL != o.url("/x.wav") {
					t.Fatalf("Error status %d URL %q", ae.Status, ae.URL)
				}
			}
			wantCounts(t, o, "/x.wav", 2, 0)
			if names := files(t, c.Dir()); len(names) != 0 || c.Len() != 0 {
				t.Fatalf("something was stored: %v", names)
			}
		})
	}
}

func TestOddSuccessStatuses(t *testing.T) {
	clk := clock.NewFake(start)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/partial.wav":
			w.Header().Set("Content-Type", "audio/wav")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(wavBody(100))
		case "/created.wav":
			w.Header().Set("Content-Type", "audio/wav")
			w.Header().Set("Cache-Control", "max-age=60")
			w.WriteHeader(http.StatusCreated)
			w.Write(wavBody(100))
		case "/nocontent.wav":
			w.Header().Set("Content-Type", "audio/wav")
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	c := newCache(t, clk, "", audiocache.Options{})
	if _, err := c.Get(context.Background(), srv.URL+"/partial.wav"); code(t, err) != audiocache.CodeRetrievalFailure {
		t.Fatalf("206: %v, want 11200", err)
	}
	if e := get(t, c, srv.URL+"/created.wav"); e.Outcome != audiocache.Uncached {
		t.Fatalf("201: outcome %v, want uncached", e.Outcome)
	}
	if _, err := c.Get(context.Background(), srv.URL+"/nocontent.wav"); code(t, err) != audiocache.CodeInvalidContentType || !errors.Is(err, audiocache.ErrEmptyBody) {
		t.Fatalf("204: %v, want 13420 empty body", err)
	}
}

func TestRevalidationStatusErrors(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	o.set("/r.wav", &file{body: wavBody(100), cacheControl: "max-age=10", etag: `"r"`})
	c := newCache(t, clk, "", audiocache.Options{})
	e, err := c.Get(context.Background(), o.url("/r.wav"))
	if err != nil {
		t.Fatal(err)
	}
	e.Release()

	// 5xx: the error is reported, the copy kept for the next attempt.
	o.set("/r.wav", &file{status: 502})
	clk.Advance(11 * time.Second)
	if _, err := c.Get(context.Background(), o.url("/r.wav")); code(t, err) != audiocache.CodeRetrievalFailure {
		t.Fatalf("err = %v", err)
	}
	if c.Len() != 1 {
		t.Fatalf("the entry was dropped on a 502")
	}
	// 404: the file is gone, and so is the copy.
	o.set("/r.wav", nil)
	if _, err := c.Get(context.Background(), o.url("/r.wav")); code(t, err) != audiocache.CodeRetrievalFailure {
		t.Fatalf("err = %v", err)
	}
	if c.Len() != 0 {
		t.Fatalf("the entry survived a 404")
	}
	if names := files(t, c.Dir()); len(names) != 0 {
		t.Fatalf("files left: %v", names)
	}
}

func TestContentTypes(t *testing.T) {
	mp3 := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), make([]byte, 100)...)
	frame := append([]byte{0xFF, 0xFB, 0x90, 0x64}, make([]byte, 100)...)
	tests := []struct {
		name        string
		contentType string
		body        []byte
		wantCode    int    // 0: success
		wantType    string // the Entry's ContentType
	}{
		{"audio/mpeg", "audio/mpeg", mp3, 0, "audio/mpeg"},
		{"audio/x-wav", "audio/x-wav", wavBody(64), 0, "audio/x-wav"},
		{"parameters kept", "audio/L16;rate=8000", make([]byte, 160), 0, "audio/L16;rate=8000"},
		{"any audio", "audio/basic", make([]byte, 160), 0, "audio/basic"},
		{"octet-stream wav", "application/octet-stream", wavBody(64), 0, "audio/wav"},
		{"octet-stream mp3 frame", "binary/octet-stream", frame, 0, "audio/mpeg"},
		{"none, aiff", "-", append([]byte("FORM\x00\x00\x00\x10AIFF"), make([]byte, 20)...), 0, "audio/aiff"},
		{"none, snd", "-", append([]byte(".snd\x00\x00\x00\x18"), make([]byte, 40)...), 0, "audio/basic"},
		{"text/html", "text/html; charset=utf-8", []byte("<html>Oops</html>"), audiocache.CodeInvalidContentType, ""},
		{"text/xml", "text/xml", []byte("<Response/>"), audiocache.CodeInvalidContentType, ""},
		{"text/plain", "text/plain", []byte("hello"), audiocache.CodeInvalidContentType, ""},
		{"json", "application/json", []byte("{}"), audiocache.CodeInvalidContentType, ""},
		{"octet-stream html", "application/octet-stream", []byte("<html>nope</html>"), audiocache.CodeInvalidContentType, ""},
		{"none, text", "-", []byte("just some text"), audiocache.CodeInvalidContentType, ""},
		{"empty body", "audio/mpeg", nil, audiocache.CodeInvalidContentType, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(start)
			o := newOrigin(t, clk)
			o.set("/t", &file{body: tt.body, contentType: tt.contentType, cacheControl: "max-age=60"})
			c := newCache(t, clk, "", audiocache.Options{})
			e, err := c.Get(context.Background(), o.url("/t"))
			if tt.wantCode != 0 {
				if code(t, err) != tt.wantCode {
					t.Fatalf("err = %v, want %d", err, tt.wantCode)
				}
				if c.Len() != 0 || len(files(t, c.Dir())) != 0 {
					t.Fatalf("a refused answer left files: %v", files(t, c.Dir()))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer e.Release()
			if e.ContentType != tt.wantType {
				t.Fatalf("ContentType %q, want %q", e.ContentType, tt.wantType)
			}
			wantBody(t, e, tt.body)
		})
	}
}

func TestHTMLIsRefusedWithoutReadingIt(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	big := []byte(strings.Repeat("<p>error page</p>", 1<<16))
	o.set("/err", &file{body: big, contentType: "text/html"})
	c := newCache(t, clk, "", audiocache.Options{})
	_, err := c.Get(context.Background(), o.url("/err"))
	if code(t, err) != audiocache.CodeInvalidContentType || !errors.Is(err, audiocache.ErrContentType) {
		t.Fatalf("err = %v, want 13420", err)
	}
	var ae *audiocache.Error
	errors.As(err, &ae)
	if ae.Message() != "Play: Invalid Content-Type" || ae.MoreInfo() != "https://www.twilio.com/docs/errors/13420" {
		t.Fatalf("Message %q MoreInfo %q", ae.Message(), ae.MoreInfo())
	}
}

// TestOversizeIsNotRead checks that a body past MaxFileBytes fails with 11750
// and that the transfer is cut short: the server, which would send 64 MiB,
// gets a write error long before.
func TestOversizeIsNotRead(t *testing.T) {
	const maxFile = 64 << 10
	const offered = 64 << 20
	for _, declared := range []bool{true, false} {
		t.Run(fmt.Sprintf("content-length=%v", declared), func(t *testing.T) {
			var (
				mu      sync.Mutex
				written int64
				werr    error
			)
			done := make(chan struct{})
			clk := clock.NewFake(start)
			o := newOrigin(t, clk, func(*origin) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					defer close(done)
					w.Header().Set("Content-Type", "audio/wav")
					if declared {
						w.Header().Set("Content-Length", fmt.Sprint(offered))
					}
					chunk := wavBody(32 << 10)
					for n := 0; n < offered; n += len(chunk) {
						k, err := w.Write(chunk)
						mu.Lock()
						written += int64(k)
						werr = err
						mu.Unlock()
						if err != nil {
							return
						}
						w.(http.Flusher).Flush()
					}
				})
			})
			c := newCache(t, clk, "", audiocache.Options{MaxFileBytes: maxFile})
			_, err := c.Get(context.Background(), o.url("/big.wav"))
			if code(t, err) != audiocache.CodeTooLarge || !errors.Is(err, audiocache.ErrTooLarge) {
				t.Fatalf("err = %v, want 11750", err)
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the server is still sending")
			}
			mu.Lock()
			defer mu.Unlock()
			if werr == nil || written >= offered {
				t.Fatalf("the server wrote %d bytes (error %v): the body was read to the end", written, werr)
			}
			t.Logf("the server got to write %d of %d bytes (socket buffers included)", written, offered)
			if names := files(t, c.Dir()); len(names) != 0 {
				t.Fatalf("files left: %v", names)
			}
		})
	}
}

func TestConcurrentGetsFetchOnce(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	body := wavBody(2000)
	o.set("/once.wav", &file{body: body, cacheControl: "max-age=60"})
	gate := make(chan struct{})
	o.hold(gate, nil)
	c := newCache(t, clk, "", audiocache.Options{})

	const n = 8
	entries := make([]audiocache.Entry, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { entries[i], errs[i] = c.Get(context.Background(), o.url("/once.wav")) })
	}
	waitFor(t, "all Gets to wait on one fetch", func() bool { return c.Waiters(o.url("/once.wav")) == n })
	close(gate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Get %d: %v", i, errs[i])
		}
		if entries[i].Path != entries[0].Path || entries[i].Outcome != audiocache.Fetched {
			t.Fatalf("Get %d: %s %v, want %s fetched", i, entries[i].Path, entries[i].Outcome, entries[0].Path)
		}
		wantBody(t, entries[i], body)
	}
	wantCounts(t, o, "/once.wav", 1, 1)
	// Every Entry is pinned: evicting the entry must keep the file until the
	// last Release.
	if err := c.Remove(o.url("/once.wav")); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := os.Stat(entries[i].Path); err != nil {
			t.Fatalf("file gone with %d entries still held: %v", n-i, err)
		}
		entries[i].Release()
	}
	if _, err := os.Stat(entries[0].Path); !os.IsNotExist(err) {
		t.Fatalf("file kept after the last release: %v", err)
	}
}

func TestConcurrentUncachedGetsGetOwnFiles(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	body := wavBody(1000)
	o.set("/ns.wav", &file{body: body, cacheControl: "no-store"})
	gate := make(chan struct{})
	o.hold(gate, nil)
	c := newCache(t, clk, "", audiocache.Options{})

	const n = 4
	entries := make([]audiocache.Entry, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { entries[i], errs[i] = c.Get(context.Background(), o.url("/ns.wav")) })
	}
	waitFor(t, "all Gets to wait", func() bool { return c.Waiters(o.url("/ns.wav")) == n })
	close(gate)
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[entries[i].Path] {
			t.Fatalf("two callers share the temporary file %s", entries[i].Path)
		}
		seen[entries[i].Path] = true
		wantBody(t, entries[i], body)
	}
	wantCounts(t, o, "/ns.wav", 1, 1)
	for i := range n {
		entries[i].Release()
	}
	if names := files(t, c.Dir()); len(names) != 0 {
		t.Fatalf("files left after release: %v", names)
	}
}

func TestRestartReusesEntries(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	o.set("/fresh.wav", &file{body: wavBody(100), cacheControl: "max-age=3600"})
	o.set("/stale.wav", &file{body: wavBody(200), cacheControl: "max-age=10", etag: `"s"`,
		lastModified: start.Add(-time.Hour)})
	dir := t.TempDir()
	c1 := newCache(t, clk, dir, audiocache.Options{})
	get(t, c1, o.url("/fresh.wav"))
	get(t, c1, o.url("/stale.wav"))
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.Get(context.Background(), o.url("/fresh.wav")); !errors.Is(err, audiocache.ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}

	clk.Advance(time.Minute)
	c2 := newCache(t, clk, dir, audiocache.Options{})
	if c2.Len() != 2 || c2.Bytes() != 300 {
		t.Fatalf("restarted cache: Len %d Bytes %d, want 2 and 300", c2.Len(), c2.Bytes())
	}
	if e := get(t, c2, o.url("/fresh.wav")); e.Outcome != audiocache.Hit {
		t.Fatalf("fresh entry after restart: %v", e.Outcome)
	}
	e := get(t, c2, o.url("/stale.wav"))
	if e.Outcome != audiocache.Revalidated {
		t.Fatalf("stale entry after restart: %v", e.Outcome)
	}
	h := o.lastHeader("/stale.wav")
	if h.Get("If-None-Match") != `"s"` || h.Get("If-Modified-Since") != start.Add(-time.Hour).Format(http.TimeFormat) {
		t.Fatalf("validators lost across the restart: %v", h)
	}
	wantCounts(t, o, "/fresh.wav", 1, 1)
	wantCounts(t, o, "/stale.wav", 2, 1)
}

func TestLRUEviction(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	for _, p := range []string{"/a.wav", "/b.wav", "/c.wav"} {
		o.set(p, &file{body: wavBody(100), cacheControl: "max-age=3600"})
	}
	dir := t.TempDir()
	c := newCache(t, clk, dir, audiocache.Options{MaxBytes: 250})
	use := func(p string) audiocache.Outcome {
		t.Helper()
		clk.Advance(time.Second)
		e, err := c.Get(context.Background(), o.url(p))
		if err != nil {
			t.Fatal(err)
		}
		e.Release()
		return e.Outcome
	}
	use("/a.wav")
	use("/b.wav")
	if use("/a.wav") != audiocache.Hit { // a is now more recent than b
		t.Fatal("a not a hit")
	}
	use("/c.wav") // 300 bytes > 250: b, the least recently used, goes
	if c.Len() != 2 || c.Bytes() != 200 {
		t.Fatalf("Len %d Bytes %d, want 2 and 200", c.Len(), c.Bytes())
	}
	if n := bodyFiles(t, dir); n != 2 {
		t.Fatalf("%d body files on disk, want 2", n)
	}
	if _, err := os.Stat(filepath.Join(dir, audiocache.Key(o.url("/b.wav"))+".json")); !os.IsNotExist(err) {
		t.Fatalf("evicted entry's sidecar still there: %v", err)
	}
	if use("/a.wav") != audiocache.Hit || use("/c.wav") != audiocache.Hit {
		t.Fatal("a or c evicted instead of b")
	}
	if use("/b.wav") != audiocache.Fetched {
		t.Fatal("b was not evicted")
	}
	wantCounts(t, o, "/b.wav", 2, 2)
	wantCounts(t, o, "/a.wav", 1, 1)

	// A file larger than the whole cache is served but not stored.
	o.set("/huge.wav", &file{body: wavBody(300), cacheControl: "max-age=3600"})
	if use("/huge.wav") != audiocache.Uncached {
		t.Fatal("a file larger than MaxBytes was stored")
	}

	// Eviction order survives a restart (last-use times are saved on Close).
	c.Close()
	c2 := newCache(t, clk, dir, audiocache.Options{MaxBytes: 150})
	if c2.Len() != 1 {
		t.Fatalf("restart with a smaller bound: Len %d, want 1", c2.Len())
	}
	if e := get(t, c2, o.url("/b.wav")); e.Outcome != audiocache.Hit {
		t.Fatalf("the most recently used entry was not kept: %v", e.Outcome)
	}
}

func TestCorruptEntriesDiscarded(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	paths := []string{"/garbage.wav", "/truncated.wav", "/wrongkey.wav", "/good.wav"}
	for _, p := range paths {
		o.set(p, &file{body: wavBody(100), cacheControl: "max-age=3600"})
	}
	dir := t.TempDir()
	c1 := newCache(t, clk, dir, audiocache.Options{})
	bodies := map[string]string{}
	for _, p := range paths {
		bodies[p] = get(t, c1, o.url(p)).Path
	}
	c1.Close()

	sidecar := func(p string) string { return filepath.Join(dir, audiocache.Key(o.url(p))+".json") }
	if err := os.WriteFile(sidecar("/garbage.wav"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(bodies["/truncated.wav"], 50); err != nil {
		t.Fatal(err)
	}
	// A sidecar renamed to another key does not describe that URL.
	if err := os.Rename(sidecar("/wrongkey.wav"), filepath.Join(dir, strings.Repeat("ab", 32)+".json")); err != nil {
		t.Fatal(err)
	}
	// Leftovers of a crash: an unreferenced body, an old temporary file.
	orphan := filepath.Join(dir, strings.Repeat("cd", 32)+"-0123456789abcdef.wav")
	os.WriteFile(orphan, []byte("x"), 0o644)
	oldTmp := filepath.Join(dir, ".tmp-123")
	os.WriteFile(oldTmp, []byte("x"), 0o644)
	os.Chtimes(oldTmp, time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour))
	// Something that is not ours.
	mine := filepath.Join(dir, "README")
	os.WriteFile(mine, []byte("x"), 0o644)

	c2 := newCache(t, clk, dir, audiocache.Options{})
	if c2.Len() != 1 {
		t.Fatalf("Len %d after loading, want 1 (only the good entry)", c2.Len())
	}
	want := []string{"README", audiocache.Key(o.url("/good.wav")) + ".json", filepath.Base(bodies["/good.wav"])}
	got := files(t, dir)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("files after loading:\n%v\nwant\n%v", got, want)
	}
	for _, p := range paths {
		e := get(t, c2, o.url(p))
		if want := map[bool]audiocache.Outcome{true: audiocache.Hit, false: audiocache.Fetched}[p == "/good.wav"]; e.Outcome != want {
			t.Fatalf("%s: outcome %v, want %v", p, e.Outcome, want)
		}
		wantBody(t, e, wavBody(100))
	}
}

func TestInvalidURLs(t *testing.T) {
	clk := clock.NewFake(start)
	c := newCache(t, clk, "", audiocache.Options{})
	for _, u := range []string{
		"",
		"   ",
		"ftp://example.com/a.mp3",
		"file:///etc/passwd",
		"/relative/a.mp3",
		"cowbell.mp3",
		"http://",
		"http://[::1",
		"https:opaque",
		"javascript:alert(1)",
		"http://exa mple.com/a.mp3",
		"http://example.com/" + strings.Repeat("a", 9000),
	} {
		_, err := c.Get(context.Background(), u)
		if code(t, err) != audiocache.CodeInvalidURL || !errors.Is(err, audiocache.ErrBadURL) {
			t.Errorf("Get(%.40q): %v, want 11100", u, err)
		}
	}
}

func TestTransportFailures(t *testing.T) {
	clk := clock.NewFake(start)
	c := newCache(t, clk, "", audiocache.Options{})

	_, err := c.Get(context.Background(), "http://no-such-host.invalid/a.mp3")
	if code(t, err) != audiocache.CodeBadHostName {
		t.Errorf("unresolvable host: %v, want 11210", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = c.Get(context.Background(), "http://"+addr+"/a.mp3")
	if code(t, err) != audiocache.CodeConnectionFailure {
		t.Errorf("connection refused: %v, want 11205", err)
	}
}

func TestTimeoutOnFakeClock(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	o.set("/slow.wav", &file{body: wavBody(100)})
	gate := make(chan struct{})
	defer close(gate)
	arrived := make(chan string, 1)
	o.hold(gate, arrived)
	c := newCache(t, clk, "", audiocache.Options{Timeout: 5 * time.Second})

	errc := make(chan error, 1)
	go func() {
		_, err := c.Get(context.Background(), o.url("/slow.wav"))
		errc <- err
	}()
	<-arrived
	clk.Advance(5 * time.Second)
	select {
	case err := <-errc:
		if code(t, err) != audiocache.CodeConnectionFailure || !errors.Is(err, audiocache.ErrTimeout) {
			t.Fatalf("err = %v, want 11205 timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Get did not time out")
	}
}

func TestStaleServedWhenServerDown(t *testing.T) {
	for _, tt := range []struct {
		cacheControl string
		stale        bool
	}{
		{"max-age=10", true},
		{"max-age=10, must-revalidate", false},
		{"s-maxage=10", false},
		{"max-age=10, proxy-revalidate", false},
	} {
		t.Run(tt.cacheControl, func(t *testing.T) {
			clk := clock.NewFake(start)
			o := newOrigin(t, clk)
			body := wavBody(100)
			o.set("/d.wav", &file{body: body, cacheControl: tt.cacheControl, etag: `"d"`})
			c := newCache(t, clk, "", audiocache.Options{})
			get(t, c, o.url("/d.wav"))
			o.srv.Close()
			clk.Advance(11 * time.Second)
			e, err := c.Get(context.Background(), o.url("/d.wav"))
			if !tt.stale {
				if code(t, err) != audiocache.CodeConnectionFailure {
					t.Fatalf("err = %v, want 11205", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer e.Release()
			if e.Outcome != audiocache.Stale || audiocache.Code(e.Warning) != audiocache.CodeConnectionFailure {
				t.Fatalf("outcome %v warning %v, want stale with 11205", e.Outcome, e.Warning)
			}
			wantBody(t, e, body)
		})
	}
}

func TestRedirects(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk, func(o *origin) http.Handler {
		mux := http.NewServeMux()
		mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
			var n int
			fmt.Sscan(r.PathValue("n"), &n)
			if n <= 0 {
				http.Redirect(w, r, "/final.wav", http.StatusFound)
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusMovedPermanently)
		})
		mux.HandleFunc("/ftp", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "ftp://example.com/a.wav", http.StatusFound)
		})
		mux.HandleFunc("/", o.serve)
		return mux
	})
	body := wavBody(100)
	o.set("/final.wav", &file{body: body, cacheControl: "max-age=60"})
	c := newCache(t, clk, "", audiocache.Options{})

	// 3 hops then the file: stored under the URL asked for.
	e := get(t, c, o.url("/hop/2"))
	wantBody(t, e, body)
	if e := get(t, c, o.url("/hop/2")); e.Outcome != audiocache.Hit {
		t.Fatalf("outcome %v, want hit", e.Outcome)
	}
	// 11 redirects: one too many.
	_, err := c.Get(context.Background(), o.url(fmt.Sprintf("/hop/%d", audiocache.MaxRedirects)))
	if code(t, err) != audiocache.CodeTooManyRedirects || !errors.Is(err, audiocache.ErrTooManyRedirects) {
		t.Fatalf("err = %v, want 11215", err)
	}
	if _, err := c.Get(context.Background(), o.url("/ftp")); code(t, err) == 0 || !errors.Is(err, audiocache.ErrBadURL) {
		t.Fatalf("redirect to ftp: %v", err)
	}
}

func TestTLSUnknownAuthority(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	o.srv.Close()
	srv := newTLSServer(t, o)
	c := newCache(t, clk, "", audiocache.Options{})
	_, err := c.Get(context.Background(), srv+"/a.wav")
	if code(t, err) != audiocache.CodeCertUnknownAuthority {
		t.Fatalf("err = %v, want 11237", err)
	}
}

func TestCallerCancelStopsFetch(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	o.set("/hang.wav", &file{body: wavBody(100)})
	gate := make(chan struct{})
	defer close(gate)
	o.hold(gate, nil)
	c := newCache(t, clk, "", audiocache.Options{})

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, o.url("/hang.wav"))
		errc <- err
	}()
	waitFor(t, "the Get to wait", func() bool { return c.Waiters(o.url("/hang.wav")) == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if c.Waiters(o.url("/hang.wav")) != 0 {
		t.Fatal("the abandoned fetch is still joinable")
	}
}

func TestCloseFailsWaiters(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	o.set("/w.wav", &file{body: wavBody(100)})
	gate := make(chan struct{})
	defer close(gate)
	o.hold(gate, nil)
	c := newCache(t, clk, "", audiocache.Options{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Get(context.Background(), o.url("/w.wav"))
		errc <- err
	}()
	waitFor(t, "the Get to wait", func() bool { return c.Waiters(o.url("/w.wav")) == 1 })
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, audiocache.ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
}

func TestErrorStrings(t *testing.T) {
	err := &audiocache.Error{Code: 11200, URL: "http://x/a.wav", Status: 404, Err: audiocache.ErrStatus}
	want := "audiocache: 11200 GET http://x/a.wav: status 404: audiocache: unsuccessful http status"
	if err.Error() != want {
		t.Fatalf("Error() = %q\nwant %q", err.Error(), want)
	}
	for _, c := range []int{11100, 11200, 11205, 11206, 11210, 11215, 11220, 11235, 11236, 11237, 11750, 13420} {
		if audiocache.CodeMessage(c) == "" {
			t.Errorf("no message for %d", c)
		}
	}
	if audiocache.Code(errors.New("x")) != 0 || audiocache.Code(fmt.Errorf("w: %w", err)) != 11200 {
		t.Fatal("Code does not find the code")
	}
}

func TestEvictionKeepsFilesInUse(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	o.set("/a.wav", &file{body: wavBody(100), cacheControl: "max-age=60"})
	o.set("/b.wav", &file{body: wavBody(100), cacheControl: "max-age=60"})
	c := newCache(t, clk, "", audiocache.Options{MaxBytes: 150})
	a, err := c.Get(context.Background(), o.url("/a.wav")) // being played
	if err != nil {
		t.Fatal(err)
	}
	get(t, c, o.url("/b.wav")) // evicts a from the index
	if c.Len() != 1 || c.Bytes() != 100 {
		t.Fatalf("Len %d Bytes %d, want 1 and 100", c.Len(), c.Bytes())
	}
	wantBody(t, a, wavBody(100)) // still readable
	a.Release()
	if _, err := os.Stat(a.Path); !os.IsNotExist(err) {
		t.Fatalf("evicted file kept after release: %v", err)
	}
}

func TestRevalidationPersists(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	o.set("/p.wav", &file{body: wavBody(100), cacheControl: "max-age=60", etag: `"p"`})
	dir := t.TempDir()
	c1 := newCache(t, clk, dir, audiocache.Options{})
	get(t, c1, o.url("/p.wav"))
	clk.Advance(2 * time.Minute)
	if e := get(t, c1, o.url("/p.wav")); e.Outcome != audiocache.Revalidated {
		t.Fatalf("outcome %v", e.Outcome)
	}
	c1.Close()
	// The refreshed freshness was written: still fresh after a restart.
	clk.Advance(30 * time.Second)
	c2 := newCache(t, clk, dir, audiocache.Options{})
	if e := get(t, c2, o.url("/p.wav")); e.Outcome != audiocache.Hit {
		t.Fatalf("after restart: outcome %v, want hit", e.Outcome)
	}
	wantCounts(t, o, "/p.wav", 2, 1)
}

func TestNoStoreSupersedesStoredCopy(t *testing.T) {
	clk := clock.NewFake(start)
	o := newOrigin(t, clk)
	o.set("/s.wav", &file{body: wavBody(100), cacheControl: "max-age=10", etag: `"1"`})
	c := newCache(t, clk, "", audiocache.Options{})
	e, err := c.Get(context.Background(), o.url("/s.wav"))
	if err != nil {
		t.Fatal(err)
	}
	e.Release()
	o.set("/s.wav", &file{body: wavBody(200), cacheControl: "no-store", etag: `"2"`})
	clk.Advance(11 * time.Second)
	e = get(t, c, o.url("/s.wav"))
	if e.Outcome != audiocache.Uncached {
		t.Fatalf("outcome %v, want uncached", e.Outcome)
	}
	wantBody(t, e, wavBody(200))
	if c.Len() != 0 || bodyFiles(t, c.Dir()) != 0 {
		t.Fatalf("the superseded copy is still stored: %v", files(t, c.Dir()))
	}
}
