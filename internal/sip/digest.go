package sip

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// authorize adds to req, an INVITE challenged by res (a 401 or a 407), the
// digest credentials answering the challenges of res (RFC 3261 §22.2, §22.3):
// an Authorization for each WWW-Authenticate of a 401, a Proxy-Authorization
// for each Proxy-Authenticate of a 407, with the first challenge answerable of
// each realm (RFC 8760 §2.4: the challenges come in order of preference).
// Credentials req already carries for other realms (another proxy's, or the
// UAS's after a proxy's 407) are kept, so that every challenger finds its own;
// those for a realm challenged again are replaced. The digest-uri is the
// Request-URI with its parameters (RFC 3261 §22.4); qop=auth (and auth-int,
// over the body) is used when offered, with nc and a fresh cnonce. It fails,
// leaving req as it was, when no challenge can be answered: no challenge
// header, not Digest, an unsupported algorithm or qop.
func authorize(req *sip.Request, res *sip.Response, username, password string) error {
	chName, credName := "WWW-Authenticate", "Authorization"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		chName, credName = "Proxy-Authenticate", "Proxy-Authorization"
	}
	challenges := res.GetHeaders(chName)
	if len(challenges) == 0 {
		return fmt.Errorf("%d without %s", res.StatusCode, chName)
	}

	// The credentials already sent, by realm: a nonce used again counts on.
	previous := make(map[string]*digest.Credentials)
	for _, h := range req.GetHeaders(credName) {
		if c, err := digest.ParseCredentials(h.Value()); err == nil {
			previous[c.Realm] = c
		}
	}

	uri := req.Recipient.Clone()
	uri.Headers = nil
	body := req.Body()
	answered := make(map[string]bool)
	var creds []string
	var errs []error
	for _, h := range challenges {
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", chName, h.Value(), err))
			continue
		}
		if answered[chal.Realm] {
			continue
		}
		// Not per RFC, but seen: a lower case algorithm; and spaces in the
		// qop-options ("auth, auth-int"), which the library keeps.
		chal.Algorithm = strings.ToUpper(chal.Algorithm)
		for i, q := range chal.QOP {
			chal.QOP[i] = strings.TrimSpace(q)
		}
		opts := digest.Options{
			Method:   string(req.Method),
			URI:      uri.String(),
			Username: username,
			Password: password,
			GetBody:  func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil },
		}
		if p := previous[chal.Realm]; p != nil && p.Nonce == chal.Nonce && p.Nc > 0 {
			opts.Count = p.Nc + 1 // RFC 2617 §3.2.2: nc counts the uses of a nonce
		}
		cred, err := digest.Digest(chal, opts)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", chName, h.Value(), err))
			continue
		}
		answered[chal.Realm] = true
		creds = append(creds, cred.String())
	}
	if len(creds) == 0 {
		return errors.Join(errs...)
	}

	var kept []sip.Header
	for _, h := range req.GetHeaders(credName) {
		if c, err := digest.ParseCredentials(h.Value()); err != nil || !answered[c.Realm] {
			kept = append(kept, h)
		}
	}
	for _, h := range req.GetHeaders(credName) {
		req.RemoveHeader(h.Name())
	}
	for _, h := range kept {
		req.AppendHeader(h)
	}
	for _, c := range creds {
		req.AppendHeader(sip.NewHeader(credName, c))
	}
	return nil
}
