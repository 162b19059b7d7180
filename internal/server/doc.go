// Package server assembles switchboard from its parts: it opens the store, makes
// sure the main account exists, and runs the HTTP side (REST API and health) and,
// as they land, the SIP and media sides, until its context ends; then it shuts
// everything down in order (listeners first, in-flight requests finish, the store
// closes last).
//
// It is the composition root: the only package that knows every other one. The
// `serve` command is a thin wrapper around it, and end-to-end tests start a Server
// in-process on loopback ports.
package server
