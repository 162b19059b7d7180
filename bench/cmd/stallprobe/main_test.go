package main

import (
	"strings"
	"testing"
	"time"
)

// probe reports exactly the sleeps that took longer than over, with when
// they began, and stops once dur has passed.
func TestProbe(t *testing.T) {
	start := time.Unix(0, 0)
	clock := start
	took := []time.Duration{time.Millisecond, 30 * time.Millisecond, time.Millisecond, 8 * time.Millisecond, 9 * time.Millisecond}
	i := 0
	sleep := func(time.Duration) {
		clock = clock.Add(took[i%len(took)])
		i++
	}
	gaps := probe(func() time.Time { return clock }, sleep, 49*time.Millisecond, time.Millisecond, 8*time.Millisecond)
	want := []gap{{start.Add(time.Millisecond), 30 * time.Millisecond}, {start.Add(40 * time.Millisecond), 9 * time.Millisecond}}
	if len(gaps) != len(want) || gaps[0] != want[0] || gaps[1] != want[1] {
		t.Fatalf("gaps %v, want %v", gaps, want)
	}
	if i != len(took) {
		t.Fatalf("%d sleeps for 49 ms, want %d", i, len(took))
	}
	var b strings.Builder
	report(&b, gaps, 49*time.Millisecond, 8*time.Millisecond)
	if got := b.String(); !strings.HasSuffix(got, "2 sleeps over 8ms in 49ms; the longest 30.0 ms\n") || !strings.HasPrefix(got, "00:00:00.001 30.0 ms\n") {
		t.Fatalf("report:\n%s", got)
	}
}
