package voice

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/media/audiofile"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/twiml"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// run is one call being interpreted.
//
// Ownership: the call's goroutine (the one running execute) owns every field
// but those under mu, and is the only writer of the call's record. Other
// goroutines (the REST API) reach a run only through its mailbox (post) and
// the mu-guarded fields; sid and account never change.
type run struct {
	in      *Interpreter
	sid     string
	account store.Account

	// Owned by the call's goroutine.
	spec      Call
	call      store.Call // the record as last saved
	inbound   Inbound    // nil for outbound calls
	leg       Leg        // nil until answered
	ear       *ear       // listens to the leg once answered
	extra     url.Values
	jar       http.CookieJar
	log       *slog.Logger
	seq       map[string]int  // next SequenceNumber per status callback URL
	sipCode   int             // final SIP response of an outbound call
	callCtx   context.Context // ends with the call; its cause says why
	cancel    context.CancelCauseFunc
	recorded  *callRecording // Record=true: the whole call's recording
	attempt   *dialAttempt   // a leg dialled by <Dial>: its link to the caller
	sipInfo   SIPInfo        // a dialled leg's SIP details, once answered
	failCause string         // why an outbound call was not connected
	stopCmd   *command       // the command that ended the call, answered at the end
	hungUp    bool           // a <Hangup> (or <Reject> after the answer) ended the call
	docURL    string         // the document being run: base of relative URLs, default action
	redirects int            // documents fetched in a row without a verb that waits
	mailbox   chan *command  // commands from other goroutines (post)
	// firstRec is the first record's save, when it runs in the background
	// (saveFirst); set before the run is published, never changed.
	firstRec *pendingSave

	// mu guards the fields below, shared with the goroutines that steer the
	// call (post) or record it (StartCallRecording).
	mu        sync.Mutex
	interrupt context.CancelCauseFunc // ends the current step; nil between steps
	dialing   bool                    // an outbound call not answered yet
	pending   *Update                 // a new document given while dialing
	settings  settings
	media     Media       // the answered leg's media; nil before the answer and after the end
	limit     clock.Timer // the time limit, once answered
	callRecs  map[string]*callRecording
	over      bool // the call has ended: commands are refused
}

// settings are the parts of a call an Update changes without interrupting
// it; guarded by run.mu.
type settings struct {
	fallbackURL, fallbackMethod          string
	statusCallback, statusCallbackMethod string
	timeLimit                            time.Duration
}

// errInterrupted is the cause of a step ended by a command.
var errInterrupted = errors.New("interrupted by a command")

// errCallEnded is the cause of a call context ended with the call.
var errCallEnded = errors.New("call ended")

// errTimeLimit is the cause of a call context ended by its time limit.
var errTimeLimit = errors.New("time limit reached")

// params returns the standard request parameters of the call, with its
// current status.
func (r *run) params() url.Values {
	v := webhook.CallParams{
		CallSID:       r.sid,
		AccountSID:    r.account.SID,
		From:          r.call.From,
		To:            r.call.To,
		CallStatus:    string(r.call.Status),
		Direction:     r.call.Direction,
		ForwardedFrom: r.call.ForwardedFrom,
		CallerName:    r.call.CallerName,
		ParentCallSID: r.call.ParentCallSID,
	}.Values()
	if r.call.AnsweredBy != "" {
		v.Set("AnsweredBy", r.call.AnsweredBy)
	}
	for k, vs := range r.extra {
		if _, ok := v[k]; !ok {
			v[k] = vs
		}
	}
	return v
}

// execute runs the call from its first request to its end and finalises it.
func (r *run) execute(parent context.Context) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	r.callCtx, r.cancel = ctx, cancel
	if r.inbound == nil && !r.dial(ctx) {
		r.finish(parent)
		return
	}
	r.drive(ctx)
	r.finish(parent)
}

// drive runs the call's TwiML, then whatever the commands of its mailbox
// ask for, until the call or its last document ends.
func (r *run) drive(ctx context.Context) {
	var doc *twiml.Response
	var resp *webhook.Response
	r.step(ctx, func(sctx context.Context) { doc, resp = r.first(sctx) })
	r.follow(ctx, doc, resp)
}

// follow runs a document (none when resp is nil), then whatever the commands
// of the mailbox ask for, until the call or its last document ends.
func (r *run) follow(ctx context.Context, doc *twiml.Response, resp *webhook.Response) {
	for ctx.Err() == nil {
		if resp != nil {
			r.step(ctx, func(sctx context.Context) { r.runResponse(sctx, doc, resp) })
		}
		if ctx.Err() != nil {
			return
		}
		var cmd *command
		select {
		case cmd = <-r.mailbox:
		default:
			return // the document ended: so does the call
		}
		if cmd.update.Status != "" {
			r.stop(ctx, cmd)
			return
		}
		doc, resp = nil, nil
		r.step(ctx, func(sctx context.Context) { doc, resp = r.replace(sctx, cmd.update) })
	}
}

// step runs f with a context that a command interrupts (post cancels it).
func (r *run) step(ctx context.Context, f func(context.Context)) {
	sctx, cancel := context.WithCancelCause(ctx)
	r.mu.Lock()
	r.interrupt = cancel
	r.mu.Unlock()
	// A command posted before the interrupt was set is not missed: post
	// queues first, then interrupts.
	if len(r.mailbox) > 0 {
		cancel(errInterrupted)
	}
	f(sctx)
	r.mu.Lock()
	r.interrupt = nil
	r.mu.Unlock()
	cancel(nil)
}

// first returns the call's first document: a new one given while the call
// was dialing, the call's inline TwiML, or its URL's (with the fallback URL).
// A call whose first document cannot be had hears the application error.
func (r *run) first(ctx context.Context) (*twiml.Response, *webhook.Response) {
	r.mu.Lock()
	u := r.pending
	r.pending = nil
	r.mu.Unlock()
	if u != nil {
		return r.replace(ctx, *u)
	}
	if r.spec.Twiml != "" {
		doc, resp := r.inline(ctx, r.spec.Twiml)
		if resp == nil {
			r.applicationError(ctx)
		}
		return doc, resp
	}
	doc, resp := r.fetchInitial(ctx, r.spec.URL, r.spec.Method)
	if resp == nil {
		r.applicationError(ctx)
	}
	return doc, resp
}

// replace returns the document an Update gives the call (fetched from its
// URL, then the call's fallback URL, or its inline TwiML); nil when there is
// none, after the application error message.
func (r *run) replace(ctx context.Context, u Update) (*twiml.Response, *webhook.Response) {
	r.redirects = 0
	var doc *twiml.Response
	var resp *webhook.Response
	if u.Twiml != "" {
		doc, resp = r.inline(ctx, u.Twiml)
	} else {
		r.docURL = ""
		doc, resp = r.fetchInitial(ctx, u.URL, u.Method)
	}
	if resp == nil {
		r.applicationError(ctx)
	}
	return doc, resp
}

// inline parses TwiML given with the call (Twiml parameter) as if the app
// had answered it.
func (r *run) inline(ctx context.Context, text string) (*twiml.Response, *webhook.Response) {
	resp := &webhook.Response{Kind: webhook.KindTwiML, Body: []byte(text), MediaType: "text/xml"}
	doc, err := r.parse(ctx, resp)
	if err != nil {
		var werr *webhook.Error
		if errors.As(err, &werr) {
			r.notify(ctx, logError, werr.Code, werr.Message(), nil)
		}
		return nil, nil
	}
	return doc, resp
}

// fetchInitial requests a call's TwiML at rawURL, then at its fallback URL,
// and returns the first usable answer (nil when neither gave one; the errors
// are stored as notifications).
func (r *run) fetchInitial(ctx context.Context, rawURL, method string) (*twiml.Response, *webhook.Response) {
	if rawURL == "" {
		r.notify(ctx, logError, errcode.InvalidURL, "the call has no voice URL", nil)
		return nil, nil
	}
	s := r.currentSettings()
	primary := r.request(rawURL, method, r.params())
	var fallback webhook.Request
	if s.fallbackURL != "" {
		fallback = r.request(s.fallbackURL, s.fallbackMethod, r.params())
	}
	var doc *twiml.Response
	resp, errs := r.in.cfg.Webhooks.FetchWithFallback(ctx, primary, fallback, func(resp *webhook.Response) error {
		d, err := r.parse(ctx, resp)
		if d == nil {
			return err
		}
		doc = d
		return nil
	})
	for _, e := range errs {
		if ctx.Err() != nil {
			break
		}
		r.notify(ctx, logError, e.Code, e.Message(), e)
	}
	return doc, resp
}

func (r *run) currentSettings() settings {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.settings
}

func (r *run) request(rawURL, method string, params url.Values) webhook.Request {
	if method == "" {
		method = http.MethodPost
	}
	return webhook.Request{
		URL:        rawURL,
		Method:     method,
		Params:     params,
		AuthToken:  r.account.AuthToken,
		Jar:        r.jar,
		CallSID:    r.sid,
		AccountSID: r.account.SID,
	}
}

// parse turns a TwiML answer into a document. Warnings (a document Twilio
// still runs) are stored as notifications; a document that cannot run gives
// nil and the error.
func (r *run) parse(ctx context.Context, resp *webhook.Response) (*twiml.Response, error) {
	if resp.Kind != webhook.KindTwiML {
		return nil, nil
	}
	doc, err := twiml.ParseBytes(resp.Body)
	var list twiml.ErrorList
	if errors.As(err, &list) && doc != nil {
		for _, e := range list {
			level := logError
			if e.Warning() {
				level = logWarning
			}
			r.notify(ctx, level, e.Code, e.Error(), &webhook.Error{URL: resp.URL, Method: resp.Method})
		}
	}
	if doc == nil {
		if err == nil {
			err = errors.New("empty document")
		}
		var code = errcode.DocumentParseFailure
		if len(list) > 0 {
			code = list[0].Code
		}
		return nil, &webhook.Error{Code: code, URL: resp.URL, Method: resp.Method, Err: err}
	}
	return doc, nil
}

// runResponse executes an answer of the app: a TwiML document (and whatever it
// redirects to), an audio file to play, or text to speak.
func (r *run) runResponse(ctx context.Context, doc *twiml.Response, resp *webhook.Response) {
	for {
		r.docURL = resp.URL
		var next *webhook.Response
		var err error
		switch resp.Kind {
		case webhook.KindTwiML:
			next, doc, err = r.runDocument(ctx, doc)
		case webhook.KindAudio:
			err = r.playBody(ctx, resp)
		case webhook.KindText:
			err = r.say(ctx, &twiml.Say{Voice: "man", Language: "en-US", Loop: 1, Content: []twiml.Content{twiml.Text(resp.Body)}})
		}
		if err != nil || next == nil {
			return
		}
		resp = next
	}
}

// runDocument executes the verbs of doc. It returns the next answer to run
// when a verb (Redirect, or a Gather/Record action) moved the call to another
// document, and nil when the document ended.
func (r *run) runDocument(ctx context.Context, doc *twiml.Response) (*webhook.Response, *twiml.Response, error) {
	for _, v := range doc.Verbs {
		if ctx.Err() != nil {
			return nil, nil, errHangup
		}
		next, nextDoc, err := r.verb(ctx, v)
		if err != nil {
			return nil, nil, err
		}
		if next != nil {
			return next, nextDoc, nil
		}
	}
	return nil, nil, nil // end of document: the call ends
}

// fetchNext requests the document a verb moves the call to (<Redirect>, a
// <Gather> or <Record> action). No fallback applies; a failure ends the call
// with the application error message.
func (r *run) fetchNext(ctx context.Context, ref, method string, params url.Values) (*webhook.Response, *twiml.Response, error) {
	r.redirects++
	if r.redirects > r.in.cfg.MaxRedirects {
		r.notify(ctx, logError, errcode.TooManyRedirects, "too many redirects without executing a verb", nil)
		r.applicationError(ctx)
		return nil, nil, errHangup
	}
	target, err := webhook.Resolve(r.docURL, ref)
	if err != nil {
		r.notify(ctx, logError, errcode.InvalidURL, "invalid URL "+ref+": "+err.Error(), nil)
		r.applicationError(ctx)
		return nil, nil, errHangup
	}
	resp, err := r.in.cfg.Webhooks.Fetch(ctx, r.request(target, method, params))
	if ctx.Err() != nil {
		return nil, nil, errHangup
	}
	if err != nil {
		var werr *webhook.Error
		if errors.As(err, &werr) {
			r.notify(ctx, logError, werr.Code, werr.Message(), werr)
		} else {
			r.notify(ctx, logError, errcode.RetrievalFailure, err.Error(), nil)
		}
		r.applicationError(ctx)
		return nil, nil, errHangup
	}
	doc, err := r.parse(ctx, resp)
	if err != nil {
		var werr *webhook.Error
		errors.As(err, &werr)
		r.notify(ctx, logError, werr.Code, err.Error(), werr)
		r.applicationError(ctx)
		return nil, nil, errHangup
	}
	return resp, doc, nil
}

// applicationError tells the caller the application failed, then the call
// ends (Twilio's behaviour when neither the URL nor the fallback works).
func (r *run) applicationError(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	say := twiml.New[twiml.Say]()
	say.Content = []twiml.Content{twiml.Text(webhook.ApplicationErrorMessage)}
	if err := r.say(ctx, say); err != nil && !errors.Is(err, errHangup) {
		r.log.Warn("cannot speak the application error message", "err", err)
	}
}

// causeCallerCanceled is the cause of a call the caller gave up on before
// the answer, however the interpreter learnt of it.
const causeCallerCanceled = "canceled by the caller"

// answer answers an inbound call if it has not been answered yet (an
// outbound call is answered when it is connected).
func (r *run) answer(ctx context.Context) error {
	if r.leg != nil {
		return nil
	}
	if ctx.Err() != nil || r.inbound == nil {
		return errHangup
	}
	if err := r.firstSaved(); err != nil {
		r.log.Error("cannot record an incoming call; refusing it", "err", err)
		r.inbound.Reject(500, "Server Internal Error")
		return errHangup
	}
	leg, err := r.inbound.Answer(ctx)
	if errors.Is(err, ErrCanceled) {
		r.setFinal(ctx, store.CallCanceled, causeCallerCanceled)
		return errHangup
	}
	if err != nil {
		r.log.Warn("answer failed", "err", err)
		r.setFinal(ctx, store.CallFailed, "answer failed")
		return errHangup
	}
	r.connected(leg)
	r.update(ctx, "in-progress", "answered", func(c *store.Call) {
		c.Status = store.CallInProgress
		c.AnsweredAt = c.DateUpdated
		c.StartTime = c.DateUpdated
	})
	return nil
}

// connected takes over an answered leg: the ear listens to it, its end ends
// the call's context, and the time limit starts.
func (r *run) connected(leg Leg) {
	r.leg = leg
	e := newEar(leg, r.in.cfg.InbandDTMF)
	r.ear = e
	if r.in.earHook != nil {
		r.in.earHook(leg, e)
	}
	cancel := r.cancel
	leg.OnEnd(func() { cancel(errCallEnded) })
	r.mu.Lock()
	r.media = leg.Media()
	r.limit = r.in.cfg.Clock.AfterFunc(r.settings.timeLimit, func() { cancel(errTimeLimit) })
	r.mu.Unlock()
	if c, ok := leg.(interface{ CallID() string }); ok {
		r.log.Info("call connected", "direction", r.spec.Direction, "sip_call_id", c.CallID())
	}
}

// update changes the call's record and saves it with the event name (and
// its status callback). Failures are logged: the call goes on.
func (r *run) update(ctx context.Context, name, cause string, f func(*store.Call)) {
	r.call.DateUpdated = r.in.cfg.Clock.Now().UTC()
	f(&r.call)
	if err := r.save(ctx, name, cause); err != nil {
		r.log.Error("cannot update the call record", "event", name, "err", err)
	}
}

// setFinal records how the call ended, if nothing has yet.
func (r *run) setFinal(ctx context.Context, status store.CallStatus, cause string) {
	if r.call.Status.Final() {
		return
	}
	r.update(ctx, string(status), cause, func(c *store.Call) {
		c.Status = status
		c.EndTime = c.DateUpdated
		if !c.AnsweredAt.IsZero() {
			c.Duration = int(c.EndTime.Sub(c.AnsweredAt).Round(time.Second) / time.Second)
		}
	})
	r.log.Info("call ended", "status", status, "duration", r.call.Duration, "cause", cause)
}

// finish ends the call and its record: hangs up a leg still up, refuses a
// call never answered, stores the final status (with the completed status
// callback) and answers the command that ended the call.
func (r *run) finish(ctx context.Context) {
	// The time limit ends with the call (answering below would arm it).
	defer func() {
		r.mu.Lock()
		if r.limit != nil {
			r.limit.Stop()
		}
		r.mu.Unlock()
	}()
	switch {
	case r.leg != nil:
		cause := "hangup"
		select {
		case <-r.leg.Done():
			if !r.hungUp {
				cause = "hangup by the far end"
			}
		default:
			if context.Cause(r.callCtx) == errTimeLimit {
				cause = "time limit"
			}
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hangupTimeout)
			r.leg.Hangup(hctx)
			cancel()
		}
		r.mu.Lock()
		r.media = nil
		r.mu.Unlock()
		// The recordings of a call end with it, before its final status.
		r.stopCallRecordings(ctx)
		r.setFinal(ctx, store.CallCompleted, cause)
	case r.call.Status.Final():
	case r.inbound == nil:
		r.setFinal(ctx, store.CallFailed, "not connected")
	default:
		select {
		case <-r.inbound.Canceled():
			r.setFinal(ctx, store.CallCanceled, causeCallerCanceled)
		default:
			// The document ended before any verb needed the media: Twilio
			// answers such a call and hangs up, so it completes with no
			// duration to speak of.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hangupTimeout)
			if err := r.answer(actx); err == nil {
				r.leg.Hangup(actx)
				r.setFinal(actx, store.CallCompleted, "document ended")
			}
			cancel()
		}
	}
	if r.ear != nil {
		r.ear.close()
	}
	if r.stopCmd != nil {
		r.stopCmd.reply(nil)
	}
}

// playBody plays an audio answer of the app, then the call ends.
func (r *run) playBody(ctx context.Context, resp *webhook.Response) error {
	if err := r.answer(ctx); err != nil {
		return err
	}
	src, err := audiofile.Decode(bytes.NewReader(resp.Body), resp.MediaType)
	if err != nil {
		r.notify(ctx, logError, errcode.InvalidContentType, "the audio answer cannot be played: "+err.Error(), &webhook.Error{URL: resp.URL, Method: resp.Method})
		return errHangup
	}
	pcm, err := readAll(src, maxPCM)
	if err != nil {
		r.notify(ctx, logError, errcode.InvalidContentType, "the audio answer cannot be played: "+err.Error(), &webhook.Error{URL: resp.URL, Method: resp.Method})
		return errHangup
	}
	return r.playPCM(ctx, pcm, 1)
}

// Notification log levels, as Twilio's "log" field.
const (
	logError   = 0
	logWarning = 1
)
