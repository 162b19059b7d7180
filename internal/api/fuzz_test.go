package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
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
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	g := newGoldenFixture(f)
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
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s %q: status %d, body not JSON: %s", method, path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			errBody(t, rec.Body.Bytes())
		}
	})
}
