// Package voice is the call-flow interpreter: it runs one call through TwiML,
// verb by verb, the way Twilio's seed page (002) describes, whichever way the
// call started.
//
// # Calls, not numbers
//
// A Call describes a call once for every kind: an incoming call routed to a
// number (HandleInbound), a call placed through the REST API (Place, direction
// outbound-api) and a leg dialled by <Dial> (outbound-dial): its URL and
// method or inline TwiML, fallback, status callback and the progress events it
// wants, its parent. Answering is a step only inbound calls take; dialing (the
// account's calls-per-second turn, initiated, ringing, the answer or how it
// failed: busy, no-answer, failed, canceled) one only outbound calls take
// (outbound.go, through a Dialer).
//
// For each call one goroutine fetches the TwiML document (through package
// webhook, with the fallback URL on failure), parses it with package twiml and
// executes its verbs top to bottom: <Say> through a Speech engine, <Play>
// through the audio cache, <Pause> on the injected clock, <Gather> and
// <Record> on what the far end sends (gather.go, record.go), <Redirect> by
// fetching the next document, <Hangup> and <Reject> by ending the call. A
// document that runs out of verbs ends the call. A response that is an audio
// file is played, a text/plain response is spoken. Verbs not built yet
// (<Connect>, <Start>, <Refer>, ...) are skipped with a warning
// notification (12200).
//
// # Queues
//
// <Enqueue> (queue.go) parks the caller in a named queue of its account,
// created on first use, where it hears its waitUrl's TwiML (Play, Say,
// Pause, Gather, Redirect, Leave, Hangup; fetched again whenever it ends)
// or the built-in music. It leaves by <Leave>, by hanging up, by a command,
// or when it is taken out: by an agent's <Dial><Queue>, which bridges them
// the way a <Dial> bridges a leg that answered (the member plays the
// dialled leg's part, and goes on with its own TwiML after the bridge), or
// by the Members resource, which moves it to new TwiML. Who waits where
// lives only in memory, under one mutex: taking the front of a queue and
// handing it to one agent is one step, so the order is first in, first out
// and no caller goes to two agents.
//
// # <Dial>: legs of their own, and a bridge
//
// A <Dial> (dial.go) rings each of its nouns (<Number> through the trunk,
// <Sip> directly) as an outbound-dial call with its own goroutine, record,
// status callbacks and mailbox (dialleg.go): all at once, or one after the
// other with sequential. A leg with a screening url runs that document on the
// callee once answered; a <Hangup> there refuses the call. The caller hears
// the ring tone of its ringTone (package tones), or, with answerOnBridge, is
// not answered yet and hears the callee's early media. The first leg to take
// the call wins and the others are canceled; the bridge (bridge.go) then makes
// each leg the other's consumer through a pair of pipes (taps keep hearing
// both: the recordings of record="record-from-..."), relays key presses, and
// ends when either side hangs up, at * (hangupOnStar), at timeLimit, or when a
// command moves either call. The caller's goroutine and a leg's talk only
// through channels: the leg reports (early media, taken, ended), the caller
// decides (chosen, released, canceled). The action gets DialCallStatus,
// DialCallSid, DialCallDuration, DialBridged and, for <Sip>, the SIP details
// of the final response.
//
// # <Conference>: rooms with a goroutine each
//
// A <Dial><Conference> (conference.go) joins the call to the live room of
// that name (room.go), created by its first caller. Each room has one
// goroutine, owning its conference.Room (Twilio's rules) and writing its
// records with their events and status callbacks (Store.SaveConference);
// calls and the REST API (roomapi.go) reach it only through its mailbox
// (room.call). The room routes its conference.Mixer, which runs in the
// media pacer's tick (Config.Ticks) with the beeps, announcements and the
// recording of the mix (roomrec.go); it tells each call's goroutine what
// the call hears (a member's route), and the call plays it: the mix, the
// wait music (render.go: an audio file, or <Play>, <Say> and <Pause>), or
// the hold music. A voice activity detector on each participant's input,
// when the room asks for speaker events, feeds the room's goroutine from
// the pacer.
//
// # Ownership and the control mailbox
//
// The call's goroutine owns its state (run.go says which fields); nobody else
// writes it. Other goroutines steer a live call only through its mailbox
// (Interpreter.Update, control.go): a new document (Url or Twiml) interrupts
// the running step at once — a <Play>, <Pause>, <Gather> (no action is
// requested) or <Record> (the recording is kept, no action is requested) — and
// the new document runs; Status=completed hangs up, Status=canceled cancels a
// call still queued or ringing. Each step runs under a context the mailbox
// cancels; the end of the leg and the call's time limit cancel the call's own
// context, so no goroutine watches for the end of a call.
//
// # Media: one consumer, many taps
//
// The interpreter sees a leg's audio through the small Media interface. The
// leg has one consumer at a time — the interpreter's playback, a bridge, a
// room's mixer next — and any number of taps that hear both directions
// whoever the consumer is: the ear (ear.go: RFC 4733 events, SIP INFO and
// in-band tones merged into one stream of digits; a tap, and a goroutine
// relaying the events, only while a verb takes keys), the <Record> recorder and
// the recordings the REST API starts (callrec.go, mix.go), which therefore
// hold what the leg really heard. <Gather input="speech"> and <Record
// transcribe="true"> have no speech engine behind them: they warn (13326,
// 13614) and go on without.
//
// # Events, not rows
//
// Every change of a call is an event: the interpreter saves the call's record
// with the event and the status callback it triggers in one transaction
// (Store.SaveCall, progress.go), so a callback never leaves for a change that
// was not stored; callbacks are delivered from the store's outbox (package
// outbox), at least once and in order per call. An incoming call's first
// record is saved while its webhook is fetched (saveFirst): the setup does
// not wait for the store, but every later save, the answer and a REST read
// of the call (WaitRecorded) wait for that record. Failures of the user's app
// (an unreachable URL, invalid TwiML, a file that cannot be played) are stored
// as notifications with Twilio's error codes, and the call record is always
// finalised, however the call ends.
package voice
