// Package clock is the one source of time for switchboard's timers.
//
// Components that wait (media pacing, webhook timeouts, gather and record timers,
// inactivity detection) take a Clock instead of calling the time package directly,
// so tests can drive them with a Fake clock and assert on timing without sleeping.
// Real is the clock of production: the monotonic clock of the time package.
//
// Code that only needs fake time inside a single goroutine tree may instead run its
// tests under testing/synctest; Clock exists for code whose goroutines also block on
// real I/O (sockets), which synctest does not treat as durably blocking.
package clock
