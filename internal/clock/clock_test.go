package clock

import (
	"testing"
	"time"
)

func TestFakeTimerFiresAtDeadline(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	tm := f.NewTimer(100 * time.Millisecond)
	f.Advance(99 * time.Millisecond)
	select {
	case <-tm.C():
		t.Fatal("timer fired early")
	default:
	}
	f.Advance(time.Millisecond)
	select {
	case at := <-tm.C():
		if want := start.Add(100 * time.Millisecond); !at.Equal(want) {
			t.Fatalf("fired at %v, want %v", at, want)
		}
	default:
		t.Fatal("timer did not fire at its deadline")
	}
	if f.Waiters() != 0 {
		t.Fatalf("fired timer still pending")
	}
}

func TestFakeTimerStopAndReset(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	tm := f.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	if tm.Stop() {
		t.Fatal("second Stop reported true")
	}
	f.Advance(2 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}
	tm.Reset(time.Second)
	f.Advance(time.Second)
	select {
	case <-tm.C():
	default:
		t.Fatal("reset timer did not fire")
	}
}

func TestFakeTickerDropsMissedTicks(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	tk := f.NewTicker(20 * time.Millisecond)
	defer tk.Stop()
	f.Advance(100 * time.Millisecond) // five ticks, receiver asleep: one is buffered
	n := 0
	for {
		select {
		case <-tk.C():
			n++
			continue
		default:
		}
		break
	}
	if n != 1 {
		t.Fatalf("got %d buffered ticks, want 1", n)
	}
	f.Advance(20 * time.Millisecond)
	select {
	case at := <-tk.C():
		if want := time.Unix(0, 0).Add(120 * time.Millisecond); !at.Equal(want) {
			t.Fatalf("tick at %v, want %v (no drift)", at, want)
		}
	default:
		t.Fatal("ticker stopped ticking")
	}
}

func TestRealClockTimer(t *testing.T) {
	tm := Real.NewTimer(time.Millisecond)
	select {
	case <-tm.C():
	case <-time.After(5 * time.Second):
		t.Fatal("real timer did not fire")
	}
}

func TestFakeAfterFunc(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	fired := make(chan struct{})
	f.AfterFunc(time.Second, func() { close(fired) })
	stopped := f.AfterFunc(time.Second, func() { t.Error("a stopped AfterFunc ran") })
	if !stopped.Stop() {
		t.Fatal("Stop of a pending AfterFunc reported false")
	}
	f.Advance(999 * time.Millisecond)
	select {
	case <-fired:
		t.Fatal("AfterFunc ran early")
	default:
	}
	f.Advance(time.Millisecond)
	<-fired
	if f.Waiters() != 0 {
		t.Fatalf("%d waiters left", f.Waiters())
	}
}

func TestRealAfterFunc(t *testing.T) {
	fired := make(chan struct{})
	Real.AfterFunc(time.Millisecond, func() { close(fired) })
	<-fired
}
