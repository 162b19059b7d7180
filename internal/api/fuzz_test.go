package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// FuzzRequests sends arbitrary methods, paths, query strings and form bodies
// to the API with valid credentials: whatever arrives, the answer is a
// well-formed response, never a 5xx and never a panic.
func FuzzRequests(f *testing.F) {
	seeds := []struct{ method, path, body string }{
		{"POST", "/IncomingPhoneNumbers.json", "PhoneNumber=%2B14155550100&VoiceUrl=https%3A%2F%2Fa.example.com%2Fv"},
		{"POST", "/IncomingPhoneNumbers.json", "PhoneNumber=support&VoiceMethod=get&VoiceCallerIdLookup=TRUE"},
		{"POST", "/IncomingPhoneNumbers.json", "PhoneNumber=&AreaCode=415"},
		{"POST", "/IncomingPhoneNumbers/Local.json", "PhoneNumber=%2B1&FriendlyName=%ff"},
		{"GET", "/IncomingPhoneNumbers.json?PageSize=2&Page=3&PageToken=PAPN", ""},
		{"GET", "/IncomingPhoneNumbers.json?PhoneNumber=%25_%5C*&FriendlyName=x", ""},
		{"POST", "/IncomingPhoneNumbers/PN00000000000000000000000000000001.json", "PhoneNumber=x&AccountSid=AC1"},
		{"DELETE", "/IncomingPhoneNumbers/PN00000000000000000000000000000001.json", ""},
		{"POST", ".json", "FriendlyName=x&Status=closed"},
		{"GET", ".json?Status=active&FriendlyName=a", ""},
		{"PATCH", "/Calls.json", "a=b"},
		{"GET", "/Calls.json?To=%2B1+415&From=support&Status=Completed&StartTime%3E=2024-05-01&EndTime%3C=2024-05-02T00:00:00Z", ""},
		{"GET", "/Calls.json?StartTime=0001-01-01&ParentCallSid=CA00000000000000000000000000000001&PageToken=PBCA00000000000000000000000000000001_0", ""},
		{"GET", "/Calls/CA00000000000000000000000000000001.json", ""},
		{"POST", "/Calls/CA00000000000000000000000000000001.json", "Status=completed"},
		{"POST", "/Calls.json", "To=sip%3Aalice%40example.com&From=alice&Twiml=%3CResponse%2F%3E&StatusCallbackEvent=initiated+ringing&Timeout=30&Record=true&SendDigits=W1w"},
		{"POST", "/Calls.json", "To=%2B14155550100&CallerId=%2B14155550199&Url=https%3A%2F%2Fa.example.com%2Fv&Method=GET"},
		{"POST", "/Calls/CA00000000000000000000000000000001.json", "Url=https%3A%2F%2Fa.example.com%2Fv&TimeLimit=10"},
		{"DELETE", "/Calls/CA00000000000000000000000000000002.json", ""},
		{"GET", "/Calls/CA00000000000000000000000000000001/Events.json?PageSize=1&Page=1&PageToken=PBCA00000000000000000000000000000001_1", ""},
		{"GET", "/Calls/CA00000000000000000000000000000001/Notifications.json?Log=0&MessageDate%3C=2024-05-02", ""},
		{"GET", "/Calls/CA00000000000000000000000000000001/Notifications/NO00000000000000000000000000000001.json", ""},
		{"GET", "/Notifications.json?MessageDate=2024-05-01&Log=1&PageSize=1", ""},
		{"GET", "/Notifications/NO00000000000000000000000000000001.json", ""},
		{"GET", "/Recordings.json?CallSid=CA00000000000000000000000000000001&DateCreated%3E=2024-05-01&IncludeSoftDeleted=true", ""},
		{"GET", "/Recordings.json?ConferenceSid=CF1&DateCreated=2024-13-01", ""},
		{"GET", "/Recordings/RE00000000000000000000000000000001.json", ""},
		{"GET", "/Recordings/RE00000000000000000000000000000001", ""},
		{"GET", "/Recordings/RE00000000000000000000000000000001.wav?RequestedChannels=2", ""},
		{"GET", "/Recordings/RE00000000000000000000000000000001.mp3", ""},
		{"GET", "/Recordings/RE00000000000000000000000000000001.wav.json", ""},
		{"POST", "/Recordings/RE00000000000000000000000000000001.json", "Status=paused"},
		{"DELETE", "/Recordings/RE00000000000000000000000000000002.json", ""},
		{"GET", "/Calls/CA00000000000000000000000000000001/Recordings.json?DateCreated%3C=2024-05-02", ""},
		{"POST", "/Calls/CA00000000000000000000000000000001/Recordings.json", "RecordingStatusCallbackEvent=in-progress+completed&RecordingStatusCallback=https%3A%2F%2Fa.example.com&Trim=trim-silence"},
		{"POST", "/Calls/CA00000000000000000000000000000001/Recordings/Twilio.CURRENT.json", "Status=paused&PauseBehavior=skip"},
		{"POST", "/Calls/CA00000000000000000000000000000001/Recordings/RE00000000000000000000000000000001.json", "Status=stopped"},
		{"DELETE", "/Calls/CA00000000000000000000000000000001/Recordings/RE00000000000000000000000000000001.json", ""},
		{"GET", "/Conferences.json?Status=in-progress&FriendlyName=room&DateUpdated%3C=2024-05-02&PageSize=1", ""},
		{"GET", "/Conferences/CF00000000000000000000000000000001.json", ""},
		{"POST", "/Conferences/CF00000000000000000000000000000001.json", "AnnounceUrl=https%3A%2F%2Fa.example.com%2Fa&AnnounceMethod=get"},
		{"GET", "/Conferences/CF00000000000000000000000000000001/Participants.json?Muted=true&Hold=false&PageToken=PACP00000000000000000000000000000001_1", ""},
		{"GET", "/Conferences/CF00000000000000000000000000000001/Participants/a%20label.json", ""},
		{"POST", "/Conferences/CF00000000000000000000000000000001/Participants/CA00000000000000000000000000000001.json", "Muted=true&Hold=true&HoldUrl=https%3A%2F%2Fa.example.com%2Fh"},
		{"POST", "/Conferences/room%201/Participants.json", "From=alice&To=sip%3Abob%40example.com&Label=x&Beep=onEnter&ConferenceStatusCallbackEvent=start+join"},
		{"DELETE", "/Conferences/CF00000000000000000000000000000001/Participants/a%20label.json", ""},
		{"GET", "/Conferences/CF00000000000000000000000000000001/Recordings.json?DateCreated=2024-05-01", ""},
		{"POST", "/Conferences/CF00000000000000000000000000000001.json", "Status=completed"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	g := newGoldenFixture(f)
	// Placed calls get random SIDs: the fixture's counter would hand out
	// the SIDs of the calls below.
	g.live.newCallSID = nil
	// A call and a notification, so that fetches and lists render rows.
	call := fmt.Sprintf("CA%032x", 1)
	putCall(f, g.st, store.Call{SID: call, AccountSID: g.main.SID, From: "+14155550100", To: "support",
		Status: store.CallCompleted, StartTime: at(1, 12, 0, 0), AnsweredAt: at(1, 12, 0, 1), EndTime: at(1, 12, 1, 0), Duration: 59})
	n := webhookFailure(g.main.SID, call, at(1, 12, 0, 30))
	n.SID = fmt.Sprintf("NO%032x", 1)
	putNotification(f, g.st, n)
	// Recordings: one with its file, one in progress; the call is live, so
	// that recording requests reach the (fake) interpreter.
	putRecording(f, g.st, g.dir, store.Recording{SID: fmt.Sprintf("RE%032x", 1), AccountSID: g.main.SID, CallSID: call,
		Status: store.RecordingCompleted, StartTime: at(1, 12, 0, 5)}, tone1k(800))
	putRecording(f, g.st, g.dir, store.Recording{SID: fmt.Sprintf("RE%032x", 2), AccountSID: g.main.SID, CallSID: call,
		Source: store.SourceStartCallRecording, Status: store.RecordingInProgress, StartTime: at(1, 12, 0, 10)}, nil)
	g.live.setLive(call, true)
	// A live conference with a participant, so that conference requests
	// reach the (fake) interpreter.
	g.rooms.newSID = func(prefix string) string { return sid.New(prefix) }
	room := putConference(f, g.st, store.Conference{SID: fmt.Sprintf("CF%032x", 1), AccountSID: g.main.SID, FriendlyName: "room"},
		store.Participant{AccountSID: g.main.SID, CallSID: call, Label: "a label"})
	g.rooms.setLive(room.SID)
	base := "http://switchboard.test/2010-04-01/Accounts/" + g.main.SID
	f.Fuzz(func(t *testing.T, method, path, body string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(g.main.SID, g.main.AuthToken)
		rec := serve(g.h, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: status %d: %s", method, path, body, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusNoContent || rec.Code == http.StatusMovedPermanently || rec.Code == http.StatusTemporaryRedirect {
			return // ServeMux cleans odd paths with a redirect
		}
		if ct := rec.Header().Get("Content-Type"); rec.Code < 300 && ct == "audio/x-wav" {
			return // a recording's media
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s %q: status %d, body not JSON: %s", method, path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			errBody(t, rec.Body.Bytes())
		}
	})
}
