// Command benchapp is the tiny webhook app the SIPp load scenarios in bench/
// call through switchboard. It answers every voice webhook with one static
// TwiML document, chosen at start by -mode:
//
//	say      <Say>TEXT</Say><Hangup/>       (answer, ~3 s prompt, hang up)
//	hangup   <Hangup/>                      (answer and hang up: signalling only)
//	play     <Play loop="0">/loop.wav</Play> (play a tone until the caller hangs up)
//	dial     <Dial><Sip>URI</Sip></Dial>     (bridge the caller to -dial URI, a SIPp callee)
//
// In every mode /conference/NAME answers
// <Dial><Conference beep="false">NAME</Conference></Dial> (bench/run.sh
// conference: the VoiceUrl of the number roomN is /conference/roomN),
// /enqueue/NAME <Enqueue>NAME</Enqueue><Pause length="600"/> and
// /agent/NAME <Dial><Queue>NAME</Queue></Dial> (bench/run.sh queue). It
// serves /loop.wav, a WAV made at start (-wav-seconds of a 440 Hz tone,
// 8 kHz, 16-bit mono PCM), with a strong validator (ETag) and Cache-Control
// so switchboard's <Play> cache fetches it once. /stats reports how many
// requests it served, as JSON. It uses the standard library only and prints
// nothing per request: one line with its address at start (or into
// -addr-file), one line of counts when it stops.
package main
