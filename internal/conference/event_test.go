package conference

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestParams: the statusCallback parameters of each kind of event, under
// Twilio's names and formats.
func TestParams(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	r := mustRoom(t, RoomConfig{SID: "CFe08c870b500f6e44a9ad184defd1f391", AccountSID: "AC25e16e9a716a4a8617a7c83f58e30482", FriendlyName: "MyConf"})
	var evs []Event
	record := func(e []Event, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e...)
	}
	at := t0.In(tokyo) // formatted in GMT whatever the zone
	record(r.Join(callA, Options{Label: "customer"}, at))
	record(r.Join(callM, Options{Label: "agent", EndConferenceOnExit: true, Beep: BeepFalse}, at))
	record(r.Update(callA, Update{Muted: new(true)}, at))
	record(r.Join(callC, Options{Coach: callM, Beep: BeepFalse, StartConferenceOnEnter: new(false)}, at))
	record(r.Update(callA, Update{Hold: new(true)}, at))
	record(r.Speech(callM, true, at))
	record(r.Leave(callM, LeaveHungUp, at))

	common := func(seq, event string) url.Values {
		return url.Values{
			"ConferenceSid":       {"CFe08c870b500f6e44a9ad184defd1f391"},
			"FriendlyName":        {"MyConf"},
			"AccountSid":          {"AC25e16e9a716a4a8617a7c83f58e30482"},
			"SequenceNumber":      {seq},
			"Timestamp":           {"Thu, 01 Jun 2017 20:48:32 +0000"},
			"StatusCallbackEvent": {event},
		}
	}
	with := func(v url.Values, kv ...string) url.Values {
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	participant := func(v url.Values, call, muted, hold, coaching, endOnExit, startOnEnter, label string) url.Values {
		v = with(v, "CallSid", call, "Muted", muted, "Hold", hold, "Coaching", coaching,
			"EndConferenceOnExit", endOnExit, "StartConferenceOnEnter", startOnEnter)
		if label != "" {
			v.Set("ParticipantLabel", label)
		}
		return v
	}
	want := []url.Values{
		participant(common("1", "participant-join"), callA, "false", "false", "false", "false", "true", "customer"),
		participant(common("2", "participant-join"), callM, "false", "false", "false", "true", "true", "agent"),
		participant(common("3", "conference-start"), callM, "false", "false", "false", "true", "true", "agent"),
		participant(common("4", "participant-mute"), callA, "true", "false", "false", "false", "true", "customer"),
		participant(common("5", "participant-join"), callC, "false", "false", "true", "false", "false", ""),
		participant(common("6", "participant-hold"), callA, "true", "true", "false", "false", "true", "customer"),
		participant(common("7", "participant-speech-start"), callM, "false", "false", "false", "true", "true", "agent"),
		with(participant(common("8", "participant-leave"), callM, "false", "false", "false", "true", "true", "agent"),
			"ReasonParticipantLeft", "participant_hung_up", "ParticipantCallStatus", "completed"),
		with(participant(common("9", "participant-leave"), callA, "true", "true", "false", "false", "true", "customer"),
			"ReasonParticipantLeft", "moderator_ended_conference", "ParticipantCallStatus", "in-progress"),
		with(participant(common("10", "participant-leave"), callC, "false", "false", "true", "false", "false", ""),
			"ReasonParticipantLeft", "moderator_ended_conference", "ParticipantCallStatus", "in-progress"),
		with(participant(common("11", "conference-end"), callM, "false", "false", "false", "true", "true", "agent"),
			"ReasonConferenceEnded", "participant-with-end-conference-on-exit-left",
			"Reason", "Participant "+callM+" with endConferenceOnExit left the conference",
			"CallSidEndingConference", callM,
			"ParticipantLabelEndingConference", "agent"),
	}
	var got []url.Values
	for _, e := range evs {
		got = append(got, e.Params())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
}

func TestParamsEndViaAPIAndBeeps(t *testing.T) {
	r := mustRoom(t, RoomConfig{SID: "CF1", AccountSID: "AC1", FriendlyName: "r"})
	evs, _ := r.Join(callA, Options{}, t0)
	more, _ := r.Join(callB, Options{}, t0)
	evs = append(evs, more...)
	beep := evs[len(evs)-1]
	if beep.Type != BeepEnter || beep.Params() != nil || beep.Type.StatusCallback() {
		t.Errorf("beep %s has params %v", beep.Type, beep.Params())
	}
	evs, _ = r.End(t0)
	last := evs[len(evs)-1].Params()
	want := url.Values{
		"ConferenceSid": {"CF1"}, "FriendlyName": {"r"}, "AccountSid": {"AC1"}, "SequenceNumber": {"6"},
		"Timestamp": {"Thu, 01 Jun 2017 20:48:32 +0000"}, "StatusCallbackEvent": {"conference-end"},
		"ReasonConferenceEnded": {"conference-ended-via-api"}, "Reason": {"Conference ended via API"},
	}
	if diff := cmp.Diff(want, last); diff != "" {
		t.Errorf("end params (-want +got):\n%s", diff)
	}
}

func TestSubscription(t *testing.T) {
	for typ, want := range map[EventType]string{
		ConferenceStart: "start", ConferenceEnd: "end",
		ParticipantJoin: "join", ParticipantLeave: "leave",
		ParticipantMute: "mute", ParticipantUnmute: "mute",
		ParticipantHold: "hold", ParticipantUnhold: "hold",
		ParticipantModify:      "modify",
		ParticipantSpeechStart: "speaker", ParticipantSpeechStop: "speaker",
		BeepEnter: "", BeepExit: "",
	} {
		if got := typ.Subscription(); got != want {
			t.Errorf("%s.Subscription() = %q, want %q", typ, got, want)
		}
		if typ.StatusCallback() != (want != "") {
			t.Errorf("%s.StatusCallback() = %v", typ, typ.StatusCallback())
		}
	}
	for r, want := range map[LeaveReason]string{
		LeaveHungUp: "participant_hung_up", LeaveKicked: "participant_updated_via_api",
		LeaveUpdatedViaAPI: "participant_updated_via_api", LeaveModeratorEnded: "moderator_ended_conference",
		LeaveConferenceEndedViaAPI: "conference_ended_via_api", LeaveReason(0): "LeaveReason(0)",
	} {
		if r.String() != want {
			t.Errorf("%d.String() = %q, want %q", r, r.String(), want)
		}
	}
}
