package tts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// countingEspeak is the real engine, counting its runs.
type countingEspeak struct {
	*Espeak
	runs atomic.Int32
}

func (c *countingEspeak) Synthesize(ctx context.Context, req Request, w io.Writer) error {
	c.runs.Add(1)
	return c.Espeak.Synthesize(ctx, req, w)
}

// fakeEngine writes a fixed WAV, optionally after a gate opens.
type fakeEngine struct {
	runs    atomic.Int32
	gate    chan struct{} // nil: no wait
	started chan struct{} // receives one value per run, if non-nil
	err     error
	out     []byte
}

func (f *fakeEngine) Name() string { return "fake/engine" }

func (f *fakeEngine) Synthesize(ctx context.Context, req Request, w io.Writer) error {
	f.runs.Add(1)
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.err != nil {
		return f.err
	}
	out := f.out
	if out == nil {
		out = makeWAV([]int16{100, -100, 200, -200}, 8000, false)
	}
	_, err := w.Write(out)
	return err
}

func newTestCache(t *testing.T, e Engine, opts Options) *Cache {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	c, err := NewCache(e, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var cachePath = regexp.MustCompile(`/tts/espeak-ng/[0-9a-f]{64}\.wav$`)

func TestCacheHit(t *testing.T) {
	needEspeak(t)
	e := &countingEspeak{Espeak: &Espeak{}}
	c := newTestCache(t, e, Options{})
	ctx := context.Background()
	req := Request{Text: "Welcome to switchboard.", Voice: "man"}
	p1, err := c.Get(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !cachePath.MatchString(filepath.ToSlash(p1)) {
		t.Errorf("path %q not under tts/espeak-ng/<sha256>.wav", p1)
	}
	if a := decodeWAVFile(t, p1); a.rms() < minSpeechRMS {
		t.Errorf("cached file is silent")
	}
	p2, err := c.Get(ctx, req)
	if err != nil || p2 != p1 {
		t.Fatalf("second Get = %q, %v; want %q", p2, err, p1)
	}
	// Polly.Matthew resolves to the same espeak-ng voice as man.
	p3, err := c.Get(ctx, Request{Text: "Welcome to switchboard.", Voice: "Polly.Matthew", Language: "en-US"})
	if err != nil || p3 != p1 {
		t.Fatalf("Polly.Matthew Get = %q, %v; want the same file %q", p3, err, p1)
	}
	if n := e.runs.Load(); n != 1 {
		t.Errorf("engine ran %d times, want 1", n)
	}
	// Anything that changes the sound is another file.
	for _, other := range []Request{
		{Text: "Welcome to switchboard!", Voice: "man"},
		{Text: "Welcome to switchboard.", Voice: "woman"},
		{Text: "Welcome to switchboard.", Language: "en-GB"},
		{SSML: "<speak>Welcome to switchboard.</speak>"},
	} {
		p, err := c.Get(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		if p == p1 {
			t.Errorf("%+v shares the file of %+v", other, req)
		}
	}
	if n := e.runs.Load(); n != 5 {
		t.Errorf("engine ran %d times, want 5", n)
	}
}

func TestCacheConcurrentGetSynthesizesOnce(t *testing.T) {
	e := &fakeEngine{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	c := newTestCache(t, e, Options{})
	const n = 20
	paths := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { paths[i], errs[i] = c.Get(context.Background(), Request{Text: "same"}) })
	}
	<-e.started
	waitFor(t, func() bool { // every Get is waiting on the one synthesis
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, cl := range c.calls {
			return cl.waiters == n
		}
		return false
	})
	close(e.gate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || paths[i] != paths[0] {
			t.Fatalf("Get %d = %q, %v; want %q", i, paths[i], errs[i], paths[0])
		}
	}
	if r := e.runs.Load(); r != 1 {
		t.Fatalf("engine ran %d times for %d concurrent Gets, want 1", r, n)
	}
}

func TestCacheConcurrentRealEspeak(t *testing.T) {
	needEspeak(t)
	e := &countingEspeak{Espeak: &Espeak{}}
	c := newTestCache(t, e, Options{})
	var wg sync.WaitGroup
	paths := make([]string, 8)
	for i := range paths {
		wg.Go(func() {
			p, err := c.Get(context.Background(), Request{Text: "Please hold.", Voice: "alice"})
			if err != nil {
				t.Error(err)
			}
			paths[i] = p
		})
	}
	wg.Wait()
	for _, p := range paths {
		if p != paths[0] {
			t.Fatalf("paths differ: %q", paths)
		}
	}
	if r := e.runs.Load(); r != 1 {
		t.Fatalf("engine ran %d times, want 1", r)
	}
}

func TestCacheRegeneratesDamagedFile(t *testing.T) {
	damage := map[string]func(string) error{
		"empty":     func(p string) error { return os.WriteFile(p, nil, 0o644) },
		"truncated": func(p string) error { return os.Truncate(p, 30) },
		"garbage":   func(p string) error { return os.WriteFile(p, []byte("not audio at all, not at all"), 0o644) },
		"removed":   os.Remove,
	}
	for name, hurt := range damage {
		t.Run(name, func(t *testing.T) {
			e := &fakeEngine{}
			c := newTestCache(t, e, Options{})
			p, err := c.Get(context.Background(), Request{Text: "x"})
			if err != nil {
				t.Fatal(err)
			}
			// A hit first, so that the file is one the cache has
			// checked whole and remembers (see Cache.unchanged).
			if _, err := c.Get(context.Background(), Request{Text: "x"}); err != nil {
				t.Fatal(err)
			}
			if err := hurt(p); err != nil {
				t.Fatal(err)
			}
			p2, err := c.Get(context.Background(), Request{Text: "x"})
			if err != nil || p2 != p {
				t.Fatalf("Get after damage = %q, %v", p2, err)
			}
			if r := e.runs.Load(); r != 2 {
				t.Fatalf("engine ran %d times, want 2 (regenerated)", r)
			}
			if _, err := checkWAVFile(p); err != nil {
				t.Fatalf("regenerated file is bad: %v", err)
			}
		})
	}
}

func TestCacheErrorsAreNotCached(t *testing.T) {
	boom := errors.New("engine exploded")
	for name, e := range map[string]*fakeEngine{
		"engine error": {err: boom},
		"bad audio":    {out: []byte("RIFF junk")},
		"no samples":   {out: makeWAV(nil, 8000, false)},
	} {
		t.Run(name, func(t *testing.T) {
			c := newTestCache(t, e, Options{})
			for range 2 {
				p, err := c.Get(context.Background(), Request{Text: "x"})
				if err == nil {
					t.Fatalf("Get = %q, want an error", p)
				}
				if e.err != nil && !errors.Is(err, boom) {
					t.Fatalf("err = %v, want the engine's", err)
				}
				if e.err == nil && !errors.Is(err, ErrBadWAV) {
					t.Fatalf("err = %v, want ErrBadWAV", err)
				}
			}
			if r := e.runs.Load(); r != 2 {
				t.Errorf("engine ran %d times, want 2 (failures are retried)", r)
			}
			entries, _ := os.ReadDir(c.Dir())
			if len(entries) != 0 {
				t.Errorf("cache dir holds %d files after failures, want none", len(entries))
			}
		})
	}
}

func TestCacheWaiterCancel(t *testing.T) {
	e := &fakeEngine{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	c := newTestCache(t, e, Options{})

	// Two waiters: the first gives up, the second still gets the file.
	ctx1, cancel1 := context.WithCancel(context.Background())
	err1 := make(chan error, 1)
	go func() { _, err := c.Get(ctx1, Request{Text: "x"}); err1 <- err }()
	<-e.started
	res2 := make(chan error, 1)
	go func() { _, err := c.Get(context.Background(), Request{Text: "x"}); res2 <- err }()
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, cl := range c.calls {
			return cl.waiters == 2
		}
		return false
	})
	cancel1()
	if err := <-err1; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Get: err = %v", err)
	}
	close(e.gate)
	if err := <-res2; err != nil {
		t.Fatalf("remaining Get: %v", err)
	}

	// A lone waiter giving up stops the synthesis.
	e2 := &fakeEngine{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	c2 := newTestCache(t, e2, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c2.Get(ctx, Request{Text: "y"}); done <- err }()
	<-e2.started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	c2.Close() // returns only once the synthesis has stopped
	if entries, _ := os.ReadDir(c2.Dir()); len(entries) != 0 {
		t.Fatalf("abandoned synthesis left %d files", len(entries))
	}
}

func TestCacheClose(t *testing.T) {
	e := &fakeEngine{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	c := newTestCache(t, e, Options{})
	done := make(chan error, 1)
	go func() { _, err := c.Get(context.Background(), Request{Text: "x"}); done <- err }()
	<-e.started
	c.Close()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("in-flight Get after Close: err = %v", err)
	}
	if _, err := c.Get(context.Background(), Request{Text: "z"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: err = %v, want ErrClosed", err)
	}
}

func TestCacheEviction(t *testing.T) {
	fake := clock.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	e := &fakeEngine{out: makeWAV(make([]int16, 478), 8000, false)} // 1,000 bytes
	c := newTestCache(t, e, Options{MaxBytes: 2500, Clock: fake})
	get := func(text string) string {
		t.Helper()
		fake.Advance(time.Minute)
		p, err := c.Get(context.Background(), Request{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := get("a")
	b := get("b")
	get("a") // a is now more recently used than b
	cc := get("c")
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	if exists(b) {
		t.Error("least recently used file b survived")
	}
	if !exists(a) || !exists(cc) {
		t.Errorf("recently used files evicted: a=%v c=%v", exists(a), exists(cc))
	}
	if r := e.runs.Load(); r != 3 {
		t.Errorf("engine ran %d times, want 3", r)
	}
}

// TestCacheTouchesAtMostEveryMinute: hits on a file keep its place in the
// eviction order by its modification time, set at most once a minute (a hit
// in between costs a stat, not a write of the file's metadata).
func TestCacheTouchesAtMostEveryMinute(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	fake := clock.NewFake(t0)
	c := newTestCache(t, &fakeEngine{}, Options{MaxBytes: 1 << 20, Clock: fake})
	get := func(after time.Duration) time.Time {
		t.Helper()
		fake.Advance(after)
		p, err := c.Get(context.Background(), Request{Text: "x"})
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return st.ModTime()
	}
	if m := get(0); !m.Equal(t0) {
		t.Fatalf("written file's time %v, want %v", m, t0)
	}
	if m := get(30 * time.Second); !m.Equal(t0) {
		t.Errorf("hit 30 s later touched the file: %v", m)
	}
	if m := get(31 * time.Second); !m.Equal(t0.Add(61 * time.Second)) {
		t.Errorf("hit 61 s after the touch: file time %v, want %v", m, t0.Add(61*time.Second))
	}
	if m := get(time.Second); !m.Equal(t0.Add(61 * time.Second)) {
		t.Errorf("hit a second after that touched it again: %v", m)
	}
}

func TestNewCacheRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	engDir := filepath.Join(dir, "tts", "fake_engine")
	if err := os.MkdirAll(engDir, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(engDir, tmpPrefix+"old.wav")
	fresh := filepath.Join(engDir, tmpPrefix+"new.wav")
	for p, age := range map[string]time.Duration{stale: 2 * time.Hour, fresh: time.Minute} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	c := newTestCache(t, &fakeEngine{}, Options{Dir: dir, Clock: clock.NewFake(now)})
	if c.Dir() != engDir {
		t.Fatalf("Dir() = %q, want %q", c.Dir(), engDir)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Error("stale temporary file kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("fresh temporary file removed (it may belong to a running write)")
	}
}

func TestNewCacheErrors(t *testing.T) {
	if _, err := NewCache(nil, Options{Dir: t.TempDir()}); err == nil {
		t.Error("nil engine accepted")
	}
	if _, err := NewCache(&fakeEngine{}, Options{}); err == nil {
		t.Error("empty dir accepted")
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := NewCache(&fakeEngine{}, Options{Dir: file}); err == nil {
		t.Error("dir under a file accepted")
	}
}

func TestCacheKeyIsStable(t *testing.T) {
	c := newTestCache(t, &fakeEngine{}, Options{})
	k1, _ := c.key(Request{Text: "ab", Voice: "c"})
	k2, _ := c.key(Request{Text: "a", Voice: "bc"})
	k3, _ := c.key(Request{Text: "ab", Voice: "c"})
	if k1 == k2 || k1 != k3 {
		t.Fatalf("keys %s %s %s", k1, k2, k3)
	}
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{"espeak-ng": "espeak-ng", "fake/engine": "fake_engine", "..": "engine", "": "engine", "a b": "a_b"} {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkCacheHit(b *testing.B) {
	c, err := NewCache(&fakeEngine{}, Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := Request{Text: "Thank you for calling."}
	if _, err := c.Get(context.Background(), req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleCache() {
	dir, _ := os.MkdirTemp("", "switchboard-example")
	defer os.RemoveAll(dir)
	cache, err := NewCache(&Espeak{}, Options{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cache.Close()
	path, err := cache.Get(context.Background(), Request{Text: "Hello from switchboard.", Voice: "alice"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filepath.Base(filepath.Dir(path)), filepath.Ext(path))
}
