// Package voice is the call-flow interpreter: it runs one call through TwiML,
// verb by verb, the way Twilio's seed page (002) describes.
//
// For each call one goroutine fetches the TwiML document from the number's
// voice URL (through package webhook, with the fallback URL on failure), parses
// it with package twiml and executes its verbs top to bottom: <Say> through
// package tts, <Play> through the audio cache, <Pause> on the injected clock,
// <Gather> and <Record> on what the caller sends (gather.go, record.go),
// <Redirect> by fetching the next document, <Hangup> and <Reject> by ending the
// call. A document that runs out of verbs ends the call. A response that is an
// audio file is played, a text/plain response is spoken, and both end the call.
// Verbs not built yet (<Dial>, <Enqueue>, ...) are skipped with a warning
// notification (12200).
//
// Once answered, a call has one ear (ear.go): every key press, whether it
// came as an RFC 4733 event, a SIP INFO or an in-band tone, reaches the
// interpreter as one stream of digits, and the caller's audio can be tapped
// by recorders (<Record>, and recordings the REST API starts on a live call,
// callrec.go). <Gather input="speech"> and <Record transcribe="true"> have no
// speech engine behind them: they warn (13326, 13614) and go on without.
//
// The interpreter does not know SIP. It sees a call as an Inbound (ringing, not
// yet answered: it can be answered or rejected) that becomes a Leg (answered:
// it has a media session and can be hung up). The call is answered only when
// the first verb that needs media runs, so <Reject> as the first verb never
// answers, as on Twilio.
//
// Every change of a call's status is written to the store before its status
// callback is enqueued; every failure of the user's app (an unreachable URL,
// invalid TwiML, a file that cannot be played) is stored as a Notification with
// Twilio's error code, and the call record is always finalised, however the
// call ends.
package voice
