package store

import (
	"sync"
	"sync/atomic"
	"time"
)

// lookupCache keeps the rows read on every call and every API request: the
// number an INVITE is routed to (FindNumber) and the account that owns it or
// that a request authenticates as (Account). On SQLite each of those reads
// otherwise begins a read transaction of its own, which after every commit
// of the writer re-reads the WAL index and the pages the commit changed.
//
// It is used on SQLite only, where this process makes every write: each
// write of accounts or numbers (rare: the API's) invalidates the whole cache
// once committed, so a read that follows a write's return sees the write.
// An entry also lives at most lookupTTL, which bounds how long a change made
// to the file by another program stays unseen. On PostgreSQL other nodes
// write too: the store has no cache (a nil *lookupCache caches nothing).
type lookupCache struct {
	now func() time.Time // the clock of lookupTTL

	// gen counts invalidations. A read takes it before reading the
	// database and stores its row with it; an entry of an older generation
	// is not used, so a row read before a write committed is never served
	// after the write returned.
	gen atomic.Uint64

	mu       sync.RWMutex
	accounts map[string]cached[Account]
	numbers  map[string]cached[IncomingPhoneNumber] // by canonical phone number
}

// lookupTTL is the longest an entry is used; lookupMax the most entries of
// each kind (the cache is emptied when full: a scanner trying numbers leaves
// nothing behind, since only rows found are kept).
const (
	lookupTTL = time.Second
	lookupMax = 4096
)

type cached[T any] struct {
	v   T
	gen uint64
	at  time.Time
}

func newLookupCache(now func() time.Time) *lookupCache {
	return &lookupCache{
		now:      now,
		accounts: make(map[string]cached[Account]),
		numbers:  make(map[string]cached[IncomingPhoneNumber]),
	}
}

// generation is taken before a read whose row is then put.
func (c *lookupCache) generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

// invalidate drops every entry; a write of accounts or numbers calls it once
// committed (or failed: it costs the next reads only).
func (c *lookupCache) invalidate() {
	if c != nil {
		c.gen.Add(1)
	}
}

func (c *lookupCache) account(sid string) (Account, bool) {
	if c == nil {
		return Account{}, false
	}
	return lookup(c, c.accounts, sid)
}

func (c *lookupCache) putAccount(a Account, gen uint64) {
	if c != nil {
		put(c, c.accounts, a.SID, a, gen)
	}
}

func (c *lookupCache) number(phone string) (IncomingPhoneNumber, bool) {
	if c == nil {
		return IncomingPhoneNumber{}, false
	}
	return lookup(c, c.numbers, phone)
}

func (c *lookupCache) putNumber(n IncomingPhoneNumber, gen uint64) {
	if c != nil {
		put(c, c.numbers, n.PhoneNumber, n, gen)
	}
}

func lookup[T any](c *lookupCache, m map[string]cached[T], key string) (T, bool) {
	c.mu.RLock()
	e, ok := m[key]
	c.mu.RUnlock()
	if !ok || e.gen != c.gen.Load() || c.now().Sub(e.at) >= lookupTTL {
		var zero T
		return zero, false
	}
	return e.v, true
}

func put[T any](c *lookupCache, m map[string]cached[T], key string, v T, gen uint64) {
	if gen != c.gen.Load() {
		return // a write committed meanwhile: the row may be stale already
	}
	c.mu.Lock()
	if len(m) >= lookupMax {
		clear(m)
	}
	m[key] = cached[T]{v: v, gen: gen, at: c.now()}
	c.mu.Unlock()
}
