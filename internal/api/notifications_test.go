package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// putNotification stores a notification directly, as the interpreter does
// when the app fails.
func putNotification(t testing.TB, st store.Store, n store.Notification) store.Notification {
	t.Helper()
	if n.SID == "" {
		n.SID = sid.New(sid.Notification)
	}
	out, err := st.CreateNotification(t.Context(), n)
	if err != nil {
		t.Fatalf("CreateNotification: %v", err)
	}
	return out
}

// webhookFailure is a notification for an app that answered 500 to the
// voice URL (Twilio's 11200).
func webhookFailure(account, call string, when time.Time) store.Notification {
	return store.Notification{
		AccountSID: account, CallSID: call, ErrorCode: 11200, Log: 0,
		MessageText: "HTTP retrieval failure: status 500", MessageDate: when,
		RequestURL: "https://app.example.com/voice", RequestMethod: "POST",
		RequestVariables: "AccountSid=" + account + "&CallSid=" + call + "&CallStatus=ringing",
		ResponseHeaders:  "Content-Type: text/html\r\nContent-Length: 21\r\n",
		ResponseBody:     "<h1>Server Error</h1>",
	}
}

func TestTwilioNotifications(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	m := e.main.SID
	call1 := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550100", To: "support", Status: store.CallFailed,
		StartTime: at(1, 10, 0, 0), EndTime: at(1, 10, 0, 1)})
	call2 := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550100", To: "support", Status: store.CallCompleted,
		StartTime: at(2, 10, 0, 0), EndTime: at(2, 10, 1, 0)})
	n1 := putNotification(t, e.st, webhookFailure(m, call1.SID, at(1, 10, 0, 1)))
	n2 := putNotification(t, e.st, store.Notification{AccountSID: m, CallSID: call2.SID, ErrorCode: 12100, Log: 0,
		MessageText: "Document parse failure", MessageDate: at(2, 10, 0, 1), RequestURL: "https://app.example.com/voice",
		RequestMethod: "GET", ResponseBody: "<Response><Say>unclosed</Response>"})
	n3 := putNotification(t, e.st, store.Notification{AccountSID: m, CallSID: call2.SID, ErrorCode: 15003, Log: 1,
		MessageText: "Got HTTP 404 response to https://app.example.com/status", MessageDate: at(2, 10, 1, 0)})
	n4 := putNotification(t, e.st, store.Notification{AccountSID: m, ErrorCode: 21609, Log: 1, // no call
		MessageText: "Invalid StatusCallback URL", MessageDate: at(3, 0, 0, 0)})
	sub := e.subaccount("tenant")
	subCall := putCall(t, e.st, store.Call{AccountSID: sub.SID, From: "a", To: "b", Status: store.CallFailed, StartTime: at(1, 0, 0, 0), EndTime: at(1, 0, 0, 1)})
	subN := putNotification(t, e.st, webhookFailure(sub.SID, subCall.SID, at(1, 0, 0, 1)))

	nsids := func(ns []openapi.ApiV2010Notification) []string {
		out := []string{}
		for _, n := range ns {
			out = append(out, *n.Sid)
		}
		return out
	}
	tests := []struct {
		name   string
		params openapi.ListNotificationParams
		want   []store.Notification
	}{
		{"all, newest first", openapi.ListNotificationParams{}, []store.Notification{n4, n3, n2, n1}},
		{"errors", openapi.ListNotificationParams{Log: ptr(0)}, []store.Notification{n2, n1}},
		{"warnings", openapi.ListNotificationParams{Log: ptr(1)}, []store.Notification{n4, n3}},
		{"on a date", openapi.ListNotificationParams{MessageDate: ptr("2024-05-02")}, []store.Notification{n3, n2}},
		{"at or after midnight", openapi.ListNotificationParams{MessageDateAfter: ptr("2024-05-02")}, []store.Notification{n4, n3, n2}},
		{"at or before midnight", openapi.ListNotificationParams{MessageDateBefore: ptr("2024-05-03")}, []store.Notification{n4, n3, n2, n1}},
		{"before an instant", openapi.ListNotificationParams{MessageDateBefore: ptr("2024-05-02T10:00:30Z")}, []store.Notification{n2, n1}},
		{"date and level", openapi.ListNotificationParams{MessageDate: ptr("2024-05-02"), Log: ptr(1)}, []store.Notification{n3}},
		{"none", openapi.ListNotificationParams{MessageDate: ptr("2024-04-30")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Api.ListNotification(&tt.params)
			if err != nil {
				t.Fatalf("ListNotification: %v", err)
			}
			want := []string{}
			for _, n := range tt.want {
				want = append(want, n.SID)
			}
			if diff := cmp.Diff(want, nsids(got)); diff != "" {
				t.Errorf("notifications (-want +got):\n%s", diff)
			}
		})
	}

	// A list item is the short form; a fetch has the request and response.
	list, err := c.Api.ListNotification(&openapi.ListNotificationParams{MessageDate: ptr("2024-05-01")})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListNotification = %d, %v", len(list), err)
	}
	item := list[0]
	if *item.ErrorCode != "11200" || *item.Log != "0" || *item.CallSid != call1.SID || *item.RequestMethod != "POST" ||
		*item.MoreInfo != "https://www.twilio.com/docs/errors/11200" ||
		*item.Uri != "/2010-04-01/Accounts/"+m+"/Notifications/"+n1.SID+".json" {
		t.Errorf("list item = %+v", item)
	}
	got, err := c.Api.FetchNotification(n1.SID, nil)
	if err != nil {
		t.Fatalf("FetchNotification: %v", err)
	}
	want := &openapi.ApiV2010NotificationInstance{
		AccountSid: &m, ApiVersion: ptr("2010-04-01"), CallSid: &call1.SID,
		DateCreated: ptr("Wed, 01 May 2024 10:00:01 +0000"), DateUpdated: ptr("Wed, 01 May 2024 10:00:01 +0000"),
		ErrorCode: ptr("11200"), Log: ptr("0"), MessageDate: ptr("Wed, 01 May 2024 10:00:01 +0000"),
		MessageText: ptr("HTTP retrieval failure: status 500"), MoreInfo: ptr("https://www.twilio.com/docs/errors/11200"),
		RequestMethod: ptr("POST"), RequestUrl: ptr("https://app.example.com/voice"),
		RequestVariables: ptr("AccountSid=" + m + "&CallSid=" + call1.SID + "&CallStatus=ringing"),
		ResponseBody:     ptr("<h1>Server Error</h1>"), ResponseHeaders: ptr("Content-Type: text/html\r\nContent-Length: 21\r\n"),
		Sid: &n1.SID, Uri: ptr("/2010-04-01/Accounts/" + m + "/Notifications/" + n1.SID + ".json"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fetched notification (-want +got):\n%s", diff)
	}
	noCall, err := c.Api.FetchNotification(n4.SID, nil)
	if err != nil || noCall.CallSid != nil || noCall.RequestMethod != nil || *noCall.RequestUrl != "" {
		t.Errorf("notification without a call: %+v, %v", noCall, err)
	}

	// Per call: the call's notifications only, newest first, with URIs under
	// the call.
	perCall, err := c.Api.ListCallNotification(call2.SID, nil)
	if err != nil {
		t.Fatalf("ListCallNotification: %v", err)
	}
	var perCallSIDs []string
	for _, n := range perCall {
		perCallSIDs = append(perCallSIDs, *n.Sid)
	}
	if diff := cmp.Diff([]string{n3.SID, n2.SID}, perCallSIDs); diff != "" {
		t.Errorf("call 2's notifications (-want +got):\n%s", diff)
	}
	if u := *perCall[0].Uri; u != "/2010-04-01/Accounts/"+m+"/Calls/"+call2.SID+"/Notifications/"+n3.SID+".json" {
		t.Errorf("per-call uri = %s", u)
	}
	warn, err := c.Api.ListCallNotification(call2.SID, &openapi.ListCallNotificationParams{Log: ptr(1)})
	if err != nil || len(warn) != 1 || *warn[0].Sid != n3.SID {
		t.Errorf("call 2's warnings = %d, %v", len(warn), err)
	}
	one, err := c.Api.FetchCallNotification(call1.SID, n1.SID, nil)
	if err != nil || *one.ResponseBody != "<h1>Server Error</h1>" || *one.CallSid != call1.SID {
		t.Errorf("FetchCallNotification = %+v, %v", one, err)
	}
	empty, err := c.Api.ListCallNotification(putCall(t, e.st, store.Call{AccountSID: m, From: "a", To: "b", Status: store.CallRinging, StartTime: at(4, 0, 0, 0)}).SID, nil)
	if err != nil || len(empty) != 0 {
		t.Errorf("a call without notifications: %d, %v", len(empty), err)
	}

	// 20404: unknown SIDs, another account's notification or call, a
	// notification of another call.
	_, err = c.Api.FetchNotification("NO"+strings.Repeat("0", 32), nil)
	wantTwilioError(t, err, 404, 20404)
	_, err = c.Api.FetchNotification("NOpe", nil)
	wantTwilioError(t, err, 404, 20404)
	_, err = c.Api.FetchNotification(subN.SID, nil)
	wantTwilioError(t, err, 404, 20404)
	_, err = c.Api.ListCallNotification(subCall.SID, nil)
	wantTwilioError(t, err, 404, 20404)
	_, err = c.Api.ListCallNotification("CA"+strings.Repeat("0", 32), nil)
	wantTwilioError(t, err, 404, 20404)
	_, err = c.Api.FetchCallNotification(subCall.SID, subN.SID, nil)
	wantTwilioError(t, err, 404, 20404)
	_, err = c.Api.FetchCallNotification(call2.SID, n1.SID, nil)
	wantTwilioError(t, err, 404, 20404)
	_, err = c.Api.FetchCallNotification(call1.SID, "NO"+strings.Repeat("0", 32), nil)
	wantTwilioError(t, err, 404, 20404)
	// The subaccount sees its own; its parent sees them through its path.
	if got, err := e.as(sub).Api.ListNotification(nil); err != nil || len(got) != 1 || *got[0].Sid != subN.SID {
		t.Errorf("subaccount's notifications = %d, %v", len(got), err)
	}
	if got, err := c.Api.FetchCallNotification(subCall.SID, subN.SID, &openapi.FetchCallNotificationParams{PathAccountSid: &sub.SID}); err != nil || *got.Sid != subN.SID {
		t.Errorf("parent fetching the subaccount's call notification: %v", err)
	}
	_, err = e.as(sub).Api.ListNotification(&openapi.ListNotificationParams{PathAccountSid: &m})
	wantTwilioError(t, err, 401, 20003)
}

func TestTwilioNotificationsPaging(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	m := e.main.SID
	call := putCall(t, e.st, store.Call{AccountSID: m, From: "a", To: "b", Status: store.CallFailed, StartTime: at(1, 0, 0, 0), EndTime: at(1, 0, 0, 1)})
	var want []string
	for i := range 25 {
		n := putNotification(t, e.st, webhookFailure(m, call.SID, at(1, 1, 0, 0).Add(time.Duration(i)*time.Second)))
		want = append([]string{n.SID}, want...)
	}
	before := e.calls.Load()
	got, err := c.Api.ListCallNotification(call.SID, &openapi.ListCallNotificationParams{PageSize: ptr(10), Log: ptr(0)})
	if err != nil {
		t.Fatal(err)
	}
	var sids []string
	for _, n := range got {
		sids = append(sids, *n.Sid)
	}
	if diff := cmp.Diff(want, sids); diff != "" {
		t.Errorf("paged call notifications (-want +got):\n%s", diff)
	}
	if n := e.calls.Load() - before; n != 3 {
		t.Errorf("%d requests for 25 notifications in pages of 10, want 3", n)
	}
	page, err := c.Api.PageNotification(&openapi.ListNotificationParams{PageSize: ptr(10), MessageDate: ptr("2024-05-01")}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if page.NextPageUri == nil || !strings.HasPrefix(*page.NextPageUri, "/2010-04-01/Accounts/"+m+"/Notifications.json?MessageDate=2024-05-01&PageSize=10&Page=1&PageToken=PANO") {
		t.Errorf("next_page_uri = %v", page.NextPageUri)
	}
}

func TestTwilioNotificationsBadFilters(t *testing.T) {
	e := newEnv(t)
	call := putCall(t, e.st, store.Call{AccountSID: e.main.SID, From: "a", To: "b", Status: store.CallRinging, StartTime: at(1, 0, 0, 0)})
	base := e.baseClient(e.main.SID, e.main.AuthToken, e.main.SID)
	root := "https://api.twilio.com/2010-04-01/Accounts/" + e.main.SID
	for _, path := range []string{"/Notifications.json", "/Calls/" + call.SID + "/Notifications.json"} {
		for _, tt := range []struct{ name, value string }{
			{"Log", "2"}, {"Log", "error"}, {"Log", "-1"}, {"Log", "00"},
			{"MessageDate", "today"}, {"MessageDate<", "2024-5-1"}, {"MessageDate>", "2024-05-01T25:00:00Z"},
		} {
			t.Run(path+" "+tt.name+"="+tt.value, func(t *testing.T) {
				wantTwilioError(t, send(base, "GET", root+path, url.Values{tt.name: {tt.value}}), 400, 20001)
			})
		}
	}
	// Notifications are read-only.
	for _, tt := range []struct{ method, path string }{
		{"POST", "/Notifications.json"},
		{"DELETE", "/Notifications/NO" + strings.Repeat("1", 32) + ".json"},
		{"POST", "/Calls/" + call.SID + "/Notifications.json"},
	} {
		wantTwilioError(t, send(base, tt.method, root+tt.path, nil), 405, 20004)
	}
}

func TestGoldenNotifications(t *testing.T) {
	g := newGoldenFixture(t)
	m := g.main.SID
	acct := "/2010-04-01/Accounts/" + m
	call := fmt.Sprintf("CA%032x", 0xca11)
	putCall(t, g.st, store.Call{SID: call, AccountSID: m, From: "+14155550100", To: "+14155550199", Status: store.CallFailed,
		StartTime: at(1, 12, 0, 0), EndTime: at(1, 12, 0, 1)})
	n1 := webhookFailure(m, call, at(1, 12, 0, 1))
	n1.SID = fmt.Sprintf("NO%032x", 1)
	putNotification(t, g.st, n1)
	putNotification(t, g.st, store.Notification{SID: fmt.Sprintf("NO%032x", 2), AccountSID: m, CallSID: call, ErrorCode: 15003, Log: 1,
		MessageText: "Got HTTP 404 response to https://app.example.com/status", MessageDate: at(1, 12, 0, 2),
		RequestURL: "https://app.example.com/status", RequestMethod: "POST", ResponseBody: "not found"})
	steps := []struct {
		name, path string
		status     int
	}{
		{"notification_fetch", acct + "/Notifications/" + n1.SID + ".json", 200},
		{"notifications_list", acct + "/Notifications.json?Log=1&MessageDate=2024-05-01", 200},
		{"call_notifications_list", acct + "/Calls/" + call + "/Notifications.json?PageSize=1", 200},
		{"call_notification_fetch", acct + "/Calls/" + call + "/Notifications/" + n1.SID + ".json", 200},
		{"error_20001_notification_log", acct + "/Notifications.json?Log=3", 400},
		{"error_20404_call_notifications", acct + "/Calls/CA" + strings.Repeat("9", 32) + "/Notifications.json", 404},
	}
	for _, st := range steps {
		rec := g.do("GET", st.path, nil, m, g.main.AuthToken)
		if rec.Code != st.status {
			t.Fatalf("%s: status %d, want %d\n%s", st.name, rec.Code, st.status, rec.Body)
		}
		checkGolden(t, st.name, rec.Body.Bytes())
	}
}
