package webhook

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Overrides are Twilio's webhook connection overrides, given in a webhook URL's
// fragment, e.g. https://example.com/voice#ct=2000&rc=3&rp=all
// (https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides).
// A zero field means "not overridden". The fragment is never sent to the app
// and is not part of the signed URL.
type Overrides struct {
	// ConnectTimeout (ct, 100-10000 ms): time allowed to establish the TCP
	// connection, per attempt.
	ConnectTimeout time.Duration
	// ReadTimeout (rt, 100-15000 ms): time allowed from sending the request to
	// the first response byte, and between two reads of the response.
	ReadTimeout time.Duration
	// TotalTimeout (tt, 100-15000 ms): time allowed for all attempts.
	TotalTimeout time.Duration
	// RetryCount (rc, 0-5): attempts after the first one; -1 when not given.
	RetryCount int
	// RetryPolicy (rp): which failures are retried.
	RetryPolicy RetryOn
	// Edge (e) and SNI (sni) are accepted and kept but have no effect here.
	Edge string
	SNI  string
}

// RetryOn is a set of failure classes that a request is retried on.
type RetryOn uint8

// The failure classes of the rp override: "4xx", "5xx", "ct" (connect
// failures and timeouts), "rt" (read timeouts) and "all".
const (
	Retry4xx RetryOn = 1 << iota
	Retry5xx
	RetryConnect
	RetryRead
	RetryAll = Retry4xx | Retry5xx | RetryConnect | RetryRead
)

// ParseOverrides reads connection overrides from a URL fragment. Unknown keys,
// malformed values and values out of Twilio's range are ignored. The rp key may
// be repeated or comma-separated ("rp=ct,rt").
func ParseOverrides(fragment string) Overrides {
	o := Overrides{RetryCount: -1}
	if fragment == "" {
		return o
	}
	vals, _ := url.ParseQuery(fragment) // a malformed pair is skipped, the rest kept
	ms := func(key string, lo, hi int) time.Duration {
		n, err := strconv.Atoi(vals.Get(key))
		if err != nil || n < lo || n > hi {
			return 0
		}
		return time.Duration(n) * time.Millisecond
	}
	o.ConnectTimeout = ms("ct", 100, 10000)
	o.ReadTimeout = ms("rt", 100, 15000)
	o.TotalTimeout = ms("tt", 100, 15000)
	if n, err := strconv.Atoi(vals.Get("rc")); err == nil && n >= 0 && n <= 5 {
		o.RetryCount = n
	}
	for _, v := range vals["rp"] {
		for p := range strings.SplitSeq(v, ",") {
			switch strings.ToLower(strings.TrimSpace(p)) {
			case "4xx":
				o.RetryPolicy |= Retry4xx
			case "5xx":
				o.RetryPolicy |= Retry5xx
			case "ct":
				o.RetryPolicy |= RetryConnect
			case "rt":
				o.RetryPolicy |= RetryRead
			case "all":
				o.RetryPolicy |= RetryAll
			}
		}
	}
	o.Edge = vals.Get("e")
	o.SNI = vals.Get("sni")
	return o
}
