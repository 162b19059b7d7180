package media

import (
	"testing"
	"time"
)

// Read every other tick (two packets a read, the older one a frame after it
// arrived), the buffer settles as deep as a read every tick leaves it: a
// burst that made it deep is shed down to the same depth, not a frame more.
func TestJitterBufferReadEveryOtherTick(t *testing.T) {
	settle := func(every int) time.Duration {
		var jb JitterBuffer
		jb.readLag = int32(every-1) * frame32
		dst := make([]int16, FrameSamples)
		sent := 0
		for range 6 { // a burst: 120 ms of audio at once
			jb.Push(uint32(sent)*frameTS, jbFrame(sent%300), false)
			sent++
		}
		var worst time.Duration
		for step := range 1500 { // 30 s
			if step%every == every-1 {
				for range every {
					jb.Push(uint32(sent)*frameTS, jbFrame(sent%300), false)
					sent++
				}
			}
			jb.Pop(dst)
			if step >= 1400 {
				worst = max(worst, jb.Delay())
			}
		}
		if jb.Late() != 0 {
			t.Errorf("read every %d ticks: %d packets late", every, jb.Late())
		}
		return worst
	}
	once, pairs := settle(1), settle(2)
	t.Logf("deepest buffer over the last 2 s: %v read every tick, %v every other tick", once, pairs)
	if pairs > once {
		t.Errorf("read every other tick the buffer settles at %v, read every tick at %v: want no deeper", pairs, once)
	}
}
