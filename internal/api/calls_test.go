package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// at is a UTC time on May 2024's first days, for call records.
func at(day, hour, min, sec int) time.Time {
	return time.Date(2024, 5, day, hour, min, sec, 0, time.UTC)
}

// putCall stores a call record directly, as the interpreter would: c's
// zero fields get an inbound call's defaults and date_created is the start
// time (or created, when the call never started).
func putCall(t testing.TB, st store.Store, c store.Call) store.Call {
	t.Helper()
	if c.SID == "" {
		c.SID = sid.New(sid.Call)
	}
	if c.Direction == "" {
		c.Direction = store.DirectionInbound
	}
	if c.APIVersion == "" {
		c.APIVersion = "2010-04-01"
	}
	if c.DateCreated.IsZero() {
		c.DateCreated = c.StartTime
	}
	if c.DateUpdated.IsZero() {
		c.DateUpdated = c.DateCreated
		if !c.EndTime.IsZero() {
			c.DateUpdated = c.EndTime
		}
	}
	out, err := st.CreateCall(t.Context(), c)
	if err != nil {
		t.Fatalf("CreateCall: %v", err)
	}
	return out
}

func callSIDs(cs []openapi.ApiV2010Call) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, *c.Sid)
	}
	return out
}

func TestTwilioCallsListFilters(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	m := e.main.SID
	c1 := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550100", To: "support", Status: store.CallCompleted,
		StartTime: at(1, 10, 0, 0), AnsweredAt: at(1, 10, 0, 2), EndTime: at(1, 10, 5, 0), Duration: 298})
	c2 := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550101", To: "+14155550199", Status: store.CallBusy,
		StartTime: at(2, 9, 0, 0), EndTime: at(2, 9, 0, 10)})
	c3 := putCall(t, e.st, store.Call{AccountSID: m, ParentCallSID: c1.SID, From: "support", To: "+442071838750",
		Direction: store.DirectionOutboundDial, Status: store.CallNoAnswer, StartTime: at(1, 10, 1, 0), EndTime: at(1, 10, 1, 30)})
	c4 := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550100", To: "support", Status: store.CallRinging,
		StartTime: at(3, 0, 0, 0)}) // exactly midnight
	c5 := putCall(t, e.st, store.Call{AccountSID: m, From: "support", To: "+14155550123", Direction: store.DirectionOutboundAPI,
		Status: store.CallQueued, DateCreated: at(3, 8, 0, 0)}) // never started
	// Another account's call matches no filter of this one.
	sub := e.subaccount("other")
	putCall(t, e.st, store.Call{AccountSID: sub.SID, From: "+14155550100", To: "support", Status: store.CallCompleted,
		StartTime: at(1, 11, 0, 0), EndTime: at(1, 11, 1, 0)})

	tm := func(tt time.Time) *time.Time { return &tt }
	tests := []struct {
		name   string
		params openapi.ListCallParams
		want   []store.Call
	}{
		{"all, newest first", openapi.ListCallParams{}, []store.Call{c5, c4, c2, c3, c1}},
		{"To SIP name", openapi.ListCallParams{To: ptr("support")}, []store.Call{c4, c1}},
		{"To formatted", openapi.ListCallParams{To: ptr("+1 (415) 555-0199")}, []store.Call{c2}},
		{"From", openapi.ListCallParams{From: ptr("+14155550100")}, []store.Call{c4, c1}},
		{"To and From", openapi.ListCallParams{From: ptr("support"), To: ptr("+442071838750")}, []store.Call{c3}},
		{"Status", openapi.ListCallParams{Status: ptr("completed")}, []store.Call{c1}},
		{"Status any case", openapi.ListCallParams{Status: ptr("No-Answer")}, []store.Call{c3}},
		{"Status none", openapi.ListCallParams{Status: ptr("canceled")}, nil},
		{"ParentCallSid", openapi.ListCallParams{ParentCallSid: &c1.SID}, []store.Call{c3}},
		{"StartTime day", openapi.ListCallParams{StartTime: tm(at(1, 0, 0, 0))}, []store.Call{c3, c1}},
		{"StartTime instant is its day", openapi.ListCallParams{StartTime: tm(at(2, 15, 0, 0))}, []store.Call{c2}},
		{"StartTime> instant", openapi.ListCallParams{StartTimeAfter: tm(at(1, 10, 0, 30))}, []store.Call{c4, c2, c3}},
		{"StartTime< instant", openapi.ListCallParams{StartTimeBefore: tm(at(1, 10, 1, 0))}, []store.Call{c3, c1}},
		{"StartTime range", openapi.ListCallParams{StartTimeAfter: tm(at(1, 10, 0, 30)), StartTimeBefore: tm(at(2, 23, 0, 0))}, []store.Call{c2, c3}},
		{"EndTime day", openapi.ListCallParams{EndTime: tm(at(2, 0, 0, 0))}, []store.Call{c2}},
		{"EndTime> excludes calls not ended", openapi.ListCallParams{EndTimeAfter: tm(at(1, 0, 0, 0))}, []store.Call{c2, c3, c1}},
		{"EndTime<", openapi.ListCallParams{EndTimeBefore: tm(at(1, 10, 3, 0))}, []store.Call{c3}},
		{"empty range", openapi.ListCallParams{StartTimeAfter: tm(at(3, 0, 0, 0)), StartTimeBefore: tm(at(1, 0, 0, 0))}, nil},
		{"filters combine", openapi.ListCallParams{From: ptr("+14155550100"), StartTime: tm(at(3, 0, 0, 0))}, []store.Call{c4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Api.ListCall(&tt.params)
			if err != nil {
				t.Fatalf("ListCall: %v", err)
			}
			want := []string{}
			for _, w := range tt.want {
				want = append(want, w.SID)
			}
			if diff := cmp.Diff(want, callSIDs(got)); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}

	// Twilio's own query forms, as a hand-written URL sends them:
	// StartTime<=D is "at or before midnight starting D", StartTime>=D "at or
	// after" it, so both on one date select only a call at midnight.
	base := e.baseClient(m, e.main.AuthToken, m)
	raw := []struct {
		query string
		want  []store.Call
	}{
		{"StartTime=2024-05-01", []store.Call{c3, c1}},
		{"StartTime>=2024-05-02", []store.Call{c4, c2}},
		{"StartTime<=2024-05-02", []store.Call{c3, c1}},
		{"StartTime<=2024-05-03", []store.Call{c4, c2, c3, c1}},
		{"StartTime>=2024-05-03&StartTime<=2024-05-03", []store.Call{c4}},
		{"StartTime>=2024-05-01&StartTime<=2024-05-02&Status=busy", nil},
		{"EndTime<=2024-05-02", []store.Call{c3, c1}},
		{"EndTime>=2024-05-01T10:03:00Z", []store.Call{c2, c1}},
		{"StartTime>=1960-01-01", []store.Call{c4, c2, c3, c1}},
		{"StartTime<=1960-01-01", nil},
		{"StartTime=0001-01-01", nil},
		{"StartTime=", []store.Call{c5, c4, c2, c3, c1}}, // empty: no filter
	}
	for _, tt := range raw {
		t.Run(tt.query, func(t *testing.T) {
			resp, err := base.SendRequest("GET", "https://api.twilio.com/2010-04-01/Accounts/"+m+"/Calls.json?"+tt.query, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var page openapi.ListCallResponse
			if err := decodeJSON(resp.Body, &page); err != nil {
				t.Fatal(err)
			}
			want := []string{}
			for _, w := range tt.want {
				want = append(want, w.SID)
			}
			if diff := cmp.Diff(want, callSIDs(page.Calls)); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTwilioCallsPaging(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	const total = 120
	var created []store.Call
	for i := range total {
		// Pairs of calls share a creation time: the SID breaks ties.
		created = append(created, putCall(t, e.st, store.Call{AccountSID: e.main.SID, From: "+14155550100", To: "support",
			Status: store.CallCompleted, StartTime: at(1, 0, 0, 0).Add(time.Duration(i/2) * time.Second),
			EndTime: at(2, 0, 0, 0)}))
	}
	// Newest first: creation time descending, then SID descending.
	slices.SortFunc(created, func(a, b store.Call) int {
		if c := b.DateCreated.Compare(a.DateCreated); c != 0 {
			return c
		}
		return strings.Compare(b.SID, a.SID)
	})
	var want []string
	for _, cl := range created {
		want = append(want, cl.SID)
	}

	before := e.calls.Load()
	got, err := c.Api.ListCall(&openapi.ListCallParams{PageSize: ptr(50)})
	if err != nil {
		t.Fatalf("ListCall: %v", err)
	}
	if diff := cmp.Diff(want, callSIDs(got)); diff != "" {
		t.Errorf("paged list (-want +got):\n%s", diff)
	}
	if n := e.calls.Load() - before; n != 3 {
		t.Errorf("the client made %d requests for 120 calls in pages of 50, want 3", n)
	}
	if *got[0].DateCreated != "Wed, 01 May 2024 00:00:59 +0000" || *got[len(got)-1].DateCreated != "Wed, 01 May 2024 00:00:00 +0000" {
		t.Errorf("listed from %s to %s, want newest first", *got[0].DateCreated, *got[len(got)-1].DateCreated)
	}

	// Forwards through the pages by next_page_uri, then back by
	// previous_page_uri; filters ride along in the URIs.
	params := &openapi.ListCallParams{PageSize: ptr(50), Status: ptr("completed")}
	p0, err := c.Api.PageCall(params, "", "")
	if err != nil {
		t.Fatal(err)
	}
	base := "/2010-04-01/Accounts/" + e.main.SID + "/Calls.json"
	if p0.FirstPageUri != base+"?Status=completed&PageSize=50&Page=0" || p0.PreviousPageUri != nil || p0.NextPageUri == nil {
		t.Fatalf("page 0: first=%q prev=%v next=%v", p0.FirstPageUri, p0.PreviousPageUri, p0.NextPageUri)
	}
	token := func(uri *string) (string, string) {
		t.Helper()
		u, err := url.Parse(*uri)
		if err != nil {
			t.Fatal(err)
		}
		if u.Query().Get("Status") != "completed" {
			t.Errorf("page URI %q lost the Status filter", *uri)
		}
		return u.Query().Get("PageToken"), u.Query().Get("Page")
	}
	tok, pg := token(p0.NextPageUri)
	p1, err := c.Api.PageCall(params, tok, pg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[50:100], callSIDs(p1.Calls)); diff != "" || p1.Page != 1 || p1.Start != 50 || p1.End != 99 {
		t.Errorf("page 1 (page=%d start=%d end=%d) (-want +got):\n%s", p1.Page, p1.Start, p1.End, diff)
	}
	tok, pg = token(p1.NextPageUri)
	p2, err := c.Api.PageCall(params, tok, pg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[100:], callSIDs(p2.Calls)); diff != "" || p2.NextPageUri != nil {
		t.Errorf("last page (next=%v) (-want +got):\n%s", p2.NextPageUri, diff)
	}
	tok, pg = token(p2.PreviousPageUri)
	back, err := c.Api.PageCall(params, tok, pg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[50:100], callSIDs(back.Calls)); diff != "" || back.Page != 1 || back.PreviousPageUri == nil {
		t.Errorf("back to page 1 (page=%d) (-want +got):\n%s", back.Page, diff)
	}
	tok, pg = token(back.PreviousPageUri)
	head, err := c.Api.PageCall(params, tok, pg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[:50], callSIDs(head.Calls)); diff != "" || head.PreviousPageUri != nil {
		t.Errorf("back to page 0 (prev=%v) (-want +got):\n%s", head.PreviousPageUri, diff)
	}

	// A call arriving meanwhile does not shift a page read by token.
	putCall(t, e.st, store.Call{AccountSID: e.main.SID, From: "a", To: "b", Status: store.CallRinging, StartTime: at(9, 0, 0, 0)})
	tok, pg = token(p0.NextPageUri)
	again, err := c.Api.PageCall(params, tok, pg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[50:100], callSIDs(again.Calls)); diff != "" {
		t.Errorf("page 1 after a new call (-want +got):\n%s", diff)
	}
	// Page without a token is an offset; Limit stops early.
	off, err := c.Api.PageCall(&openapi.ListCallParams{PageSize: ptr(50), Status: ptr("completed")}, "", "2")
	if err != nil || len(off.Calls) != 20 || *off.Calls[0].Sid != want[100] {
		t.Errorf("Page=2 without token: %d calls, %v", len(off.Calls), err)
	}
	limited, err := c.Api.ListCall(&openapi.ListCallParams{PageSize: ptr(7), Limit: ptr(10)})
	if err != nil || len(limited) != 10 {
		t.Errorf("Limit 10 gave %d calls, %v", len(limited), err)
	}
	// A token of another list.
	_, err = c.Api.PageCall(nil, "PA"+"PN"+strings.Repeat("0", 32)+"_1", "1")
	wantTwilioError(t, err, 400, 21481)
}

// TestTwilioFetchCallBeingRecorded: an incoming call's first record is
// saved while its webhook is fetched; the app asking for the call as it
// answers gets it, not a 404.
func TestTwilioFetchCallBeingRecorded(t *testing.T) {
	e, live := newLiveEnv(t)
	c := e.as(e.main)
	now := time.Now().UTC().Truncate(time.Second)
	call := store.Call{SID: sid.New(sid.Call), AccountSID: e.main.SID, From: "+14155550100", To: "+14155550199",
		Status: store.CallRinging, Direction: store.DirectionInbound, APIVersion: "2010-04-01",
		DateCreated: now, DateUpdated: now, StartTime: now}
	live.recordLater(call)
	got, err := c.Api.FetchCall(call.SID, nil)
	if err != nil {
		t.Fatalf("FetchCall: %v", err)
	}
	if *got.Sid != call.SID || *got.Status != "ringing" {
		t.Errorf("got %s %s", *got.Sid, *got.Status)
	}
	if _, err := c.Api.FetchCall(sid.New(sid.Call), nil); err == nil {
		t.Error("FetchCall of an unknown call succeeded")
	}
}

func TestTwilioFetchCall(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	m := e.main.SID
	num, err := c.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+14155550199")})
	if err != nil {
		t.Fatal(err)
	}
	parent := putCall(t, e.st, store.Call{AccountSID: m, PhoneNumberSID: *num.Sid, From: "+14155550100", To: "+14155550199",
		Status: store.CallCompleted, StartTime: at(1, 10, 0, 0), AnsweredAt: at(1, 10, 0, 3), EndTime: at(1, 10, 1, 3), Duration: 60})
	child := putCall(t, e.st, store.Call{AccountSID: m, ParentCallSID: parent.SID, From: "+14155550199", To: "+442071838750",
		Direction: store.DirectionOutboundDial, Status: store.CallInProgress, StartTime: at(1, 10, 0, 5), AnsweredAt: at(1, 10, 0, 9)})
	queued := putCall(t, e.st, store.Call{AccountSID: m, From: "support", To: "sip:alice@example.com",
		Direction: store.DirectionOutboundAPI, Status: store.CallQueued, DateCreated: at(1, 11, 0, 0)})

	got, err := c.Api.FetchCall(parent.SID, nil)
	if err != nil {
		t.Fatalf("FetchCall: %v", err)
	}
	uri := "/2010-04-01/Accounts/" + m + "/Calls/" + parent.SID
	want := openapi.ApiV2010Call{
		Sid: &parent.SID, AccountSid: &m,
		DateCreated: ptr("Wed, 01 May 2024 10:00:00 +0000"), DateUpdated: ptr("Wed, 01 May 2024 10:01:03 +0000"),
		To: ptr("+14155550199"), ToFormatted: ptr("(415) 555-0199"),
		From: ptr("+14155550100"), FromFormatted: ptr("(415) 555-0100"),
		PhoneNumberSid: num.Sid, Status: ptr("completed"),
		StartTime: ptr("Wed, 01 May 2024 10:00:00 +0000"), EndTime: ptr("Wed, 01 May 2024 10:01:03 +0000"),
		Duration: ptr("60"), PriceUnit: ptr("USD"), Direction: ptr("inbound"), ApiVersion: ptr("2010-04-01"),
		QueueTime: ptr("0"), Uri: ptr(uri + ".json"),
		SubresourceUris: &map[string]interface{}{
			"notifications":                      uri + "/Notifications.json",
			"recordings":                         uri + "/Recordings.json",
			"payments":                           uri + "/Payments.json",
			"events":                             uri + "/Events.json",
			"siprec":                             uri + "/Siprec.json",
			"streams":                            uri + "/Streams.json",
			"transcriptions":                     uri + "/Transcriptions.json",
			"user_defined_message_subscriptions": uri + "/UserDefinedMessageSubscriptions.json",
			"user_defined_messages":              uri + "/UserDefinedMessages.json",
		},
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("fetched call (-want +got):\n%s", diff)
	}

	live, err := c.Api.FetchCall(child.SID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *live.ParentCallSid != parent.SID || *live.Status != "in-progress" || live.Duration != nil || live.EndTime != nil ||
		*live.Direction != "outbound-dial" || *live.ToFormatted != "+442071838750" || live.PhoneNumberSid != nil {
		t.Errorf("live child call = %+v", live)
	}
	q, err := c.Api.FetchCall(queued.SID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if q.StartTime != nil || q.EndTime != nil || q.Duration != nil || *q.Status != "queued" ||
		*q.FromFormatted != "support" || *q.ToFormatted != "sip:alice@example.com" || q.AnsweredBy != nil || q.Price != nil {
		t.Errorf("queued call = %+v", q)
	}

	// Unknown, malformed and other accounts' SIDs: 20404.
	sub := e.subaccount("tenant")
	theirs := putCall(t, e.st, store.Call{AccountSID: sub.SID, From: "a", To: "b", Status: store.CallRinging, StartTime: at(1, 0, 0, 0)})
	for _, s := range []string{"CA" + strings.Repeat("0", 32), "CAnope", theirs.SID, *num.Sid} {
		_, err := c.Api.FetchCall(s, nil)
		wantTwilioError(t, err, 404, 20404)
	}
	// The subaccount's own credentials and its parent's reach it through its
	// path; the subaccount cannot reach the parent's call at all.
	if got, err := e.as(sub).Api.FetchCall(theirs.SID, nil); err != nil || *got.Sid != theirs.SID {
		t.Errorf("subaccount fetching its call: %v", err)
	}
	if got, err := c.Api.FetchCall(theirs.SID, &openapi.FetchCallParams{PathAccountSid: &sub.SID}); err != nil || *got.AccountSid != sub.SID {
		t.Errorf("parent fetching the subaccount's call: %v", err)
	}
	_, err = e.as(sub).Api.FetchCall(parent.SID, nil)
	wantTwilioError(t, err, 404, 20404)
	_, err = e.as(sub).Api.FetchCall(parent.SID, &openapi.FetchCallParams{PathAccountSid: &m})
	wantTwilioError(t, err, 401, 20003)
	if list, err := e.as(sub).Api.ListCall(nil); err != nil || len(list) != 1 || *list[0].Sid != theirs.SID {
		t.Errorf("subaccount's list = %d calls, %v; want its own only", len(list), err)
	}
}

func TestTwilioCallsBadFilters(t *testing.T) {
	e := newEnv(t)
	base := e.baseClient(e.main.SID, e.main.AuthToken, e.main.SID)
	uri := "https://api.twilio.com/2010-04-01/Accounts/" + e.main.SID + "/Calls.json"
	tests := []struct {
		name, value string
		status      int
		code        int
	}{
		{"Status", "sideways", 400, 20001},
		{"Status", "in progress", 400, 20001},
		{"ParentCallSid", "CA123", 400, 20001},
		{"ParentCallSid", "PN" + strings.Repeat("0", 32), 400, 20001},
		{"StartTime", "yesterday", 400, 20001},
		{"StartTime", "2024-13-01", 400, 20001},
		{"StartTime", "2024-02-30", 400, 20001},
		{"StartTime<", "2024-05-01 12:00", 400, 20001},
		{"StartTime>", "1714564800", 400, 20001},
		{"EndTime", "05/01/2024", 400, 20001},
		{"EndTime<", "2024-05-01T12:00:00", 400, 20001}, // no zone
		{"EndTime>", "Wed, 01 May 2024 12:00:00 +0000", 400, 20001},
		{"PageSize", "0", 400, 20007},
		{"PageToken", "PAxyz", 400, 21481},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			err := send(base, "GET", uri, url.Values{tt.name: {tt.value}})
			wantTwilioError(t, err, tt.status, tt.code)
		})
	}
}

func TestGoldenCalls(t *testing.T) {
	g := newGoldenFixture(t)
	m := g.main.SID
	acct := "/2010-04-01/Accounts/" + m
	n := 0
	next := func() string { n++; return fmt.Sprintf("CA%032x", 0xc000+n) }
	num := "PN" + strings.Repeat("b", 32)
	// One call in each state, as the interpreter leaves them.
	states := []store.Call{
		{Status: store.CallQueued, Direction: store.DirectionOutboundAPI, From: "+14155550199", To: "+819012345678",
			DateCreated: at(1, 12, 0, 0)},
		{Status: store.CallRinging, PhoneNumberSID: num, From: "+14155550100", To: "+14155550199",
			StartTime: at(1, 12, 1, 0)},
		{Status: store.CallInProgress, PhoneNumberSID: num, From: "+14155550100", To: "support",
			StartTime: at(1, 12, 2, 5), AnsweredAt: at(1, 12, 2, 5), DateCreated: at(1, 12, 2, 0)},
		{Status: store.CallCompleted, PhoneNumberSID: num, From: "+14155550100", To: "+14155550199", CallerName: "ALICE",
			ForwardedFrom: "+14155550111", StartTime: at(1, 12, 3, 4), AnsweredAt: at(1, 12, 3, 4), EndTime: at(1, 12, 5, 0),
			Duration: 116, DateCreated: at(1, 12, 3, 0)},
		{Status: store.CallBusy, Direction: store.DirectionOutboundDial, From: "+14155550199", To: "sip:bob@example.com",
			StartTime: at(1, 12, 4, 0), EndTime: at(1, 12, 4, 2)},
		{Status: store.CallNoAnswer, Direction: store.DirectionOutboundDial, From: "+14155550199", To: "+14155550177",
			StartTime: at(1, 12, 5, 0), EndTime: at(1, 12, 5, 30)},
		{Status: store.CallCanceled, PhoneNumberSID: num, From: "+14155550100", To: "+14155550199",
			StartTime: at(1, 12, 6, 0), EndTime: at(1, 12, 6, 4)},
		{Status: store.CallFailed, PhoneNumberSID: num, From: "+14155550100", To: "+14155550199",
			StartTime: at(1, 12, 7, 0), EndTime: at(1, 12, 7, 1)},
	}
	var sids []string
	for i, c := range states {
		c.SID, c.AccountSID = next(), m
		if c.Direction == store.DirectionOutboundDial {
			c.ParentCallSID = sids[3]
		}
		putCall(t, g.st, c)
		sids = append(sids, c.SID)
		rec := g.do("GET", acct+"/Calls/"+c.SID+".json", nil, m, g.main.AuthToken)
		if rec.Code != 200 {
			t.Fatalf("fetch %s: %d %s", c.Status, rec.Code, rec.Body)
		}
		checkGolden(t, fmt.Sprintf("call_fetch_%d_%s", i, c.Status), rec.Body.Bytes())
	}
	nextPage := func() string {
		var env struct {
			Next string `json:"next_page_uri"`
		}
		_ = decodeJSON(strings.NewReader(g.last.Body.String()), &env)
		return env.Next
	}
	steps := []struct {
		name   string
		path   func() string
		status int
	}{
		{"calls_list_page0", func() string { return acct + "/Calls.json?PageSize=3" }, 200},
		{"calls_list_page1", nextPage, 200},
		{"calls_list_filtered", func() string {
			return acct + "/Calls.json?To=%2B14155550199&StartTime%3E=2024-05-01&StartTime%3C=2024-05-02&Status=completed"
		}, 200},
		{"calls_list_empty", func() string { return acct + "/Calls.json?ParentCallSid=" + sids[0] }, 200},
		{"error_20001_call_status", func() string { return acct + "/Calls.json?Status=done" }, 400},
		{"error_20001_call_start_time", func() string { return acct + "/Calls.json?StartTime%3C=May+1" }, 400},
		{"error_20404_call", func() string { return acct + "/Calls/CA" + strings.Repeat("9", 32) + ".json" }, 404},
	}
	for _, st := range steps {
		rec := g.do("GET", st.path(), nil, m, g.main.AuthToken)
		if rec.Code != st.status {
			t.Fatalf("%s: status %d, want %d\n%s", st.name, rec.Code, st.status, rec.Body)
		}
		checkGolden(t, st.name, rec.Body.Bytes())
	}
	// Writing: place a call, cancel it, delete a finished one; its events.
	appendWebhookEvents(t, g.st, m, sids[3], 3)
	var placed string
	writes := []struct {
		name, method string
		path         func() string
		form         url.Values
		status       int
	}{
		{"call_create", "POST", func() string { return acct + "/Calls.json" }, url.Values{
			"To": {"sip:alice@example.com"}, "From": {"+14155550199"}, "Url": {"https://app.example.com/voice"},
			"StatusCallback": {"https://app.example.com/status"}, "StatusCallbackEvent": {"initiated answered completed"}}, 201},
		{"call_update_canceled", "POST", func() string { return acct + "/Calls/" + placed + ".json" }, url.Values{"Status": {"canceled"}}, 200},
		{"call_events_page0", "GET", func() string { return acct + "/Calls/" + sids[3] + "/Events.json?PageSize=2" }, nil, 200},
		{"call_events_page1", "GET", nextPage, nil, 200},
		{"call_events_empty", "GET", func() string { return acct + "/Calls/" + sids[0] + "/Events.json" }, nil, 200},
		{"error_20404_call_events", "GET", func() string { return acct + "/Calls/CA" + strings.Repeat("9", 32) + "/Events.json" }, nil, 404},
		{"error_21201_create_call", "POST", func() string { return acct + "/Calls.json" }, url.Values{"From": {"+14155550199"}, "Url": {"https://app.example.com/voice"}}, 400},
		{"error_21205_create_call", "POST", func() string { return acct + "/Calls.json" }, url.Values{"To": {"sip:alice@example.com"}, "From": {"alice"}}, 400},
		{"error_21214_create_call", "POST", func() string { return acct + "/Calls.json" }, url.Values{
			"To": {"+14155550100"}, "From": {"+14155550199"}, "Url": {"https://app.example.com/voice"}}, 400},
		{"error_32018_create_call", "POST", func() string { return acct + "/Calls.json" }, url.Values{
			"To": {"sip:alice@example.com"}, "From": {"alice"}, "Twiml": {strings.Repeat("x", 4001)}}, 400},
		{"error_21220_update_call", "POST", func() string { return acct + "/Calls/" + sids[3] + ".json" }, url.Values{"Status": {"completed"}}, 400},
		{"error_21220_delete_call", "DELETE", func() string { return acct + "/Calls/" + sids[2] + ".json" }, nil, 400},
	}
	for _, st := range writes {
		rec := g.do(st.method, st.path(), st.form, m, g.main.AuthToken)
		if rec.Code != st.status {
			t.Fatalf("%s: status %d, want %d\n%s", st.name, rec.Code, st.status, rec.Body)
		}
		checkGolden(t, st.name, rec.Body.Bytes())
		if st.name == "call_create" {
			var v struct {
				SID string `json:"sid"`
			}
			if err := decodeJSON(rec.Body, &v); err != nil {
				t.Fatal(err)
			}
			placed = v.SID
		}
	}
	rec := g.do("DELETE", acct+"/Calls/"+sids[3]+".json", nil, m, g.main.AuthToken)
	if rec.Code != 204 || rec.Body.Len() != 0 {
		t.Errorf("DELETE: %d %q, want 204 and no body", rec.Code, rec.Body)
	}
	if rec := g.do("GET", acct+"/Calls/"+sids[3]+".json", nil, m, g.main.AuthToken); rec.Code != 404 {
		t.Errorf("GET after DELETE: %d", rec.Code)
	}
}
