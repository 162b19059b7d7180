// Package server assembles switchboard from its parts: it opens the store,
// closes the calls this node left open and releases the callbacks it was
// delivering when it last stopped, makes sure the main account exists, and
// runs the HTTP side (REST API and health), SIP with the media engine, the
// interpreter and the outbox deliverer until its context ends; then it shuts
// everything down in order: HTTP requests in flight finish, calls placed
// through the API end, SIP hangs up the calls in progress (their records are
// finalised), the callbacks due get a grace period to leave (the rest stay in
// the outbox for the next start or another node), and the store closes last.
//
// It is the composition root: the only package that knows every other one. It
// adapts SIP to the interpreter (inbound.go: routing by number; dialer.go:
// outbound calls to SIP URIs and, through --trunk, to phone numbers) and turns
// every webhook exchange into an event of the call's log (exchanges.go). The
// `serve` command is a thin wrapper around it, and end-to-end tests start a
// Server in-process on loopback ports.
package server
