package media

import (
	"slices"
	"testing"
	"time"
	"unsafe"
)

// jbFrame is frame number id, recognisable after playout.
func jbFrame(id int) []int16 {
	f := make([]int16, FrameSamples)
	for i := range f {
		f[i] = int16(100 * (id + 1))
	}
	return f
}

// frameID returns the id of a popped frame, -1 for silence and -2 for a frame
// mixing several.
func frameID(f []int16) int {
	v := f[0]
	for _, x := range f {
		if x != v {
			return -2
		}
	}
	if v == 0 {
		return -1
	}
	return int(v)/100 - 1
}

type jbStep struct {
	push   []int // frame ids pushed before the pop of this step
	marker bool  // marker bit on the first push
	tsJump uint32
}

// runJB pushes frames with timestamps base+id*160 (+ tsJump from the step on)
// and pops one frame per step, returning the ids heard.
func runJB(t *testing.T, jb *JitterBuffer, base uint32, steps []jbStep) []int {
	t.Helper()
	var heard []int
	var jump uint32
	dst := make([]int16, FrameSamples)
	for _, st := range steps {
		jump += st.tsJump
		for i, id := range st.push {
			jb.Push(base+jump+uint32(id)*frameTS, jbFrame(id), st.marker && i == 0)
		}
		jb.Pop(dst)
		heard = append(heard, frameID(dst))
	}
	return heard
}

func inOrder(n int) []jbStep {
	s := make([]jbStep, n)
	for i := range s {
		s[i].push = []int{i}
	}
	return s
}

func TestJitterBuffer(t *testing.T) {
	// Target 40 ms: the first frame plays two pops after it arrived.
	silence2 := []int{-1, -1}
	seq := func(from, to int) []int {
		var s []int
		for i := from; i <= to; i++ {
			s = append(s, i)
		}
		return s
	}
	tests := []struct {
		name  string
		base  uint32
		steps []jbStep
		want  []int
		late  uint64
		max   time.Duration
	}{
		{
			name:  "in order",
			base:  1000,
			steps: inOrder(10),
			want:  append(silence2, seq(0, 7)...),
		},
		{
			name:  "timestamps wrap",
			base:  1<<32 - 3*160,
			steps: inOrder(10),
			want:  append(silence2, seq(0, 7)...),
		},
		{
			name: "reordered within the target delay",
			base: 5,
			steps: []jbStep{
				{push: []int{0}}, {push: []int{2}}, {push: []int{1}}, {push: []int{3}},
				{push: []int{5}}, {push: []int{4}}, {push: []int{6}}, {},
			},
			want: append(silence2, seq(0, 5)...),
		},
		{
			name: "duplicates play once",
			base: 5,
			steps: []jbStep{
				{push: []int{0, 0}}, {push: []int{1, 0}}, {push: []int{2, 1, 2}}, {push: []int{3}},
				{push: []int{4, 4}}, {push: []int{5, 3}}, {},
			},
			want: append(silence2, seq(0, 4)...),
		},
		{
			name: "a slightly late packet stretches playout instead of being lost",
			base: 77,
			steps: []jbStep{
				{push: []int{0}}, {push: []int{1}}, {push: []int{2}}, {},
				{push: []int{4}}, {push: []int{5}}, {push: []int{6, 3}}, {push: []int{7}}, {}, {}, {},
			},
			// 3 missed its turn (silence), then plays after 20 ms more of
			// silence (half the target), and everything after it is on time.
			want: []int{-1, -1, 0, 1, 2, -1, -1, 3, 4, 5, 6},
		},
		{
			name: "a packet later than its own length is dropped",
			base: 77,
			steps: append([]jbStep{
				{push: []int{0}}, {push: []int{1}}, {push: []int{2}}, {},
				{push: []int{4}}, {push: []int{5}}, {push: []int{6}}, {push: []int{7}},
				{push: []int{8}}, {push: []int{9}}, {push: []int{10}}, {push: []int{11}},
				{push: []int{12}}, {push: []int{13}}, {push: []int{14}}, {push: []int{15, 3}}}, jbStep{}, jbStep{}),
			want: []int{-1, -1, 0, 1, 2, -1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
			late: 1,
		},
		{
			name: "no stretching beyond the maximum delay",
			base: 77,
			max:  DefaultJitterTarget + 10*time.Millisecond,
			steps: []jbStep{
				{push: []int{0}}, {push: []int{1}}, {push: []int{2}}, {},
				{push: []int{4}}, {push: []int{5}}, {push: []int{6, 3}}, {push: []int{7}}, {},
			},
			want: []int{-1, -1, 0, 1, 2, -1, 4, 5, 6},
			late: 1,
		},
		{
			name: "loss plays silence",
			base: 0,
			steps: []jbStep{
				{push: []int{0}}, {push: []int{1}}, {}, {push: []int{3}}, {push: []int{4}}, {}, {},
			},
			want: []int{-1, -1, 0, 1, -1, 3, 4},
		},
		{
			name: "forward timestamp jump continues after the buffered audio",
			base: 0,
			steps: []jbStep{
				{push: []int{0}}, {push: []int{1}}, {push: []int{2}},
				{push: []int{3}, tsJump: 1 << 20}, {push: []int{4}}, {push: []int{5}}, {},
			},
			want: append(silence2, seq(0, 4)...),
		},
		{
			name: "backward timestamp jump: followed after a few packets",
			base: 1 << 30,
			steps: []jbStep{
				{push: []int{0}}, {push: []int{1}}, {push: []int{2}},
				{push: []int{3}, tsJump: 1<<32 - 1<<20}, {push: []int{4}}, {push: []int{5}},
				{push: []int{6}}, {}, {},
			},
			// 3 and 4 are taken for strays (late); 5 starts the new timeline
			// after what was buffered, at the target delay.
			want: []int{-1, -1, 0, 1, 2, -1, -1, 5, 6},
			late: 2,
		},
		{
			name: "talkspurt after silence re-anchors at the target delay",
			base: 0,
			steps: []jbStep{
				{push: []int{0}}, {push: []int{1}}, {}, {}, {}, {}, {},
				// The sender resumes with a timestamp as if no time had passed.
				{push: []int{2}, marker: true, tsJump: 1<<32 - 4*160}, {push: []int{3}}, {}, {},
			},
			want: []int{-1, -1, 0, 1, -1, -1, -1, -1, -1, 2, 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jb := JitterBuffer{Max: tt.max}
			got := runJB(t, &jb, tt.base, tt.steps)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("heard %v\nwant   %v", got, tt.want)
			}
			if jb.Late() != tt.late {
				t.Fatalf("late = %d, want %d", jb.Late(), tt.late)
			}
		})
	}
}

func TestJitterBufferRebaseKeepsBufferedAudio(t *testing.T) {
	var jb JitterBuffer
	dst := make([]int16, FrameSamples)
	var heard []int
	for i := range 3 {
		jb.Push(uint32(i)*frameTS, jbFrame(i), false)
		jb.Pop(dst)
		heard = append(heard, frameID(dst))
	}
	// A new SSRC with unrelated timestamps takes over.
	jb.Rebase()
	for i := 3; i < 6; i++ {
		jb.Push(0xdead0000+uint32(i)*frameTS, jbFrame(i), false)
		jb.Pop(dst)
		heard = append(heard, frameID(dst))
	}
	for range 2 {
		jb.Pop(dst)
		heard = append(heard, frameID(dst))
	}
	if want := []int{-1, -1, 0, 1, 2, 3, 4, 5}; !slices.Equal(heard, want) {
		t.Fatalf("heard %v, want %v", heard, want)
	}
}

func TestJitterBufferAbsorbsADelayIncrease(t *testing.T) {
	var jb JitterBuffer
	dst := make([]int16, FrameSamples)
	// Frame i arrives at step i for a while, then the network path gets 60 ms
	// longer: 20 ms more than the 40 ms target absorbs.
	const n = 300
	arrivals := map[int][]int{}
	for i := range n {
		at := i
		if i >= 20 {
			at = i + 3
		}
		arrivals[at] = append(arrivals[at], i)
	}
	var heard []int
	for step := range n + 20 {
		for _, id := range arrivals[step] {
			jb.Push(uint32(id)*frameTS, jbFrame(id), false)
		}
		jb.Pop(dst)
		if id := frameID(dst); id >= 0 {
			heard = append(heard, id)
		}
	}
	if jb.Late() != 0 {
		t.Fatalf("%d packets dropped as late", jb.Late())
	}
	for i, id := range heard {
		if id != i {
			t.Fatalf("heard frames %v: want every frame once, in order", heard)
		}
	}
	if len(heard) != n {
		t.Fatalf("heard %d frames, want %d", len(heard), n)
	}
	if jb.grown != 1 {
		t.Fatalf("playout stretched %d times, want once", jb.grown)
	}
}

func TestJitterBufferFollowsClockDrift(t *testing.T) {
	for _, tt := range []struct {
		name  string
		ratio float64 // sender clock / ours
	}{{"sender 1% fast", 1.01}, {"sender 1% slow", 0.99}} {
		t.Run(tt.name, func(t *testing.T) {
			var jb JitterBuffer
			dst := make([]int16, FrameSamples)
			sent := 0
			const steps = 3000 // one minute
			var maxDelay time.Duration
			for step := range steps {
				for float64(sent) < float64(step+1)*tt.ratio {
					jb.Push(uint32(sent)*frameTS, jbFrame(sent%300), false)
					sent++
				}
				jb.Pop(dst)
				maxDelay = max(maxDelay, jb.Delay())
			}
			if maxDelay > DefaultJitterMax+FrameDuration {
				t.Errorf("delay grew to %v", maxDelay)
			}
			// A 1% drift must cost at most the 1% of frames that do not exist
			// (slow sender) or that cannot be played (fast sender), plus a little.
			if lossRate := float64(jb.Late()) / float64(sent); lossRate > 0.015 {
				t.Errorf("%.1f%% of packets late", 100*lossRate)
			}
		})
	}
}

func TestJitterBufferSkipAndReset(t *testing.T) {
	var jb JitterBuffer
	dst := make([]int16, FrameSamples)
	for i := range 4 {
		jb.Push(uint32(i)*frameTS, jbFrame(i), false)
	}
	jb.Skip(3 * FrameSamples) // two frames of initial delay and frame 0
	jb.Pop(dst)
	if id := frameID(dst); id != 1 {
		t.Fatalf("after skipping 3 frames heard %d, want 1", id)
	}
	jb.Skip(10 * jbRing)
	jb.Pop(dst)
	if id := frameID(dst); id != -1 {
		t.Fatalf("after a long skip heard %d, want silence", id)
	}
	jb.Reset()
	if jb.Delay() != 0 {
		t.Fatalf("delay after reset %v", jb.Delay())
	}
	jb.Pop(dst)
	if frameID(dst) != -1 {
		t.Fatal("reset buffer played audio")
	}
}

func TestJitterBufferOversizedPackets(t *testing.T) {
	var jb JitterBuffer
	big := make([]int16, 3*jbRing)
	for i := range big {
		big[i] = 1
	}
	jb.Push(0, big, false) // truncated, must not panic
	dst := make([]int16, jbRing)
	jb.Pop(dst)
	jb.Push(5, big[:7], true)
	jb.Pop(dst[:3])
}

// TestJitterBufferRingOnFirstPush: a buffer that has had no packet holds no
// ring, so that the Session of a call that never receives RTP stays small;
// it answers silence, and gets its ring with its first packet. Reset keeps
// the ring but none of its audio.
func TestJitterBufferRingOnFirstPush(t *testing.T) {
	var j JitterBuffer
	out := make([]int16, FrameSamples)
	for i := range out {
		out[i] = 1
	}
	j.Pop(out)
	j.Skip(FrameSamples)
	j.Reset()
	if j.ring != nil {
		t.Fatal("the ring was allocated before any packet")
	}
	if slices.ContainsFunc(out, func(v int16) bool { return v != 0 }) {
		t.Fatal("an empty buffer did not answer silence")
	}
	pcm := make([]int16, FrameSamples)
	for i := range pcm {
		pcm[i] = 1000
	}
	j.Push(0, pcm, true)
	ring := j.ring
	if ring == nil {
		t.Fatal("no ring after the first packet")
	}
	j.Reset()
	if j.ring != ring {
		t.Error("Reset dropped the ring")
	}
	if slices.ContainsFunc(ring[:], func(v int16) bool { return v != 0 }) {
		t.Error("Reset kept buffered audio")
	}
	if n := unsafe.Sizeof(Session{}); n > 4096 {
		t.Errorf("a Session is %d bytes: its jitter buffer ring is back inside it", n)
	}
}
