package voice

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/store"
)

// queueSID waits for the account's queue of that name and returns its SID.
func (h *harness) queueSID(name string) string {
	h.t.Helper()
	var sid string
	waitFor(h.t, "queue "+name, func() bool {
		q, err := h.st.QueueByName(context.Background(), h.acct.SID, name)
		sid = q.SID
		return err == nil
	})
	return sid
}

// waitMembers waits until the queue holds n members and returns their calls,
// front first.
func (h *harness) waitMembers(queueSID string, n int) []string {
	h.t.Helper()
	var calls []string
	waitFor(h.t, strconv.Itoa(n)+" members", func() bool {
		calls = calls[:0]
		for _, m := range h.in.Members(h.acct.SID, queueSID) {
			calls = append(calls, m.CallSID)
		}
		return len(calls) == n
	})
	return calls
}

// queueEvents lists a call's queue events as name/position[/result].
func (h *harness) queueEvents(callSID string) []string {
	h.st.mu.Lock()
	defer h.st.mu.Unlock()
	var out []string
	for _, ev := range h.st.events {
		if ev.Type != store.EventQueue || ev.CallSID != callSID {
			continue
		}
		var c store.QueueChange
		if err := json.Unmarshal(ev.Payload, &c); err != nil {
			h.t.Errorf("queue event %+v: %v", ev, err)
		}
		s := ev.Name + "/" + strconv.Itoa(c.Position)
		if c.Result != "" {
			s += "/" + c.Result
		}
		out = append(out, s)
	}
	return out
}

// An agent's <Dial><Queue> takes the caller at the front; the one behind
// moves up. Closing the interpreter takes the waiting caller out with
// QueueResult system-shutdown and hangs it up. Every step is in the event
// log with the member's position.
func TestQueueFrontThenShutdown(t *testing.T) {
	h := newHarness(t)
	h.app.twiml("/voice", `<Response><Enqueue action="/qdone">sales</Enqueue></Response>`)
	h.app.twiml("/qdone", `<Response><Hangup/></Response>`)
	h.app.twiml("/agent", `<Response><Dial action="/adone"><Queue>sales</Queue></Dial></Response>`)
	h.app.twiml("/adone", `<Response><Hangup/></Response>`)

	first := h.inbound(Call{URL: "/voice"})
	q := h.queueSID("sales")
	h.waitMembers(q, 1)
	second := h.inbound(Call{URL: "/voice"})
	if got := h.waitMembers(q, 2); !slices.Equal(got, []string{first.sid(), second.sid()}) {
		t.Fatalf("members %v, want the first then the second", got)
	}

	agent := h.inbound(Call{URL: "/agent"})
	if got := h.waitMembers(q, 1); got[0] != second.sid() {
		t.Fatalf("after the agent: members %v, want the second alone", got)
	}
	waitFor(t, "the first caller bridged", func() bool { return len(h.queueEvents(first.sid())) == 2 })
	agent.leg.remoteHangup()
	done := h.waitRequest("/qdone").Params
	if done.Get("CallSid") != first.sid() || done.Get("QueueResult") != "bridged" || done.Get("QueueSid") != q {
		t.Errorf("the first caller's action: %v", done)
	}
	if a := h.waitRequest("/adone").Params; a.Get("DialCallSid") != first.sid() || a.Get("QueueSid") != q || a.Get("DialCallStatus") != "completed" {
		t.Errorf("the agent's action: %v", a)
	}
	first.wait()

	h.in.Close()
	second.wait()
	var shut appRequest
	for _, r := range h.app.requestsTo("/qdone") {
		if r.Params.Get("CallSid") == second.sid() {
			shut = r
		}
	}
	if shut.Params.Get("QueueResult") != "system-shutdown" || shut.Params.Get("CallStatus") != "completed" {
		t.Errorf("the second caller's action at shutdown: %v", shut.Params)
	}
	if second.leg.hangupCount() != 1 {
		t.Errorf("the waiting caller was hung up %d times at shutdown, want 1", second.leg.hangupCount())
	}
	for sid, want := range map[string][]string{
		first.sid():  {"queue-joined/1", "queue-bridged/0"},
		second.sid(): {"queue-joined/2", "queue-left/0/system-shutdown"},
	} {
		if got := h.queueEvents(sid); !slices.Equal(got, want) {
			t.Errorf("queue events of %s: %v, want %v", sid, got, want)
		}
	}
}

// How a member leaves its queue, other than to an agent or at shutdown,
// becomes its Enqueue action's QueueResult: hanging up (hangup), its call
// redirected while it waits (redirected) or while bridged to an agent
// (redirected-from-bridged: the agent's Dial ends, the member runs the new
// document).
func TestQueueResults(t *testing.T) {
	setup := func(t *testing.T) *harness {
		h := newHarness(t)
		h.app.twiml("/voice", `<Response><Enqueue action="/qdone">sales</Enqueue></Response>`)
		h.app.twiml("/qdone", `<Response><Hangup/></Response>`)
		h.app.twiml("/agent", `<Response><Dial action="/adone"><Queue>sales</Queue></Dial></Response>`)
		h.app.twiml("/adone", `<Response><Hangup/></Response>`)
		h.app.twiml("/moved", `<Response><Hangup/></Response>`)
		return h
	}
	t.Run("hangup", func(t *testing.T) {
		h := setup(t)
		c := h.inbound(Call{URL: "/voice"})
		h.waitMembers(h.queueSID("sales"), 1)
		c.leg.remoteHangup()
		if p := h.waitRequest("/qdone").Params; p.Get("QueueResult") != "hangup" || p.Get("CallStatus") != "completed" {
			t.Errorf("action %v", p)
		}
		c.wait()
		if got := h.queueEvents(c.sid()); !slices.Equal(got, []string{"queue-joined/1", "queue-left/0/hangup"}) {
			t.Errorf("events %v", got)
		}
	})
	t.Run("redirected", func(t *testing.T) {
		h := setup(t)
		c := h.inbound(Call{URL: "/voice"})
		q := h.queueSID("sales")
		h.waitMembers(q, 1)
		if err := h.update(c.sid(), Update{URL: h.url("/moved")}); err != nil {
			t.Fatal(err)
		}
		if p := h.waitRequest("/qdone").Params; p.Get("QueueResult") != "redirected" || p.Get("QueueSid") != q {
			t.Errorf("action %v", p)
		}
		h.waitRequest("/moved")
		c.wait()
		h.waitMembers(q, 0)
	})
	t.Run("redirected-from-bridged", func(t *testing.T) {
		h := setup(t)
		c := h.inbound(Call{URL: "/voice"})
		q := h.queueSID("sales")
		h.waitMembers(q, 1)
		agent := h.inbound(Call{URL: "/agent"})
		waitFor(t, "the member bridged", func() bool { return len(h.queueEvents(c.sid())) == 2 })
		if err := h.update(c.sid(), Update{URL: h.url("/moved")}); err != nil {
			t.Fatal(err)
		}
		if p := h.waitRequest("/qdone").Params; p.Get("QueueResult") != "redirected-from-bridged" {
			t.Errorf("member's action %v", p)
		}
		h.waitRequest("/moved")
		if p := h.waitRequest("/adone").Params; p.Get("DialCallSid") != c.sid() || p.Get("DialCallStatus") != "completed" {
			t.Errorf("agent's action %v", p)
		}
		c.wait()
		agent.wait()
	})
}
