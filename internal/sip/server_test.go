package sip_test

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/sip"
	"github.com/switchboard-voice/switchboard/internal/softphone"
)

// A softphone calls a number; the handler rings, answers, plays a tone and
// hangs up. The phone hears the tone; the webhook parameters carry what
// Twilio passes for a SIP call.
func TestInboundAnswerPlaysTone(t *testing.T) {
	params := make(chan url.Values, 1)
	ended := make(chan sip.EndReason, 1)
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		params <- call.WebhookParams()
		if err := call.Ringing(); err != nil {
			t.Errorf("ringing: %v", err)
		}
		leg, err := call.Answer(ctx)
		if err != nil {
			t.Errorf("answer: %v", err)
			return
		}
		if err := leg.Media().Play(ctx, sine(1000, 600*time.Millisecond)); err != nil {
			t.Errorf("play: %v", err)
		}
		if err := leg.Hangup(ctx); err != nil {
			t.Errorf("hangup: %v", err)
		}
		ended <- leg.EndReason()
	}), serverOpts{})

	phone := startPhone(t)
	heard := &collector{}
	res, err := phone.Call(testContext(t, 10*time.Second), softphone.Options{
		URI:     "sip:+14155550100@" + srv.Addr().String(),
		From:    "+14155550199",
		Headers: map[string]string{"X-Customer-Id": "42"},
		Script:  softphone.Script{Sink: heard},
	})
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if !res.Answered || res.StatusCode != 200 || res.End != sip.EndRemoteHangup {
		t.Fatalf("result %+v; want answered, 200, ended by the far end", res)
	}
	if !heardTone(heard.all(), 1000) {
		t.Errorf("the phone did not hear the 1 kHz tone (%d samples)", len(heard.all()))
	}
	if res.HeardSamples < 4000 {
		t.Errorf("heard %d samples, want at least half a second", res.HeardSamples)
	}
	p := <-params
	want := map[string]string{
		"From": "+14155550199", "Caller": "+14155550199", "To": "+14155550100", "Called": "+14155550100",
		"SipCallId": res.CallID, "SipSourceIp": "127.0.0.1", "SipDomain": "127.0.0.1",
		"SipHeader_X-Customer-Id": "42",
	}
	for k, v := range want {
		if got := p.Get(k); got != v {
			t.Errorf("webhook param %s = %q, want %q", k, got, v)
		}
	}
	if r := <-ended; r != sip.EndLocalHangup {
		t.Errorf("server leg ended %q, want local-hangup", r)
	}
	waitCalls(t, srv, 0)
}

// waitCalls waits until the server holds n calls.
func waitCalls(t *testing.T, srv *sip.Server, n int) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if srv.Calls() == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("server holds %d calls, want %d", srv.Calls(), n)
}

func TestInboundReject(t *testing.T) {
	for _, code := range []int{404, 486, 603} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
				if err := call.Reject(code, ""); err != nil {
					t.Errorf("reject: %v", err)
				}
				if _, err := call.Answer(ctx); !errors.Is(err, sip.ErrAlreadyFinal) {
					t.Errorf("answer after reject: %v, want ErrAlreadyFinal", err)
				}
			}), serverOpts{})
			res, err := startPhone(t).Call(testContext(t, 10*time.Second), softphone.Options{URI: "sip:support@" + srv.Addr().String()})
			var de *sip.DialError
			if !errors.As(err, &de) || de.Code != code {
				t.Fatalf("call: %v; want a DialError with %d", err, code)
			}
			if res.Answered || res.StatusCode != code || res.CallID == "" {
				t.Fatalf("result %+v", res)
			}
			waitCalls(t, srv, 0)
		})
	}
}

// The caller gives up while it rings: CANCEL, 487, Canceled closes, and the
// call can no longer be answered.
func TestCancelBeforeAnswer(t *testing.T) {
	result := make(chan error, 1)
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		_ = call.Ringing()
		select {
		case <-call.Canceled():
		case <-time.After(10 * time.Second):
			result <- errors.New("no cancel seen")
			return
		}
		if ctx.Err() == nil {
			result <- errors.New("handler context still live after cancel")
			return
		}
		_, err := call.Answer(context.Background())
		result <- err
	}), serverOpts{})
	res, err := startPhone(t).Call(testContext(t, 10*time.Second), softphone.Options{
		URI: "sip:+14155550100@" + srv.Addr().String(), Timeout: 300 * time.Millisecond,
	})
	if !errors.Is(err, sip.ErrNoAnswer) || res.StatusCode != 487 {
		t.Fatalf("call: %+v, %v; want ErrNoAnswer with 487", res, err)
	}
	if err := <-result; !errors.Is(err, sip.ErrCanceled) {
		t.Fatalf("answer after cancel: %v, want ErrCanceled", err)
	}
	waitCalls(t, srv, 0)
}

// answerAndWait is a handler that answers, hands the leg over and keeps the
// call until it ends.
// recvLeg waits for the leg a handler hands over.
func recvLeg(t *testing.T, legs <-chan *sip.Leg) *sip.Leg {
	t.Helper()
	select {
	case l := <-legs:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not answer")
		return nil
	}
}

func answerAndWait(legs chan<- *sip.Leg) sip.Handler {
	return sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		leg, err := call.Answer(ctx)
		if err != nil {
			return
		}
		legs <- leg
		<-leg.Done()
	})
}

func TestByeFromCaller(t *testing.T) {
	legs := make(chan *sip.Leg, 1)
	srv := startServer(t, answerAndWait(legs), serverOpts{})
	res, err := startPhone(t).Call(testContext(t, 10*time.Second), softphone.Options{
		URI: "sip:bob@" + srv.Addr().String(), Script: softphone.Script{Duration: 300 * time.Millisecond},
	})
	if err != nil || res.End != sip.EndLocalHangup {
		t.Fatalf("call: %+v, %v; want the phone to hang up", res, err)
	}
	leg := recvLeg(t, legs)
	select {
	case <-leg.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("server leg still up after the caller's BYE")
	}
	if r := leg.EndReason(); r != sip.EndRemoteHangup {
		t.Fatalf("server leg ended %q, want remote-hangup", r)
	}
	if err := leg.Hangup(context.Background()); err != nil {
		t.Fatalf("hangup of an ended leg: %v", err)
	}
	waitCalls(t, srv, 0)
}

// DTMF the phone sends as RFC 4733 events reaches the leg's session.
func TestDigitsFromCaller(t *testing.T) {
	digits := make(chan string, 1)
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		leg, err := call.Answer(ctx)
		if err != nil {
			return
		}
		var got strings.Builder
		for got.Len() < 3 {
			select {
			case d, ok := <-leg.Media().DTMF():
				if !ok {
					digits <- got.String()
					return
				}
				got.WriteByte(d.Digit)
			case <-time.After(5 * time.Second):
				digits <- got.String()
				return
			}
		}
		digits <- got.String()
		_ = leg.Hangup(ctx)
	}), serverOpts{})
	_, err := startPhone(t).Call(testContext(t, 10*time.Second), softphone.Options{
		URI: "sip:ivr@" + srv.Addr().String(), Script: softphone.Script{Digits: "12#", Duration: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := <-digits; got != "12#" {
		t.Fatalf("server received digits %q, want 12#", got)
	}
}

// Over TCP: the INVITE, the audio, and the server's BYE on the connection the
// phone opened.
func TestTCP(t *testing.T) {
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		if call.Transport != "tcp" {
			t.Errorf("transport %q, want tcp", call.Transport)
		}
		leg, err := call.Answer(ctx)
		if err != nil {
			t.Errorf("answer: %v", err)
			return
		}
		_ = leg.Media().Play(ctx, sine(700, 500*time.Millisecond))
		_ = leg.Hangup(ctx)
	}), serverOpts{})
	heard := &collector{}
	res, err := startPhone(t).Call(testContext(t, 10*time.Second), softphone.Options{
		URI: "sip:+14155550100@" + srv.Addr().String() + ";transport=tcp", Script: softphone.Script{Sink: heard},
	})
	if err != nil || !res.Answered || res.End != sip.EndRemoteHangup {
		t.Fatalf("call over tcp: %+v, %v", res, err)
	}
	if !heardTone(heard.all(), 700) {
		t.Fatal("no tone heard over the tcp-signalled call")
	}
}

// A handler that panics costs its call a 500; the server keeps serving.
func TestHandlerPanic(t *testing.T) {
	var n atomic.Int32
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		if n.Add(1) == 1 {
			panic("boom")
		}
		_ = call.Reject(486, "")
	}), serverOpts{})
	phone := startPhone(t)
	for _, want := range []int{500, 486} {
		res, _ := phone.Call(testContext(t, 10*time.Second), softphone.Options{URI: "sip:x@" + srv.Addr().String()})
		if res.StatusCode != want {
			t.Fatalf("status %d, want %d", res.StatusCode, want)
		}
	}
}

// A handler that returns without deciding gets its call rejected; one that
// returns with the leg up gets it hung up.
func TestHandlerReturnsEarly(t *testing.T) {
	srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		if call.RequestUser == "answer" {
			_, _ = call.Answer(ctx)
		}
	}), serverOpts{})
	phone := startPhone(t)
	res, _ := phone.Call(testContext(t, 10*time.Second), softphone.Options{URI: "sip:nothing@" + srv.Addr().String()})
	if res.StatusCode != 500 {
		t.Fatalf("undecided call: status %d, want 500", res.StatusCode)
	}
	res, err := phone.Call(testContext(t, 10*time.Second), softphone.Options{URI: "sip:answer@" + srv.Addr().String()})
	if err != nil || res.End != sip.EndRemoteHangup {
		t.Fatalf("abandoned leg: %+v, %v; want it hung up by the server", res, err)
	}
	waitCalls(t, srv, 0)
}

// Shutting the server down hangs up its calls with BYE.
func TestShutdownHangsUp(t *testing.T) {
	legs := make(chan *sip.Leg, 1)
	engine := newEngine(t, -1)
	srv, err := sip.NewServer(sip.Config{Addr: "127.0.0.1:0", Media: engine}, answerAndWait(legs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe(ctx) }()
	<-srv.Ready()

	phone := startPhone(t)
	result := make(chan softphone.Result, 1)
	go func() {
		res, _ := phone.Call(testContext(t, 10*time.Second), softphone.Options{URI: "sip:a@" + srv.Addr().String()})
		result <- res
	}()
	leg := recvLeg(t, legs)
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("ListenAndServe: %v", err)
	}
	if r := leg.EndReason(); r != sip.EndShutdown {
		t.Fatalf("leg ended %q, want shutdown", r)
	}
	if res := <-result; res.End != sip.EndRemoteHangup {
		t.Fatalf("phone: %+v, want hung up by the server", res)
	}
	if _, err := srv.Dial(context.Background(), sip.DialRequest{URI: "sip:x@127.0.0.1"}); !errors.Is(err, sip.ErrServerClosed) {
		t.Fatalf("dial after shutdown: %v", err)
	}
}

// Server.Dial places a call to a phone that answers; the phone hears what the
// server plays and records it.
func TestDialOutbound(t *testing.T) {
	srv := startServer(t, nil, serverOpts{})
	phone := startPhone(t)
	record := t.TempDir() + "/heard.wav"
	answered := make(chan softphone.Result, 1)
	go func() {
		res, err := phone.Answer(testContext(t, 10*time.Second), softphone.AnswerOptions{
			Ring: 100 * time.Millisecond, Script: softphone.Script{Record: record},
		})
		if err != nil {
			t.Errorf("answer: %v", err)
		}
		answered <- res
	}()
	var rang atomic.Bool
	leg, err := srv.Dial(testContext(t, 10*time.Second), sip.DialRequest{
		URI:        phone.URI("alice") + "?X-Campaign=spring%20sale",
		From:       "+14155550100",
		Headers:    map[string]string{"X-Agent": "7"},
		OnProgress: func(code int, _ string) { rang.Store(code == 180) },
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if !rang.Load() {
		t.Error("no 180 reported before the answer")
	}
	if leg.Inbound() || leg.State() != sip.StateConfirmed || leg.Codec() != media.PCMU {
		t.Errorf("leg inbound=%v state=%s codec=%v", leg.Inbound(), leg.State(), leg.Codec())
	}
	if err := leg.Media().Play(testContext(t, 5*time.Second), sine(1000, 500*time.Millisecond)); err != nil {
		t.Fatalf("play: %v", err)
	}
	if err := leg.Hangup(testContext(t, 5*time.Second)); err != nil {
		t.Fatalf("hangup: %v", err)
	}
	res := <-answered
	if res.End != sip.EndRemoteHangup {
		t.Fatalf("phone: %+v", res)
	}
	headers := map[string]string{}
	for _, h := range res.Headers {
		headers[h.Name] = h.Value
	}
	if headers["X-Campaign"] != "spring sale" || headers["X-Agent"] != "7" {
		t.Errorf("phone got headers %v", res.Headers)
	}
	samples, err := softphone.LoadWAV(record)
	if err != nil {
		t.Fatal(err)
	}
	if !heardTone(samples, 1000) {
		t.Fatalf("recording (%d samples) lacks the tone", len(samples))
	}
}

func TestDialFailures(t *testing.T) {
	srv := startServer(t, nil, serverOpts{})
	phone := startPhone(t)

	t.Run("busy", func(t *testing.T) {
		go phone.Answer(testContext(t, 10*time.Second), softphone.AnswerOptions{Reject: 486})
		_, err := srv.Dial(testContext(t, 10*time.Second), sip.DialRequest{URI: phone.URI("bob")})
		var de *sip.DialError
		if !errors.As(err, &de) || de.Code != 486 || de.CallID == "" {
			t.Fatalf("dial: %v; want 486", err)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		done := make(chan error, 1)
		go func() {
			_, err := phone.Answer(testContext(t, 10*time.Second), softphone.AnswerOptions{Ring: 5 * time.Second})
			done <- err
		}()
		_, err := srv.Dial(testContext(t, 10*time.Second), sip.DialRequest{URI: phone.URI("bob"), Timeout: 300 * time.Millisecond})
		var de *sip.DialError
		if !errors.As(err, &de) || !errors.Is(err, sip.ErrNoAnswer) || de.Code != 487 {
			t.Fatalf("dial: %v; want no answer with 487", err)
		}
		if err := <-done; !errors.Is(err, sip.ErrCanceled) {
			t.Fatalf("phone: %v, want ErrCanceled", err)
		}
	})
	t.Run("dial canceled by context", func(t *testing.T) {
		go phone.Answer(testContext(t, 2*time.Second), softphone.AnswerOptions{Ring: 5 * time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := srv.Dial(ctx, sip.DialRequest{URI: phone.URI("bob")})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("dial: %v; want the context's error", err)
		}
	})
	t.Run("bad uri", func(t *testing.T) {
		for _, uri := range []string{"tel:+14155550100", "sip:", "sip:a@b;transport=sctp", "sip:a@b?Via=x"} {
			if _, err := srv.Dial(context.Background(), sip.DialRequest{URI: uri}); !errors.Is(err, sip.ErrBadURI) {
				t.Errorf("dial %q: %v, want ErrBadURI", uri, err)
			}
		}
	})
	t.Run("nobody there", func(t *testing.T) {
		// Over TCP a closed port fails at once: 503.
		_, err := srv.Dial(testContext(t, 10*time.Second), sip.DialRequest{URI: "sip:a@127.0.0.1:1;transport=tcp"})
		var de *sip.DialError
		if !errors.As(err, &de) || de.Code != 503 {
			t.Fatalf("dial: %v; want 503", err)
		}
	})
}

func TestNewServerConfig(t *testing.T) {
	for _, addr := range []string{"", "127.0.0.1", "127.0.0.1:99999", "127.0.0.1:x"} {
		if _, err := sip.NewServer(sip.Config{Addr: addr}, nil); !errors.Is(err, sip.ErrBadConfig) {
			t.Errorf("addr %q: %v, want ErrBadConfig", addr, err)
		}
	}
	// A port already taken: ListenAndServe says so.
	srv := startServer(t, nil, serverOpts{})
	other, err := sip.NewServer(sip.Config{Addr: srv.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.ListenAndServe(context.Background()); err == nil {
		t.Fatal("listening on a taken port succeeded")
	}
	// No media engine: calls are refused with 500, dialing fails.
	bare := startServer(t, nil, serverOpts{cfg: func(c *sip.Config) { c.Media = nil }})
	if _, err := bare.Dial(context.Background(), sip.DialRequest{URI: "sip:a@127.0.0.1:9"}); !errors.Is(err, sip.ErrBadConfig) {
		t.Fatalf("dial without media: %v", err)
	}
}
