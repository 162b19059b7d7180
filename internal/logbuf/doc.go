// Package logbuf buffers switchboard's log lines on their way to the
// process's standard error.
//
// A busy server logs thousands of lines a second (a call's start, its
// webhook, its answer and its end), and a write system call per line is
// about half of what logging costs. A Writer keeps the lines in memory and
// writes them together: interval after the first line of a batch, as soon as
// maxBuffered bytes wait, and at once for a record of level WARN or above
// (Handler), with every line before it, so that a warning or an error is
// never late. Close writes what is left. A process that dies without Close
// (kill -9, a panic in another goroutine) loses at most the lines of the
// last interval below WARN.
//
// A write to the destination never holds up the goroutines logging: a file
// system that stalls writes for its journal's commit, or a pipe to a log
// shipper that stops reading, would otherwise stop every call being set up,
// since each logs. While a write is in progress the lines wait in memory (a
// warning too, written as soon as that write returns), up to maxHeld bytes
// (4 MiB); past that they are dropped, and a line after those held says how
// many once the destination takes writes again.
package logbuf
