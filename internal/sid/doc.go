// Package sid makes and checks Twilio-style string identifiers.
//
// Every resource of Twilio's REST API is named by a SID: a two-letter prefix
// that says what the resource is ("AC" for an account, "PN" for an incoming
// phone number, "CA" for a call, ...) followed by 32 hexadecimal digits, 34
// characters in all (the OpenAPI spec's pattern is ^AC[0-9a-fA-F]{32}$).
// switchboard's SIDs look exactly like Twilio's so that applications and the
// official helper libraries, which check these patterns, accept them.
//
// New writes a SID's digits in lower case, as Twilio does: the time in
// milliseconds, then 80 bits from crypto/rand, so that SIDs sort in the order
// they were made and the database's indexes on them grow at one end (see
// New); Valid accepts either case, as the spec's pattern
// does. NewToken makes an auth token (32 hex digits, no prefix, all from
// crypto/rand), the password of HTTP basic authentication against the REST
// API.
package sid
