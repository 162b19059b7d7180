// Command sbprof is `switchboard serve` with profiling, for the load runs in
// bench/ (bench/run.sh uses it when PROFILE=1). It takes exactly the flags and
// SWITCHBOARD_* environment of `switchboard serve` and builds the same server
// (internal/server), and in addition:
//
//   - SBPROF_CPU=FILE writes a CPU profile of the whole run to FILE when the
//     server stops (SIGINT/SIGTERM);
//   - SBPROF_HEAP=FILE writes a heap profile to FILE at the same moment;
//   - SBPROF_MUTEX=FILE and SBPROF_BLOCK=FILE write mutex and blocking
//     profiles (sampling 1 in 100 events), to find where calls wait;
//   - SBPROF_HTTP=ADDR serves net/http/pprof on ADDR (loopback), e.g. a heap
//     profile of the moment with /debug/pprof/heap?gc=1 and the goroutines
//     with /debug/pprof/goroutine?debug=1;
//   - SBPROF_SCHED=1 logs every 250 ms how long goroutines waited, runnable,
//     for a processor (p50, p90, p99 of the runtime's /sched/latencies),
//     the figure the overload rule of internal/server watches.
//
// Read them with `go tool pprof -top BINARY FILE`. The profiler samples at
// 100 Hz and costs a percent or two of CPU; figures for the README come from
// runs with the plain binary.
package main
