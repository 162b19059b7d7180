package webhook

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// APIVersion is the ApiVersion parameter of every request.
const APIVersion = "2010-04-01"

// Directions, the values of the Direction parameter.
const (
	DirectionInbound      = "inbound"
	DirectionOutboundAPI  = "outbound-api"
	DirectionOutboundDial = "outbound-dial"
)

// CallbackSourceCallProgress is the CallbackSource of a call status callback.
const CallbackSourceCallProgress = "call-progress-events"

// TimestampLayout is the layout of the Timestamp parameter: RFC 2822 in GMT,
// e.g. "Fri, 20 Aug 2010 01:13:42 +0000".
const TimestampLayout = "Mon, 02 Jan 2006 15:04:05 -0700"

// ApplicationErrorMessage is what Twilio says to the caller before hanging up
// when neither the voice URL nor the fallback URL gave a usable answer.
const ApplicationErrorMessage = "We are sorry, an application error has occurred. Goodbye."

// CallParams are the parameters of the request Twilio makes for a call's TwiML
// (the seed's request parameter table, and the SIP parameters of <Sip> and SIP
// Domains). Values returns them under Twilio's names.
type CallParams struct {
	CallSID    string // CallSid
	AccountSID string // AccountSid
	From       string // From (E.164, client:name or a SIP URI); also sent as Caller
	To         string // To; also sent as Called
	CallStatus string // CallStatus: queued, ringing, in-progress, completed, busy, failed, no-answer, canceled
	APIVersion string // ApiVersion; APIVersion when empty
	Direction  string // Direction: inbound, outbound-api, outbound-dial

	ForwardedFrom string // ForwardedFrom: only for forwarded calls
	CallerName    string // CallerName: only with VoiceCallerIdLookup
	ParentCallSID string // ParentCallSid: only for a leg created by another call

	// Geographic data of the numbers, sent when known. Twilio sends each as
	// From*/To* and again as Caller*/Called*.
	FromCity, FromState, FromZip, FromCountry string
	ToCity, ToState, ToZip, ToCountry         string

	// SIP parameters, for calls that arrived over SIP.
	SIPDomain    string // SipDomain: host part of the Request-URI
	SIPDomainSID string // SipDomainSid
	SIPUsername  string // SipUsername: the digest user name that authenticated
	SIPCallID    string // SipCallId: Call-ID of the INVITE
	SIPSourceIP  string // SipSourceIp: source address of the INVITE
	// SIPHeaders are the INVITE's headers; only X- headers (and
	// User-to-User) are passed, each as SipHeader_<name>, several values of
	// one header joined by commas as RFC 3261 section 7.3.1 allows.
	SIPHeaders map[string][]string

	// Extra holds verb-specific parameters (Digits, SpeechResult,
	// DialCallStatus, RecordingUrl...), added as given.
	Extra url.Values
}

// Values returns the parameters under Twilio's names, omitting optional ones
// that are empty.
func (p CallParams) Values() url.Values {
	v := make(url.Values, 24)
	set := func(name, val string) {
		if val != "" {
			v[name] = []string{val}
		}
	}
	set("CallSid", p.CallSID)
	set("AccountSid", p.AccountSID)
	set("From", p.From)
	set("Caller", p.From)
	set("To", p.To)
	set("Called", p.To)
	set("CallStatus", p.CallStatus)
	if p.APIVersion != "" {
		set("ApiVersion", p.APIVersion)
	} else {
		set("ApiVersion", APIVersion)
	}
	set("Direction", p.Direction)
	set("ForwardedFrom", p.ForwardedFrom)
	set("CallerName", p.CallerName)
	set("ParentCallSid", p.ParentCallSID)
	for _, g := range [...]struct{ suffix, from, to string }{
		{"City", p.FromCity, p.ToCity},
		{"State", p.FromState, p.ToState},
		{"Zip", p.FromZip, p.ToZip},
		{"Country", p.FromCountry, p.ToCountry},
	} {
		set("From"+g.suffix, g.from)
		set("Caller"+g.suffix, g.from)
		set("To"+g.suffix, g.to)
		set("Called"+g.suffix, g.to)
	}
	set("SipDomain", p.SIPDomain)
	set("SipDomainSid", p.SIPDomainSID)
	set("SipUsername", p.SIPUsername)
	set("SipCallId", p.SIPCallID)
	set("SipSourceIp", p.SIPSourceIP)
	for name, vals := range p.SIPHeaders {
		if !passSIPHeader(name) || len(vals) == 0 {
			continue
		}
		set("SipHeader_"+name, strings.Join(vals, ","))
	}
	for name, vals := range p.Extra {
		if len(vals) > 0 {
			v[name] = append([]string(nil), vals...)
		}
	}
	return v
}

// passSIPHeader reports whether a SIP header is passed to the app: custom
// X- headers and User-to-User.
func passSIPHeader(name string) bool {
	if len(name) > 2 && (name[0] == 'X' || name[0] == 'x') && name[1] == '-' {
		return validHeaderName(name)
	}
	return strings.EqualFold(name, "User-to-User")
}

// validHeaderName reports whether name is an RFC 3261 token.
func validHeaderName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// StatusEvent is one call progress event for a status callback
// (the seed's StatusCallback parameters and <Sip>'s statusCallbackEvent
// parameters). The interpreter adds SequenceNumber, Timestamp and
// CallbackSource when it queues the callback.
type StatusEvent struct {
	// Call carries the standard parameters; Call.CallStatus is the status
	// the event reports (initiated, ringing, in-progress, completed, busy,
	// failed, no-answer, canceled).
	Call CallParams
	// Final marks the completed event: CallDuration (and Duration, whole
	// minutes rounded up) are sent only then.
	Final        bool
	CallDuration time.Duration
	// Recording of the whole call, when there is one (completed event only).
	RecordingURL      string
	RecordingSID      string
	RecordingDuration time.Duration
	// SIPResponseCode is the final SIP response of an outbound SIP leg, 0 when
	// none.
	SIPResponseCode int
}

// Values returns the event's parameters (without SequenceNumber, Timestamp
// and CallbackSource, which the interpreter assigns).
func (e StatusEvent) Values() url.Values {
	v := e.Call.Values()
	if e.Final {
		secs := int64(e.CallDuration / time.Second)
		v.Set("CallDuration", strconv.FormatInt(secs, 10))
		v.Set("Duration", strconv.FormatInt((secs+59)/60, 10))
		if e.RecordingURL != "" {
			v.Set("RecordingUrl", e.RecordingURL)
		}
		if e.RecordingSID != "" {
			v.Set("RecordingSid", e.RecordingSID)
		}
		if e.RecordingURL != "" || e.RecordingSID != "" {
			v.Set("RecordingDuration", strconv.FormatInt(int64(e.RecordingDuration/time.Second), 10))
		}
	}
	if e.SIPResponseCode != 0 {
		v.Set("SipResponseCode", strconv.Itoa(e.SIPResponseCode))
	}
	return v
}

// FormatTimestamp formats t as Twilio's Timestamp parameter (RFC 2822, GMT).
func FormatTimestamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }
