package audiocache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// maxURLLen bounds the URL accepted, as web servers commonly do (8 KiB).
const maxURLLen = 8 << 10

// normalize checks that raw is an absolute http or https URL and returns the
// form entries are keyed by (the same resource, the same key):
//   - surrounding whitespace (a <Play> body often has some) is dropped;
//   - the scheme and host are lower-cased (RFC 3986 section 6.2.2.1);
//   - the scheme's default port (80, 443) is dropped and an empty path
//     becomes "/" (RFC 3986 section 6.2.3, RFC 9110 section 4.2.3);
//   - the fragment is dropped: it is never sent (RFC 9110 section 4.2.5).
//
// The path and query are kept as written: servers may tell "%2F" from "/",
// and "?a=1&b=2" from "?b=2&a=1". User info is kept: other credentials may
// see another file.
func normalize(raw string) (*url.URL, string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, "", fmt.Errorf("empty url: %w", ErrBadURL)
	}
	if len(raw) > maxURLLen {
		return nil, "", fmt.Errorf("url longer than %d bytes: %w", maxURLLen, ErrBadURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return nil, "", fmt.Errorf("relative url %q: %w", redact(u), ErrBadURL)
		}
		return nil, "", fmt.Errorf("scheme %q is not http or https: %w", u.Scheme, ErrBadURL)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, "", fmt.Errorf("url %q has no host: %w", redact(u), ErrBadURL)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		u.Host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		u.Host = "[" + host + "]"
	} else {
		u.Host = host
	}
	if u.Path == "" && u.RawPath == "" {
		u.Path = "/"
	}
	u.Fragment, u.RawFragment = "", ""
	return u, u.String(), nil
}

// keyOf names the files of the entry for a normalised URL.
func keyOf(norm string) string {
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:])
}

// redact returns u as a string with any password replaced by "xxxxx".
func redact(u *url.URL) string { return u.Redacted() }
