package voice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/media/holdmusic"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/twiml"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// Call queues: <Enqueue> parks a caller in a named queue of its account,
// where it hears the waitUrl's TwiML (or music) until it is taken out: by an
// agent's <Dial><Queue> (it is then bridged to the agent, as a dialled leg
// is bridged to a <Dial>'s caller), by the Members resource (it goes on with
// new TwiML), by <Leave>, by hanging up, or by a command.
//
// The queue's record (its SID, MaxSize, average wait) is in the store; who
// waits in it lives here only, in memory, so that a crash can never leave a
// phantom member behind. One mutex guards every queue's members: taking the
// head of a queue and handing it to one agent is one step under it, so two
// agents never get the same caller and the order is strictly first in,
// first out.

// MaxQueueName is the longest queue name (Twilio's: 64 characters).
const MaxQueueName = 64

// QueueResult values (the Enqueue action's QueueResult).
const (
	queueBridged       = "bridged"
	queueBridging      = "bridging-in-process"
	queueFull          = "queue-full"
	queueRedirected    = "redirected"
	queueHangup        = "hangup"
	queueError         = "error"
	queueLeave         = "leave"
	queueShutdown      = "system-shutdown"
	queueRedirectedOut = "redirected-from-bridged"
)

// errDequeued ends a member's wait music: it was taken out of the queue.
var errDequeued = errors.New("dequeued")

// queueKey names a queue: an account's friendly name.
type queueKey struct{ account, name string }

// queues are the members of every queue of the interpreter.
type queues struct {
	in *Interpreter
	// mu guards live and every callQueue's fields.
	mu   sync.Mutex
	live map[queueKey]*callQueue
}

// callQueue is one queue with someone in it, or an agent waiting at it.
type callQueue struct {
	key     queueKey
	sid     string
	maxSize int
	members []*queuedCall
	// arrived is closed (and replaced) when a member joins: agents waiting
	// at an empty queue wake up and try again.
	arrived chan struct{}
}

// queuedCall is a call waiting in a queue.
type queuedCall struct {
	callSID string
	q       *callQueue
	since   time.Time
	// offer gets the one offer that takes the member out (capacity 1);
	// stop then interrupts its wait music.
	offer chan queueOffer
	stop  context.CancelCauseFunc
}

// queueOffer takes a member out of its queue: to an agent (a set) or to new
// TwiML (update set, the Members resource).
type queueOffer struct {
	a           *dialAttempt
	agentSID    string
	url, method string // the <Queue url> played to the member before the bridge
	update      *Update
}

// QueueMember is a call waiting in a queue (Twilio's Member resource).
type QueueMember struct {
	CallSID      string
	QueueSID     string
	Position     int // from 1, the front
	WaitTime     time.Duration
	DateEnqueued time.Time
}

// ErrMemberNotFound: no such call waits in the queue here.
var ErrMemberNotFound = errors.New("voice: not a member of the queue")

// queueRecord returns the account's queue of that name, creating it.
func (in *Interpreter) queueRecord(ctx context.Context, account store.Account, name string, maxSize int) (store.Queue, error) {
	st := in.cfg.Store
	q, err := st.QueueByName(ctx, account.SID, name)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return q, err
	}
	if maxSize <= 0 {
		maxSize = store.DefaultQueueMaxSize
	}
	now := in.cfg.Clock.Now().UTC()
	q, err = st.CreateQueue(ctx, store.Queue{
		SID: sid.New("QU"), AccountSID: account.SID, FriendlyName: name, MaxSize: maxSize,
		DateCreated: now, DateUpdated: now,
	})
	if errors.Is(err, store.ErrConflict) { // created meanwhile
		return st.QueueByName(ctx, account.SID, name)
	}
	return q, err
}

// queue returns the live queue for a record (mu held).
func (qs *queues) queue(rec store.Queue) *callQueue {
	key := queueKey{rec.AccountSID, rec.FriendlyName}
	q := qs.live[key]
	if q == nil || q.sid != rec.SID {
		if qs.live == nil {
			qs.live = map[queueKey]*callQueue{}
		}
		q = &callQueue{key: key, sid: rec.SID, arrived: make(chan struct{})}
		qs.live[key] = q
	}
	q.maxSize = rec.MaxSize
	return q
}

// join puts a call at the back of the queue; false when the queue is full.
func (qs *queues) join(rec store.Queue, m *queuedCall, limit int) bool {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	q := qs.queue(rec)
	if limit <= 0 || limit > q.maxSize {
		limit = q.maxSize
	}
	if len(q.members) >= limit {
		return false
	}
	m.q = q
	q.members = append(q.members, m)
	close(q.arrived)
	q.arrived = make(chan struct{})
	return true
}

// leave takes m out of its queue if it is still in; false when an offer
// took it out first.
func (qs *queues) leave(m *queuedCall) bool {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	return qs.remove(m)
}

// remove takes m out of its queue (mu held).
func (qs *queues) remove(m *queuedCall) bool {
	q := m.q
	for i, x := range q.members {
		if x == m {
			q.members = append(q.members[:i], q.members[i+1:]...)
			return true
		}
	}
	return false
}

// take hands the member at the front (or the one of callSID) the offer;
// when the queue is empty it returns the channel that says someone joined.
func (qs *queues) take(rec store.Queue, callSID string, o queueOffer) (*queuedCall, <-chan struct{}) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	q := qs.queue(rec)
	for _, m := range q.members {
		if callSID == "" || m.callSID == callSID {
			qs.remove(m)
			m.offer <- o // capacity 1, and a member is offered once
			m.stop(errDequeued)
			return m, nil
		}
	}
	return nil, q.arrived
}

// position returns where m is in its queue (from 1) and the queue's size;
// 0 when it is no longer in.
func (qs *queues) position(m *queuedCall) (pos, size int) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	for i, x := range m.q.members {
		if x == m {
			return i + 1, len(m.q.members)
		}
	}
	return 0, len(m.q.members)
}

// Members returns who waits in the account's queue of that SID, front
// first (Twilio's Members list).
func (in *Interpreter) Members(accountSID, queueSID string) []QueueMember {
	qs := &in.queues
	qs.mu.Lock()
	defer qs.mu.Unlock()
	now := in.cfg.Clock.Now().UTC()
	for k, q := range qs.live {
		if k.account != accountSID || q.sid != queueSID {
			continue
		}
		out := make([]QueueMember, len(q.members))
		for i, m := range q.members {
			out[i] = QueueMember{CallSID: m.callSID, QueueSID: q.sid, Position: i + 1, WaitTime: now.Sub(m.since), DateEnqueued: m.since}
		}
		return out
	}
	return nil
}

// Dequeue takes a member (callSID, or "" for the front) out of the queue
// and moves its call to the TwiML of u (Twilio's Member update with Url).
// ErrMemberNotFound when it does not wait there.
func (in *Interpreter) Dequeue(ctx context.Context, q store.Queue, callSID string, u Update) (QueueMember, error) {
	if q.SID == "" {
		return QueueMember{}, ErrMemberNotFound
	}
	qs := &in.queues
	qs.mu.Lock()
	live := qs.live[queueKey{q.AccountSID, q.FriendlyName}]
	qs.mu.Unlock()
	if live == nil || live.sid != q.SID {
		return QueueMember{}, ErrMemberNotFound
	}
	m, _ := qs.take(q, callSID, queueOffer{update: &u})
	if m == nil {
		return QueueMember{}, ErrMemberNotFound
	}
	return QueueMember{CallSID: m.callSID, QueueSID: q.SID, WaitTime: in.cfg.Clock.Now().Sub(m.since), DateEnqueued: m.since}, nil
}

// enqueueVerb runs an <Enqueue>: the caller waits in the queue until it is
// taken out, then the action (QueueResult, QueueSid, QueueTime) or the next
// verb; a caller bridged to an agent goes on once the bridge is over.
func (r *run) enqueueVerb(ctx context.Context, e *twiml.Enqueue) (*webhook.Response, *twiml.Response, error) {
	if err := r.answer(ctx); err != nil {
		return nil, nil, err
	}
	name := strings.TrimSpace(e.Name)
	switch {
	case e.WorkflowSID != "" || e.Task != nil:
		r.notify(ctx, logError, errcode.SchemaValidationWarning, "Enqueue: workflowSid and <Task> need TaskRouter, which switchboard does not offer", nil)
		return r.queueAction(ctx, e, queueError, "", 0)
	case name == "":
		r.notify(ctx, logError, errcode.EnqueueQueueNameTooShort, "Enqueue: a queue name is required", nil)
		return r.queueAction(ctx, e, queueError, "", 0)
	case len([]rune(name)) > MaxQueueName:
		r.notify(ctx, logError, errcode.EnqueueQueueNameTooLong, fmt.Sprintf("Enqueue: queue name longer than %d characters", MaxQueueName), nil)
		return r.queueAction(ctx, e, queueError, "", 0)
	}
	rec, err := r.in.queueRecord(ctx, r.account, name, e.MaxQueueSize)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, errHangup
		}
		r.log.Error("cannot find or create the queue", "queue", name, "err", err)
		return r.queueAction(ctx, e, queueError, "", 0)
	}
	wctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	// A shutdown of the server ends the wait while the call is still up
	// (QueueResult system-shutdown, then the call is hung up).
	defer context.AfterFunc(r.in.ctx, func() { stop(ErrClosed) })()
	m := &queuedCall{callSID: r.sid, since: r.in.cfg.Clock.Now().UTC(), offer: make(chan queueOffer, 1), stop: stop}
	if !r.in.queues.join(rec, m, e.MaxQueueSize) {
		return r.queueAction(ctx, e, queueFull, rec.SID, 0)
	}
	r.queueEvent(rec, m, "joined", 0, "")
	result := r.waitInQueue(wctx, e, m, rec)
	out := r.in.queues.leave(m) // false: an offer took it out
	waited := r.in.cfg.Clock.Now().Sub(m.since)
	var offer queueOffer
	if !out {
		offer = <-m.offer
	}
	switch {
	case offer.update != nil:
		r.queueEvent(rec, m, "dequeued", waited, "")
		r.queueWaited(rec, waited)
		return r.moveTo(ctx, *offer.update)
	case offer.a != nil:
		result = r.dequeuedToAgent(ctx, offer, rec, m, waited)
	case r.in.ctx.Err() != nil:
		result = queueShutdown
	case ctx.Err() != nil:
		result = queueHangup
		if errors.Is(context.Cause(ctx), errInterrupted) {
			result = queueRedirected
		}
	}
	if result != queueBridged && result != queueRedirectedOut { // those were logged bridged
		r.queueEvent(rec, m, "left", waited, result)
	}
	return r.queueAction(ctx, e, result, rec.SID, waited)
}

// waitInQueue plays the waitUrl to a member until it is taken out (ctx
// ends), leaves (<Leave>) or hangs up; it returns leave or hangup, or "" when
// ctx ended.
func (r *run) waitInQueue(ctx context.Context, e *twiml.Enqueue, m *queuedCall, rec store.Queue) string {
	wait := strings.TrimSpace(e.WaitURL)
	if wait == "" || wait == twilioHoldMusic {
		_ = r.leg.Media().Play(ctx, holdmusic.New())
		return r.callerGone()
	}
	target, err := webhook.Resolve(r.docURL, wait)
	if err != nil {
		r.notify(ctx, logWarning, errcode.EnqueueInvalidWaitURL, "Enqueue: invalid waitUrl "+wait+": "+err.Error(), nil)
		_ = r.leg.Media().Play(ctx, holdmusic.New())
		return r.callerGone()
	}
	method := e.WaitURLMethod
	if method == "" {
		method = http.MethodPost
	}
	base := r.docURL
	defer func() { r.docURL = base }()
	for ctx.Err() == nil {
		r.docURL = base
		start := r.in.cfg.Clock.Now()
		resp, doc, err := r.fetchWait(ctx, target, method, m, rec)
		if err != nil {
			_ = r.leg.Media().Play(ctx, holdmusic.New()) // a waitUrl that fails: music
			return r.callerGone()
		}
		if res := r.runWaitResponse(ctx, resp, doc); res != "" {
			return res
		}
		if r.in.cfg.Clock.Now().Sub(start) < time.Second {
			// A document that plays nothing is not fetched in a loop.
			t := r.in.cfg.Clock.NewTimer(time.Second)
			select {
			case <-t.C():
			case <-ctx.Done():
			}
			t.Stop()
		}
	}
	return r.callerGone()
}

// callerGone is hangup when the caller has hung up, "" otherwise.
func (r *run) callerGone() string {
	select {
	case <-r.leg.Done():
		return queueHangup
	default:
		return ""
	}
}

// fetchWait requests the waitUrl with the queue's parameters.
func (r *run) fetchWait(ctx context.Context, target, method string, m *queuedCall, rec store.Queue) (*webhook.Response, *twiml.Response, error) {
	p := r.params()
	pos, size := r.in.queues.position(m)
	p.Set("QueueSid", rec.SID)
	p.Set("QueuePosition", strconv.Itoa(pos))
	p.Set("QueueTime", strconv.Itoa(int(r.in.cfg.Clock.Now().Sub(m.since)/time.Second)))
	p.Set("CurrentQueueSize", strconv.Itoa(size))
	p.Set("MaxQueueSize", strconv.Itoa(rec.MaxSize))
	p.Set("AvgQueueTime", strconv.Itoa(r.avgQueueTime(ctx, rec)))
	resp, err := r.in.cfg.Webhooks.Fetch(ctx, r.request(target, method, p))
	if err != nil {
		if ctx.Err() == nil {
			var werr *webhook.Error
			if errors.As(err, &werr) {
				r.notify(ctx, logWarning, werr.Code, "Enqueue waitUrl: "+werr.Message(), werr)
			} else {
				r.notify(ctx, logWarning, errcode.RetrievalFailure, "Enqueue waitUrl: "+err.Error(), nil)
			}
		}
		return nil, nil, err
	}
	doc, err := r.parse(ctx, resp)
	if err != nil {
		var werr *webhook.Error
		if errors.As(err, &werr) {
			r.notify(ctx, logWarning, werr.Code, "Enqueue waitUrl: "+err.Error(), werr)
		}
		return nil, nil, err
	}
	return resp, doc, nil
}

// avgQueueTime is the queue's average wait in seconds, as stored.
func (r *run) avgQueueTime(ctx context.Context, rec store.Queue) int {
	if q, err := r.in.cfg.Store.Queue(ctx, rec.AccountSID, rec.SID); err == nil {
		return q.AverageWaitTime()
	}
	return rec.AverageWaitTime()
}

// runWaitResponse plays one answer of the waitUrl: an audio file, or TwiML
// of Play, Say, Pause, Gather, Redirect, Leave and Hangup (a Gather's or a
// Redirect's document is wait TwiML too). It returns leave or hangup, or ""
// when the document ended (the waitUrl is fetched again) or ctx ended.
func (r *run) runWaitResponse(ctx context.Context, resp *webhook.Response, doc *twiml.Response) string {
	for ctx.Err() == nil {
		r.docURL = resp.URL
		if resp.Kind != webhook.KindTwiML {
			if err := r.playBody(ctx, resp); err != nil {
				return r.callerGone()
			}
			return ""
		}
		var next *webhook.Response
		for _, v := range doc.Verbs {
			var err error
			switch v := v.(type) {
			case *twiml.Leave:
				return queueLeave
			case *twiml.Hangup:
				_ = r.hangup(ctx)
				return queueHangup
			case *twiml.Play, *twiml.Say, *twiml.Pause, *twiml.Gather, *twiml.Redirect:
				next, doc, err = r.verb(ctx, v)
			default:
				r.notify(ctx, logWarning, errcode.EnqueueInvalidWaitURL, fmt.Sprintf("Enqueue waitUrl: <%s> is not allowed there: skipped", v.TagName()), nil)
			}
			if err != nil || ctx.Err() != nil {
				return r.callerGone()
			}
			if next != nil {
				break
			}
		}
		if next == nil {
			return ""
		}
		resp = next
	}
	return r.callerGone()
}

// dequeuedToAgent plays the agent's <Queue url> to the member, offers its
// leg to the agent and stays bridged until the bridge is over. It returns
// the QueueResult. The bridge is up before its event and the queue's wait
// are written: no store write stands between an agent and its caller.
func (r *run) dequeuedToAgent(ctx context.Context, o queueOffer, rec store.Queue, m *queuedCall, waited time.Duration) string {
	a := o.a
	if o.url != "" {
		p := r.params()
		p.Set("QueueSid", rec.SID)
		p.Set("QueueTime", strconv.Itoa(int(waited/time.Second)))
		p.Set("DequeingCallSid", o.agentSID)
		p.Set("DequeueingCallSid", o.agentSID)
		if resp, err := r.in.cfg.Webhooks.Fetch(ctx, r.request(o.url, o.method, p)); err == nil {
			if doc, err := r.parse(ctx, resp); err == nil && doc != nil {
				base := r.docURL
				r.docURL = resp.URL
				_, _, _ = r.runDocument(ctx, doc)
				r.docURL = base
			}
		} else if ctx.Err() == nil {
			r.notify(ctx, logWarning, errcode.QueueInvalidWhisperURL, "Dial->Queue url: "+err.Error(), nil)
		}
	}
	if ctx.Err() != nil || r.callerGone() != "" {
		a.events <- legEvent{a: a, kind: legEnded, status: store.CallCompleted}
		return queueBridging
	}
	a.events <- legEvent{a: a, kind: legAccepted, leg: r.leg, answeredAt: r.call.AnsweredAt}
	select {
	case <-a.chosen:
	case <-a.release: // the agent left before the bridge
		return queueBridging
	case <-ctx.Done():
		close(a.unbridged) // the agent's bridge, if it started, ends
		return queueBridging
	}
	r.queueEvent(rec, m, "bridged", waited, "")
	r.queueWaited(rec, waited)
	r.bridged(ctx, a)
	moved := a.moved.Load()
	close(a.unbridged)
	<-a.release
	if moved {
		return queueRedirectedOut
	}
	return queueBridged
}

// queueAction ends an <Enqueue>: its action gets QueueResult, QueueSid and
// QueueTime; without one the call goes on with the next verb. A caller who
// hung up or was moved elsewhere is not brought back: the action is still
// requested and its answer ignored.
func (r *run) queueAction(ctx context.Context, e *twiml.Enqueue, result, queueSID string, waited time.Duration) (*webhook.Response, *twiml.Response, error) {
	// A member taken out of the bridge elsewhere, or out of the queue by a
	// shutdown, does not come back to this document.
	gone := ctx.Err() != nil || r.callerGone() != "" || result == queueRedirectedOut || result == queueShutdown
	if e.Action == "" {
		if gone {
			return nil, nil, errHangup
		}
		return nil, nil, nil
	}
	p := r.params()
	p.Set("QueueResult", result)
	if queueSID != "" {
		p.Set("QueueSid", queueSID)
	}
	p.Set("QueueTime", strconv.Itoa(int(waited/time.Second)))
	method := e.Method
	if method == "" {
		method = http.MethodPost
	}
	if gone {
		if result != queueRedirected && result != queueRedirectedOut {
			p.Set("CallStatus", string(store.CallCompleted))
		}
		r.notifyAction(ctx, e.Action, method, p)
		return nil, nil, errHangup
	}
	return r.fetchNext(ctx, e.Action, method, p)
}

// moveTo runs the document of an update (the Members resource's Url).
func (r *run) moveTo(ctx context.Context, u Update) (*webhook.Response, *twiml.Response, error) {
	doc, resp := r.replace(ctx, u)
	if resp == nil {
		return nil, nil, errHangup
	}
	return resp, doc, nil
}

// queueEvent logs a member's joining, leaving or being taken out (result:
// the QueueResult of a member leaving).
func (r *run) queueEvent(rec store.Queue, m *queuedCall, name string, waited time.Duration, result string) {
	pos, size := r.in.queues.position(m)
	payload, _ := json.Marshal(store.QueueChange{
		Queue: rec.FriendlyName, Position: pos, Size: size, Waited: int(waited / time.Second), Result: result,
	})
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if _, err := r.in.cfg.Store.AppendEvent(ctx, store.Event{
		AccountSID: r.account.SID, CallSID: r.sid, ResourceSID: rec.SID, Type: store.EventQueue,
		Name: "queue-" + name, Time: r.in.cfg.Clock.Now().UTC(), Payload: payload,
	}, nil); err != nil {
		r.log.Warn("cannot record the queue event", "event", name, "err", err)
	}
}

// queueWaited adds a dequeued member's wait to the queue's average.
func (r *run) queueWaited(rec store.Queue, waited time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := r.in.cfg.Store.QueueWaited(ctx, rec.AccountSID, rec.SID, waited, r.in.cfg.Clock.Now().UTC()); err != nil {
		r.log.Warn("cannot record the queue's wait", "err", err)
	}
}

// queueDial runs a <Dial><Queue>: the agent is bridged to the member at the
// front of the queue (waiting while it is empty), who first hears the
// Queue's url. A member who hangs up before the bridge gives way to the
// next.
func (r *run) queueDial(ctx context.Context, v *twiml.Dial, qn *twiml.Queue) (*webhook.Response, *twiml.Response, error) {
	if err := r.answer(ctx); err != nil {
		return nil, nil, err
	}
	var o dialOutcome
	o.status = store.CallFailed
	name := strings.TrimSpace(qn.Name)
	switch {
	case name == "":
		r.notify(ctx, logError, errcode.QueueNameTooShort, "Dial->Queue: a queue name is required", nil)
		return r.dialAction(ctx, v, o)
	case len([]rune(name)) > MaxQueueName:
		r.notify(ctx, logError, errcode.QueueNameTooLong, fmt.Sprintf("Dial->Queue: queue name longer than %d characters", MaxQueueName), nil)
		return r.dialAction(ctx, v, o)
	}
	rec, err := r.in.queueRecord(ctx, r.account, name, 0)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, errHangup
		}
		r.log.Error("cannot find or create the queue", "queue", name, "err", err)
		return r.dialAction(ctx, v, o)
	}
	whisper := ""
	if ref := strings.TrimSpace(qn.URL); ref != "" {
		if whisper, err = webhook.Resolve(r.docURL, ref); err != nil {
			r.notify(ctx, logWarning, errcode.QueueInvalidWhisperURL, "Dial->Queue: invalid url "+ref+": "+err.Error(), nil)
			whisper = ""
		}
	}
	method := qn.Method
	if method == "" {
		method = http.MethodPost
	}
	limit := secs(v.TimeLimit)
	if v.TimeLimit <= 0 {
		limit = DefaultTimeLimit
	}
	timer := r.in.cfg.Clock.NewTimer(limit)
	defer timer.Stop()
	for {
		events := make(chan legEvent, 3)
		a := &dialAttempt{
			keep: true, events: events, cancel: func(error) {},
			chosen: make(chan struct{}), unbridged: make(chan struct{}), release: make(chan struct{}),
		}
		m, arrived := r.in.queues.take(rec, "", queueOffer{a: a, agentSID: r.sid, url: whisper, method: method})
		if m == nil {
			select {
			case <-arrived:
				continue
			case <-timer.C():
			case <-r.leg.Done():
			case <-ctx.Done():
			}
			o.status = store.CallNoAnswer
			return r.dialAction(ctx, v, o)
		}
		a.sid = m.callSID
		o.callSID, o.queueSID = m.callSID, rec.SID
		var ev legEvent
		select {
		case ev = <-events:
		case <-r.leg.Done():
		case <-ctx.Done():
		}
		if ev.kind == legAccepted && (ctx.Err() != nil || r.callerGone() != "") {
			ev.kind = legEnded
		}
		if ctx.Err() != nil || r.callerGone() != "" {
			close(a.release) // the member is not left waiting for a bridge
			o.status = store.CallNoAnswer
			return r.dialAction(ctx, v, o)
		}
		if ev.kind != legAccepted {
			continue // it hung up on its way: the next one
		}
		r.bridge(ctx, v, &ev, &o)
		return r.dialAction(ctx, v, o)
	}
}
