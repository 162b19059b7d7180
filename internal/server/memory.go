package server

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

// After a load the Go runtime keeps the memory it grew to for minutes: the
// heap of a burst of calls (their SIP transactions linger 32 s, RFC 3261's
// timers) is garbage once they end, but no collection runs while the server
// is idle, and freed pages go back to the OS slowly. The janitor watches
// the calls started: once none has started for quietFor, it returns the
// memory to the OS, once per quiet spell (debug.FreeOSMemory: a collection
// and a scavenge, a few milliseconds on an idle server; never under load).

const (
	janitorEvery = 10 * time.Second
	quietFor     = 40 * time.Second // past the transactions' 32 s
)

// janitor returns memory after a load.
type janitor struct {
	clock   clock.Clock
	started func() uint64 // calls started so far
	free    func()        // debug.FreeOSMemory
}

// run checks every janitorEvery until ctx ends.
func (j *janitor) run(ctx context.Context, log *slog.Logger) {
	if j.free == nil {
		j.free = debug.FreeOSMemory
	}
	t := j.clock.NewTicker(janitorEvery)
	defer t.Stop()
	last, since, freed := j.started(), j.clock.Now(), true
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		if n := j.started(); n != last {
			last, since, freed = n, j.clock.Now(), false
			continue
		}
		if !freed && j.clock.Now().Sub(since) >= quietFor {
			j.free()
			freed = true
			if log != nil {
				log.Info("quiet since the last call: memory returned to the system", "quiet", j.clock.Now().Sub(since).Round(time.Second))
			}
		}
	}
}
