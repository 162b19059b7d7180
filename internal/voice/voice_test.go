package voice

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/twiml"
)

func TestPCMSourceLoops(t *testing.T) {
	pcm := make([]int16, 250) // 1.5625 frames
	for i := range pcm {
		pcm[i] = int16(i + 1)
	}
	for _, tc := range []struct {
		loops, frames int
	}{
		{1, 2},  // 250 samples: a full frame and a padded one
		{2, 4},  // 500 samples
		{3, 5},  // 750 samples: 4 full frames and 110 samples
		{0, 0},  // nothing to play
		{-1, 8}, // endless: stop counting at 8
	} {
		src := &pcmSource{pcm: pcm, loops: tc.loops}
		if tc.loops == 0 {
			src.loops = 0
			src.pcm = nil
		}
		frame := make([]int16, media.FrameSamples)
		n, total := 0, 0
		for n < 8 {
			err := src.ReadFrame(frame)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
			for _, s := range frame {
				if s != 0 {
					total++
				}
			}
		}
		if n != tc.frames {
			t.Errorf("loops=%d: %d frames, want %d", tc.loops, n, tc.frames)
		}
		if tc.loops > 0 && total != 250*tc.loops {
			t.Errorf("loops=%d: %d samples played, want %d", tc.loops, total, 250*tc.loops)
		}
	}
}

func TestLoops(t *testing.T) {
	for in, want := range map[int]int{0: -1, 1: 1, 5: 5} {
		if got := loops(in); got != want {
			t.Errorf("loops(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestInnerXML(t *testing.T) {
	say := []twiml.Content{
		twiml.Text("Fish & chips <cheap>, "),
		&twiml.Element{Name: "break", Attrs: []twiml.Attr{{Name: "time", Value: `1"s`}}},
		&twiml.Element{Name: "prosody", Attrs: []twiml.Attr{{Name: "rate", Value: "slow"}}, Children: []twiml.Content{twiml.Text("slowly")}},
	}
	want := `Fish &amp; chips &lt;cheap&gt;, <break time="1&quot;s"/><prosody rate="slow">slowly</prosody>`
	if got := innerXML(say); got != want {
		t.Errorf("innerXML:\n got %s\nwant %s", got, want)
	}
	if !hasMarkup(say) || hasMarkup(say[:1]) {
		t.Error("hasMarkup wrong")
	}
}

func TestDurationSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 0, 499 * time.Millisecond: 0, 500 * time.Millisecond: 1, 2400 * time.Millisecond: 2, 2600 * time.Millisecond: 3} {
		if got := durationSeconds(d); got != want {
			t.Errorf("durationSeconds(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestPCMCacheSharesAndEvicts(t *testing.T) {
	dir := t.TempDir()
	a := writeTone(t, dir, "a.wav", 8000) // 1 s: 16,000 bytes decoded
	b := writeTone(t, dir, "b.wav", 8000)
	c := newPCMCache(20000) // room for one
	pa, err := c.file(a)
	if err != nil {
		t.Fatal(err)
	}
	pa2, _ := c.file(a)
	if &pa[0] != &pa2[0] {
		t.Error("a second play of one file decoded it again")
	}
	if _, err := c.file(b); err != nil {
		t.Fatal(err)
	}
	if c.order.Len() != 1 || c.size > c.max {
		t.Errorf("cache holds %d entries, %d bytes (max %d)", c.order.Len(), c.size, c.max)
	}
	if _, err := c.file(dir + "/missing.wav"); err == nil {
		t.Error("a missing file decoded")
	}
}
