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

	"github.com/switchboard-voice/switchboard/internal/media/audiofile"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/twiml"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// run is one call being interpreted. Only the call's goroutine touches it.
type run struct {
	in      *Interpreter
	call    store.Call
	account store.Account
	number  store.IncomingPhoneNumber
	inbound Inbound
	leg     Leg // nil until answered

	// mu guards ear and callRecs, which the REST API reaches from other
	// goroutines (StartCallRecording...).
	mu       sync.Mutex
	ear      *ear // listens to the leg once answered
	callRecs map[string]*callRecording
	extra    url.Values
	jar      http.CookieJar
	log      *slog.Logger

	// docURL is the URL of the document being executed: relative URLs in it
	// resolve against it, and it is the default action of <Gather>/<Record>.
	docURL string
	// redirects counts documents fetched in a row without a verb that waits.
	redirects int
}

// params returns the standard request parameters of the call, with its
// current status.
func (r *run) params() url.Values {
	v := webhook.CallParams{
		CallSID:       r.call.SID,
		AccountSID:    r.call.AccountSID,
		From:          r.call.From,
		To:            r.call.To,
		CallStatus:    string(r.call.Status),
		Direction:     string(r.call.Direction),
		ForwardedFrom: r.call.ForwardedFrom,
		CallerName:    r.call.CallerName,
		ParentCallSID: r.call.ParentCallSID,
	}.Values()
	for k, vs := range r.extra {
		if _, ok := v[k]; !ok {
			v[k] = vs
		}
	}
	return v
}

// execute runs the call from its first request to its end and finalises it.
func (r *run) execute(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	// Before the answer, the caller's CANCEL ends everything.
	go func() {
		select {
		case <-r.inbound.Canceled():
			cancel()
		case <-ctx.Done():
		}
	}()

	doc, resp := r.fetchInitial(ctx)
	switch {
	case ctx.Err() != nil:
	case resp == nil:
		r.applicationError(ctx)
	default:
		r.runResponse(ctx, doc, resp)
	}
	r.finish(parent)
}

// fetchInitial requests the number's voice URL, then its fallback URL, and
// returns the first usable answer (nil when neither gave one; the errors are
// stored as notifications).
func (r *run) fetchInitial(ctx context.Context) (*twiml.Response, *webhook.Response) {
	if r.number.VoiceURL == "" {
		r.notify(ctx, logError, 11100, "the number has no voice URL", nil)
		return nil, nil
	}
	primary := r.request(r.number.VoiceURL, r.number.VoiceMethod, r.params())
	var fallback webhook.Request
	if r.number.VoiceFallbackURL != "" {
		fallback = r.request(r.number.VoiceFallbackURL, r.number.VoiceFallbackMethod, r.params())
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

func (r *run) request(rawURL, method string, params url.Values) webhook.Request {
	if method == "" {
		method = http.MethodPost
	}
	return webhook.Request{
		URL:       rawURL,
		Method:    method,
		Params:    params,
		AuthToken: r.account.AuthToken,
		Jar:       r.jar,
		CallSID:   r.call.SID,
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
		var code = 12100
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
		r.notify(ctx, logError, 11215, "too many redirects without executing a verb", nil)
		r.applicationError(ctx)
		return nil, nil, errHangup
	}
	target, err := webhook.Resolve(r.docURL, ref)
	if err != nil {
		r.notify(ctx, logError, 11100, "invalid URL "+ref+": "+err.Error(), nil)
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
			r.notify(ctx, logError, 11200, err.Error(), nil)
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

// answer answers the call if it has not been answered yet.
func (r *run) answer(ctx context.Context) error {
	if r.leg != nil {
		return nil
	}
	if ctx.Err() != nil {
		return errHangup
	}
	leg, err := r.inbound.Answer(ctx)
	if err != nil {
		r.log.Warn("answer failed", "err", err)
		r.setFinal(ctx, store.CallFailed)
		return errHangup
	}
	r.leg = leg
	r.mu.Lock()
	r.ear = newEar(leg, r.in.cfg.InbandDTMF)
	r.mu.Unlock()
	now := r.in.cfg.Clock.Now().UTC()
	r.update(ctx, func(c *store.Call) {
		c.Status = store.CallInProgress
		c.AnsweredAt = now
		c.StartTime = now
	})
	return nil
}

// legContext returns a context that ends when ctx ends or the leg ends.
func (r *run) legContext(ctx context.Context) (context.Context, context.CancelFunc) {
	lctx, cancel := context.WithCancel(ctx)
	if r.leg != nil {
		done := r.leg.Done()
		go func() {
			select {
			case <-done:
				cancel()
			case <-lctx.Done():
			}
		}()
	}
	return lctx, cancel
}

// update changes the call record. Failures are logged: the call goes on.
func (r *run) update(ctx context.Context, f func(*store.Call)) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	c, err := r.in.cfg.Store.UpdateCall(sctx, r.call.AccountSID, r.call.SID, func(c *store.Call) error {
		f(c)
		return nil
	})
	if err != nil {
		r.log.Error("cannot update the call record", "err", err)
		f(&r.call)
		return
	}
	r.call = c
}

// setFinal records how the call ended, if nothing has yet.
func (r *run) setFinal(ctx context.Context, status store.CallStatus) {
	if r.call.Status.Final() {
		return
	}
	end := r.in.cfg.Clock.Now().UTC()
	r.update(ctx, func(c *store.Call) {
		c.Status = status
		c.EndTime = end
		if !c.AnsweredAt.IsZero() {
			c.Duration = int(end.Sub(c.AnsweredAt).Round(time.Second) / time.Second)
		}
	})
}

// finish ends the call and its record: hangs up a leg still up, refuses a
// call never answered, stores the final status and sends the status callback.
func (r *run) finish(ctx context.Context) {
	switch {
	case r.leg != nil:
		if !r.call.Status.Final() {
			select {
			case <-r.leg.Done():
			default:
				hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hangupTimeout)
				r.leg.Hangup(hctx)
				cancel()
			}
		}
		// The recordings of a call end with it, before its final status.
		r.stopCallRecordings(ctx)
		r.setFinal(ctx, store.CallCompleted)
	case r.call.Status.Final():
	default:
		select {
		case <-r.inbound.Canceled():
			r.setFinal(ctx, store.CallCanceled)
		default:
			// The document ended before any verb needed the media: Twilio
			// answers such a call and hangs up, so it completes with no
			// duration to speak of.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hangupTimeout)
			if err := r.answer(actx); err == nil {
				r.leg.Hangup(actx)
				r.setFinal(actx, store.CallCompleted)
			}
			cancel()
		}
	}
	r.statusCallback()
	if r.ear != nil {
		r.ear.close()
	}
}

// statusCallback enqueues the number's status callback for the final status.
func (r *run) statusCallback() {
	if r.number.StatusCallback == "" || r.in.cfg.Callbacks == nil {
		return
	}
	params := r.params()
	ev := webhook.StatusEvent{Final: true, CallDuration: time.Duration(r.call.Duration) * time.Second}
	for k, vs := range ev.Values() {
		if _, ok := params[k]; !ok {
			params[k] = vs
		}
	}
	err := r.in.cfg.Callbacks.Enqueue(webhook.Callback{
		CallSID:   r.call.SID,
		URL:       r.number.StatusCallback,
		Method:    r.number.StatusCallbackMethod,
		AuthToken: r.account.AuthToken,
		Params:    params,
		Progress:  true,
	})
	if err != nil {
		r.log.Warn("status callback not sent", "err", err)
	}
	r.in.cfg.Callbacks.EndCall(r.call.SID)
}

// playBody plays an audio answer of the app, then the call ends.
func (r *run) playBody(ctx context.Context, resp *webhook.Response) error {
	if err := r.answer(ctx); err != nil {
		return err
	}
	src, err := audiofile.Decode(bytes.NewReader(resp.Body), resp.MediaType)
	if err != nil {
		r.notify(ctx, logError, 12300, "the audio answer cannot be played: "+err.Error(), &webhook.Error{URL: resp.URL, Method: resp.Method})
		return errHangup
	}
	pcm, err := readAll(src, maxPCM)
	if err != nil {
		r.notify(ctx, logError, 12300, "the audio answer cannot be played: "+err.Error(), &webhook.Error{URL: resp.URL, Method: resp.Method})
		return errHangup
	}
	return r.playPCM(ctx, pcm, 1)
}

// Notification log levels, as Twilio's "log" field.
const (
	logError   = 0
	logWarning = 1
)
