package voice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/audiofile"
	"github.com/switchboard-voice/switchboard/internal/tts"
	"github.com/switchboard-voice/switchboard/internal/twiml"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// maxRenderRedirects bounds the <Redirect>s render follows.
const maxRenderRedirects = 10

// warnFunc reports a problem met rendering (a notification of a call, or a
// log line).
type warnFunc func(code int, msg string, werr *webhook.Error)

// render fetches req and returns what it says as audio: an audio file, or
// the <Play>, <Say> and <Pause> of a TwiML document, following its
// <Redirect>s. It is what a conference's waitUrl, holdUrl and announceUrl
// play: other verbs are refused with a warning (ConfInvalidWaitURL), as
// Twilio allows only these. nil when there is nothing to play.
func (in *Interpreter) render(ctx context.Context, req webhook.Request, warn warnFunc) []int16 {
	var pcm []int16
	for range maxRenderRedirects {
		resp, err := in.cfg.Webhooks.Fetch(ctx, req)
		if err != nil {
			var werr *webhook.Error
			if errors.As(err, &werr) {
				warn(werr.Code, werr.Message(), werr)
			} else {
				warn(errcode.RetrievalFailure, err.Error(), nil)
			}
			return pcm
		}
		switch resp.Kind {
		case webhook.KindAudio:
			src, err := audiofile.Decode(bytes.NewReader(resp.Body), resp.MediaType)
			var p []int16
			if err == nil {
				p, err = readAll(src, maxPCM)
			}
			if err != nil {
				warn(errcode.InvalidContentType, "the audio cannot be played: "+err.Error(), &webhook.Error{URL: resp.URL, Method: resp.Method})
			}
			return append(pcm, p...)
		case webhook.KindTwiML:
			doc, err := twiml.ParseBytes(resp.Body)
			if doc == nil {
				warn(errcode.DocumentParseFailure, fmt.Sprintf("invalid TwiML: %v", err), &webhook.Error{URL: resp.URL, Method: resp.Method})
				return pcm
			}
			more, next, method := in.renderDocument(ctx, resp.URL, doc, warn)
			pcm = append(pcm, more...)
			if next == "" {
				return pcm
			}
			req.URL, req.Method = next, method
			if req.Method == "" {
				req.Method = "POST"
			}
		default:
			warn(errcode.InvalidContentType, "neither audio nor TwiML", &webhook.Error{URL: resp.URL, Method: resp.Method})
			return pcm
		}
	}
	warn(errcode.TooManyRedirects, "too many redirects", nil)
	return pcm
}

// renderDocument renders the verbs of doc; it returns where its <Redirect>
// leads ("" when it has none).
func (in *Interpreter) renderDocument(ctx context.Context, base string, doc *twiml.Response, warn warnFunc) (pcm []int16, next, method string) {
	for _, v := range doc.Verbs {
		switch v := v.(type) {
		case *twiml.Play:
			if strings.TrimSpace(v.URL) == "" {
				continue // digits: nobody to send them to
			}
			target, err := webhook.Resolve(base, strings.TrimSpace(v.URL))
			if err != nil {
				warn(errcode.InvalidURL, "Play: "+err.Error(), nil)
				continue
			}
			p, code, err := in.fetchAudio(ctx, target)
			if err != nil {
				warn(code, "Play: "+err.Error(), &webhook.Error{URL: target, Method: "GET"})
				continue
			}
			for range max(v.Loop, 1) {
				pcm = append(pcm, p...)
			}
		case *twiml.Say:
			path, err := in.cfg.Speech.Get(ctx, tts.Request{Voice: v.Voice, Language: v.Language, Text: v.Text()})
			if err != nil {
				warn(errcode.SayInvalidText, "Say: "+err.Error(), nil)
				continue
			}
			p, err := in.pcm.file(path)
			if err != nil {
				continue
			}
			for range max(v.Loop, 1) {
				pcm = append(pcm, p...)
			}
		case *twiml.Pause:
			pcm = append(pcm, make([]int16, v.Length*media.SampleRate)...)
		case *twiml.Redirect:
			u, err := webhook.Resolve(base, strings.TrimSpace(v.URL))
			if err != nil {
				warn(errcode.InvalidURL, "Redirect: "+err.Error(), nil)
				return pcm, "", ""
			}
			return pcm, u, v.Method
		default:
			warn(errcode.ConfInvalidWaitURL, fmt.Sprintf("<%s> is not allowed here (only Play, Say, Pause and Redirect)", v.TagName()), nil)
		}
	}
	return pcm, "", ""
}
