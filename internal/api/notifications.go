package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// notificationJSON is Twilio's Notification resource as a list shows it
// (api.v2010.account.notification and .call.call_notification in the OpenAPI
// spec): a list leaves out the request variables and the response headers and
// body, which can be large.
type notificationJSON struct {
	AccountSID    string  `json:"account_sid"`
	APIVersion    string  `json:"api_version"`
	CallSID       *string `json:"call_sid"`
	DateCreated   string  `json:"date_created"`
	DateUpdated   string  `json:"date_updated"`
	ErrorCode     *string `json:"error_code"`
	Log           string  `json:"log"`
	MessageDate   string  `json:"message_date"`
	MessageText   string  `json:"message_text"`
	MoreInfo      string  `json:"more_info"`
	RequestMethod *string `json:"request_method"`
	RequestURL    string  `json:"request_url"`
	SID           string  `json:"sid"`
	URI           string  `json:"uri"`
}

// notificationInstanceJSON is a fetched Notification
// (api.v2010.account.notification-instance): every field, with what
// switchboard sent to the app and what the app answered.
type notificationInstanceJSON struct {
	AccountSID       string  `json:"account_sid"`
	APIVersion       string  `json:"api_version"`
	CallSID          *string `json:"call_sid"`
	DateCreated      string  `json:"date_created"`
	DateUpdated      string  `json:"date_updated"`
	ErrorCode        *string `json:"error_code"`
	Log              string  `json:"log"`
	MessageDate      string  `json:"message_date"`
	MessageText      string  `json:"message_text"`
	MoreInfo         string  `json:"more_info"`
	RequestMethod    *string `json:"request_method"`
	RequestURL       string  `json:"request_url"`
	RequestVariables string  `json:"request_variables"`
	ResponseBody     string  `json:"response_body"`
	ResponseHeaders  string  `json:"response_headers"`
	SID              string  `json:"sid"`
	URI              string  `json:"uri"`
}

// notificationURI is the notification's uri: under the account, or under
// its call when reached through the call's Notifications list (as Twilio
// writes them).
func notificationURI(n store.Notification, underCall bool) string {
	if underCall {
		return callsPath(n.AccountSID) + "/" + n.CallSID + "/Notifications/" + n.SID + ".json"
	}
	return prefix + "/Accounts/" + n.AccountSID + "/Notifications/" + n.SID + ".json"
}

func toNotificationJSON(n store.Notification, underCall bool) notificationJSON {
	var code *string
	if n.ErrorCode != 0 {
		c := strconv.Itoa(n.ErrorCode)
		code = &c
	}
	return notificationJSON{
		AccountSID:    n.AccountSID,
		APIVersion:    n.APIVersion,
		CallSID:       nullIfEmpty(n.CallSID),
		DateCreated:   formatTime(n.DateCreated),
		DateUpdated:   formatTime(n.DateUpdated),
		ErrorCode:     code,
		Log:           strconv.Itoa(n.Log),
		MessageDate:   formatTime(n.MessageDate),
		MessageText:   n.MessageText,
		MoreInfo:      n.MoreInfo,
		RequestMethod: nullIfEmpty(n.RequestMethod),
		RequestURL:    n.RequestURL,
		SID:           n.SID,
		URI:           notificationURI(n, underCall),
	}
}

func toNotificationInstanceJSON(n store.Notification, underCall bool) notificationInstanceJSON {
	l := toNotificationJSON(n, underCall)
	return notificationInstanceJSON{
		AccountSID:       l.AccountSID,
		APIVersion:       l.APIVersion,
		CallSID:          l.CallSID,
		DateCreated:      l.DateCreated,
		DateUpdated:      l.DateUpdated,
		ErrorCode:        l.ErrorCode,
		Log:              l.Log,
		MessageDate:      l.MessageDate,
		MessageText:      l.MessageText,
		MoreInfo:         l.MoreInfo,
		RequestMethod:    l.RequestMethod,
		RequestURL:       l.RequestURL,
		RequestVariables: n.RequestVariables,
		ResponseBody:     n.ResponseBody,
		ResponseHeaders:  n.ResponseHeaders,
		SID:              l.SID,
		URI:              l.URI,
	}
}

// notificationFilters are the Notifications list's filters, in the order
// page URIs repeat them (Twilio's: MessageDate before Log).
var notificationFilters = []string{"MessageDate", "MessageDate<", "MessageDate>", "Log"}

// parseNotificationFilter turns the list request's filters into a store
// filter; ok is false when the dates cannot select anything.
func parseNotificationFilter(accountSID, callSID string, lr listRequest) (f store.NotificationFilter, ok bool, err error) {
	f = store.NotificationFilter{AccountSID: accountSID, CallSID: callSID}
	var dates dateRange
	for _, kv := range lr.filters {
		name, v := kv[0], kv[1]
		if name == "Log" {
			// Twilio's log levels: 0 is ERROR, 1 is WARNING.
			if v != "0" && v != "1" {
				return f, false, badRequest(CodeInvalidParameter, "Log must be 0 (errors) or 1 (warnings), not %q", v)
			}
			level := int(v[0] - '0')
			f.Log = &level
			continue
		}
		op := dateOn
		if len(name) > len("MessageDate") {
			op = dateOp(name[len("MessageDate")])
		}
		if !dates.apply(op, v) {
			return f, false, badRequest(CodeInvalidParameter, "%s must be a date (YYYY-MM-DD) or an RFC 3339 date-time, not %q", name, v)
		}
	}
	var empty bool
	f.After, f.Before, empty = dates.bounds()
	return f, !empty, nil
}

// listNotifications serves GET .../Notifications.json and, for a call,
// GET .../Calls/{CallSid}/Notifications.json: newest first, filtered by Log
// and MessageDate. A call that is not the account's gets 20404.
func (s *server) listNotifications(r *request) error {
	callSID := r.PathValue("CallSid")
	if callSID != "" {
		if _, err := s.findCall(r, callSID); err != nil {
			return err
		}
	}
	lr, err := parseList(r, sid.Notification, notificationFilters...)
	if err != nil {
		return err
	}
	lr.desc = true
	f, ok, err := parseNotificationFilter(r.acct.SID, callSID, lr)
	if err != nil {
		return err
	}
	var ns []store.Notification
	var more bool
	if ok {
		ns, more, err = s.st.ListNotifications(r.ctx(), f, lr.storePage())
		if err != nil {
			return s.internal(r, err)
		}
	}
	items := make([]notificationJSON, len(ns))
	for i, n := range ns {
		items[i] = toNotificationJSON(n, callSID != "")
	}
	var first, last store.Cursor
	if len(ns) > 0 {
		first = store.Cursor{DateCreated: ns[0].DateCreated, SID: ns[0].SID}
		last = store.Cursor{DateCreated: ns[len(ns)-1].DateCreated, SID: ns[len(ns)-1].SID}
	}
	s.writeJSON(r, http.StatusOK, lr.envelope(r.URL.Path, "notifications", items, len(ns), first, last, more))
	return nil
}

// fetchNotification serves GET .../Notifications/{Sid}.json and
// GET .../Calls/{CallSid}/Notifications/{Sid}.json; through a call, the
// notification must be that call's.
func (s *server) fetchNotification(r *request) error {
	callSID := r.PathValue("CallSid")
	if callSID != "" {
		if _, err := s.findCall(r, callSID); err != nil {
			return err
		}
	}
	ns := instanceSID(r)
	if !sid.Valid(sid.Notification, ns) {
		return errNotFound(r.URL.Path)
	}
	n, err := s.st.Notification(r.ctx(), r.acct.SID, ns)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(r.URL.Path)
	case err != nil:
		return s.internal(r, err)
	}
	if callSID != "" && n.CallSID != callSID {
		return errNotFound(r.URL.Path)
	}
	s.writeJSON(r, http.StatusOK, toNotificationInstanceJSON(n, callSID != ""))
	return nil
}
