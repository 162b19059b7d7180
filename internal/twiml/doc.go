// Package twiml is TwiML for Programmable Voice as a typed Go model: it parses
// a document, validates it the way Twilio does, and writes it back.
//
// Parse reads a document (at most MaxDocumentSize, 64 kB, as Twilio allows)
// into a *Response: its verbs in order, each a pointer to a struct (*Say,
// *Play, *Pause, *Gather, *Record, *Dial, *Enqueue, *Leave, *Hangup,
// *Reject, *Redirect, *Refer, *Connect, *Start, *Stop, *Echo) whose fields
// are the verb's attributes with Twilio's defaults applied (Dial timeout 30,
// Gather timeout 5 and finishOnKey "#", Record maxLength 3600, Conference
// beep "true", maxParticipants 250, jitterBufferSize "large", ...). Nouns
// hang below their verb: Dial's Number, Sip, Client, Conference and Queue;
// Connect's and Start's Stream and Siprec; Enqueue's Task; Refer's Sip;
// Client's Identity and Parameters. <Say> keeps its SSML as generic
// *Element values, and Twilio elements switchboard does not run (<Pay>,
// <Connect><Room>, <Start><Transcription>, <Dial><Application>, ...) are kept
// as *Element too, so they survive a round trip. Every node records its
// line:column, and Meta.Present which attributes the document gave, so
// <Conference waitUrl=""> (silence) differs from no waitUrl (hold music), and
// Marshal writes the document back: Parse(Marshal(r)) equals r.
//
// Validation follows Twilio's rules and reports Twilio's error codes, each an
// *Error with a position; Parse returns them all, in document order, as an
// ErrorList. Names of verbs, nouns and attributes are case-sensitive; unknown
// attributes are ignored, as Twilio ignores them; unknown verbs and nouns are
// 12200 and left out of the model. A document that is not well-formed XML or
// not UTF-8, nests deeper than MaxDepth, has a DOCTYPE or is too large gives
// no model at all (12100, 12102, 11750). Nesting rules: <Gather> holds only
// Say, Play and Pause (13320); <Dial> holds text or up to ten nouns, and a
// <Conference> is alone in its Dial (13000); <Sip> URIs are at most 255
// characters and their headers 1024 (13243, 13253); participantLabel is at
// most 128 characters, not a call SID, without '/' (16023); maxParticipants
// is 2 to 250. The seeds 000_* (Conference) and 001_* (Sip) and Twilio's
// per-verb pages (linked from each type) are the sources.
//
// Error codes, as Twilio's error dictionary titles them (W = logged as a
// warning, E = error). Where Twilio has no specific code, 12200 is used.
//
//	11100 E Invalid URL format (a URL that is not one)
//	11750 E TwiML response body too large (over 64 kB)
//	12100 E Document parse failure (not XML, not UTF-8, too deep, DOCTYPE)
//	12102 E The root element must be Response
//	12200 W Schema validation warning (unknown verb/noun, misplaced element, wrong value without a specific code)
//	13000 W Conference Noun cannot be mixed with Number nouns
//	13210 W Dial: Invalid method value
//	13212 W Dial: Invalid timeout value
//	13213 W Dial: Invalid hangupOnStar value
//	13214 W Dial: Invalid callerId value
//	13215 W Dial: Invalid nested element
//	13216 W Invalid timeLimit value
//	13217 W Dial: Invalid record value
//	13218 W Dial: Invalid sequential value
//	13219 W Dial: Invalid answerOnBridge value
//	13220 W Dial: Invalid ringTone value
//	13221 W Dial->Number: Invalid method value
//	13222 W Dial->Number: Invalid sendDigits value
//	13223 W Dial: Invalid phone number format
//	13230 W Dial->Conference: Invalid muted value
//	13231 E Dial->Conference: Invalid endConferenceOnExit value
//	13232 W Dial->Conference: Invalid startConferenceOnEnter value
//	13233 W Dial->Conference: Invalid waitUrl
//	13234 W Dial->Conference: Invalid waitMethod
//	13235 W Dial->Conference: Invalid beep value
//	13237 W Dial->Conference: Invalid Conference Name (empty)
//	13239 E Dial->Conference: Invalid Trim Value
//	13240 E Dial->Conference: Invalid Whisper SID (coach is not a call SID)
//	13241 W Dial->SIP: Invalid method value
//	13243 W Dial->SIP: Invalid SIP URI (scheme, host, transport, region, over 255)
//	13249 W Dial: Invalid username or password attribute (one without the other)
//	13252 W Dial: Invalid header name
//	13253 W Dial: Header is too long (headers over 1024)
//	13257 E Invalid transcribeCallback URL
//	13310 W Gather: Invalid finishOnKey value
//	13312 W Gather: Invalid method value
//	13313 W Gather: Invalid timeout value
//	13314 W Gather: Invalid numDigits value
//	13320 W Gather: Invalid nested verb
//	13321 W Gather -> Say: Invalid voice value
//	13322 W Gather->Say: Invalid loop value
//	13326 W Gather: Invalid input value
//	13327 W Gather: Invalid speechTimeout value
//	13328 W Gather: Invalid maxSpeechTime value
//	13329 W Gather: Invalid partialResultCallbackMethod value
//	13331 W Gather: Invalid language value
//	13332 W Gather: Invalid bargeIn value
//	13333 W Gather: Invalid profanityFilter value
//	13334 W Gather: Invalid model value
//	13338 E Gather: Invalid actionOnEmptyResult value
//	13410 W Play: Invalid loop value
//	13430 W Play: Invalid DTMF String
//	13510 W Say: Invalid loop value
//	13511 W Say: Invalid voice value
//	13513 W Say: Invalid rate value (SSML prosody rate)
//	13520 W Say: Invalid text (nothing to say)
//	13521 W <Say> element character limits exceeded (over 4096)
//	13610 W Record: Invalid method value
//	13611 W Record: Invalid timeout value
//	13612 W Record: Invalid maxLength value
//	13613 W Record: Invalid finishOnKey value
//	13614 W Record: Invalid transcribe value
//	13615 W Record: maxLength too high for transcription (over 120 s)
//	13616 W Record: playBeep must be true or false
//	13621 E Invalid 'recordingStatusCallbackEvent'
//	13622 W Record: invalid recordingTrack value (Dial recordingTrack)
//	13699 W Record: Invalid trim value
//	13710 W Redirect: Invalid method value
//	13810 W Reject: Invalid cause (reason)
//	13910 W Pause: Invalid length value
//	14201 E Enqueue: Invalid method value
//	14202 E Enqueue: Invalid waitUrl
//	14203 E Enqueue: Invalid Enqueue action url
//	14204 E Enqueue: Queue name too short
//	14205 E Enqueue: Queue name too long (over 64)
//	14206 E Enqueue: Invalid waitUrlMethod value
//	14210 E Dial->Queue: Invalid whisper method
//	14211 E Dial->Queue: Invalid whisper url
//	14212 E Dial->Queue: queue name too short
//	14213 E Dial->Queue: queue name too long
//	14300 E Start: Invalid nested noun value
//	16002 E Failed to validate conference attributes (maxParticipants, jitterBufferSize, record, region, events, methods)
//	16023 E Conference: Participant label invalid (max 128 chars, not CallSid, no '/')
//
// The package does no I/O beyond the io.Reader it is given and keeps no
// state: it is safe for concurrent use.
package twiml
