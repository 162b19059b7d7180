// Package softphone is a SIP phone without a sound card, built on switchboard's
// own SIP (package sip) and media (package media) code. It lets a developer, a
// test or `switchboard call` place a real call to a TwiML application over
// loopback and check what happens, with no phone and no carrier.
//
// A Phone has its own SIP user agent, listening on UDP and TCP (an ephemeral
// port on 127.0.0.1 by default), and its own media engine (RTP ports
// 22000-22999 by default, away from the server's 10000-20000). Call dials a
// SIP URI and runs a Script once the call is answered: it plays a WAV file or
// any media.Source, then sends digits as RFC 4733 telephone-events, while it
// records what it hears to a WAV file and collects the digits the far end
// sends; it hangs up after Script.Duration, or returns when the far end hangs
// up. Early media the far end sends before answering (a 183 with SDP) is
// heard and recorded too, from the 183 on. The Result tells the SIP status,
// whether and how long the call was up, who ended it, and how much audio was
// heard. Answer is the other direction: it waits for a call to the phone (for
// tests of <Dial>), rings, optionally sends early media (183 with SDP and
// AnswerOptions.Early for EarlyFor), answers or rejects it (or lets it ring
// until the caller gives up), and runs the same kind of Script. Listen takes a
// number of calls that way, one after another; it is `switchboard call
// --listen`.
//
// WAV files are read with package media/wav, at any rate (resampled to 8 kHz
// with media/dsp) and loaded into memory before the call, since the media
// engine reads sources on its pacing goroutine.
package softphone
