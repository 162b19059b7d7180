package webhook

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"slices"
	"sort"
)

// SignatureHeader is the header that carries the request signature.
const SignatureHeader = "X-Twilio-Signature"

// Sign computes the X-Twilio-Signature of a request, as Twilio does
// (https://www.twilio.com/docs/usage/webhooks/webhooks-security): the full URL
// of the request (scheme, host, optional port, path and query string, exactly
// as requested), followed, for a POST, by each body parameter's name and value
// with the parameters sorted by name; then HMAC-SHA1 keyed with the auth token,
// base64-encoded.
//
// For a GET the parameters are already in fullURL's query string: pass nil.
// A name given several values contributes each distinct value, in sorted
// order, each preceded by the name, as Twilio's node and python validators
// check it. (twilio-go's RequestValidator takes a map and so sees only one
// value per name.)
func Sign(authToken, fullURL string, params url.Values) string {
	n := len(fullURL)
	names := make([]string, 0, len(params))
	for name, vs := range params {
		names = append(names, name)
		for _, v := range vs {
			n += len(name) + len(v)
		}
	}
	sort.Strings(names)
	data := make([]byte, 0, n)
	data = append(data, fullURL...)
	var vals []string
	for _, name := range names {
		vs := params[name]
		if len(vs) > 1 {
			vals = append(vals[:0], vs...)
			sort.Strings(vals)
			vs = slices.Compact(vals)
		}
		for _, v := range vs {
			data = append(data, name...)
			data = append(data, v...)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write(data)
	var sum [sha1.Size]byte
	return base64.StdEncoding.EncodeToString(mac.Sum(sum[:0]))
}
