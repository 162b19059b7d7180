package voice

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-voice/switchboard/internal/conference"
	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/holdmusic"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/twiml"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// twilioHoldMusic is Twilio's default waitUrl: switchboard plays its own
// built-in music instead of fetching it.
const twilioHoldMusic = "http://twimlets.com/holdmusic?Bucket=com.twilio.music.classical"

// conferenceVerb runs a <Dial><Conference>: the call joins the room and
// stays until it leaves (it hangs up, presses * with hangupOnStar, reaches
// the Dial's timeLimit, or a command moves it) or the room lets it go (the
// conference ended); then the Dial's action, or the next verb.
func (r *run) conferenceVerb(ctx context.Context, d *twiml.Dial, c *twiml.Conference) (*webhook.Response, *twiml.Response, error) {
	if err := r.answer(ctx); err != nil {
		return nil, nil, err
	}
	name := strings.TrimSpace(c.Name)
	if name == "" {
		r.notify(ctx, logError, errcode.ConfInvalidName, "Conference: a room name is required", nil)
		return nil, nil, nil
	}
	req := joinRequest{
		account: r.account, name: name, callSID: r.sid,
		from: r.call.From, to: r.call.To, direction: participantDirection(r.call.Direction),
		opts: conference.Options{
			Label: c.ParticipantLabel, Muted: c.Muted, Beep: conference.Beep(c.Beep),
			StartConferenceOnEnter: &c.StartConferenceOnEnter, EndConferenceOnExit: c.EndConferenceOnExit,
			Coach: c.Coach, JitterBufferSize: conference.JitterBufferSize(c.JitterBufferSize),
		},
		settings: roomSettings{
			maxParticipants: c.MaxParticipants, region: c.Region,
			conf: store.ConferenceSettings{
				StatusCallback: r.resolveRef(c.StatusCallback), StatusCallbackMethod: c.StatusCallbackMethod,
				StatusCallbackEvents: c.StatusCallbackEvent,
				Record:               c.Record, Trim: c.Trim,
				RecordingStatusCallback:       r.resolveRef(c.RecordingStatusCallback),
				RecordingStatusCallbackMethod: c.RecordingStatusCallbackMethod,
				RecordingStatusCallbackEvents: c.RecordingStatusCallbackEvent,
				EventCallbackURL:              r.resolveRef(c.EventCallbackURL),
			},
		},
	}
	m, err := r.in.rooms.join(ctx, req)
	if err != nil {
		// Twilio reports the refusal and goes on with the next verb.
		code := conference.Code(err)
		if code == 0 {
			code = errcode.ConferenceAttributesInvalid
		}
		r.notify(ctx, logError, code, "Conference "+name+": "+err.Error(), nil)
		return nil, nil, nil
	}
	start := r.in.cfg.Clock.Now()
	// The Dial's record records this participant's leg (what it says and
	// hears) while it is in the room.
	var rec *callRecording
	if o := dialRecording(d); o != nil {
		rec = r.startDialRecording(ctx, d, *o)
	}
	reason := r.inRoom(ctx, d, c, m)
	if rec != nil {
		r.mu.Lock()
		rec.row = r.stopCallRecording(ctx, rec)
		r.mu.Unlock()
	}
	r.log.Info("left the conference", "conference", m.room.sid, "reason", reason)
	if d.Action == "" {
		if ctx.Err() != nil {
			return nil, nil, errHangup
		}
		select {
		case <-r.leg.Done():
			return nil, nil, errHangup
		default:
		}
		return nil, nil, nil
	}
	p := r.params()
	p.Set("DialCallStatus", string(store.CallCompleted))
	p.Set("DialCallDuration", strconv.Itoa(int(r.in.cfg.Clock.Now().Sub(start).Round(time.Second)/time.Second)))
	p.Set("ConferenceSid", m.room.sid)
	if rec != nil {
		p.Set("RecordingUrl", r.recordingURL(rec.row))
		p.Set("RecordingSid", rec.row.SID)
		p.Set("RecordingDuration", strconv.Itoa(durationSeconds(rec.row.Duration)))
	}
	method := d.Method
	if method == "" {
		method = http.MethodPost
	}
	if ctx.Err() != nil || reason == conference.LeaveHungUp {
		if errors.Is(context.Cause(ctx), errInterrupted) {
			return nil, nil, errHangup
		}
		select {
		case <-r.leg.Done():
			p.Set("CallStatus", string(store.CallCompleted))
			r.notifyAction(ctx, d.Action, method, p)
			return nil, nil, errHangup
		default:
		}
	}
	return r.fetchNext(ctx, d.Action, method, p)
}

// participantDirection is a participant's direction as Insights reports it.
func participantDirection(callDirection string) string {
	if callDirection == store.DirectionInbound {
		return store.DirectionInbound
	}
	return store.DirectionOutbound
}

// resolveRef resolves a URL of the current document ("" stays "").
func (r *run) resolveRef(ref string) string {
	if ref = strings.TrimSpace(ref); ref == "" {
		return ""
	}
	u, err := webhook.Resolve(r.docURL, ref)
	if err != nil {
		return ""
	}
	return u
}

// inRoom keeps the call in its room, playing what the room says it hears
// (the mix, the wait music, the hold music), until it leaves; it returns
// why it left.
func (r *run) inRoom(ctx context.Context, d *twiml.Dial, c *twiml.Conference, m *member) conference.LeaveReason {
	leg := r.leg.Media()
	if jb, ok := leg.(jitterSetter); ok {
		target, max := jb.JitterBuffer()
		defer jb.SetJitterBuffer(target, max)
		jb.SetJitterBuffer(jitterBufferSize(c.JitterBufferSize))
	}
	adopt(m.room.group, leg) // served with the room's mixer, on its shard
	leg.SetSink(m.ep)
	defer leg.SetSink(nil)
	var out player
	defer out.stop()
	limit := secs(d.TimeLimit)
	if d.TimeLimit <= 0 {
		limit = DefaultTimeLimit
	}
	timer := r.in.cfg.Clock.NewTimer(limit)
	defer timer.Stop()
	r.ear.listen()
	defer r.ear.unlisten()
	if d.HangupOnStar && r.ear.inband {
		r.ear.collect(true)
		defer r.ear.collect(false)
	}
	var role conference.Role
	var wait media.Source
	var waitFrom string
	announcing := false
	announced := r.in.cfg.Clock.NewTimer(time.Hour)
	announced.Stop()
	defer announced.Stop()
	for {
		rt, left, reason := m.current()
		if left {
			return reason
		}
		select {
		case pcm := <-m.announce:
			// An announcement for this participant alone, then back to
			// the room.
			out.play(leg, &pcmSource{pcm: pcm, loops: 1})
			announced.Reset(time.Duration(len(pcm)) * time.Second / media.SampleRate)
			announcing, role = true, 0
			continue
		default:
		}
		if rt.Role != role && !announcing {
			role = rt.Role
			holdURL, holdMethod, waitURL, waitMethod := m.music()
			switch role {
			case conference.RoleMixed:
				out.play(leg, m.ep)
			case conference.RoleWaiting:
				if waitURL == "" {
					waitURL, waitMethod = c.WaitURL, c.WaitMethod
				}
				if wait == nil || waitFrom != waitURL {
					wait, waitFrom = r.waitMusic(ctx, waitURL, waitMethod), waitURL
				}
				out.play(leg, wait)
			case conference.RoleHeld:
				if holdURL != "" {
					out.play(leg, r.loopURL(ctx, "Participant holdUrl", holdURL, holdMethod))
				} else {
					out.play(leg, holdmusic.New())
				}
			}
		}
		select {
		case <-announced.C():
			announcing = false // over: back to what the room says
		case <-m.changed:
		case k := <-r.ear.digits:
			if k == '*' && d.HangupOnStar {
				m.leave(conference.LeaveHungUp)
				return conference.LeaveHungUp
			}
		case <-timer.C():
			m.leave(conference.LeaveHungUp)
			return conference.LeaveHungUp
		case <-r.leg.Done():
			m.leave(conference.LeaveHungUp)
			return conference.LeaveHungUp
		case <-ctx.Done():
			reason := conference.LeaveHungUp
			if errors.Is(context.Cause(ctx), errInterrupted) {
				reason = conference.LeaveUpdatedViaAPI
			}
			m.leave(reason)
			return reason
		}
	}
}

// waitMusic is what a participant hears while the conference has not
// started: the built-in music for Twilio's default waitUrl, nothing for "",
// otherwise an audio file, or the <Play>, <Say> and <Pause> of a TwiML
// document, looped. A waitUrl that gives nothing playable falls back to the
// built-in music.
func (r *run) waitMusic(ctx context.Context, rawURL, method string) media.Source {
	switch rawURL = strings.TrimSpace(rawURL); rawURL {
	case "":
		return nil
	case twilioHoldMusic:
		return holdmusic.New()
	}
	return r.loopURL(ctx, "Conference waitUrl", rawURL, method)
}

// loopURL renders a URL of the call's document (a waitUrl, a holdUrl) and
// loops it; the built-in music when it gives nothing.
func (r *run) loopURL(ctx context.Context, what, rawURL, method string) media.Source {
	target := r.resolveRef(rawURL)
	if target == "" {
		r.notify(ctx, logWarning, errcode.InvalidURL, what+": invalid URL "+rawURL, nil)
		return holdmusic.New()
	}
	pcm := r.in.render(ctx, r.request(target, method, r.params()), func(code int, msg string, werr *webhook.Error) {
		r.notify(ctx, logWarning, code, what+": "+msg, werr)
	})
	if len(pcm) == 0 {
		return holdmusic.New()
	}
	return &pcmSource{pcm: pcm, loops: -1}
}

// jitterSetter is a leg's media whose jitter buffer can be set
// (*media.Session).
type jitterSetter interface {
	SetJitterBuffer(target, max time.Duration)
	JitterBuffer() (target, max time.Duration)
}

// jitterBufferSize is the playout delay of a participant's jitterBufferSize
// (seed 000): small 20 ms, medium 40 ms, large 60 ms (the default), and off:
// no delay, so what comes late is dropped.
func jitterBufferSize(size string) (target, max time.Duration) {
	switch conference.JitterBufferSize(size) {
	case conference.JitterBufferOff:
		return time.Second / media.SampleRate, time.Second / media.SampleRate
	case conference.JitterBufferSmall:
		return 20 * time.Millisecond, 20 * time.Millisecond
	case conference.JitterBufferMedium:
		return 40 * time.Millisecond, 40 * time.Millisecond
	}
	return 60 * time.Millisecond, 60 * time.Millisecond
}

// player plays one source at a time to a leg, on a goroutine of its own,
// until replaced or stopped.
type player struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (p *player) play(leg Media, src media.Source) {
	p.stop()
	if src == nil {
		_ = leg.Play(context.Background(), nil) // silence
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		_ = leg.Play(ctx, src)
	}()
}

func (p *player) stop() {
	if p.cancel != nil {
		p.cancel()
		<-p.done
		p.cancel = nil
	}
}
