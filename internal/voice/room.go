package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voice/switchboard/internal/conference"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/dsp"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// Conference rooms live here, one goroutine each.
//
// A room's goroutine owns its conference.Room (who is in, what follows),
// writes the room's and its participants' records with their events and
// status callbacks (Store.SaveConference), and routes the mixer. The calls in
// the room reach it only through its mailbox (room.cmds); it tells each call
// what to play through the call's member (the route, or that it left). The
// mixer runs on the media pacer, in the room's tick hook.

// Ticks registers a function to run in every tick of the media pacer,
// between the receive and the send phase. *media.Engine implements it.
type Ticks interface {
	AddTickHook(f func(tick uint64)) (remove func())
}

// grouper makes groups of sessions served together on one shard of the
// media pacer. *media.Engine implements it.
type grouper interface{ NewGroup() *media.Group }

// adopt moves the legs' sessions into group g (legs that are not media
// sessions, as in tests, stay where they are).
func adopt(g *media.Group, legs ...Media) {
	if g == nil {
		return
	}
	for _, l := range legs {
		if s, ok := l.(*media.Session); ok {
			_ = g.Adopt(s) // an ended session is left alone
		}
	}
}

// roomKey names a live room: an account's friendly name.
type roomKey struct{ account, name string }

// rooms are the live conference rooms of the interpreter.
type rooms struct {
	in *Interpreter
	// mu guards live.
	mu   sync.Mutex
	live map[roomKey]*room
}

// roomSettings are what the first participant sets for the whole room.
type roomSettings struct {
	maxParticipants int
	region          string
	conf            store.ConferenceSettings
}

// errRoomEnded: the room ended while a call was joining; it joins the next
// room of that name.
var errRoomEnded = errors.New("conference ended")

// join adds a call to the room of that name, creating the room if none is
// live, and returns the call's membership.
func (rs *rooms) join(ctx context.Context, req joinRequest) (*member, error) {
	for range 3 {
		r, err := rs.get(ctx, req.account, req.name, req.settings)
		if err != nil {
			return nil, err
		}
		m, err := r.join(ctx, req)
		if errors.Is(err, errRoomEnded) {
			continue // ended meanwhile: the next caller starts a new room
		}
		return m, err
	}
	return nil, fmt.Errorf("join conference %q: %w", req.name, errRoomEnded)
}

// get returns the live room of that name, creating it.
func (rs *rooms) get(ctx context.Context, account store.Account, name string, s roomSettings) (*room, error) {
	key := roomKey{account.SID, name}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if r := rs.live[key]; r != nil {
		return r, nil
	}
	if rs.live == nil {
		rs.live = map[roomKey]*room{}
	}
	r, err := rs.in.newRoom(ctx, account, name, s)
	if err != nil {
		return nil, err
	}
	rs.live[key] = r
	return r, nil
}

// forget removes an ended room, so that its name starts a new one.
func (rs *rooms) forget(r *room) {
	rs.mu.Lock()
	if rs.live[r.key] == r {
		delete(rs.live, r.key)
	}
	rs.mu.Unlock()
}

// room is one live conference.
type room struct {
	in      *Interpreter
	key     roomKey
	sid     string
	account store.Account
	log     *slog.Logger
	cmds    chan roomCmd
	done    chan struct{} // closed when the room has ended
	mixer   *conference.Mixer
	unhook  func()
	// group keeps the room's mixer and its participants' legs on one shard
	// of the media pacer (nil when the Ticks have no groups, as in tests).
	group *media.Group

	// Owned by the room's goroutine.
	state   *conference.Room
	rec     store.Conference
	members map[string]*member // by call SID
	seq     map[string]int     // next SequenceNumber per callback URL

	// What is played into the mix (the beeps, the announcements), and the
	// recording of the mix: fed and read on the pacer, in tick.
	beep, announce injector
	recording      *roomRecording            // the room's goroutine only
	recTap         atomic.Pointer[roomTap]   // what the pacer records
	recBuf         [media.FrameSamples]int16 // pacer only

	// speech carries the voice activity detector's verdicts from the pacer
	// to the room's goroutine (a full channel drops one: the next frame of
	// speech tells again); vads are the detectors, on the pacer only.
	speech chan speechEvent
	vads   map[string]*dsp.VAD

	// abandoned: the room was created for a caller it refused, and nobody
	// ever joined it (room's goroutine only).
	abandoned bool
	// expecting counts the calls the REST API is dialling into the room
	// that have not ended (room's goroutine only): an empty room waits for
	// them.
	expecting int
}

// abandonIfEmpty closes the room if nobody is in it, nobody ever was, and
// nobody it dialled is still on the way.
func (r *room) abandonIfEmpty(now time.Time) {
	if r.state.Len() == 0 && r.state.Status() == conference.StatusInit && r.expecting == 0 {
		r.abandon(now)
	}
}

// expect makes the room wait for a call the REST API dials into it; the
// function it returns says that call has ended (it joined or not), and
// closes the room if nobody came.
func (r *room) expect(ctx context.Context) (ended func()) {
	if rep := r.call(ctx, func() roomReply {
		r.expecting++
		return roomReply{}
	}); rep.err != nil {
		return func() {} // the room has ended: nothing to wait for
	}
	return func() {
		r.call(context.Background(), func() roomReply {
			r.expecting--
			r.abandonIfEmpty(r.in.cfg.Clock.Now().UTC())
			return roomReply{}
		})
	}
}

// abandon closes a room nobody joined: its record is completed without a
// conference-start or -end (no callbacks: for the app it never existed
// beyond its record), and its goroutine ends.
func (r *room) abandon(now time.Time) {
	r.abandoned = true
	r.rec.Status, r.rec.EndTime, r.rec.DateUpdated = store.ConferenceCompleted, now, now
	r.rec.ReasonConferenceEnded, r.rec.Reason = store.ConferenceEndedLastLeft, "nobody joined it"
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if _, err := r.in.cfg.Store.SaveConference(ctx, r.rec, nil, []store.Event{{
		AccountSID: r.account.SID, ResourceSID: r.sid, Type: store.EventConference, Name: "abandoned", Time: now,
	}}, nil); err != nil {
		r.log.Error("cannot close the abandoned conference", "err", err)
	}
}

// speechEvent is a participant starting or stopping to speak.
type speechEvent struct {
	callSID  string
	speaking bool
}

// injector plays clips into the mix through an endpoint of their own that
// talks to everyone. Play may be called from any goroutine; feed runs on
// the pacer.
type injector struct {
	ep  *conference.Endpoint
	cur atomic.Pointer[clip]
	buf [media.FrameSamples]int16 // pacer only
}

// clip is audio being played, to everyone but except (nil: everyone); pos
// is touched by the pacer only.
type clip struct {
	pcm    []int16
	except *conference.Endpoint
	pos    int
}

func (j *injector) play(pcm []int16, except *conference.Endpoint) {
	j.cur.Store(&clip{pcm: pcm, except: except})
}

// feed gives the endpoint this tick's frame of the clip, if one plays.
func (j *injector) feed() {
	c := j.cur.Load()
	if c == nil {
		j.ep.Exclude(nil)
		return
	}
	j.ep.Exclude(c.except)
	n := copy(j.buf[:], c.pcm[c.pos:])
	clear(j.buf[n:])
	c.pos += n
	if c.pos >= len(c.pcm) {
		j.cur.CompareAndSwap(c, nil)
	}
	_ = j.ep.WriteFrame(j.buf[:])
}

// roomCmd is work for a room's goroutine: do runs there, its reply goes
// back to whoever asked.
type roomCmd struct {
	do    func() roomReply
	reply chan roomReply // buffered
}

type roomReply struct {
	m   *member
	p   store.Participant
	rec store.Recording
	err error
}

// joinRequest is a call joining a room.
type joinRequest struct {
	account   store.Account
	name      string
	callSID   string
	from, to  string
	direction string
	opts      conference.Options
	settings  roomSettings
}

// member is a call in a room, shared by the room's goroutine (which writes
// it) and the call's (which reads it).
type member struct {
	room    *room
	callSID string
	ep      *conference.Endpoint
	// changed is signalled (never blocking) when the route changes or the
	// member leaves.
	changed chan struct{}

	// row is the participant's record: owned by the room's goroutine.
	row store.Participant
	// announce carries an announcement for this participant alone (the
	// REST API's AnnounceUrl), played before it goes back to the room.
	announce chan []int16

	// mu guards the fields below.
	mu     sync.Mutex
	route  conference.Route
	left   bool
	reason conference.LeaveReason
	// holdURL and waitURL (with their methods), set through the REST API,
	// replace what it hears on hold and while waiting.
	holdURL, holdMethod string
	waitURL, waitMethod string
}

// music returns the hold and wait URLs set through the REST API.
func (m *member) music() (holdURL, holdMethod, waitURL, waitMethod string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.holdURL, m.holdMethod, m.waitURL, m.waitMethod
}

// current returns what the member should hear, or that it has left.
func (m *member) current() (conference.Route, bool, conference.LeaveReason) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.route, m.left, m.reason
}

func (m *member) signal() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// leave takes the member out of its room (the call hung up, pressed *,
// reached its time limit, or was moved elsewhere) and waits until it is out.
func (m *member) leave(reason conference.LeaveReason) {
	if _, left, _ := m.current(); left {
		return
	}
	m.room.call(context.Background(), func() roomReply {
		m.room.doLeave(m, reason)
		return roomReply{}
	})
}

// call runs f on the room's goroutine and returns its reply; errRoomEnded
// when the room ended first.
func (r *room) call(ctx context.Context, f func() roomReply) roomReply {
	reply := make(chan roomReply, 1)
	select {
	case r.cmds <- roomCmd{do: f, reply: reply}:
	case <-r.done:
		return roomReply{err: errRoomEnded}
	case <-ctx.Done():
		return roomReply{err: ctx.Err()}
	}
	select {
	case rep := <-reply:
		return rep
	case <-r.done:
		// The room replies before it ends: a command that ended it (or
		// came just before) has its reply waiting.
		select {
		case rep := <-reply:
			return rep
		default:
			return roomReply{err: errRoomEnded}
		}
	}
}

// newRoom records a new room and starts its goroutine.
func (in *Interpreter) newRoom(ctx context.Context, account store.Account, name string, s roomSettings) (*room, error) {
	now := in.cfg.Clock.Now().UTC()
	csid := sid.New("CF")
	state, err := conference.NewRoom(conference.RoomConfig{
		SID: csid, AccountSID: account.SID, FriendlyName: name, MaxParticipants: s.maxParticipants,
	})
	if err != nil {
		return nil, err
	}
	if in.cfg.Ticks == nil {
		return nil, errors.New("conference: no media engine to mix on")
	}
	r := &room{
		in: in, key: roomKey{account.SID, name}, sid: csid, account: account,
		log:  in.log.With("conference", csid),
		cmds: make(chan roomCmd, 16), done: make(chan struct{}),
		state: state, members: map[string]*member{}, seq: map[string]int{},
		speech: make(chan speechEvent, 64), vads: map[string]*dsp.VAD{},
	}
	var onInput func(string, []int16, uint32)
	if slices.Contains(s.conf.StatusCallbackEvents, "speaker") {
		onInput = r.detectSpeech // only when someone listens: it costs
	}
	r.mixer = conference.NewMixer(conference.MixerConfig{OnInput: onInput})
	r.rec = store.Conference{
		SID: csid, AccountSID: account.SID, FriendlyName: name, Status: store.ConferenceInit,
		APIVersion: webhook.APIVersion, Region: s.region, MaxParticipants: state.MaxParticipants(),
		Settings: s.conf, Node: in.cfg.Node, DateCreated: now, DateUpdated: now,
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	rec, err := in.cfg.Store.SaveConference(sctx, r.rec, nil, []store.Event{{
		AccountSID: account.SID, ResourceSID: csid, Type: store.EventConference, Name: "created", Time: now,
	}}, nil)
	if err != nil {
		return nil, fmt.Errorf("record conference: %w", err)
	}
	r.rec = rec
	for _, j := range []*injector{&r.beep, &r.announce} {
		j.ep = r.mixer.Add("~play")
		j.ep.Set(conference.Flags{Talks: true})
	}
	var ticks Ticks = in.cfg.Ticks
	if g, ok := in.cfg.Ticks.(grouper); ok {
		r.group = g.NewGroup()
		ticks = r.group
	}
	r.unhook = ticks.AddTickHook(r.tick)
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		r.serve()
	}()
	r.log.Info("conference created", "name", name)
	return r, nil
}

// tick mixes the room: on the media pacer, between receive and send.
func (r *room) tick(uint64) {
	r.beep.feed()
	r.announce.feed()
	r.mixer.Mix()
	if t := r.recTap.Load(); t != nil {
		if err := t.ep.ReadFrame(r.recBuf[:]); err == nil {
			_ = t.rec.WriteFrame(r.recBuf[:])
		}
	}
}

// detectSpeech runs each participant's voice activity detector on what it
// said this tick (on the pacer) and tells the room's goroutine when one
// starts or stops speaking.
func (r *room) detectSpeech(id string, frame []int16, _ uint32) {
	if strings.HasPrefix(id, "~") {
		return // a clip, not a participant
	}
	v := r.vads[id]
	if v == nil {
		v = dsp.NewVAD(dsp.VADConfig{})
		r.vads[id] = v
	}
	if changed, speaking := v.Process(frame); changed {
		select {
		case r.speech <- speechEvent{callSID: id, speaking: speaking}:
		default:
		}
	}
}

// join asks the room's goroutine to add a call.
func (r *room) join(ctx context.Context, req joinRequest) (*member, error) {
	rep := r.call(ctx, func() roomReply {
		m, err := r.doJoin(req)
		return roomReply{m: m, err: err}
	})
	return rep.m, rep.err
}

// serve is the room's goroutine: it applies commands and speech events
// until the room ends.
func (r *room) serve() {
	defer close(r.done)
	defer r.unhook()
	shutdown := r.in.ctx.Done()
	for {
		select {
		case cmd := <-r.cmds:
			cmd.reply <- cmd.do()
		case sp := <-r.speech:
			now := r.in.cfg.Clock.Now().UTC()
			if evs, err := r.state.Speech(sp.callSID, sp.speaking, now); err == nil && len(evs) > 0 {
				r.apply(evs, now)
			}
		case <-shutdown:
			// The interpreter is closing: the room ends (its calls go on
			// with their next verb, or end with the server).
			shutdown = nil
			now := r.in.cfg.Clock.Now().UTC()
			if evs, err := r.state.End(now); err == nil {
				r.apply(evs, now)
			}
		}
		if r.state.Status() == conference.StatusCompleted || r.abandoned {
			r.in.rooms.forget(r)
			r.stopRecording()
			// Commands queued meanwhile are answered: the room is over.
			for {
				select {
				case c := <-r.cmds:
					c.reply <- roomReply{err: errRoomEnded}
				default:
					args := []any{"reason", r.rec.ReasonConferenceEnded}
					if r.group != nil {
						h := r.group.HookStats()
						args = append(args, "mix_ticks", h.Count(), "mix_p50", h.Quantile(0.5), "mix_p99", h.Quantile(0.99), "mix_max", h.Max())
					}
					r.log.Info("conference ended", args...)
					return
				}
			}
		}
	}
}

func (r *room) doJoin(req joinRequest) (*member, error) {
	now := r.in.cfg.Clock.Now().UTC()
	evs, err := r.state.Join(req.callSID, req.opts, now)
	if err != nil {
		r.abandonIfEmpty(now) // its first caller was refused: nobody is in it
		return nil, err
	}
	m := &member{room: r, callSID: req.callSID, changed: make(chan struct{}, 1), announce: make(chan []int16, 1)}
	m.ep = r.mixer.Add(req.callSID)
	p, _ := r.state.Participant(req.callSID)
	m.row = store.Participant{
		SID: sid.New("CP"), ConferenceSID: r.sid, AccountSID: r.account.SID, CallSID: req.callSID,
		From: req.from, To: req.to, Direction: req.direction, CallStatus: store.CallInProgress,
		Status: store.ParticipantConnected, JoinTime: now, Node: r.in.cfg.Node, DateCreated: now,
	}
	participantRow(&m.row, p)
	r.members[req.callSID] = m
	r.apply(evs, now)
	return m, nil
}

func (r *room) doLeave(m *member, reason conference.LeaveReason) {
	if r.members[m.callSID] != m {
		return
	}
	now := r.in.cfg.Clock.Now().UTC()
	evs, err := r.state.Leave(m.callSID, reason, now)
	if err != nil {
		r.log.Warn("leave", "call", m.callSID, "err", err)
		return
	}
	r.apply(evs, now)
}

// apply follows the events of a change: the records, the callbacks, the
// beeps, the mixer's routes and what each member hears.
func (r *room) apply(evs []conference.Event, now time.Time) {
	var sevs []store.Event
	var cbs []store.Callback
	changed := map[string]bool{}
	for _, ev := range evs {
		switch ev.Type {
		case conference.BeepEnter:
			// Everyone but the participant joining hears it.
			var joiner *conference.Endpoint
			if m := r.members[ev.Participant.CallSID]; m != nil {
				joiner = m.ep
			}
			r.beep.play(beepPCM, joiner)
			continue
		case conference.BeepExit:
			r.beep.play(beepPCM, nil)
			continue
		}
		csid := ev.Participant.CallSID
		if m := r.members[csid]; m != nil {
			p, ok := r.state.Participant(csid)
			if ok {
				participantRow(&m.row, p)
			}
			m.row.DateUpdated = now
			if ev.Type == conference.ParticipantLeave {
				m.row.Status, m.row.LeaveTime = store.ParticipantComplete, now
				m.row.ReasonParticipantLeft = ev.ReasonParticipantLeft.String()
				if ev.ReasonParticipantLeft == conference.LeaveHungUp {
					m.row.CallStatus = store.CallCompleted
				}
			}
			changed[csid] = true
		}
		typ, res := store.EventParticipant, ""
		if m := r.members[csid]; m != nil {
			res = m.row.SID
		}
		switch ev.Type {
		case conference.ConferenceStart:
			typ, res = store.EventConference, r.sid
			r.rec.Status, r.rec.StartTime = store.ConferenceInProgress, now
			if r.rec.Settings.Record == "record-from-start" {
				r.startRecording(now)
			}
		case conference.ConferenceEnd:
			typ, res = store.EventConference, r.sid
			r.rec.Status, r.rec.EndTime = store.ConferenceCompleted, now
			r.rec.ReasonConferenceEnded = string(ev.ReasonConferenceEnded)
			r.rec.Reason = ev.Reason
			r.rec.CallSIDEndingConference = ev.CallSIDEndingConference
			r.rec.ParticipantLabelEndingConference = ev.ParticipantLabelEndingConference
		}
		sevs = append(sevs, store.Event{
			AccountSID: r.account.SID, CallSID: csid, ResourceSID: res,
			Type: typ, Name: string(ev.Type), Time: ev.Timestamp.UTC(),
		})
		if cb, ok := r.callback(ev, now); ok {
			cbs = append(cbs, cb)
		}
	}
	r.rec.DateUpdated = now
	var parts []store.Participant
	for csid := range changed {
		parts = append(parts, r.members[csid].row)
	}
	slices.SortFunc(parts, func(a, b store.Participant) int { return a.DateCreated.Compare(b.DateCreated) })
	sctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	rec, err := r.in.cfg.Store.SaveConference(sctx, r.rec, parts, sevs, cbs)
	cancel()
	if err != nil {
		r.log.Error("cannot record the conference", "err", err)
	} else {
		r.rec = rec
		if len(cbs) > 0 && r.in.cfg.Kick != nil {
			r.in.cfg.Kick()
		}
	}
	r.route()
}

// route applies the room's routing to the mixer and tells each member what
// to hear; members who left are told so and forgotten.
func (r *room) route() {
	routes := r.state.Routing()
	r.mixer.Apply(routes)
	in := map[string]conference.Route{}
	for _, rt := range routes {
		in[rt.CallSID] = rt
	}
	for csid, m := range r.members {
		rt, ok := in[csid]
		m.mu.Lock()
		switch {
		case !ok:
			m.left = true
			if p := m.row.ReasonParticipantLeft; p != "" {
				m.reason = leaveReasonOf(p)
			}
		case rt != m.route:
			m.route = rt
		default:
			m.mu.Unlock()
			continue
		}
		m.mu.Unlock()
		if !ok {
			r.mixer.Remove(m.ep)
			delete(r.members, csid)
		}
		m.signal()
	}
}

// leaveReasonOf reads a ReasonParticipantLeft back.
func leaveReasonOf(s string) conference.LeaveReason {
	for _, r := range []conference.LeaveReason{conference.LeaveHungUp, conference.LeaveKicked, conference.LeaveUpdatedViaAPI,
		conference.LeaveModeratorEnded, conference.LeaveConferenceEndedViaAPI} {
		if r.String() == s {
			return r
		}
	}
	return conference.LeaveHungUp
}

// callback builds the status callback of a room event, if the room's
// statusCallbackEvent asks for it; SequenceNumber counts the callbacks sent
// to the URL, from 1.
func (r *room) callback(ev conference.Event, now time.Time) (store.Callback, bool) {
	s := r.rec.Settings
	if s.StatusCallback == "" || !ev.Type.StatusCallback() || !slices.Contains(s.StatusCallbackEvents, ev.Type.Subscription()) {
		return store.Callback{}, false
	}
	p := ev.Params()
	r.seq[s.StatusCallback]++
	p.Set("SequenceNumber", strconv.Itoa(r.seq[s.StatusCallback]))
	method := s.StatusCallbackMethod
	if method == "" {
		method = http.MethodPost
	}
	return store.Callback{
		AccountSID: r.account.SID, URL: s.StatusCallback, Method: method,
		Params: p.Encode(), MaxAttempts: 1, DateCreated: now,
	}, true
}

// announced reports the end of an announcement to the whole room (the REST
// API's AnnounceUrl): announcement-end once it has played, or
// announcement-failed when there was nothing to play (statusCallbackEvent
// "announcement"). On the room's goroutine.
func (r *room) announced(failed bool, reason string) {
	s := r.rec.Settings
	if s.StatusCallback == "" || !slices.Contains(s.StatusCallbackEvents, "announcement") {
		return
	}
	now := r.in.cfg.Clock.Now().UTC()
	name := "announcement-end"
	if failed {
		name = "announcement-failed"
	}
	p := url.Values{}
	p.Set("ConferenceSid", r.sid)
	p.Set("FriendlyName", r.key.name)
	p.Set("AccountSid", r.account.SID)
	p.Set("Timestamp", now.Format(conference.TimestampLayout))
	p.Set("StatusCallbackEvent", name)
	if reason != "" {
		p.Set("Reason", reason)
	}
	r.seq[s.StatusCallback]++
	p.Set("SequenceNumber", strconv.Itoa(r.seq[s.StatusCallback]))
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if _, err := r.in.cfg.Store.SaveConference(ctx, r.rec, nil, []store.Event{{
		AccountSID: r.account.SID, ResourceSID: r.sid, Type: store.EventConference, Name: name, Time: now,
	}}, []store.Callback{{
		AccountSID: r.account.SID, URL: s.StatusCallback, Method: methodOr(s.StatusCallbackMethod),
		Params: p.Encode(), MaxAttempts: 1, DateCreated: now,
	}}); err != nil {
		r.log.Error("cannot record the announcement", "err", err)
		return
	}
	if r.in.cfg.Kick != nil {
		r.in.cfg.Kick()
	}
}

// participantRow copies the room's view of a participant to its record.
func participantRow(row *store.Participant, p conference.Participant) {
	row.Label = p.Label
	row.Muted, row.Hold = p.Muted, p.Hold
	row.Coaching, row.CallSIDToCoach = p.Coaching, p.CallSIDToCoach
	row.StartConferenceOnEnter, row.EndConferenceOnExit = p.StartConferenceOnEnter, p.EndConferenceOnExit
	row.BeepOnEnter, row.BeepOnExit = p.BeepOnEnter, p.BeepOnExit
	row.JitterBufferSize = string(p.JitterBufferSize)
}

// beepPCM is the notification beep: 300 ms of 880 Hz at -16 dBFS with soft
// edges.
var beepPCM = func() []int16 {
	const n = 300 * media.SampleRate / 1000
	pcm := make([]int16, n)
	fade := media.SampleRate / 100 // 10 ms
	for i := range pcm {
		g := 1.0
		if i < fade {
			g = float64(i) / float64(fade)
		} else if n-i < fade {
			g = float64(n-i) / float64(fade)
		}
		pcm[i] = int16(g * 5200 * math.Sin(2*math.Pi*880*float64(i)/media.SampleRate))
	}
	return pcm
}()
