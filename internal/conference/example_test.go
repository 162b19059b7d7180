package conference_test

import (
	"fmt"
	"time"

	"github.com/switchboard-voice/switchboard/internal/conference"
)

// A moderated conference: the attendee waits until the moderator comes, and
// everyone is removed when the moderator leaves.
func ExampleRoom() {
	room, err := conference.NewRoom(conference.RoomConfig{
		SID: "CF00000000000000000000000000000001", AccountSID: "AC00000000000000000000000000000001", FriendlyName: "standup",
	})
	if err != nil {
		panic(err)
	}
	now := time.Date(2017, 6, 1, 20, 48, 32, 0, time.UTC)
	show := func(evs []conference.Event, err error) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		for _, e := range evs {
			line := fmt.Sprint(e.SequenceNumber, " ", e.Type, " ", e.Participant.Label)
			if e.Type == conference.ConferenceEnd {
				line += " " + e.Params().Get("ReasonConferenceEnded")
			}
			fmt.Println(line)
		}
	}
	show(room.Join("CA00000000000000000000000000000001", conference.Options{Label: "attendee", StartConferenceOnEnter: new(false)}, now))
	route, _ := room.Route("CA00000000000000000000000000000001")
	fmt.Println("attendee:", route.Role)
	show(room.Join("CA00000000000000000000000000000002", conference.Options{Label: "moderator", EndConferenceOnExit: true}, now))
	show(room.Leave("CA00000000000000000000000000000002", conference.LeaveHungUp, now.Add(time.Minute)))
	show(room.Join("CA00000000000000000000000000000003", conference.Options{}, now))
	// Output:
	// 1 participant-join attendee
	// attendee: waiting
	// 2 participant-join moderator
	// 3 conference-start moderator
	// 0 beep-enter moderator
	// 4 participant-leave moderator
	// 5 participant-leave attendee
	// 6 conference-end moderator participant-with-end-conference-on-exit-left
	// error: conference: conference has ended
}

// A mixer driven as the media pacer drives it: sinks, then Mix (in the tick
// hook), then sources.
func ExampleMixer() {
	m := conference.NewMixer(conference.MixerConfig{})
	alice, bob := m.Add("CA-alice"), m.Add("CA-bob")
	alice.Set(conference.Flags{Talks: true, Hears: true})
	bob.Set(conference.Flags{Talks: true, Hears: true})
	// In production: leg.SetSink(alice); go leg.Play(ctx, alice);
	// engine.AddTickHook(func(uint64) { m.Mix() }).

	said := make([]int16, 160)
	said[0] = 1000
	alice.WriteFrame(said) // receive phase: alice spoke, bob's sink was not called
	m.Mix()                // tick hook
	heard := make([]int16, 160)
	bob.ReadFrame(heard) // send phase
	fmt.Println("bob hears", heard[0])
	alice.ReadFrame(heard)
	fmt.Println("alice hears", heard[0])
	// Output:
	// bob hears 1000
	// alice hears 0
}
