package sip

import (
	"net/url"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// A Party is one end of a call as a SIP header names it (From or To).
type Party struct {
	// DisplayName is the quoted name before the URI, if any ("Alice").
	DisplayName string
	// User is the user part of the URI, unescaped ("alice", "+14155550100").
	User string
	// Host is the host part of the URI, with the port if one was given.
	Host string
	// URI is the whole address without header parameters ("sip:alice@example.com").
	URI string
}

// ID is how Twilio names a caller or callee: a phone number in E.164 form
// ("+14155550100") when the user part is a telephone number, otherwise the
// user part itself ("alice"), and the host when there is no user part.
func (p Party) ID() string {
	if n, ok := E164(p.User); ok {
		return n
	}
	if p.User != "" {
		return p.User
	}
	return p.Host
}

// partyOf reads a name-addr (From, To) into a Party.
func partyOf(displayName string, u *sip.Uri) Party {
	p := Party{DisplayName: displayName, User: unescapeUser(u.User), Host: u.Host}
	if u.Port > 0 {
		p.Host = u.HostPort()
	}
	plain := sip.Uri{Scheme: u.Scheme, User: u.User, Host: u.Host, Port: u.Port}
	p.URI = plain.String()
	return p
}

func unescapeUser(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// E164 reports whether user is a telephone number and returns it in E.164
// form: a '+' and 8 to 15 digits (ITU-T E.164 §6), with the visual separators
// of RFC 3966 (-.() and spaces) removed. A number written without the '+'
// ("14155550100") is taken as international when it has at least 8 digits, the
// way trunks commonly send it; shorter digit strings (extensions such as
// "1000") and national numbers with a trunk prefix ("0312345678") are not
// numbers in this sense: ok is false.
func E164(user string) (string, bool) {
	if user == "" {
		return "", false
	}
	plus := user[0] == '+'
	s := user
	if plus {
		s = s[1:]
	}
	var b strings.Builder
	b.Grow(len(s) + 1)
	b.WriteByte('+')
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
			digits++
		case c == '-' || c == '.' || c == '(' || c == ')' || c == ' ':
		default:
			return "", false
		}
	}
	out := b.String()
	if digits < 8 || digits > 15 || out[1] == '0' {
		// No country code starts with 0: a leading 0 is a national trunk
		// prefix, not an international number.
		return "", false
	}
	return out, true
}

// sipHeaderParams adds the incoming INVITE's X- headers (and User-to-User) as
// Twilio names them in webhooks: SipHeader_<name>, one value per header.
func sipHeaderParams(v url.Values, headers []Header) {
	for _, h := range headers {
		v.Add("SipHeader_"+h.Name, h.Value)
	}
}

// A Header is one header field of a SIP message, as received.
type Header struct {
	Name  string
	Value string
}

// isCustomHeader reports whether a header is one an application may set and
// read: an X- header, or User-to-User (RFC 7433), as Twilio allows.
func isCustomHeader(name string) bool {
	if len(name) > 2 && (name[0] == 'X' || name[0] == 'x') && name[1] == '-' {
		return true
	}
	return strings.EqualFold(name, "User-to-User")
}
