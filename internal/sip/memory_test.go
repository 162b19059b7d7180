package sip_test

import (
	"context"
	"runtime"
	"testing"
	"time"
	"weak"

	gosip "github.com/emiago/sipgo/sip"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/sip"
)

// The media session of a call that has ended is garbage as soon as the
// application lets go of the call, although sipgo keeps the INVITE's server
// transaction for InviteLinger more (Timer L, RFC 6026) and the BYE's for
// TxLinger (Timer J): no transaction may hold the call.
func TestEndedCallReleasesSession(t *testing.T) {
	linger := gosip.Timer_L
	gosip.Timer_L = time.Minute // the transaction outlives the test's checks
	t.Cleanup(func() { gosip.Timer_L = linger })
	for _, early := range []bool{false, true} {
		name := "answer"
		if early {
			name = "early media then answer"
		}
		t.Run(name, func(t *testing.T) {
			sessions := make(chan weak.Pointer[media.Session], 1)
			txDone := make(chan (<-chan struct{}), 1)
			srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
				txDone <- call.TxDone()
				if early {
					if _, err := call.EarlyMedia(ctx); err != nil {
						t.Errorf("early media: %v", err)
						return
					}
				}
				leg, err := call.Answer(ctx)
				if err != nil {
					t.Errorf("answer: %v", err)
					return
				}
				sessions <- weak.Make(leg.Media())
				<-leg.Done()
			}), serverOpts{})
			u := newRawUA(t, srv.Addr())
			c := u.newCall("+14155550100")
			c.establish(t)
			var sess weak.Pointer[media.Session]
			select {
			case sess = <-sessions:
			case <-time.After(5 * time.Second):
				t.Fatal("the handler did not answer")
			}
			if res := u.final(c.request("BYE", "", ""), 5*time.Second); res.StatusCode != 200 {
				t.Fatalf("BYE: %d", res.StatusCode)
			}
			waitCalls(t, srv, 0)
			// Within Timer L: the INVITE transaction still exists.
			done := <-txDone
			deadline := time.Now().Add(3 * time.Second)
			for sess.Value() != nil {
				if time.Now().After(deadline) {
					t.Fatal("the media session of the ended call is still reachable")
				}
				runtime.GC()
				time.Sleep(10 * time.Millisecond)
			}
			select {
			case <-done:
				t.Fatal("the INVITE transaction has ended: it did not hold the session, but the test shows nothing")
			default:
			}
		})
	}
}
