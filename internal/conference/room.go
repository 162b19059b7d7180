package conference

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of a room (seed 000: maxParticipants, participantLabel).
const (
	// MaxParticipants is the most participants a room holds, and the
	// default of RoomConfig.MaxParticipants.
	MaxParticipants = 250
	// MaxLabelLength is the longest participant label, in characters.
	MaxLabelLength = 128
)

// RoomConfig describes a room: one run of a named conference, from its first
// participant to its end (a later caller of the same name gets a new room
// with a new SID).
type RoomConfig struct {
	SID          string // CF...
	AccountSID   string // AC...
	FriendlyName string // the <Conference> name
	// MaxParticipants is <Conference maxParticipants>: 2 to 250; 0 means 250.
	MaxParticipants int
}

// Beep is the <Conference beep> attribute: when the other participants hear a
// notification beep for this one.
type Beep string

// The values of Beep.
const (
	BeepTrue    Beep = "true"    // on entry and exit (the default)
	BeepFalse   Beep = "false"   // never
	BeepOnEnter Beep = "onEnter" // on entry only
	BeepOnExit  Beep = "onExit"  // on exit only
)

// JitterBufferSize is the <Conference jitterBufferSize> attribute: how much
// of the participant's incoming audio is buffered before it is mixed (20, 40
// or 60 ms, or none).
type JitterBufferSize string

// The values of JitterBufferSize.
const (
	JitterBufferOff    JitterBufferSize = "off"
	JitterBufferSmall  JitterBufferSize = "small"
	JitterBufferMedium JitterBufferSize = "medium"
	JitterBufferLarge  JitterBufferSize = "large" // the default
)

// Options are a joining participant's <Conference> attributes (or the REST
// API's Participant parameters).
type Options struct {
	// Label is participantLabel: unique in the room, at most 128
	// characters, not a call SID, no '/'.
	Label string
	Muted bool
	// Beep is beep; "" means BeepTrue.
	Beep Beep
	// StartConferenceOnEnter is startConferenceOnEnter; nil means true.
	StartConferenceOnEnter *bool
	EndConferenceOnExit    bool
	// Coach is coach: the call SID of the participant this one coaches (it
	// must be in the room); "" for none.
	Coach string
	// JitterBufferSize is jitterBufferSize; "" means JitterBufferLarge.
	JitterBufferSize JitterBufferSize
	// Hold joins the participant on hold (the REST API's Hold).
	Hold bool
}

// A Participant is one call in a room, as it stands.
type Participant struct {
	CallSID                string
	Label                  string
	Muted                  bool
	Hold                   bool
	BeepOnEnter            bool
	BeepOnExit             bool
	StartConferenceOnEnter bool
	EndConferenceOnExit    bool
	// Coaching says the participant is a coach: only CallSIDToCoach hears
	// it.
	Coaching         bool
	CallSIDToCoach   string
	JitterBufferSize JitterBufferSize
	// Speaking is what the last Speech said.
	Speaking bool
	Joined   time.Time
}

// An Update changes a participant through the REST API; nil fields stay as
// they are.
type Update struct {
	Muted *bool
	Hold  *bool
	// Coaching false stops coaching; true needs a call to coach, from
	// CallSIDToCoach or from before. CallSIDToCoach alone starts coaching
	// that call (Twilio: Coaching defaults to true when CallSidToCoach is
	// given); "" stops coaching.
	Coaching            *bool
	CallSIDToCoach      *string
	EndConferenceOnExit *bool
	BeepOnExit          *bool
}

// Role is what a participant hears and whether it is mixed.
type Role uint8

// The roles.
const (
	// RoleWaiting: the conference has not started; the participant hears
	// the wait music and is not mixed.
	RoleWaiting Role = iota + 1
	// RoleHeld: the participant is on hold; it hears the hold music and is
	// not mixed.
	RoleHeld
	// RoleMixed: the participant hears the mix and, unless muted, talks in
	// it.
	RoleMixed
)

// String returns waiting, held or mixed.
func (r Role) String() string {
	switch r {
	case RoleWaiting:
		return "waiting"
	case RoleHeld:
		return "held"
	case RoleMixed:
		return "mixed"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// A Route says how a participant's audio is routed: what the mixer needs to
// know of it (Mixer.Apply takes a room's Routing as it is).
type Route struct {
	CallSID string
	Role    Role
	// Talks: its voice is mixed (RoleMixed and not muted).
	Talks bool
	// Hears: it hears the mix (RoleMixed). A coach hears everyone.
	Hears bool
	// CoachOf, when not "", makes it a coach: its voice goes to that
	// participant only, and to nobody while that participant is not in the
	// room or not hearing.
	CoachOf string
}

// Stats are the counters of a room the conference history needs.
type Stats struct {
	Status       Status
	Participants int // in the room now
	// UniqueParticipants counts the calls that ever joined (a call that
	// leaves and joins again counts once).
	UniqueParticipants int
	// MaxConcurrent is the most participants the room held at once.
	MaxConcurrent int
	// Created is when the first participant joined; Started when the
	// conference started (zero if it never did); Ended when it ended.
	Created, Started, Ended time.Time
	EndReason               EndReason
	CallSIDEndingConference string
}

// A Room is the state machine of one conference: who is in it, with which
// attributes, whether it has started, and the events every change causes,
// following the rules of Twilio's <Conference> (seed 000).
//
//	         Join (≥2 present, one with startConferenceOnEnter)
//	init ────────────────────────────────────────────────▶ in-progress
//	  │                                                        │
//	  └── last leaves, an endConferenceOnExit leaves, End ─────┴──▶ completed
//
// Every operation returns the events it caused, in order: status callback
// events numbered from 1 (SequenceNumber), and beep instructions. A
// conference-end is always the last event of a room. An operation that fails
// changes nothing. Times are the caller's; the Room reads no clock.
//
// A Room is not safe for concurrent use: its owner is one goroutine.
type Room struct {
	cfg    RoomConfig
	status Status
	seq    int

	parts   []*Participant // in join order
	byCall  map[string]*Participant
	byLabel map[string]*Participant
	seen    map[string]struct{} // every call that joined

	stats Stats
}

// NewRoom returns an empty room in status init. MaxParticipants outside 2..250
// (0 aside) is an error wrapping ErrInvalidOption.
func NewRoom(cfg RoomConfig) (*Room, error) {
	if cfg.MaxParticipants == 0 {
		cfg.MaxParticipants = MaxParticipants
	}
	if cfg.MaxParticipants < 2 || cfg.MaxParticipants > MaxParticipants {
		return nil, fmt.Errorf("%w: maxParticipants %d is not between 2 and %d", ErrInvalidOption, cfg.MaxParticipants, MaxParticipants)
	}
	return &Room{
		cfg:     cfg,
		status:  StatusInit,
		byCall:  make(map[string]*Participant),
		byLabel: make(map[string]*Participant),
		seen:    make(map[string]struct{}),
	}, nil
}

// SID returns the room's conference SID.
func (r *Room) SID() string { return r.cfg.SID }

// FriendlyName returns the conference's name.
func (r *Room) FriendlyName() string { return r.cfg.FriendlyName }

// MaxParticipants returns how many participants the room holds at most.
func (r *Room) MaxParticipants() int { return r.cfg.MaxParticipants }

// Status returns init, in-progress or completed.
func (r *Room) Status() Status { return r.status }

// Len returns the number of participants in the room.
func (r *Room) Len() int { return len(r.parts) }

// Stats returns the room's counters.
func (r *Room) Stats() Stats {
	s := r.stats
	s.Status = r.status
	s.Participants = len(r.parts)
	s.UniqueParticipants = len(r.seen)
	return s
}

// Participant returns the participant of call callSID.
func (r *Room) Participant(callSID string) (Participant, bool) {
	p, ok := r.byCall[callSID]
	if !ok {
		return Participant{}, false
	}
	return *p, true
}

// ParticipantByLabel returns the participant labelled label.
func (r *Room) ParticipantByLabel(label string) (Participant, bool) {
	p, ok := r.byLabel[label]
	if !ok || label == "" {
		return Participant{}, false
	}
	return *p, true
}

// Participants returns the participants in the order they joined.
func (r *Room) Participants() []Participant {
	out := make([]Participant, len(r.parts))
	for i, p := range r.parts {
		out[i] = *p
	}
	return out
}

// Join adds call callSID with opts at time at. It fails, changing nothing,
// with ErrEnded, ErrAlreadyJoined, ErrFull, ErrLabelTooLong, ErrLabelInvalid,
// ErrLabelTaken, ErrInvalidOption or ErrCoachNotFound. Its events are
// participant-join; conference-start when this arrival starts the conference
// (at least two participants, one of them with startConferenceOnEnter); and a
// beep-enter when the participant beeps on entry and someone else is there
// to hear it.
func (r *Room) Join(callSID string, opts Options, at time.Time) ([]Event, error) {
	if r.status == StatusCompleted {
		return nil, ErrEnded
	}
	if callSID == "" {
		return nil, fmt.Errorf("%w: empty call sid", ErrInvalidOption)
	}
	if _, ok := r.byCall[callSID]; ok {
		return nil, fmt.Errorf("%w: %s", ErrAlreadyJoined, callSID)
	}
	if len(r.parts) >= r.cfg.MaxParticipants {
		return nil, fmt.Errorf("%w: %d participants", ErrFull, len(r.parts))
	}
	if err := checkLabel(opts.Label); err != nil {
		return nil, err
	}
	if _, ok := r.byLabel[opts.Label]; ok && opts.Label != "" {
		return nil, fmt.Errorf("%w: %q", ErrLabelTaken, opts.Label)
	}
	beepIn, beepOut, err := opts.Beep.parse()
	if err != nil {
		return nil, err
	}
	jitter := opts.JitterBufferSize
	switch jitter {
	case "":
		jitter = JitterBufferLarge
	case JitterBufferOff, JitterBufferSmall, JitterBufferMedium, JitterBufferLarge:
	default:
		return nil, fmt.Errorf("%w: jitterBufferSize %q", ErrInvalidOption, jitter)
	}
	if opts.Coach != "" {
		if _, ok := r.byCall[opts.Coach]; !ok {
			return nil, fmt.Errorf("%w: %s", ErrCoachNotFound, opts.Coach)
		}
	}

	p := &Participant{
		CallSID:                callSID,
		Label:                  opts.Label,
		Muted:                  opts.Muted,
		Hold:                   opts.Hold,
		BeepOnEnter:            beepIn,
		BeepOnExit:             beepOut,
		StartConferenceOnEnter: opts.StartConferenceOnEnter == nil || *opts.StartConferenceOnEnter,
		EndConferenceOnExit:    opts.EndConferenceOnExit,
		Coaching:               opts.Coach != "",
		CallSIDToCoach:         opts.Coach,
		JitterBufferSize:       jitter,
		Joined:                 at,
	}
	r.parts = append(r.parts, p)
	r.byCall[callSID] = p
	if p.Label != "" {
		r.byLabel[p.Label] = p
	}
	r.seen[callSID] = struct{}{}
	if r.stats.Created.IsZero() {
		r.stats.Created = at
	}
	r.stats.MaxConcurrent = max(r.stats.MaxConcurrent, len(r.parts))

	evs := []Event{r.event(ParticipantJoin, p, at)}
	if r.status == StatusInit && len(r.parts) >= 2 && r.hasStarter() {
		r.status = StatusInProgress
		r.stats.Started = at
		evs = append(evs, r.event(ConferenceStart, p, at))
	}
	if p.BeepOnEnter && len(r.parts) > 1 {
		evs = append(evs, r.event(BeepEnter, p, at))
	}
	return evs, nil
}

// hasStarter reports whether a participant with startConferenceOnEnter is in
// the room.
func (r *Room) hasStarter() bool {
	for _, p := range r.parts {
		if p.StartConferenceOnEnter {
			return true
		}
	}
	return false
}

// checkLabel applies Twilio 16023's rules: at most 128 characters, not a call
// SID (CA and 32 lower-case hexadecimal digits), no '/', even encoded.
func checkLabel(label string) error {
	if utf8.RuneCountInString(label) > MaxLabelLength {
		return fmt.Errorf("%w: %d characters", ErrLabelTooLong, utf8.RuneCountInString(label))
	}
	if strings.Contains(label, "/") || strings.Contains(strings.ToUpper(label), "%2F") || looksLikeCallSID(label) {
		return fmt.Errorf("%w: %q", ErrLabelInvalid, label)
	}
	return nil
}

func looksLikeCallSID(s string) bool {
	if len(s) != 34 || s[:2] != "CA" {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// parse returns whether b beeps on entry and on exit.
func (b Beep) parse() (enter, exit bool, err error) {
	switch b {
	case "", BeepTrue:
		return true, true, nil
	case BeepFalse:
		return false, false, nil
	case BeepOnEnter:
		return true, false, nil
	case BeepOnExit:
		return false, true, nil
	}
	return false, false, fmt.Errorf("%w: beep %q", ErrInvalidOption, string(b))
}

// Leave removes call callSID at time at, for reason (LeaveHungUp, LeaveKicked
// or LeaveUpdatedViaAPI). It fails with ErrEnded, ErrNotFound or, for another
// reason, ErrInvalidOption. Its events are participant-leave, then:
//   - when the participant had endConferenceOnExit: a participant-leave for
//     every other participant (moderator_ended_conference), in join order,
//     and conference-end (participant-with-end-conference-on-exit-left, or
//     -kicked);
//   - else when it was the last one: conference-end (last-participant-left,
//     or -kicked);
//   - else a beep-exit when it beeps on exit.
func (r *Room) Leave(callSID string, reason LeaveReason, at time.Time) ([]Event, error) {
	if r.status == StatusCompleted {
		return nil, ErrEnded
	}
	switch reason {
	case LeaveHungUp, LeaveKicked, LeaveUpdatedViaAPI:
	default:
		return nil, fmt.Errorf("%w: leave reason %v", ErrInvalidOption, reason)
	}
	p, ok := r.byCall[callSID]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, callSID)
	}
	r.remove(p)
	evs := []Event{r.leaveEvent(p, reason, at)}
	kicked := reason == LeaveKicked
	switch {
	case p.EndConferenceOnExit:
		for _, o := range r.parts {
			evs = append(evs, r.leaveEvent(o, LeaveModeratorEnded, at))
		}
		r.removeAll()
		why, sentence := EndedModeratorLeft, "left"
		if kicked {
			why, sentence = EndedModeratorKicked, "was removed from"
		}
		evs = append(evs, r.end(why, p, fmt.Sprintf("Participant %s with endConferenceOnExit %s the conference", p.CallSID, sentence), at))
	case len(r.parts) == 0:
		why, sentence := EndedLastParticipantLeft, "left"
		if kicked {
			why, sentence = EndedLastParticipantKicked, "was removed from"
		}
		evs = append(evs, r.end(why, p, fmt.Sprintf("Last participant %s %s the conference", p.CallSID, sentence), at))
	case p.BeepOnExit:
		evs = append(evs, r.event(BeepExit, p, at))
	}
	return evs, nil
}

// End ends the conference through the REST API at time at (status
// completed): a participant-leave for every participant
// (conference_ended_via_api), in join order, then conference-end
// (conference-ended-via-api). ErrEnded if it has ended already.
func (r *Room) End(at time.Time) ([]Event, error) {
	if r.status == StatusCompleted {
		return nil, ErrEnded
	}
	evs := make([]Event, 0, len(r.parts)+1)
	for _, p := range r.parts {
		evs = append(evs, r.leaveEvent(p, LeaveConferenceEndedViaAPI, at))
	}
	r.removeAll()
	evs = append(evs, r.end(EndedViaAPI, nil, "Conference ended via API", at))
	return evs, nil
}

// Update changes call callSID's attributes at time at. It fails, changing
// nothing, with ErrEnded, ErrNotFound or ErrCoachNotFound (coaching a call
// not in the room, or itself). Its events, each only when something changed
// and each carrying the participant as that step left it: participant-mute
// or -unmute, participant-hold or -unhold, then one participant-modify for
// any change of coaching, the call coached, endConferenceOnExit or
// beepOnExit.
func (r *Room) Update(callSID string, u Update, at time.Time) ([]Event, error) {
	if r.status == StatusCompleted {
		return nil, ErrEnded
	}
	p, ok := r.byCall[callSID]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, callSID)
	}
	coaching, target := p.Coaching, p.CallSIDToCoach
	if u.CallSIDToCoach != nil {
		target = *u.CallSIDToCoach
		coaching = target != ""
	}
	if u.Coaching != nil {
		coaching = *u.Coaching
		if !coaching {
			target = ""
		}
	}
	if (u.Coaching != nil || u.CallSIDToCoach != nil) && coaching {
		if _, ok := r.byCall[target]; !ok || target == callSID {
			return nil, fmt.Errorf("%w: %q", ErrCoachNotFound, target)
		}
	}

	var evs []Event
	if u.Muted != nil && *u.Muted != p.Muted {
		p.Muted = *u.Muted
		t := ParticipantUnmute
		if p.Muted {
			t = ParticipantMute
		}
		evs = append(evs, r.event(t, p, at))
	}
	if u.Hold != nil && *u.Hold != p.Hold {
		p.Hold = *u.Hold
		t := ParticipantUnhold
		if p.Hold {
			t = ParticipantHold
		}
		evs = append(evs, r.event(t, p, at))
	}
	modified := coaching != p.Coaching || target != p.CallSIDToCoach
	p.Coaching, p.CallSIDToCoach = coaching, target
	if u.EndConferenceOnExit != nil && *u.EndConferenceOnExit != p.EndConferenceOnExit {
		p.EndConferenceOnExit = *u.EndConferenceOnExit
		modified = true
	}
	if u.BeepOnExit != nil && *u.BeepOnExit != p.BeepOnExit {
		p.BeepOnExit = *u.BeepOnExit
		modified = true
	}
	if modified {
		evs = append(evs, r.event(ParticipantModify, p, at))
	}
	return evs, nil
}

// Speech records that call callSID started (speaking) or stopped speaking at
// time at, as a voice activity detector found: participant-speech-start or
// -stop, or nothing when that is what was known. ErrEnded, ErrNotFound.
func (r *Room) Speech(callSID string, speaking bool, at time.Time) ([]Event, error) {
	if r.status == StatusCompleted {
		return nil, ErrEnded
	}
	p, ok := r.byCall[callSID]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, callSID)
	}
	if p.Speaking == speaking {
		return nil, nil
	}
	p.Speaking = speaking
	t := ParticipantSpeechStop
	if speaking {
		t = ParticipantSpeechStart
	}
	return []Event{r.event(t, p, at)}, nil
}

// Routing returns every participant's route, in join order.
func (r *Room) Routing() []Route {
	out := make([]Route, len(r.parts))
	for i, p := range r.parts {
		out[i] = r.route(p)
	}
	return out
}

// Route returns the route of call callSID.
func (r *Room) Route(callSID string) (Route, bool) {
	p, ok := r.byCall[callSID]
	if !ok {
		return Route{}, false
	}
	return r.route(p), true
}

func (r *Room) route(p *Participant) Route {
	rt := Route{CallSID: p.CallSID, Role: RoleMixed}
	switch {
	case p.Hold:
		rt.Role = RoleHeld
	case r.status != StatusInProgress:
		rt.Role = RoleWaiting
	}
	rt.Hears = rt.Role == RoleMixed
	rt.Talks = rt.Hears && !p.Muted
	if p.Coaching {
		rt.CoachOf = p.CallSIDToCoach
	}
	return rt
}

// event builds an event of type t about p (nil for none), numbering it if it
// is a status callback event.
func (r *Room) event(t EventType, p *Participant, at time.Time) Event {
	e := Event{
		Type:          t,
		ConferenceSID: r.cfg.SID,
		FriendlyName:  r.cfg.FriendlyName,
		AccountSID:    r.cfg.AccountSID,
		Timestamp:     at,
	}
	if p != nil {
		e.Participant = *p
	}
	if t.StatusCallback() {
		r.seq++
		e.SequenceNumber = r.seq
	}
	return e
}

func (r *Room) leaveEvent(p *Participant, reason LeaveReason, at time.Time) Event {
	e := r.event(ParticipantLeave, p, at)
	e.ReasonParticipantLeft = reason
	return e
}

// end completes the room: by participant p (nil: the API), for why.
func (r *Room) end(why EndReason, p *Participant, sentence string, at time.Time) Event {
	r.status = StatusCompleted
	r.stats.Ended = at
	r.stats.EndReason = why
	e := r.event(ConferenceEnd, p, at)
	e.ReasonConferenceEnded = why
	e.Reason = sentence
	if p != nil {
		e.CallSIDEndingConference = p.CallSID
		e.ParticipantLabelEndingConference = p.Label
		r.stats.CallSIDEndingConference = p.CallSID
	}
	return e
}

func (r *Room) remove(p *Participant) {
	if i := slices.Index(r.parts, p); i >= 0 {
		r.parts = slices.Delete(r.parts, i, i+1)
	}
	delete(r.byCall, p.CallSID)
	if p.Label != "" {
		delete(r.byLabel, p.Label)
	}
}

func (r *Room) removeAll() {
	clear(r.byCall)
	clear(r.byLabel)
	clear(r.parts)
	r.parts = r.parts[:0]
}
