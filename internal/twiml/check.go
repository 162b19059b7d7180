package twiml

import (
	"net/url"
	"regexp"
	"strings"
)

// Value checks that a `twiml` tag cannot express. Each names the Twilio page
// (or seed) the rule comes from.

// validVoice: <Say voice> is man, woman, alice, or a Polly.* / Google.* voice
// (https://www.twilio.com/docs/voice/twiml/say/text-speech).
func validVoice(v string) bool {
	switch v {
	case "man", "woman", "alice":
		return true
	}
	for _, p := range []string{"Polly.", "Google."} {
		if rest, ok := strings.CutPrefix(v, p); ok {
			return rest != "" && !strings.ContainsAny(rest, " \t\r\n<>\"'&")
		}
	}
	return false
}

// languageTag is the shape of a BCP 47 tag as TwiML uses it (en-US, cmn-Hans-CN, yue-Hant-HK).
var languageTag = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

func validLanguage(s string) bool { return languageTag.MatchString(s) }

// validDigits: <Play digits> and <Number sendDigits> take 0-9, *, # and the
// pauses w (0.5 s) and W (1 s).
func validDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789*#wW", r) {
			return false
		}
	}
	return true
}

// validFinishOnKey: <Gather finishOnKey> is one key (0-9, #, *) or empty to
// disable it; <Record finishOnKey> is any set of those keys (any=true).
func validFinishOnKey(s string, any bool) bool {
	if !any && len(s) > 1 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789*#", r) {
			return false
		}
	}
	return true
}

// validSpeechTimeout: "auto" or a non-negative number of seconds.
func validSpeechTimeout(s string) bool {
	if s == "auto" {
		return true
	}
	if s == "" || len(s) > 9 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// validSpeechModel: the models <Gather speechModel> documents; the provider
// families (googlev2_*, deepgram_*) are open-ended.
func validSpeechModel(s string) bool {
	switch s {
	case "default", "numbers_and_commands", "phone_call", "experimental_conversations", "experimental_utterances":
		return true
	}
	for _, p := range []string{"googlev2_", "deepgram_"} {
		if rest, ok := strings.CutPrefix(s, p); ok && rest != "" && !strings.ContainsAny(rest, " \t\r\n") {
			return true
		}
	}
	return false
}

// validCallerID: a phone number, a client identity or, for SIP, "any
// alphanumeric string with +-_. and no spaces" (001_*); client:NAME and
// sip:user@host need ':' and '@' too.
func validCallerID(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("+-_.:@", r):
		default:
			return false
		}
	}
	return true
}

// validPhoneNumber: digits with an optional leading '+', and the separators
// people write (spaces, '-', '.', parentheses): "+15558675310", "415-123-4567".
// Between 3 and 15 digits (E.164 allows 15).
func validPhoneNumber(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return digits >= 3 && digits <= 15
}

// MaxSipURI and MaxSipHeaders are the <Sip> limits of 001_*: "the SIP URI itself
// must be under 255 chars, the headers must be under 1024 characters".
const (
	MaxSipURI     = 255
	MaxSipHeaders = 1024
)

var sipTransports = map[string]bool{"udp": true, "tcp": true, "tls": true}

// sipRegions are the region= values of the table in 001_*.
var sipRegions = map[string]bool{"us1": true, "us2": true, "ie1": true, "de1": true, "sg1": true, "jp1": true, "br1": true, "au1": true}

// headerName is an RFC 3261 token (section 25.1), the shape of a SIP header name.
var headerName = regexp.MustCompile(`^[A-Za-z0-9\-.!%*_+` + "`" + `'~]+$`)

// checkSipURI applies 001_*: a sip: (or sips:) URI, or user@host as Twilio's
// older examples write it, at most 255 characters before the headers and
// 1024 in them; transport udp, tcp or tls; region one of the table.
func (b *builder) checkSipURI(pos Pos, who, uri string) {
	if uri == "" {
		b.errorf(CodeSipURI, pos, "%s: a SIP URI is required", who)
		return
	}
	base, headers, _ := strings.Cut(uri, "?")
	if n := len([]rune(base)); n > MaxSipURI {
		b.errorf(CodeSipURI, pos, "%s: SIP URI is %d characters long, over the limit of %d", who, n, MaxSipURI)
		return
	}
	if n := len([]rune(headers)); n > MaxSipHeaders {
		b.errorf(CodeSipHeaderTooLong, pos, "%s: SIP URI headers are %d characters long, over the limit of %d", who, n, MaxSipHeaders)
	}
	rest := base
	lower := strings.ToLower(base)
	switch {
	case strings.HasPrefix(lower, "sip:"):
		rest = base[4:]
	case strings.HasPrefix(lower, "sips:"):
		rest = base[5:]
	case strings.Contains(lower, ":") && !strings.Contains(lower, "@"):
		b.errorf(CodeSipURI, pos, "%s: invalid SIP URI %q: must start with sip:", who, uri)
		return
	}
	hostPart, params, _ := strings.Cut(rest, ";")
	if i := strings.LastIndexByte(hostPart, '@'); i >= 0 {
		if i == 0 {
			b.errorf(CodeSipURI, pos, "%s: invalid SIP URI %q: empty user part", who, uri)
			return
		}
		hostPart = hostPart[i+1:]
	}
	if hostPart == "" || strings.ContainsAny(hostPart, " \t\r\n<>\"") {
		b.errorf(CodeSipURI, pos, "%s: invalid SIP URI %q: missing or malformed host", who, uri)
		return
	}
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		switch strings.ToLower(k) {
		case "transport":
			if !sipTransports[strings.ToLower(v)] {
				b.errorf(CodeSipURI, pos, "%s: invalid SIP URI %q: transport must be udp, tcp or tls", who, uri)
			}
		case "region":
			if !sipRegions[v] {
				b.errorf(CodeSipURI, pos, "%s: invalid SIP URI %q: unknown region %q", who, uri, v)
			}
		}
	}
	if headers == "" {
		return
	}
	for h := range strings.SplitSeq(headers, "&") {
		name, _, _ := strings.Cut(h, "=")
		if !headerName.MatchString(name) {
			b.errorf(CodeSipHeaderName, pos, "%s: invalid SIP header name %q", who, name)
		}
	}
}

// MaxParticipantLabel is the longest participantLabel (000_*: "max limit of 128 characters").
const MaxParticipantLabel = 128

var callSID = regexp.MustCompile(`^CA[0-9a-f]{32}$`)

func validCallSID(s string) bool { return callSID.MatchString(s) }

// participantLabelProblem applies 16023: at most 128 characters, not a call
// SID, no '/' (even as %2F). "" means the label is fine.
func participantLabelProblem(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len([]rune(s)) > MaxParticipantLabel:
		return "longer than 128 characters"
	case validCallSID(s):
		return "must not be a call SID"
	case strings.Contains(s, "/") || strings.Contains(strings.ToUpper(s), "%2F"):
		return "must not contain '/'"
	}
	return ""
}

// validStreamURL: Twilio streams to WebSockets over TLS only (wss://); a
// relative URL is resolved against the document's URL.
func validStreamURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	return u.Scheme == "" || strings.EqualFold(u.Scheme, "wss") || strings.EqualFold(u.Scheme, "ws")
}

// checkURL reports a URL attribute or text that is not a URL at all: one
// url.Parse refuses, or with spaces or control characters in it. Relative
// URLs are fine (resolved against the document's URL). Empty is not checked:
// the callers know whether their URL is optional.
func (b *builder) checkURL(pos Pos, who, what, s string, code int) {
	if s == "" {
		return
	}
	bad := strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
	if !bad {
		if _, err := url.Parse(s); err != nil {
			bad = true
		}
	}
	if bad {
		b.errorf(code, pos, "%s: invalid %s %q: not a valid URL", who, what, s)
	}
}
