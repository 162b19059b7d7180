// Package sched reads, from the Go runtime, how far a process is behind on
// its CPU: over a window, how busy its processors were and how long
// goroutines waited, runnable, for one (the process's CPU time; runtime/metrics
// /sched/latencies:seconds). The server's overload rule
// (internal/server) and the load runs' profiling build (bench/cmd/sbprof)
// use it.
package sched
