package audiocache

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// acceptHeader asks for audio, as a browser's <audio> element would.
const acceptHeader = "audio/*, */*;q=0.1"

// A fetchRequest is what a flight needs to know.
type fetchRequest struct {
	key      string
	norm     string // the normalised URL, requested
	display  string // the URL for errors, password redacted
	withAuth bool   // the URL carries user info
	old      *entry // the stored entry to revalidate, pinned; nil if none
	oldMeta  *meta  // old's meta when the flight started
}

// fetch makes the request of a flight and stores what may be stored.
func (c *Cache) fetch(ctx context.Context, fr fetchRequest) result {
	ctx, stop := c.withTimeout(ctx)
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fr.norm, nil)
	if err != nil {
		return result{err: &Error{Code: CodeInvalidURL, URL: fr.display, Err: fmt.Errorf("%w: %w", ErrBadURL, err)}}
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", acceptHeader)
	if fr.oldMeta != nil {
		// RFC 9111 section 4.3.1: send the stored entity tag, and the stored
		// Last-Modified value as is (RFC 9110 section 13.1.3).
		if et := fr.oldMeta.etag(); et != "" {
			req.Header.Set("If-None-Match", et)
		}
		if lm := fr.oldMeta.lastModified(); lm != "" {
			req.Header.Set("If-Modified-Since", lm)
		}
	}
	requestTime := c.clock.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		if c.ctx.Err() != nil {
			return result{err: ErrClosed}
		}
		code, cause := classify(ctx, err)
		fe := &Error{Code: code, URL: fr.display, Err: cause}
		if fr.old != nil && fr.oldMeta.mayServeStale() {
			return result{entry: fr.old, outcome: Stale, warning: fe}
		}
		return result{err: fe}
	}
	defer resp.Body.Close()
	responseTime := c.clock.Now()

	switch {
	case resp.StatusCode == http.StatusNotModified && fr.old != nil:
		return c.revalidated(fr, resp.Header, requestTime, responseTime)
	case resp.StatusCode == http.StatusPartialContent:
		// No Range was asked for: a part of the file is not the file.
		return result{err: &Error{Code: CodeRetrievalFailure, URL: fr.display, Status: resp.StatusCode,
			Err: fmt.Errorf("partial content to a request without range: %w", ErrStatus)}}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		if fr.old != nil && resp.StatusCode >= 400 && resp.StatusCode < 500 {
			// The file is gone (404, 410) or forbidden: forget the copy.
			c.drop(fr.old)
		}
		return result{err: &Error{Code: CodeRetrievalFailure, URL: fr.display, Status: resp.StatusCode, Err: ErrStatus}}
	}
	return c.download(ctx, fr, resp, requestTime, responseTime)
}

// revalidated handles a 304 to a conditional request: the stored response is
// updated (RFC 9111 section 4.3.4) and served.
func (c *Cache) revalidated(fr fetchRequest, h http.Header, requestTime, responseTime time.Time) result {
	m := fr.oldMeta.updated(h, requestTime, responseTime)
	if m.storable(fr.withAuth) != "" {
		// Now no-store (or private): serve it this once and forget it.
		c.drop(fr.old)
		return result{entry: fr.old, outcome: Revalidated}
	}
	// Best effort: without the new sidecar, a restart revalidates again.
	tmp, err := c.prepareSidecar(newSidecar(fr.old, m, responseTime))
	c.mu.Lock()
	if !fr.old.removed {
		fr.old.meta = m
		if err == nil && c.commitSidecarLocked(fr.old, tmp) == nil {
			fr.old.lastUsed, fr.old.dirty = responseTime, false
		}
	} else if err == nil {
		os.Remove(tmp)
	}
	c.mu.Unlock()
	return result{entry: fr.old, outcome: Revalidated}
}

// drop removes e from the index.
func (c *Cache) drop(e *entry) {
	c.mu.Lock()
	p := c.removeLocked(e, true)
	c.mu.Unlock()
	removeFile(p)
}

// download reads a 2xx body into a file, within maxFileBytes, and stores it
// if it may be stored.
func (c *Cache) download(ctx context.Context, fr fetchRequest, resp *http.Response, requestTime, responseTime time.Time) result {
	fail := func(code int, err error) result {
		if c.ctx.Err() != nil {
			return result{err: ErrClosed}
		}
		return result{err: &Error{Code: code, URL: fr.display, Status: resp.StatusCode, Err: err}}
	}
	contentType := resp.Header.Get("Content-Type")
	mt := mediaType(contentType)
	sniff := false
	switch {
	case strings.HasPrefix(mt, "audio/"):
	case mt == "" || mt == "application/octet-stream" || mt == "binary/octet-stream":
		sniff = true // a bare file server: look at the bytes
	default:
		return fail(CodeInvalidContentType, fmt.Errorf("content-type %q: %w", contentType, ErrContentType))
	}
	if resp.ContentLength > c.maxFileBytes {
		return fail(CodeTooLarge, fmt.Errorf("content-length %d exceeds %d bytes: %w", resp.ContentLength, c.maxFileBytes, ErrTooLarge))
	}

	body := &readTracker{r: io.LimitReader(resp.Body, c.maxFileBytes+1)}
	br := bufio.NewReaderSize(body, 32<<10)
	head, _ := br.Peek(12)
	if len(head) == 0 {
		if body.err != nil && !errors.Is(body.err, io.EOF) {
			code, cause := classify(ctx, body.err)
			return fail(code, cause)
		}
		return fail(CodeInvalidContentType, ErrEmptyBody)
	}
	if sniff {
		t := sniffAudio(head)
		if t == "" {
			return fail(CodeInvalidContentType, fmt.Errorf("content-type %q and the body is not audio: %w", contentType, ErrContentType))
		}
		contentType = t
	}

	f, err := os.CreateTemp(c.dir, tmpPrefix+"*"+extFor(contentType))
	if err != nil {
		return fail(CodeRetrievalFailure, err)
	}
	tmp := f.Name()
	n, err := io.Copy(f, br)
	if err == nil && n > c.maxFileBytes {
		err = fmt.Errorf("body exceeds %d bytes: %w", c.maxFileBytes, ErrTooLarge)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		switch {
		case errors.Is(err, ErrTooLarge):
			return fail(CodeTooLarge, err)
		case body.err != nil && !errors.Is(body.err, io.EOF):
			code, cause := classify(ctx, body.err)
			return fail(code, cause)
		}
		return fail(CodeRetrievalFailure, err) // the disk
	}

	m := newMeta(resp.Header, requestTime, responseTime)
	reason := m.storable(fr.withAuth)
	switch {
	case reason != "":
	case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNonAuthoritativeInfo:
		reason = notStoredStatus // 201, 202...: not a representation of the URL
	case c.maxBytes >= 0 && n > c.maxBytes:
		reason = notStoredTooLarge
	}
	if reason != "" {
		if fr.old != nil {
			c.drop(fr.old) // superseded by a response that may not be stored
		}
		return result{tmp: tmp, contentType: contentType, size: n, outcome: Uncached}
	}

	e := &entry{
		key:         fr.key,
		url:         fr.norm,
		display:     fr.display,
		body:        fr.key + "-" + randomHex(8) + extFor(contentType),
		size:        n,
		contentType: contentType,
		withAuth:    fr.withAuth,
		meta:        m,
		lastUsed:    responseTime,
	}
	e.path = filepath.Join(c.dir, e.body)
	if err := os.Rename(tmp, e.path); err != nil {
		os.Remove(tmp)
		return fail(CodeRetrievalFailure, err)
	}
	tmpSidecar, err := c.prepareSidecar(newSidecar(e, m, responseTime))
	if err != nil {
		os.Remove(e.path)
		return fail(CodeRetrievalFailure, err)
	}
	c.mu.Lock()
	if err := c.commitSidecarLocked(e, tmpSidecar); err != nil {
		c.mu.Unlock()
		os.Remove(e.path)
		return fail(CodeRetrievalFailure, err)
	}
	del := c.insertLocked(e)
	c.mu.Unlock()
	for _, p := range del {
		removeFile(p)
	}
	return result{entry: e, outcome: Fetched}
}

// readTracker remembers the error of the underlying reader, to tell a broken
// connection from a full disk.
type readTracker struct {
	r   io.Reader
	err error
}

func (t *readTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && t.err == nil {
		t.err = err
	}
	return n, err
}

// withTimeout bounds a fetch by c.timeout on c.clock; when it expires the
// context is cancelled with ErrTimeout as its cause.
func (c *Cache) withTimeout(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	t := c.clock.NewTimer(c.timeout)
	done := make(chan struct{})
	go func() {
		select {
		case <-t.C():
			cancel(ErrTimeout)
		case <-done:
		}
	}()
	return ctx, func() {
		t.Stop()
		close(done)
		cancel(nil)
	}
}

// checkRedirect follows at most MaxRedirects redirects, to http and https
// URLs only.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return ErrTooManyRedirects
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return fmt.Errorf("redirect to scheme %q: %w", s, ErrBadURL)
	}
	return nil
}

// newTransport returns the built-in transport; it never connects to an
// address in deny (checked on the resolved address, redirects included).
func newTransport(deny []netip.Prefix) *http.Transport {
	d := &net.Dialer{Timeout: DefaultConnectTimeout, KeepAlive: 30 * time.Second, Control: webhook.DenyControl(deny)}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			// RFC 6761 section 6.4: .invalid names never resolve.
			if h := strings.TrimSuffix(strings.ToLower(host), "."); h == "invalid" || strings.HasSuffix(h, ".invalid") {
				return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
			}
			return d.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    DefaultConnectTimeout,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    8,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// mediaType returns the media type of a Content-Type value, lower case,
// without parameters ("" when absent).
func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		// Tolerate bad parameters ("audio/mpeg; foo"), as browsers do.
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	}
	return mt
}

// sniffAudio returns the media type of an audio file starting with head, or
// "" when head does not start like one: RIFF/RF64 WAVE, MP3 (an ID3v2 tag or
// an MPEG audio layer III frame header, ISO/IEC 11172-3 2.4.1.3), AIFF and
// AIFF-C, Sun/NeXT .snd. These are the formats <Play> decodes.
func sniffAudio(head []byte) string {
	switch {
	case len(head) >= 12 && (bytes.HasPrefix(head, []byte("RIFF")) || bytes.HasPrefix(head, []byte("RF64"))) && string(head[8:12]) == "WAVE":
		return "audio/wav"
	case bytes.HasPrefix(head, []byte("ID3")):
		return "audio/mpeg"
	case len(head) >= 4 && head[0] == 0xFF && head[1]&0xE0 == 0xE0 &&
		head[1]>>3&3 != 1 && head[1]>>1&3 == 1 && head[2]>>4 != 15 && head[2]>>2&3 != 3:
		return "audio/mpeg"
	case len(head) >= 12 && bytes.HasPrefix(head, []byte("FORM")) && string(head[8:12]) == "AIFF":
		return "audio/aiff"
	case len(head) >= 12 && bytes.HasPrefix(head, []byte("FORM")) && string(head[8:12]) == "AIFC":
		return "audio/x-aifc"
	case bytes.HasPrefix(head, []byte(".snd")):
		return "audio/basic"
	}
	return ""
}

// extFor returns a file name extension for a Content-Type, so that the files
// open by name too (headerless μ-law and A-law are told by ".ul" and ".al").
func extFor(contentType string) string {
	switch mediaType(contentType) {
	case "audio/mpeg", "audio/mp3", "audio/mpeg3", "audio/x-mpeg-3", "audio/x-mp3", "audio/x-mpeg":
		return ".mp3"
	case "audio/wav", "audio/wave", "audio/x-wav", "audio/vnd.wave":
		return ".wav"
	case "audio/aiff", "audio/x-aiff":
		return ".aiff"
	case "audio/aifc", "audio/x-aifc":
		return ".aifc"
	case "audio/basic", "audio/ulaw", "audio/x-ulaw", "audio/mulaw", "audio/x-mulaw", "audio/pcmu":
		return ".ul"
	case "audio/alaw", "audio/x-alaw", "audio/pcma":
		return ".al"
	case "audio/gsm", "audio/x-gsm":
		return ".gsm"
	}
	return ".audio"
}

// copyTemp gives a caller its own name for an uncached body: a hard link, or
// a copy where links are not supported.
func (c *Cache) copyTemp(src, ext string) (string, error) {
	dst := filepath.Join(c.dir, tmpPrefix+randomHex(8)+ext)
	if err := os.Link(src, dst); err == nil {
		return dst, nil
	}
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return "", err
	}
	if err := out.Close(); err != nil {
		os.Remove(dst)
		return "", err
	}
	return dst, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
