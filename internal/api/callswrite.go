package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/voice"
)

// Limits of Twilio's Create Call.
const (
	defaultCallTimeout = 60  // seconds of ringing
	maxCallTimeout     = 600 // seconds
	maxTwiml           = 4000
	maxSendDigits      = 32
	// maxCallerID bounds a caller ID given for a SIP call.
	maxCallerID = 128
)

// progressEvents are the values of StatusCallbackEvent.
var progressEvents = []string{"initiated", "ringing", "answered", "completed"}

// updateWait bounds how long POST .../Calls/{Sid}.json waits for a call to
// act on Status=completed|canceled before answering with what is stored.
const updateWait = 10 * time.Second

// form reads single form values, trimmed.
type form map[string][]string

// raw is a value as sent (Twiml keeps its whitespace).
func (f form) raw(name string) string {
	if v := f[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (f form) get(name string) string {
	if v := f[name]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// createCall serves POST .../Calls.json: Twilio's Create Call. The call is
// recorded as queued and placed in the background; its progress reaches the
// StatusCallback and the call record.
func (s *server) createCall(r *request) error {
	c, err := s.parseCreateCall(r, form(r.PostForm))
	if err != nil {
		return err
	}
	if s.live == nil {
		return s.internal(r, errors.New("no interpreter to place calls"))
	}
	call, err := s.live.Place(r.ctx(), c)
	if errors.Is(err, voice.ErrClosed) {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: "switchboard is shutting down: no new calls"}
	}
	if err != nil {
		return s.internal(r, err)
	}
	s.writeJSON(r, http.StatusCreated, toCallJSON(call))
	return nil
}

// parseCreateCall validates Create Call's parameters into the call to place.
func (s *server) parseCreateCall(r *request, f form) (voice.Call, error) {
	c := voice.Call{Account: r.acct, Direction: store.DirectionOutboundAPI}

	to, err := s.parseTo(f.get("To"))
	if err != nil {
		return c, err
	}
	// From, or CallerId, as Twilio's libraries also send it.
	from := f.get("From")
	if from == "" {
		from = f.get("CallerId")
	}
	if from, err = s.parseFrom(r, "From", from, to); err != nil {
		return c, err
	}
	c.To, c.From = to, from

	// Url or Twiml, exactly one. (Twilio's reference says Url wins when
	// both are given; a document silently dropped hides a mistake, so both
	// are refused, as Update Call refuses them.)
	c.URL, c.Twiml = f.get("Url"), twimlParam(f)
	switch {
	case c.URL != "" && c.Twiml != "":
		return c, badRequest(CodeInvalidCallURL, "Url and Twiml are mutually exclusive: give one")
	case c.URL == "" && c.Twiml == "" && f.get("ApplicationSid") != "":
		return c, badRequest(CodeInvalidCallURL, "ApplicationSid is not supported by switchboard: give Url or Twiml")
	case c.URL == "" && c.Twiml == "":
		return c, badRequest(CodeInvalidCallURL, "Url or Twiml is required: the TwiML to run when the call is answered")
	case c.URL != "" && !validURL(c.URL):
		return c, badRequest(CodeInvalidCallURL, "Url is not a valid URL: %s (want an absolute http or https URL)", c.URL)
	case utf8.RuneCountInString(c.Twiml) > maxTwiml:
		return c, badRequest(CodeTwimlTooLong, "Twiml size exceeded maximum allowed value of %d characters", maxTwiml)
	}
	if c.Method, err = methodParam(f, "Method"); err != nil {
		return c, err
	}
	if c.FallbackURL, c.FallbackMethod, err = urlParam(f, "FallbackUrl", "FallbackMethod", CodeInvalidCallURL); err != nil {
		return c, err
	}
	if c.StatusCallback, c.StatusCallbackMethod, err = urlParam(f, "StatusCallback", "StatusCallbackMethod", CodeInvalidStatusCallback); err != nil {
		return c, err
	}
	if c.StatusCallbackEvents, err = listParam(f, "StatusCallbackEvent", progressEvents, CodeInvalidStatusCallbackEvent); err != nil {
		return c, err
	}

	timeout := defaultCallTimeout
	if v := f.get("Timeout"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxCallTimeout {
			return c, badRequest(CodeInvalidParameter, "Timeout must be a whole number of seconds from 1 to %d, not %q", maxCallTimeout, v)
		}
		timeout = n
	}
	if v := f.get("TimeLimit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, badRequest(CodeInvalidParameter, "TimeLimit must be a positive whole number of seconds, not %q", v)
		}
		c.TimeLimit = time.Duration(n) * time.Second
	}
	if v := f.get("SendDigits"); v != "" {
		if len(v) > maxSendDigits || strings.Trim(v, "0123456789*#ABCDabcdwW") != "" {
			return c, badRequest(CodeInvalidParameter, "SendDigits must be up to %d of 0-9 * # A-D, w (a half-second pause) and W (a second), not %q", maxSendDigits, v)
		}
		// A-D in either case; w and W are different pauses.
		c.SendDigits = strings.Map(func(r rune) rune {
			if 'a' <= r && r <= 'd' {
				return r - 'a' + 'A'
			}
			return r
		}, v)
	}
	if v := f.get("Record"); v != "" {
		on, ok := parseBool(v)
		if !ok {
			return c, badRequest(CodeInvalidParameter, "Record must be true or false, not %q", v)
		}
		if on {
			o, err := parseCallRecordingOptions(f)
			if err != nil {
				return c, err
			}
			o.Trim = "trim-silence" // Create Call's default
			if v := f.get("Trim"); v != "" {
				o.Trim = v
			}
			c.Record = &o
		}
	}
	switch v := f.get("MachineDetection"); v {
	case "", "Enable", "DetectMessageEnd":
		// Given with SendDigits, Twilio ignores it.
		if c.SendDigits == "" {
			c.MachineDetection = v
		}
	default:
		return c, badRequest(CodeInvalidMachineDetection, "MachineDetection must be Enable or DetectMessageEnd, not %q", v)
	}
	if v := f.get("AsyncAmd"); v != "" {
		if _, ok := parseBool(v); !ok {
			return c, badRequest(CodeInvalidParameter, "AsyncAmd must be true or false, not %q", v)
		}
	}
	c.Dial = voice.DialRequest{
		To: to, From: from, Timeout: time.Duration(timeout) * time.Second,
		Username: f.get("SipAuthUsername"), Password: f.get("SipAuthPassword"),
	}
	return c, nil
}

// parseTo validates the To of a call to place (Create Call, Create
// Participant): a SIP URI (udp or tcp), or an E.164 number when there is a
// trunk, returned in its canonical form.
func (s *server) parseTo(to string) (string, error) {
	switch lower := strings.ToLower(to); {
	case to == "":
		return "", badRequest(CodeToMissing, "A 'To' phone number, SIP address or client identifier is required")
	case strings.HasPrefix(lower, "client:"):
		return "", badRequest(CodeInvalidTo, "Invalid 'To': %s: calling client identities needs a registrar, which switchboard does not have yet", to)
	case strings.HasPrefix(lower, "sip:"), strings.HasPrefix(lower, "sips:"):
		if err := validSIPTarget(to); err != "" {
			return "", badRequest(CodeInvalidTo, "Invalid 'To' SIP address %s: %s", to, err)
		}
		return to, nil
	}
	e164, ok := normalizePhoneNumber(to)
	if !ok || !strings.HasPrefix(e164, "+") {
		return "", badRequest(CodeInvalidTo, "The 'To' number %s is not a valid phone number, SIP URI (sip:user@host) or client identifier", to)
	}
	if s.trunk == "" {
		return "", badRequest(CodeToUnreachable, "The 'To' phone number %s cannot be reached: switchboard has no trunk for phone numbers (start it with --trunk)", to)
	}
	return e164, nil
}

// parseFrom validates the caller ID of a call to place to to (as parseTo
// returned it): any caller ID for a SIP call; for a phone number, one of the
// account's numbers, as Twilio requires a number it owns. name is the
// parameter (From, CallerId), for the messages.
func (s *server) parseFrom(r *request, name, from, to string) (string, error) {
	switch {
	case from == "":
		return "", badRequest(CodeFromMissing, "A '%s' phone number is required", name)
	case strings.HasPrefix(strings.ToLower(to), "sip"):
		// A phone number, as written with spaces or dashes, is E.164.
		if e164, ok := normalizePhoneNumber(from); ok && strings.HasPrefix(e164, "+") {
			return e164, nil
		}
		if !validCallerID(from) {
			return "", badRequest(CodeInvalidFrom, "Invalid '%s' %q: a caller ID for a SIP call is up to %d of A-Z a-z 0-9 + - _ . @ :, or a phone number", name, from, maxCallerID)
		}
		return from, nil
	}
	e164, ok := normalizePhoneNumber(from)
	if !ok || !strings.HasPrefix(e164, "+") {
		return "", badRequest(CodeInvalidFrom, "The '%s' number %s is not a valid phone number", name, from)
	}
	owned, err := s.ownsNumber(r.ctx(), r.acct.SID, e164)
	if err != nil {
		return "", s.internal(r, err)
	}
	if !owned {
		return "", badRequest(CodeFromNotVerified, "The '%s' number %s is not one of this account's phone numbers", name, e164)
	}
	return e164, nil
}

// twimlParam is the Twiml parameter as sent; one of only whitespace is none.
func twimlParam(f form) string {
	v := f.raw("Twiml")
	if strings.TrimSpace(v) == "" {
		return ""
	}
	return v
}

// validSIPTarget checks a SIP URI to call: sip:user@host or sip:host, with
// ;transport=udp|tcp at most, up to 255 characters before its headers.
func validSIPTarget(to string) string {
	base, _, _ := strings.Cut(to, "?")
	switch {
	case strings.HasPrefix(strings.ToLower(to), "sips:"):
		return "sips (TLS) is not offered"
	case len(base) > 255:
		return "longer than 255 characters"
	case strings.ContainsAny(to, " \t\r\n<>\""):
		return "it contains spaces or characters a SIP URI cannot hold"
	}
	rest := base[len("sip:"):]
	hostPart := rest
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		hostPart = rest[i+1:]
	}
	host, params, _ := strings.Cut(hostPart, ";")
	if host == "" || strings.HasPrefix(host, ":") {
		return "no host"
	}
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(k, "transport") && !strings.EqualFold(v, "udp") && !strings.EqualFold(v, "tcp") {
			return "transport must be udp or tcp"
		}
	}
	return ""
}

// validCallerID reports whether s may be the caller ID of a SIP call:
// letters, digits and + - _ . @ : without spaces.
func validCallerID(s string) bool {
	if s == "" || len(s) > maxCallerID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("+-_.@:", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// ownsNumber reports whether the account has the phone number.
func (s *server) ownsNumber(ctx context.Context, accountSID, phone string) (bool, error) {
	n, err := s.st.FindNumber(ctx, phone)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return n.AccountSID == accountSID, nil
}

// methodParam reads a GET/POST parameter (default POST).
func methodParam(f form, name string) (string, error) {
	v := f.get(name)
	if v == "" {
		return http.MethodPost, nil
	}
	m, ok := normalizeMethod(v)
	if !ok {
		return "", badRequest(CodeInvalidMethod, "%s must be GET or POST, not %q", name, v)
	}
	return m, nil
}

// urlParam reads an optional URL and its method.
func urlParam(f form, urlName, methodName string, code int) (string, string, error) {
	u := f.get(urlName)
	if u != "" && !validURL(u) {
		return "", "", badRequest(code, "%s is not a valid URL: %s (want an absolute http or https URL)", urlName, u)
	}
	m, err := methodParam(f, methodName)
	return u, m, err
}

// listParam reads a parameter that may be repeated or hold several values
// separated by spaces or commas, each one of allowed.
func listParam(f form, name string, allowed []string, code int) ([]string, error) {
	var out []string
	for _, item := range f[name] {
		for _, v := range strings.FieldsFunc(item, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }) {
			v = strings.ToLower(v)
			if !slices.Contains(allowed, v) {
				return nil, badRequest(code, "%s must be among %s, not %q", name, strings.Join(allowed, ", "), v)
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out, nil
}

// updateCall serves POST .../Calls/{Sid}.json: a call in progress (or
// queued, or ringing) is redirected (Url, Twiml), hung up
// (Status=completed), canceled (Status=canceled) or reconfigured; a call
// that has ended gets 21220.
func (s *server) updateCall(r *request) error {
	c, err := s.findCall(r, instanceSID(r))
	if err != nil {
		return err
	}
	f := form(r.PostForm)
	var u voice.Update
	switch st := store.CallStatus(strings.ToLower(f.get("Status"))); st {
	case "":
	case store.CallCompleted, store.CallCanceled:
		u.Status = st
	default:
		return badRequest(CodeInvalidParameter, "Status must be completed or canceled, not %q", f.get("Status"))
	}
	u.URL, u.Twiml = f.get("Url"), twimlParam(f)
	switch {
	case u.URL != "" && u.Twiml != "":
		return badRequest(CodeInvalidCallURL, "Url and Twiml are mutually exclusive: give one")
	case u.URL != "" && !validURL(u.URL):
		return badRequest(CodeInvalidCallURL, "Url is not a valid URL: %s (want an absolute http or https URL)", u.URL)
	case utf8.RuneCountInString(u.Twiml) > maxTwiml:
		return badRequest(CodeTwimlTooLong, "Twiml size exceeded maximum allowed value of %d characters", maxTwiml)
	}
	if u.Method, err = methodParam(f, "Method"); err != nil {
		return err
	}
	if u.FallbackURL, u.FallbackMethod, err = urlParam(f, "FallbackUrl", "FallbackMethod", CodeInvalidCallURL); err != nil {
		return err
	}
	if u.StatusCallback, u.StatusCallbackMethod, err = urlParam(f, "StatusCallback", "StatusCallbackMethod", CodeInvalidStatusCallback); err != nil {
		return err
	}
	if v := f.get("TimeLimit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return badRequest(CodeInvalidParameter, "TimeLimit must be a positive whole number of seconds, not %q", v)
		}
		u.TimeLimit = time.Duration(n) * time.Second
	}
	if c.Status.Final() || s.live == nil {
		return errCallNotInProgress(c)
	}
	ctx, cancel := context.WithTimeout(r.ctx(), updateWait)
	defer cancel()
	err = s.live.Update(ctx, r.acct.SID, c.SID, u)
	switch {
	case errors.Is(err, voice.ErrCallNotFound):
		return errCallNotInProgress(c)
	case errors.Is(err, voice.ErrBusy):
		return &Error{Status: http.StatusTooManyRequests, Code: CodeTooManyRequests, Message: "Too many changes to call " + c.SID + " are pending; try again"}
	case errors.Is(err, context.DeadlineExceeded):
	case err != nil:
		return s.internal(r, err)
	}
	if c, err = s.st.Call(r.ctx(), r.acct.SID, c.SID); err != nil {
		return s.internal(r, err)
	}
	s.writeJSON(r, http.StatusOK, toCallJSON(c))
	return nil
}

// errCallNotInProgress is Twilio's 21220 for a change to a call that has
// ended (or is not running on this server).
func errCallNotInProgress(c store.Call) *Error {
	return badRequest(CodeInvalidCallState, "Call is not in-progress. Cannot redirect. (call %s is %s)", c.SID, c.Status)
}

// deleteCall serves DELETE .../Calls/{Sid}.json: a finished call's record
// goes, with its events and notifications; a call still running is refused.
func (s *server) deleteCall(r *request) error {
	callSID := instanceSID(r)
	if !sid.Valid(sid.Call, callSID) {
		return errNotFound(r.URL.Path)
	}
	err := s.st.DeleteCall(r.ctx(), r.acct.SID, callSID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(r.URL.Path)
	case errors.Is(err, store.ErrConflict):
		return badRequest(CodeInvalidCallState, "Call %s is still in progress: only a call that has ended can be deleted", callSID)
	case err != nil:
		return s.internal(r, err)
	}
	r.w.WriteHeader(http.StatusNoContent)
	return nil
}
