package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/audiocache"
	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/tts"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// Store is what the interpreter writes: call records, notifications and
// recordings.
// store.Store satisfies it.
type Store interface {
	CreateCall(ctx context.Context, c store.Call) (store.Call, error)
	UpdateCall(ctx context.Context, accountSID, sid string, update func(*store.Call) error) (store.Call, error)
	CreateNotification(ctx context.Context, n store.Notification) (store.Notification, error)
	CreateRecording(ctx context.Context, r store.Recording) (store.Recording, error)
	UpdateRecording(ctx context.Context, accountSID, sid string, update func(*store.Recording) error) (store.Recording, error)
}

// Config holds the interpreter's collaborators.
type Config struct {
	Store     Store
	Webhooks  *webhook.Client
	Callbacks *webhook.Dispatcher
	Speech    *tts.Cache
	Audio     *audiocache.Cache
	Clock     clock.Clock // default clock.Real
	Logger    *slog.Logger
	// DataDir is where recordings are written (under recordings/).
	DataDir string
	// PublicURL is the base of the URLs handed out for recordings.
	PublicURL string
	// InbandDTMF says when to detect DTMF tones in the caller's audio;
	// default InbandAuto (when no telephone-event was negotiated).
	InbandDTMF InbandDTMF
	// MaxRedirects bounds how many documents one call may fetch through
	// <Redirect> in a row without executing a verb that waits (a loop
	// guard); default 100.
	MaxRedirects int
}

// Interpreter runs calls through TwiML. It is safe for concurrent use; each
// call runs on the goroutine that calls Handle.
type Interpreter struct {
	cfg Config
	log *slog.Logger
	pcm *pcmCache

	// mu guards live.
	mu   sync.Mutex
	live map[string]*run
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
	return &Interpreter{cfg: cfg, log: cfg.Logger, pcm: newPCMCache(64 << 20), live: map[string]*run{}}
}

// Call describes an incoming call to run.
type Call struct {
	// Account owns the number called; its auth token signs the webhooks.
	Account store.Account
	// Number is the IncomingPhoneNumber the call was routed to.
	Number store.IncomingPhoneNumber
	// From and To are the caller and callee as Twilio reports them (E.164
	// when they are numbers).
	From, To string
	// Params are transport parameters added to every request of the call
	// (SipCallId, SipSourceIp, SipHeader_X-...).
	Params url.Values
}

// Live returns how many calls are running.
func (in *Interpreter) Live() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.live)
}

// HandleInbound runs an incoming call to its end: it records the call, fetches
// and executes its TwiML, and finalises the record. It returns when the call
// is over.
func (in *Interpreter) HandleInbound(ctx context.Context, c Call, inb Inbound) {
	now := in.cfg.Clock.Now().UTC()
	rec, err := in.cfg.Store.CreateCall(ctx, store.Call{
		SID:            sid.New("CA"),
		AccountSID:     c.Account.SID,
		PhoneNumberSID: c.Number.SID,
		From:           c.From,
		To:             c.To,
		Status:         store.CallRinging,
		Direction:      store.DirectionInbound,
		APIVersion:     webhook.APIVersion,
		StartTime:      now,
	})
	if err != nil {
		in.log.Error("cannot record an incoming call; refusing it", "err", err)
		inb.Reject(500, "Server Internal Error")
		return
	}
	r := &run{
		in:      in,
		call:    rec,
		account: c.Account,
		number:  c.Number,
		inbound: inb,
		extra:   c.Params,
		jar:     webhook.NewJar(),
		log:     in.log.With("call", rec.SID),
	}
	in.mu.Lock()
	in.live[rec.SID] = r
	in.mu.Unlock()
	defer func() {
		in.mu.Lock()
		delete(in.live, rec.SID)
		in.mu.Unlock()
	}()
	r.execute(ctx)
}

// errHangup ends the document: the call is over (hung up by either side,
// rejected, or canceled).
var errHangup = errors.New("call ended")

// notify stores a notification for the call.
func (r *run) notify(ctx context.Context, level int, code int, msg string, werr *webhook.Error) {
	n := store.Notification{
		SID:         sid.New("NO"),
		AccountSID:  r.call.AccountSID,
		CallSID:     r.call.SID,
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
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := r.in.cfg.Store.CreateNotification(sctx, n); err != nil {
		r.log.Error("cannot store notification", "code", code, "err", err)
	}
	r.log.Warn("notification", "code", code, "msg", msg)
}

func codeMessage(code int, err error) string {
	if m := webhook.CodeMessage(code); m != "" {
		return fmt.Sprintf("%s: %v", m, err)
	}
	return err.Error()
}
