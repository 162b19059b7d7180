package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/store"
)

// webhookPayload is an EventWebhook payload as the interpreter writes it:
// Twilio's Call Event shape, for the i-th request of the call.
func webhookPayload(callSID string, i int, when time.Time) []byte {
	b, err := json.Marshal(map[string]any{
		"request": map[string]any{
			"method": "POST",
			"url":    fmt.Sprintf("https://app.example.com/step/%d", i),
			"parameters": map[string]any{
				"CallSid": callSID, "CallStatus": "in-progress", "Digits": fmt.Sprint(i),
			},
		},
		"response": map[string]any{
			"response_code":    200,
			"request_duration": 12,
			"content_type":     "application/xml",
			"response_body":    "<Response><Pause/></Response>",
			"date_created":     when.Format(time.RFC1123Z),
		},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// appendWebhookEvents appends n webhook events of the call, as the
// interpreter does, a second apart from 2024-05-01 12:00:00.
func appendWebhookEvents(t testing.TB, st store.Store, accountSID, callSID string, n int) []store.Event {
	t.Helper()
	var out []store.Event
	for i := range n {
		when := at(1, 12, 0, 0).Add(time.Duration(i) * time.Second)
		ev, err := st.AppendEvent(t.Context(), store.Event{AccountSID: accountSID, CallSID: callSID, ResourceSID: callSID,
			Type: store.EventWebhook, Name: "request", Time: when, Payload: webhookPayload(callSID, i, when)}, nil)
		if err != nil {
			t.Fatalf("AppendEvent: %v", err)
		}
		out = append(out, ev)
	}
	return out
}

// eventURLs are the request URLs of events, which say which event each is.
func eventURLs(t *testing.T, evs []openapi.ApiV2010CallEvent) []string {
	t.Helper()
	out := []string{}
	for _, ev := range evs {
		req, ok := (*ev.Request).(map[string]interface{})
		if !ok {
			t.Fatalf("request = %#v", ev.Request)
		}
		out = append(out, req["url"].(string))
	}
	return out
}

func stepURLs(from, to int) []string {
	out := []string{}
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("https://app.example.com/step/%d", i))
	}
	return out
}

func TestTwilioCallEvents(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	m := e.main.SID
	call := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550100", To: "support", Status: store.CallCompleted,
		StartTime: at(1, 12, 0, 0), AnsweredAt: at(1, 12, 0, 1), EndTime: at(1, 12, 5, 0), Duration: 299})
	other := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550100", To: "support", Status: store.CallCompleted,
		StartTime: at(1, 12, 0, 0), EndTime: at(1, 12, 5, 0)})
	// 120 webhook events, with other events of the call and another call's
	// webhooks among them: only the call's webhooks are listed.
	const total = 120
	for i := range total {
		when := at(1, 12, 0, 0).Add(time.Duration(i) * time.Second)
		if _, err := e.st.AppendEvent(t.Context(), store.Event{AccountSID: m, CallSID: call.SID, ResourceSID: call.SID,
			Type: store.EventWebhook, Name: "request", Time: when, Payload: webhookPayload(call.SID, i, when)}, nil); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			if _, err := e.st.AppendEvent(t.Context(), store.Event{AccountSID: m, CallSID: call.SID, ResourceSID: "NO" + strings.Repeat("1", 32),
				Type: store.EventNotification, Name: "warning", Time: when, Payload: []byte(`{"error_code":11200}`)}, nil); err != nil {
				t.Fatal(err)
			}
			appendWebhookEvents(t, e.st, m, other.SID, 1)
		}
	}

	before := e.calls.Load()
	got, err := c.Api.ListCallEvent(call.SID, &openapi.ListCallEventParams{PageSize: ptr(50)})
	if err != nil {
		t.Fatalf("ListCallEvent: %v", err)
	}
	if diff := cmp.Diff(stepURLs(0, total), eventURLs(t, got)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if n := e.calls.Load() - before; n != 3 {
		t.Errorf("the client made %d requests for 120 events in pages of 50, want 3", n)
	}
	// Each event is the stored exchange, as Twilio shapes it.
	wantFirst := map[string]interface{}{}
	if err := json.Unmarshal(webhookPayload(call.SID, 0, at(1, 12, 0, 0)), &wantFirst); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantFirst["request"], *got[0].Request); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantFirst["response"], *got[0].Response); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}

	// The envelope, and paging forwards and back by the page URIs.
	params := &openapi.ListCallEventParams{PageSize: ptr(50)}
	base := "/2010-04-01/Accounts/" + m + "/Calls/" + call.SID + "/Events.json"
	p0, err := c.Api.PageCallEvent(call.SID, params, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if p0.Page != 0 || p0.PageSize != 50 || p0.Start != 0 || p0.End != 49 || len(p0.Events) != 50 ||
		p0.FirstPageUri != base+"?PageSize=50&Page=0" || p0.Uri != base+"?PageSize=50&Page=0" || p0.PreviousPageUri != nil ||
		p0.NextPageUri == nil || !strings.HasPrefix(*p0.NextPageUri, base+"?PageSize=50&Page=1&PageToken=PA"+call.SID+"_") {
		t.Fatalf("page 0: %s", dump(p0))
	}
	token := func(uri *string) (string, string) {
		t.Helper()
		u, err := url.Parse(*uri)
		if err != nil {
			t.Fatal(err)
		}
		return u.Query().Get("PageToken"), u.Query().Get("Page")
	}
	tok, pg := token(p0.NextPageUri)
	p1, err := c.Api.PageCallEvent(call.SID, params, tok, pg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stepURLs(50, 100), eventURLs(t, p1.Events)); diff != "" || p1.Page != 1 || p1.Start != 50 || p1.End != 99 || p1.PreviousPageUri == nil {
		t.Errorf("page 1 (page=%d start=%d end=%d) (-want +got):\n%s", p1.Page, p1.Start, p1.End, diff)
	}
	tok, pg = token(p1.NextPageUri)
	p2, err := c.Api.PageCallEvent(call.SID, params, tok, pg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stepURLs(100, total), eventURLs(t, p2.Events)); diff != "" || p2.NextPageUri != nil || p2.End != 119 {
		t.Errorf("last page (next=%v end=%d) (-want +got):\n%s", p2.NextPageUri, p2.End, diff)
	}
	tok, pg = token(p2.PreviousPageUri)
	back, err := c.Api.PageCallEvent(call.SID, params, tok, pg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stepURLs(50, 100), eventURLs(t, back.Events)); diff != "" || back.Page != 1 || back.PreviousPageUri == nil || back.NextPageUri == nil {
		t.Errorf("back to page 1 (page=%d) (-want +got):\n%s", back.Page, diff)
	}
	tok, pg = token(back.PreviousPageUri)
	head, err := c.Api.PageCallEvent(call.SID, params, tok, pg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stepURLs(0, 50), eventURLs(t, head.Events)); diff != "" || head.Page != 0 || head.PreviousPageUri != nil {
		t.Errorf("back to page 0 (page=%d prev=%v) (-want +got):\n%s", head.Page, head.PreviousPageUri, diff)
	}
	// Page without a token is an offset; Limit stops early.
	off, err := c.Api.PageCallEvent(call.SID, params, "", "2")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stepURLs(100, total), eventURLs(t, off.Events)); diff != "" || off.Start != 100 || off.NextPageUri != nil {
		t.Errorf("Page=2 without token (start=%d) (-want +got):\n%s", off.Start, diff)
	}
	if off, err := c.Api.PageCallEvent(call.SID, params, "", "1"); err != nil || len(off.Events) != 50 || off.NextPageUri == nil {
		t.Errorf("Page=1 without token: %d events, next %v, %v", len(off.Events), off.NextPageUri, err)
	}
	if limited, err := c.Api.ListCallEvent(call.SID, &openapi.ListCallEventParams{PageSize: ptr(7), Limit: ptr(10)}); err != nil || len(limited) != 10 {
		t.Errorf("Limit 10 gave %d events, %v", len(limited), err)
	}
	// The default page size is 50, PageSize at most 1000.
	if all, err := c.Api.PageCallEvent(call.SID, nil, "", ""); err != nil || all.PageSize != 50 || len(all.Events) != 50 {
		t.Errorf("default page: %v", err)
	}
	if all, err := c.Api.PageCallEvent(call.SID, &openapi.ListCallEventParams{PageSize: ptr(1000)}, "", ""); err != nil || len(all.Events) != total || all.NextPageUri != nil {
		t.Errorf("PageSize 1000: %v", err)
	}
	// Events appended meanwhile do not shift a page read by token.
	appendWebhookEvents(t, e.st, m, call.SID, 1)
	tok, pg = token(p0.NextPageUri)
	again, err := c.Api.PageCallEvent(call.SID, params, tok, pg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stepURLs(50, 100), eventURLs(t, again.Events)); diff != "" {
		t.Errorf("page 1 after a new event (-want +got):\n%s", diff)
	}
	// A call without events has an empty list.
	empty := putCall(t, e.st, store.Call{AccountSID: m, From: "a", To: "b", Status: store.CallRinging, StartTime: at(1, 0, 0, 0)})
	if list, err := c.Api.ListCallEvent(empty.SID, nil); err != nil || len(list) != 0 {
		t.Errorf("events of a call without any: %d, %v", len(list), err)
	}

	// Errors.
	sub := e.subaccount("other")
	theirs := putCall(t, e.st, store.Call{AccountSID: sub.SID, From: "a", To: "b", Status: store.CallRinging, StartTime: at(1, 0, 0, 0)})
	appendWebhookEvents(t, e.st, sub.SID, theirs.SID, 1)
	for _, s := range []string{"CA" + strings.Repeat("9", 32), "CAxyz", theirs.SID} {
		_, err := c.Api.ListCallEvent(s, nil)
		wantTwilioError(t, err, 404, 20404)
	}
	if list, err := c.Api.ListCallEvent(theirs.SID, &openapi.ListCallEventParams{PathAccountSid: &sub.SID}); err != nil || len(list) != 1 {
		t.Errorf("parent listing the subaccount's call events: %d, %v", len(list), err)
	}
	_, err = c.Api.PageCallEvent(call.SID, &openapi.ListCallEventParams{PageSize: ptr(1001)}, "", "")
	wantTwilioError(t, err, 400, 20007)
	_, err = c.Api.PageCallEvent(call.SID, params, "PAxyz", "1")
	wantTwilioError(t, err, 400, 21481)
	otherTok := strings.Replace(tok, call.SID, other.SID, 1)
	_, err = c.Api.PageCallEvent(call.SID, params, otherTok, "1")
	wantTwilioError(t, err, 400, 21481)
	_, err = c.Api.PageCallEvent(call.SID, params, "PA"+"PN"+strings.Repeat("0", 32)+"_1", "1")
	wantTwilioError(t, err, 400, 21481)
	base2 := e.baseClient(m, e.main.AuthToken, m)
	wantTwilioError(t, send(base2, "POST", "https://api.twilio.com"+base, nil), 405, 20004)
}

// TestCallEventsOddPayload: a payload without the expected keys reads as
// nulls, and does not spoil the list.
func TestCallEventsOddPayload(t *testing.T) {
	e := newEnv(t)
	m := e.main.SID
	call := putCall(t, e.st, store.Call{AccountSID: m, From: "a", To: "b", Status: store.CallCompleted,
		StartTime: at(1, 0, 0, 0), EndTime: at(1, 0, 1, 0)})
	for _, p := range []string{`{}`, `[1,2]`, `{"request":{"method":"GET"}}`} {
		if _, err := e.st.AppendEvent(t.Context(), store.Event{AccountSID: m, CallSID: call.SID, Type: store.EventWebhook,
			Name: "request", Payload: []byte(p)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.as(e.main).Api.ListCallEvent(call.SID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Request != nil || got[1].Response != nil || got[2].Request == nil || got[2].Response != nil {
		t.Errorf("events: %s", dump(got))
	}
}
