package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// A gap is a sleep that took longer than asked: when it began and how long
// it took.
type gap struct {
	at   time.Time
	took time.Duration
}

// probe sleeps tick at a time until dur has passed on now, and returns the
// sleeps that took longer than over.
func probe(now func() time.Time, sleep func(time.Duration), dur, tick, over time.Duration) []gap {
	var gaps []gap
	end := now().Add(dur)
	for t0 := now(); t0.Before(end); {
		sleep(tick)
		t1 := now()
		if d := t1.Sub(t0); d > over {
			gaps = append(gaps, gap{t0, d})
		}
		t0 = t1
	}
	return gaps
}

// report prints the gaps and a summary.
func report(w io.Writer, gaps []gap, dur, over time.Duration) {
	var worst time.Duration
	for _, g := range gaps {
		fmt.Fprintf(w, "%s %.1f ms\n", g.at.UTC().Format("15:04:05.000"), float64(g.took)/float64(time.Millisecond))
		worst = max(worst, g.took)
	}
	fmt.Fprintf(w, "%d sleeps over %v in %v; the longest %.1f ms\n", len(gaps), over, dur, float64(worst)/float64(time.Millisecond))
}

func main() {
	dur := flag.Duration("for", time.Minute, "how long to probe")
	tick := flag.Duration("tick", time.Millisecond, "each sleep")
	over := flag.Duration("over", 8*time.Millisecond, "report sleeps longer than this")
	flag.Parse()
	report(os.Stdout, probe(time.Now, time.Sleep, *dur, *tick, *over), *dur, *over)
}
