package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/config"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/softphone"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// The smoke version of the overload benchmark: with --max-call-rate 1, a
// burst of calls while one is in progress gets 503s at once, the call in
// progress goes on hearing its audio to the end, no refused call leaves a
// record, and a call placed once the burst is over is taken again.
func TestOverloadRefusedUpFront(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, server.Options{}, func(c *config.Serve) { c.MaxCallRate = 1 })
	e.number("+15550130000", nil)
	e.app.twiml("/voice", `<Response><Play digits="w"/><Pause length="10"/></Response>`) // a first Pause would delay the answer
	live := &heard{}
	liveDone := e.callInto(t, "+15550130000", "+15550000091", softphone.Script{Duration: 3 * time.Second, Sink: live})
	eventually(t, "the live call answered", func() bool {
		calls, _, err := e.srv.Store().ListCalls(context.Background(), store.CallFilter{AccountSID: testSID, Status: store.CallInProgress}, store.Page{Size: 5})
		return err == nil && len(calls) == 1
	})
	const burst = 10
	var results []<-chan softphone.Result
	for range burst {
		results = append(results, e.callInto(t, "+15550130000", "+15550000092", softphone.Script{Duration: 500 * time.Millisecond}))
	}
	refused, answered := 0, 0
	for _, ch := range results {
		r := wait(t, ch, 15*time.Second, "a caller of the burst")
		switch {
		case r.StatusCode == 503:
			refused++
		case r.Answered:
			answered++
		default:
			t.Errorf("a caller of the burst: %d %s", r.StatusCode, r.Reason)
		}
	}
	if refused < burst-2 {
		t.Errorf("%d of %d calls refused with 503 at 1 call/s, want nearly all", refused, burst)
	}
	res := wait(t, liveDone, 10*time.Second, "the live call")
	if !res.Answered || res.Talk < 3*time.Second || len(live.all()) < 28*8000/10 {
		t.Errorf("the live call: answered %v, talked %v, heard %d samples (want 3 s of audio)", res.Answered, res.Talk, len(live.all()))
	}
	calls, _, err := e.srv.Store().ListCalls(context.Background(), store.CallFilter{AccountSID: testSID}, store.Page{Size: 50})
	if err != nil || len(calls) != 1+answered {
		t.Errorf("%d call records, want the %d answered: %v", len(calls), 1+answered, err)
	}
	// The ceiling lets the next call in once time has passed.
	eventually(t, "a call taken after the burst", func() bool {
		r, _, err := e.call("+15550130000", softphone.Script{Duration: 200 * time.Millisecond})
		return err == nil && r.Answered
	})
}
