package sip_test

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/sip"
)

// Digest authentication of outbound calls (RFC 3261 §22, RFC 2617): Dial
// answers a 401 or 407 challenge with DialRequest.Username and Password, at
// most twice. The far end here is a raw UDP user agent server that checks the
// credentials itself, computing the digest from the header's own fields.

const (
	digestUser  = "kate"
	digestPass  = "pa55"
	digestRealm = "pbx.example"
)

// authUAS reads, in order, the requests the server under test sends to a raw
// UA. A wait keeps the requests it was not asking for for later waits, and
// retransmissions of INVITEs already handed out are dropped.
type authUAS struct {
	t       *testing.T
	u       *rawUA
	pending []*gosip.Request
	invites map[string]bool // branches of the INVITEs handed out
}

func newAuthUAS(t *testing.T, srv *sip.Server) *authUAS {
	t.Helper()
	return &authUAS{t: t, u: newRawUA(t, srv.Addr()), invites: map[string]bool{}}
}

// wait returns the first request, pending or new, that satisfies match,
// failing after 5s.
func (a *authUAS) wait(what string, match func(*gosip.Request) bool) *gosip.Request {
	a.t.Helper()
	return a.waitWithin(5*time.Second, what, match)
}

// waitWithin is wait, failing after d.
func (a *authUAS) waitWithin(d time.Duration, what string, match func(*gosip.Request) bool) *gosip.Request {
	a.t.Helper()
	for i, r := range a.pending {
		if match(r) {
			a.pending = append(a.pending[:i], a.pending[i+1:]...)
			return r
		}
	}
	deadline := time.After(d)
	for {
		select {
		case m := <-a.u.msgs:
			r, ok := m.(*gosip.Request)
			if !ok || (r.Method == gosip.INVITE && a.invites[branchOf(r)]) {
				continue
			}
			if match(r) {
				return r
			}
			a.pending = append(a.pending, r)
		case <-deadline:
			var got []string
			for _, r := range a.pending {
				got = append(got, r.StartLine())
			}
			a.t.Fatalf("no %s within %v; got %q", what, d, got)
			return nil
		}
	}
}

// invite returns the next new INVITE (not a retransmission).
func (a *authUAS) invite() *gosip.Request {
	a.t.Helper()
	r := a.wait("new INVITE", func(r *gosip.Request) bool {
		return r.Method == gosip.INVITE && !a.invites[branchOf(r)]
	})
	a.invites[branchOf(r)] = true
	return r
}

// ackOfFailure returns the ACK of a non-2xx final response to inv: sent by
// the INVITE's client transaction, on its branch, with its CSeq number (RFC
// 3261 §17.1.1.3).
func (a *authUAS) ackOfFailure(inv *gosip.Request) *gosip.Request {
	a.t.Helper()
	return a.ackOfFailureWithin(5*time.Second, inv)
}

// ackOfFailureWithin is ackOfFailure, failing after d.
func (a *authUAS) ackOfFailureWithin(d time.Duration, inv *gosip.Request) *gosip.Request {
	a.t.Helper()
	ack := a.waitWithin(d, "ACK of the final response to CSeq "+inv.CSeq().Value(), func(r *gosip.Request) bool {
		return r.Method == gosip.ACK && branchOf(r) == branchOf(inv)
	})
	if ack.CSeq().SeqNo != inv.CSeq().SeqNo || ack.CallID().Value() != inv.CallID().Value() {
		a.t.Errorf("ACK CSeq %q Call-ID %q; want the INVITE's %d, %q", ack.CSeq().Value(), ack.CallID().Value(), inv.CSeq().SeqNo, inv.CallID().Value())
	}
	return ack
}

// ackOf2xx returns the ACK of the 2xx to inv: a transaction of its own (RFC
// 3261 §13.2.2.4), with the INVITE's CSeq number.
func (a *authUAS) ackOf2xx(inv *gosip.Request) *gosip.Request {
	a.t.Helper()
	return a.wait("ACK of the 200 to CSeq "+inv.CSeq().Value(), func(r *gosip.Request) bool {
		return r.Method == gosip.ACK && branchOf(r) != branchOf(inv) && r.CSeq().SeqNo == inv.CSeq().SeqNo
	})
}

// noNewInvite fails if a new INVITE has already arrived (pending, or read
// from the socket). It does not wait: it is called once Dial has returned,
// when every INVITE the Dial sent was answered.
func (a *authUAS) noNewInvite() {
	a.t.Helper()
	for drained := false; !drained; {
		select {
		case m := <-a.u.msgs:
			if r, ok := m.(*gosip.Request); ok {
				a.pending = append(a.pending, r)
			}
		default:
			drained = true
		}
	}
	for _, r := range a.pending {
		if r.Method == gosip.INVITE && !a.invites[branchOf(r)] {
			a.t.Errorf("unexpected INVITE after Dial gave up:\n%s", r)
		}
	}
}

type digestDialed struct {
	leg *sip.Leg
	err error
}

// dialAsync runs srv.Dial on a goroutine.
func dialAsync(t *testing.T, srv *sip.Server, r sip.DialRequest) <-chan digestDialed {
	ctx := testContext(t, 20*time.Second)
	got := make(chan digestDialed, 1)
	go func() {
		leg, err := srv.Dial(ctx, r)
		got <- digestDialed{leg, err}
	}()
	return got
}

// A digestChallenge is a 401 or 407 with its Digest challenge.
type digestChallenge struct {
	code      int
	nonce     string
	qop       string // the qop-options of the challenge; "" for none (RFC 2069 style)
	opaque    string
	algorithm string // "" for algorithm=MD5
	raw       string // when set, the challenge header's value as it is
	noHeader  bool   // send the response without its challenge header
	header    string // when set, the name of the challenge header sent
}

func (c digestChallenge) reason() string {
	if c.code == 407 {
		return "Proxy Authentication Required"
	}
	return "Unauthorized"
}

// headers are the header names of the challenge and of the credentials.
func (c digestChallenge) headers() (challenge, credentials string) {
	if c.code == 407 {
		return "Proxy-Authenticate", "Proxy-Authorization"
	}
	return "WWW-Authenticate", "Authorization"
}

func (c digestChallenge) value() string {
	if c.raw != "" {
		return c.raw
	}
	alg := c.algorithm
	if alg == "" {
		alg = "MD5"
	}
	v := fmt.Sprintf(`Digest realm=%q, nonce=%q, algorithm=%s`, digestRealm, c.nonce, alg)
	if c.qop != "" {
		v += fmt.Sprintf(`, qop=%q`, c.qop)
	}
	if c.opaque != "" {
		v += fmt.Sprintf(`, opaque=%q`, c.opaque)
	}
	return v
}

// send answers inv with the challenge.
func (c digestChallenge) send(a *authUAS, inv *gosip.Request) {
	name, _ := c.headers()
	if c.header != "" {
		name = c.header
	}
	var extra []gosip.Header
	if !c.noHeader {
		extra = append(extra, gosip.NewHeader(name, c.value()))
	}
	respondTo(a.u, inv, c.code, c.reason(), "", extra...)
}

// digestParam is one auth-param of a credentials header.
type digestParam struct {
	value  string
	quoted bool
}

// parseDigestCredentials parses the value of an Authorization or
// Proxy-Authorization header: "Digest" and comma-separated auth-params, each
// a token or a quoted string (RFC 2617 §3.2.2; no escapes are expected).
func parseDigestCredentials(v string) (map[string]digestParam, error) {
	if len(v) < 7 || !strings.EqualFold(v[:7], "Digest ") {
		return nil, fmt.Errorf("not Digest credentials: %q", v)
	}
	params := map[string]digestParam{}
	s := strings.TrimSpace(v[7:])
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("bad auth-param at %q", s)
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimSpace(s[eq+1:])
		var p digestParam
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted string at %q", s)
			}
			p = digestParam{value: s[1 : 1+end], quoted: true}
			s = s[end+2:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			p = digestParam{value: strings.TrimSpace(s[:end])}
			s = s[end:]
		}
		if _, dup := params[key]; dup {
			return nil, fmt.Errorf("auth-param %s twice", key)
		}
		params[key] = p
		s = strings.TrimSpace(s)
		if s != "" {
			if s[0] != ',' {
				return nil, fmt.Errorf("want a comma at %q", s)
			}
			s = strings.TrimSpace(s[1:])
		}
	}
	return params, nil
}

func md5Hex(parts ...string) string {
	sum := md5.Sum([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(sum[:])
}

// digestResponse is the request-digest of RFC 2617 §3.2.2.1 for MD5:
// KD(H(A1), nonce ":" H(A2)) without qop, KD(H(A1), nonce ":" nc ":" cnonce
// ":" qop ":" H(A2)) with qop=auth, where A1 = user ":" realm ":" password and
// A2 = method ":" digest-uri.
func digestResponse(user, realm, password, method, uri, nonce, qop, nc, cnonce string) string {
	ha1 := md5Hex(user, realm, password)
	ha2 := md5Hex(method, uri)
	if qop == "" {
		return md5Hex(ha1, nonce, ha2)
	}
	return md5Hex(ha1, nonce, nc, cnonce, qop, ha2)
}

// The helper itself, on the example of RFC 2617 §3.5.
func TestDigestResponseRFC2617Example(t *testing.T) {
	got := digestResponse("Mufasa", "testrealm@host.com", "Circle Of Life", "GET", "/dir/index.html",
		"dcd98b7102dd2f0e8b11d0f600bfb0c093", "auth", "00000001", "0a4f113b")
	if want := "6629fae49393a05397450978507c4ef1"; got != want {
		t.Fatalf("digest %s, want %s", got, want)
	}
}

var lhex8 = regexp.MustCompile(`^[0-9a-f]{8}$`)

// checkCredentials checks that req answers ch with the credentials of user
// and password: one header of the right name, the challenge's realm, nonce
// and opaque, the Request-URI as digest-uri (RFC 3261 §22.4), qop=auth with
// nc and cnonce when the challenge offered it, and the response computed
// from those (a server checks it with the digest-uri of the header).
func checkCredentials(t *testing.T, req *gosip.Request, ch digestChallenge, user, password string) {
	t.Helper()
	_, name := ch.headers()
	hs := req.GetHeaders(name)
	if len(hs) != 1 {
		t.Errorf("%s carries %d %s headers, want 1:\n%s", req.StartLine(), len(hs), name, req)
		return
	}
	p, err := parseDigestCredentials(hs[0].Value())
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	get := func(k string) string { return p[k].value }
	for k, want := range map[string]string{"username": user, "realm": digestRealm, "nonce": ch.nonce, "opaque": ch.opaque} {
		if got := get(k); got != want {
			t.Errorf("%s %s=%q, want %q", name, k, got, want)
		}
	}
	if alg := get("algorithm"); alg != "" && !strings.EqualFold(alg, "MD5") {
		t.Errorf("%s algorithm=%q, want MD5", name, alg)
	}
	// RFC 2617 §3.2.2, RFC 3261 §22.4: quoted strings, but for algorithm, qop
	// and nc.
	for k, pp := range p {
		wantQuoted := k != "algorithm" && k != "qop" && k != "nc"
		if pp.quoted != wantQuoted {
			t.Errorf("%s %s=%q: quoted %v, want %v", name, k, pp.value, pp.quoted, wantQuoted)
		}
	}
	uri := get("uri")
	if uri != req.Recipient.String() {
		t.Errorf("%s uri=%q, want the Request-URI %q (RFC 3261 §22.4)", name, uri, req.Recipient.String())
	}
	qop, nc, cnonce := get("qop"), get("nc"), get("cnonce")
	if ch.qop == "" {
		if qop != "" || nc != "" {
			t.Errorf("%s qop=%q nc=%q for a challenge without qop", name, qop, nc)
		}
	} else {
		if qop != "auth" {
			t.Errorf("%s qop=%q, want auth (challenge offered %q)", name, qop, ch.qop)
		}
		if !lhex8.MatchString(nc) || nc != "00000001" {
			t.Errorf("%s nc=%q, want 00000001 (first use of the nonce)", name, nc)
		}
		if cnonce == "" {
			t.Errorf("%s has no cnonce", name)
		}
	}
	want := digestResponse(user, digestRealm, password, string(req.Method), uri, ch.nonce, qop, nc, cnonce)
	if got := get("response"); got != want {
		t.Errorf("%s response=%q, want %q (user %q, password %q, %s %s, qop %q nc %q cnonce %q)",
			name, got, want, user, password, req.Method, uri, qop, nc, cnonce)
	}
	if ch.qop != "" && get("response") == digestResponse(user, digestRealm, password, string(req.Method), uri, ch.nonce, "", "", "") {
		t.Errorf("%s response ignores qop, nc and cnonce", name)
	}
}

// checkRetry checks that retry is the INVITE first sent again with
// credentials (RFC 3261 §22.2, §8.1.3.5): a new transaction (branch) with the
// next CSeq, the same Call-ID, From tag, Request-URI, To without a tag, and
// the same offer.
func checkRetry(t *testing.T, first, retry *gosip.Request) {
	t.Helper()
	if got, want := retry.CSeq().SeqNo, first.CSeq().SeqNo+1; got != want || retry.CSeq().MethodName != gosip.INVITE {
		t.Errorf("retry CSeq %q, want %d INVITE", retry.CSeq().Value(), want)
	}
	if retry.CallID().Value() != first.CallID().Value() {
		t.Errorf("retry Call-ID %q, want %q", retry.CallID().Value(), first.CallID().Value())
	}
	tag1, _ := first.From().Params.Get("tag")
	tag2, _ := retry.From().Params.Get("tag")
	if tag1 == "" || tag1 != tag2 {
		t.Errorf("retry From tag %q, first %q: want the same", tag2, tag1)
	}
	if tag, ok := retry.To().Params.Get("tag"); ok {
		t.Errorf("retry To carries the challenge's tag %q", tag)
	}
	if retry.Recipient.String() != first.Recipient.String() {
		t.Errorf("retry Request-URI %q, want %q", retry.Recipient.String(), first.Recipient.String())
	}
	if branchOf(retry) == branchOf(first) {
		t.Errorf("retry reuses the branch %q of the challenged INVITE", branchOf(first))
	}
	if len(retry.Body()) == 0 || string(retry.Body()) != string(first.Body()) {
		t.Errorf("retry offer differs:\n%s\n---\n%s", retry.Body(), first.Body())
	}
}

// dialThroughChallenges dials uri with kate's credentials; the raw UAS
// answers the INVITEs with the challenges in turn, checking each retry, then
// the last INVITE with 200 and a PCMU answer. The Leg is checked and hung up.
func dialThroughChallenges(t *testing.T, uri string, challenges ...digestChallenge) {
	srv := startServer(t, nil, serverOpts{})
	a := newAuthUAS(t, srv)
	got := dialAsync(t, srv, sip.DialRequest{URI: strings.ReplaceAll(uri, "UAS", a.u.addr()), Username: digestUser, Password: digestPass})

	inv := a.invite()
	first := inv
	for _, h := range []string{"Authorization", "Proxy-Authorization"} {
		if inv.GetHeader(h) != nil {
			t.Errorf("first INVITE carries %s before any challenge", h)
		}
	}
	for i, ch := range challenges {
		ch.send(a, inv)
		a.ackOfFailure(inv)
		retry := a.invite()
		checkRetry(t, inv, retry)
		// The credentials for each challenger are sent again: the latest
		// challenge of each header.
		latest := map[int]digestChallenge{}
		for _, c := range challenges[:i+1] {
			latest[c.code] = c
		}
		for _, c := range latest {
			checkCredentials(t, retry, c, digestUser, digestPass)
		}
		inv = retry
	}

	respondTo(a.u, inv, 200, "OK", a.u.newCall("").offer("sendrecv", "0 101"))
	a.ackOf2xx(inv)
	d := within(t, got, 5*time.Second, "Dial result")
	if d.err != nil {
		t.Fatalf("dial: %v", d.err)
	}
	leg := d.leg
	if leg.CallID() != first.CallID().Value() || leg.State() != sip.StateConfirmed || leg.Codec() != media.PCMU || leg.Inbound() {
		t.Errorf("leg call-id %q state %s codec %v inbound %v; want %q, confirmed, PCMU, outbound",
			leg.CallID(), leg.State(), leg.Codec(), leg.Inbound(), first.CallID().Value())
	}
	hungUp := make(chan error, 1)
	go func() { hungUp <- leg.Hangup(testContext(t, 5*time.Second)) }()
	bye := a.wait("BYE", func(r *gosip.Request) bool { return r.Method == gosip.BYE })
	if bye.CallID().Value() != first.CallID().Value() || bye.CSeq().SeqNo <= inv.CSeq().SeqNo {
		t.Errorf("BYE Call-ID %q CSeq %q; want %q and a CSeq above the INVITE's %d",
			bye.CallID().Value(), bye.CSeq().Value(), first.CallID().Value(), inv.CSeq().SeqNo)
	}
	if err := within(t, hungUp, 6*time.Second, "hangup"); err != nil {
		t.Fatalf("hangup: %v", err)
	}
	within(t, leg.Done(), 5*time.Second, "end of the leg")
}

// A UAS challenges the INVITE with 401 and WWW-Authenticate; the retry
// carries Authorization with the right digest, for a challenge without qop
// (RFC 2069 style) and one with qop="auth" (RFC 2617 §3.2.2.1: nc and cnonce
// enter the digest), and the call goes through.
func TestDialDigest401(t *testing.T) {
	t.Run("no qop", func(t *testing.T) {
		dialThroughChallenges(t, "sip:+14155550100@UAS", digestChallenge{code: 401, nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093"})
	})
	t.Run("qop auth", func(t *testing.T) {
		dialThroughChallenges(t, "sip:+14155550100@UAS", digestChallenge{code: 401, nonce: "a5f3c9e1b2d4", qop: "auth", opaque: "5ccc069c403ebaf9f0171e9517f40e41"})
	})
}

// A proxy challenges the INVITE with 407 and Proxy-Authenticate; the retry
// carries Proxy-Authorization with the right digest. Behind the proxy the
// UAS may challenge as well (407 then 401): the third INVITE carries both
// credentials, that is the two tries Dial allows.
func TestDialDigest407(t *testing.T) {
	t.Run("no qop", func(t *testing.T) {
		dialThroughChallenges(t, "sip:alice@UAS", digestChallenge{code: 407, nonce: "proxy-nonce-1"})
	})
	t.Run("qop auth", func(t *testing.T) {
		dialThroughChallenges(t, "sip:alice@UAS", digestChallenge{code: 407, nonce: "proxy-nonce-2", qop: "auth,auth-int", opaque: "op4que"})
	})
	t.Run("then 401", func(t *testing.T) {
		dialThroughChallenges(t, "sip:alice@UAS",
			digestChallenge{code: 407, nonce: "proxy-nonce-3"},
			digestChallenge{code: 401, nonce: "uas-nonce-3", qop: "auth"})
	})
}

// The digest-uri is the Request-URI (RFC 3261 §22.4), parameters included.
func TestDialDigestURIParams(t *testing.T) {
	dialThroughChallenges(t, "sip:+14155550100@UAS;user=phone", digestChallenge{code: 401, nonce: "nonce-params"})
}

// With a wrong password the far end keeps challenging: Dial tries twice with
// credentials, then gives up with a DialError of the last response, without
// another INVITE. A UAS that answers the credentials with 403 ends the dial
// at once.
func TestDialDigestWrongPassword(t *testing.T) {
	for _, tc := range []struct {
		name     string
		code     int // the challenge
		final    int // the answer to the first retry, if not a challenge
		invites  int // INVITEs Dial sends
		wantCode int
	}{
		{"401 every time", 401, 0, 3, 401},
		{"407 every time", 407, 0, 3, 407},
		{"403 to the credentials", 401, 403, 2, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, nil, serverOpts{})
			a := newAuthUAS(t, srv)
			got := dialAsync(t, srv, sip.DialRequest{URI: "sip:bob@" + a.u.addr(), Username: digestUser, Password: "wrong"})
			var first, prev *gosip.Request
			var prevCh digestChallenge
			for n := 1; n <= tc.invites; n++ {
				inv := a.invite()
				if first == nil {
					first = inv
				} else {
					checkRetry(t, prev, inv)
					checkCredentials(t, inv, prevCh, digestUser, "wrong")
				}
				if n == tc.invites && tc.final != 0 {
					respondTo(a.u, inv, tc.final, "Forbidden", "")
				} else {
					prevCh = digestChallenge{code: tc.code, nonce: fmt.Sprintf("nonce-%d", n), qop: "auth"}
					prevCh.send(a, inv)
				}
				a.ackOfFailure(inv)
				prev = inv
			}
			var d digestDialed
			select {
			case d = <-got:
			case <-time.After(5 * time.Second):
				// Another INVITE, or none: either way Dial did not give up.
				t.Fatalf("Dial did not give up after %d INVITEs", tc.invites)
			}
			var de *sip.DialError
			if !errors.As(d.err, &de) || de.Code != tc.wantCode || de.CallID != first.CallID().Value() {
				t.Fatalf("dial: %v (%#v); want a DialError %d with the Call-ID %q", d.err, de, tc.wantCode, first.CallID().Value())
			}
			if d.leg != nil {
				t.Errorf("failed Dial returned a leg")
			}
			a.noNewInvite()
			waitCalls(t, srv, 0)
		})
	}
}

// Without a password there is nothing to answer a challenge with: the 401
// (407) ends the Dial with its code, after one INVITE. So do challenges that
// cannot be answered: no challenge header, a 407 with a WWW-Authenticate
// only, Basic, an unknown algorithm; their DialError carries the cause.
func TestDialDigestNoPassword(t *testing.T) {
	for _, tc := range []struct {
		name     string
		username string
		password string
		ch       digestChallenge
		wantErr  bool // a cause in DialError.Err
	}{
		{"401 no credentials", "", "", digestChallenge{code: 401, nonce: "n1"}, false},
		{"401 username only", digestUser, "", digestChallenge{code: 401, nonce: "n2"}, false},
		{"407 username only", digestUser, "", digestChallenge{code: 407, nonce: "n3"}, false},
		{"401 without WWW-Authenticate", digestUser, digestPass, digestChallenge{code: 401, noHeader: true}, true},
		{"407 with WWW-Authenticate", digestUser, digestPass, digestChallenge{code: 407, nonce: "n5", header: "WWW-Authenticate"}, true},
		{"401 Basic", digestUser, digestPass, digestChallenge{code: 401, raw: `Basic realm="pbx.example"`}, true},
		{"401 unknown algorithm", digestUser, digestPass, digestChallenge{code: 401, nonce: "n4", algorithm: "SHA-999"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, nil, serverOpts{})
			a := newAuthUAS(t, srv)
			got := dialAsync(t, srv, sip.DialRequest{URI: "sip:bob@" + a.u.addr(), Username: tc.username, Password: tc.password})
			inv := a.invite()
			tc.ch.send(a, inv)
			a.ackOfFailure(inv)
			d := within(t, got, 5*time.Second, "Dial result")
			var de *sip.DialError
			if !errors.As(d.err, &de) || de.Code != tc.ch.code || de.Reason != tc.ch.reason() || de.CallID != inv.CallID().Value() {
				t.Fatalf("dial: %v; want a DialError %d %s with the Call-ID %q", d.err, tc.ch.code, tc.ch.reason(), inv.CallID().Value())
			}
			if (de.Err != nil) != tc.wantErr {
				t.Errorf("DialError cause %v; want one: %v", de.Err, tc.wantErr)
			}
			a.noNewInvite()
			waitCalls(t, srv, 0)
		})
	}
}

// The client transaction of the challenged INVITE stays in Completed and
// acknowledges a retransmission of the 401 again (RFC 3261 §17.1.1.2: the
// first ACK may have been lost), while the retry goes on.
func TestDialDigestChallengeRetransmitted(t *testing.T) {
	srv := startServer(t, nil, serverOpts{})
	a := newAuthUAS(t, srv)
	got := dialAsync(t, srv, sip.DialRequest{URI: "sip:bob@" + a.u.addr(), Username: digestUser, Password: digestPass})
	inv := a.invite()
	ch := digestChallenge{code: 401, nonce: "retransmitted"}
	ch.send(a, inv)
	a.ackOfFailure(inv)
	retry := a.invite()
	checkCredentials(t, retry, ch, digestUser, digestPass)
	// The 401 again, as if the ACK had been lost. sipgo's client transaction
	// (sip.ClientTx.actAckResend, its guard against ACK loops) holds the ACK
	// of a retransmitted final response for T2 (4s) before sending it, hence
	// the longer wait.
	ch.send(a, inv)
	a.ackOfFailureWithin(gosip.T2+5*time.Second, inv)

	respondTo(a.u, retry, 486, "Busy Here", "")
	a.ackOfFailure(retry)
	var de *sip.DialError
	if d := within(t, got, 5*time.Second, "Dial result"); !errors.As(d.err, &de) || de.Code != 486 {
		t.Fatalf("dial: %v, want 486", d.err)
	}
}
