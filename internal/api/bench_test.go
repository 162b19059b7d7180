package api_test

import (
	"fmt"
	"net/url"
	"testing"
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
