package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// GET .../Calls/{CallSid}/Events.json is Twilio's Call Events list: the HTTP
// exchanges of a call with the user's app (TwiML fetches, actions, status
// and recording callbacks), oldest first, each as
// {"request":{"method","url","parameters"},"response":{"response_code",
// "request_duration","content_type","response_body","date_created"}}. They
// are the call's store.EventWebhook events, whose payload the interpreter
// writes in that shape.
//
// Paging is the lists' (paging.go): PageSize (default 50, at most 1000),
// Page, and a PageToken naming the call and the Seq of the event the page
// starts after ("PA") or ends before ("PB"): PA<CallSid>_<Seq>. Events
// appended meanwhile do not shift a page read by token.

// callEventJSON is one item of the list (api.v2010.account.call.call_event).
type callEventJSON struct {
	Request  json.RawMessage `json:"request"`
	Response json.RawMessage `json:"response"`
}

// eventCursor is the page-token cursor of an event of a call: the call's SID
// and the event's Seq in place of a creation time (encodePageToken writes it
// as microseconds, which gives the Seq back as it is).
func eventCursor(callSID string, seq int64) store.Cursor {
	return store.Cursor{SID: callSID, DateCreated: time.UnixMicro(seq).UTC()}
}

// listCallEvents serves GET .../Calls/{CallSid}/Events.json.
func (s *server) listCallEvents(r *request) error {
	callSID := r.PathValue("CallSid")
	if _, err := s.findCall(r, callSID); err != nil {
		return err
	}
	lr, err := parseList(r, sid.Call)
	if err != nil {
		return err
	}
	for _, c := range []*store.Cursor{lr.after, lr.before} {
		if c != nil && (c.SID != callSID || c.DateCreated.UnixMicro() < 0) {
			return badRequest(CodeInvalidPageToken, "Invalid PageToken: it is not one of this call's event pages")
		}
	}
	f := store.EventFilter{AccountSID: r.acct.SID, CallSID: callSID, Type: store.EventWebhook}
	evs, more, err := s.pageEvents(r.ctx(), f, lr)
	if err != nil {
		return s.internal(r, err)
	}
	items := make([]callEventJSON, len(evs))
	for i, ev := range evs {
		if err := json.Unmarshal(ev.Payload, &items[i]); err != nil {
			// A payload not in the expected shape reads as nulls rather
			// than making the whole list unreadable.
			s.log.Warn("api: call event payload is not an object", "call", callSID, "seq", ev.Seq, "err", err)
			items[i] = callEventJSON{}
		}
	}
	var first, last store.Cursor
	if len(evs) > 0 {
		first, last = eventCursor(callSID, evs[0].Seq), eventCursor(callSID, evs[len(evs)-1].Seq)
	}
	s.writeJSON(r, http.StatusOK, lr.envelope(r.URL.Path, "events", items, len(evs), first, last, more))
	return nil
}

// pageEvents reads the page lr asks for: after a token's event, before it
// (more then says whether events precede the page), or, without a token,
// at offset Page×PageSize. A call has few events, so the backward and
// offset pages read the call's events from the start.
func (s *server) pageEvents(ctx context.Context, f store.EventFilter, lr listRequest) ([]store.Event, bool, error) {
	size := lr.pageSize
	switch {
	case lr.after != nil:
		return s.st.ListEvents(ctx, f, lr.after.DateCreated.UnixMicro(), size)
	case lr.before != nil:
		end := lr.before.DateCreated.UnixMicro()
		var win []store.Event // the last size+1 events before end
		err := s.scanEvents(ctx, f, func(ev store.Event) bool {
			if ev.Seq >= end {
				return false
			}
			win = append(win, ev)
			if len(win) > size+1 {
				win = win[1:]
			}
			return true
		})
		more := len(win) > size
		if more {
			win = win[1:]
		}
		return win, more, err
	case lr.page == 0:
		return s.st.ListEvents(ctx, f, 0, size)
	default:
		skip := lr.page * size
		var out []store.Event
		more := false
		err := s.scanEvents(ctx, f, func(ev store.Event) bool {
			switch {
			case skip > 0:
				skip--
			case len(out) == size:
				more = true
				return false
			default:
				out = append(out, ev)
			}
			return true
		})
		return out, more, err
	}
}

// scanEvents calls fn with the events f selects in Seq order until fn
// returns false or none are left.
func (s *server) scanEvents(ctx context.Context, f store.EventFilter, fn func(store.Event) bool) error {
	var after int64
	for {
		evs, more, err := s.st.ListEvents(ctx, f, after, maxPageSize)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if !fn(ev) {
				return nil
			}
			after = ev.Seq
		}
		if !more {
			return nil
		}
	}
}
