package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/switchboard-voice/switchboard/internal/sip"
	"github.com/switchboard-voice/switchboard/internal/store"
	"github.com/switchboard-voice/switchboard/internal/voice"
)

// router routes incoming INVITEs to phone numbers and hands them to the
// interpreter: the Request-URI's user part is looked up as an
// IncomingPhoneNumber (E.164 or a plain SIP user name); no match is 404.
type router struct {
	store  store.Store
	interp *voice.Interpreter
	log    *slog.Logger
}

var _ sip.Handler = (*router)(nil)

func (rt *router) HandleInbound(ctx context.Context, call *sip.InboundCall) {
	num, err := rt.findNumber(ctx, call.RequestUser)
	if errors.Is(err, store.ErrNotFound) {
		rt.log.Info("no number for an incoming call: 404", "to", call.RequestUser, "from", call.From.ID(), "sip_call_id", call.CallID)
		call.Reject(404, "Not Found")
		return
	}
	if err != nil {
		rt.log.Error("routing an INVITE", "user", call.RequestUser, "err", err)
		call.Reject(500, "Server Internal Error")
		return
	}
	acct, err := rt.store.Account(ctx, num.AccountSID)
	if err != nil {
		rt.log.Error("the number's account", "number", num.SID, "err", err)
		call.Reject(500, "Server Internal Error")
		return
	}
	if acct.Status != store.StatusActive {
		// A suspended or closed account takes no calls.
		rt.log.Info("incoming call to an inactive account: 403", "to", call.RequestUser, "account", acct.SID)
		call.Reject(403, "Forbidden")
		return
	}
	rt.interp.HandleInbound(ctx, voice.Call{
		Account:              acct,
		PhoneNumberSID:       num.SID,
		From:                 call.From.ID(),
		To:                   call.To.ID(),
		URL:                  num.VoiceURL,
		Method:               num.VoiceMethod,
		FallbackURL:          num.VoiceFallbackURL,
		FallbackMethod:       num.VoiceFallbackMethod,
		StatusCallback:       num.StatusCallback,
		StatusCallbackMethod: num.StatusCallbackMethod,
		Params:               call.WebhookParams(),
	}, inboundCall{call})
}

// findNumber looks the (percent-decoded) user part up in canonical form only
// (store.CanonicalPhoneNumber, which agrees with sip.E164 on every telephone
// number): "15551234567", "+1-555-123-4567" and "+15551234567" reach the one
// number that has "+15551234567". Trying the user part as written first would
// let a row left in an old spelling ("15551234567", see migration 00008)
// take calls meant for the number's owner.
func (rt *router) findNumber(ctx context.Context, user string) (store.IncomingPhoneNumber, error) {
	return rt.store.FindNumber(ctx, user)
}

// inboundCall adapts a SIP call to the interpreter's transport-neutral view.
type inboundCall struct{ c *sip.InboundCall }

func (i inboundCall) Ringing() error                       { return i.c.Ringing() }
func (i inboundCall) Reject(code int, reason string) error { return i.c.Reject(code, reason) }
func (i inboundCall) Canceled() <-chan struct{}            { return i.c.Canceled() }

func (i inboundCall) Answer(ctx context.Context) (voice.Leg, error) {
	leg, err := i.c.Answer(ctx)
	if err != nil {
		return nil, answerError(err)
	}
	return legOf{leg}, nil
}

// answerError tells the interpreter a cancel in its own terms.
func answerError(err error) error {
	if errors.Is(err, sip.ErrCanceled) {
		return fmt.Errorf("%w: %w", voice.ErrCanceled, err)
	}
	return err
}

// EarlyMedia sends the caller a 183 with SDP: what is played to the returned
// media is heard before the answer.
func (i inboundCall) EarlyMedia(ctx context.Context) (voice.Media, error) {
	m, err := i.c.EarlyMedia(ctx)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// legOf adapts a SIP leg to the interpreter's Leg: its media session is the
// Media.
type legOf struct{ *sip.Leg }

func (l legOf) Media() voice.Media { return l.Leg.Media() }

// SIPInfo gives the Call-ID and the custom headers of the INVITE (inbound) or
// of its 200 OK (outbound).
func (l legOf) SIPInfo() voice.SIPInfo {
	return voice.SIPInfo{CallID: l.Leg.CallID(), Headers: headersOf(l.Leg.Headers())}
}
