package recording

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
)

// ErrClosed is returned by WriteFrame after Stop.
var ErrClosed = errors.New("recording: stopped")

// Format is the format of every recording file.
var Format = wav.Format{Encoding: wav.PCM, SampleRate: media.SampleRate, Channels: 1, BitsPerSample: 16}

const (
	// queueFrames bounds the frames waiting for the writer: 10 s of audio.
	queueFrames = 500
	// flushEvery is how often the header is rewritten.
	flushEvery = time.Second
	// hangover keeps a span "voiced" this long after the level drops, so
	// that the quiet ends of words are not cut.
	hangoverFrames = 10
)

// Result describes a finished recording.
type Result struct {
	// Samples is the number of 8 kHz samples in the final file.
	Samples int64
	// Voiced reports whether anything above the noise floor was heard.
	Voiced bool
	// Dropped counts frames lost because the writer fell behind.
	Dropped int64
}

// Duration is the length of the final file.
func (r Result) Duration() time.Duration {
	return time.Duration(r.Samples) * time.Second / media.SampleRate
}

// A Recorder writes frames to a WAV file. WriteFrame may be called from the
// media pacer; the other methods from one other goroutine.
type Recorder struct {
	path   string
	frames chan []int16
	pool   sync.Pool
	done   chan struct{}
	stop   sync.Once

	dropped atomic.Int64
	// silentFor counts the trailing frames below the speech threshold;
	// written by the writer goroutine, read by SilentFor.
	silentFor atomic.Int64
	closeMu   sync.RWMutex // held for reading while sending on frames
	closed    atomic.Bool
	failed    atomic.Bool // the writer hit an error

	// Set by the writer goroutine, read after done is closed.
	w          *wav.Writer
	file       *os.File
	samples    int64
	firstVoice int64 // sample index where speech first started; -1 if never
	lastVoice  int64 // sample index where speech last ended
	err        error

	vad vad
}

var _ media.Sink = (*Recorder)(nil)

// Start creates the file at path (and its directory) and starts writing.
func Start(path string) (*Recorder, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	w, err := wav.Create(path, Format)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	return start(path, w), nil
}

// start starts the writer goroutine on w, a new file at path.
func start(path string, w *wav.Writer) *Recorder {
	r := &Recorder{
		path: path, frames: make(chan []int16, queueFrames), done: make(chan struct{}),
		w: w, firstVoice: -1, vad: newVAD(),
	}
	r.pool.New = func() any { return make([]int16, media.FrameSamples) }
	go r.write()
	return r
}

// Path is the file being written.
func (r *Recorder) Path() string { return r.path }

// WriteFrame queues one frame. It never blocks: when the writer is behind,
// the frame is dropped and counted.
func (r *Recorder) WriteFrame(frame []int16) error {
	// The read lock keeps Stop from closing frames during the send below;
	// the send never blocks, so Stop never waits long.
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.closed.Load() {
		return ErrClosed
	}
	buf := r.pool.Get().([]int16)
	if cap(buf) < len(frame) {
		buf = make([]int16, len(frame))
	}
	buf = buf[:len(frame)]
	copy(buf, frame)
	select {
	case r.frames <- buf:
	default:
		r.dropped.Add(1)
		r.pool.Put(buf)
	}
	return nil
}

// SilentFor is how long the audio has been below the speech threshold, up
// to the last frame written.
func (r *Recorder) SilentFor() time.Duration {
	return time.Duration(r.silentFor.Load()) * media.FrameDuration
}

// Failed reports whether writing has failed (a full disk...); Stop returns
// the error.
func (r *Recorder) Failed() bool { return r.failed.Load() }

func (r *Recorder) write() {
	defer close(r.done)
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	hang := 0
	dirty := false
	for {
		select {
		case buf, ok := <-r.frames:
			if !ok {
				return
			}
			if r.err == nil {
				r.append(buf, &hang)
				dirty = true
			}
			r.pool.Put(buf[:cap(buf)])
		case <-tick.C:
			// Rewrite the header every second: a crash loses at most the
			// last second, and Repair recovers what reached the file.
			if dirty && r.err == nil {
				if err := r.w.Flush(); err != nil {
					r.fail(fmt.Errorf("recording: flush %s: %w", r.path, err))
				}
				dirty = false
			}
		}
	}
}

// append writes one frame and updates the speech detector's state.
func (r *Recorder) append(buf []int16, hang *int) {
	if err := r.w.WriteFrame(buf); err != nil {
		r.fail(fmt.Errorf("recording: write %s: %w", r.path, err))
		return
	}
	if r.vad.voiced(buf) {
		if r.firstVoice < 0 {
			r.firstVoice = r.samples
		}
		*hang = hangoverFrames
		r.silentFor.Store(0)
	} else {
		r.silentFor.Add(1)
	}
	r.samples += int64(len(buf))
	if *hang > 0 {
		*hang--
		r.lastVoice = r.samples
	}
}

// fail records the first write error; later frames are drained, not written.
func (r *Recorder) fail(err error) {
	r.err = err
	r.failed.Store(true)
}

// Stop ends the recording and closes the file. With trim, leading and
// trailing silence is cut away (Twilio's trim="trim-silence"); a recording
// with no speech at all is then empty. The file is complete and synced when
// Stop returns, whatever the error.
func (r *Recorder) Stop(trim bool) (Result, error) {
	r.stop.Do(func() {
		r.closeMu.Lock()
		r.closed.Store(true)
		close(r.frames)
		r.closeMu.Unlock()
	})
	<-r.done
	res := Result{Samples: r.samples, Voiced: r.firstVoice >= 0, Dropped: r.dropped.Load()}
	cerr := r.w.Close()
	if r.err != nil {
		return res, r.err
	}
	if cerr != nil {
		return res, fmt.Errorf("recording: close %s: %w", r.path, cerr)
	}
	if !trim || (r.firstVoice == 0 && r.lastVoice == r.samples) {
		return res, nil
	}
	start, end := r.firstVoice, r.lastVoice
	if start < 0 {
		start, end = 0, 0
	}
	n, err := cut(r.path, start, end)
	res.Samples = n
	return res, err
}

// cut rewrites the file at path keeping samples [start, end).
func cut(path string, start, end int64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("recording: trim: %w", err)
	}
	_, samples, err := wav.ReadAll(f)
	f.Close()
	if err != nil {
		return 0, fmt.Errorf("recording: trim: %w", err)
	}
	end = min(end, int64(len(samples)))
	start = min(start, end)
	tmp := path + ".trim"
	w, err := wav.Create(tmp, Format)
	if err != nil {
		return 0, fmt.Errorf("recording: trim: %w", err)
	}
	if err := w.WriteSamples(samples[start:end]); err != nil {
		w.Close()
		os.Remove(tmp)
		return 0, fmt.Errorf("recording: trim: %w", err)
	}
	if err := w.Close(); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("recording: trim: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, fmt.Errorf("recording: trim: %w", err)
	}
	return end - start, nil
}

// vad is an energy detector with an adaptive noise floor: a frame is speech
// when it stands well above the quietest recent level and above an absolute
// minimum.
type vad struct {
	floor float64 // dBFS
}

const (
	vadMargin  = 15.0  // dB above the noise floor
	vadMinimum = -48.0 // dBFS: quieter is never speech
	vadRise    = 0.02  // dB per frame the floor creeps up (1 dB/s)
)

func newVAD() vad { return vad{floor: -70} }

func (v *vad) voiced(frame []int16) bool {
	lvl := dsp.Level(frame)
	switch {
	case lvl < v.floor:
		v.floor = max(lvl, -90)
	case lvl < v.floor+vadMargin:
		v.floor += vadRise // background noise rising: follow it slowly
	}
	return lvl > vadMinimum && lvl > v.floor+vadMargin
}

// Repair makes a recording file left by a stopped process playable and
// returns its length.
func Repair(path string) (Result, error) {
	frames, err := wav.Repair(path)
	if err != nil {
		return Result{}, fmt.Errorf("recording: repair %s: %w", path, err)
	}
	return Result{Samples: frames, Voiced: frames > 0}, nil
}
