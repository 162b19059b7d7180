// Package errcode names the Twilio error and warning codes switchboard
// reports, in one place: one constant per code, named after the title
// Twilio's error dictionary gives it (https://www.twilio.com/docs/api/errors),
// and Message and MoreInfo to describe a code as a Notification (Alert) or a
// REST error body does.
//
// The constants are untyped, so they fit the plain int Code fields of the
// error types of the other packages. Packages that had their own Code*
// constants (webhook, twiml, api, tts, audiocache) keep them as aliases of
// these.
//
// errcode sits below every other package of the project and imports none of
// them.
package errcode
