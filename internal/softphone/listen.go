package softphone

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/switchboard-voice/switchboard/internal/sip"
)

// ListenOptions describe how the phone takes calls in Listen: each one rings,
// then is answered, rejected or left ringing as AnswerOptions say, and an
// answered one runs the Script.
type ListenOptions struct {
	// Calls is how many calls to take before Listen returns; default 1.
	Calls int
	// AnswerOptions apply to every call. Script.PlayFile is played on every
	// answered call, Script.Play and Early on the first only (a Source plays
	// once: later calls get EarlyFor of silence as early media, or none when
	// EarlyFor is 0).
	// With more than one call, Script.Record names a file per call:
	// heard.wav becomes heard-1.wav, heard-2.wav...
	AnswerOptions
	// OnCall, if set, is called as each call ends, with its number (from 1),
	// its Result and its error: nil for a call that went as asked, including
	// one rejected or given up by the caller before the answer.
	OnCall func(n int, res Result, err error)
}

// Listen takes incoming calls one after another, as o says, until o.Calls
// calls have ended; a call that arrives while another is up waits (the
// caller has had its 100 Trying) until that one ends. It returns the results
// of the calls taken, and ctx's error if ctx ended first (a call up then is
// hung up, one ringing is rejected with 480). A WAV file to play that cannot
// be read is an error before any call is taken.
func (p *Phone) Listen(ctx context.Context, o ListenOptions) ([]Result, error) {
	calls := o.Calls
	if calls <= 0 {
		calls = 1
	}
	var samples []int16
	if o.PlayFile != "" {
		var err error
		if samples, err = LoadWAV(o.PlayFile); err != nil {
			return nil, err
		}
	}
	var results []Result
	for n := 1; n <= calls; n++ {
		call, err := p.nextCall(ctx)
		if err != nil {
			return results, err
		}
		ao := o.AnswerOptions
		if n > 1 {
			ao.Play, ao.Early = nil, nil
		}
		if samples != nil {
			ao.Play, ao.PlayFile = NewSamplesSource(samples), ""
		}
		ao.Record = recordPath(ao.Record, n, calls)
		res, err := p.take(ctx, call, ao.Play, ao)
		if errors.Is(err, sip.ErrCanceled) {
			err = nil // the caller gave up: an outcome, not a failure
		}
		results = append(results, res)
		if o.OnCall != nil {
			o.OnCall(n, res, err)
		}
		if err := ctx.Err(); err != nil {
			return results, err
		}
	}
	return results, nil
}

// recordPath is the file call n of calls records to: path itself for a single
// call, path with "-n" before its extension otherwise.
func recordPath(path string, n, calls int) string {
	if path == "" || calls <= 1 {
		return path
	}
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(path, ext), n, ext)
}
