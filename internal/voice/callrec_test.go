package voice

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/store"
)

// TestCallRecordingTracks: a REST call recording holds what the far end
// said and what it heard, mixed (or one of them), and survives a change of
// what plays and a pause.
func TestCallRecordingTracks(t *testing.T) {
	for _, tc := range []struct {
		track           string
		caller, say, pl int // frames of each in the recording
	}{
		{"", 75, 25, 50},
		{"both", 75, 25, 50},
		{"inbound", 75, 0, 0},
		{"outbound", 0, 25, 50},
	} {
		t.Run("track="+tc.track, func(t *testing.T) {
			h := newHarness(t)
			h.app.twiml("/voice", `<Response><Say loop="0">a</Say></Response>`)
			h.app.twiml("/next", `<Response><Play loop="0">tone.wav</Play></Response>`)
			ic := h.inbound(Call{URL: "/voice"})
			ic.m.waitPlaying(t, 1)
			sid := ic.sid()
			ctx := context.Background()
			row, err := h.in.StartCallRecording(ctx, h.acct.SID, sid, CallRecordingOptions{
				Track: tc.track, StatusCallback: h.url("/rec"), StatusCallbackEvent: []string{"in-progress", "completed"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if row.Status != store.RecordingInProgress || row.Source != store.SourceStartCallRecording {
				t.Errorf("started %+v", row)
			}
			ic.m.say(talk(100))
			ic.m.tickN(25) // the caller over the <Say>

			if err := h.update(sid, Update{URL: h.url("/next")}); err != nil {
				t.Fatal(err)
			}
			ic.m.waitPlaying(t, 2)
			ic.m.tickN(25) // the caller over the <Play>

			if r, err := h.in.UpdateCallRecording(ctx, h.acct.SID, sid, row.SID, store.RecordingPaused); err != nil || r.Status != store.RecordingPaused {
				t.Fatalf("pause: %v %v", r.Status, err)
			}
			ic.m.tickN(25) // not recorded
			if _, err := h.in.UpdateCallRecording(ctx, h.acct.SID, sid, row.SID, store.RecordingInProgress); err != nil {
				t.Fatal(err)
			}
			ic.m.tickN(25)
			ic.leg.remoteHangup()
			ic.wait()

			rec := h.st.recording(row.SID)
			if rec.Status != store.RecordingCompleted || rec.Duration != 1500*time.Millisecond {
				t.Errorf("recording %s %v, want completed, 1.5 s", rec.Status, rec.Duration)
			}
			wantTrack := tc.track
			if wantTrack == "" {
				wantTrack = "both"
			}
			if rec.Track != wantTrack {
				t.Errorf("track %q", rec.Track)
			}
			pcm := readRecording(t, filepath.Join(h.dataDir, rec.File))
			if len(pcm) != 75*160 {
				t.Errorf("%d samples, want 75 frames", len(pcm))
			}
			if got := [3]int{toneFrames(pcm, toneCaller), toneFrames(pcm, toneSay), toneFrames(pcm, tonePlay)}; got != [3]int{tc.caller, tc.say, tc.pl} {
				t.Errorf("frames of caller, say, play: %v, want %v", got, [3]int{tc.caller, tc.say, tc.pl})
			}
			var events []string
			for _, cb := range h.st.callbacksOf(sid) {
				if cb.URL == h.url("/rec") {
					events = append(events, cb.p.Get("RecordingStatus"))
					if cb.p.Get("RecordingSource") != store.SourceStartCallRecording || cb.p.Get("RecordingTrack") != wantTrack {
						t.Errorf("recording callback %v", cb.p)
					}
				}
			}
			if !slices.Equal(events, []string{"in-progress", "completed"}) {
				t.Errorf("recording callbacks %v", events)
			}
		})
	}
}

func TestCallRecordingStates(t *testing.T) {
	h := newHarness(t)
	ic := h.runDoc(`<Response><Pause length="30"/><Say loop="0">a</Say></Response>`)
	h.waitTimers(1)
	sid := ic.sid()
	ctx := context.Background()
	if _, err := h.in.StartCallRecording(ctx, h.acct.SID, sid, CallRecordingOptions{}); !errors.Is(err, ErrCallNotAnswered) {
		t.Errorf("recording a call not answered: %v", err)
	}
	h.clk.Advance(30 * time.Second)
	ic.m.waitPlaying(t, 1)
	row, err := h.in.StartCallRecording(ctx, h.acct.SID, sid, CallRecordingOptions{Trim: "trim-silence"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.in.UpdateCallRecording(ctx, h.acct.SID, sid, "RE000", store.RecordingPaused); !errors.Is(err, ErrRecordingNotFound) {
		t.Errorf("unknown recording: %v", err)
	}
	if r, err := h.in.UpdateCallRecording(ctx, h.acct.SID, sid, row.SID, store.RecordingInProgress); err != nil || r.Status != store.RecordingInProgress {
		t.Errorf("resume a running recording: %v %v", r.Status, err)
	}
	if _, err := h.in.UpdateCallRecording(ctx, h.acct.SID, sid, row.SID, store.RecordingCompleted); !errors.Is(err, ErrRecordingState) {
		t.Errorf("status completed: %v", err)
	}
	ic.m.tickN(10)
	r, err := h.in.UpdateCallRecording(ctx, h.acct.SID, sid, row.SID, store.RecordingStopped)
	if err != nil || r.Status != store.RecordingCompleted || r.Duration != 200*time.Millisecond {
		t.Errorf("stopped: %s %v %v", r.Status, r.Duration, err)
	}
	if _, err := h.in.UpdateCallRecording(ctx, h.acct.SID, sid, row.SID, store.RecordingPaused); !errors.Is(err, ErrRecordingNotFound) {
		t.Errorf("a stopped recording: %v", err)
	}
	// A recording with nothing in it (trim-silence) is absent.
	row2, err := h.in.StartCallRecording(ctx, h.acct.SID, sid, CallRecordingOptions{Trim: "trim-silence", Track: "inbound"})
	if err != nil {
		t.Fatal(err)
	}
	ic.m.tickN(10)
	if r, err := h.in.UpdateCallRecording(ctx, h.acct.SID, sid, row2.SID, store.RecordingStopped); err != nil || r.Status != store.RecordingAbsent {
		t.Errorf("silent recording: %s %v", r.Status, err)
	}
	ic.leg.remoteHangup()
	ic.wait()
}
