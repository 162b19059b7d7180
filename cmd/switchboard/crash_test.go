package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/softphone"
)

// crashApp is the user's app of the crash tests (and, unstalled, of the
// log test): its /status handler holds every request while stalled is set
// (until released, or until the caller goes away), and answers 204
// otherwise.
type crashApp struct {
	ts      *httptest.Server
	release chan struct{}

	mu        sync.Mutex
	stalling  bool
	stalled   []crashHit // requests held (never answered)
	delivered []crashHit // requests answered 204
	changed   chan struct{}
}

type crashHit struct {
	CallSID string
	Seq     int
	Status  string
}

func newCrashApp(t *testing.T) *crashApp {
	a := &crashApp{release: make(chan struct{}), stalling: true, changed: make(chan struct{}, 1)}
	a.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/status" {
			http.NotFound(w, r)
			return
		}
		r.ParseForm()
		seq, err := strconv.Atoi(r.PostForm.Get("SequenceNumber"))
		if err != nil {
			seq = -1
		}
		h := crashHit{CallSID: r.PostForm.Get("CallSid"), Seq: seq, Status: r.PostForm.Get("CallStatus")}
		a.mu.Lock()
		stall := a.stalling
		if stall {
			a.stalled = append(a.stalled, h)
		}
		a.mu.Unlock()
		a.notify()
		if stall {
			select {
			case <-a.release:
			case <-r.Context().Done():
			}
			// Held until the server died: never answered.
			return
		}
		a.mu.Lock()
		a.delivered = append(a.delivered, h)
		a.mu.Unlock()
		a.notify()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(func() {
		a.unstall()
		a.ts.Close()
	})
	return a
}

func (a *crashApp) notify() {
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// unstall makes the handler answer 204 from now on and lets the held
// requests go (unanswered).
func (a *crashApp) unstall() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stalling {
		a.stalling = false
		close(a.release)
	}
}

func (a *crashApp) snapshot() (stalled, delivered []crashHit) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]crashHit(nil), a.stalled...), append([]crashHit(nil), a.delivered...)
}

// waitCallStatus polls the call's record until its status is want.
func (s *served) waitCallStatus(t *testing.T, sid, want string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, body := restForm(t, "GET", s.http, "/Calls/"+sid+".json", nil)
		if code != http.StatusOK {
			t.Fatalf("fetch call: %d %v", code, body)
		}
		if body["status"] == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("call not %s within %v: %v\nstderr:\n%s", want, within, body, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// restForm sends a form to the REST API of the server at addr and decodes
// its JSON answer.
func restForm(t *testing.T, method, addr, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, "http://"+addr+"/2010-04-01/Accounts/"+crashSID+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(crashSID, crashToken)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

const crashSID, crashToken = "AC0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"

// Killed with -9 while its status callbacks are in flight (the app holds
// them) or still queued behind them, switchboard delivers every one after a
// restart on the same data directory: the restarted node takes back its own
// leases at once. Callbacks may come twice (at least once), but each call's
// come in SequenceNumber order, and every call's completed callback arrives.
func TestKillWithCallbacksPendingThenRestart(t *testing.T) {
	t.Parallel()
	const calls = 50
	overall := time.Now().Add(60 * time.Second)
	data := t.TempDir()
	env := []string{"SWITCHBOARD_ACCOUNT_SID=" + crashSID, "SWITCHBOARD_AUTH_TOKEN=" + crashToken, "SWITCHBOARD_CPS=100"}
	app := newCrashApp(t)

	callee, listened := listenCalls(t, 42000, 42999, softphone.ListenOptions{Calls: calls, AnswerOptions: softphone.AnswerOptions{Reject: 486}})

	s := startServe(t, data, env...)
	var sids []string
	for i := range calls {
		code, body := restForm(t, "POST", s.http, "/Calls.json", url.Values{
			"To": {callee.URI("bob")}, "From": {"+15557654321"}, "Twiml": {"<Response><Hangup/></Response>"},
			"StatusCallback": {app.ts.URL + "/status"}, "StatusCallbackEvent": {"initiated", "completed"},
		})
		if code != http.StatusCreated {
			t.Fatalf("create call %d: %d %v", i, code, body)
		}
		sids = append(sids, body["sid"].(string))
	}

	// Every call ends busy while the app holds the callbacks: the initiated
	// ones are in flight, the completed ones queued behind them.
	final := map[string]string{}
	for len(final) < calls {
		for _, sid := range sids {
			if _, ok := final[sid]; ok {
				continue
			}
			code, body := restForm(t, "GET", s.http, "/Calls/"+sid+".json", nil)
			if code != 200 {
				t.Fatalf("fetch %s: %d %v", sid, code, body)
			}
			if st, _ := body["status"].(string); st == "busy" || st == "failed" || st == "no-answer" || st == "completed" || st == "canceled" {
				final[sid] = st
			}
		}
		if time.Now().After(overall) {
			t.Fatalf("%d of %d calls final within the time\nstderr:\n%s", len(final), calls, s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for sid, st := range final {
		if st != "busy" {
			t.Errorf("call %s ended %s, want busy", sid, st)
		}
	}
	stalled, delivered := app.snapshot()
	if len(stalled) == 0 {
		// Wait for the first held request, briefly.
		select {
		case <-app.changed:
		case <-time.After(5 * time.Second):
		}
		stalled, delivered = app.snapshot()
	}
	t.Logf("before kill -9: %d callbacks held by the app, %d answered", len(stalled), len(delivered))
	if len(stalled) == 0 {
		t.Fatal("no callback reached the app before the kill")
	}

	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	s.cmd.Wait()
	app.unstall()

	s2 := startServe(t, data, env...)
	defer s2.stop(t)
	completed := map[string]int{}
	for {
		_, delivered = app.snapshot()
		clear(completed)
		for _, h := range delivered {
			if h.Seq >= 0 && h.Status != "initiated" {
				completed[h.CallSID]++
			}
		}
		if len(completed) >= calls {
			break
		}
		if time.Now().After(overall) {
			t.Fatalf("after the restart, %d of %d calls had their completed callback within 60 s\nstderr:\n%s",
				len(completed), calls, s2.stderr)
		}
		select {
		case <-app.changed:
		case <-time.After(200 * time.Millisecond):
		}
	}
	time.Sleep(500 * time.Millisecond) // late duplicates
	stalled, delivered = app.snapshot()

	// Per call, in arrival order: what was held before the kill, then what
	// was answered after the restart.
	perCall := map[string][]crashHit{}
	for _, h := range stalled {
		perCall[h.CallSID] = append(perCall[h.CallSID], h)
	}
	answered := map[string][]crashHit{}
	for _, h := range delivered {
		answered[h.CallSID] = append(answered[h.CallSID], h)
	}
	dups := 0
	for _, sid := range sids {
		got := answered[sid]
		// Answered after the restart: initiated (0) then busy (1), each once.
		if len(got) != 2 || got[0].Seq != 0 || got[0].Status != "initiated" || got[1].Seq != 1 || got[1].Status != "busy" {
			t.Errorf("call %s: answered callbacks %+v, want initiated #0 then busy #1", sid, got)
		}
		// Held before the kill: never the completed one before the
		// initiated one was answered.
		for _, h := range perCall[sid] {
			if h.Seq != 0 {
				t.Errorf("call %s: callback #%d (%s) sent before #0 was answered", sid, h.Seq, h.Status)
			}
			dups++
		}
	}
	t.Logf("every call's callbacks delivered after the restart; %d were sent twice (held before the kill)", dups)
	listened.expectAll(t, 5*time.Second)
}

// listening is a softphone's Listen running in the background (listenCalls).
type listening struct {
	done chan struct{} // closed once Listen has returned
	err  error         // Listen's, set before done is closed
}

// expectAll reports an error unless Listen returns without one within
// within: the softphone took every call it was to take.
func (l *listening) expectAll(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-l.done:
		if l.err != nil {
			t.Errorf("callee: %v", l.err)
		}
	case <-time.After(within):
		t.Error("callee did not take every call")
	}
}

// listenCalls starts a softphone on RTP ports portMin-portMax that takes
// calls as o says, until it has taken o.Calls or the test ends.
func listenCalls(t *testing.T, portMin, portMax int, o softphone.ListenOptions) (*softphone.Phone, *listening) {
	t.Helper()
	callee, err := softphone.Start(softphone.Config{RTPPortMin: portMin, RTPPortMax: portMax})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { callee.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	l := &listening{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		_, l.err = callee.Listen(ctx, o)
	}()
	t.Cleanup(func() { cancel(); <-l.done })
	return callee, l
}

// answerOne starts a softphone, on RTP ports from portMin, that answers one
// call and holds it until the far end hangs up or the test ends.
func answerOne(t *testing.T, portMin int) *softphone.Phone {
	t.Helper()
	callee, _ := listenCalls(t, portMin, portMin+99, softphone.ListenOptions{Calls: 1})
	return callee
}

// Killed with -9 in the middle of an answered, recorded call, switchboard
// closes the call at the next start with the duration it really had (within
// the node's heartbeat interval), not 0 as when the call ended at its last
// update (the answer). The recording, repaired from its file, has it too.
func TestKillMidCallKeepsDuration(t *testing.T) {
	t.Parallel()
	const talk = 6 * time.Second
	data := t.TempDir()
	env := []string{"SWITCHBOARD_ACCOUNT_SID=" + crashSID, "SWITCHBOARD_AUTH_TOKEN=" + crashToken}

	callee := answerOne(t, 43000)

	s := startServe(t, data, env...)
	code, body := restForm(t, "POST", s.http, "/Calls.json", url.Values{
		"To": {callee.URI("bob")}, "From": {"+15557654321"}, "Record": {"true"},
		"Twiml": {`<Response><Pause length="60"/></Response>`},
	})
	if code != http.StatusCreated {
		t.Fatalf("create call: %d %v", code, body)
	}
	sid := body["sid"].(string)
	s.waitCallStatus(t, sid, "in-progress", 15*time.Second)
	answered := time.Now()
	// The call is up for `talk`: the window whose length is measured.
	time.Sleep(talk)
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	s.cmd.Wait()
	truth := time.Since(answered)

	s2 := startServe(t, data, env...)
	defer s2.stop(t)
	code, body = restForm(t, "GET", s2.http, "/Calls/"+sid+".json", nil)
	if code != 200 {
		t.Fatalf("fetch call after restart: %d %v", code, body)
	}
	dur, _ := strconv.Atoi(fmt.Sprint(body["duration"]))
	t.Logf("call up %.1f s before kill -9; recovered as %v, duration %d s", truth.Seconds(), body["status"], dur)
	if body["status"] != "completed" || body["end_time"] == nil || math.Abs(float64(dur)-truth.Seconds()) > 3 {
		t.Errorf("call after restart: status %v, end %v, duration %v; want completed, about %.0f s (within 3 s)",
			body["status"], body["end_time"], body["duration"], truth.Seconds())
	}
	code, body = restForm(t, "GET", s2.http, "/Calls/"+sid+"/Recordings.json", nil)
	recs, _ := body["recordings"].([]any)
	if code != 200 || len(recs) != 1 {
		t.Fatalf("recordings of the call: %d %v", code, body)
	}
	rec := recs[0].(map[string]any)
	rdur, _ := strconv.Atoi(fmt.Sprint(rec["duration"]))
	if rec["status"] != "completed" || math.Abs(float64(rdur)-truth.Seconds()) > 3 {
		t.Errorf("recording after restart: status %v, duration %v; want completed, about %.0f s", rec["status"], rec["duration"], truth.Seconds())
	}
}

// Killed with -9 while a call waits in a queue, switchboard restarts with
// no phantom member: the queue is empty (its members live in memory only)
// and the call is closed.
func TestKillWithQueueMemberLeavesNoPhantom(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	env := []string{"SWITCHBOARD_ACCOUNT_SID=" + crashSID, "SWITCHBOARD_AUTH_TOKEN=" + crashToken}

	callee := answerOne(t, 43200)

	s := startServe(t, data, env...)
	code, body := restForm(t, "POST", s.http, "/Calls.json", url.Values{
		"To": {callee.URI("bob")}, "From": {"+15557654321"},
		"Twiml": {`<Response><Enqueue>crashq</Enqueue></Response>`},
	})
	if code != http.StatusCreated {
		t.Fatalf("create call: %d %v", code, body)
	}
	sid := body["sid"].(string)
	s.waitCallStatus(t, sid, "in-progress", 15*time.Second)
	var queue string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, qs := restForm(t, "GET", s.http, "/Queues.json", nil)
		if list, _ := qs["queues"].([]any); len(list) == 1 {
			q := list[0].(map[string]any)
			if fmt.Sprint(q["current_size"]) == "1" {
				queue = q["sid"].(string)
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the call never waited in the queue: %v", qs)
		}
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	s.cmd.Wait()

	s2 := startServe(t, data, env...)
	defer s2.stop(t)
	code, body = restForm(t, "GET", s2.http, "/Queues/"+queue+".json", nil)
	if code != 200 || fmt.Sprint(body["current_size"]) != "0" {
		t.Errorf("the queue after restart: %d %v, want current_size 0", code, body)
	}
	code, body = restForm(t, "GET", s2.http, "/Queues/"+queue+"/Members.json", nil)
	if ms, _ := body["queue_members"].([]any); code != 200 || len(ms) != 0 {
		t.Errorf("members after restart: %d %v, want none", code, body)
	}
	code, body = restForm(t, "GET", s2.http, "/Calls/"+sid+".json", nil)
	if code != 200 || body["status"] != "completed" || body["end_time"] == nil {
		t.Errorf("the call after restart: %d %v, want completed", code, body)
	}
}
