// Command stallprobe measures the machine's own stalls: for -for it sleeps
// -tick at a time and prints every sleep that took longer than -over (when
// it began, how long it took), then a summary line.
//
// A process that asks to sleep a millisecond and wakes 30 ms later was not
// run for 30 ms: on a virtual machine, usually because the host ran
// something else. Run one per core (taskset) on an idle machine: stalls seen
// by both at the same instant are the whole machine's, and every server on
// it meets them, switchboard included (bench/README.md, session 17).
//
//	taskset -c 0 go run ./bench/cmd/stallprobe -for 60s
package main
