package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/voice"
)

// The Queue and Member resources
// (https://www.twilio.com/docs/voice/api/queue-resource,
// https://www.twilio.com/docs/voice/api/member-resource): the queues of
// <Enqueue>, and the calls waiting in them.
//
//	POST   .../Queues.json                         create (FriendlyName, MaxSize)
//	GET    .../Queues.json                         list, oldest first
//	GET    .../Queues/{Sid}.json                   one queue, with current_size and average_wait_time
//	POST   .../Queues/{Sid}.json                   FriendlyName, MaxSize
//	DELETE .../Queues/{Sid}.json                   refused while calls wait in it
//	GET    .../Queues/{Sid}/Members.json           the calls waiting, front first
//	GET    .../Queues/{Sid}/Members/{CallSid|Front}.json
//	POST   .../Queues/{Sid}/Members/{CallSid|Front}.json   Url (+ Method): dequeue it to that TwiML

// LiveQueues is the interpreter's side of the queues: who waits in them,
// and dequeuing one. *voice.Interpreter implements it.
type LiveQueues interface {
	Members(accountSID, queueSID string) []voice.QueueMember
	Dequeue(ctx context.Context, q store.Queue, callSID string, u voice.Update) (voice.QueueMember, error)
}

// queueSIDPrefix is the prefix of a queue's SID.
const queueSIDPrefix = "QU"

type queueJSON struct {
	DateUpdated     string            `json:"date_updated"`
	CurrentSize     int               `json:"current_size"`
	FriendlyName    string            `json:"friendly_name"`
	URI             string            `json:"uri"`
	AccountSID      string            `json:"account_sid"`
	AverageWaitTime int               `json:"average_wait_time"`
	SID             string            `json:"sid"`
	DateCreated     string            `json:"date_created"`
	MaxSize         int               `json:"max_size"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
}

type memberJSON struct {
	CallSID      string `json:"call_sid"`
	DateEnqueued string `json:"date_enqueued"`
	Position     int    `json:"position"`
	URI          string `json:"uri"`
	WaitTime     int    `json:"wait_time"`
	QueueSID     string `json:"queue_sid"`
}

func queuesPath(accountSID string) string { return prefix + "/Accounts/" + accountSID + "/Queues" }

func (s *server) members(q store.Queue) []voice.QueueMember {
	if s.queues == nil {
		return nil
	}
	return s.queues.Members(q.AccountSID, q.SID)
}

func (s *server) toQueueJSON(q store.Queue) queueJSON {
	base := queuesPath(q.AccountSID) + "/" + q.SID
	return queueJSON{
		DateUpdated: formatTime(q.DateUpdated), CurrentSize: len(s.members(q)), FriendlyName: q.FriendlyName,
		URI: base + ".json", AccountSID: q.AccountSID, AverageWaitTime: q.AverageWaitTime(), SID: q.SID,
		DateCreated: formatTime(q.DateCreated), MaxSize: q.MaxSize,
		SubresourceURIs: map[string]string{"members": base + "/Members.json"},
	}
}

func toMemberJSON(q store.Queue, m voice.QueueMember) memberJSON {
	return memberJSON{
		CallSID: m.CallSID, DateEnqueued: formatTime(m.DateEnqueued), Position: m.Position,
		URI:      queuesPath(q.AccountSID) + "/" + q.SID + "/Members/" + m.CallSID + ".json",
		WaitTime: int(m.WaitTime.Seconds()), QueueSID: q.SID,
	}
}

// queueParams reads FriendlyName (required when create; at most 64
// characters) and MaxSize (1 to 5,000).
func queueParams(f form, create bool, q *store.Queue) error {
	name := f.get("FriendlyName")
	_, given := f["FriendlyName"]
	switch {
	case given || create:
		if name == "" || utf8.RuneCountInString(name) > voice.MaxQueueName {
			return badRequest(CodeInvalidParameter, "FriendlyName must be 1 to %d characters, not %q", voice.MaxQueueName, name)
		}
		q.FriendlyName = name
	}
	def := q.MaxSize
	if create {
		def = store.DefaultQueueMaxSize
	}
	n, err := intParam(f, "MaxSize", 1, store.MaxQueueMaxSize, def)
	if err != nil {
		return err
	}
	q.MaxSize = n
	return nil
}

// createQueue serves POST .../Queues.json.
func (s *server) createQueue(r *request) error {
	var q store.Queue
	if err := queueParams(form(r.PostForm), true, &q); err != nil {
		return err
	}
	now := s.now().UTC()
	q.SID, q.AccountSID, q.DateCreated, q.DateUpdated = s.newSID(queueSIDPrefix), r.acct.SID, now, now
	q, err := s.st.CreateQueue(r.ctx(), q)
	switch {
	case errors.Is(err, store.ErrConflict):
		return badRequest(CodeInvalidParameter, "A queue named %q already exists", q.FriendlyName)
	case err != nil:
		return s.internal(r, err)
	}
	s.writeJSON(r, http.StatusCreated, s.toQueueJSON(q))
	return nil
}

// listQueues serves GET .../Queues.json.
func (s *server) listQueues(r *request) error {
	lr, err := parseList(r, queueSIDPrefix)
	if err != nil {
		return err
	}
	qs, more, err := s.st.ListQueues(r.ctx(), store.QueueFilter{AccountSID: r.acct.SID}, lr.storePage())
	if err != nil {
		return s.internal(r, err)
	}
	items := make([]queueJSON, len(qs))
	for i, q := range qs {
		items[i] = s.toQueueJSON(q)
	}
	var first, last store.Cursor
	if len(qs) > 0 {
		first = store.Cursor{DateCreated: qs[0].DateCreated, SID: qs[0].SID}
		last = store.Cursor{DateCreated: qs[len(qs)-1].DateCreated, SID: qs[len(qs)-1].SID}
	}
	s.writeJSON(r, http.StatusOK, lr.envelope(r.URL.Path, "queues", items, len(qs), first, last, more))
	return nil
}

// findQueue returns the account's queue named by the path, or a 404.
func (s *server) findQueue(r *request, queueSID string) (store.Queue, error) {
	q, err := s.st.Queue(r.ctx(), r.acct.SID, queueSID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Queue{}, errNotFound(r.URL.Path)
	case err != nil:
		return store.Queue{}, s.internal(r, err)
	}
	return q, nil
}

// fetchQueue serves GET .../Queues/{Sid}.json.
func (s *server) fetchQueue(r *request) error {
	q, err := s.findQueue(r, instanceSID(r))
	if err != nil {
		return err
	}
	s.writeJSON(r, http.StatusOK, s.toQueueJSON(q))
	return nil
}

// updateQueue serves POST .../Queues/{Sid}.json.
func (s *server) updateQueue(r *request) error {
	q, err := s.findQueue(r, instanceSID(r))
	if err != nil {
		return err
	}
	f := form(r.PostForm)
	q, err = s.st.UpdateQueue(r.ctx(), r.acct.SID, q.SID, func(q *store.Queue) error {
		if err := queueParams(f, false, q); err != nil {
			return err
		}
		q.DateUpdated = s.now().UTC()
		return nil
	})
	var apiErr *Error
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.Is(err, store.ErrConflict):
		return badRequest(CodeInvalidParameter, "A queue named %q already exists", f.get("FriendlyName"))
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(r.URL.Path)
	case err != nil:
		return s.internal(r, err)
	}
	s.writeJSON(r, http.StatusOK, s.toQueueJSON(q))
	return nil
}

// deleteQueue serves DELETE .../Queues/{Sid}.json; a queue with calls
// waiting is not deleted, as on Twilio.
func (s *server) deleteQueue(r *request) error {
	q, err := s.findQueue(r, instanceSID(r))
	if err != nil {
		return err
	}
	if n := len(s.members(q)); n > 0 {
		return badRequest(CodeInvalidParameter, "Queue %s has %d members waiting: it cannot be deleted", q.SID, n)
	}
	switch err := s.st.DeleteQueue(r.ctx(), r.acct.SID, q.SID); {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(r.URL.Path)
	case err != nil:
		return s.internal(r, err)
	}
	r.w.WriteHeader(http.StatusNoContent)
	return nil
}

// listMembers serves GET .../Queues/{Sid}/Members.json.
func (s *server) listMembers(r *request) error {
	q, err := s.findQueue(r, r.PathValue("QueueSid"))
	if err != nil {
		return err
	}
	lr, err := parseList(r, "CA")
	if err != nil {
		return err
	}
	ms := s.members(q)
	// Members are few and live: a page is a slice of them, by position.
	start := min(lr.page*lr.pageSize, len(ms))
	end := min(start+lr.pageSize, len(ms))
	items := make([]memberJSON, 0, end-start)
	for _, m := range ms[start:end] {
		items = append(items, toMemberJSON(q, m))
	}
	s.writeJSON(r, http.StatusOK, lr.envelope(r.URL.Path, "queue_members", items, len(items), store.Cursor{}, store.Cursor{}, end < len(ms)))
	return nil
}

// member returns the member the path names (a call SID, or Front).
func (s *server) member(r *request) (store.Queue, voice.QueueMember, error) {
	q, err := s.findQueue(r, r.PathValue("QueueSid"))
	if err != nil {
		return q, voice.QueueMember{}, err
	}
	id := instanceSID(r)
	for _, m := range s.members(q) {
		if m.CallSID == id || (strings.EqualFold(id, "Front") && m.Position == 1) {
			return q, m, nil
		}
	}
	return q, voice.QueueMember{}, errNotFound(r.URL.Path)
}

// fetchMember serves GET .../Members/{CallSid or Front}.json.
func (s *server) fetchMember(r *request) error {
	q, m, err := s.member(r)
	if err != nil {
		return err
	}
	s.writeJSON(r, http.StatusOK, toMemberJSON(q, m))
	return nil
}

// updateMember serves POST .../Members/{CallSid or Front}.json: Url (and
// Method, default POST) dequeues the member, whose call goes on with that
// TwiML.
func (s *server) updateMember(r *request) error {
	q, m, err := s.member(r)
	if err != nil {
		return err
	}
	f := form(r.PostForm)
	u, method, err := urlParam(f, "Url", "Method", CodeInvalidCallURL)
	if err != nil {
		return err
	}
	if u == "" {
		return badRequest(CodeInvalidParameter, "Url is required to dequeue a member")
	}
	got, err := s.queues.Dequeue(r.ctx(), q, m.CallSID, voice.Update{URL: u, Method: method})
	switch {
	case errors.Is(err, voice.ErrMemberNotFound):
		return errNotFound(r.URL.Path) // it left meanwhile
	case err != nil:
		return s.internal(r, err)
	}
	got.Position = m.Position
	s.writeJSON(r, http.StatusOK, toMemberJSON(q, got))
	return nil
}
