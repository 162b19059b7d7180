package audiocache

import (
	"strconv"
	"strings"
)

// maxDeltaSeconds is the value a delta-seconds too large to represent is
// taken as (RFC 9111 section 1.2.2: 2^31).
const maxDeltaSeconds = 1 << 31

// A deltaSeconds is the value of a directive such as max-age.
type deltaSeconds struct {
	// set: the directive appeared.
	set bool
	// valid: every occurrence had a delta-seconds value (RFC 9111 section
	// 1.2.2: 1*DIGIT, as a token or a quoted-string).
	valid bool
	// secs is the smallest value seen, at most maxDeltaSeconds.
	secs int64
}

// add records one occurrence. Conflicting duplicates resolve to the most
// restrictive (smallest) value; an invalid occurrence makes the directive
// invalid, which makes the response stale (RFC 9111 section 4.2.1: "...or the
// response should be considered stale").
func (d *deltaSeconds) add(value string, hasValue bool) {
	secs, ok := int64(0), hasValue && value != ""
	for i := 0; ok && i < len(value); i++ {
		c := value[i]
		if c < '0' || c > '9' {
			ok = false
			break
		}
		if secs < maxDeltaSeconds {
			secs = secs*10 + int64(c-'0')
		}
	}
	secs = min(secs, maxDeltaSeconds)
	if !ok {
		secs = 0 // an invalid directive has no value
	}
	switch {
	case !d.set:
		d.set, d.valid, d.secs = true, ok, secs
	case !ok || !d.valid:
		d.valid, d.secs = false, 0
	default:
		d.secs = min(d.secs, secs)
	}
}

// cacheControl holds the response directives of RFC 9111 section 5.2.2 that
// a shared cache acts on.
type cacheControl struct {
	noStore         bool         // 5.2.2.5
	noCache         bool         // 5.2.2.4, qualified form treated as unqualified
	private         bool         // 5.2.2.7, qualified form treated as unqualified
	public          bool         // 5.2.2.9
	mustRevalidate  bool         // 5.2.2.2
	proxyRevalidate bool         // 5.2.2.8
	immutable       bool         // RFC 8246
	maxAge          deltaSeconds // 5.2.2.1
	sMaxAge         deltaSeconds // 5.2.2.10
}

// parseCacheControl parses the field values of Cache-Control header lines
// (RFC 9111 section 5.2):
//
//	Cache-Control   = #cache-directive
//	cache-directive = token [ "=" ( token / quoted-string ) ]
//
// Directive names are case-insensitive; values may be tokens or quoted
// strings (section 5.2: recipients accept both forms); unknown directives are
// ignored (section 5.2.3). Several lines are one comma-separated list (RFC
// 9110 section 5.3). Malformed input is skipped up to the next comma, never
// rejected as a whole: a cache must make the best of what origins send.
func parseCacheControl(values []string) cacheControl {
	var cc cacheControl
	for _, v := range values {
		cc.parse(v)
	}
	return cc
}

func (cc *cacheControl) parse(s string) {
	i := 0
	for i < len(s) {
		// Skip empty list elements and whitespace (RFC 9110 section 5.6.1).
		for i < len(s) && (s[i] == ',' || s[i] == ' ' || s[i] == '\t') {
			i++
		}
		start := i
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		name := s[start:i]
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var value string
		hasValue := false
		if i < len(s) && s[i] == '=' {
			hasValue = true
			i++
			for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
				i++
			}
			if i < len(s) && s[i] == '"' {
				value, i = quotedString(s, i)
			} else {
				vs := i
				for i < len(s) && isTokenChar(s[i]) {
					i++
				}
				value = s[vs:i]
			}
		}
		// Anything else up to the next comma makes the element malformed.
		malformed := name == ""
		for i < len(s) && s[i] != ',' {
			if s[i] != ' ' && s[i] != '\t' {
				malformed = true
			}
			if s[i] == '"' {
				_, i = quotedString(s, i)
				continue
			}
			i++
		}
		if malformed && name == "" {
			continue
		}
		if malformed {
			// A known name with a garbled value: for the delta-seconds
			// directives that makes them invalid (stale); flags still count.
			hasValue, value = true, "\x00"
		}
		cc.directive(name, value, hasValue)
	}
}

func (cc *cacheControl) directive(name, value string, hasValue bool) {
	switch {
	case strings.EqualFold(name, "no-store"):
		cc.noStore = true
	case strings.EqualFold(name, "no-cache"):
		cc.noCache = true
	case strings.EqualFold(name, "private"):
		cc.private = true
	case strings.EqualFold(name, "public"):
		cc.public = true
	case strings.EqualFold(name, "must-revalidate"):
		cc.mustRevalidate = true
	case strings.EqualFold(name, "proxy-revalidate"):
		cc.proxyRevalidate = true
	case strings.EqualFold(name, "immutable"):
		cc.immutable = true
	case strings.EqualFold(name, "max-age"):
		cc.maxAge.add(value, hasValue)
	case strings.EqualFold(name, "s-maxage"):
		cc.sMaxAge.add(value, hasValue)
	}
}

// quotedString reads the quoted-string starting at s[i] == '"' (RFC 9110
// section 5.6.4, with quoted-pair escapes) and returns its unescaped content
// and the index after it. An unterminated string runs to the end of s.
func quotedString(s string, i int) (string, int) {
	i++ // opening quote
	var b strings.Builder
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), i + 1
		case c == '\\' && i+1 < len(s):
			b.WriteByte(s[i+1])
			i += 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), i
}

// isTokenChar reports whether c is a tchar (RFC 9110 section 5.6.2).
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// String renders the directives in canonical form; parsing the result gives
// back the same cacheControl.
func (cc cacheControl) String() string {
	var parts []string
	flag := func(on bool, name string) {
		if on {
			parts = append(parts, name)
		}
	}
	flag(cc.noStore, "no-store")
	flag(cc.noCache, "no-cache")
	flag(cc.private, "private")
	flag(cc.public, "public")
	flag(cc.mustRevalidate, "must-revalidate")
	flag(cc.proxyRevalidate, "proxy-revalidate")
	flag(cc.immutable, "immutable")
	delta := func(d deltaSeconds, name string) {
		switch {
		case !d.set:
		case !d.valid:
			parts = append(parts, name+"=invalid")
		default:
			parts = append(parts, name+"="+strconv.FormatInt(d.secs, 10))
		}
	}
	delta(cc.maxAge, "max-age")
	delta(cc.sMaxAge, "s-maxage")
	return strings.Join(parts, ", ")
}
