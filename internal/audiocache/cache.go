package audiocache

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// Defaults for the zero values of Options.
const (
	// DefaultMaxBytes bounds the total size of the stored files.
	DefaultMaxBytes = 1 << 30
	// DefaultMaxFileBytes bounds one file (the webhook client's audio cap).
	DefaultMaxFileBytes = 16 << 20
	// DefaultTimeout bounds one fetch, from connecting to the last byte.
	DefaultTimeout = 30 * time.Second
	// DefaultConnectTimeout bounds connecting (the built-in transport).
	DefaultConnectTimeout = 10 * time.Second
	// DefaultUserAgent is the User-Agent Twilio's requests carry.
	DefaultUserAgent = "TwilioProxy/1.1"
	// MaxRedirects is how many redirects a fetch follows (error 11215 past
	// it).
	MaxRedirects = 10
)

// Options configure a Cache.
type Options struct {
	// Dir holds the files, one body and one JSON sidecar per entry, and the
	// temporary files of fetches in progress. It is created if missing. Give
	// each Cache its own directory (such as DATA/play); files in it
	// that do not look like this package's are left alone.
	Dir string
	// HTTPClient makes the requests. Nil: a built-in client that connects
	// within DefaultConnectTimeout, resolves .invalid names to "no such host"
	// without asking DNS (RFC 6761 section 6.4) and uses no proxy. The
	// client's CheckRedirect, when nil, is replaced by one that stops after
	// MaxRedirects.
	HTTPClient *http.Client
	// MaxBytes bounds the total size of the stored bodies: past it the least
	// recently used entries are evicted. Zero means DefaultMaxBytes; a
	// negative value means no bound.
	MaxBytes int64
	// Deny lists the addresses the built-in client never connects to (the
	// operator's --webhook-deny); a fetch there fails with 11205.
	Deny []netip.Prefix
	// MaxFileBytes bounds one file; a larger one fails with error 11750 and
	// is not read past the bound. Zero means DefaultMaxFileBytes.
	MaxFileBytes int64
	// Timeout bounds one fetch (error 11205 past it). Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Clock tells the time for freshness and times the fetches. Nil means
	// clock.Real.
	Clock clock.Clock
	// UserAgent is sent with every request. Empty means DefaultUserAgent.
	UserAgent string
}

// An Outcome says how Get came by an Entry.
type Outcome uint8

// The outcomes.
const (
	// Hit: a fresh stored copy, no request made.
	Hit Outcome = iota + 1
	// Revalidated: a stored copy the server confirmed with 304 Not Modified.
	Revalidated
	// Fetched: downloaded (first time or changed) and stored.
	Fetched
	// Uncached: downloaded but not stored (no-store, private...): a
	// temporary file only this caller has.
	Uncached
	// Stale: a stale stored copy, served because the server could not be
	// reached to revalidate it (Entry.Warning says why).
	Stale
)

func (o Outcome) String() string {
	switch o {
	case Hit:
		return "hit"
	case Revalidated:
		return "revalidated"
	case Fetched:
		return "fetched"
	case Uncached:
		return "uncached"
	case Stale:
		return "stale"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// An Entry is a local file holding the body of a <Play> URL.
type Entry struct {
	// Path is the file. It stays in place until Release, even if the entry
	// is evicted or replaced meanwhile; do not modify it.
	Path string
	// ContentType is the response's Content-Type (parameters included: they
	// describe headerless audio such as audio/L16;rate=8000), or the type
	// the body was recognised as when the server sent none or
	// application/octet-stream.
	ContentType string
	// Size is the length of the file in bytes.
	Size int64
	// Outcome says whether a request was made and what came of it.
	Outcome Outcome
	// Warning is the error that made Get serve a stale copy (Outcome Stale),
	// nil otherwise. It carries Twilio's code, for a warning notification.
	Warning error

	c    *Cache
	e    *entry // the stored entry pinned for this caller, nil for a temp file
	temp bool   // Path is a temporary file this caller owns
}

// Release tells the cache the caller is done with the file: open it, play it,
// close it, then Release. A temporary file (Outcome Uncached) is removed; a
// stored one becomes evictable again, and is removed if it was evicted or
// replaced meanwhile. Call it once per Entry; the zero Entry's Release does
// nothing.
func (en Entry) Release() error {
	switch {
	case en.c == nil:
		return nil
	case en.temp:
		if err := os.Remove(en.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("audiocache: release: %w", err)
		}
		return nil
	}
	c, e := en.c, en.e
	c.mu.Lock()
	if e.pins > 0 {
		e.pins--
	}
	del := c.orphanLocked(e)
	c.mu.Unlock()
	return removeFile(del)
}

// A Cache fetches <Play> URLs and keeps their bodies on disk, honouring HTTP
// caching (RFC 9111) as a shared cache. It is safe for concurrent use. Close
// it to stop fetches in flight.
type Cache struct {
	dir          string
	hc           *http.Client
	own          *http.Transport // the built-in transport, nil with Options.HTTPClient
	maxBytes     int64           // < 0: no bound
	maxFileBytes int64
	timeout      time.Duration
	clock        clock.Clock
	userAgent    string

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // fetches in flight

	// mu guards the fields below, the mutable fields of every entry and
	// flight, and the sidecar files (renamed and removed under it, so the
	// files always match the index).
	mu      sync.Mutex
	closed  bool
	byKey   map[string]*entry // by keyOf(normalised URL)
	byURL   map[string]*entry // by normalised URL, when known
	lru     *list.List        // of *entry, most recently used first
	total   int64             // sum of the sizes of the entries in lru
	flights map[string]*flight
}

// An entry is one stored response.
type entry struct {
	key         string // keyOf(url): names the sidecar
	url         string // normalised URL; "" when loaded with a redacted password
	display     string // the URL with any password redacted
	body        string // the body's file name in dir
	path        string // dir/body
	size        int64
	contentType string
	withAuth    bool // the URL carries user info (credentials)

	// Guarded by Cache.mu.
	meta     *meta
	lastUsed time.Time
	dirty    bool // lastUsed changed since the sidecar was written
	pins     int  // Entries handed out and not released, and flights using it
	removed  bool // no longer in the index: delete the body at pins == 0
	deleted  bool // the body was deleted
	elem     *list.Element
}

// A flight is one request in progress for a key, shared by every Get waiting
// for it (RFC 9111 section 4 allows a cache to collapse requests).
type flight struct {
	done   chan struct{}
	cancel context.CancelFunc

	// Guarded by Cache.mu.
	waiters  int
	finished bool
	res      result
	tmpRefs  int // waiters yet to take their copy of res.tmp
}

// A result is what a fetch came to.
type result struct {
	err         error
	entry       *entry // a stored entry (Hit is never a fetch result)
	outcome     Outcome
	warning     error
	tmp         string // an uncached body, for the waiters to link
	contentType string
	size        int64
}

// New returns a cache of the files in opts.Dir: it creates the directory,
// loads the index from the sidecars there (discarding corrupt entries, bodies
// no sidecar references and temporary files a crash left behind) and evicts
// down to MaxBytes.
func New(opts Options) (*Cache, error) {
	if opts.Dir == "" {
		return nil, errors.New("audiocache: new: no directory")
	}
	c := &Cache{
		dir:          opts.Dir,
		hc:           opts.HTTPClient,
		maxBytes:     opts.MaxBytes,
		maxFileBytes: opts.MaxFileBytes,
		timeout:      opts.Timeout,
		clock:        opts.Clock,
		userAgent:    opts.UserAgent,
		byKey:        make(map[string]*entry),
		byURL:        make(map[string]*entry),
		lru:          list.New(),
		flights:      make(map[string]*flight),
	}
	switch {
	case c.maxBytes == 0:
		c.maxBytes = DefaultMaxBytes
	case c.maxBytes < 0:
		c.maxBytes = -1
	}
	if c.maxFileBytes <= 0 {
		c.maxFileBytes = DefaultMaxFileBytes
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.clock == nil {
		c.clock = clock.Real
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.hc == nil {
		c.own = newTransport(opts.Deny)
		c.hc = &http.Client{Transport: c.own}
	}
	if c.hc.CheckRedirect == nil {
		hc := *c.hc
		hc.CheckRedirect = checkRedirect
		c.hc = &hc
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("audiocache: new: %w", err)
	}
	if err := c.load(); err != nil {
		return nil, fmt.Errorf("audiocache: new: %w", err)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Dir returns the directory holding the files.
func (c *Cache) Dir() string { return c.dir }

// Len returns the number of stored entries.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Bytes returns the total size of the stored bodies.
func (c *Cache) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// Get returns a local file holding the body of rawURL, an absolute http or
// https URL, fetching it with GET unless a fresh copy is stored:
//
//   - A stored response that is fresh (RFC 9111 section 4.2: its age is below
//     its freshness lifetime, from s-maxage, max-age, Expires or the
//     Last-Modified heuristic) is served without a request (Hit).
//   - A stale one, or one marked no-cache, is revalidated with If-None-Match
//     and If-Modified-Since (section 4.3.1); a 304 refreshes its header
//     fields and freshness and it is served (Revalidated), a 200 replaces it
//     (Fetched). If the server cannot be reached, the stale copy is served
//     (Stale) unless must-revalidate, proxy-revalidate, s-maxage or no-cache
//     forbid it (section 4.2.4).
//   - Otherwise the body is downloaded and, if the response may be stored
//     (see the package documentation), stored (Fetched), else handed over as
//     a temporary file (Uncached).
//
// Concurrent Gets of one URL share one request. Release the Entry when done.
// A failure is an *Error carrying Twilio's code (11100 bad URL, 11200 status,
// 11205 connection or timeout, 11210 DNS, 11750 too large, 13420 not audio...),
// ErrClosed, or ctx's error when ctx ends first (the fetch goes on for the
// other waiters, and is cancelled when none is left).
func (c *Cache) Get(ctx context.Context, rawURL string) (Entry, error) {
	now := c.clock.Now()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return Entry{}, ErrClosed
	}
	// Fast path: rawURL is already in normal form (normalize is idempotent,
	// so an index key is one) and fresh.
	if e := c.byURL[rawURL]; e != nil && e.meta.fresh(now) {
		en := c.hitLocked(e, now)
		c.mu.Unlock()
		return en, nil
	}
	c.mu.Unlock()

	u, norm, err := normalize(rawURL)
	if err != nil {
		return Entry{}, &Error{Code: CodeInvalidURL, URL: rawURL, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return Entry{}, err
	}
	key := keyOf(norm)

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return Entry{}, ErrClosed
	}
	e := c.byKey[key]
	if e != nil && e.url == "" {
		e.url = norm
		c.byURL[norm] = e
	}
	if e != nil && e.meta.fresh(now) {
		en := c.hitLocked(e, now)
		c.mu.Unlock()
		return en, nil
	}
	fl := c.flights[key]
	if fl == nil {
		fctx, cancel := context.WithCancel(c.ctx)
		fl = &flight{done: make(chan struct{}), cancel: cancel}
		c.flights[key] = fl
		var stale *meta
		if e != nil {
			e.pins++ // held by the flight while it revalidates
			stale = e.meta
		}
		req := fetchRequest{key: key, norm: norm, display: redact(u), withAuth: u.User != nil, old: e, oldMeta: stale}
		c.wg.Add(1)
		go c.run(fctx, fl, req)
	}
	fl.waiters++
	c.mu.Unlock()

	select {
	case <-fl.done:
	case <-ctx.Done():
		c.mu.Lock()
		if !fl.finished {
			fl.waiters--
			if fl.waiters == 0 {
				fl.cancel()
				if c.flights[key] == fl {
					delete(c.flights, key)
				}
			}
			c.mu.Unlock()
			return Entry{}, ctx.Err()
		}
		c.mu.Unlock() // finished meanwhile: take the result
	}
	return c.collect(fl)
}

// hitLocked hands out a stored entry.
func (c *Cache) hitLocked(e *entry, now time.Time) Entry {
	e.pins++
	e.lastUsed, e.dirty = now, true
	c.lru.MoveToFront(e.elem)
	return Entry{Path: e.path, ContentType: e.contentType, Size: e.size, Outcome: Hit, c: c, e: e}
}

// collect turns a finished flight into this waiter's Entry.
func (c *Cache) collect(fl *flight) (Entry, error) {
	r := fl.res
	if r.err != nil {
		return Entry{}, r.err
	}
	if r.entry != nil {
		// The pin was taken for every waiter when the flight finished.
		e := r.entry
		return Entry{Path: e.path, ContentType: e.contentType, Size: e.size, Outcome: r.outcome, Warning: r.warning, c: c, e: e}, nil
	}
	path, err := c.copyTemp(r.tmp, extFor(r.contentType))
	c.mu.Lock()
	fl.tmpRefs--
	last := fl.tmpRefs == 0
	c.mu.Unlock()
	if last {
		os.Remove(r.tmp)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("audiocache: %w", err)
	}
	return Entry{Path: path, ContentType: r.contentType, Size: r.size, Outcome: Uncached, c: c, temp: true}, nil
}

// run performs a flight's fetch and hands the result to its waiters.
func (c *Cache) run(ctx context.Context, fl *flight, req fetchRequest) {
	defer c.wg.Done()
	defer fl.cancel()
	r := c.fetch(ctx, req)

	var del []string
	c.mu.Lock()
	if c.flights[req.key] == fl {
		delete(c.flights, req.key)
	}
	fl.finished, fl.res = true, r
	if r.entry != nil {
		r.entry.pins += fl.waiters
		if r.entry.elem != nil && !r.entry.removed {
			c.lru.MoveToFront(r.entry.elem)
			r.entry.lastUsed, r.entry.dirty = c.clock.Now(), true
		}
	}
	if r.tmp != "" {
		fl.tmpRefs = fl.waiters
		if fl.waiters == 0 {
			del = append(del, r.tmp)
		}
	}
	if req.old != nil {
		req.old.pins--
		if p := c.orphanLocked(req.old); p != "" {
			del = append(del, p)
		}
	}
	c.mu.Unlock()
	// Files go before the waiters wake, so a Get returns with the disk
	// already matching the index.
	for _, p := range del {
		removeFile(p)
	}
	close(fl.done)
}

// Remove drops the stored entry of rawURL, if any; a caller still holding
// its file keeps it until Release.
func (c *Cache) Remove(rawURL string) error {
	_, norm, err := normalize(rawURL)
	if err != nil {
		return &Error{Code: CodeInvalidURL, URL: rawURL, Err: err}
	}
	c.mu.Lock()
	var del string
	if e := c.byKey[keyOf(norm)]; e != nil {
		del = c.removeLocked(e, true)
	}
	c.mu.Unlock()
	return removeFile(del)
}

// Close cancels the fetches in flight (their waiters get ErrClosed), waits
// for them, records when each entry was last used (for eviction order after a
// restart) and releases idle connections. Entries handed out stay valid until
// released. Get fails with ErrClosed afterwards.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()

	type pending struct {
		e  *entry
		sc sidecar
	}
	var dirty []pending
	c.mu.Lock()
	for el := c.lru.Front(); el != nil; el = el.Next() {
		if e := el.Value.(*entry); e.dirty {
			dirty = append(dirty, pending{e, newSidecar(e, e.meta, e.lastUsed)})
			e.dirty = false
		}
	}
	c.mu.Unlock()
	var errs []error
	for _, p := range dirty {
		tmp, err := c.prepareSidecar(p.sc)
		if err == nil {
			c.mu.Lock()
			err = c.commitSidecarLocked(p.e, tmp)
			c.mu.Unlock()
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("audiocache: close: %w", err)
	}
	return nil
}

// insertLocked adds a new entry, replacing any entry of the same key, and
// evicts the least recently used entries past maxBytes. It returns the bodies
// to delete.
func (c *Cache) insertLocked(e *entry) []string {
	var del []string
	if prev := c.byKey[e.key]; prev != nil {
		// Its sidecar was just replaced by e's: keep the file.
		if p := c.removeLocked(prev, false); p != "" {
			del = append(del, p)
		}
	}
	c.byKey[e.key] = e
	if e.url != "" {
		c.byURL[e.url] = e
	}
	e.elem = c.lru.PushFront(e)
	c.total += e.size
	return append(del, c.evictLocked()...)
}

// evictLocked removes least recently used entries until the total fits
// maxBytes, never the most recent one. It returns the bodies to delete.
func (c *Cache) evictLocked() []string {
	var del []string
	for c.maxBytes >= 0 && c.total > c.maxBytes && c.lru.Len() > 1 {
		e := c.lru.Back().Value.(*entry)
		if p := c.removeLocked(e, true); p != "" {
			del = append(del, p)
		}
	}
	return del
}

// removeLocked takes e out of the index (and its sidecar off the disk when
// sidecar is set) and returns its body's path if it can be deleted now (no
// pins), or "" (deleted at the last Release).
func (c *Cache) removeLocked(e *entry, sidecar bool) string {
	if e.removed {
		return ""
	}
	if c.byKey[e.key] == e {
		delete(c.byKey, e.key)
		if sidecar {
			os.Remove(c.sidecarPath(e.key))
		}
	}
	if e.url != "" && c.byURL[e.url] == e {
		delete(c.byURL, e.url)
	}
	c.lru.Remove(e.elem)
	c.total -= e.size
	e.removed = true
	return c.orphanLocked(e)
}

// orphanLocked returns the body of a removed, unpinned entry, once.
func (c *Cache) orphanLocked(e *entry) string {
	if !e.removed || e.pins > 0 || e.deleted {
		return ""
	}
	e.deleted = true
	return e.path
}

func removeFile(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("audiocache: %w", err)
	}
	return nil
}

func (c *Cache) sidecarPath(key string) string { return filepath.Join(c.dir, key+sidecarExt) }
