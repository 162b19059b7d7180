package main

import "errors"

var (
	// errMode: -mode names no TwiML this app knows.
	errMode = errors.New("unknown mode")
	// errControl: the <Say> text holds a control character XML 1.0 cannot carry.
	errControl = errors.New("control character in text")
	// errDial: -mode dial without a sip: URI to call.
	errDial = errors.New("want a sip: URI")
	// errName: a room or queue name other than letters, digits, - and _.
	errName = errors.New("want 1 to 64 letters, digits, - or _")
)
