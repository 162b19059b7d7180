package softphone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
	"github.com/switchboard-voice/switchboard/internal/sip"
)

// Config configures a Phone.
type Config struct {
	// SIPAddr is where the phone's SIP listens (UDP and TCP); default
	// "127.0.0.1:0", a free port.
	SIPAddr string
	// IP is the address its RTP binds and advertises; default 127.0.0.1.
	IP netip.Addr
	// RTPPortMin and RTPPortMax bound its RTP ports; default 22000-22999,
	// away from the server's default range (10000-20000) and below the
	// kernel's ephemeral ports (32768+).
	RTPPortMin, RTPPortMax int
	// InactivityTimeout ends a call that receives no RTP for this long; zero
	// means the media engine's default (60 s), negative disables it.
	InactivityTimeout time.Duration
	// User is the user part of the From header of calls the phone places;
	// default "softphone".
	User string
	// Clock times the script (ring, duration) and the SIP timers; default
	// clock.Real. The media engine paces on real time.
	Clock clock.Clock
	// Logger receives the phone's logs; nil discards them.
	Logger *slog.Logger
}

// A Phone is a SIP user agent with its own media engine: it places calls
// (Call) and answers them (Answer), playing audio and digits and recording
// what it hears.
type Phone struct {
	cfg      Config
	engine   *media.Engine
	srv      *sip.Server
	stop     context.CancelFunc
	served   chan error
	incoming chan *sip.InboundCall
	closeMu  sync.Mutex
	closed   bool
}

// Start starts a phone: its media engine and its SIP user agent, listening
// once Start returns.
func Start(cfg Config) (*Phone, error) {
	if cfg.SIPAddr == "" {
		cfg.SIPAddr = "127.0.0.1:0"
	}
	if !cfg.IP.IsValid() {
		cfg.IP = netip.MustParseAddr("127.0.0.1")
	}
	if cfg.RTPPortMin == 0 && cfg.RTPPortMax == 0 {
		cfg.RTPPortMin, cfg.RTPPortMax = 22000, 22999
	}
	if cfg.User == "" {
		cfg.User = "softphone"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real
	}
	engine, err := media.NewEngine(media.EngineConfig{
		IP: cfg.IP, PortMin: cfg.RTPPortMin, PortMax: cfg.RTPPortMax,
		InactivityTimeout: cfg.InactivityTimeout, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("softphone: %w", err)
	}
	p := &Phone{cfg: cfg, engine: engine, served: make(chan error, 1), incoming: make(chan *sip.InboundCall)}
	srv, err := sip.NewServer(sip.Config{
		Addr: cfg.SIPAddr, Media: engine, Logger: cfg.Logger,
		UserAgent: "switchboard-softphone", ContactHost: cfg.IP.String(), Clock: cfg.Clock,
	}, sip.HandlerFunc(p.handleInbound))
	if err != nil {
		engine.Close()
		return nil, fmt.Errorf("softphone: %w", err)
	}
	p.srv = srv
	ctx, stop := context.WithCancel(context.Background())
	p.stop = stop
	go func() { p.served <- srv.ListenAndServe(ctx) }()
	select {
	case <-srv.Ready():
		return p, nil
	case err := <-p.served:
		stop()
		engine.Close()
		return nil, fmt.Errorf("softphone: %w", err)
	}
}

// Addr is the address the phone's SIP listens on.
func (p *Phone) Addr() netip.AddrPort { return p.srv.Addr() }

// TickStats is how the phone's media pacer has kept up since the start.
func (p *Phone) TickStats() media.TickStats { return p.engine.TickStats() }

// URI is a SIP URI that reaches this phone as user.
func (p *Phone) URI(user string) string {
	return "sip:" + user + "@" + p.Addr().String()
}

// Close hangs up any call and stops the phone.
func (p *Phone) Close() error {
	p.closeMu.Lock()
	if p.closed {
		p.closeMu.Unlock()
		return nil
	}
	p.closed = true
	p.closeMu.Unlock()
	p.stop()
	err := <-p.served
	if cerr := p.engine.Close(); err == nil {
		err = cerr
	}
	return err
}

// A Script is what the phone does once a call is answered: play audio, then
// send digits, while recording what it hears; it hangs up after Duration
// unless the far end hangs up first.
type Script struct {
	// Play is audio to send; PlayFile a WAV file to send instead (any rate
	// and encoding the wav package reads; resampled to 8 kHz).
	Play     media.Source
	PlayFile string
	// Digits are sent as RFC 4733 events once the audio has played ('w'
	// pauses half a second, 'W' a second).
	Digits string
	// Record is a WAV file (8 kHz 16-bit mono) written with what the phone
	// hears; Sink also receives every heard frame.
	Record string
	Sink   media.Sink
	// Duration is how long after the answer the phone hangs up; 0 waits for
	// the far end (or ctx).
	Duration time.Duration
}

// Options describe a call the phone places.
type Options struct {
	// URI is whom to call: "sip:+14155550100@127.0.0.1:5060".
	URI string
	// From is the caller's user part or SIP URI; default Config.User.
	From string
	// Headers are sent with the INVITE (X- headers, User-to-User).
	Headers map[string]string
	// Username and Password answer digest challenges.
	Username, Password string
	// Timeout is how long to ring before giving up; 0 rings until ctx ends.
	Timeout time.Duration
	// OnProgress is called with each provisional response (180, 183);
	// OnAnswer once the call is answered, before the script runs.
	OnProgress func(code int, reason string)
	OnAnswer   func()
	Script
}

// Result is the outcome of a call.
type Result struct {
	// Answered reports whether the call was answered; StatusCode and Reason
	// are the final response (200 OK when answered).
	Answered   bool
	StatusCode int
	Reason     string
	// CallID is the SIP Call-ID.
	CallID string
	// Talk is how long the call lasted from the answer.
	Talk time.Duration
	// End says why it ended (local-hangup when Duration passed or ctx ended,
	// remote-hangup when the far end hung up...).
	End sip.EndReason
	// HeardSamples counts the 8 kHz samples heard (and recorded). For a call
	// the phone placed, what it heard as early media (a 183 with SDP before
	// the answer: a ringback, an announcement) counts too: Script.Sink and
	// Script.Record get it from the early media on, ahead of the answered
	// call's audio, and keep it when the call is then not answered.
	HeardSamples int
	// Digits are the RFC 4733 digits the far end sent.
	Digits string
	// Headers are the far end's custom headers (X-...) of the 200 OK, or of
	// the INVITE for an answered call.
	Headers []sip.Header
	// From and To are the caller and the callee as the INVITE names them; set
	// for calls the phone received (Answer, Listen).
	From, To sip.Party
}

// Call places a call and runs the script; it returns when the call has ended.
// A call that is not answered returns its Result (with the status code, and
// the samples heard as early media) and a *sip.DialError.
//
// Early media (a provisional response with an SDP answer, usually 183
// Session Progress) is heard: from the first one on, what the far end sends
// goes to Script.Sink and Script.Record (the WAV file is created then) and
// counts in HeardSamples, before the answer and then with the answered call's
// audio in the same stream. Without early media the recording starts at the
// answer. The script itself (Play, Digits, Duration) starts at the answer.
func (p *Phone) Call(ctx context.Context, o Options) (Result, error) {
	src, err := o.source()
	if err != nil {
		return Result{}, err
	}
	from := o.From
	if from == "" {
		from = p.cfg.User
	}
	// Early media is heard from the first provisional SDP answer on: the
	// callback runs on this goroutine, inside Dial.
	var (
		heard     *heardSink
		heardErr  error
		earlySess *media.Session
	)
	leg, err := p.srv.Dial(ctx, sip.DialRequest{
		URI: o.URI, From: from, Headers: o.Headers,
		Username: o.Username, Password: o.Password, Timeout: o.Timeout,
		OnProgress: o.OnProgress,
		OnEarlyMedia: func(s *media.Session) {
			if heard, heardErr = newHeardSink(o.Script); heardErr == nil {
				earlySess = s
				s.SetSink(heard)
			}
		},
	})
	if err != nil {
		var res Result
		var de *sip.DialError
		if errors.As(err, &de) {
			res = Result{StatusCode: de.Code, Reason: de.Reason, CallID: de.CallID, Headers: de.Headers}
		}
		if heard != nil {
			// Once SetSink returns the sink is not called again, even on the
			// session Dial closed: the recording can be finished.
			earlySess.SetSink(nil)
			res.HeardSamples = heard.samples()
			if cerr := heard.close(); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}
		return res, err
	}
	if heardErr != nil {
		_ = leg.Hangup(context.WithoutCancel(ctx))
		return Result{Answered: true, StatusCode: 200, Reason: "OK", CallID: leg.CallID(), Headers: leg.Headers()}, heardErr
	}
	if o.OnAnswer != nil {
		o.OnAnswer()
	}
	return p.converse(ctx, leg, src, o.Script, heard)
}

// AnswerOptions describe how the phone takes the next incoming call.
type AnswerOptions struct {
	// Ring is how long to ring (180) before answering; 0 answers at once,
	// without a 180.
	Ring time.Duration
	// Reject, when not zero, turns the call down with this status (300-699:
	// 486 Busy Here, 603 Decline...) instead of answering, after ringing for
	// Ring.
	Reject int
	// NoAnswer rings until the caller gives up (CANCEL) or ctx ends; the
	// call is then reported with End sip.EndCanceled and status 487.
	NoAnswer bool
	// Early and EarlyFor send early media before the answer: when either is
	// set, the phone sends 183 Session Progress with its SDP answer
	// (sip.InboundCall.EarlyMedia) after ringing for Ring, plays Early to
	// the caller (silence when nil) for EarlyFor (until Early ends when
	// EarlyFor is 0), then answers with 200 on the same RTP session, or
	// rejects with Reject, or with NoAnswer keeps ringing until the caller
	// gives up. A caller whose INVITE has no SDP offer cannot get early
	// media: the call is rejected with 500 and Answer returns
	// sip.ErrNoOffer. Unset, the phone answers (or rejects) without a 183.
	Early    media.Source
	EarlyFor time.Duration
	Script
}

// Answer waits for the next incoming call, answers it (or rejects it) and runs
// the script; it returns when the call has ended, with the caller's headers
// in the Result. A call the caller gave up on before the answer returns
// sip.ErrCanceled.
func (p *Phone) Answer(ctx context.Context, o AnswerOptions) (Result, error) {
	src, err := o.source()
	if err != nil {
		return Result{}, err
	}
	call, err := p.nextCall(ctx)
	if err != nil {
		return Result{}, err
	}
	return p.take(ctx, call, src, o)
}

// nextCall waits for the next incoming call.
func (p *Phone) nextCall(ctx context.Context) (*sip.InboundCall, error) {
	select {
	case call := <-p.incoming:
		return call, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// take rings, answers or rejects call as o says, and runs the script (with
// src as its audio) once it is answered.
func (p *Phone) take(ctx context.Context, call *sip.InboundCall, src media.Source, o AnswerOptions) (Result, error) {
	res := Result{CallID: call.CallID, Headers: call.Headers, From: call.From, To: call.To}
	early := o.Early != nil || o.EarlyFor > 0
	if o.Ring > 0 || o.NoAnswer {
		var ring <-chan time.Time
		switch {
		case o.NoAnswer && !early:
			// Rings until the caller gives up.
		case o.Ring > 0:
			// Armed before the 180 goes out: once the caller hears it ring,
			// the ring time is running (tests advance a fake clock then).
			t := p.cfg.Clock.NewTimer(o.Ring)
			defer t.Stop()
			ring = t.C()
		default:
			// NoAnswer with early media and no ring time: on to the 183.
			now := make(chan time.Time)
			close(now)
			ring = now
		}
		_ = call.Ringing()
		select {
		case <-ring:
		case <-call.Canceled():
			res.StatusCode, res.Reason, res.End = 487, "Request Terminated", sip.EndCanceled
			return res, sip.ErrCanceled
		case <-ctx.Done():
			_ = call.Reject(480, "")
			return res, ctx.Err()
		}
	}
	if early {
		if err := p.earlyMedia(ctx, call, o); err != nil {
			if errors.Is(err, sip.ErrCanceled) {
				res.StatusCode, res.Reason, res.End = 487, "Request Terminated", sip.EndCanceled
			}
			return res, err
		}
		if o.NoAnswer {
			select {
			case <-call.Canceled():
				res.StatusCode, res.Reason, res.End = 487, "Request Terminated", sip.EndCanceled
				return res, sip.ErrCanceled
			case <-ctx.Done():
				_ = call.Reject(480, "")
				return res, ctx.Err()
			}
		}
	}
	if o.Reject != 0 {
		res.StatusCode = o.Reject
		if err := call.Reject(o.Reject, ""); err != nil {
			return res, fmt.Errorf("softphone: %w", err)
		}
		return res, nil
	}
	leg, err := call.Answer(ctx)
	if err != nil {
		return res, err
	}
	r, err := p.converse(ctx, leg, src, o.Script, nil)
	r.From, r.To = res.From, res.To
	return r, err
}

// earlyMedia sends the caller 183 with the SDP answer and plays o.Early for
// o.EarlyFor (or until it ends). It returns sip.ErrCanceled if the caller
// gave up meanwhile, ctx's error (the call rejected with 480) if ctx ended.
func (p *Phone) earlyMedia(ctx context.Context, call *sip.InboundCall, o AnswerOptions) error {
	sess, err := call.EarlyMedia(ctx)
	if err != nil {
		if errors.Is(err, sip.ErrCanceled) {
			return err
		}
		_ = call.Reject(500, "")
		return fmt.Errorf("softphone: early media: %w", err)
	}
	playCtx, stop := context.WithCancel(ctx)
	defer stop()
	played := make(chan error, 1)
	go func() { played <- sess.Play(playCtx, o.Early) }()
	var until <-chan time.Time
	if o.EarlyFor > 0 {
		t := p.cfg.Clock.NewTimer(o.EarlyFor)
		defer t.Stop()
		until = t.C()
	}
	var result error
wait:
	for {
		select {
		case <-until:
			break wait
		case err := <-played:
			played = nil
			if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, media.ErrClosed) {
				_ = call.Reject(500, "")
				return fmt.Errorf("softphone: early media: %w", err)
			}
			if o.EarlyFor <= 0 {
				break wait
			}
		case <-call.Canceled():
			result = sip.ErrCanceled
			break wait
		case <-ctx.Done():
			_ = call.Reject(480, "")
			result = ctx.Err()
			break wait
		}
	}
	stop()
	if played != nil {
		<-played
	}
	select {
	case <-call.Canceled():
		return sip.ErrCanceled
	default:
	}
	return result
}

// handleInbound hands incoming calls to Answer; with nobody answering, the
// phone rings until the caller gives up.
func (p *Phone) handleInbound(ctx context.Context, call *sip.InboundCall) {
	select {
	case p.incoming <- call:
		// Answer owns the call now; stay until it ends so the server does not
		// hang it up behind Answer's back.
		<-ctx.Done()
	case <-ctx.Done():
	}
}

// converse runs a script on an answered call and waits for its end. heard,
// when not nil, is the sink already hearing the call's early media.
func (p *Phone) converse(ctx context.Context, leg *sip.Leg, src media.Source, sc Script, heard *heardSink) (Result, error) {
	res := Result{Answered: true, StatusCode: 200, Reason: "OK", CallID: leg.CallID(), Headers: leg.Headers()}
	sess := leg.Media()

	if heard == nil {
		var err error
		if heard, err = newHeardSink(sc); err != nil {
			_ = leg.Hangup(context.WithoutCancel(ctx))
			return res, err
		}
	}
	sess.SetSink(heard)

	digits := make(chan string, 1)
	go func() {
		var b strings.Builder
		for d := range sess.DTMF() {
			b.WriteByte(d.Digit)
		}
		digits <- b.String()
	}()

	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if sc.Duration > 0 {
		t := p.cfg.Clock.NewTimer(sc.Duration)
		defer t.Stop()
		go func() {
			select {
			case <-t.C():
				cancel()
			case <-callCtx.Done():
			}
		}()
	}
	scriptDone := make(chan error, 1)
	go func() {
		if src != nil {
			if err := sess.Play(callCtx, src); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				scriptDone <- err
				return
			}
		}
		if sc.Digits != "" {
			if err := sess.SendDTMF(callCtx, sc.Digits); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				scriptDone <- err
				return
			}
		}
		scriptDone <- nil
	}()

	var err error
	select {
	case <-leg.Done():
	case <-callCtx.Done():
		hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err = leg.Hangup(hctx)
		hcancel()
	}
	sess.SetSink(nil)
	if serr := <-scriptDone; serr != nil && !errors.Is(serr, media.ErrClosed) && err == nil {
		err = fmt.Errorf("softphone: %w", serr)
	}
	res.Digits = <-digits
	res.Talk = p.cfg.Clock.Now().Sub(leg.AnsweredAt())
	res.End = leg.EndReason()
	res.HeardSamples = heard.samples()
	if cerr := heard.close(); cerr != nil && err == nil {
		err = cerr
	}
	return res, err
}

// heardSink counts, records and forwards what the phone hears. It runs on the
// media engine's pacer goroutine.
type heardSink struct {
	rec  *wav.Writer
	user media.Sink

	mu sync.Mutex
	n  int
}

// newHeardSink is the sink of what a script hears: it records to sc.Record
// (created now) and forwards to sc.Sink.
func newHeardSink(sc Script) (*heardSink, error) {
	h := &heardSink{user: sc.Sink}
	if sc.Record != "" {
		rec, err := wav.Create(sc.Record, wav.Default)
		if err != nil {
			return nil, fmt.Errorf("softphone: record: %w", err)
		}
		h.rec = rec
	}
	return h, nil
}

// close finishes the recording; the sink must be detached first.
func (h *heardSink) close() error {
	if h.rec == nil {
		return nil
	}
	if err := h.rec.Close(); err != nil {
		return fmt.Errorf("softphone: record: %w", err)
	}
	return nil
}

func (h *heardSink) WriteFrame(frame []int16) error {
	h.mu.Lock()
	h.n += len(frame)
	h.mu.Unlock()
	if h.rec != nil {
		if err := h.rec.WriteFrame(frame); err != nil {
			return err
		}
	}
	if h.user != nil {
		return h.user.WriteFrame(frame)
	}
	return nil
}

func (h *heardSink) samples() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// source returns the audio a script plays, loading PlayFile into memory (the
// engine reads sources on its pacer goroutine, which must not wait on disk).
func (sc Script) source() (media.Source, error) {
	if sc.PlayFile == "" {
		return sc.Play, nil
	}
	samples, err := LoadWAV(sc.PlayFile)
	if err != nil {
		return nil, err
	}
	return NewSamplesSource(samples), nil
}

// LoadWAV reads a WAV file as 8 kHz mono samples, resampling other rates.
func LoadWAV(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("softphone: play: %w", err)
	}
	defer f.Close()
	format, samples, err := wav.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("softphone: play %s: %w", path, err)
	}
	if format.SampleRate == media.SampleRate {
		return samples, nil
	}
	rs, err := dsp.NewResampler(format.SampleRate, media.SampleRate)
	if err != nil {
		return nil, fmt.Errorf("softphone: play %s: %w", path, err)
	}
	out := rs.Process(nil, samples)
	return rs.Flush(out), nil
}

// NewSamplesSource returns a media.Source that plays samples once.
func NewSamplesSource(samples []int16) media.Source {
	off := 0
	return media.SourceFunc(func(frame []int16) error {
		if off >= len(samples) {
			return io.EOF
		}
		n := copy(frame, samples[off:])
		clear(frame[n:])
		off += n
		return nil
	})
}
