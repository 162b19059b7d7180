// Package api serves switchboard's Twilio-compatible REST API, version
// 2010-04-01: an application written against Twilio's API, or one of Twilio's
// helper libraries pointed at switchboard, works unchanged.
//
// New returns the http.Handler for every path under /2010-04-01/. The
// conventions are implemented once, in api.go and paging.go, for every
// resource:
//
//   - Paths are /2010-04-01/Accounts/{AccountSid}/{Resource}.json and
//     .../{Resource}/{Sid}.json. Go's ServeMux cannot match "{sid}.json", so
//     instance routes match {file} and trim ".json".
//   - Authentication is HTTP basic: the username is an account SID, the
//     password its auth token. Missing or wrong credentials get 401 with code
//     20003 ("Authenticate"). A main account's credentials reach its own
//     resources and those of every subaccount it owns; a subaccount's reach
//     only its own. A path naming any other account, whether it exists or not,
//     gets 401/20003, as Twilio answers a subaccount's credentials on its
//     parent.
//   - A suspended or closed account's own credentials are refused with 403
//     and 20005 ("Account not active"). Its parent may still read it and its
//     resources (Twilio keeps a closed subaccount's history readable) and may
//     reactivate a suspended one; writes into it are refused with 20005.
//   - Request bodies are application/x-www-form-urlencoded, parameters named
//     as Twilio names them (VoiceUrl, FriendlyName ...).
//   - Responses are Twilio's JSON shapes with every field of the OpenAPI spec
//     (null where a field does not apply); dates are RFC 2822 in UTC
//     ("Wed, 01 May 2024 12:00:00 +0000"); SIDs are a two-letter prefix and 32
//     hex digits (package sid).
//   - Lists take Page, PageSize (default 50, at most 1000, else 20007) and
//     PageToken, and answer with Twilio's envelope: the items under the
//     resource's key, page, page_size, start, end, uri, first_page_uri,
//     next_page_uri (null on the last page) and previous_page_uri (null on
//     the first). Page tokens ("PA..." forwards, "PB..." backwards) carry the
//     (date_created, sid) key of the row they continue from, so paging is
//     stable while rows are added or deleted; a token the server did not make
//     gets 21481. Accounts and numbers are listed oldest first; calls and
//     notifications newest first, as Twilio lists them (a PA token then pages
//     towards older rows).
//   - Errors are Twilio's body {"code","message","more_info","status"}: 20404
//     for an unknown resource or a SID of another account, 20004 with HTTP 405
//     for a method the resource does not have, 21xxx for bad parameters, 20001
//     for a list filter Twilio would refuse (a malformed date, Status or Log),
//     20500 for failures of switchboard itself (logged, never detailed to the
//     client). A handler returns an *Error; nothing else reaches the client.
//
// Resources served so far: Accounts (the main account and its subaccounts:
// create, list, fetch, update FriendlyName and Status),
// IncomingPhoneNumbers (create, list with PhoneNumber and FriendlyName
// filters, fetch, update, delete), Calls (list and fetch, calls.go;
// create, update and delete, callswrite.go; a call's Events, callevents.go),
// Notifications (list and fetch, for the account and per call;
// notifications.go), Recordings (recordings.go), the Call Recording
// resource (callrecordings.go), and Conferences with their Participants and
// Recordings (conferences.go, participants.go). A phone number is an E.164 number or a plain SIP user
// name such as "support"; it is unique across the server because an incoming
// INVITE is routed by it. It is kept in one canonical form
// (store.CanonicalPhoneNumber): "15551234567" and "+1 555-123-4567" are
// "+15551234567", so no account can register another spelling of a number
// another has (21422, PhoneNumber is not available).
//
// Request bodies are form-encoded, at most 1 MiB (413 with 20413 beyond),
// and must arrive within Config.BodyTimeout (408, and the connection is
// closed). HEAD answers what GET answers, without the body.
//
// Calls and notifications are records the call-flow interpreter writes as
// calls progress (queued -> ringing -> in-progress -> completed, busy,
// failed, no-answer or canceled) and whenever the user's app fails (Twilio's
// 11200, 11205, 12100 ...); this package reads them, and deletes a finished
// call's record with its events and notifications (DELETE, 204; a call not
// over yet gets 21220). A call's
// start_time is null until it starts (a queued call), then the time it began
// ringing, replaced by the answer time once answered; end_time and duration
// are null while it lasts, and a call that ended unanswered has duration
// "0". The date filters (StartTime, EndTime, MessageDate, each also with "<"
// and ">" for Twilio's "<=" and ">=" forms) take a date or an RFC 3339
// date-time; a date's inequalities bound at its midnight, as Twilio's do
// (datefilter.go).
//
// POST .../Calls.json places a call through Config.Live (Twilio's Create
// Call, 201 with the queued record): To is a sip: URI (udp or tcp), or an
// E.164 number when Config.Trunk is set (21214 without one); From is any
// caller ID for a SIP call and one of the account's numbers for a phone call
// (21210); Url or Twiml (4,000 characters at most, 32018) gives the TwiML,
// with Method, FallbackUrl, StatusCallback and its Event list, Timeout,
// SendDigits, TimeLimit, Record with its Recording* options,
// SipAuthUsername/Password and MachineDetection. POST .../Calls/{Sid}.json
// steers a live call (Status=completed|canceled, Url or Twiml, FallbackUrl,
// StatusCallback, TimeLimit); a call that is over, or not running on this
// server, gets 21220, and one with too many changes pending 429 (20429).
// GET .../Calls/{CallSid}/Events.json lists the call's exchanges with the
// user's app, oldest first, as Twilio's Call Events.
//
// Recordings are written by the interpreter (<Record>, and recordings
// started through this API) as a store row and an 8 kHz 16-bit mono WAV file
// under Config.DataDir. They are listed newest first (filters CallSid,
// ConferenceSid, DateCreated with its "<" and ">" forms; IncludeSoftDeleted
// is accepted and has nothing to include), fetched, and deleted (204; the
// file goes with the row; one still being written gets 409 with 20409).
// Their media is served at the media_url, .../Recordings/{Sid} with no
// extension or with .wav, as audio/x-wav with Range and conditional requests;
// only a completed recording has media (404 otherwise, as on Twilio), and
// .mp3 answers 415 with Twilio's error body because switchboard has no MP3
// encoder. Media needs the credentials of the recording's account or of its
// parent, like every resource, unless the operator turns on Config.PublicMedia
// (serve --public-media): then the media GET alone, never the metadata or
// DELETE, is served without authentication, since these are people's voices.
//
// The Call Recording resource records a call in progress through
// Config.Live (the interpreter): POST .../Calls/{CallSid}/Recordings.json
// starts a recording (201; RecordingStatusCallback, its Method and Event
// list, Trim, RecordingTrack; RecordingChannels=dual records the call's side
// and what it hears on two channels), and POST .../Recordings/{Sid}.json with
// Status=paused, in-progress or stopped pauses, resumes or stops it ({Sid}
// may be Twilio.CURRENT, the call's one active recording). A call that is not
// in progress gets 400 with 21220 ("Invalid call state").
//
// The Conference Insights history API is served on the same handler, in the
// shape of Twilio's insights.twilio.com/v1 (insights.go), so that a helper
// library's Insights client reads it: GET /v1/Conferences (the credentials'
// account's conferences, newest first, or a subaccount's with Subaccount;
// filters ConferenceSid, FriendlyName, Status, CreatedAfter, CreatedBefore,
// MixerRegion, Tags, DetectedIssues and EndReason), /v1/Conferences/{Sid}
// (the summary: unique_participants, max_concurrent_participants, end_reason,
// durations...), and .../Participants and .../Participants/{ParticipantSid}:
// every participant that ever joined, departed ones included (each join of a
// call is a participant of its own), with from, to, call_direction, join and
// leave times, duration and its events object, the Unix milliseconds of its
// mute, unmute, hold, unhold, coaching and speech events read from the
// conference's event log; filters ParticipantSid, Label and Events. Unlike
// Twilio's, these summaries are there at once, live or over, for every
// conference: processing_state is complete once the conference (or the
// participant) is over. There is no {AccountSid} in these paths: the
// credentials name the account, and a main account's also reach its
// subaccounts' conferences. Lists use Page, PageSize and PageToken as above,
// answered with Insights' envelope, the items under "conferences" or
// "participants" and a "meta" object of absolute URLs (first_page_url,
// next_page_url, previous_page_url, url), page, page_size and key, built on
// Config.PublicURL (or the request's host when it is empty). Times are ISO
// 8601 in UTC, durations whole seconds rounded up. Errors are the body above;
// a conference the credentials do not reach is 404 (20404).
//
// Conferences are the rooms of <Dial><Conference> and of the Participants
// API, kept by the store from creation (init) through in-progress to
// completed; a name is reused by a new conference (a new SID) once the last
// one has ended. GET .../Conferences.json lists them newest first (filters
// FriendlyName, Status, DateCreated and DateUpdated with their "<" and ">"
// forms); POST .../Conferences/{Sid}.json, through Config.Conferences (the
// interpreter), ends one (Status=completed) or plays AnnounceUrl into it; a
// conference that has ended, or is not running on this server, gets 400 with
// 16022. Its Participants are those in the room or on their way in, as on
// Twilio (the whole history is the Insights API's), in join order (filters
// Muted, Hold, Coaching), named in paths by call SID or label: GET fetches
// one, POST changes it (Muted, Hold, HoldUrl, AnnounceUrl, WaitUrl,
// BeepOnExit, EndConferenceOnExit, Coaching, CallSidToCoach), DELETE kicks it
// (204); one that has left is 20404. POST .../Conferences/{Sid or
// FriendlyName}/Participants.json dials To into the room (Twilio's Create
// Participant, 201), creating it when none by that name is live; To and From
// are checked as Create Call's, a label as Twilio does (16024; 16026 when in
// use), CallSidToCoach must be in the room (16028). A conference's Recordings
// are the recordings with its conference_sid (list, fetch, delete).
//
// EnsureMainAccount creates the main account on first start from
// SWITCHBOARD_ACCOUNT_SID and SWITCHBOARD_AUTH_TOKEN, or generates them.
package api
