package audiocache

import (
	"net/http"
	"testing"
	"time"
)

func TestParseCacheControl(t *testing.T) {
	valid := func(s int64) deltaSeconds { return deltaSeconds{set: true, valid: true, secs: s} }
	invalid := deltaSeconds{set: true}
	tests := []struct {
		in   []string
		want cacheControl
	}{
		{nil, cacheControl{}},
		{[]string{""}, cacheControl{}},
		{[]string{"max-age=60"}, cacheControl{maxAge: valid(60)}},
		{[]string{"MAX-AGE=60"}, cacheControl{maxAge: valid(60)}},
		{[]string{`max-age="60"`}, cacheControl{maxAge: valid(60)}},
		{[]string{"max-age = 60"}, cacheControl{maxAge: valid(60)}},
		{[]string{"public, max-age=86400, s-maxage=3600"}, cacheControl{public: true, maxAge: valid(86400), sMaxAge: valid(3600)}},
		{[]string{"no-cache"}, cacheControl{noCache: true}},
		{[]string{`no-cache="Set-Cookie, X-Foo", max-age=5`}, cacheControl{noCache: true, maxAge: valid(5)}},
		{[]string{`private="a,b"`}, cacheControl{private: true}},
		{[]string{"no-store", "must-revalidate"}, cacheControl{noStore: true, mustRevalidate: true}},
		{[]string{",, ,no-store,,"}, cacheControl{noStore: true}},
		{[]string{"proxy-revalidate, immutable"}, cacheControl{proxyRevalidate: true, immutable: true}},
		{[]string{"max-age=60, max-age=30"}, cacheControl{maxAge: valid(30)}},
		{[]string{"max-age=30", "max-age=60"}, cacheControl{maxAge: valid(30)}},
		{[]string{"max-age=abc"}, cacheControl{maxAge: invalid}},
		{[]string{"max-age=-1"}, cacheControl{maxAge: invalid}},
		{[]string{"max-age="}, cacheControl{maxAge: invalid}},
		{[]string{"max-age"}, cacheControl{maxAge: invalid}},
		{[]string{"max-age=60, max-age=x"}, cacheControl{maxAge: invalid}},
		{[]string{"max-age=60 junk"}, cacheControl{maxAge: invalid}},
		{[]string{"max-age=99999999999999999999"}, cacheControl{maxAge: valid(maxDeltaSeconds)}},
		{[]string{"max-age=2147483649"}, cacheControl{maxAge: valid(maxDeltaSeconds)}},
		{[]string{"x-ext=\"a,no-store\", max-age=1"}, cacheControl{maxAge: valid(1)}},
		{[]string{`x="unterminated, no-store`}, cacheControl{}},
		{[]string{"=5, no-store"}, cacheControl{noStore: true}},
		{[]string{"no-store;max-age=5"}, cacheControl{noStore: true}},
		{[]string{"nostore, no-storex, max-agex=5"}, cacheControl{}},
	}
	for _, tt := range tests {
		if got := parseCacheControl(tt.in); got != tt.want {
			t.Errorf("parseCacheControl(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
	}
}

func TestFreshnessLifetime(t *testing.T) {
	date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return date.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"nothing", http.Header{}, 0},
		{"max-age", http.Header{"Cache-Control": {"max-age=90"}}, 90 * time.Second},
		{"s-maxage first", http.Header{"Cache-Control": {"s-maxage=10, max-age=90"}}, 10 * time.Second},
		{"invalid s-maxage is stale", http.Header{"Cache-Control": {"s-maxage=x, max-age=90"}}, 0},
		{"Expires", http.Header{"Expires": {at(time.Hour)}}, time.Hour},
		{"Expires in the past", http.Header{"Expires": {at(-time.Hour)}}, 0},
		{"Expires 0", http.Header{"Expires": {"0"}}, 0},
		{"Expires rfc850", http.Header{"Expires": {date.Add(time.Minute).Format(time.RFC850)}}, time.Minute},
		{"max-age beats Expires", http.Header{"Cache-Control": {"max-age=5"}, "Expires": {at(time.Hour)}}, 5 * time.Second},
		{"heuristic", http.Header{"Last-Modified": {at(-10 * time.Hour)}}, time.Hour},
		{"heuristic cap", http.Header{"Last-Modified": {at(-1000 * time.Hour)}}, HeuristicMax},
		{"Last-Modified in the future", http.Header{"Last-Modified": {at(time.Hour)}}, 0},
		{"bad Last-Modified", http.Header{"Last-Modified": {"yesterday"}}, 0},
		{"no-cache still has a lifetime", http.Header{"Cache-Control": {"no-cache, max-age=5"}}, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header.Clone()
			h.Set("Date", date.Format(http.TimeFormat))
			m := newMeta(h, date, date)
			if m.lifetime != tt.want {
				t.Fatalf("lifetime %v, want %v", m.lifetime, tt.want)
			}
		})
	}
}

// TestCurrentAge checks RFC 9111 section 4.2.3 on the clock skews and delays
// it is written for.
func TestCurrentAge(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name             string
		date             time.Time // zero: no Date
		age              string
		request, receive time.Time
		want             time.Duration // corrected_initial_age
	}{
		{"no delay", now, "", now, now, 0},
		{"response delay", now, "", now.Add(-2 * time.Second), now, 2 * time.Second},
		{"Age from a proxy", now, "30", now, now, 30 * time.Second},
		{"Age plus delay", now, "30", now.Add(-time.Second), now, 31 * time.Second},
		{"server clock behind", now.Add(-time.Minute), "", now, now, time.Minute},
		{"server clock ahead", now.Add(time.Minute), "", now, now, 0},
		{"no Date", time.Time{}, "", now, now, 0},
		{"bad Age", now, "soon", now, now, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Cache-Control": {"max-age=600"}}
			if !tt.date.IsZero() {
				h.Set("Date", tt.date.Format(http.TimeFormat))
			}
			if tt.age != "" {
				h.Set("Age", tt.age)
			}
			m := newMeta(h, tt.request, tt.receive)
			if got := m.correctedInitialAge(); got != tt.want {
				t.Fatalf("corrected_initial_age %v, want %v", got, tt.want)
			}
			if want := tt.receive.Add(600*time.Second - tt.want); !m.freshUntil.Equal(want) {
				t.Fatalf("fresh until %v, want %v", m.freshUntil, want)
			}
		})
	}
}

func TestUpdatedBy304(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := newMeta(http.Header{
		"Cache-Control": {"max-age=60"},
		"Etag":          {`"1"`},
		"Content-Type":  {"audio/wav"},
		"Date":          {t0.Format(http.TimeFormat)},
		"Set-Cookie":    {"a=b"},
	}, t0, t0)
	if m.header.Get("Set-Cookie") != "" {
		t.Fatal("a header field that does not matter for caching was kept")
	}
	t1 := t0.Add(time.Hour)
	u := m.updated(http.Header{
		"Cache-Control": {"max-age=120"},
		"Content-Type":  {"text/html"},
		"Date":          {t1.Format(http.TimeFormat)},
	}, t1, t1)
	switch {
	case u.lifetime != 120*time.Second:
		t.Fatalf("lifetime %v, want the 304's 120 s", u.lifetime)
	case !u.freshUntil.Equal(t1.Add(120 * time.Second)):
		t.Fatalf("fresh until %v", u.freshUntil)
	case u.etag() != `"1"`:
		t.Fatalf("ETag %q: a field the 304 lacks must be kept", u.etag())
	case u.header.Get("Content-Type") != "audio/wav":
		t.Fatal("the 304 changed the stored body's Content-Type")
	case m.lifetime != 60*time.Second:
		t.Fatal("updated modified the original meta")
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://example.com", "http://example.com/"},
		{"HTTP://Example.COM/Cowbell.mp3", "http://example.com/Cowbell.mp3"},
		{"https://example.com:443/a.mp3", "https://example.com/a.mp3"},
		{"http://example.com:80/a.mp3", "http://example.com/a.mp3"},
		{"http://example.com:443/a.mp3", "http://example.com:443/a.mp3"},
		{"http://example.com:8080/a.mp3?b=2&a=1#x", "http://example.com:8080/a.mp3?b=2&a=1"},
		{"  https://api.twilio.com/cowbell.mp3\n", "https://api.twilio.com/cowbell.mp3"},
		{"http://[::1]:80/a", "http://[::1]/a"},
		{"http://[::1]:8000/a", "http://[::1]:8000/a"},
		{"http://u:p@example.com/a", "http://u:p@example.com/a"},
		{"http://example.com/a%2Fb", "http://example.com/a%2Fb"},
		{"http://example.com/a b", "http://example.com/a%20b"},
		{"http://example.com?x", "http://example.com/?x"},
	}
	for _, tt := range tests {
		_, got, err := normalize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			continue
		}
		if _, again, _ := normalize(got); again != got {
			t.Errorf("normalize is not idempotent: %q -> %q", got, again)
		}
	}
}
