package audiocache

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The files in Dir:
//
//	<key>.json                 the sidecar of an entry (key: sha256 of the
//	                           normalised URL, 64 hex digits)
//	<key>-<16 hex><ext>        its body, named by the sidecar; a new body gets
//	                           a new name, so a file being played is never
//	                           overwritten
//	.tmp-*                     files being written, and uncached bodies
//	                           handed out (Outcome Uncached)
const (
	sidecarExt = ".json"
	tmpPrefix  = ".tmp-"
	keyLen     = 64
	// sidecarVersion is the format of the sidecar.
	sidecarVersion = 1
	// maxSidecar bounds the size of a sidecar read at New.
	maxSidecar = 256 << 10
)

// staleTemp is how old a temporary file must be for New to remove it as the
// leftover of a crash (or of a caller that never released it).
const staleTemp = time.Hour

// A sidecar is the JSON file describing a stored entry.
type sidecar struct {
	Version int `json:"version"`
	// URL is the normalised URL, any password replaced by "xxxxx".
	URL string `json:"url"`
	// Body is the body's file name, in the same directory.
	Body         string      `json:"body"`
	Size         int64       `json:"size"`
	ContentType  string      `json:"content_type"`
	RequestTime  time.Time   `json:"request_time"`
	ResponseTime time.Time   `json:"response_time"`
	LastUsed     time.Time   `json:"last_used"`
	Header       http.Header `json:"header"`
}

func newSidecar(e *entry, m *meta, lastUsed time.Time) sidecar {
	return sidecar{
		Version:      sidecarVersion,
		URL:          e.display,
		Body:         e.body,
		Size:         e.size,
		ContentType:  e.contentType,
		RequestTime:  m.requestTime.UTC(),
		ResponseTime: m.responseTime.UTC(),
		LastUsed:     lastUsed.UTC(),
		Header:       m.header,
	}
}

// prepareSidecar writes sc to a synced temporary file and returns its path;
// commitSidecarLocked renames it into place. Only the rename happens under
// Cache.mu, so a slow disk does not hold up hits.
func (c *Cache) prepareSidecar(sc sidecar) (string, error) {
	b, err := encodeSidecar(sc)
	if err != nil {
		return "", err
	}
	return writeTemp(c.dir, b)
}

// encodeSidecar renders a sidecar as indented JSON (map keys sorted, so the
// output is stable).
func encodeSidecar(sc sidecar) ([]byte, error) {
	b, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// commitSidecarLocked renames the prepared sidecar tmp over e's, unless e
// was removed meanwhile (then tmp is dropped).
func (c *Cache) commitSidecarLocked(e *entry, tmp string) error {
	if e.removed {
		os.Remove(tmp)
		return nil
	}
	if err := os.Rename(tmp, c.sidecarPath(e.key)); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeTemp writes data to a synced temporary file in dir.
func writeTemp(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// load rebuilds the index from the sidecars in c.dir. A sidecar that cannot
// be read, parsed or checked (its key must be the hash of its URL, its body
// must exist with the recorded size) is removed with its body; bodies no
// sidecar names and old temporary files are removed too.
func (c *Cache) load() error {
	des, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	var loaded []*entry
	referenced := make(map[string]bool)
	for _, de := range des {
		name := de.Name()
		switch {
		case strings.HasPrefix(name, tmpPrefix):
			if info, err := de.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
				os.Remove(filepath.Join(c.dir, name))
			}
		case isSidecarName(name):
			e, err := c.loadSidecar(strings.TrimSuffix(name, sidecarExt))
			if err != nil {
				os.Remove(filepath.Join(c.dir, name))
				continue
			}
			loaded = append(loaded, e)
			referenced[e.body] = true
		}
	}
	for _, de := range des {
		if name := de.Name(); isBodyName(name) && !referenced[name] {
			os.Remove(filepath.Join(c.dir, name))
		}
	}
	// Oldest first, so the most recently used ends up at the front.
	sort.Slice(loaded, func(i, j int) bool { return loaded[i].lastUsed.Before(loaded[j].lastUsed) })
	for _, e := range loaded {
		c.byKey[e.key] = e
		if e.url != "" {
			c.byURL[e.url] = e
		}
		e.elem = c.lru.PushFront(e)
		c.total += e.size
	}
	for _, p := range c.evictLocked() {
		removeFile(p)
	}
	return nil
}

// errCorrupt marks a sidecar that fails its checks.
var errCorrupt = errors.New("audiocache: corrupt entry")

// loadSidecar reads and checks the sidecar of key.
func (c *Cache) loadSidecar(key string) (*entry, error) {
	b, err := readLimited(c.sidecarPath(key), maxSidecar)
	if err != nil {
		return nil, err
	}
	var sc sidecar
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	switch {
	case sc.Version != sidecarVersion:
		return nil, fmt.Errorf("%w: version %d", errCorrupt, sc.Version)
	case !strings.HasPrefix(sc.Body, key+"-") || !isBodyName(sc.Body):
		return nil, fmt.Errorf("%w: body %q", errCorrupt, sc.Body)
	case sc.Size <= 0 || sc.Size > c.maxFileBytes:
		return nil, fmt.Errorf("%w: size %d", errCorrupt, sc.Size)
	case sc.ContentType == "" || sc.RequestTime.IsZero() || sc.ResponseTime.IsZero():
		return nil, fmt.Errorf("%w: missing fields", errCorrupt)
	}
	u, norm, err := normalize(sc.URL)
	if err != nil || norm != sc.URL {
		return nil, fmt.Errorf("%w: url %q", errCorrupt, sc.URL)
	}
	_, hasPassword := u.User.Password()
	if !hasPassword && keyOf(norm) != key {
		return nil, fmt.Errorf("%w: url %q does not hash to its name", errCorrupt, sc.URL)
	}
	path := filepath.Join(c.dir, sc.Body)
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() || info.Size() != sc.Size {
		os.Remove(path)
		return nil, fmt.Errorf("%w: body of %d bytes, want %d", errCorrupt, info.Size(), sc.Size)
	}
	if sc.Header == nil {
		sc.Header = http.Header{}
	}
	e := &entry{
		key:         key,
		display:     sc.URL,
		body:        sc.Body,
		path:        path,
		size:        sc.Size,
		contentType: sc.ContentType,
		withAuth:    u.User != nil,
		meta:        derive(sc.Header, sc.RequestTime, sc.ResponseTime),
		lastUsed:    sc.LastUsed,
	}
	if !hasPassword {
		e.url = norm
	}
	return e, nil
}

// readLimited reads a whole file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() || info.Size() > limit {
		return nil, fmt.Errorf("%w: sidecar of %d bytes", errCorrupt, info.Size())
	}
	return os.ReadFile(path)
}

// isSidecarName reports whether name is <64 hex>.json.
func isSidecarName(name string) bool {
	return len(name) == keyLen+len(sidecarExt) && strings.HasSuffix(name, sidecarExt) && isHexKey(name[:keyLen])
}

// isBodyName reports whether name is <64 hex>-<16 hex><ext>, ext a dot and
// lower-case letters or digits.
func isBodyName(name string) bool {
	if len(name) < keyLen+1+16+2 || !isHexKey(name[:keyLen]) || name[keyLen] != '-' {
		return false
	}
	if _, err := hex.DecodeString(name[keyLen+1 : keyLen+17]); err != nil {
		return false
	}
	ext := name[keyLen+17:]
	if ext[0] != '.' || len(ext) > 8 {
		return false
	}
	for i := 1; i < len(ext); i++ {
		if c := ext[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isHexKey(s string) bool {
	if len(s) != keyLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
