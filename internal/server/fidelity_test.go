package server_test

import (
	"math"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/g711"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/softphone"
)

// chirp is a 300 Hz to 3 kHz sweep at 8 kHz: it lines up with itself at one
// lag only, so what came through can be compared sample by sample.
func chirp(d time.Duration) []int16 {
	n := int(d.Seconds() * media.SampleRate)
	s := make([]int16, n)
	f0, f1 := 300.0, 3000.0
	T := d.Seconds()
	for i := range s {
		t := float64(i) / media.SampleRate
		phase := 2 * math.Pi * (f0*t + (f1-f0)*t*t/(2*T))
		s[i] = int16(9000 * math.Sin(phase))
	}
	return s
}

// throughG711 is what a signal becomes after μ-law coding.
func throughG711(s []int16) []int16 {
	enc := make([]byte, len(s))
	g711.EncodeUlaw(enc, s)
	out := make([]int16, len(s))
	g711.DecodeUlaw(out, enc)
	return out
}

// bestMatch slides want over got and returns the highest normalised
// correlation and its lag.
func bestMatch(want, got []int16) (float64, int) {
	best, lag := -1.0, -1
	var ew float64
	for _, v := range want {
		ew += float64(v) * float64(v)
	}
	for off := 0; off+len(want) <= len(got); off++ {
		var dot, eg float64
		for i, v := range want {
			g := float64(got[off+i])
			dot += float64(v) * g
			eg += g * g
		}
		if eg == 0 {
			continue
		}
		if c := dot / math.Sqrt(ew*eg); c > best {
			best, lag = c, off
		}
	}
	return best, lag
}

// A known file played by <Play> reaches the caller sample for sample, up to
// G.711's own error.
func TestPlayedAudioIsSampleClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	sent := chirp(1500 * time.Millisecond)
	path := filepath.Join(t.TempDir(), "chirp.wav")
	w, err := wav.Create(path, wav.Format{Encoding: wav.PCM, SampleRate: 8000, Channels: 1, BitsPerSample: 16})
	if err != nil {
		t.Fatal(err)
	}
	w.WriteSamples(sent)
	w.Close()
	e.app.handle("/chirp.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		http.ServeFile(w, r, path)
	})
	e.app.twiml("/voice", `<Response><Play>/chirp.wav</Play></Response>`)
	var heard []int16
	e.unstalled(func() {
		res, h, err := e.call("support", softphone.Script{})
		if err != nil || !res.Answered {
			t.Fatalf("%+v %v", res, err)
		}
		heard = h.all()
	})
	requireSampleClose(t, sent, heard)
}

// unstalled runs a measurement of audio again when the test machine stalled
// during it, up to 3 times: when either media pacer, switchboard's or the
// softphone's, gave up ticks (a stall of over 100 ms), the audio was cut
// by the machine whatever the server did. The last run stands whatever
// happened.
func (e *env) unstalled(measure func()) {
	e.t.Helper()
	for try := 1; ; try++ {
		s0, p0 := e.srv.MediaTickStats(), e.phone.TickStats()
		measure()
		ds := e.srv.MediaTickStats().Dropped - s0.Dropped
		dp := e.phone.TickStats().Dropped - p0.Dropped
		if ds+dp == 0 || try == 3 {
			return
		}
		e.t.Logf("the machine stalled (ticks dropped: %d by switchboard, %d by the softphone); measuring again", ds, dp)
	}
}

// requireSampleClose checks that heard holds sent, after G.711, sample for
// sample: every 125 ms chunk of sent is found in heard with a normalised
// correlation of at least 0.99 and an error no larger than G.711's (SNR >=
// 30 dB), in order. The last chunk may be cut by the hangup; one chunk may be
// hit by a scheduling stall of a loaded machine.
func requireSampleClose(t *testing.T, sent, heard []int16) {
	t.Helper()
	want := throughG711(sent)
	const chunk = 1000
	bad, prev := 0, -1
	for off := 0; off+chunk <= len(want)-chunk; off += chunk {
		w := want[off : off+chunk]
		c, lag := bestMatch(w, heard)
		var errSum, sigSum float64
		if lag >= 0 {
			for i, v := range w {
				d := float64(heard[lag+i]) - float64(v)
				errSum += d * d
				sigSum += float64(v) * float64(v)
			}
		}
		snr := 10 * math.Log10(sigSum/max(errSum, 1))
		if c < 0.99 || snr < 30 || lag <= prev {
			bad++
			t.Logf("chunk at %d: correlation %.4f, SNR %.1f dB, lag %d", off, c, snr, lag)
		}
		prev = lag
	}
	if bad > 1 {
		t.Errorf("%d chunks of the audio did not come through sample-close", bad)
	}
}

// What a caller says into <Record> is in the file, sample for sample up to
// G.711's error.
func TestRecordedAudioIsSampleClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.app.twiml("/voice", `<Response><Record action="/done" playBeep="false" timeout="1" trim="do-not-trim"/></Response>`)
	e.app.twiml("/done", `<Response><Hangup/></Response>`)
	sent := chirp(1500 * time.Millisecond)
	var recorded []int16
	tries := 0
	e.unstalled(func() {
		tries++
		play := sequence{silence(300 * time.Millisecond), softphone.NewSamplesSource(sent), silence(3 * time.Second)}
		res, _, err := e.call("support", softphone.Script{Play: &play, Duration: 10 * time.Second})
		if err != nil || !res.Answered {
			t.Fatalf("%+v %v", res, err)
		}
		done := e.app.waitFor("/done", tries, 3*time.Second)[tries-1]
		recorded = e.recordingFile(done.Params.Get("RecordingSid"))
	})
	requireSampleClose(t, sent, recorded)
}
