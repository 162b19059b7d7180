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

// Errors of WriteFrame and WriteStereo.
var (
	// ErrClosed is returned by WriteFrame and WriteStereo after Stop.
	ErrClosed = errors.New("recording: stopped")
	// ErrNotStereo is returned by WriteStereo on a mono recording.
	ErrNotStereo = errors.New("recording: WriteStereo on a mono recording")
	// ErrChannelLength is returned by WriteStereo when the two channels'
	// frames differ in length.
	ErrChannelLength = errors.New("recording: stereo channels of different lengths")
)

// Format is the format of every mono recording file.
var Format = wav.Format{Encoding: wav.PCM, SampleRate: media.SampleRate, Channels: 1, BitsPerSample: 16}

// StereoFormat is the format of every dual-channel recording file: Format
// with two channels, the parent call's side on the first (left), the other
// side on the second (right), as Twilio's RecordingChannels=dual.
var StereoFormat = wav.Format{Encoding: wav.PCM, SampleRate: media.SampleRate, Channels: 2, BitsPerSample: 16}

const (
	// queueFrames bounds the frames waiting for the writer: 10 s of audio.
	queueFrames = 500
	// freeFrames bounds the spare frame buffers kept for reuse: enough for
	// all that can be queued, with the writer's and the callers' in hand.
	freeFrames = queueFrames + 8
	// flushEvery is how often the header is rewritten.
	flushEvery = time.Second
	// hangover keeps a span "voiced" this long after the level drops, so
	// that the quiet ends of words are not cut.
	hangoverFrames = 10
)

// Result describes a finished recording.
type Result struct {
	// Samples is the number of 8 kHz samples in the final file, per
	// channel: for a stereo file, the number of sample frames.
	Samples int64
	// Channels is 1 for a mono recording, 2 for a dual-channel one.
	Channels int
	// Voiced reports whether anything above the noise floor was heard.
	Voiced bool
	// Dropped counts frames lost because the writer fell behind.
	Dropped int64
}

// Duration is the length of the final file (whatever its channel count, as
// Samples counts per channel).
func (r Result) Duration() time.Duration {
	return time.Duration(r.Samples) * time.Second / media.SampleRate
}

// A Recorder writes frames to a WAV file, mono (Start) or dual-channel
// (StartStereo). WriteFrame and WriteStereo may be called from the media
// pacer; the other methods from one other goroutine.
type Recorder struct {
	path     string
	channels int
	// frames carries queued frames to the writer, each channel's samples
	// one after the other (planar, not interleaved): the left channel in
	// the first half of a stereo buffer, the right in the second.
	frames chan []int16
	// free holds buffers the writer is done with, for WriteFrame and
	// WriteStereo to reuse: no allocation in steady state.
	free chan []int16
	done chan struct{}
	stop sync.Once
	// syncs carries a test's request to wait for the writer (sync).
	syncs chan syncReq

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
	inter      []int16 // stereo: the frame being interleaved for the file

	vad [2]vad // one detector per channel
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

// StartStereo creates a dual-channel file at path (and its directory) and
// starts writing: frames go in with WriteStereo, the parent call's side on
// channel 1 and the other side on channel 2.
func StartStereo(path string) (*Recorder, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	w, err := wav.Create(path, StereoFormat)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	return start(path, w), nil
}

// start starts the writer goroutine on w, a new file at path, of w's channel
// count (1 or 2).
func start(path string, w *wav.Writer) *Recorder {
	r := &Recorder{
		path: path, channels: w.Format().Channels,
		frames: make(chan []int16, queueFrames), free: make(chan []int16, freeFrames),
		done: make(chan struct{}), syncs: make(chan syncReq), w: w, firstVoice: -1, vad: [2]vad{newVAD(), newVAD()},
	}
	if r.channels == 2 {
		r.inter = make([]int16, 2*media.FrameSamples)
	}
	go r.write()
	return r
}

// Path is the file being written.
func (r *Recorder) Path() string { return r.path }

// Channels is 1 for a mono recording, 2 for a dual-channel one.
func (r *Recorder) Channels() int { return r.channels }

// WriteFrame queues one frame. It never blocks: when the writer is behind,
// the frame is dropped and counted. On a dual-channel recording the frame
// goes to both channels (so a stereo Recorder still works as a plain
// media.Sink); use WriteStereo to give each channel its own audio.
func (r *Recorder) WriteFrame(frame []int16) error {
	if r.channels == 2 {
		return r.WriteStereo(frame, frame)
	}
	// The read lock keeps Stop from closing frames during the send below;
	// the send never blocks, so Stop never waits long.
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.closed.Load() {
		return ErrClosed
	}
	buf := r.buffer(len(frame))
	copy(buf, frame)
	r.queue(buf)
	return nil
}

// WriteStereo queues one frame of each channel of a dual-channel recording:
// left is the parent call's side (channel 1), right the other side (channel
// 2). The two must have the same length, normally media.FrameSamples. Like
// WriteFrame it never blocks and does not retain the slices; frames of at
// most media.FrameSamples cost no allocation once the recording runs.
func (r *Recorder) WriteStereo(left, right []int16) error {
	if r.channels != 2 {
		return ErrNotStereo
	}
	if len(left) != len(right) {
		return ErrChannelLength
	}
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.closed.Load() {
		return ErrClosed
	}
	n := len(left)
	buf := r.buffer(2 * n)
	copy(buf[:n], left)
	copy(buf[n:], right)
	r.queue(buf)
	return nil
}

// buffer returns a frame buffer of n samples, a spare one if it can.
func (r *Recorder) buffer(n int) []int16 {
	select {
	case buf := <-r.free:
		if cap(buf) >= n {
			return buf[:n]
		}
	default:
	}
	return make([]int16, n, max(n, r.channels*media.FrameSamples))
}

// release keeps buf for reuse, unless there are spares enough.
func (r *Recorder) release(buf []int16) {
	select {
	case r.free <- buf[:cap(buf)]:
	default:
	}
}

// queue hands buf to the writer, or drops it when the writer is behind.
func (r *Recorder) queue(buf []int16) {
	select {
	case r.frames <- buf:
	default:
		r.dropped.Add(1)
		r.release(buf)
	}
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
	take := func(buf []int16) {
		if r.err == nil {
			r.append(buf, &hang)
			dirty = true
		}
		r.release(buf)
	}
	flush := func() {
		// Rewrite the header: a crash loses at most what came since,
		// and Repair recovers what reached the file.
		if dirty && r.err == nil {
			if err := r.w.Flush(); err != nil {
				r.fail(fmt.Errorf("recording: flush %s: %w", r.path, err))
			}
			dirty = false
		}
	}
	for {
		select {
		case buf, ok := <-r.frames:
			if !ok {
				return
			}
			take(buf)
		case <-tick.C:
			flush()
		case req := <-r.syncs:
			// Every frame queued before the request is in the
			// channel's buffer: take that many.
			for n := len(r.frames); n > 0; n-- {
				buf, ok := <-r.frames
				if !ok {
					break
				}
				take(buf)
			}
			if req.flush {
				flush()
			}
			close(req.done)
		}
	}
}

// A syncReq asks the writer to finish the frames queued so far and, with
// flush, to rewrite the header as its ticker does; done is closed then.
type syncReq struct {
	flush bool
	done  chan struct{}
}

// sync returns once the writer has written every frame queued before the
// call (and, with flush, rewritten the header), or has ended. Tests use it
// to wait for the writer instead of sleeping.
func (r *Recorder) sync(flush bool) {
	req := syncReq{flush: flush, done: make(chan struct{})}
	select {
	case r.syncs <- req:
		<-req.done
	case <-r.done:
	}
}

// append writes one frame (planar for stereo) and updates the speech
// detectors' state: a stereo frame is voiced when either channel is.
func (r *Recorder) append(buf []int16, hang *int) {
	var voiced bool
	n := len(buf)
	if r.channels == 2 {
		n /= 2
		left, right := buf[:n], buf[n:2*n]
		if cap(r.inter) < 2*n {
			r.inter = make([]int16, 2*n)
		}
		inter := r.inter[:2*n]
		for i := range n {
			inter[2*i], inter[2*i+1] = left[i], right[i]
		}
		if err := r.w.WriteSamples(inter); err != nil {
			r.fail(fmt.Errorf("recording: write %s: %w", r.path, err))
			return
		}
		// Both detectors see every frame, so that each floor follows its side.
		vl, vr := r.vad[0].voiced(left), r.vad[1].voiced(right)
		voiced = vl || vr
	} else {
		if err := r.w.WriteFrame(buf); err != nil {
			r.fail(fmt.Errorf("recording: write %s: %w", r.path, err))
			return
		}
		voiced = r.vad[0].voiced(buf)
	}
	if voiced {
		if r.firstVoice < 0 {
			r.firstVoice = r.samples
		}
		*hang = hangoverFrames
		r.silentFor.Store(0)
	} else {
		r.silentFor.Add(1)
	}
	r.samples += int64(n)
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
// with no speech at all is then empty. In a stereo recording the cut is the
// same on both channels and keeps every frame where either side spoke. The file is complete and synced when
// Stop returns, whatever the error.
func (r *Recorder) Stop(trim bool) (Result, error) {
	r.stop.Do(func() {
		r.closeMu.Lock()
		r.closed.Store(true)
		close(r.frames)
		r.closeMu.Unlock()
	})
	<-r.done
	res := Result{Samples: r.samples, Channels: r.channels, Voiced: r.firstVoice >= 0, Dropped: r.dropped.Load()}
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
	n, err := cut(r.path, start, end, r.w.Format())
	res.Samples = n
	return res, err
}

// cut rewrites the file at path, in format, keeping sample frames
// [start, end).
func cut(path string, start, end int64, format wav.Format) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("recording: trim: %w", err)
	}
	_, samples, err := wav.ReadAllInterleaved(f)
	f.Close()
	if err != nil {
		return 0, fmt.Errorf("recording: trim: %w", err)
	}
	ch := int64(format.Channels)
	end = min(end, int64(len(samples))/ch)
	start = min(start, end)
	tmp := path + ".trim"
	w, err := wav.Create(tmp, format)
	if err != nil {
		return 0, fmt.Errorf("recording: trim: %w", err)
	}
	if err := w.WriteSamples(samples[start*ch : end*ch]); err != nil {
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

// Repair makes a recording file (mono or stereo) left by a stopped process
// playable and returns its length and channel count.
func Repair(path string) (Result, error) {
	frames, err := wav.Repair(path)
	if err != nil {
		return Result{}, fmt.Errorf("recording: repair %s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return Result{}, fmt.Errorf("recording: repair %s: %w", path, err)
	}
	defer f.Close()
	rd, err := wav.NewReader(f)
	if err != nil {
		return Result{}, fmt.Errorf("recording: repair %s: %w", path, err)
	}
	return Result{Samples: frames, Channels: rd.Format().Channels, Voiced: frames > 0}, nil
}
