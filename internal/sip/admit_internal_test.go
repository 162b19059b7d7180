package sip

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
)

func TestTokenBucket(t *testing.T) {
	fake := clock.NewFake(time.Unix(0, 0))
	if b := newTokenBucket(fake, 0); b != nil || !b.take() {
		t.Fatal("rate 0 must mean no limit")
	}
	b := newTokenBucket(fake, 2.5) // burst 2.5: two whole tokens
	for i := 0; i < 2; i++ {
		if !b.take() {
			t.Fatalf("token %d of the burst refused", i+1)
		}
	}
	if b.take() {
		t.Fatal("third token in the same instant taken")
	}
	fake.Advance(400 * time.Millisecond) // 0.5 + 1.0 tokens
	if !b.take() || b.take() {
		t.Fatal("after 400 ms at 2.5/s, want exactly one token")
	}
	fake.Advance(time.Hour) // refills to the burst, no more
	n := 0
	for b.take() {
		n++
	}
	if n != 2 {
		t.Fatalf("%d tokens after an hour, want the burst of 2", n)
	}
	if b := newTokenBucket(fake, 0.2); !b.take() || b.take() {
		t.Fatal("a rate under 1/s has a burst of 1")
	}
}

func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Millisecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", 2 * time.Second: "2", time.Minute: "60",
	} {
		if got := retryAfter(d).Value(); got != want {
			t.Errorf("retryAfter(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestRateLog(t *testing.T) {
	fake := clock.NewFake(time.Unix(0, 0))
	r := newRateLog(fake, 10*time.Second)
	if ok, _ := r.allow("a"); !ok {
		t.Fatal("first line refused")
	}
	for i := 0; i < 5; i++ {
		if ok, _ := r.allow("a"); ok {
			t.Fatal("second line in the interval allowed")
		}
	}
	if ok, _ := r.allow("b"); !ok {
		t.Fatal("another key is limited on its own")
	}
	fake.Advance(10 * time.Second)
	if ok, n := r.allow("a"); !ok || n != 5 {
		t.Fatalf("after the interval: %v, %d held back; want true, 5", ok, n)
	}
	// Spoofed sources by the thousand share one line.
	logged := 0
	for i := 0; i < 3*rateLogKeys; i++ {
		if ok, _ := r.allow(fmt.Sprint("spoof", i)); ok {
			logged++
		}
	}
	if logged > rateLogKeys+1 {
		t.Fatalf("%d lines for %d sources, want at most %d", logged, 3*rateLogKeys, rateLogKeys+1)
	}
	if len(r.keys) > rateLogKeys+1 {
		t.Fatalf("%d keys remembered", len(r.keys))
	}
	// Once their interval is over, the sources are forgotten for new ones.
	fake.Advance(10 * time.Second)
	if ok, _ := r.allow("new"); !ok {
		t.Fatal("a new source after the interval shares the overflow line")
	}
	if len(r.keys) > 3 {
		t.Fatalf("%d keys remembered after pruning", len(r.keys))
	}
}

func TestPrintable(t *testing.T) {
	got := printable("ok\r\n\x1b[31m\x00é"+strings.Repeat("x", 300), 20)
	if want := "ok\r\n.[31m...xxxxxxxx..."; got != want {
		t.Fatalf("printable = %q, want %q", got, want)
	}
}
