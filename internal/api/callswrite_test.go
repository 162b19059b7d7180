package api_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/api"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/voice"
)

// testTrunk is the --trunk of the tests that call phone numbers.
const testTrunk = "sip:trunk.example.net:5060"

// newCallsEnv is an API with the fake interpreter and, when trunk is not
// empty, a trunk for phone numbers.
func newCallsEnv(t *testing.T, trunk string) (*env, *fakeLive) {
	var live *fakeLive
	e := newEnvWith(t, func(cfg *api.Config) {
		live = newFakeLive(cfg.Store, cfg.DataDir, func() string { return sid.New(sid.Recording) }, time.Now)
		cfg.Live = live
		cfg.Trunk = trunk
	})
	return e, live
}

// ownNumber gives acct a phone number through the API.
func (e *env) ownNumber(acct store.Account, phone string) string {
	e.t.Helper()
	n, err := e.as(acct).Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: &phone})
	if err != nil {
		e.t.Fatalf("CreateIncomingPhoneNumber(%s): %v", phone, err)
	}
	return *n.Sid
}

// lastPlaced is the call the fake was last asked to place.
func (f *fakeLive) lastPlaced(t *testing.T) voice.Call {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.placed) == 0 {
		t.Fatal("no call reached the interpreter")
	}
	return f.placed[len(f.placed)-1]
}

func (f *fakeLive) placedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.placed)
}

// ignoreAccount leaves voice.Call.Account (checked by SID) out of a diff.
var ignoreAccount = cmpopts.IgnoreFields(voice.Call{}, "Account")

func TestTwilioCreateCallSIP(t *testing.T) {
	e, live := newCallsEnv(t, "")
	c := e.as(e.main)
	m := e.main.SID
	twiml := "<Response><Say>Hello</Say></Response>"
	got, err := c.Api.CreateCall(&openapi.CreateCallParams{
		To: ptr("sip:alice@example.com;transport=tcp"), From: ptr("Front-Desk_1"), Twiml: &twiml,
	})
	if err != nil {
		t.Fatalf("CreateCall: %v", err)
	}
	if got.Sid == nil || !sid.Valid(sid.Call, *got.Sid) {
		t.Fatalf("sid = %v", got.Sid)
	}
	uri := "/2010-04-01/Accounts/" + m + "/Calls/" + *got.Sid
	if *got.Status != "queued" || *got.Direction != "outbound-api" || *got.AccountSid != m ||
		*got.To != "sip:alice@example.com;transport=tcp" || *got.ToFormatted != "sip:alice@example.com;transport=tcp" ||
		*got.From != "Front-Desk_1" || *got.FromFormatted != "Front-Desk_1" || *got.ApiVersion != "2010-04-01" ||
		*got.Uri != uri+".json" || got.StartTime != nil || got.EndTime != nil || got.Duration != nil ||
		got.ParentCallSid != nil || got.Price != nil || *got.PriceUnit != "USD" || *got.QueueTime != "0" ||
		(*got.SubresourceUris)["events"] != uri+"/Events.json" {
		t.Errorf("created call: %s", dump(got))
	}
	if _, err := time.Parse(time.RFC1123Z, *got.DateCreated); err != nil {
		t.Errorf("date_created %q: %v", *got.DateCreated, err)
	}
	placed := live.lastPlaced(t)
	want := voice.Call{
		Direction: store.DirectionOutboundAPI, To: "sip:alice@example.com;transport=tcp", From: "Front-Desk_1",
		Method: "POST", FallbackMethod: "POST", StatusCallbackMethod: "POST", Twiml: twiml,
		Dial: voice.DialRequest{To: "sip:alice@example.com;transport=tcp", From: "Front-Desk_1", Timeout: 60 * time.Second},
	}
	if diff := cmp.Diff(want, placed, ignoreAccount); diff != "" || placed.Account.SID != m {
		t.Errorf("call handed to the interpreter (account %s) (-want +got):\n%s", placed.Account.SID, diff)
	}
	// The record is there to fetch and list.
	fetched, err := c.Api.FetchCall(*got.Sid, nil)
	if err != nil || *fetched.Status != "queued" {
		t.Errorf("FetchCall = %v", err)
	}

	// Any caller ID goes for a SIP call: a phone number the account does
	// not have (written as E.164), a SIP URI; CallerId stands for From.
	for _, tt := range []struct{ from, callerID, want string }{
		{"+1 415-555-0142", "", "+14155550142"},
		{"sip:bob@example.org", "", "sip:bob@example.org"},
		{"", "reception", "reception"},
	} {
		p := &openapi.CreateCallParams{To: ptr("sip:carol@10.0.0.7"), Url: ptr("https://app.example.com/voice")}
		if tt.from != "" {
			p.From = &tt.from
		}
		if tt.callerID != "" {
			p.CallerId = &tt.callerID
		}
		got, err := c.Api.CreateCall(p)
		if err != nil {
			t.Fatalf("From %q CallerId %q: %v", tt.from, tt.callerID, err)
		}
		if placed := live.lastPlaced(t); *got.From != tt.want || placed.From != tt.want || placed.Dial.From != tt.want {
			t.Errorf("From %q CallerId %q: from %q, placed %q/%q, want %q", tt.from, tt.callerID, *got.From, placed.From, placed.Dial.From, tt.want)
		}
	}
}

func TestTwilioCreateCallPhone(t *testing.T) {
	e, live := newCallsEnv(t, testTrunk)
	c := e.as(e.main)
	e.ownNumber(e.main, "+14155550199")
	got, err := c.Api.CreateCall(&openapi.CreateCallParams{
		To: ptr("+1 (212) 555-0100"), From: ptr("+1 415 555 0199"), Url: ptr("https://app.example.com/voice?x=1"),
	})
	if err != nil {
		t.Fatalf("CreateCall: %v", err)
	}
	if *got.To != "+12125550100" || *got.ToFormatted != "(212) 555-0100" || *got.From != "+14155550199" ||
		*got.FromFormatted != "(415) 555-0199" || *got.Status != "queued" || *got.Direction != "outbound-api" {
		t.Errorf("created call: %s", dump(got))
	}
	placed := live.lastPlaced(t)
	want := voice.Call{
		Direction: store.DirectionOutboundAPI, To: "+12125550100", From: "+14155550199",
		URL: "https://app.example.com/voice?x=1", Method: "POST", FallbackMethod: "POST", StatusCallbackMethod: "POST",
		Dial: voice.DialRequest{To: "+12125550100", From: "+14155550199", Timeout: 60 * time.Second},
	}
	if diff := cmp.Diff(want, placed, ignoreAccount); diff != "" {
		t.Errorf("call handed to the interpreter (-want +got):\n%s", diff)
	}

	// A subaccount calls from its own number, on its own path.
	sub := e.subaccount("tenant")
	e.ownNumber(sub, "+14155550177")
	got, err = e.as(sub).Api.CreateCall(&openapi.CreateCallParams{To: ptr("+442071838750"), From: ptr("+14155550177"), Twiml: ptr("<Response/>")})
	if err != nil {
		t.Fatalf("subaccount CreateCall: %v", err)
	}
	if *got.AccountSid != sub.SID || live.lastPlaced(t).Account.SID != sub.SID {
		t.Errorf("subaccount's call: account %s, placed for %s", *got.AccountSid, live.lastPlaced(t).Account.SID)
	}
	// The parent through the subaccount's path: the subaccount's numbers.
	if _, err := c.Api.CreateCall(&openapi.CreateCallParams{PathAccountSid: &sub.SID, To: ptr("+442071838750"),
		From: ptr("+14155550177"), Twiml: ptr("<Response/>")}); err != nil {
		t.Errorf("parent placing a subaccount's call: %v", err)
	}
	// Neither may use the other's number.
	_, err = e.as(sub).Api.CreateCall(&openapi.CreateCallParams{To: ptr("+442071838750"), From: ptr("+14155550199"), Twiml: ptr("<Response/>")})
	wantTwilioError(t, err, 400, 21210)
	_, err = c.Api.CreateCall(&openapi.CreateCallParams{To: ptr("+442071838750"), From: ptr("+14155550177"), Twiml: ptr("<Response/>")})
	wantTwilioError(t, err, 400, 21210)
}

// TestTwilioCreateCallParameters: every parameter of Create Call that
// switchboard acts on reaches the interpreter.
func TestTwilioCreateCallParameters(t *testing.T) {
	e, live := newCallsEnv(t, testTrunk)
	c := e.as(e.main)
	e.ownNumber(e.main, "+14155550199")
	_, err := c.Api.CreateCall(&openapi.CreateCallParams{
		To: ptr("+14155550100"), From: ptr("+14155550199"),
		Url: ptr("https://app.example.com/voice"), Method: ptr("get"),
		FallbackUrl: ptr("https://backup.example.com/voice"), FallbackMethod: ptr("GET"),
		StatusCallback: ptr("https://app.example.com/status"), StatusCallbackMethod: ptr("get"),
		StatusCallbackEvent: &[]string{"initiated", "ringing", "Answered", "completed", "ringing"},
		Timeout:             ptr(600), SendDigits: ptr("W1234#wabcd*"), TimeLimit: ptr(120),
		Record: ptr(true), RecordingChannels: ptr("dual"),
		RecordingStatusCallback: ptr("https://app.example.com/rec"), RecordingStatusCallbackMethod: ptr("GET"),
		RecordingStatusCallbackEvent: &[]string{"in-progress", "completed absent"}, RecordingTrack: ptr("inbound"),
		SipAuthUsername: ptr("alice"), SipAuthPassword: ptr("s3cret"),
		MachineDetection: ptr("Enable"), MachineDetectionTimeout: ptr(30), AsyncAmd: ptr("true"),
		CallReason: ptr("Appointment"), // accepted, ignored
	})
	if err != nil {
		t.Fatalf("CreateCall: %v", err)
	}
	want := voice.Call{
		Direction: store.DirectionOutboundAPI, To: "+14155550100", From: "+14155550199",
		URL: "https://app.example.com/voice", Method: "GET",
		FallbackURL: "https://backup.example.com/voice", FallbackMethod: "GET",
		StatusCallback: "https://app.example.com/status", StatusCallbackMethod: "GET",
		StatusCallbackEvents: []string{"initiated", "ringing", "answered", "completed"},
		SendDigits:           "W1234#wABCD*", // W (a second) stays apart from w (half a second)
		TimeLimit:            2 * time.Minute,
		Record: &voice.CallRecordingOptions{
			StatusCallback: "https://app.example.com/rec", StatusCallbackMethod: "GET",
			StatusCallbackEvent: []string{"in-progress", "completed", "absent"},
			Trim:                "trim-silence", // Create Call's default
			Track:               "inbound",
			Channels:            2, // RecordingChannels=dual
		},
		// MachineDetection is ignored alongside SendDigits, as Twilio does.
		Dial: voice.DialRequest{To: "+14155550100", From: "+14155550199", Timeout: 600 * time.Second,
			Username: "alice", Password: "s3cret"},
	}
	if diff := cmp.Diff(want, live.lastPlaced(t), ignoreAccount); diff != "" {
		t.Errorf("call handed to the interpreter (-want +got):\n%s", diff)
	}

	// Raw forms the library does not send: StatusCallbackEvent as one
	// space- or comma-separated value, Trim, MachineDetection alone, an
	// explicit Record=false, Twiml of exactly 4,000 characters (not bytes).
	base := e.baseClient(e.main.SID, e.main.AuthToken, e.main.SID)
	uri := "https://api.twilio.com/2010-04-01/Accounts/" + e.main.SID + "/Calls.json"
	twiml4000 := "<Response><Say>" + strings.Repeat("é", 4000-len("<Response><Say></Say></Response>")) + "</Say></Response>"
	tests := []struct {
		name  string
		form  url.Values
		check func(voice.Call) bool
	}{
		{"events space-separated", url.Values{"StatusCallbackEvent": {"initiated ringing", "answered,Completed"}},
			func(c voice.Call) bool {
				return cmp.Equal(c.StatusCallbackEvents, []string{"initiated", "ringing", "answered", "completed"})
			}},
		{"Trim do-not-trim", url.Values{"Record": {"TRUE"}, "Trim": {"do-not-trim"}},
			func(c voice.Call) bool {
				return c.Record != nil && c.Record.Trim == "do-not-trim" && c.Record.StatusCallbackMethod == "POST"
			}},
		{"Record false", url.Values{"Record": {"false"}, "Trim": {"do-not-trim"}},
			func(c voice.Call) bool { return c.Record == nil }},
		{"MachineDetection", url.Values{"MachineDetection": {"DetectMessageEnd"}},
			func(c voice.Call) bool { return c.MachineDetection == "DetectMessageEnd" }},
		{"Timeout 1", url.Values{"Timeout": {"1"}},
			func(c voice.Call) bool { return c.Dial.Timeout == time.Second }},
		{"Twiml of 4000 characters", url.Values{"Url": nil, "Twiml": {twiml4000}},
			func(c voice.Call) bool { return c.Twiml == twiml4000 && c.URL == "" }},
		{"Twiml keeps its whitespace", url.Values{"Url": nil, "Twiml": {"\n <Response/>\n"}},
			func(c voice.Call) bool { return c.Twiml == "\n <Response/>\n" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"To": {"sip:bob@example.com"}, "From": {"+14155550199"}, "Url": {"https://app.example.com/voice"}}
			for k, v := range tt.form {
				if v == nil {
					form.Del(k)
				} else {
					form[k] = v
				}
			}
			if err := send(base, "POST", uri, form); err != nil {
				t.Fatal(err)
			}
			if got := live.lastPlaced(t); !tt.check(got) {
				t.Errorf("placed: %+v", got)
			}
		})
	}
}

func TestTwilioCreateCallErrors(t *testing.T) {
	e, live := newCallsEnv(t, testTrunk)
	c := e.as(e.main)
	e.ownNumber(e.main, "+14155550199")
	sub := e.subaccount("other")
	e.ownNumber(sub, "+14155550177")
	url1 := ptr("https://app.example.com/voice")
	sipCall := func(mod func(*openapi.CreateCallParams)) *openapi.CreateCallParams {
		p := &openapi.CreateCallParams{To: ptr("sip:alice@example.com"), From: ptr("+14155550199"), Url: url1}
		if mod != nil {
			mod(p)
		}
		return p
	}
	phoneCall := func(from string) *openapi.CreateCallParams {
		return &openapi.CreateCallParams{To: ptr("+14155550100"), From: &from, Url: url1}
	}
	to := func(v string) *openapi.CreateCallParams {
		return sipCall(func(p *openapi.CreateCallParams) { p.To = &v })
	}
	tests := []struct {
		name         string
		params       *openapi.CreateCallParams
		status, code int
	}{
		{"To missing", sipCall(func(p *openapi.CreateCallParams) { p.To = nil }), 400, 21201},
		{"To blank", to("  "), 400, 21201},
		{"To client", to("client:alice"), 400, 21211},
		{"To sips", to("sips:alice@example.com"), 400, 21211},
		{"To transport=tls", to("sip:alice@example.com;transport=tls"), 400, 21211},
		{"To SIP without host", to("sip:alice@"), 400, 21211},
		{"To SIP empty", to("sip:"), 400, 21211},
		{"To SIP with a space", to("sip:ali ce@example.com"), 400, 21211},
		{"To SIP too long", to("sip:" + strings.Repeat("a", 250) + "@example.com"), 400, 21211},
		{"To a name", to("support"), 400, 21211},
		{"To a short number", to("+1"), 400, 21211},
		{"From missing", sipCall(func(p *openapi.CreateCallParams) { p.From = nil }), 400, 21213},
		{"From with spaces for a SIP To", sipCall(func(p *openapi.CreateCallParams) { p.From = ptr("Front Desk") }), 400, 21212},
		{"From too long for a SIP To", sipCall(func(p *openapi.CreateCallParams) { p.From = ptr(strings.Repeat("a", 129)) }), 400, 21212},
		{"From not owned", phoneCall("+14155550111"), 400, 21210},
		{"From another account's", phoneCall("+14155550177"), 400, 21210},
		{"From a name for a phone To", phoneCall("support"), 400, 21212},
		{"From a SIP URI for a phone To", phoneCall("sip:bob@example.com"), 400, 21212},
		{"neither Url nor Twiml", sipCall(func(p *openapi.CreateCallParams) { p.Url = nil }), 400, 21205},
		{"Url and Twiml", sipCall(func(p *openapi.CreateCallParams) { p.Twiml = ptr("<Response/>") }), 400, 21205},
		{"Twiml blank", sipCall(func(p *openapi.CreateCallParams) { p.Url, p.Twiml = nil, ptr(" \n ") }), 400, 21205},
		{"ApplicationSid", sipCall(func(p *openapi.CreateCallParams) { p.Url, p.ApplicationSid = nil, ptr("AP"+strings.Repeat("0", 32)) }), 400, 21205},
		{"Url relative", sipCall(func(p *openapi.CreateCallParams) { p.Url = ptr("/voice") }), 400, 21205},
		{"Url not http", sipCall(func(p *openapi.CreateCallParams) { p.Url = ptr("ftp://app.example.com/voice") }), 400, 21205},
		{"Twiml of 4001 characters", sipCall(func(p *openapi.CreateCallParams) { p.Url, p.Twiml = nil, ptr(strings.Repeat("é", 4001)) }), 400, 32018},
		{"Method", sipCall(func(p *openapi.CreateCallParams) { p.Method = ptr("PUT") }), 400, 21403},
		{"FallbackUrl", sipCall(func(p *openapi.CreateCallParams) { p.FallbackUrl = ptr("backup") }), 400, 21205},
		{"FallbackMethod", sipCall(func(p *openapi.CreateCallParams) { p.FallbackMethod = ptr("DELETE") }), 400, 21403},
		{"StatusCallback", sipCall(func(p *openapi.CreateCallParams) { p.StatusCallback = ptr("not a url") }), 400, 21609},
		{"StatusCallbackMethod", sipCall(func(p *openapi.CreateCallParams) { p.StatusCallbackMethod = ptr("PATCH") }), 400, 21403},
		{"StatusCallbackEvent", sipCall(func(p *openapi.CreateCallParams) { p.StatusCallbackEvent = &[]string{"answered", "busy"} }), 400, 21626},
		{"StatusCallbackEvent in-progress", sipCall(func(p *openapi.CreateCallParams) { p.StatusCallbackEvent = &[]string{"in-progress"} }), 400, 21626},
		{"Timeout 0", sipCall(func(p *openapi.CreateCallParams) { p.Timeout = ptr(0) }), 400, 20001},
		{"Timeout 601", sipCall(func(p *openapi.CreateCallParams) { p.Timeout = ptr(601) }), 400, 20001},
		{"Timeout negative", sipCall(func(p *openapi.CreateCallParams) { p.Timeout = ptr(-5) }), 400, 20001},
		{"TimeLimit 0", sipCall(func(p *openapi.CreateCallParams) { p.TimeLimit = ptr(0) }), 400, 20001},
		{"SendDigits letter", sipCall(func(p *openapi.CreateCallParams) { p.SendDigits = ptr("12x") }), 400, 20001},
		{"SendDigits too long", sipCall(func(p *openapi.CreateCallParams) { p.SendDigits = ptr(strings.Repeat("1", 33)) }), 400, 20001},
		{"Trim", sipCall(func(p *openapi.CreateCallParams) { p.Record, p.Trim = ptr(true), ptr("trim") }), 400, 20001},
		{"RecordingChannels", sipCall(func(p *openapi.CreateCallParams) { p.Record, p.RecordingChannels = ptr(true), ptr("stereo") }), 400, 20001},
		{"RecordingTrack", sipCall(func(p *openapi.CreateCallParams) { p.Record, p.RecordingTrack = ptr(true), ptr("left") }), 400, 20001},
		{"RecordingStatusCallback", sipCall(func(p *openapi.CreateCallParams) { p.Record, p.RecordingStatusCallback = ptr(true), ptr("rec") }), 400, 21502},
		{"MachineDetection", sipCall(func(p *openapi.CreateCallParams) { p.MachineDetection = ptr("Yes") }), 400, 21234},
		{"AsyncAmd", sipCall(func(p *openapi.CreateCallParams) { p.AsyncAmd = ptr("maybe") }), 400, 20001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Api.CreateCall(tt.params)
			wantTwilioError(t, err, tt.status, tt.code)
		})
	}

	// What the library cannot send: a Timeout or Record that is not a
	// number or boolean.
	base := e.baseClient(e.main.SID, e.main.AuthToken, e.main.SID)
	uri := "https://api.twilio.com/2010-04-01/Accounts/" + e.main.SID + "/Calls.json"
	for _, kv := range [][2]string{{"Timeout", "abc"}, {"Timeout", "60s"}, {"TimeLimit", "1h"}, {"Record", "yes"}} {
		t.Run(kv[0]+"="+kv[1], func(t *testing.T) {
			form := url.Values{"To": {"sip:alice@example.com"}, "From": {"alice"}, "Url": {*url1}, kv[0]: {kv[1]}}
			wantTwilioError(t, send(base, "POST", uri, form), 400, 20001)
		})
	}
	if n := live.placedCount(); n != 0 {
		t.Errorf("%d refused calls reached the interpreter", n)
	}
	// A suspended subaccount places nothing.
	if _, err := c.Api.UpdateAccount(sub.SID, &openapi.UpdateAccountParams{Status: ptr("suspended")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Api.CreateCall(&openapi.CreateCallParams{PathAccountSid: &sub.SID, To: ptr("sip:alice@example.com"), From: ptr("a"), Url: url1})
	wantTwilioError(t, err, 403, 20005)
}

// TestTwilioCreateCallWithoutTrunk: a phone number cannot be called without
// a trunk (21214); SIP addresses can.
func TestTwilioCreateCallWithoutTrunk(t *testing.T) {
	e, live := newCallsEnv(t, "")
	c := e.as(e.main)
	e.ownNumber(e.main, "+14155550199")
	_, err := c.Api.CreateCall(&openapi.CreateCallParams{To: ptr("+14155550100"), From: ptr("+14155550199"), Url: ptr("https://app.example.com/voice")})
	wantTwilioError(t, err, 400, 21214)
	if live.placedCount() != 0 {
		t.Error("the call reached the interpreter")
	}
	if _, err := c.Api.CreateCall(&openapi.CreateCallParams{To: ptr("sip:bob@example.com"), From: ptr("+14155550199"),
		Url: ptr("https://app.example.com/voice")}); err != nil {
		t.Errorf("SIP call without a trunk: %v", err)
	}
}

func TestTwilioUpdateCall(t *testing.T) {
	e, live := newLiveEnv(t)
	c := e.as(e.main)
	m := e.main.SID

	// Url and Method: the call goes on with the new document.
	answered := liveCall(t, e.st, live, m, true)
	got, err := c.Api.UpdateCall(answered.SID, &openapi.UpdateCallParams{
		Url: ptr("https://app.example.com/next"), Method: ptr("get"),
		FallbackUrl: ptr("https://backup.example.com/next"), StatusCallback: ptr("https://app.example.com/status"),
		StatusCallbackMethod: ptr("GET"), TimeLimit: ptr(30),
	})
	if err != nil {
		t.Fatalf("UpdateCall Url: %v", err)
	}
	if *got.Sid != answered.SID || *got.Status != "in-progress" {
		t.Errorf("after redirect: %s", dump(got))
	}
	// Twiml, kept as sent.
	twiml := "<Response>\n  <Hangup/>\n</Response>"
	if _, err := c.Api.UpdateCall(answered.SID, &openapi.UpdateCallParams{Twiml: &twiml}); err != nil {
		t.Fatalf("UpdateCall Twiml: %v", err)
	}
	// Status completed hangs up.
	got, err = c.Api.UpdateCall(answered.SID, &openapi.UpdateCallParams{Status: ptr("completed")})
	if err != nil {
		t.Fatalf("UpdateCall completed: %v", err)
	}
	if *got.Status != "completed" || got.EndTime == nil || got.Duration == nil {
		t.Errorf("after hang-up: %s", dump(got))
	}
	// Status canceled cancels a ringing call.
	ringing := liveCall(t, e.st, live, m, false)
	got, err = c.Api.UpdateCall(ringing.SID, &openapi.UpdateCallParams{Status: ptr("Canceled")})
	if err != nil {
		t.Fatalf("UpdateCall canceled: %v", err)
	}
	if *got.Status != "canceled" || *got.Duration != "0" {
		t.Errorf("after cancel: %s", dump(got))
	}
	want := []voice.Update{
		{URL: "https://app.example.com/next", Method: "GET", FallbackURL: "https://backup.example.com/next", FallbackMethod: "POST",
			StatusCallback: "https://app.example.com/status", StatusCallbackMethod: "GET", TimeLimit: 30 * time.Second},
		{Twiml: twiml, Method: "POST", FallbackMethod: "POST", StatusCallbackMethod: "POST"},
		{Status: store.CallCompleted, Method: "POST", FallbackMethod: "POST", StatusCallbackMethod: "POST"},
		{Status: store.CallCanceled, Method: "POST", FallbackMethod: "POST", StatusCallbackMethod: "POST"},
	}
	if diff := cmp.Diff(want, live.steers); diff != "" {
		t.Errorf("updates handed to the interpreter (-want +got):\n%s", diff)
	}

	// The call is over now: 21220, and nothing reaches the interpreter.
	_, err = c.Api.UpdateCall(answered.SID, &openapi.UpdateCallParams{Status: ptr("completed")})
	wantTwilioError(t, err, 400, 21220)
	_, err = c.Api.UpdateCall(ringing.SID, &openapi.UpdateCallParams{Url: ptr("https://app.example.com/x")})
	wantTwilioError(t, err, 400, 21220)
	if len(live.steers) != len(want) {
		t.Errorf("updates of finished calls reached the interpreter: %+v", live.steers[len(want):])
	}
}

func TestTwilioUpdateCallErrors(t *testing.T) {
	e, live := newLiveEnv(t)
	c := e.as(e.main)
	m := e.main.SID
	answered := liveCall(t, e.st, live, m, true)
	over := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550100", To: "support", Status: store.CallCompleted,
		StartTime: at(1, 9, 0, 0), AnsweredAt: at(1, 9, 0, 1), EndTime: at(1, 9, 1, 0), Duration: 59})
	elsewhere := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550100", To: "support", Status: store.CallInProgress,
		StartTime: at(1, 9, 0, 0), AnsweredAt: at(1, 9, 0, 1)})
	sub := e.subaccount("other")
	theirs := liveCall(t, e.st, live, sub.SID, true)
	hangUp := &openapi.UpdateCallParams{Status: ptr("completed")}
	tests := []struct {
		name         string
		callSID      string
		params       *openapi.UpdateCallParams
		status, code int
		reaches      bool // the request reaches the interpreter
	}{
		{"unknown call", "CA" + strings.Repeat("9", 32), hangUp, 404, 20404, false},
		{"not a call SID", "CA123", hangUp, 404, 20404, false},
		{"another account's call", theirs.SID, hangUp, 404, 20404, false},
		{"finished call", over.SID, hangUp, 400, 21220, false},
		{"finished call, Url", over.SID, &openapi.UpdateCallParams{Url: ptr("https://app.example.com/x")}, 400, 21220, false},
		{"call not live here", elsewhere.SID, hangUp, 400, 21220, true},
		{"Status in-progress", answered.SID, &openapi.UpdateCallParams{Status: ptr("in-progress")}, 400, 20001, false},
		{"Status busy", answered.SID, &openapi.UpdateCallParams{Status: ptr("busy")}, 400, 20001, false},
		{"Url and Twiml", answered.SID, &openapi.UpdateCallParams{Url: ptr("https://app.example.com/x"), Twiml: ptr("<Response/>")}, 400, 21205, false},
		{"Url relative", answered.SID, &openapi.UpdateCallParams{Url: ptr("/x")}, 400, 21205, false},
		{"Twiml too long", answered.SID, &openapi.UpdateCallParams{Twiml: ptr(strings.Repeat("x", 4001))}, 400, 32018, false},
		{"Method", answered.SID, &openapi.UpdateCallParams{Url: ptr("https://app.example.com/x"), Method: ptr("PUT")}, 400, 21403, false},
		{"StatusCallback", answered.SID, &openapi.UpdateCallParams{StatusCallback: ptr("status")}, 400, 21609, false},
		{"FallbackUrl", answered.SID, &openapi.UpdateCallParams{FallbackUrl: ptr("fallback")}, 400, 21205, false},
		{"TimeLimit", answered.SID, &openapi.UpdateCallParams{TimeLimit: ptr(-1)}, 400, 20001, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(live.steers)
			_, err := c.Api.UpdateCall(tt.callSID, tt.params)
			wantTwilioError(t, err, tt.status, tt.code)
			if reached := len(live.steers) > before; reached != tt.reaches {
				t.Errorf("reached the interpreter: %v, want %v", reached, tt.reaches)
			}
		})
	}

	// A call with too many commands pending: 429 with 20429.
	live.mu.Lock()
	live.steerErr = voice.ErrBusy
	live.mu.Unlock()
	_, err := c.Api.UpdateCall(answered.SID, &openapi.UpdateCallParams{Url: ptr("https://app.example.com/x")})
	wantTwilioError(t, err, 429, 20429)
	// Any other failure of the interpreter is switchboard's: 500.
	live.mu.Lock()
	live.steerErr = errors.New("boom")
	live.mu.Unlock()
	_, err = c.Api.UpdateCall(answered.SID, hangUp)
	wantTwilioError(t, err, 500, 20500)
	// Without an interpreter, no call is live.
	e2 := newEnv(t)
	call := putCall(t, e2.st, store.Call{AccountSID: e2.main.SID, From: "a", To: "b", Status: store.CallInProgress, StartTime: at(1, 0, 0, 0)})
	_, err = e2.as(e2.main).Api.UpdateCall(call.SID, hangUp)
	wantTwilioError(t, err, 400, 21220)
}

func TestTwilioDeleteCall(t *testing.T) {
	e, live := newLiveEnv(t)
	c := e.as(e.main)
	m := e.main.SID
	over := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550100", To: "support", Status: store.CallCompleted,
		StartTime: at(1, 9, 0, 0), AnsweredAt: at(1, 9, 0, 1), EndTime: at(1, 9, 1, 0), Duration: 59})
	appendWebhookEvents(t, e.st, m, over.SID, 3)
	kept := putCall(t, e.st, store.Call{AccountSID: m, From: "+14155550100", To: "support", Status: store.CallBusy,
		StartTime: at(1, 9, 0, 0), EndTime: at(1, 9, 0, 5)})
	appendWebhookEvents(t, e.st, m, kept.SID, 2)
	running := liveCall(t, e.st, live, m, true)
	queued := putCall(t, e.st, store.Call{AccountSID: m, From: "a", To: "sip:b@example.com", Direction: store.DirectionOutboundAPI,
		Status: store.CallQueued, DateCreated: at(1, 10, 0, 0)})
	sub := e.subaccount("other")
	theirs := putCall(t, e.st, store.Call{AccountSID: sub.SID, From: "a", To: "b", Status: store.CallCompleted,
		StartTime: at(1, 9, 0, 0), EndTime: at(1, 9, 1, 0)})

	if err := c.Api.DeleteCall(over.SID, nil); err != nil {
		t.Fatalf("DeleteCall: %v", err)
	}
	_, err := c.Api.FetchCall(over.SID, nil)
	wantTwilioError(t, err, 404, 20404)
	wantTwilioError(t, c.Api.DeleteCall(over.SID, nil), 404, 20404)
	_, err = c.Api.ListCallEvent(over.SID, nil)
	wantTwilioError(t, err, 404, 20404)
	// Its events went with it; the other call's stayed.
	evs, _, err := e.st.ListEvents(t.Context(), store.EventFilter{AccountSID: m}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.CallSID == over.SID {
			t.Errorf("event %d of the deleted call survived", ev.Seq)
		}
	}
	if list, err := c.Api.ListCallEvent(kept.SID, nil); err != nil || len(list) != 2 {
		t.Errorf("the other call's events: %d, %v", len(list), err)
	}

	// Calls not over yet, and calls out of reach.
	wantTwilioError(t, c.Api.DeleteCall(running.SID, nil), 400, 21220)
	wantTwilioError(t, c.Api.DeleteCall(queued.SID, nil), 400, 21220)
	wantTwilioError(t, c.Api.DeleteCall(theirs.SID, nil), 404, 20404)
	wantTwilioError(t, c.Api.DeleteCall("CA"+strings.Repeat("0", 32), nil), 404, 20404)
	wantTwilioError(t, c.Api.DeleteCall("CAxyz", nil), 404, 20404)
	for _, s := range []string{running.SID, queued.SID, kept.SID} {
		if _, err := c.Api.FetchCall(s, nil); err != nil {
			t.Errorf("call %s after refused or other deletes: %v", s, err)
		}
	}
	// The parent may delete its subaccount's finished call.
	if err := c.Api.DeleteCall(theirs.SID, &openapi.DeleteCallParams{PathAccountSid: &sub.SID}); err != nil {
		t.Errorf("parent deleting the subaccount's call: %v", err)
	}
}
