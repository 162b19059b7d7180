package tts

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// Options configure a Cache.
type Options struct {
	// Dir is the data directory (switchboard's --data). Files go in
	// Dir/tts/<engine name>/.
	Dir string
	// MaxBytes bounds the total size of the engine's cached files; when a new
	// file takes the total over it, the least recently used files are
	// removed. Zero means no bound.
	MaxBytes int64
	// Clock stamps the use of cached files for eviction. Default clock.Real.
	Clock clock.Clock
}

// A Cache keeps an Engine's speech on disk, one WAV file per distinct request:
// DIR/tts/<engine>/<sha256>.wav, where the hash covers the engine, the voice it
// resolves to, the language, and the text or SSML. Requests that sound the same
// share a file; concurrent requests for one file synthesize it once; files are
// written to a temporary name and renamed, so a file under its final name is
// always complete; a damaged file (empty, truncated, garbage) is made again.
//
// A Cache is safe for concurrent use. Close it to stop synthesis in flight.
type Cache struct {
	engine   Engine
	dir      string
	maxBytes int64
	clock    clock.Clock

	// mu guards calls and closed.
	mu     sync.Mutex
	calls  map[string]*call
	closed bool

	wg      sync.WaitGroup // fills in flight
	evictMu sync.Mutex     // one eviction scan at a time

	// checkedMu guards checked: per cached file, what it was when last
	// checked whole or touched (see unchanged).
	checkedMu sync.Mutex
	checked   map[string]checkedFile
}

// touchEvery is how often a file used again and again is touched, to keep
// its place in the eviction order: often enough for an order by the minute.
const touchEvery = time.Minute

// A checkedFile is what a cached file was when it was last checked whole
// (checkWAVFile) or touched.
type checkedFile struct {
	size    int64
	mod     time.Time // its modification time, as the file system reported it
	touched time.Time // c.clock's time of the last touch
}

// A call is one synthesis in flight, shared by every Get waiting for its key.
type call struct {
	done    chan struct{}
	cancel  context.CancelFunc
	waiters int // guarded by Cache.mu
	path    string
	err     error
}

// tmpPrefix starts the names of files being written.
const tmpPrefix = ".tmp-"

// staleTemp is how old a temporary file must be for NewCache to remove it as
// the leftover of a crash.
const staleTemp = time.Hour

// NewCache returns a cache of engine's speech in opts.Dir. It creates the
// directory and removes temporary files a crash left behind.
func NewCache(engine Engine, opts Options) (*Cache, error) {
	if engine == nil {
		return nil, errors.New("tts: new cache: nil engine")
	}
	if opts.Dir == "" {
		return nil, errors.New("tts: new cache: no directory")
	}
	c := &Cache{
		engine:   engine,
		dir:      filepath.Join(opts.Dir, "tts", safeName(engine.Name())),
		maxBytes: opts.MaxBytes,
		clock:    opts.Clock,
		calls:    make(map[string]*call),
		checked:  make(map[string]checkedFile),
	}
	if c.clock == nil {
		c.clock = clock.Real
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("tts: new cache: %w", err)
	}
	c.removeStaleTemps()
	return c, nil
}

// Engine returns the cached engine.
func (c *Cache) Engine() Engine { return c.engine }

// Dir returns the directory holding this engine's files.
func (c *Cache) Dir() string { return c.dir }

// Resolve returns the voice req will be spoken with, and the warnings to log
// for it, when the engine can tell (see Resolver).
func (c *Cache) Resolve(req Request) (Voice, error) {
	if r, ok := c.engine.(Resolver); ok {
		return r.Resolve(req)
	}
	return Voice{Language: req.Language}, nil
}

// Get returns the path of a WAV file of req spoken, synthesizing it unless it
// is already cached. The file stays until evicted (see Options.MaxBytes):
// open it promptly. Errors are the engine's (ErrEmptyText, ErrTextTooLong...),
// ErrClosed, or ctx's.
func (c *Cache) Get(ctx context.Context, req Request) (string, error) {
	key, err := c.key(req)
	if err != nil {
		return "", err
	}
	path := filepath.Join(c.dir, key+".wav")
	if c.unchanged(path) {
		return path, nil
	}
	if _, err := checkWAVFile(path); err == nil {
		c.touch(path)
		return path, nil
	}

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return "", ErrClosed
	}
	cl, ok := c.calls[key]
	if ok {
		cl.waiters++
	} else {
		// The synthesis belongs to every waiter, not to the first: it runs
		// until it finishes or the last waiter gives up.
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cl = &call{done: make(chan struct{}), cancel: cancel, waiters: 1}
		c.calls[key] = cl
		c.wg.Add(1)
		go c.fill(wctx, key, path, req, cl)
	}
	c.mu.Unlock()

	select {
	case <-cl.done:
		return cl.path, cl.err
	case <-ctx.Done():
		c.mu.Lock()
		cl.waiters--
		if cl.waiters == 0 {
			cl.cancel()
			if c.calls[key] == cl {
				delete(c.calls, key)
			}
		}
		c.mu.Unlock()
		return "", fmt.Errorf("tts: %w", ctx.Err())
	}
}

// Close cancels synthesis in flight, waits for it to stop, and makes further
// Gets fail with ErrClosed. Files already cached stay.
func (c *Cache) Close() error {
	c.mu.Lock()
	c.closed = true
	for _, cl := range c.calls {
		cl.cancel()
	}
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

func (c *Cache) fill(ctx context.Context, key, path string, req Request, cl *call) {
	defer c.wg.Done()
	defer cl.cancel()
	err := c.synthesize(ctx, path, req)
	c.mu.Lock()
	if c.calls[key] == cl {
		delete(c.calls, key)
	}
	if err != nil {
		cl.err = err
	} else {
		cl.path = path
	}
	c.mu.Unlock()
	close(cl.done)
}

// synthesize writes req's audio to path, through a temporary file.
func (c *Cache) synthesize(ctx context.Context, path string, req Request) error {
	if _, err := checkWAVFile(path); err == nil {
		return nil // another Get finished it a moment ago
	}
	f, err := os.CreateTemp(c.dir, tmpPrefix+"*.wav")
	if err != nil {
		return fmt.Errorf("tts: cache: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := c.engine.Synthesize(ctx, req, f); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("tts: cache: %w", err))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("tts: cache: %w", err)
	}
	if _, err := checkWAVFile(tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("tts: cache: engine %s wrote unusable audio: %w", c.engine.Name(), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("tts: cache: %w", err)
	}
	c.evict(path)
	return nil
}

// key hashes everything that decides what a request sounds like.
func (c *Cache) key(req Request) (string, error) {
	h := sha256.New()
	field(h, c.engine.Name())
	if r, ok := c.engine.(Resolver); ok {
		v, err := r.Resolve(req)
		if err != nil {
			return "", err
		}
		field(h, v.Name)
		field(h, v.Params)
		field(h, v.Language)
	} else {
		field(h, req.Voice)
		field(h, req.Language)
	}
	if strings.TrimSpace(req.SSML) != "" {
		field(h, "ssml")
		field(h, req.SSML)
	} else {
		field(h, "text")
		field(h, req.Text)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// field writes s length-prefixed, so that no two field lists hash alike.
func field(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// touch marks path, a file just checked whole, as used now: it sets its
// modification time (eviction's order) and remembers the file as it is.
func (c *Cache) touch(path string) {
	now := c.clock.Now()
	if c.maxBytes > 0 {
		_ = os.Chtimes(path, now, now) // best effort: a failed touch only ages the file
	}
	st, err := os.Stat(path)
	c.checkedMu.Lock()
	defer c.checkedMu.Unlock()
	if err != nil {
		delete(c.checked, path)
		return
	}
	c.checked[path] = checkedFile{size: st.Size(), mod: st.ModTime(), touched: now}
}

// unchanged reports whether path is a file checked whole before and not
// changed since (the same size and modification time): a hit then costs one
// stat instead of opening the file and reading its header. It touches the
// file when its last touch is touchEvery old.
func (c *Cache) unchanged(path string) bool {
	c.checkedMu.Lock()
	f, ok := c.checked[path]
	c.checkedMu.Unlock()
	if !ok {
		return false
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() != f.size || !st.ModTime().Equal(f.mod) {
		return false
	}
	if c.maxBytes > 0 && c.clock.Now().Sub(f.touched) >= touchEvery {
		c.touch(path)
	}
	return true
}

// evict removes the least recently used files until the total size is within
// MaxBytes, never the file just written.
func (c *Cache) evict(keep string) {
	if c.maxBytes <= 0 {
		return
	}
	c.evictMu.Lock()
	defer c.evictMu.Unlock()
	c.touch(keep)
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	type file struct {
		path string
		size int64
		mod  time.Time
	}
	var files []file
	var total int64
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".wav") || strings.HasPrefix(e.Name(), tmpPrefix) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, file{filepath.Join(c.dir, e.Name()), info.Size(), info.ModTime()})
		total += info.Size()
	}
	if total <= c.maxBytes {
		return
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	for _, f := range files {
		if total <= c.maxBytes {
			break
		}
		if f.path == keep {
			continue
		}
		if err := os.Remove(f.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= f.size
			c.checkedMu.Lock()
			delete(c.checked, f.path)
			c.checkedMu.Unlock()
		}
	}
}

func (c *Cache) removeStaleTemps() {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	now := c.clock.Now()
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tmpPrefix) {
			continue
		}
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > staleTemp {
			os.Remove(filepath.Join(c.dir, e.Name()))
		}
	}
}

// safeName makes an engine name usable as a directory name.
func safeName(name string) string {
	b := []byte(name)
	for i, ch := range b {
		ok := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.'
		if !ok {
			b[i] = '_'
		}
	}
	s := strings.Trim(string(b), ".")
	if s == "" {
		return "engine"
	}
	return s
}
