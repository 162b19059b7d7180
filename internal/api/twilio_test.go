package api_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
	"go.uber.org/goleak"

	"github.com/switchboard-voice/switchboard/internal/api"
	"github.com/switchboard-voice/switchboard/internal/store"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is a switchboard REST API on a loopback port with a fresh SQLite store.
type env struct {
	t     *testing.T
	srv   *httptest.Server
	tr    *http.Transport // shared by this env's clients
	st    store.Store
	dir   string // the store's and the API's data directory
	main  store.Account
	calls atomic.Int64 // HTTP requests made by clients of this env
}

func newEnv(t *testing.T) *env { return newEnvWith(t, nil) }

// newEnvWith is newEnv with the API's Config adjusted by set (DataDir is the
// store's directory, PublicURL http://127.0.0.1 before set runs).
func newEnvWith(t *testing.T, set func(*api.Config)) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(t.Context(), "", dir)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	main, created, err := api.EnsureMainAccount(t.Context(), st, "", "")
	if err != nil || !created {
		t.Fatalf("EnsureMainAccount = %v, %v", created, err)
	}
	e := &env{t: t, st: st, main: main, dir: dir}
	cfg := api.Config{Store: st, PublicURL: "http://127.0.0.1", DataDir: dir}
	if set != nil {
		set(&cfg)
	}
	e.srv = httptest.NewServer(api.New(cfg))
	// No http.Client.Timeout: twilio-go does not close the body of an error
	// response, and a client timeout would leave a goroutine per such body.
	// The transport bounds every request instead.
	e.tr = &http.Transport{ResponseHeaderTimeout: 10 * time.Second}
	t.Cleanup(func() {
		e.tr.CloseIdleConnections()
		e.srv.Close()
		if err := st.Close(); err != nil {
			t.Errorf("store.Close: %v", err)
		}
	})
	return e
}

// rewrite sends every request, whatever its host (api.twilio.com), to the
// test server.
type rewrite struct {
	target *url.URL
	calls  *atomic.Int64
	tr     *http.Transport
}

func (rw rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = rw.target.Scheme, rw.target.Host, rw.target.Host
	rw.calls.Add(1)
	return rw.tr.RoundTrip(r)
}

// baseClient is twilio-go's HTTP client with these credentials, acting on
// accountSID's resources by default.
func (e *env) baseClient(user, pass, accountSID string) *client.Client {
	target, err := url.Parse(e.srv.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	c := &client.Client{
		Credentials: client.NewCredentials(user, pass),
		HTTPClient:  &http.Client{Transport: rewrite{target: target, calls: &e.calls, tr: e.tr}},
	}
	c.SetAccountSid(accountSID)
	return c
}

// client is the official helper library pointed at the test server.
func (e *env) client(user, pass, accountSID string) *twilio.RestClient {
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: e.baseClient(user, pass, accountSID)})
}

// as is a client with acct's own credentials on acct's resources.
func (e *env) as(acct store.Account) *twilio.RestClient {
	return e.client(acct.SID, acct.AuthToken, acct.SID)
}

// subaccount creates a subaccount through the API with the main credentials.
func (e *env) subaccount(name string) store.Account {
	e.t.Helper()
	a, err := e.as(e.main).Api.CreateAccount(&openapi.CreateAccountParams{FriendlyName: &name})
	if err != nil {
		e.t.Fatalf("CreateAccount: %v", err)
	}
	return store.Account{SID: *a.Sid, AuthToken: *a.AuthToken, OwnerAccountSID: *a.OwnerAccountSid}
}

// wantTwilioError checks that err is a *client.TwilioRestError with this
// status and code, decoded by the helper library.
func wantTwilioError(t *testing.T, err error, status, code int) {
	t.Helper()
	var te *client.TwilioRestError
	if !errors.As(err, &te) {
		t.Fatalf("error = %v (%T), want *client.TwilioRestError %d/%d", err, err, status, code)
	}
	if te.Status != status || te.Code != code {
		t.Fatalf("error = %d/%d %q, want %d/%d", te.Status, te.Code, te.Message, status, code)
	}
	if want := fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code); te.MoreInfo != want {
		t.Errorf("more_info = %q, want %q", te.MoreInfo, want)
	}
	if te.Message == "" {
		t.Error("empty error message")
	}
}

func ptr[T any](v T) *T { return &v }

// send makes a raw request through twilio-go's client, which decodes error
// bodies into *client.TwilioRestError.
func send(c *client.Client, method, uri string, params url.Values) error {
	resp, err := c.SendRequest(method, uri, params, map[string]interface{}{})
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func TestTwilioNumbersCRUD(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)

	created, err := c.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{
		PhoneNumber:    ptr("+14155550100"),
		VoiceUrl:       ptr("https://app.example.com/voice"),
		StatusCallback: ptr("https://app.example.com/status"),
	})
	if err != nil {
		t.Fatalf("CreateIncomingPhoneNumber: %v", err)
	}
	if *created.PhoneNumber != "+14155550100" || *created.FriendlyName != "(415) 555-0100" ||
		*created.VoiceUrl != "https://app.example.com/voice" || *created.VoiceMethod != "POST" ||
		*created.StatusCallback != "https://app.example.com/status" || *created.AccountSid != e.main.SID ||
		*created.ApiVersion != "2010-04-01" || created.VoiceFallbackUrl != nil || !created.Capabilities.Voice {
		t.Errorf("created number = %+v", created)
	}
	if !strings.HasPrefix(*created.Sid, "PN") || len(*created.Sid) != 34 {
		t.Errorf("sid = %q", *created.Sid)
	}
	if _, err := time.Parse(time.RFC1123Z, *created.DateCreated); err != nil {
		t.Errorf("date_created %q is not RFC 2822: %v", *created.DateCreated, err)
	}
	if want := "/2010-04-01/Accounts/" + e.main.SID + "/IncomingPhoneNumbers/" + *created.Sid + ".json"; *created.Uri != want {
		t.Errorf("uri = %q, want %q", *created.Uri, want)
	}

	// A SIP user name is a number too.
	sipNum, err := c.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{
		PhoneNumber: ptr("support"), FriendlyName: ptr("Support desk"), VoiceUrl: ptr("http://127.0.0.1:9000/twiml"),
	})
	if err != nil {
		t.Fatalf("create SIP name: %v", err)
	}

	fetched, err := c.Api.FetchIncomingPhoneNumber(*created.Sid, nil)
	if err != nil {
		t.Fatalf("FetchIncomingPhoneNumber: %v", err)
	}
	if diff := cmp.Diff(created, fetched); diff != "" {
		t.Errorf("fetched differs from created (-created +fetched):\n%s", diff)
	}

	updated, err := c.Api.UpdateIncomingPhoneNumber(*created.Sid, &openapi.UpdateIncomingPhoneNumberParams{
		FriendlyName:        ptr("Front desk"),
		VoiceUrl:            ptr("https://app.example.com/v2"),
		VoiceMethod:         ptr("GET"),
		VoiceFallbackUrl:    ptr("https://backup.example.com/voice"),
		VoiceCallerIdLookup: ptr(true),
	})
	if err != nil {
		t.Fatalf("UpdateIncomingPhoneNumber: %v", err)
	}
	if *updated.FriendlyName != "Front desk" || *updated.VoiceUrl != "https://app.example.com/v2" ||
		*updated.VoiceMethod != "GET" || *updated.VoiceFallbackUrl != "https://backup.example.com/voice" ||
		!*updated.VoiceCallerIdLookup || *updated.StatusCallback != "https://app.example.com/status" {
		t.Errorf("updated number = %+v", updated)
	}
	// The store routes by the number, with the new URL.
	routed, err := e.st.FindNumber(t.Context(), "+14155550100")
	if err != nil || routed.VoiceURL != "https://app.example.com/v2" || routed.VoiceMethod != "GET" {
		t.Errorf("FindNumber = %+v, %v", routed, err)
	}

	// An empty VoiceUrl clears it.
	cleared, err := c.Api.UpdateIncomingPhoneNumber(*created.Sid, &openapi.UpdateIncomingPhoneNumberParams{VoiceFallbackUrl: ptr("")})
	if err != nil {
		t.Fatal(err)
	}
	if cleared.VoiceFallbackUrl != nil {
		t.Errorf("voice_fallback_url = %q, want null", *cleared.VoiceFallbackUrl)
	}

	tests := []struct {
		name   string
		params openapi.ListIncomingPhoneNumberParams
		want   []string
	}{
		{"all", openapi.ListIncomingPhoneNumberParams{}, []string{"+14155550100", "support"}},
		{"phone number", openapi.ListIncomingPhoneNumberParams{PhoneNumber: ptr("+14155550100")}, []string{"+14155550100"}},
		{"partial", openapi.ListIncomingPhoneNumberParams{PhoneNumber: ptr("555")}, []string{"+14155550100"}},
		{"wildcard", openapi.ListIncomingPhoneNumberParams{PhoneNumber: ptr("+1415555010*")}, []string{"+14155550100"}},
		{"friendly name", openapi.ListIncomingPhoneNumberParams{FriendlyName: ptr("Support desk")}, []string{"support"}},
		{"none", openapi.ListIncomingPhoneNumberParams{FriendlyName: ptr("nobody")}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Api.ListIncomingPhoneNumber(&tt.params)
			if err != nil {
				t.Fatalf("ListIncomingPhoneNumber: %v", err)
			}
			phones := []string{}
			for _, n := range got {
				phones = append(phones, *n.PhoneNumber)
			}
			if diff := cmp.Diff(tt.want, phones); diff != "" {
				t.Errorf("list (-want +got):\n%s", diff)
			}
		})
	}

	if err := c.Api.DeleteIncomingPhoneNumber(*sipNum.Sid, nil); err != nil {
		t.Fatalf("DeleteIncomingPhoneNumber: %v", err)
	}
	_, err = c.Api.FetchIncomingPhoneNumber(*sipNum.Sid, nil)
	wantTwilioError(t, err, 404, 20404)
	wantTwilioError(t, c.Api.DeleteIncomingPhoneNumber(*sipNum.Sid, nil), 404, 20404)
	if _, err := e.st.FindNumber(t.Context(), "support"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted number still routes: %v", err)
	}
}

func TestTwilioPaging(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	const total = 120
	var want []string
	for i := range total {
		p := fmt.Sprintf("+1212555%04d", i)
		want = append(want, p)
		if _, err := c.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: &p}); err != nil {
			t.Fatalf("create %s: %v", p, err)
		}
	}

	before := e.calls.Load()
	got, err := c.Api.ListIncomingPhoneNumber(&openapi.ListIncomingPhoneNumberParams{PageSize: ptr(50)})
	if err != nil {
		t.Fatalf("ListIncomingPhoneNumber: %v", err)
	}
	phones := make([]string, 0, len(got))
	for _, n := range got {
		phones = append(phones, *n.PhoneNumber)
	}
	if diff := cmp.Diff(want, phones); diff != "" {
		t.Errorf("paged list (-want +got):\n%s", diff)
	}
	if n := e.calls.Load() - before; n != 3 {
		t.Errorf("the client made %d requests for 120 numbers in pages of 50, want 3", n)
	}

	// The envelope of one page, as the library decodes it.
	page, err := c.Api.PageIncomingPhoneNumber(&openapi.ListIncomingPhoneNumberParams{PageSize: ptr(50)}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	base := "/2010-04-01/Accounts/" + e.main.SID + "/IncomingPhoneNumbers.json"
	if page.Page != 0 || page.PageSize != 50 || page.Start != 0 || page.End != 49 || len(page.IncomingPhoneNumbers) != 50 {
		t.Errorf("page 0: page=%d size=%d start=%d end=%d items=%d", page.Page, page.PageSize, page.Start, page.End, len(page.IncomingPhoneNumbers))
	}
	if page.FirstPageUri != base+"?PageSize=50&Page=0" || page.Uri != base+"?PageSize=50&Page=0" {
		t.Errorf("first_page_uri = %q, uri = %q", page.FirstPageUri, page.Uri)
	}
	if page.PreviousPageUri != nil {
		t.Errorf("previous_page_uri = %q on the first page, want null", *page.PreviousPageUri)
	}
	if page.NextPageUri == nil || !strings.HasPrefix(*page.NextPageUri, base+"?PageSize=50&Page=1&PageToken=PA") {
		t.Fatalf("next_page_uri = %v", page.NextPageUri)
	}
	// Follow to the last page, and back.
	next, err := url.Parse(*page.NextPageUri)
	if err != nil {
		t.Fatal(err)
	}
	page2, err := c.Api.PageIncomingPhoneNumber(&openapi.ListIncomingPhoneNumberParams{PageSize: ptr(50)}, next.Query().Get("PageToken"), "1")
	if err != nil {
		t.Fatal(err)
	}
	if page2.Start != 50 || page2.End != 99 || *page2.IncomingPhoneNumbers[0].PhoneNumber != want[50] || page2.PreviousPageUri == nil {
		t.Errorf("page 1: start=%d end=%d first=%s prev=%v", page2.Start, page2.End, *page2.IncomingPhoneNumbers[0].PhoneNumber, page2.PreviousPageUri)
	}
	prev, _ := url.Parse(*page2.PreviousPageUri)
	back, err := c.Api.PageIncomingPhoneNumber(&openapi.ListIncomingPhoneNumberParams{PageSize: ptr(50)}, prev.Query().Get("PageToken"), prev.Query().Get("Page"))
	if err != nil {
		t.Fatal(err)
	}
	if back.Page != 0 || len(back.IncomingPhoneNumbers) != 50 || *back.IncomingPhoneNumbers[0].PhoneNumber != want[0] || back.PreviousPageUri != nil {
		t.Errorf("back to page 0: page=%d items=%d prev=%v", back.Page, len(back.IncomingPhoneNumbers), back.PreviousPageUri)
	}
	n3, _ := url.Parse(*page2.NextPageUri)
	page3, err := c.Api.PageIncomingPhoneNumber(&openapi.ListIncomingPhoneNumberParams{PageSize: ptr(50)}, n3.Query().Get("PageToken"), "2")
	if err != nil {
		t.Fatal(err)
	}
	if len(page3.IncomingPhoneNumbers) != 20 || page3.NextPageUri != nil || page3.End != 119 {
		t.Errorf("last page: items=%d next=%v end=%d", len(page3.IncomingPhoneNumbers), page3.NextPageUri, page3.End)
	}

	// Limit stops early; Page without a token is an offset.
	limited, err := c.Api.ListIncomingPhoneNumber(&openapi.ListIncomingPhoneNumberParams{PageSize: ptr(7), Limit: ptr(10)})
	if err != nil || len(limited) != 10 {
		t.Errorf("Limit 10 gave %d numbers, %v", len(limited), err)
	}
	offset, err := c.Api.PageIncomingPhoneNumber(&openapi.ListIncomingPhoneNumberParams{PageSize: ptr(50)}, "", "2")
	if err != nil || len(offset.IncomingPhoneNumbers) != 20 || *offset.IncomingPhoneNumbers[0].PhoneNumber != want[100] {
		t.Errorf("Page=2 without token: %d items, %v", len(offset.IncomingPhoneNumbers), err)
	}

	_, err = c.Api.ListIncomingPhoneNumber(&openapi.ListIncomingPhoneNumberParams{PageSize: ptr(1001)})
	wantTwilioError(t, err, 400, 20007)
	_, err = c.Api.PageIncomingPhoneNumber(&openapi.ListIncomingPhoneNumberParams{}, "PAnonsense", "1")
	wantTwilioError(t, err, 400, 21481)
}

func TestTwilioBadCredentials(t *testing.T) {
	e := newEnv(t)
	other := "AC" + strings.Repeat("0", 32)
	tests := []struct {
		name, user, pass string
	}{
		{"wrong token", e.main.SID, strings.Repeat("a", 32)},
		{"unknown account", other, e.main.AuthToken},
		{"token of another form", e.main.SID, "x"},
		{"sid not a sid", "ACnope", e.main.AuthToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.client(tt.user, tt.pass, e.main.SID)
			_, err := c.Api.ListIncomingPhoneNumber(nil)
			wantTwilioError(t, err, 401, 20003)
			_, err = c.Api.FetchAccount(e.main.SID)
			wantTwilioError(t, err, 401, 20003)
			_, err = c.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+15551230000")})
			wantTwilioError(t, err, 401, 20003)
		})
	}
	if _, err := e.st.FindNumber(t.Context(), "+15551230000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused request wrote a number: %v", err)
	}
}

func TestTwilioCrossAccount(t *testing.T) {
	e := newEnv(t)
	a := e.subaccount("customer A")
	b := e.subaccount("customer B")

	// The main account works in a subaccount (SetAccountSid with the main
	// credentials, as Twilio's docs describe).
	mainInA := e.client(e.main.SID, e.main.AuthToken, a.SID)
	numA, err := mainInA.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+15550000001")})
	if err != nil {
		t.Fatalf("main creating in A: %v", err)
	}
	if *numA.AccountSid != a.SID {
		t.Errorf("account_sid = %s, want A %s", *numA.AccountSid, a.SID)
	}
	numB, err := e.as(b).Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+15550000002")})
	if err != nil {
		t.Fatalf("B creating its own: %v", err)
	}
	numMain, err := e.as(e.main).Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+15550000003")})
	if err != nil {
		t.Fatal(err)
	}

	// A's credentials reach A only.
	aOnA := e.as(a)
	if got, err := aOnA.Api.FetchIncomingPhoneNumber(*numA.Sid, nil); err != nil || *got.Sid != *numA.Sid {
		t.Errorf("A fetching its own number: %v", err)
	}
	for _, target := range []string{b.SID, e.main.SID} {
		c := e.client(a.SID, a.AuthToken, target)
		_, err := c.Api.ListIncomingPhoneNumber(nil)
		wantTwilioError(t, err, 401, 20003)
		_, err = c.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+15550000009")})
		wantTwilioError(t, err, 401, 20003)
		_, err = c.Api.FetchAccount(target)
		wantTwilioError(t, err, 401, 20003)
	}
	_, err = aOnA.Api.UpdateIncomingPhoneNumber(*numB.Sid, &openapi.UpdateIncomingPhoneNumberParams{PathAccountSid: &b.SID, VoiceUrl: ptr("https://evil.example.com")})
	wantTwilioError(t, err, 401, 20003)
	wantTwilioError(t, aOnA.Api.DeleteIncomingPhoneNumber(*numB.Sid, &openapi.DeleteIncomingPhoneNumberParams{PathAccountSid: &b.SID}), 401, 20003)

	// Another account's number SID through one's own account path: not found.
	_, err = aOnA.Api.FetchIncomingPhoneNumber(*numB.Sid, nil)
	wantTwilioError(t, err, 404, 20404)
	_, err = aOnA.Api.UpdateIncomingPhoneNumber(*numMain.Sid, &openapi.UpdateIncomingPhoneNumberParams{VoiceUrl: ptr("https://evil.example.com")})
	wantTwilioError(t, err, 404, 20404)
	wantTwilioError(t, aOnA.Api.DeleteIncomingPhoneNumber(*numMain.Sid, nil), 404, 20404)
	// The main account sees into B, but B's number is not in main's list.
	if got, err := e.client(e.main.SID, e.main.AuthToken, b.SID).Api.FetchIncomingPhoneNumber(*numB.Sid, nil); err != nil || *got.Sid != *numB.Sid {
		t.Errorf("main fetching B's number: %v", err)
	}
	mainList, err := e.as(e.main).Api.ListIncomingPhoneNumber(nil)
	if err != nil || len(mainList) != 1 || *mainList[0].Sid != *numMain.Sid {
		t.Errorf("main's own list = %d numbers, %v; want only its own", len(mainList), err)
	}
	// Nothing was changed by the refused requests.
	if n, _ := e.st.Number(t.Context(), b.SID, *numB.Sid); n.VoiceURL != "" {
		t.Errorf("B's number was changed: %q", n.VoiceURL)
	}
	if _, err := e.st.Number(t.Context(), e.main.SID, *numMain.Sid); err != nil {
		t.Errorf("main's number was deleted: %v", err)
	}
}

func TestTwilioAccounts(t *testing.T) {
	e := newEnv(t)
	mc := e.as(e.main)

	created, err := mc.Api.CreateAccount(&openapi.CreateAccountParams{FriendlyName: ptr("Customer 1")})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if *created.FriendlyName != "Customer 1" || *created.OwnerAccountSid != e.main.SID || *created.Status != "active" ||
		*created.Type != "Full" || len(*created.AuthToken) != 32 || *created.AuthToken == e.main.AuthToken {
		t.Errorf("created account = %+v", created)
	}
	if (*created.SubresourceUris)["incoming_phone_numbers"] != "/2010-04-01/Accounts/"+*created.Sid+"/IncomingPhoneNumbers.json" {
		t.Errorf("subresource_uris = %v", *created.SubresourceUris)
	}
	unnamed, err := mc.Api.CreateAccount(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(*unnamed.FriendlyName, "SubAccount Created at ") {
		t.Errorf("default friendly_name = %q", *unnamed.FriendlyName)
	}
	sub := store.Account{SID: *created.Sid, AuthToken: *created.AuthToken}
	sc := e.as(sub)

	all, err := mc.Api.ListAccount(nil)
	if err != nil || len(all) != 3 {
		t.Fatalf("main lists %d accounts, %v; want 3", len(all), err)
	}
	own, err := sc.Api.ListAccount(nil)
	if err != nil || len(own) != 1 || *own[0].Sid != sub.SID {
		t.Fatalf("subaccount lists %d accounts, %v; want only itself", len(own), err)
	}
	byName, err := mc.Api.ListAccount(&openapi.ListAccountParams{FriendlyName: ptr("Customer 1")})
	if err != nil || len(byName) != 1 || *byName[0].Sid != sub.SID {
		t.Errorf("FriendlyName filter: %d accounts, %v", len(byName), err)
	}
	if got, err := sc.Api.FetchAccount(sub.SID); err != nil || *got.FriendlyName != "Customer 1" {
		t.Errorf("subaccount fetching itself: %v", err)
	}
	renamed, err := sc.Api.UpdateAccount(sub.SID, &openapi.UpdateAccountParams{FriendlyName: ptr("Customer One")})
	if err != nil || *renamed.FriendlyName != "Customer One" {
		t.Errorf("subaccount renaming itself: %v", err)
	}

	// Only the parent changes a status; nobody changes their own.
	_, err = sc.Api.UpdateAccount(sub.SID, &openapi.UpdateAccountParams{Status: ptr("suspended")})
	wantTwilioError(t, err, 403, 20006)
	_, err = mc.Api.UpdateAccount(e.main.SID, &openapi.UpdateAccountParams{Status: ptr("closed")})
	wantTwilioError(t, err, 403, 20006)
	_, err = mc.Api.UpdateAccount(sub.SID, &openapi.UpdateAccountParams{Status: ptr("paused")})
	wantTwilioError(t, err, 400, 400)
	// Subaccounts cannot contain subaccounts.
	_, err = sc.Api.CreateAccount(nil)
	wantTwilioError(t, err, 400, 21101)

	num, err := sc.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+15557770000")})
	if err != nil {
		t.Fatal(err)
	}

	// Suspended: its own credentials are refused; the parent reads but
	// cannot write; reactivation restores everything.
	susp, err := mc.Api.UpdateAccount(sub.SID, &openapi.UpdateAccountParams{Status: ptr("suspended")})
	if err != nil || *susp.Status != "suspended" {
		t.Fatalf("suspend: %v", err)
	}
	_, err = sc.Api.FetchAccount(sub.SID)
	wantTwilioError(t, err, 403, 20005)
	_, err = sc.Api.ListIncomingPhoneNumber(nil)
	wantTwilioError(t, err, 403, 20005)
	mainInSub := e.client(e.main.SID, e.main.AuthToken, sub.SID)
	if _, err := mainInSub.Api.FetchIncomingPhoneNumber(*num.Sid, nil); err != nil {
		t.Errorf("parent reading a suspended subaccount's number: %v", err)
	}
	_, err = mainInSub.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+15557770001")})
	wantTwilioError(t, err, 403, 20005)
	wantTwilioError(t, mainInSub.Api.DeleteIncomingPhoneNumber(*num.Sid, nil), 403, 20005)
	suspended, err := mc.Api.ListAccount(&openapi.ListAccountParams{Status: ptr("suspended")})
	if err != nil || len(suspended) != 1 {
		t.Errorf("Status filter: %d accounts, %v", len(suspended), err)
	}
	if _, err := mc.Api.UpdateAccount(sub.SID, &openapi.UpdateAccountParams{Status: ptr("active")}); err != nil {
		t.Fatalf("reactivate: %v", err)
	}
	if _, err := sc.Api.FetchIncomingPhoneNumber(*num.Sid, nil); err != nil {
		t.Errorf("reactivated subaccount: %v", err)
	}

	// Closed: numbers released, never reopened, still listed.
	closed, err := mc.Api.UpdateAccount(sub.SID, &openapi.UpdateAccountParams{Status: ptr("closed")})
	if err != nil || *closed.Status != "closed" {
		t.Fatalf("close: %v", err)
	}
	if _, err := e.st.FindNumber(t.Context(), "+15557770000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a closed account's number still routes: %v", err)
	}
	_, err = mc.Api.UpdateAccount(sub.SID, &openapi.UpdateAccountParams{Status: ptr("active")})
	wantTwilioError(t, err, 400, 21479)
	_, err = sc.Api.FetchAccount(sub.SID)
	wantTwilioError(t, err, 403, 20005)
	if got, err := mc.Api.FetchAccount(sub.SID); err != nil || *got.Status != "closed" {
		t.Errorf("parent fetching a closed account: %v", err)
	}
	// Its released number can be provisioned again.
	if _, err := mc.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+15557770000")}); err != nil {
		t.Errorf("re-provisioning a released number: %v", err)
	}
}

func TestTwilioBadParameters(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	existing, err := c.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{
		PhoneNumber: ptr("+14155550100"), VoiceUrl: ptr("https://app.example.com/voice"),
	})
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+14155550101")})
	if err != nil {
		t.Fatal(err)
	}
	sub := e.subaccount("other tenant")

	long := strings.Repeat("x", 65)
	creates := []struct {
		name   string
		params openapi.CreateIncomingPhoneNumberParams
		status int
		code   int
	}{
		{"no number", openapi.CreateIncomingPhoneNumberParams{}, 400, 21421},
		{"area code only", openapi.CreateIncomingPhoneNumberParams{AreaCode: ptr("415")}, 400, 21452},
		{"letters in E.164", openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+1415CALLME")}, 400, 21421},
		{"leading zero", openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+0415555")}, 400, 21421},
		{"too long", openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+1234567890123456")}, 400, 21421},
		{"SIP name with @", openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("support@example.com")}, 400, 21421},
		{"duplicate", openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+14155550100")}, 400, 21422},
		{"duplicate, formatted", openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+1 (415) 555-0100")}, 400, 21422},
		{"bad VoiceUrl", openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+14155550199"), VoiceUrl: ptr("not a url")}, 400, 21402},
		{"relative VoiceUrl", openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+14155550199"), VoiceUrl: ptr("/voice")}, 400, 21402},
		{"ftp VoiceFallbackUrl", openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+14155550199"), VoiceFallbackUrl: ptr("ftp://example.com/x")}, 400, 21402},
		{"bad StatusCallback", openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+14155550199"), StatusCallback: ptr("http://")}, 400, 21502},
		{"bad VoiceMethod", openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+14155550199"), VoiceMethod: ptr("PUT")}, 400, 21403},
		{"long FriendlyName", openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+14155550199"), FriendlyName: &long}, 400, 20002},
		{"VoiceApplicationSid", openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+14155550199"), VoiceApplicationSid: ptr("AP" + strings.Repeat("1", 32))}, 400, 21420},
	}
	for _, tt := range creates {
		t.Run("create "+tt.name, func(t *testing.T) {
			_, err := c.Api.CreateIncomingPhoneNumber(&tt.params)
			wantTwilioError(t, err, tt.status, tt.code)
		})
	}
	// The same number is refused in another account too (unique server-wide).
	_, err = e.as(sub).Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+14155550100")})
	wantTwilioError(t, err, 400, 21422)
	if got, _ := c.Api.ListIncomingPhoneNumber(nil); len(got) != 2 {
		t.Errorf("%d numbers after refused creates, want 2", len(got))
	}

	updates := []struct {
		name   string
		params openapi.UpdateIncomingPhoneNumberParams
		code   int
	}{
		{"bad VoiceUrl", openapi.UpdateIncomingPhoneNumberParams{FriendlyName: ptr("changed"), VoiceUrl: ptr("javascript:alert(1)")}, 21402},
		{"bad method", openapi.UpdateIncomingPhoneNumberParams{FriendlyName: ptr("changed"), VoiceFallbackMethod: ptr("DELETE")}, 21403},
		{"bad callback method", openapi.UpdateIncomingPhoneNumberParams{FriendlyName: ptr("changed"), StatusCallbackMethod: ptr("")}, 21403},
		{"bad status callback", openapi.UpdateIncomingPhoneNumberParams{FriendlyName: ptr("changed"), StatusCallback: ptr("https://exa mple.com")}, 21502},
		{"empty FriendlyName", openapi.UpdateIncomingPhoneNumberParams{FriendlyName: ptr("")}, 20002},
	}
	for _, tt := range updates {
		t.Run("update "+tt.name, func(t *testing.T) {
			_, err := c.Api.UpdateIncomingPhoneNumber(*existing.Sid, &tt.params)
			wantTwilioError(t, err, 400, tt.code)
			// Never a partial write.
			got, err := c.Api.FetchIncomingPhoneNumber(*existing.Sid, nil)
			if err != nil {
				t.Fatal(err)
			}
			if *got.FriendlyName != "(415) 555-0100" || *got.VoiceUrl != "https://app.example.com/voice" {
				t.Errorf("number changed by a refused update: %q %q", *got.FriendlyName, *got.VoiceUrl)
			}
		})
	}
	// Renumbering onto a taken number: 21422, nothing written.
	base := e.baseClient(e.main.SID, e.main.AuthToken, e.main.SID)
	uri := "https://api.twilio.com/2010-04-01/Accounts/" + e.main.SID + "/IncomingPhoneNumbers/" + *other.Sid + ".json"
	err = send(base, "POST", uri, url.Values{"PhoneNumber": {"+14155550100"}, "FriendlyName": {"x"}})
	wantTwilioError(t, err, 400, 21422)
	err = send(base, "POST", uri, url.Values{"VoiceCallerIdLookup": {"maybe"}})
	wantTwilioError(t, err, 400, 400)
	if got, _ := c.Api.FetchIncomingPhoneNumber(*other.Sid, nil); *got.PhoneNumber != "+14155550101" || *got.FriendlyName != "(415) 555-0101" {
		t.Errorf("number changed by a refused renumbering: %s %s", *got.PhoneNumber, *got.FriendlyName)
	}
	// Unknown SIDs.
	_, err = c.Api.FetchIncomingPhoneNumber("PN"+strings.Repeat("0", 32), nil)
	wantTwilioError(t, err, 404, 20404)
	_, err = c.Api.FetchIncomingPhoneNumber("not-a-sid", nil)
	wantTwilioError(t, err, 404, 20404)
}

func TestTwilioWrongMethodAndUnknownPaths(t *testing.T) {
	e := newEnv(t)
	base := e.baseClient(e.main.SID, e.main.AuthToken, e.main.SID)
	root := "https://api.twilio.com/2010-04-01/Accounts"
	tests := []struct {
		method, path string
		status, code int
	}{
		{"DELETE", root + ".json", 405, 20004},
		{"DELETE", root + "/" + e.main.SID + ".json", 405, 20004},
		{"PUT", root + "/" + e.main.SID + "/IncomingPhoneNumbers.json", 405, 20004},
		{"DELETE", root + "/" + e.main.SID + "/IncomingPhoneNumbers.json", 405, 20004},
		{"PATCH", root + "/" + e.main.SID + "/IncomingPhoneNumbers/PN" + strings.Repeat("0", 32) + ".json", 405, 20004},
		{"GET", root + "/" + e.main.SID + "/Widgets.json", 404, 20404},
		{"GET", root + "/" + e.main.SID + "/IncomingPhoneNumbers/PN" + strings.Repeat("0", 32) + "/AssignedAddOns.json", 404, 20404},
		{"GET", root + "/" + e.main.SID, 404, 20404},
		{"GET", "https://api.twilio.com/2010-04-01/Nothing.json", 404, 20404},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+strings.TrimPrefix(tt.path, root), func(t *testing.T) {
			err := send(base, tt.method, tt.path, nil)
			wantTwilioError(t, err, tt.status, tt.code)
		})
	}
}

func TestTwilioTypedListAliases(t *testing.T) {
	e := newEnv(t)
	c := e.as(e.main)
	n, err := c.Api.CreateIncomingPhoneNumberLocal(&openapi.CreateIncomingPhoneNumberLocalParams{PhoneNumber: ptr("+14155550100")})
	if err != nil {
		t.Fatalf("CreateIncomingPhoneNumberLocal: %v", err)
	}
	if *n.PhoneNumber != "+14155550100" {
		t.Errorf("phone_number = %s", *n.PhoneNumber)
	}
	got, err := c.Api.ListIncomingPhoneNumberLocal(nil)
	if err != nil || len(got) != 1 {
		t.Errorf("ListIncomingPhoneNumberLocal = %d, %v", len(got), err)
	}
}

// TestTwilioNumberVariantTakeover: a subaccount cannot register another
// spelling of a number its parent (or anyone) has, through create or update;
// the refusal is Twilio's 21422 and nothing is written, so calls to any
// spelling still reach the owner.
func TestTwilioNumberVariantTakeover(t *testing.T) {
	e := newEnv(t)
	owned, err := e.as(e.main).Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{
		PhoneNumber: ptr("+15551234567"), VoiceUrl: ptr("https://owner.example.com/voice"),
	})
	if err != nil {
		t.Fatal(err)
	}
	sub := e.subaccount("tenant")
	sc := e.as(sub)
	for _, variant := range []string{"15551234567", "+1 555-123-4567", "1-555-123-4567", "+1 (555) 123.4567"} {
		_, err := sc.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{
			PhoneNumber: ptr(variant), VoiceUrl: ptr("https://thief.example.com/voice"),
		})
		wantTwilioError(t, err, 400, 21422)
	}
	// Update: a number of its own, renumbered to a variant (PhoneNumber on
	// update is switchboard's: twilio-go has no parameter for it, so the
	// request goes through its raw client).
	mine, err := sc.Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("14155550100")})
	if err != nil {
		t.Fatal(err)
	}
	if *mine.PhoneNumber != "+14155550100" || *mine.FriendlyName != "(415) 555-0100" {
		t.Errorf("14155550100 stored as %q, friendly name %q; want E.164 +14155550100, (415) 555-0100", *mine.PhoneNumber, *mine.FriendlyName)
	}
	uri := "https://api.twilio.com/2010-04-01/Accounts/" + sub.SID + "/IncomingPhoneNumbers/" + *mine.Sid + ".json"
	err = send(e.baseClient(sub.SID, sub.AuthToken, sub.SID), http.MethodPost, uri, url.Values{"PhoneNumber": {"15551234567"}})
	wantTwilioError(t, err, 400, 21422)

	list, err := sc.Api.ListIncomingPhoneNumber(nil)
	if err != nil || len(list) != 1 || *list[0].PhoneNumber != "+14155550100" {
		t.Errorf("subaccount numbers = %d, %v; want only +14155550100", len(list), err)
	}
	for _, user := range []string{"15551234567", "+15551234567", "+1-555-123-4567"} {
		n, err := e.st.FindNumber(t.Context(), user)
		if err != nil || n.SID != *owned.Sid {
			t.Errorf("%s routes to %s (%v), want the owner's %s", user, n.SID, err, *owned.Sid)
		}
	}
}
