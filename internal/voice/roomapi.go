package voice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-voice/switchboard/internal/conference"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/twiml"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// What the REST API does to live conferences (Twilio's Conference and
// Participant resources): the Interpreter steers its rooms through their
// mailboxes.

// ErrConferenceNotFound: no live room with that SID (or name) here.
var ErrConferenceNotFound = errors.New("voice: conference not in progress here")

// ErrParticipantNotFound: no participant with that call SID or label in the
// room.
var ErrParticipantNotFound = errors.New("voice: participant not in the conference")

// ConferenceUpdate changes a live conference (POST .../Conferences/{Sid}).
type ConferenceUpdate struct {
	// Status completed ends the conference (conference-ended-via-api).
	Status store.ConferenceStatus
	// AnnounceURL (with AnnounceMethod) is played to everyone in the room:
	// an audio file, or TwiML with <Play>, <Say> and <Pause>.
	AnnounceURL, AnnounceMethod string
}

// ParticipantUpdate changes a participant (POST
// .../Participants/{CallSid or label}); nil and "" leave a field alone.
type ParticipantUpdate struct {
	Muted *bool
	Hold  *bool
	// HoldURL (with HoldMethod) is what a held participant hears instead
	// of the built-in hold music.
	HoldURL, HoldMethod string
	// AnnounceURL (with AnnounceMethod) is played to this participant only.
	AnnounceURL, AnnounceMethod string
	// WaitURL (with WaitMethod) replaces what it hears while the
	// conference has not started.
	WaitURL, WaitMethod string
	BeepOnExit          *bool
	EndConferenceOnExit *bool
	// Coaching (with CallSIDToCoach) makes the participant a coach of
	// another, or (false) a plain participant again.
	Coaching       *bool
	CallSIDToCoach string
}

// NewParticipant dials someone into a room (POST .../Participants): the
// call is placed like a REST call whose TwiML joins the room.
type NewParticipant struct {
	From, To                             string
	Label                                string
	Beep                                 string
	StartConferenceOnEnter               *bool
	EndConferenceOnExit                  bool
	Muted                                bool
	Hold                                 bool
	Coaching                             bool
	CallSIDToCoach                       string
	JitterBufferSize                     string
	WaitURL, WaitMethod                  string
	MaxParticipants                      int
	Region                               string
	Timeout                              int // seconds of ringing (default 30)
	TimeLimit                            int // seconds (default 4 h)
	EarlyMedia                           bool
	StatusCallback, StatusCallbackMethod string
	StatusCallbackEvents                 []string // the call's: initiated ringing answered completed
	// The room's, taken if this participant creates it.
	ConferenceStatusCallback, ConferenceStatusCallbackMethod string
	ConferenceStatusCallbackEvents                           []string
	ConferenceRecord                                         string
	ConferenceTrim                                           string
	// The room's recording's status callbacks
	// (ConferenceRecordingStatusCallback*).
	ConferenceRecordingStatusCallback, ConferenceRecordingStatusCallbackMethod string
	ConferenceRecordingStatusCallbackEvents                                    []string
	SIPAuthUsername, SIPAuthPassword                                           string
	CallerID                                                                   string
	// Record records the participant's own call while it is in the room
	// (what it says and hears), as <Dial record> does: RecordingChannels
	// mono or dual, RecordingTrack, Trim, and its RecordingStatusCallback*
	// (events in-progress, completed, absent).
	Record                                                 bool
	RecordingChannels, RecordingTrack, Trim                string
	RecordingStatusCallback, RecordingStatusCallbackMethod string
	RecordingStatusCallbackEvents                          []string
}

// liveRoom finds a live room of the account by SID or friendly name.
func (in *Interpreter) liveRoom(accountSID, conf string) *room {
	in.rooms.mu.Lock()
	defer in.rooms.mu.Unlock()
	if r := in.rooms.live[roomKey{accountSID, conf}]; r != nil {
		return r
	}
	for k, r := range in.rooms.live {
		if k.account == accountSID && r.sid == conf {
			return r
		}
	}
	return nil
}

// UpdateConference changes or ends a live conference.
func (in *Interpreter) UpdateConference(ctx context.Context, accountSID, conferenceSID string, u ConferenceUpdate) error {
	r := in.liveRoom(accountSID, conferenceSID)
	if r == nil {
		return ErrConferenceNotFound
	}
	if u.AnnounceURL != "" {
		pcm := in.render(ctx, webhook.Request{
			URL: u.AnnounceURL, Method: methodOr(u.AnnounceMethod), AuthToken: r.account.AuthToken,
			AccountSID: accountSID, Params: url.Values{"ConferenceSid": {r.sid}, "AccountSid": {accountSID}},
		}, func(code int, msg string, _ *webhook.Error) { r.log.Warn("announcement", "code", code, "msg", msg) })
		if len(pcm) == 0 {
			r.call(ctx, func() roomReply { r.announced(true, "nothing to play at "+u.AnnounceURL); return roomReply{} })
		} else {
			r.announce.play(pcm, nil)
			// Its end is reported once it has played (the pacer plays it in
			// real time).
			in.cfg.Clock.AfterFunc(time.Duration(len(pcm))*time.Second/media.SampleRate, func() {
				r.call(context.Background(), func() roomReply { r.announced(false, ""); return roomReply{} })
			})
		}
	}
	if u.Status == store.ConferenceCompleted {
		rep := r.call(ctx, func() roomReply {
			now := in.cfg.Clock.Now().UTC()
			evs, err := r.state.End(now)
			if err == nil {
				r.apply(evs, now)
			}
			return roomReply{err: err}
		})
		if errors.Is(rep.err, errRoomEnded) || errors.Is(rep.err, conference.ErrEnded) {
			return ErrConferenceNotFound
		}
		return rep.err
	}
	return nil
}

// UpdateParticipant changes a participant of a live conference, found by
// call SID or label, and returns its record as it now stands.
func (in *Interpreter) UpdateParticipant(ctx context.Context, accountSID, conferenceSID, callSIDOrLabel string, u ParticipantUpdate) (store.Participant, error) {
	r := in.liveRoom(accountSID, conferenceSID)
	if r == nil {
		return store.Participant{}, ErrConferenceNotFound
	}
	var announce []int16
	if u.AnnounceURL != "" {
		announce = in.render(ctx, webhook.Request{
			URL: u.AnnounceURL, Method: methodOr(u.AnnounceMethod), AuthToken: r.account.AuthToken,
			AccountSID: accountSID, Params: url.Values{"ConferenceSid": {r.sid}, "AccountSid": {accountSID}},
		}, func(code int, msg string, _ *webhook.Error) { r.log.Warn("announcement", "code", code, "msg", msg) })
	}
	rep := r.call(ctx, func() roomReply {
		m := r.member(callSIDOrLabel)
		if m == nil {
			return roomReply{err: ErrParticipantNotFound}
		}
		m.mu.Lock()
		if u.HoldURL != "" {
			m.holdURL, m.holdMethod = u.HoldURL, u.HoldMethod
		}
		if u.WaitURL != "" {
			m.waitURL, m.waitMethod = u.WaitURL, u.WaitMethod
		}
		m.mu.Unlock()
		cu := conference.Update{Muted: u.Muted, Hold: u.Hold, Coaching: u.Coaching,
			EndConferenceOnExit: u.EndConferenceOnExit, BeepOnExit: u.BeepOnExit}
		if u.CallSIDToCoach != "" {
			cu.CallSIDToCoach = &u.CallSIDToCoach
		}
		now := in.cfg.Clock.Now().UTC()
		evs, err := r.state.Update(m.callSID, cu, now)
		if err != nil {
			return roomReply{err: err}
		}
		r.apply(evs, now)
		if len(announce) > 0 {
			select {
			case m.announce <- announce:
			default:
			}
			m.signal()
		}
		return roomReply{p: m.row}
	})
	if errors.Is(rep.err, errRoomEnded) {
		return store.Participant{}, ErrConferenceNotFound
	}
	return rep.p, rep.err
}

// member finds a participant by call SID or label; on the room's goroutine.
func (r *room) member(callSIDOrLabel string) *member {
	if m := r.members[callSIDOrLabel]; m != nil {
		return m
	}
	if p, ok := r.state.ParticipantByLabel(callSIDOrLabel); ok {
		return r.members[p.CallSID]
	}
	return nil
}

// RemoveParticipant takes a participant out of a live conference (the
// REST API's DELETE: participant_updated_via_api, "kicked").
func (in *Interpreter) RemoveParticipant(ctx context.Context, accountSID, conferenceSID, callSIDOrLabel string) error {
	r := in.liveRoom(accountSID, conferenceSID)
	if r == nil {
		return ErrConferenceNotFound
	}
	rep := r.call(ctx, func() roomReply {
		m := r.member(callSIDOrLabel)
		if m == nil {
			return roomReply{err: ErrParticipantNotFound}
		}
		r.doLeave(m, conference.LeaveKicked)
		return roomReply{}
	})
	if errors.Is(rep.err, errRoomEnded) {
		return ErrConferenceNotFound
	}
	return rep.err
}

// AddParticipant dials To into the conference named (or of the SID) given,
// and returns the participant's record (status queued, its call placed). The
// call is placed as a REST call whose TwiML joins the room; a room of that
// name is created if none is live (so that the record names it), and waits
// for the call until it has ended.
func (in *Interpreter) AddParticipant(ctx context.Context, account store.Account, conf string, p NewParticipant) (store.Participant, error) {
	name := conf
	r := in.liveRoom(account.SID, conf)
	if r != nil {
		name = r.key.name
	} else if isConferenceSID(conf) {
		return store.Participant{}, ErrConferenceNotFound
	}
	c := twiml.New[twiml.Conference]()
	c.Name = name
	c.Muted, c.EndConferenceOnExit = p.Muted, p.EndConferenceOnExit
	c.ParticipantLabel = p.Label
	if p.Beep != "" {
		c.Beep = p.Beep
	}
	if p.StartConferenceOnEnter != nil {
		c.StartConferenceOnEnter = *p.StartConferenceOnEnter
	}
	if p.JitterBufferSize != "" {
		c.JitterBufferSize = p.JitterBufferSize
	}
	if p.WaitURL != "" {
		c.WaitURL, c.WaitMethod = p.WaitURL, methodOr(p.WaitMethod)
	}
	if p.MaxParticipants > 0 {
		c.MaxParticipants = p.MaxParticipants
	}
	c.Region = p.Region
	if p.Coaching {
		c.Coach = p.CallSIDToCoach
	}
	c.StatusCallback, c.StatusCallbackMethod = p.ConferenceStatusCallback, methodOr(p.ConferenceStatusCallbackMethod)
	c.StatusCallbackEvent = p.ConferenceStatusCallbackEvents
	if p.ConferenceRecord == "record-from-start" || p.ConferenceRecord == "true" {
		c.Record = "record-from-start"
	}
	if p.ConferenceTrim != "" {
		c.Trim = p.ConferenceTrim
	}
	c.RecordingStatusCallback, c.RecordingStatusCallbackMethod = p.ConferenceRecordingStatusCallback, methodOr(p.ConferenceRecordingStatusCallbackMethod)
	if len(p.ConferenceRecordingStatusCallbackEvents) > 0 {
		c.RecordingStatusCallbackEvent = p.ConferenceRecordingStatusCallbackEvents
	}
	d := twiml.New[twiml.Dial]()
	d.Nouns = []twiml.Noun{c}
	if p.Record {
		participantRecording(d, p)
	}
	if p.TimeLimit > 0 {
		d.TimeLimit = p.TimeLimit
	}
	doc, err := twiml.Marshal(&twiml.Response{Verbs: []twiml.Verb{d}})
	if err != nil {
		return store.Participant{}, fmt.Errorf("add participant: %w", err)
	}
	timeout := secs(p.Timeout)
	if p.Timeout <= 0 {
		timeout = 30 * time.Second
	}
	from := p.From
	if p.CallerID != "" {
		from = p.CallerID
	}
	if r == nil {
		r, err = in.rooms.get(ctx, account, name, roomSettings{
			maxParticipants: c.MaxParticipants, region: c.Region,
			conf: store.ConferenceSettings{
				StatusCallback: c.StatusCallback, StatusCallbackMethod: c.StatusCallbackMethod,
				StatusCallbackEvents: c.StatusCallbackEvent, Record: c.Record, Trim: c.Trim,
				RecordingStatusCallback: c.RecordingStatusCallback, RecordingStatusCallbackMethod: c.RecordingStatusCallbackMethod,
				RecordingStatusCallbackEvents: c.RecordingStatusCallbackEvent,
			},
		})
		if err != nil {
			return store.Participant{}, fmt.Errorf("add participant: %w", err)
		}
	}
	ended := r.expect(ctx)
	call, err := in.place(ctx, Call{
		Account: account, Direction: store.DirectionOutboundAPI, From: from, To: p.To, Twiml: string(doc),
		StatusCallback: p.StatusCallback, StatusCallbackMethod: p.StatusCallbackMethod, StatusCallbackEvents: p.StatusCallbackEvents,
		Dial: DialRequest{To: p.To, From: from, Timeout: timeout, Username: p.SIPAuthUsername, Password: p.SIPAuthPassword},
	}, ended)
	if err != nil {
		ended()
		return store.Participant{}, err
	}
	now := in.cfg.Clock.Now().UTC()
	row := store.Participant{
		ConferenceSID: r.sid,
		CallSID:       call.SID, AccountSID: account.SID, Label: p.Label, From: from, To: p.To,
		Direction: store.DirectionOutbound, CallStatus: call.Status, Status: store.ParticipantQueued,
		Muted: p.Muted, Hold: p.Hold, Coaching: p.Coaching, CallSIDToCoach: p.CallSIDToCoach,
		EndConferenceOnExit: p.EndConferenceOnExit, StartConferenceOnEnter: c.StartConferenceOnEnter,
		JitterBufferSize: c.JitterBufferSize, DateCreated: now, DateUpdated: now,
	}
	return row, nil
}

// participantRecording makes the Dial record the participant's call.
func participantRecording(d *twiml.Dial, p NewParticipant) {
	d.Record = "record-from-answer"
	if p.RecordingChannels == "dual" {
		d.Record = "record-from-answer-dual"
	}
	if p.RecordingTrack != "" {
		d.RecordingTrack = p.RecordingTrack
	}
	if p.Trim != "" {
		d.Trim = p.Trim
	}
	d.RecordingStatusCallback, d.RecordingStatusCallbackMethod = p.RecordingStatusCallback, methodOr(p.RecordingStatusCallbackMethod)
	var events []string
	for _, e := range p.RecordingStatusCallbackEvents {
		if e == "failed" {
			e = "absent" // reported as absent, as for call recordings
		}
		if (e == "in-progress" || e == "completed" || e == "absent") && !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	if len(events) > 0 {
		d.RecordingStatusCallbackEvent = events
	}
}

// isConferenceSID reports whether s looks like a conference SID.
func isConferenceSID(s string) bool {
	return len(s) == 34 && strings.HasPrefix(s, "CF")
}

func methodOr(m string) string {
	if m == "" {
		return http.MethodPost
	}
	return m
}
