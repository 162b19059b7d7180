// Package conference runs <Dial><Conference> rooms: who is in a room and what
// follows from it (Room, a pure state machine), and what everyone in it hears
// (Mixer, the audio). The interpreter (package voice) owns both for each live
// room and does the I/O around them; this package reads no clock, touches no
// network and imports neither voice nor anything above it.
//
// # Rooms
//
// A Room is one run of a named conference, following Twilio's <Conference>
// (seed 000): it is in status init until at least two participants are in
// and one of them has startConferenceOnEnter, then in-progress; it completes
// when the last participant leaves, when a participant with
// endConferenceOnExit leaves (everyone else is removed), or when the REST API
// ends it (End). A completed room accepts nothing: the next caller of the
// same name gets a new room, with a new SID. A room refuses a participant
// with Twilio's errors: full (16020), label in use (16025), label too long
// or malformed (16023), coach not in the room (13240).
//
// Every operation (Join, Leave, Update, Speech, End) takes the time it
// happens at and returns the events it caused, in order, as values: the
// status callback events, numbered per room from 1 and carrying everything
// Twilio's statusCallback request sends (Event.Params gives the request's
// parameters under Twilio's names), and beep instructions (BeepEnter,
// BeepExit) telling the owner to play the notification beep to the others.
// The owner stores each event, then queues the callbacks its statusCallbackEvent
// subscribes to (EventType.Subscription). A conference-end is always the
// room's last event, after the leaves of everyone it removed.
//
// Routing says, for each participant, what it hears and whether it is heard:
// waiting (the conference has not started: it hears the wait music and is not
// mixed), held (hold music, not mixed), or mixed (it hears the mix and talks
// in it unless muted). A coach (the coach attribute, or Coaching and
// CallSidToCoach through the API) hears everyone and is heard only by the
// participant it coaches; while that participant is away or not hearing, by
// nobody.
//
// # Mixing
//
// A Mixer mixes one room per 20 ms tick of the media engine. Each participant
// is an Endpoint, both the media.Sink of its leg (WriteFrame: what it said
// this tick, in the receive phase) and the leg's media.Source (ReadFrame: what
// it hears, in the send phase); Mix runs between the two phases, in the
// engine's tick hook (media.Engine.AddTickHook). An endpoint whose sink was
// not called in a tick is silent in it.
//
// The mix is mix-minus: everyone who talks and said something is summed once
// in 32 bits, and each of them hears the sum minus its own voice, saturated to
// 16 bits. Everyone else who hears (muted, silent this tick, coaches) hears the
// same saturated sum, computed once into one buffer their ReadFrames share. A
// coach's voice is not in the sum: it is added to its coached participant's
// own buffer only. A tick allocates nothing; on amd64 the sums, differences,
// saturation and energies run as SSE2 code, eight samples an instruction.
//
// There is no automatic gain control: a listener hears the plain sum of the
// others at the levels they arrived with, clipped at full scale. Dividing by
// the number of talkers would make a lone talker quieter as the room grows,
// and an AGC pumps the background up between words; with the one or two
// talkers a conference usually has, at telephone levels (around -20 dBFS),
// the sum stays far below full scale. A level control, when one is needed,
// belongs per participant at the input.
//
// Mix measures every endpoint's input power each tick (Endpoint.Power, a
// mean square; PowerDBFS) and hands the frame and its power to
// MixerConfig.OnInput: where a voice activity detector is fed, whose verdicts
// the owner turns into Room.Speech and the speaker events.
//
// # Ownership
//
// A Room is not safe for concurrent use: one goroutine owns it (the room's
// goroutine in the interpreter), and the participants' calls reach it through
// that goroutine.
//
// A Mixer has two sides:
//   - The owner's side, safe from any goroutine: Add, Remove, Apply and
//     Endpoint.Set change who is mixed and how; they take effect together at
//     the start of the next Mix. Endpoint.Power and Endpoint.ID may be read
//     anywhere.
//   - The mixing side, on one goroutine: Endpoint.WriteFrame, Mix,
//     Endpoint.ReadFrame and OnInput, in that order in every tick. That
//     goroutine is the media pacer (a room's legs live on one pacer shard),
//     which calls sinks, then tick hooks, then sources.
//
// # Data flow
//
//	caller's RTP ─▶ leg's jitter buffer ─▶ Endpoint.WriteFrame   (receive phase)
//	                                       Mixer.Mix             (tick hook) ─▶ OnInput ─▶ VAD
//	caller's RTP ◀─ leg's RTP sender    ◀─ Endpoint.ReadFrame    (send phase)
//
//	Join/Leave/Update/End ─▶ Room ─▶ events ─▶ store, callbacks, beeps
//	                              └▶ Routing ─▶ Mixer.Apply; waiting and held
//	                                 legs play wait or hold music instead of
//	                                 their endpoint (Session.Play), and back
//
// The leg's session keeps its RTP socket and its taps (recorders, streams)
// whoever its consumer is: the room takes a leg by SetSink(endpoint) and
// Play(ctx, endpoint), and gives it back by Remove (ReadFrame then returns
// io.EOF and the Play ends) and SetSink of the next consumer.
package conference
