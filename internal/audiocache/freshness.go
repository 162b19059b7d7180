package audiocache

import (
	"net/http"
	"strings"
	"time"
)

// Heuristic freshness (RFC 9111 section 4.2.2): a response with Last-Modified
// but no explicit expiration time is fresh for HeuristicFraction of the time
// since it was last modified, at most HeuristicMax.
const (
	HeuristicFraction = 10 // percent
	HeuristicMax      = 24 * time.Hour
)

// storedHeaders are the response header fields an entry keeps: those that
// decide freshness and validation, and the Content-Type.
var storedHeaders = []string{"Cache-Control", "Date", "Expires", "Age", "Etag", "Last-Modified", "Vary", "Content-Type"}

// A meta is what a cache knows about a stored response: its caching header
// fields and when it was requested and received. A meta is never modified
// once made (a 304 makes a new one), so it may be read without a lock.
type meta struct {
	header       http.Header
	requestTime  time.Time // when the request that got the response was sent
	responseTime time.Time // when the response was received

	cc         cacheControl
	lifetime   time.Duration // freshness lifetime, RFC 9111 section 4.2.1
	freshUntil time.Time     // when current_age reaches lifetime
}

// newMeta keeps the caching fields of h, a response to a request sent at
// requestTime and received at responseTime.
func newMeta(h http.Header, requestTime, responseTime time.Time) *meta {
	kept := make(http.Header, len(storedHeaders))
	for _, k := range storedHeaders {
		if v := h.Values(k); len(v) > 0 {
			kept[k] = append([]string(nil), v...)
		}
	}
	return derive(kept, requestTime, responseTime)
}

func derive(h http.Header, requestTime, responseTime time.Time) *meta {
	m := &meta{header: h, requestTime: requestTime, responseTime: responseTime}
	m.cc = parseCacheControl(h.Values("Cache-Control"))
	m.lifetime = m.freshnessLifetime()
	m.freshUntil = responseTime.Add(m.lifetime - m.correctedInitialAge())
	return m
}

// updated returns the meta of the stored response after a 304 (Not Modified)
// answer with header h validated it: the stored header fields are replaced by
// those the 304 carries (RFC 9111 section 3.2), except Content-Type, which
// describes the stored body, and the times are those of the new exchange, so
// the response is fresh again for its freshness lifetime (section 4.3.4).
func (m *meta) updated(h http.Header, requestTime, responseTime time.Time) *meta {
	kept := m.header.Clone()
	for _, k := range storedHeaders {
		if k == "Content-Type" {
			continue
		}
		if v := h.Values(k); len(v) > 0 {
			kept[k] = append([]string(nil), v...)
		}
	}
	return derive(kept, requestTime, responseTime)
}

// date is the Date header field's value, or the response time when it is
// missing or invalid (RFC 9110 section 6.6.1: a recipient with a clock uses
// the time it received the message).
func (m *meta) date() time.Time {
	if d, err := http.ParseTime(m.header.Get("Date")); err == nil {
		return d
	}
	return m.responseTime
}

// freshnessLifetime follows RFC 9111 section 4.2.1, as a shared cache:
// s-maxage, else max-age, else Expires minus Date, else the heuristic of
// section 4.2.2 when Last-Modified is given. An invalid s-maxage or max-age
// and an invalid Expires (section 5.3: "especially the value 0") mean the
// response is already stale.
func (m *meta) freshnessLifetime() time.Duration {
	switch {
	case m.cc.sMaxAge.set:
		return seconds(m.cc.sMaxAge)
	case m.cc.maxAge.set:
		return seconds(m.cc.maxAge)
	}
	if v := m.header.Values("Expires"); len(v) > 0 {
		exp, err := http.ParseTime(v[0])
		if err != nil {
			return 0
		}
		return max(exp.Sub(m.date()), 0)
	}
	if lm, err := http.ParseTime(m.header.Get("Last-Modified")); err == nil {
		since := m.date().Sub(lm)
		if since <= 0 {
			return 0
		}
		return min(since/100*HeuristicFraction, HeuristicMax)
	}
	return 0
}

func seconds(d deltaSeconds) time.Duration {
	if !d.valid {
		return 0
	}
	return time.Duration(d.secs) * time.Second
}

// correctedInitialAge is the age of the response when it was received (RFC
// 9111 section 4.2.3):
//
//	apparent_age = max(0, response_time - date_value)
//	response_delay = response_time - request_time
//	corrected_age_value = age_value + response_delay
//	corrected_initial_age = max(apparent_age, corrected_age_value)
//
// current_age is corrected_initial_age plus the time since response_time.
func (m *meta) correctedInitialAge() time.Duration {
	apparent := max(m.responseTime.Sub(m.date()), 0)
	delay := max(m.responseTime.Sub(m.requestTime), 0)
	return max(apparent, m.ageValue()+delay)
}

// ageValue is the Age header field (RFC 9111 section 5.1), 0 when missing or
// invalid, at most 2^31 seconds.
func (m *meta) ageValue() time.Duration {
	v := m.header.Get("Age")
	if v == "" {
		return 0
	}
	var d deltaSeconds
	d.add(strings.TrimSpace(v), true)
	return seconds(d)
}

// fresh reports whether the stored response may be served at now without
// contacting the server: its current age is below its freshness lifetime and
// no-cache does not demand validation (RFC 9111 sections 4.2 and 5.2.2.4).
func (m *meta) fresh(now time.Time) bool {
	return !m.cc.noCache && now.Before(m.freshUntil)
}

// etag and lastModified are the validators (RFC 9110 sections 8.8.3 and
// 8.8.2), "" when absent.
func (m *meta) etag() string         { return m.header.Get("Etag") }
func (m *meta) lastModified() string { return m.header.Get("Last-Modified") }

func (m *meta) hasValidator() bool { return m.etag() != "" || m.lastModified() != "" }

// Reasons a 200 response is not stored.
const (
	notStoredNoStore  = "no-store"
	notStoredPrivate  = "private"
	notStoredAuth     = "request carried credentials"
	notStoredVaryAll  = "Vary: *"
	notStoredUseless  = "neither fresh nor validatable"
	notStoredTooLarge = "larger than the cache"
	notStoredStatus   = "status other than 200 or 203"
)

// storable decides whether a 200 response may be stored and reused, as a
// shared cache (RFC 9111 section 3) and with a point: it returns "" when it
// may, or the reason it may not.
//   - no-store forbids storing (section 5.2.2.5);
//   - private forbids a shared cache to store (section 5.2.2.7);
//   - a request with credentials (user info in the URL, sent as
//     Authorization) may only be stored when public, s-maxage or
//     must-revalidate allow it (section 3.5);
//   - Vary: * can never be matched (section 4.1);
//   - a response with no freshness and no validator could only ever be
//     fetched again, so storing it is pointless (Twilio: files are cached
//     "via ETag and Last-Modified headers" or Cache-Control max-age).
func (m *meta) storable(withAuth bool) string {
	switch {
	case m.cc.noStore:
		return notStoredNoStore
	case m.cc.private:
		return notStoredPrivate
	case withAuth && !m.cc.public && !m.cc.sMaxAge.set && !m.cc.mustRevalidate:
		return notStoredAuth
	}
	for _, v := range m.header.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(f) == "*" {
				return notStoredVaryAll
			}
		}
	}
	if (m.lifetime <= 0 || m.cc.noCache) && !m.hasValidator() {
		return notStoredUseless
	}
	return ""
}

// mayServeStale reports whether a stale stored response may be served when
// the server cannot be reached to validate it (RFC 9111 section 4.2.4: a
// cache that is disconnected may serve stale responses), unless the response
// forbids it: must-revalidate (5.2.2.2), proxy-revalidate (5.2.2.8) and
// s-maxage (5.2.2.10) for a shared cache, and no-cache (5.2.2.4).
func (m *meta) mayServeStale() bool {
	return !m.cc.mustRevalidate && !m.cc.proxyRevalidate && !m.cc.sMaxAge.set && !m.cc.noCache
}
