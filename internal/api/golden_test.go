package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/api"
	"github.com/switchboard-voice/switchboard/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenFixture is an API with deterministic SIDs, tokens and clock, so
// that response bodies can be compared byte for byte.
type goldenFixture struct {
	h     http.Handler
	st    store.Store
	dir   string     // data directory: recording files
	live  *fakeLive  // the calls in progress
	rooms *fakeRooms // the conferences in progress
	main  store.Account
	sub   store.Account // filled in by the step that creates it
	last  *httptest.ResponseRecorder
}

func newGoldenFixture(t testing.TB) *goldenFixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	main, err := st.CreateAccount(t.Context(), store.Account{
		SID: "AC" + strings.Repeat("a", 32), OwnerAccountSID: "AC" + strings.Repeat("a", 32),
		FriendlyName: "switchboard", AuthToken: strings.Repeat("1", 32), Status: store.StatusActive,
		DateCreated: t0, DateUpdated: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := 0
	newSID := func(prefix string) string { ids++; return fmt.Sprintf("%s%032x", prefix, ids) }
	newToken := func() string { ids++; return fmt.Sprintf("%032x", 0xf000+ids) }
	ticks := 0
	now := func() time.Time { ticks++; return t0.Add(time.Duration(ticks) * time.Minute) }
	live := newFakeLive(st, dir, func() string { return newSID("RE") }, now)
	live.newCallSID = func() string { return newSID("CA") }
	rooms := newFakeRooms(st, newSID, now)
	return &goldenFixture{
		h: api.NewWithIDs(api.Config{Store: st, Now: now, DataDir: dir, PublicURL: "https://switchboard.example.com", Live: live,
			Conferences: rooms}, newSID, newToken),
		st:    st,
		dir:   dir,
		live:  live,
		rooms: rooms,
		main:  main,
	}
}

// do sends one request with basic auth user:pass.
func (g *goldenFixture) do(method, path string, form url.Values, user, pass string) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	rec := httptest.NewRecorder()
	g.h.ServeHTTP(rec, req)
	g.last = rec
	return rec
}

// checkGolden compares body (indented) with testdata/golden/name.json.
func checkGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		t.Fatalf("%s: response is not JSON: %v\n%s", name, err, body)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(want, buf.Bytes()) {
		t.Errorf("%s differs from %s (run go test -update if the change is intended):\n--- got\n%s--- want\n%s", name, path, buf.Bytes(), want)
	}
}

func TestGolden(t *testing.T) {
	g := newGoldenFixture(t)
	m := g.main
	acct := "/2010-04-01/Accounts/" + m.SID
	numbers := acct + "/IncomingPhoneNumbers.json"
	pn1 := "PN" + fmt.Sprintf("%032x", 3) // SIDs are handed out in step order
	nextPage := func() string {
		var env struct {
			Next string `json:"next_page_uri"`
		}
		_ = json.Unmarshal(g.last.Body.Bytes(), &env)
		return env.Next
	}
	steps := []struct {
		name   string
		method string
		path   func() string
		form   url.Values
		sub    bool // authenticate as the subaccount instead of main
		badPW  bool
		status int
	}{
		{"account_fetch_main", "GET", func() string { return acct + ".json" }, nil, false, false, 200},
		{"account_create", "POST", func() string { return "/2010-04-01/Accounts.json" }, url.Values{"FriendlyName": {"Customer One"}}, false, false, 201},
		{"accounts_list", "GET", func() string { return "/2010-04-01/Accounts.json" }, nil, false, false, 200},
		{"number_create", "POST", func() string { return numbers }, url.Values{
			"PhoneNumber": {"+1 415 555 0100"}, "VoiceUrl": {"https://app.example.com/voice"},
			"StatusCallback": {"https://app.example.com/status"}}, false, false, 201},
		{"number_create_sip_name", "POST", func() string { return numbers }, url.Values{
			"PhoneNumber": {"support"}, "FriendlyName": {"Support desk"}, "VoiceMethod": {"get"},
			"VoiceUrl": {"http://127.0.0.1:8000/twiml?x=1"}}, false, false, 201},
		{"number_update", "POST", func() string { return acct + "/IncomingPhoneNumbers/" + pn1 + ".json" }, url.Values{
			"VoiceFallbackUrl": {"https://backup.example.com/voice"}, "VoiceCallerIdLookup": {"true"},
			"StatusCallbackMethod": {"GET"}}, false, false, 200},
		{"number_fetch", "GET", func() string { return acct + "/IncomingPhoneNumbers/" + pn1 + ".json" }, nil, false, false, 200},
		{"numbers_list_page0", "GET", func() string { return numbers + "?PageSize=1" }, nil, false, false, 200},
		{"numbers_list_page1", "GET", nextPage, nil, false, false, 200},
		{"numbers_list_filtered", "GET", func() string { return numbers + "?PhoneNumber=555&FriendlyName=%28415%29+555-0100" }, nil, false, false, 200},
		{"numbers_list_empty", "GET", func() string { return numbers + "?PhoneNumber=%2B44" }, nil, false, false, 200},
		{"account_suspend", "POST", func() string { return "/2010-04-01/Accounts/" + g.sub.SID + ".json" }, url.Values{"Status": {"suspended"}}, false, false, 200},
		{"error_20003_bad_credentials", "GET", func() string { return numbers }, nil, false, true, 401},
		{"error_20005_suspended", "GET", func() string { return numbers }, nil, true, false, 403},
		{"account_reactivate", "POST", func() string { return "/2010-04-01/Accounts/" + g.sub.SID + ".json" }, url.Values{"Status": {"active"}}, false, false, 200},
		{"error_20003_parent_from_subaccount", "GET", func() string { return numbers }, nil, true, false, 401},
		{"error_20404", "GET", func() string { return acct + "/IncomingPhoneNumbers/PN" + strings.Repeat("9", 32) + ".json" }, nil, false, false, 404},
		{"error_20004", "DELETE", func() string { return numbers }, nil, false, false, 405},
		{"error_20007", "GET", func() string { return numbers + "?PageSize=1001" }, nil, false, false, 400},
		{"error_21421", "POST", func() string { return numbers }, url.Values{"PhoneNumber": {"+1-800-FLOWERS"}}, false, false, 400},
		{"error_21422", "POST", func() string { return numbers }, url.Values{"PhoneNumber": {"support"}}, false, false, 400},
		{"error_21402", "POST", func() string { return numbers }, url.Values{"PhoneNumber": {"+14155550123"}, "VoiceUrl": {"www.example.com"}}, false, false, 400},
		{"error_21481", "GET", func() string { return numbers + "?PageToken=PAxyz" }, nil, false, false, 400},
	}
	for _, st := range steps {
		user, pass := m.SID, m.AuthToken
		if st.sub {
			user, pass = g.sub.SID, g.sub.AuthToken
		}
		if st.badPW {
			pass = strings.Repeat("0", 32)
		}
		rec := g.do(st.method, st.path(), st.form, user, pass)
		if rec.Code != st.status {
			t.Fatalf("%s: status %d, want %d\n%s", st.name, rec.Code, st.status, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", st.name, ct)
		}
		checkGolden(t, st.name, rec.Body.Bytes())
		if st.name == "account_create" {
			var a struct {
				SID   string `json:"sid"`
				Token string `json:"auth_token"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
				t.Fatal(err)
			}
			g.sub = store.Account{SID: a.SID, AuthToken: a.Token}
		}
	}
	// DELETE answers 204 with no body.
	rec := g.do("DELETE", acct+"/IncomingPhoneNumbers/"+pn1+".json", nil, m.SID, m.AuthToken)
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Errorf("DELETE: %d %q, want 204 and no body", rec.Code, rec.Body)
	}
}
