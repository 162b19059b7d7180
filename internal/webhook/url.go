package webhook

import (
	"fmt"
	"net/url"
	"strings"
)

// Resolve resolves ref (a URL from a TwiML document: an action, a Redirect, a
// Play URL) against base, the URL the document was fetched from, as RFC 3986
// section 5 says. Surrounding white space in ref is ignored. The result must be
// an absolute http or https URL.
func Resolve(base, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	if !r.IsAbs() {
		b, err := url.Parse(strings.TrimSpace(base))
		if err != nil {
			return "", fmt.Errorf("%w: base: %w", ErrBadURL, err)
		}
		frag, rawFrag := r.Fragment, r.RawFragment
		r = b.ResolveReference(r)
		// RFC 3986 section 5.2.2: the fragment is always the reference's
		// (net/url keeps the base's for an empty reference).
		r.Fragment, r.RawFragment = frag, rawFrag
	}
	if err := checkHTTPURL(r); err != nil {
		return "", err
	}
	return r.String(), nil
}

func checkHTTPURL(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return fmt.Errorf("%w: %q is not an http or https url", ErrBadURL, u.Redacted())
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%w: %q has no host", ErrBadURL, u.Redacted())
	}
	return nil
}

// target is a URL prepared for a request: credentials and fragment split off,
// path and query escaped as they go on the wire.
type target struct {
	u         *url.URL // no user info, no fragment; RawQuery escaped
	user      *url.Userinfo
	overrides Overrides
}

func parseTarget(raw string) (target, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return target{}, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	if err := checkHTTPURL(u); err != nil {
		return target{}, err
	}
	t := target{user: u.User}
	t.overrides = ParseOverrides(u.Fragment)
	v := *u
	v.User = nil
	v.Fragment, v.RawFragment = "", ""
	v.Scheme = strings.ToLower(v.Scheme)
	v.RawQuery = escapeQuery(v.RawQuery)
	v.ForceQuery = false
	t.u = &v
	return t, nil
}

// withQuery returns the URL with params appended to its query string, for a
// GET.
func (t target) withQuery(params url.Values) *url.URL {
	v := *t.u
	if len(params) > 0 {
		if v.RawQuery != "" {
			v.RawQuery += "&" + params.Encode()
		} else {
			v.RawQuery = params.Encode()
		}
	}
	return &v
}

// escapeQuery percent-encodes the bytes of a raw query string that may not
// appear in a request line (RFC 3986 section 3.4): non-ASCII, controls, space
// and the few ASCII characters outside the query production. Existing escapes
// and the sub-delimiters are kept, so an already valid query is unchanged.
func escapeQuery(q string) string {
	n := 0
	for i := 0; i < len(q); i++ {
		if !queryByteOK(q[i]) {
			n++
		}
	}
	if n == 0 {
		return q
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(q)+2*n)
	for i := 0; i < len(q); i++ {
		c := q[i]
		if queryByteOK(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return string(b)
}

func queryByteOK(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	switch c {
	case '"', '#', '<', '>', '\\', '^', '`', '{', '|', '}':
		return false
	}
	return true
}
