package api_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/store"
)

// BenchmarkFetchNumber is one authenticated GET of an IncomingPhoneNumber
// through the handler: basic auth, the account lookup, the number lookup and
// the JSON body.
func BenchmarkFetchNumber(b *testing.B) {
	g := newGoldenFixture(b)
	m := g.main
	rec := g.do("POST", "/2010-04-01/Accounts/"+m.SID+"/IncomingPhoneNumbers.json",
		url.Values{"PhoneNumber": {"+14155550100"}}, m.SID, m.AuthToken)
	if rec.Code != 201 {
		b.Fatal(rec.Code, rec.Body)
	}
	path := "/2010-04-01/Accounts/" + m.SID + "/IncomingPhoneNumbers/PN" + fmt.Sprintf("%032x", 1) + ".json"
	b.ReportAllocs()
	for b.Loop() {
		if rec := g.do("GET", path, nil, m.SID, m.AuthToken); rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}

// BenchmarkListNumbers is one page of 50 numbers, with the envelope.
func BenchmarkListNumbers(b *testing.B) {
	g := newGoldenFixture(b)
	m := g.main
	for i := range 200 {
		rec := g.do("POST", "/2010-04-01/Accounts/"+m.SID+"/IncomingPhoneNumbers.json",
			url.Values{"PhoneNumber": {fmt.Sprintf("+1415555%04d", i)}}, m.SID, m.AuthToken)
		if rec.Code != 201 {
			b.Fatal(rec.Code, rec.Body)
		}
	}
	path := "/2010-04-01/Accounts/" + m.SID + "/IncomingPhoneNumbers.json?PageSize=50&Page=1"
	b.ReportAllocs()
	for b.Loop() {
		if rec := g.do("GET", path, nil, m.SID, m.AuthToken); rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}

// BenchmarkListCalls is the second page of 50 calls, newest first, by page
// token, with a date filter: the query a call-log poller makes.
func BenchmarkListCalls(b *testing.B) {
	g := newGoldenFixture(b)
	m := g.main
	for i := range 200 {
		start := at(1, 12, 0, 0).Add(time.Duration(i) * time.Second)
		putCall(b, g.st, store.Call{SID: fmt.Sprintf("CA%032x", i+1), AccountSID: m.SID, PhoneNumberSID: "PN" + fmt.Sprintf("%032x", 1),
			From: "+14155550100", To: "+14155550199", Status: store.CallCompleted,
			StartTime: start, AnsweredAt: start, EndTime: start.Add(time.Minute), Duration: 60})
	}
	base := "/2010-04-01/Accounts/" + m.SID + "/Calls.json?StartTime%3E=2024-05-01&PageSize=50"
	rec := g.do("GET", base, nil, m.SID, m.AuthToken)
	var env struct {
		Next string `json:"next_page_uri"`
	}
	if err := decodeJSON(rec.Body, &env); err != nil || env.Next == "" {
		b.Fatal(rec.Code, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if rec := g.do("GET", env.Next, nil, m.SID, m.AuthToken); rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}

// BenchmarkFetchCall is one authenticated GET of a call record.
func BenchmarkFetchCall(b *testing.B) {
	g := newGoldenFixture(b)
	m := g.main
	c := putCall(b, g.st, store.Call{AccountSID: m.SID, From: "+14155550100", To: "support", Status: store.CallInProgress,
		StartTime: at(1, 12, 0, 0), AnsweredAt: at(1, 12, 0, 1)})
	path := "/2010-04-01/Accounts/" + m.SID + "/Calls/" + c.SID + ".json"
	b.ReportAllocs()
	for b.Loop() {
		if rec := g.do("GET", path, nil, m.SID, m.AuthToken); rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}

// BenchmarkFetchRecording is one authenticated GET of a Recording's metadata.
func BenchmarkFetchRecording(b *testing.B) {
	g := newGoldenFixture(b)
	m := g.main
	rec := putRecording(b, g.st, g.dir, store.Recording{AccountSID: m.SID, CallSID: fmt.Sprintf("CA%032x", 1),
		Status: store.RecordingCompleted, StartTime: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}, tone1k(8000))
	path := "/2010-04-01/Accounts/" + m.SID + "/Recordings/" + rec.SID + ".json"
	b.ReportAllocs()
	for b.Loop() {
		if rec := g.do("GET", path, nil, m.SID, m.AuthToken); rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}

// BenchmarkRecordingMedia is one authenticated download of a 10 s recording
// (160 KB of WAV) through http.ServeContent.
func BenchmarkRecordingMedia(b *testing.B) {
	g := newGoldenFixture(b)
	m := g.main
	rec := putRecording(b, g.st, g.dir, store.Recording{AccountSID: m.SID, CallSID: fmt.Sprintf("CA%032x", 1),
		Status: store.RecordingCompleted, StartTime: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}, tone1k(80000))
	path := "/2010-04-01/Accounts/" + m.SID + "/Recordings/" + rec.SID + ".wav"
	b.ReportAllocs()
	b.SetBytes(160044)
	for b.Loop() {
		if rec := g.do("GET", path, nil, m.SID, m.AuthToken); rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}
