package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/sip"
	"github.com/switchboard-voice/switchboard/internal/voice"
)

// dialer places the interpreter's outbound calls through the SIP server: a
// sip: URI is called directly, a phone number through the trunk (with the
// trunk's digest credentials unless the call brings its own).
type dialer struct {
	sip   *sip.Server
	trunk trunk
}

var _ voice.Dialer = (*dialer)(nil)

// callerID turns Twilio's From into what the INVITE's From names: a user
// part ("+14155550100", "alice"), or a SIP URI for "alice@example.com" and
// "sip:...". A "client:alice" caller is the user alice.
func callerID(from string) string {
	lower := strings.ToLower(from)
	switch {
	case strings.HasPrefix(lower, "sip:"), strings.HasPrefix(lower, "sips:"):
		return from
	case strings.HasPrefix(lower, "client:"):
		return from[len("client:"):]
	case strings.Contains(from, "@"):
		return "sip:" + from
	}
	return from
}

// trunk is where calls to phone numbers go.
type trunk struct {
	uri                gosip.Uri // the trunk's URI without its credentials
	set                bool
	username, password string
}

// parseTrunk reads --trunk (sip:[user[:password]@]host[:port][;transport=tcp])
// and the credentials given as flags, which win over those of the URI.
func parseTrunk(raw, user, password string) (trunk, error) {
	if raw == "" {
		return trunk{}, nil
	}
	var u gosip.Uri
	if err := gosip.ParseUri(raw, &u); err != nil {
		return trunk{}, fmt.Errorf("--trunk %q: %w", raw, err)
	}
	if u.Host == "" {
		return trunk{}, fmt.Errorf("--trunk %q: no host", raw)
	}
	t := trunk{set: true, username: u.User, password: u.Password}
	u.User, u.Password = "", ""
	t.uri = u
	if user != "" {
		t.username, t.password = user, password
	}
	return t, nil
}

// target is the Request-URI for a call to a phone number: the number as
// the user part of the trunk's URI.
func (t trunk) target(number string) string {
	u := t.uri
	u.User = number
	return u.String()
}

func (d *dialer) Dial(ctx context.Context, r voice.DialRequest) (voice.Leg, error) {
	req := sip.DialRequest{
		URI: r.To, From: callerID(r.From), Timeout: r.Timeout,
		Username: r.Username, Password: r.Password,
	}
	if !strings.HasPrefix(strings.ToLower(r.To), "sip:") {
		if !d.trunk.set {
			return nil, &voice.DialError{Code: 404, Reason: "Not Found", Err: errors.New("no trunk for phone numbers")}
		}
		req.URI = d.trunk.target(r.To)
		if req.Username == "" {
			req.Username, req.Password = d.trunk.username, d.trunk.password
		}
	}
	rang := false
	req.OnProgress = func(code int, _ string) {
		if !rang && code > 100 && r.OnRinging != nil {
			rang = true
			r.OnRinging()
		}
	}
	if r.OnEarlyMedia != nil {
		req.OnEarlyMedia = func(m *media.Session) { r.OnEarlyMedia(m) }
	}
	leg, err := d.sip.Dial(ctx, req)
	if err == nil {
		return legOf{leg}, nil
	}
	de := &voice.DialError{Err: err}
	var se *sip.DialError
	if errors.As(err, &se) {
		de.Code, de.Reason, de.CallID, de.Headers = se.Code, se.Reason, se.CallID, headersOf(se.Headers)
	}
	switch {
	case errors.Is(err, sip.ErrNoAnswer):
		de.NoAnswer = true
	case se != nil && se.Code == 408 && se.Err != nil && !errors.Is(err, context.Canceled):
		// No response at all until the INVITE transaction timed out (RFC
		// 3261 §8.1.3.1: a local 408): nobody is there.
		de.Unreachable = true
	case se != nil && se.Code == 503 && se.Err != nil:
		de.Unreachable = true // the request could not be sent
	}
	switch {
	case errors.Is(err, sip.ErrBadURI):
		de.Code, de.Reason = 400, "Bad Request"
	case errors.Is(err, sip.ErrTLSUnsupported):
		de.Unreachable = true // nothing was sent: TLS is not offered
	}
	return nil, de
}

// headersOf converts SIP headers to the interpreter's.
func headersOf(hs []sip.Header) []voice.Header {
	out := make([]voice.Header, len(hs))
	for i, h := range hs {
		out[i] = voice.Header{Name: h.Name, Value: h.Value}
	}
	return out
}
