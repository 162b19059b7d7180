package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// errBody decodes a Twilio error body, failing the test when it is not one.
func errBody(t *testing.T, body []byte) (code, status int) {
	t.Helper()
	var e struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
		Status   int    `json:"status"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Code == 0 || e.Message == "" || e.MoreInfo == "" {
		t.Fatalf("not a Twilio error body (%v): %s", err, body)
	}
	return e.Code, e.Status
}

// TestHTTPEdgeCases covers requests the helper libraries never make.
func TestHTTPEdgeCases(t *testing.T) {
	g := newGoldenFixture(t)
	m := g.main
	numbers := "/2010-04-01/Accounts/" + m.SID + "/IncomingPhoneNumbers.json"
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		code   int
	}{
		{"no credentials", func() *http.Request {
			return newReq("GET", numbers, "", "")
		}, 401, 20003},
		{"not basic auth", func() *http.Request {
			r := newReq("GET", numbers, "", "")
			r.Header.Set("Authorization", "Bearer abc")
			return r
		}, 401, 20003},
		{"garbled basic auth", func() *http.Request {
			r := newReq("GET", numbers, "", "")
			r.Header.Set("Authorization", "Basic !!!")
			return r
		}, 401, 20003},
		{"empty password", func() *http.Request {
			r := newReq("GET", numbers, "", "")
			r.SetBasicAuth(m.SID, "")
			return r
		}, 401, 20003},
		{"unknown path, bad credentials", func() *http.Request {
			r := newReq("GET", "/2010-04-01/Nothing", "", "")
			r.SetBasicAuth(m.SID, "bad")
			return r
		}, 401, 20003},
		{"unknown path", func() *http.Request { return authed(newReq("GET", "/2010-04-01/Nothing", "", ""), m.SID, m.AuthToken) }, 404, 20404},
		{"JSON body", func() *http.Request {
			return authed(newReq("POST", numbers, `{"PhoneNumber":"+14155550100"}`, "application/json"), m.SID, m.AuthToken)
		}, 400, 400},
		{"malformed form", func() *http.Request {
			return authed(newReq("POST", numbers, "PhoneNumber=%zz", "application/x-www-form-urlencoded"), m.SID, m.AuthToken)
		}, 400, 400},
		{"huge body", func() *http.Request {
			return authed(newReq("POST", numbers, "FriendlyName="+strings.Repeat("x", 2<<20), "application/x-www-form-urlencoded"), m.SID, m.AuthToken)
		}, 413, 20413},
		{"huge body of unknown length", func() *http.Request {
			r := authed(newReq("POST", numbers, "FriendlyName="+strings.Repeat("x", 2<<20), "application/x-www-form-urlencoded"), m.SID, m.AuthToken)
			r.ContentLength = -1 // as a chunked body arrives
			return r
		}, 413, 20413},
		{"bad boolean", func() *http.Request {
			return authed(newReq("POST", numbers, "PhoneNumber=%2B14155550100&VoiceCallerIdLookup=yes", "application/x-www-form-urlencoded"), m.SID, m.AuthToken)
		}, 400, 400},
		{"friendly name not UTF-8", func() *http.Request {
			return authed(newReq("POST", numbers, "PhoneNumber=%2B14155550100&FriendlyName=%ff", "application/x-www-form-urlencoded"), m.SID, m.AuthToken)
		}, 400, 20002},
		{"TrunkSid", func() *http.Request {
			return authed(newReq("POST", numbers, "PhoneNumber=%2B14155550100&TrunkSid=TK123", "application/x-www-form-urlencoded"), m.SID, m.AuthToken)
		}, 400, 400},
		{"PageSize zero", func() *http.Request { return authed(newReq("GET", numbers+"?PageSize=0", "", ""), m.SID, m.AuthToken) }, 400, 20007},
		{"PageSize text", func() *http.Request {
			return authed(newReq("GET", numbers+"?PageSize=ten", "", ""), m.SID, m.AuthToken)
		}, 400, 20007},
		{"Page negative", func() *http.Request { return authed(newReq("GET", numbers+"?Page=-1", "", ""), m.SID, m.AuthToken) }, 400, 21481},
		{"Page text", func() *http.Request { return authed(newReq("GET", numbers+"?Page=two", "", ""), m.SID, m.AuthToken) }, 400, 21481},
		{"token of another list", func() *http.Request {
			tok := url.QueryEscape("PA" + m.SID + "_1714564920000000")
			return authed(newReq("GET", numbers+"?PageToken="+tok, "", ""), m.SID, m.AuthToken)
		}, 400, 21481},
		{"account status filter", func() *http.Request {
			return authed(newReq("GET", "/2010-04-01/Accounts.json?Status=sleeping", "", ""), m.SID, m.AuthToken)
		}, 400, 400},
		{"account FriendlyName too long", func() *http.Request {
			return authed(newReq("POST", "/2010-04-01/Accounts.json", "FriendlyName="+strings.Repeat("y", 65), "application/x-www-form-urlencoded"), m.SID, m.AuthToken)
		}, 400, 20002},
		{"account path not a SID", func() *http.Request {
			return authed(newReq("GET", "/2010-04-01/Accounts/me.json", "", ""), m.SID, m.AuthToken)
		}, 401, 20003},
		{"number path not .json", func() *http.Request {
			return authed(newReq("GET", "/2010-04-01/Accounts/"+m.SID+"/IncomingPhoneNumbers/PN"+strings.Repeat("1", 32), "", ""), m.SID, m.AuthToken)
		}, 404, 20404},
		{"typed alias DELETE", func() *http.Request {
			return authed(newReq("DELETE", "/2010-04-01/Accounts/"+m.SID+"/IncomingPhoneNumbers/Local.json", "", ""), m.SID, m.AuthToken)
		}, 405, 20004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(g.h, tt.req())
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			code, status := errBody(t, rec.Body.Bytes())
			if code != tt.code || status != tt.status {
				t.Errorf("body code/status %d/%d, want %d/%d", code, status, tt.code, tt.status)
			}
			if tt.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// Nothing above created a number.
	rec := serve(g.h, authed(newReq("GET", numbers, "", ""), m.SID, m.AuthToken))
	var list struct {
		Numbers []any `json:"incoming_phone_numbers"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list.Numbers) != 0 {
		t.Errorf("numbers after refused requests: %s", rec.Body)
	}
}

func TestMethodNotAllowedHeader(t *testing.T) {
	g := newGoldenFixture(t)
	r := authed(newReq("PUT", "/2010-04-01/Accounts/"+g.main.SID+"/IncomingPhoneNumbers/PN"+strings.Repeat("1", 32)+".json", "", ""), g.main.SID, g.main.AuthToken)
	rec := serve(g.h, r)
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, POST, DELETE" {
		t.Errorf("status %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

func newReq(method, path, body, contentType string) *http.Request {
	r, err := http.NewRequest(method, "http://switchboard.test"+path, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func authed(r *http.Request, user, pass string) *http.Request {
	r.SetBasicAuth(user, pass)
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}
