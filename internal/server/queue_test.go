package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/config"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/sip"
	"github.com/switchboard-voice/switchboard/internal/softphone"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// Three callers wait in a queue, each fetching the waitUrl with its
// position; the third presses a key in the wait TwiML's <Gather> and
// <Leave>s (QueueResult leave). An agent's <Dial><Queue> is bridged to the
// first (tones both ways, after the whisper URL), whose Enqueue action then
// gets QueueResult bridged; the second is dequeued through the Members
// resource to new TwiML. The Queues and Members resources are read with
// twilio-go along the way, and the empty queue is deleted.
func TestQueueCallersAndAgent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550128000", func(n *store.IncomingPhoneNumber) { n.VoiceURL = e.app.url("/enqueue") })
	e.number("+15550128001", func(n *store.IncomingPhoneNumber) { n.VoiceURL = e.app.url("/agent") })
	const first, second, third, agentFrom = "+15550000061", "+15550000062", "+15550000063", "+15550000069"
	e.app.twiml("/enqueue", `<Response><Enqueue waitUrl="/wait" action="/qdone">support</Enqueue></Response>`)
	e.app.handle("/wait", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		if r.FormValue("From") == third {
			_, _ = w.Write([]byte(`<Response><Gather numDigits="1" action="/leave"><Pause length="10"/></Gather></Response>`))
			return
		}
		// The position, announced each time the waitUrl is fetched.
		_, _ = w.Write([]byte(`<Response><Say>You are caller number ` + r.FormValue("QueuePosition") + `.</Say></Response>`))
	})
	e.app.twiml("/leave", `<Response><Leave/></Response>`)
	e.app.twiml("/qdone", `<Response><Hangup/></Response>`)
	e.app.twiml("/agent", `<Response><Dial action="/agentdone"><Queue url="/whisper">support</Queue></Dial></Response>`)
	e.app.twiml("/whisper", `<Response></Response>`)
	e.app.twiml("/agentdone", `<Response><Hangup/></Response>`)
	e.app.twiml("/moved", `<Response><Hangup/></Response>`)
	rest := e.rest()

	var queueSID string
	waitMembers := func(n int) []openapi.ApiV2010Member {
		t.Helper()
		var ms []openapi.ApiV2010Member
		eventually(t, "queue members", func() bool {
			if queueSID == "" {
				qs, err := rest.Api.ListQueue(nil)
				if err != nil || len(qs) != 1 {
					return false
				}
				queueSID = *qs[0].Sid
			}
			var err error
			ms, err = rest.Api.ListMember(queueSID, nil)
			return err == nil && len(ms) == n
		})
		return ms
	}
	firstHeard, secondHeard, agentHeard := &heard{}, &heard{}, &heard{}
	a := e.callInto(t, "+15550128000", first, softphone.Script{Play: tone(500, 30*time.Second), Duration: 25 * time.Second, Sink: firstHeard})
	waitMembers(1)
	b := e.callInto(t, "+15550128000", second, softphone.Script{Play: tone(700, 30*time.Second), Duration: 25 * time.Second, Sink: secondHeard})
	waitMembers(2)
	c := e.callInto(t, "+15550128000", third, softphone.Script{Play: tone(900, 2*time.Second), Digits: "5", Duration: 25 * time.Second})
	ms := waitMembers(3)
	for i, m := range ms {
		if m.Position != i+1 || *m.QueueSid != queueSID {
			t.Errorf("member %d: %+v", i, m)
		}
	}
	q, err := rest.Api.FetchQueue(queueSID, nil)
	if err != nil || *q.FriendlyName != "support" || q.CurrentSize != 3 || q.MaxSize != store.DefaultQueueMaxSize {
		t.Fatalf("queue %+v %v", q, err)
	}
	// A member is listed as soon as it is queued; its first waitUrl
	// request follows.
	positions := map[string]string{}
	eventually(t, "a waitUrl request of each member", func() bool {
		clear(positions)
		for _, r := range e.app.got("/wait") {
			if _, seen := positions[r.Params.Get("From")]; !seen {
				positions[r.Params.Get("From")] = r.Params.Get("QueuePosition")
			}
		}
		return len(positions) == 3
	})
	for _, r := range e.app.got("/wait") {
		if r.Params.Get("QueueSid") != queueSID || r.Params.Get("MaxQueueSize") != "100" || r.Params.Get("CurrentQueueSize") == "" {
			t.Errorf("waitUrl parameters %v", r.Params)
		}
	}
	if positions[first] != "1" || positions[second] != "2" || positions[third] != "3" {
		t.Errorf("first positions heard by the waitUrl: %v", positions)
	}

	// The third leaves through its wait TwiML.
	left := e.app.waitFor("/qdone", 1, 15*time.Second)[0].Params
	if left.Get("From") != third || left.Get("QueueResult") != "leave" || left.Get("QueueSid") != queueSID {
		t.Errorf("the leaver's action: %v", left)
	}
	wait(t, c, 10*time.Second, "the third caller")
	waitMembers(2)

	// The agent takes the first.
	ag := e.callInto(t, "+15550128001", agentFrom, softphone.Script{Play: tone(1300, 4*time.Second), Duration: 4 * time.Second, Sink: agentHeard})
	wait(t, ag, 15*time.Second, "the agent")
	whisper := e.app.waitFor("/whisper", 1, 5*time.Second)[0].Params
	if whisper.Get("From") != first || whisper.Get("QueueSid") != queueSID || whisper.Get("DequeingCallSid") == "" {
		t.Errorf("whisper request %v", whisper)
	}
	if span := toneSpan(agentHeard.all(), 500, time.Second); span == nil {
		t.Error("the agent did not hear the first caller")
	}
	if span := toneSpan(firstHeard.all(), 1300, time.Second); span == nil {
		t.Error("the first caller did not hear the agent")
	}
	done := e.app.waitFor("/agentdone", 1, 5*time.Second)[0].Params
	if done.Get("DialCallStatus") != "completed" || done.Get("QueueSid") != queueSID || done.Get("DialCallSid") != whisper.Get("CallSid") {
		t.Errorf("the agent's Dial action: %v", done)
	}
	bridged := e.app.waitFor("/qdone", 2, 10*time.Second)[1].Params
	if bridged.Get("From") != first || bridged.Get("QueueResult") != "bridged" {
		t.Errorf("the first caller's action: %v", bridged)
	}
	wait(t, a, 10*time.Second, "the first caller")

	// The second is dequeued to new TwiML through the Members resource.
	ms = waitMembers(1)
	m, err := rest.Api.UpdateMember(queueSID, "Front", &openapi.UpdateMemberParams{Url: ptr(e.app.url("/moved"))})
	if err != nil || *m.CallSid != *ms[0].CallSid {
		t.Fatalf("dequeue the front: %+v %v", m, err)
	}
	if moved := e.app.waitFor("/moved", 1, 5*time.Second)[0].Params; moved.Get("From") != second {
		t.Errorf("moved: %v", moved)
	}
	wait(t, b, 10*time.Second, "the second caller")
	// While it waited, the second caller heard its position spoken (speech
	// from the waitUrl's <Say>, fetched again and again).
	if v := voiced(secondHeard.all()); len(v) < media.SampleRate {
		t.Errorf("the second caller heard %d samples of speech while waiting, want the announcements", len(v))
	}
	waitMembers(0)
	if _, err := rest.Api.UpdateMember(queueSID, "Front", &openapi.UpdateMemberParams{Url: ptr(e.app.url("/moved"))}); err == nil {
		t.Error("dequeuing from an empty queue succeeded")
	}
	q, err = rest.Api.FetchQueue(queueSID, nil)
	if err != nil || q.CurrentSize != 0 {
		t.Errorf("the queue at the end: %+v %v", q, err)
	}
	if err := rest.Api.DeleteQueue(queueSID, nil); err != nil {
		t.Errorf("delete the empty queue: %v", err)
	}
	// The event log has each member's way through the queue.
	for who, want := range map[string][]string{
		whisper.Get("CallSid"): {"queue-joined/1", "queue-bridged/0"},
		*m.CallSid:             {"queue-joined/2", "queue-dequeued/0"},
		left.Get("CallSid"):    {"queue-joined/3", "queue-left/0/leave"},
	} {
		if got := e.queueEvents(who, queueSID); !slices.Equal(got, want) {
			t.Errorf("queue events of %s: %v, want %v", who, got, want)
		}
	}
}

// queueEvents lists a call's queue events as name/position[/result].
func (e *env) queueEvents(callSID, queueSID string) []string {
	e.t.Helper()
	evs, _, err := e.srv.Store().ListEvents(context.Background(), store.EventFilter{AccountSID: testSID, CallSID: callSID, Type: store.EventQueue}, 0, 20)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		var c store.QueueChange
		if err := json.Unmarshal(ev.Payload, &c); err != nil || ev.ResourceSID != queueSID {
			e.t.Errorf("queue event %+v: %v", ev, err)
		}
		s := ev.Name + "/" + strconv.Itoa(c.Position)
		if c.Result != "" {
			s += "/" + c.Result
		}
		out = append(out, s)
	}
	return out
}

// Twenty callers and five agents at a time racing for them: strict first in,
// first out, and no caller is bridged to two agents; a full queue answers
// queue-full.
func TestQueueFIFOUnderAgents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550129000", func(n *store.IncomingPhoneNumber) { n.VoiceURL = e.app.url("/enqueue") })
	e.number("+15550129001", func(n *store.IncomingPhoneNumber) { n.VoiceURL = e.app.url("/agent") })
	e.app.twiml("/enqueue", `<Response><Enqueue waitUrl="" action="/qdone" maxQueueSize="20">line</Enqueue></Response>`)
	e.app.twiml("/qdone", `<Response><Hangup/></Response>`)
	e.app.twiml("/agent", `<Response><Dial action="/agentdone"><Queue>line</Queue></Dial></Response>`)
	e.app.twiml("/agentdone", `<Response><Hangup/></Response>`)
	rest := e.rest()
	const callers, agents = 20, 5
	const rounds = callers / agents
	var order []string
	var results []<-chan softphone.Result
	for i := range callers {
		from := fmt.Sprintf("+155500007%02d", i)
		order = append(order, from)
		results = append(results, e.callInto(t, "+15550129000", from, softphone.Script{Duration: 45 * time.Second}))
		eventually(t, "the caller queued", func() bool {
			qs, err := rest.Api.ListQueue(nil)
			return err == nil && len(qs) == 1 && qs[0].CurrentSize == i+1
		})
	}
	// One more: the queue (maxQueueSize 20) is full.
	full := e.callInto(t, "+15550129000", "+15550000799", softphone.Script{Duration: 10 * time.Second})
	fullDone := e.app.waitFor("/qdone", 1, 10*time.Second)[0].Params
	if fullDone.Get("QueueResult") != "queue-full" || fullDone.Get("From") != "+15550000799" {
		t.Errorf("the caller beyond maxQueueSize: %v", fullDone)
	}
	wait(t, full, 10*time.Second, "the refused caller")
	// Agents, rounds of five at once, each bridged for a moment.
	for round := range rounds {
		var ags []<-chan softphone.Result
		for i := range agents {
			ags = append(ags, e.callInto(t, "+15550129001", fmt.Sprintf("+155500009%02d", round*agents+i), softphone.Script{Duration: 2 * time.Second}))
		}
		for _, ch := range ags {
			wait(t, ch, 15*time.Second, "an agent")
		}
	}
	done := e.app.waitFor("/agentdone", callers, 10*time.Second)
	var got []string
	seen := map[string]bool{}
	for _, r := range done {
		sid := r.Params.Get("DialCallSid")
		if seen[sid] {
			t.Errorf("caller %s bridged twice", sid)
		}
		seen[sid] = true
		if r.Params.Get("DialCallStatus") != "completed" {
			t.Errorf("agent's action %v", r.Params)
		}
	}
	// FIFO: the callers' dequeue order (their QueueResult=bridged actions
	// in the order the agents took them) is the order they joined, within
	// each round of simultaneous agents.
	// Each bridged caller's action comes once its agent has hung up.
	for _, r := range e.app.waitFor("/qdone", callers+1, 10*time.Second) {
		if r.Params.Get("QueueResult") == "bridged" {
			got = append(got, r.Params.Get("From"))
		}
	}
	if len(got) != callers {
		t.Fatalf("%d callers bridged, want %d: %v", len(got), callers, got)
	}
	for round := range rounds {
		want := slices.Clone(order[round*agents : (round+1)*agents])
		have := slices.Clone(got[round*agents : (round+1)*agents])
		slices.Sort(want)
		slices.Sort(have)
		if !slices.Equal(want, have) {
			t.Errorf("round %d bridged %v, want the next %d in line %v", round, have, agents, want)
		}
	}
	for _, ch := range results {
		wait(t, ch, 15*time.Second, "a caller")
	}
}

// Bad input: a queue name over 64 characters (14205, QueueResult error), a
// waitUrl answering <Dial> (14202; the caller keeps waiting), Queues created
// with MaxSize over 5,000 or a name over 64 characters (400), and a member
// dequeued twice (404 the second time).
func TestQueueBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("+15550129500", func(n *store.IncomingPhoneNumber) { n.VoiceURL = e.app.url("/long") })
	e.number("+15550129501", func(n *store.IncomingPhoneNumber) { n.VoiceURL = e.app.url("/enqueue") })
	e.app.twiml("/long", `<Response><Enqueue action="/qdone">`+strings.Repeat("q", 65)+`</Enqueue></Response>`)
	e.app.twiml("/enqueue", `<Response><Enqueue waitUrl="/wait" action="/qdone">bad</Enqueue></Response>`)
	e.app.twiml("/wait", `<Response><Dial>+15551234567</Dial></Response>`)
	e.app.twiml("/qdone", `<Response><Hangup/></Response>`)
	e.app.twiml("/moved", `<Response><Hangup/></Response>`)
	rest := e.rest()

	long := e.callInto(t, "+15550129500", "+15550000081", softphone.Script{Duration: 10 * time.Second})
	if p := e.app.waitFor("/qdone", 1, 10*time.Second)[0].Params; p.Get("QueueResult") != "error" {
		t.Errorf("a queue name of 65 characters: action %v", p)
	}
	wait(t, long, 10*time.Second, "the caller with the long queue name")

	caller := e.callInto(t, "+15550129501", "+15550000082", softphone.Script{Duration: 20 * time.Second})
	e.app.waitFor("/wait", 2, 10*time.Second) // fetched again: still waiting
	var qsid string
	eventually(t, "the member", func() bool {
		qs, err := rest.Api.ListQueue(&openapi.ListQueueParams{})
		for _, q := range qs {
			if *q.FriendlyName == "bad" && q.CurrentSize == 1 {
				qsid = *q.Sid
			}
		}
		return err == nil && qsid != ""
	})
	codes := map[int]bool{}
	for _, n := range e.notifications() {
		codes[n.ErrorCode] = true
	}
	if !codes[14205] || !codes[14202] {
		t.Errorf("notification codes %v, want 14205 and 14202", codes)
	}
	ms, err := rest.Api.ListMember(qsid, nil)
	if err != nil || len(ms) != 1 {
		t.Fatalf("members %v %v", ms, err)
	}
	if _, err := rest.Api.UpdateMember(qsid, *ms[0].CallSid, &openapi.UpdateMemberParams{Url: ptr(e.app.url("/moved"))}); err != nil {
		t.Fatal(err)
	}
	wait(t, caller, 10*time.Second, "the dequeued caller")
	if _, err := rest.Api.UpdateMember(qsid, *ms[0].CallSid, &openapi.UpdateMemberParams{Url: ptr(e.app.url("/moved"))}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("dequeuing a member that left: %v, want 404", err)
	}

	for _, p := range []*openapi.CreateQueueParams{
		{FriendlyName: ptr("big"), MaxSize: ptrInt(5001)},
		{FriendlyName: ptr(strings.Repeat("n", 65))},
	} {
		if _, err := rest.Api.CreateQueue(p); err == nil || !strings.Contains(err.Error(), "400") {
			t.Errorf("create queue %+v: %v, want 400", p, err)
		}
	}
	if q, err := rest.Api.CreateQueue(&openapi.CreateQueueParams{FriendlyName: ptr("ok"), MaxSize: ptrInt(5000)}); err != nil || q.MaxSize != 5000 {
		t.Errorf("create queue of 5,000: %+v %v", q, err)
	}
}

func ptrInt(n int) *int { return &n }

// A server stopped while a caller waits in a queue ends its membership
// cleanly: the caller gets a BYE, the Enqueue action gets QueueResult
// system-shutdown, the event log has the caller joining and leaving; and the
// server restarted on the same data has no phantom member and a final call
// record.
func TestQueueShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := func(c *config.Serve) { c.Data = dir }
	e, stop := startEnv(t, server.Options{}, data)
	e.number("+15550128100", nil)
	e.app.twiml("/voice", `<Response><Enqueue action="/qdone">closing</Enqueue></Response>`)
	e.app.twiml("/qdone", `<Response><Say>never heard</Say></Response>`)
	rest := e.rest()
	music := &heard{}
	caller := e.callInto(t, "+15550128100", "+15550000071", softphone.Script{Duration: 20 * time.Second, Sink: music})
	var queueSID string
	eventually(t, "the caller in the queue", func() bool {
		qs, err := rest.Api.ListQueue(nil)
		if err != nil || len(qs) != 1 {
			return false
		}
		queueSID = *qs[0].Sid
		ms, err := rest.Api.ListMember(queueSID, nil)
		return err == nil && len(ms) == 1
	})
	// Without a waitUrl the caller hears the built-in hold music.
	eventually(t, "the hold music", func() bool { return len(voiced(music.all())) >= media.SampleRate })
	stop()
	if res := wait(t, caller, 10*time.Second, "the caller"); !res.Answered || res.End != sip.EndRemoteHangup {
		t.Errorf("the waiting caller: %+v, want answered and hung up by switchboard", res)
	}
	done := e.app.waitFor("/qdone", 1, 5*time.Second)[0].Params
	if done.Get("QueueResult") != "system-shutdown" || done.Get("QueueSid") != queueSID || done.Get("CallStatus") != "completed" {
		t.Errorf("Enqueue action: %v", done)
	}

	again := newEnvWith(t, server.Options{}, data)
	q, err := again.rest().Api.FetchQueue(queueSID, nil)
	if err != nil || q.CurrentSize != 0 {
		t.Fatalf("the queue after a restart: %+v %v, want no member", q, err)
	}
	if ms, err := again.rest().Api.ListMember(queueSID, nil); err != nil || len(ms) != 0 {
		t.Errorf("members after a restart: %+v %v", ms, err)
	}
	call := again.finalCall()
	if call.Status != store.CallCompleted {
		t.Errorf("call record %+v", call)
	}
	if got, want := again.queueEvents(call.SID, queueSID), []string{"queue-joined/1", "queue-left/0/system-shutdown"}; !slices.Equal(got, want) {
		t.Errorf("queue events %v, want %v", got, want)
	}
}
