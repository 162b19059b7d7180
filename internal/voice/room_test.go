package voice

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// fakeTicks stands in for the media engine's tick hooks: the test runs
// them (run) between the legs' ticks, as the pacer runs hooks between the
// receive and the send phase.
type fakeTicks struct {
	mu    sync.Mutex
	next  int
	hooks map[int]func(uint64)
	k     uint64
}

func (f *fakeTicks) AddTickHook(fn func(uint64)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hooks == nil {
		f.hooks = map[int]func(uint64){}
	}
	id := f.next
	f.next++
	f.hooks[id] = fn
	return func() {
		f.mu.Lock()
		delete(f.hooks, id)
		f.mu.Unlock()
	}
}

func (f *fakeTicks) run() {
	f.mu.Lock()
	f.k++
	k, hooks := f.k, make([]func(uint64), 0, len(f.hooks))
	for _, h := range f.hooks {
		hooks = append(hooks, h)
	}
	f.mu.Unlock()
	for _, h := range hooks {
		h(k)
	}
}

func (f *fakeTicks) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.hooks)
}

// tickRoom runs n ticks of two legs and the room's mixer.
func tickRoom(ft *fakeTicks, n int, legs ...*fakeMedia) {
	for range n {
		for _, m := range legs {
			m.tick()
		}
		ft.run()
	}
}

// confOf waits for the account's one conference record.
func (h *harness) confOf() store.Conference {
	h.t.Helper()
	var c store.Conference
	waitFor(h.t, "a conference", func() bool {
		h.st.mu.Lock()
		defer h.st.mu.Unlock()
		for _, x := range h.st.confs {
			c = x
			return true
		}
		return false
	})
	return c
}

// participants counts the participants recorded with status st.
func (h *harness) participants(st store.ParticipantStatus) int {
	h.st.mu.Lock()
	defer h.st.mu.Unlock()
	n := 0
	for _, p := range h.st.parts {
		if p.Status == st {
			n++
		}
	}
	return n
}

// Two calls in a room hear each other through the mixer and not
// themselves; a participant muted through the API is no longer heard; the
// conference ended through the API lets both go to the Dial's action; the
// room's records and status callbacks follow, numbered per URL.
func TestRoomMixMuteAndEnd(t *testing.T) {
	ft := &fakeTicks{}
	h := newHarness(t, func(c *Config) { c.Ticks = ft })
	h.app.twiml("/voice", `<Response><Dial action="/after"><Conference beep="false" waitUrl="" statusCallback="/conf" statusCallbackEvent="start end join leave mute">r1</Conference></Dial></Response>`)
	h.app.twiml("/after", `<Response><Hangup/></Response>`)
	a := h.inbound(Call{URL: "/voice"})
	a.answered()
	waitFor(t, "the first participant", func() bool { return h.participants(store.ParticipantConnected) == 1 })
	b := h.inbound(Call{URL: "/voice"})
	b.answered()
	waitFor(t, "both mixed", func() bool { return a.m.playing() && b.m.playing() && h.participants(store.ParticipantConnected) == 2 })
	if ft.count() != 1 {
		t.Fatalf("%d tick hooks, want the room's one", ft.count())
	}
	a.m.say(toneSamples(toneCaller, 30*media.FrameSamples, 8000))
	b.m.say(toneSamples(tonePlay, 30*media.FrameSamples, 8000))
	tickRoom(ft, 30, a.m, b.m)
	if n := toneFrames(b.m.heardPCM(), toneCaller); n < 25 {
		t.Errorf("b heard a in %d frames of 30", n)
	}
	if n := toneFrames(a.m.heardPCM(), tonePlay); n < 25 {
		t.Errorf("a heard b in %d frames of 30", n)
	}
	if n := toneFrames(a.m.heardPCM(), toneCaller); n > 0 {
		t.Errorf("a heard itself in %d frames", n)
	}

	conf := h.confOf()
	yes := true
	if p, err := h.in.UpdateParticipant(context.Background(), h.acct.SID, conf.SID, a.sid(), ParticipantUpdate{Muted: &yes}); err != nil || !p.Muted {
		t.Fatalf("mute: %+v %v", p, err)
	}
	before := len(b.m.heardPCM())
	a.m.say(toneSamples(toneCaller, 30*media.FrameSamples, 8000))
	tickRoom(ft, 30, a.m, b.m)
	if n := toneFrames(b.m.heardPCM()[before:], toneCaller); n > 1 {
		t.Errorf("b heard the muted a in %d frames", n)
	}

	if err := h.in.UpdateConference(context.Background(), h.acct.SID, conf.SID, ConferenceUpdate{Status: store.ConferenceCompleted}); err != nil {
		t.Fatal(err)
	}
	a.wait()
	b.wait()
	after := h.app.requestsTo("/after")
	if len(after) != 2 || after[0].Params.Get("ConferenceSid") != conf.SID || after[0].Params.Get("DialCallStatus") != "completed" {
		t.Errorf("actions %v", after)
	}
	h.st.mu.Lock()
	got := h.st.confs[conf.SID]
	h.st.mu.Unlock()
	if got.Status != store.ConferenceCompleted || got.ReasonConferenceEnded != store.ConferenceEndedViaAPI {
		t.Errorf("conference record %+v", got)
	}
	if n := h.participants(store.ParticipantComplete); n != 2 {
		t.Errorf("%d participants complete", n)
	}
	var events []string
	for _, cb := range h.st.callbacksOf(conf.SID) {
		events = append(events, cb.p.Get("StatusCallbackEvent"))
		if want := len(events); cb.p.Get("SequenceNumber") != itoa(want) {
			t.Errorf("callback %s: SequenceNumber %s, want %d", cb.p.Get("StatusCallbackEvent"), cb.p.Get("SequenceNumber"), want)
		}
	}
	want := []string{"participant-join", "participant-join", "conference-start", "participant-mute",
		"participant-leave", "participant-leave", "conference-end"}
	if !slices.Equal(events, want) {
		t.Errorf("callbacks %v, want %v", events, want)
	}
	// The room's goroutine unhooks itself as it ends, after the end's
	// callback is queued.
	waitFor(t, "the ended room's tick hook removed", func() bool { return ft.count() == 0 })
	if err := h.in.UpdateConference(context.Background(), h.acct.SID, conf.SID, ConferenceUpdate{Status: store.ConferenceCompleted}); err != ErrConferenceNotFound {
		t.Errorf("ending it again: %v", err)
	}
}

// The entry beep is played to the others, not to the participant joining;
// the exit beep to everyone still in the room.
func TestRoomBeepToOthers(t *testing.T) {
	const beepHz = 880.0
	ft := &fakeTicks{}
	h := newHarness(t, func(c *Config) { c.Ticks = ft })
	h.app.twiml("/voice", `<Response><Dial><Conference waitUrl="">r8</Conference></Dial></Response>`)
	var calls []*inboundCall
	for i := range 3 {
		c := h.inbound(Call{URL: "/voice"})
		c.answered()
		calls = append(calls, c)
		waitFor(t, "the participants mixed", func() bool {
			if h.participants(store.ParticipantConnected) != i+1 {
				return false
			}
			for _, c := range calls {
				if i > 0 && !c.m.playing() { // alone, the first waits in silence
					return false
				}
			}
			return true
		})
		if i < 2 {
			tickRoom(ft, 20, legsOf(calls)...) // the beeps of the first two play out
		}
	}
	a, b, c := calls[0], calls[1], calls[2]
	before := [3]int{len(a.m.heardPCM()), len(b.m.heardPCM()), len(c.m.heardPCM())}
	tickRoom(ft, 20, a.m, b.m, c.m)
	for i, who := range calls[:2] {
		if n := toneFrames(who.m.heardPCM()[before[i]:], beepHz); n < 10 {
			t.Errorf("participant %d heard the third one's entry beep in %d frames", i, n)
		}
	}
	if n := toneFrames(c.m.heardPCM()[before[2]:], beepHz); n > 0 {
		t.Errorf("the participant joining heard its own entry beep in %d frames", n)
	}
}

func legsOf(calls []*inboundCall) []*fakeMedia {
	var ms []*fakeMedia
	for _, c := range calls {
		ms = append(ms, c.m)
	}
	return ms
}

// A participant kicked through the API leaves the room and goes on with
// the next verb; the other stays.
func TestRoomKick(t *testing.T) {
	ft := &fakeTicks{}
	h := newHarness(t, func(c *Config) { c.Ticks = ft })
	h.app.twiml("/voice", `<Response><Dial><Conference beep="false" waitUrl="">r2</Conference></Dial><Say>kicked</Say></Response>`)
	a := h.inbound(Call{URL: "/voice"})
	waitFor(t, "the first participant", func() bool { return h.participants(store.ParticipantConnected) == 1 })
	b := h.inbound(Call{URL: "/voice"})
	waitFor(t, "both mixed", func() bool { return a.m.playing() && b.m.playing() && h.participants(store.ParticipantConnected) == 2 })
	conf := h.confOf()
	plays := b.m.playCount()
	if err := h.in.RemoveParticipant(context.Background(), h.acct.SID, conf.SID, b.sid()); err != nil {
		t.Fatal(err)
	}
	b.m.waitPlaying(t, plays+1)
	b.m.playOut(t, 50)
	b.wait()
	if got := h.tts.texts(); !slices.Equal(got, []string{"kicked"}) {
		t.Errorf("said %v", got)
	}
	if err := h.in.RemoveParticipant(context.Background(), h.acct.SID, conf.SID, b.sid()); err != ErrParticipantNotFound {
		t.Errorf("kicking again: %v", err)
	}
	a.leg.remoteHangup()
	a.wait()
	waitFor(t, "the room's end", func() bool { return ft.count() == 0 })
}

// The Dial's timeLimit takes a participant out of the room on the injected
// clock, and hangupOnStar on a *; both go on with the action.
func TestRoomTimeLimitAndHangupOnStar(t *testing.T) {
	ft := &fakeTicks{}
	h := newHarness(t, func(c *Config) { c.Ticks = ft })
	h.app.twiml("/voice", `<Response><Dial action="/after" timeLimit="5" hangupOnStar="true"><Conference beep="false" waitUrl="">r3</Conference></Dial></Response>`)
	h.app.twiml("/after", `<Response><Hangup/></Response>`)
	a := h.inbound(Call{URL: "/voice"})
	waitFor(t, "the first participant", func() bool { return h.participants(store.ParticipantConnected) == 1 })
	b := h.inbound(Call{URL: "/voice"})
	waitFor(t, "both mixed", func() bool { return a.m.playing() && b.m.playing() })
	// b presses *: it leaves at once.
	b.m.press(t, "*")
	b.wait()
	if r := h.waitRequest("/after"); r.Params.Get("ConferenceSid") == "" {
		t.Errorf("action %v", r.Params)
	}
	// a stays until its time limit: not a moment before.
	h.advanceBefore(5*time.Second - 500*time.Millisecond)
	if a.ended() {
		t.Fatal("a left before its time limit")
	}
	h.clk.Advance(time.Second)
	a.wait()
	if n := len(h.app.requestsTo("/after")); n != 2 {
		t.Errorf("%d actions, want 2", n)
	}
}

// A room whose first caller is refused (an invalid coach) is not left
// behind: its record is closed and the next caller starts a new room.
func TestRoomAbandoned(t *testing.T) {
	ft := &fakeTicks{}
	h := newHarness(t, func(c *Config) { c.Ticks = ft })
	h.app.twiml("/voice", `<Response><Dial><Conference coach="CA00000000000000000000000000000009">r4</Conference></Dial><Say>refused</Say></Response>`)
	a := h.inbound(Call{URL: "/voice"})
	a.m.waitPlaying(t, 1)
	a.m.playOut(t, 50)
	a.wait()
	waitFor(t, "the room's end", func() bool { return ft.count() == 0 })
	c := h.confOf()
	if c.Status != store.ConferenceCompleted {
		t.Errorf("abandoned room %+v", c)
	}
	if !slices.Contains(h.st.codes(a.sid()), 13240) {
		t.Errorf("codes %v, want 13240", h.st.codes(a.sid()))
	}
}

// An announcement to the whole room (AnnounceUrl) is heard by everyone,
// and reported with announcement-end once played; a URL with nothing to
// play is reported announcement-failed.
func TestRoomAnnouncement(t *testing.T) {
	ft := &fakeTicks{}
	h := newHarness(t, func(c *Config) { c.Ticks = ft })
	h.app.twiml("/voice", `<Response><Dial><Conference beep="false" waitUrl="" statusCallback="/conf" statusCallbackEvent="announcement">r5</Conference></Dial></Response>`)
	h.app.twiml("/empty", `<Response/>`)
	a := h.inbound(Call{URL: "/voice"})
	waitFor(t, "the first participant", func() bool { return h.participants(store.ParticipantConnected) == 1 })
	b := h.inbound(Call{URL: "/voice"})
	waitFor(t, "both mixed", func() bool { return a.m.playing() && b.m.playing() })
	conf := h.confOf()
	if err := h.in.UpdateConference(context.Background(), h.acct.SID, conf.SID, ConferenceUpdate{AnnounceURL: h.url("/tone.wav")}); err != nil {
		t.Fatal(err)
	}
	tickRoom(ft, 12, a.m, b.m)
	for _, m := range []*fakeMedia{a.m, b.m} {
		if n := toneFrames(m.heardPCM(), tonePlay); n < 8 {
			t.Errorf("the announcement was heard in %d frames of 10", n)
		}
	}
	waitFor(t, "announcement-end", func() bool {
		for _, cb := range h.st.callbacksOf(conf.SID) {
			if cb.p.Get("StatusCallbackEvent") == "announcement-end" {
				return true
			}
		}
		return false
	})
	if err := h.in.UpdateConference(context.Background(), h.acct.SID, conf.SID, ConferenceUpdate{AnnounceURL: h.url("/empty")}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, cb := range h.st.callbacksOf(conf.SID) {
		got = append(got, cb.p.Get("StatusCallbackEvent")+"#"+cb.p.Get("SequenceNumber"))
	}
	if !slices.Equal(got, []string{"announcement-end#1", "announcement-failed#2"}) {
		t.Errorf("callbacks %v", got)
	}
	a.leg.remoteHangup()
	b.leg.remoteHangup()
	a.wait()
	b.wait()
}

// The Dial's record around a conference records the participant's leg
// while it is in the room; the action carries the recording.
func TestRoomDialRecord(t *testing.T) {
	ft := &fakeTicks{}
	h := newHarness(t, func(c *Config) { c.Ticks = ft })
	h.app.twiml("/voice", `<Response><Dial record="record-from-answer" action="/after"><Conference beep="false" waitUrl="">r6</Conference></Dial></Response>`)
	h.app.twiml("/after", `<Response><Hangup/></Response>`)
	a := h.inbound(Call{URL: "/voice"})
	waitFor(t, "the recording", func() bool { return len(h.st.recordings(a.sid())) == 1 && a.m.tapCount() >= 1 })
	a.m.say(toneSamples(toneCaller, 25*media.FrameSamples, 8000))
	tickRoom(ft, 25, a.m)
	a.leg.remoteHangup()
	p := h.waitRequest("/after").Params
	a.wait()
	recs := h.st.recordings(a.sid())
	if p.Get("RecordingSid") == "" || len(recs) != 1 || recs[0].Source != store.SourceDialVerb {
		t.Fatalf("action %v, recordings %+v", p, recs)
	}
	if n := toneFrames(readRecording(t, filepath.Join(h.dataDir, recs[0].File)), toneCaller); n < 20 {
		t.Errorf("the participant's voice is in %d frames of the recording", n)
	}
}

// Closing the interpreter ends its rooms, so that it does not wait for
// their callers (whose calls belong to the SIP server, closed after it).
func TestRoomEndsOnClose(t *testing.T) {
	ft := &fakeTicks{}
	h := newHarness(t, func(c *Config) { c.Ticks = ft })
	h.app.twiml("/voice", `<Response><Dial><Conference beep="false" waitUrl="">r7</Conference></Dial><Hangup/></Response>`)
	a := h.inbound(Call{URL: "/voice"})
	waitFor(t, "the first participant", func() bool { return h.participants(store.ParticipantConnected) == 1 })
	b := h.inbound(Call{URL: "/voice"})
	waitFor(t, "two participants", func() bool { return h.participants(store.ParticipantConnected) == 2 })
	closed := make(chan struct{})
	go func() {
		h.in.Close()
		close(closed)
	}()
	waitChan(t, "Close", closed)
	a.wait()
	b.wait()
	if c := h.confOf(); c.Status != store.ConferenceCompleted {
		t.Errorf("room after Close: %+v", c)
	}
}
