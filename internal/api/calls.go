package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// callJSON is Twilio's Call resource (api.v2010.account.call in the OpenAPI
// spec), every field included, in the spec's order. Fields switchboard has no
// source for hold what Twilio shows for a call without that feature: price
// null (switchboard does not bill), price_unit "USD", queue_time "0" (calls
// are not rate-limited into a queue), group_sid and trunk_sid null.
type callJSON struct {
	SID             string            `json:"sid"`
	DateCreated     string            `json:"date_created"`
	DateUpdated     string            `json:"date_updated"`
	ParentCallSID   *string           `json:"parent_call_sid"`
	AccountSID      string            `json:"account_sid"`
	To              string            `json:"to"`
	ToFormatted     string            `json:"to_formatted"`
	From            string            `json:"from"`
	FromFormatted   string            `json:"from_formatted"`
	PhoneNumberSID  *string           `json:"phone_number_sid"`
	Status          string            `json:"status"`
	StartTime       *string           `json:"start_time"`
	EndTime         *string           `json:"end_time"`
	Duration        *string           `json:"duration"`
	Price           *string           `json:"price"`
	PriceUnit       string            `json:"price_unit"`
	Direction       string            `json:"direction"`
	AnsweredBy      *string           `json:"answered_by"`
	APIVersion      string            `json:"api_version"`
	ForwardedFrom   *string           `json:"forwarded_from"`
	GroupSID        *string           `json:"group_sid"`
	CallerName      *string           `json:"caller_name"`
	QueueTime       string            `json:"queue_time"`
	TrunkSID        *string           `json:"trunk_sid"`
	URI             string            `json:"uri"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
}

// callSubresources are a call's subresource_uris, as the spec lists them;
// notifications, recordings and events are served (notifications.go,
// callrecordings.go, callevents.go), the others answer 404.
var callSubresources = [...][2]string{
	{"notifications", "Notifications.json"},
	{"recordings", "Recordings.json"},
	{"payments", "Payments.json"},
	{"events", "Events.json"},
	{"siprec", "Siprec.json"},
	{"streams", "Streams.json"},
	{"transcriptions", "Transcriptions.json"},
	{"user_defined_message_subscriptions", "UserDefinedMessageSubscriptions.json"},
	{"user_defined_messages", "UserDefinedMessages.json"},
}

func callsPath(accountSID string) string {
	return prefix + "/Accounts/" + accountSID + "/Calls"
}

func callURI(accountSID, callSID string) string {
	return callsPath(accountSID) + "/" + callSID + ".json"
}

// formatAddress is Twilio's to_formatted/from_formatted: a North American
// E.164 number as "(415) 555-0100"; anything else (other countries' numbers,
// SIP user names, sip: and client: addresses) as it is.
func formatAddress(a string) string { return defaultFriendlyName(a) }

// optTime renders a time that may be unset: null when zero.
func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}

func toCallJSON(c store.Call) callJSON {
	base := callsPath(c.AccountSID) + "/" + c.SID + "/"
	subs := make(map[string]string, len(callSubresources))
	for _, kv := range callSubresources {
		subs[kv[0]] = base + kv[1]
	}
	// duration is null while the call lasts; a call that ended has one,
	// "0" when it was never answered (busy, no-answer, canceled, failed),
	// as Twilio reports those.
	var duration *string
	if c.Status.Final() {
		d := strconv.Itoa(c.Duration)
		duration = &d
	}
	return callJSON{
		SID:             c.SID,
		DateCreated:     formatTime(c.DateCreated),
		DateUpdated:     formatTime(c.DateUpdated),
		ParentCallSID:   nullIfEmpty(c.ParentCallSID),
		AccountSID:      c.AccountSID,
		To:              c.To,
		ToFormatted:     formatAddress(c.To),
		From:            c.From,
		FromFormatted:   formatAddress(c.From),
		PhoneNumberSID:  nullIfEmpty(c.PhoneNumberSID),
		Status:          string(c.Status),
		StartTime:       optTime(c.StartTime),
		EndTime:         optTime(c.EndTime),
		Duration:        duration,
		PriceUnit:       "USD",
		Direction:       c.Direction,
		AnsweredBy:      nullIfEmpty(c.AnsweredBy),
		APIVersion:      c.APIVersion,
		ForwardedFrom:   nullIfEmpty(c.ForwardedFrom),
		CallerName:      nullIfEmpty(c.CallerName),
		QueueTime:       "0",
		URI:             callURI(c.AccountSID, c.SID),
		SubresourceURIs: subs,
	}
}

// callFilters are the Calls list's filters, in the order page URIs repeat
// them (the order twilio-go sends them).
var callFilters = []string{
	"To", "From", "ParentCallSid", "Status",
	"StartTime", "StartTime<", "StartTime>",
	"EndTime", "EndTime<", "EndTime>",
}

// parseCallFilter turns the list request's filters into a store filter. ok is
// false when the date filters cannot select anything.
func parseCallFilter(accountSID string, lr listRequest) (f store.CallFilter, ok bool, err error) {
	f.AccountSID = accountSID
	var started, ended dateRange
	for _, kv := range lr.filters {
		name, v := kv[0], kv[1]
		switch name {
		case "To", "From":
			// A number given with spaces or dashes matches its E.164 form;
			// SIP names and addresses match as given.
			if p, valid := normalizePhoneNumber(v); valid {
				v = p
			}
			if name == "To" {
				f.To = v
			} else {
				f.From = v
			}
		case "ParentCallSid":
			if !sid.Valid(sid.Call, v) {
				return f, false, badRequest(CodeInvalidParameter, "ParentCallSid must be a Call SID (CA followed by 32 hex digits), not %q", v)
			}
			f.ParentCallSID = v
		case "Status":
			st := store.CallStatus(strings.ToLower(v))
			if !st.Valid() {
				return f, false, badRequest(CodeInvalidParameter, "Status must be one of queued, ringing, in-progress, completed, busy, failed, no-answer, canceled, not %q", v)
			}
			f.Status = st
		default: // StartTime*, EndTime*
			r, field := &started, "StartTime"
			if strings.HasPrefix(name, "EndTime") {
				r, field = &ended, "EndTime"
			}
			op := dateOn
			if len(name) > len(field) {
				op = dateOp(name[len(field)])
			}
			if !r.apply(op, v) {
				return f, false, badRequest(CodeInvalidParameter, "%s must be a date (YYYY-MM-DD) or an RFC 3339 date-time, not %q", name, v)
			}
		}
	}
	var empty1, empty2 bool
	f.StartedAfter, f.StartedBefore, empty1 = started.bounds()
	f.EndedAfter, f.EndedBefore, empty2 = ended.bounds()
	return f, !empty1 && !empty2, nil
}

// listCalls serves GET .../Calls.json: the account's calls, newest first
// (date_created descending, as Twilio lists them), filtered by To, From,
// ParentCallSid, Status, StartTime and EndTime (see datefilter.go).
func (s *server) listCalls(r *request) error {
	lr, err := parseList(r, sid.Call, callFilters...)
	if err != nil {
		return err
	}
	lr.desc = true
	f, ok, err := parseCallFilter(r.acct.SID, lr)
	if err != nil {
		return err
	}
	var cs []store.Call
	var more bool
	if ok {
		cs, more, err = s.st.ListCalls(r.ctx(), f, lr.storePage())
		if err != nil {
			return s.internal(r, err)
		}
	}
	items := make([]callJSON, len(cs))
	for i, c := range cs {
		items[i] = toCallJSON(c)
	}
	var first, last store.Cursor
	if len(cs) > 0 {
		first = store.Cursor{DateCreated: cs[0].DateCreated, SID: cs[0].SID}
		last = store.Cursor{DateCreated: cs[len(cs)-1].DateCreated, SID: cs[len(cs)-1].SID}
	}
	s.writeJSON(r, http.StatusOK, lr.envelope(r.URL.Path, "calls", items, len(cs), first, last, more))
	return nil
}

// findCall returns the account's call with this SID, or a 404 naming the
// requested path.
func (s *server) findCall(r *request, callSID string) (store.Call, error) {
	if !sid.Valid(sid.Call, callSID) {
		return store.Call{}, errNotFound(r.URL.Path)
	}
	c, err := s.st.Call(r.ctx(), r.acct.SID, callSID)
	if errors.Is(err, store.ErrNotFound) && s.live != nil && s.live.WaitRecorded(r.ctx(), callSID) {
		// An incoming call whose record was being saved as its webhook
		// left: the app may ask for it while it answers.
		c, err = s.st.Call(r.ctx(), r.acct.SID, callSID)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Call{}, errNotFound(r.URL.Path)
	case err != nil:
		return store.Call{}, s.internal(r, err)
	}
	return c, nil
}

// fetchCall serves GET .../Calls/{Sid}.json.
func (s *server) fetchCall(r *request) error {
	c, err := s.findCall(r, instanceSID(r))
	if err != nil {
		return err
	}
	s.writeJSON(r, http.StatusOK, toCallJSON(c))
	return nil
}
