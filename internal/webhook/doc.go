// Package webhook is switchboard's HTTP client toward the user's app: it
// fetches the TwiML (or audio, or text) that drives a call, and sends the
// asynchronous status callbacks, the way Twilio does, so an app written for
// Twilio cannot tell the difference.
//
// Client.Fetch makes one webhook request (the seed "TwiML for Programmable
// Voice", section "Twilio's request to your application"): the call's
// parameters (CallParams.Values gives them Twilio's names: CallSid,
// AccountSid, From, To, CallStatus, ApiVersion, Direction, ForwardedFrom,
// CallerName, ParentCallSid, the geographic and the SIP ones) as a form body
// for POST or appended to the URL's own query string for GET; the
// X-Twilio-Signature header computed by Sign; the call's cookies from a
// per-call jar (NewJar); redirects followed and re-signed. Timeouts are
// Twilio's: 5 s per connect attempt with one retry (10 s), 15 s to read and
// 15 s in all, overridable per URL with Twilio's connection-override
// fragment (#ct=...&rt=...&tt=...&rc=...&rp=...). Every timer runs on an
// injected clock.Clock. The answer is classified by its Content-Type as the
// seed's MIME table says: text/xml, application/xml and text/html are TwiML;
// <Play>'s audio types are played then the call ends; text/plain is spoken
// then the call ends. Bodies are capped per kind (64 kB for TwiML, as Twilio)
// and never read past the cap.
//
// Every failure is an *Error carrying Twilio's error code (11200 retrieval
// failure or non-2xx status, 11205 connection failure or timeout, 11210 bad
// host name, 11215 too many redirects, 11220 and 11235-11237 TLS, 11750 body
// too large, 12300 invalid Content-Type...) and what a Notification resource
// records: URL, method, parameters, status, headers and the start of the
// body. This package parses no TwiML and stores nothing: the interpreter
// decides what to do with a Response, and the errors it gets go to the store
// as notifications. FetchWithFallback implements voice_fallback_url: the
// fallback is tried, with ErrorCode and ErrorUrl, when the primary fails or
// its document is rejected by the interpreter's Validator; when both fail
// the caller hears ApplicationErrorMessage and the call ends.
//
// Deliver sends a callback whose answer is ignored (status and recording
// callbacks); package outbox delivers them from the store, in order per call
// and at least once. Every request, answered or failed, is reported to
// Config.OnExchange, which the server turns into the call's event log.
//
// Config.Deny lists the addresses no request may connect to (the operator's
// --webhook-deny): DenyControl checks the IP each connection is about to be
// made to, after DNS resolution and on every redirect, so neither a name
// resolving (or re-bound) to a denied address nor a redirect to one gets
// through; the request fails with 11205, as Twilio's does for a URL that
// references a private address or localhost, and the fallback URL is tried.
//
// Resolve resolves a relative URL from a document against the URL the
// document came from (Response.URL).
package webhook
