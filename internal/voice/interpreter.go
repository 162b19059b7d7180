package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-voice/switchboard/internal/audiocache"
	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/tts"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// Store is what the interpreter writes: the event log (a call's row is
// written with the event that changed it, with the callbacks the change
// triggers), notifications and recordings. store.Store satisfies it.
type Store interface {
	SaveCall(ctx context.Context, c store.Call, ev store.Event, cbs []store.Callback) (store.Call, error)
	AppendEvent(ctx context.Context, ev store.Event, cbs []store.Callback) (store.Event, error)
	CreateNotification(ctx context.Context, n store.Notification) (store.Notification, error)
	CreateRecording(ctx context.Context, r store.Recording) (store.Recording, error)
	SaveConference(ctx context.Context, c store.Conference, parts []store.Participant, evs []store.Event, cbs []store.Callback) (store.Conference, error)
	UpdateRecording(ctx context.Context, accountSID, sid string, update func(*store.Recording) error) (store.Recording, error)
	// The queues <Enqueue> and <Dial><Queue> use, created on first use.
	CreateQueue(ctx context.Context, q store.Queue) (store.Queue, error)
	Queue(ctx context.Context, accountSID, sid string) (store.Queue, error)
	QueueByName(ctx context.Context, accountSID, friendlyName string) (store.Queue, error)
	QueueWaited(ctx context.Context, accountSID, sid string, wait time.Duration, at time.Time) error
}

// Speech turns a <Say> into an audio file. *tts.Cache implements it.
type Speech interface {
	Get(ctx context.Context, req tts.Request) (string, error)
}

// Config holds the interpreter's collaborators.
type Config struct {
	Store    Store
	Webhooks *webhook.Client
	// Kick, when set, is called after callbacks were queued in the store's
	// outbox (it wakes the deliverer).
	Kick   func()
	Speech Speech
	Audio  *audiocache.Cache
	// Dialer places outbound calls; nil refuses them (ErrNoDialer).
	Dialer Dialer
	// Ticks runs the conference mixers in the media pacer's ticks (the
	// media engine); without it <Conference> is refused.
	Ticks Ticks
	// CPS is how many calls per second each account may place; calls
	// beyond it wait, queued (default 10).
	CPS    float64
	Clock  clock.Clock // default clock.Real
	Logger *slog.Logger
	// DataDir is where recordings are written (under recordings/).
	DataDir string
	// PublicURL is the base of the URLs handed out for recordings.
	PublicURL string
	// InbandDTMF says when to detect DTMF tones in the caller's audio;
	// default InbandAuto (when no telephone-event was negotiated).
	InbandDTMF InbandDTMF
	// Node names this process on the calls it records (store.Call.Node).
	Node string
	// MaxRedirects bounds how many documents one call may fetch through
	// <Redirect> in a row without executing a verb that waits (a loop
	// guard); default 100.
	MaxRedirects int
}

// Interpreter runs calls through TwiML. It is safe for concurrent use; each
// call runs on one goroutine of its own, and is steered from outside only
// through its control mailbox (Update).
type Interpreter struct {
	cfg   Config
	log   *slog.Logger
	pcm   *pcmCache
	rate  *callRate
	rooms *rooms
	// queues are the calls waiting in queues (queue.go).
	queues queues

	// ctx ends the calls placed through Place when the interpreter closes.
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	// mu guards live and closed.
	mu     sync.Mutex
	live   map[string]*run
	closed bool
	// started counts the calls started, in and out.
	started atomic.Uint64
	// earHook, set by tests before the first call, is given each call's
	// ear as its leg is connected (on the call's goroutine).
	earHook func(Leg, *ear)
}

// New returns an Interpreter.
func New(cfg Config) *Interpreter {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = 100
	}
	if cfg.CPS <= 0 {
		cfg.CPS = 10
	}
	ctx, stop := context.WithCancel(context.Background())
	in := &Interpreter{
		cfg: cfg, log: cfg.Logger, pcm: newPCMCache(64 << 20),
		rate: newCallRate(cfg.CPS), ctx: ctx, stop: stop,
		live: map[string]*run{},
	}
	in.rooms = &rooms{in: in}
	in.queues.in = in
	return in
}

// Close ends the calls placed through Place that are still running (queued,
// ringing or answered) and waits for them to be finalised.
func (in *Interpreter) Close() {
	in.mu.Lock()
	in.closed = true
	in.mu.Unlock()
	in.stop()
	in.wg.Wait()
}

// Started returns how many calls have started since New.
func (in *Interpreter) Started() uint64 { return in.started.Load() }

// Live returns how many calls are running.
func (in *Interpreter) Live() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.live)
}

// HandleInbound runs an incoming call to its end: it records the call, fetches
// and executes its TwiML, and finalises the record. It returns when the call
// is over. ctx ends when the caller cancels or the call ends.
func (in *Interpreter) HandleInbound(ctx context.Context, c Call, inb Inbound) {
	c.Direction = store.DirectionInbound
	r, err := in.start(ctx, c, store.CallRinging, "incoming call", true)
	if err != nil {
		in.log.Error("cannot record an incoming call; refusing it", "err", err)
		inb.Reject(500, "Server Internal Error")
		return
	}
	r.inbound = inb
	defer in.end(r)
	r.execute(ctx)
}

// Place records an outbound call as queued and places it in the background,
// within the account's calls-per-second limit; it returns the call's record.
func (in *Interpreter) Place(ctx context.Context, c Call) (store.Call, error) {
	return in.place(ctx, c, nil)
}

// place is Place; ended, when not nil, is called once the call is over and
// recorded.
func (in *Interpreter) place(ctx context.Context, c Call, ended func()) (store.Call, error) {
	if in.cfg.Dialer == nil {
		return store.Call{}, ErrNoDialer
	}
	if c.Direction == "" {
		c.Direction = store.DirectionOutboundAPI
	}
	// The call counts as running from here, so that Close waits for it.
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return store.Call{}, fmt.Errorf("place call: %w", ErrClosed)
	}
	in.wg.Add(1)
	in.mu.Unlock()
	r, err := in.start(ctx, c, store.CallQueued, "api", false)
	if err != nil {
		in.wg.Done()
		return store.Call{}, err
	}
	rec := r.call // from now on the call's goroutine owns r.call
	go func() {
		defer in.wg.Done()
		if ended != nil {
			defer ended()
		}
		defer in.end(r)
		r.execute(in.ctx)
	}()
	return rec, nil
}

// ErrClosed: the interpreter is shutting down.
var ErrClosed = errors.New("voice: shutting down")

// start records a new call with its first status and registers it as live;
// with background, the record is saved while the call goes on (saveFirst).
func (in *Interpreter) start(ctx context.Context, c Call, status store.CallStatus, cause string, background bool) (*run, error) {
	if c.Method == "" {
		c.Method = "POST"
	}
	if c.TimeLimit <= 0 {
		c.TimeLimit = DefaultTimeLimit
	}
	in.started.Add(1)
	now := in.cfg.Clock.Now().UTC()
	callSID := sid.New("CA")
	r := &run{
		in:      in,
		sid:     callSID,
		account: c.Account,
		spec:    c,
		extra:   c.Params,
		jar:     webhook.NewJar(),
		log:     in.log.With("call", callSID),
		mailbox: make(chan *command, mailboxSize),
		seq:     map[string]int{},
		settings: settings{
			fallbackURL: c.FallbackURL, fallbackMethod: c.FallbackMethod,
			statusCallback: c.StatusCallback, statusCallbackMethod: c.StatusCallbackMethod,
			timeLimit: c.TimeLimit,
		},
	}
	r.call = store.Call{
		SID:            callSID,
		AccountSID:     c.Account.SID,
		ParentCallSID:  c.ParentCallSID,
		PhoneNumberSID: c.PhoneNumberSID,
		From:           c.From,
		To:             c.To,
		Status:         status,
		Direction:      c.Direction,
		APIVersion:     webhook.APIVersion,
		DateCreated:    now,
		Node:           in.cfg.Node,
	}
	if status == store.CallRinging {
		r.call.StartTime = now
	}
	if background {
		r.saveFirst(ctx, string(status), cause)
	} else if err := r.save(ctx, string(status), cause); err != nil {
		return nil, fmt.Errorf("record call: %w", err)
	}
	in.mu.Lock()
	in.live[callSID] = r
	in.mu.Unlock()
	r.log.Info("call started", "direction", c.Direction, "from", c.From, "to", c.To,
		"sip_call_id", c.Params.Get("SipCallId"))
	return r, nil
}

// WaitRecorded waits until the first record of the call with this SID, if
// it is live here and its record is still being saved (an incoming call's
// is saved while its webhook is fetched: saveFirst), has been saved, so that
// a read of the store after it finds the call. It reports whether it
// waited; it returns at once otherwise, or when ctx ends.
func (in *Interpreter) WaitRecorded(ctx context.Context, callSID string) bool {
	in.mu.Lock()
	r := in.live[callSID]
	in.mu.Unlock()
	if r == nil || r.firstRec == nil {
		return false
	}
	select {
	case <-r.firstRec.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// end forgets a call that is over; commands still in its mailbox are
// answered, and later ones refused (post).
func (in *Interpreter) end(r *run) {
	r.firstSaved() // no save of the call outlives it
	in.mu.Lock()
	delete(in.live, r.sid)
	in.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.over = true
	for {
		select {
		case cmd := <-r.mailbox:
			cmd.reply(ErrCallNotFound)
		default:
			return
		}
	}
}

// errHangup ends the document: the call is over (hung up by either side,
// rejected, or canceled), or a command interrupted it.
var errHangup = errors.New("call ended")

// notify stores a notification for the call.
func (r *run) notify(ctx context.Context, level int, code int, msg string, werr *webhook.Error) {
	n := store.Notification{
		SID:         sid.New("NO"),
		AccountSID:  r.account.SID,
		CallSID:     r.sid,
		ErrorCode:   code,
		Log:         level,
		MessageText: msg,
		MessageDate: r.in.cfg.Clock.Now().UTC(),
	}
	if werr != nil {
		n.RequestURL = werr.URL
		n.RequestMethod = werr.Method
		n.RequestVariables = werr.Params.Encode()
		n.ResponseBody = string(werr.ResponseBody)
		if werr.ResponseHeader != nil {
			var b strings.Builder
			werr.ResponseHeader.Write(&b)
			n.ResponseHeaders = b.String()
		}
	}
	// A notification must not be lost to the call's own cancellation.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if _, err := r.in.cfg.Store.CreateNotification(sctx, n); err != nil {
		r.log.Error("cannot store notification", "code", code, "err", err)
	}
	r.log.Warn("notification", "code", code, "msg", msg)
}

// storeTimeout bounds a write the call cannot go on without.
const storeTimeout = 5 * time.Second
