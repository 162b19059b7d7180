package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// With --webhook-deny (here from SWITCHBOARD_WEBHOOK_DENY), a call whose Url
// points at a denied address never reaches it: the fetch fails with 11205,
// recorded as the call's notification, and the fallback URL is fetched with
// ErrorCode 11205, as Twilio does when a URL cannot be reached.
func TestServeWebhookDeny(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.3: %v", err)
	}
	var mu sync.Mutex
	var inside int
	var fallbacks []url.Values
	denied := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inside++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<Response><Pause length="5"/></Response>`))
	}))
	denied.Listener.Close()
	denied.Listener = ln
	denied.Start()
	t.Cleanup(denied.Close)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		fallbacks = append(fallbacks, r.PostForm)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<Response><Hangup/></Response>`))
	}))
	t.Cleanup(app.Close)

	callee := answerOne(t, 43100)

	s := startServe(t, t.TempDir(), "SWITCHBOARD_ACCOUNT_SID="+crashSID, "SWITCHBOARD_AUTH_TOKEN="+crashToken,
		"SWITCHBOARD_WEBHOOK_DENY=10.0.0.0/8,127.0.0.3/32")
	defer s.stop(t)
	code, body := restForm(t, "POST", s.http, "/Calls.json", url.Values{
		"To": {callee.URI("bob")}, "From": {"+15557654321"},
		"Url": {denied.URL + "/voice"}, "FallbackUrl": {app.URL + "/fallback"},
	})
	if code != http.StatusCreated {
		t.Fatalf("create call: %d %v", code, body)
	}
	sid := body["sid"].(string)
	s.waitCallStatus(t, sid, "completed", 20*time.Second)
	mu.Lock()
	gotInside, gotFallbacks := inside, append([]url.Values(nil), fallbacks...)
	mu.Unlock()
	if gotInside != 0 {
		t.Errorf("the denied app got %d requests", gotInside)
	}
	if len(gotFallbacks) != 1 || gotFallbacks[0].Get("ErrorCode") != "11205" || gotFallbacks[0].Get("ErrorUrl") != denied.URL+"/voice" {
		t.Errorf("fallback requests: %v, want one with ErrorCode 11205 and the denied URL", gotFallbacks)
	}
	code, body = restForm(t, "GET", s.http, "/Calls/"+sid+"/Notifications.json", nil)
	notes, _ := body["notifications"].([]any)
	if code != 200 || len(notes) != 1 {
		t.Fatalf("notifications of the call: %d %v", code, body)
	}
	n := notes[0].(map[string]any)
	if n["error_code"] != "11205" || !strings.Contains(n["message_text"].(string), "does not allow") {
		t.Errorf("notification: code %v, message %q; want 11205 naming the denial", n["error_code"], n["message_text"])
	}
}
