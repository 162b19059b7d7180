package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/config"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/store/storetest"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// nodeName is the name a server takes its outbox leases under when
// server.Options.Node is empty: the host, and a hash of the data directory.
func nodeName(t *testing.T, data string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	abs, err := filepath.Abs(data)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(abs))
	return host + "-" + hex.EncodeToString(sum[:4])
}

// gate is a webhook transport that lets the first pass requests through,
// then holds every later one, without sending it, until its context ends:
// the node's deliveries are stuck in flight, as on a node that hangs.
type gate struct {
	pass int64
	tr   *http.Transport

	sent, held atomic.Int64
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	if g.sent.Add(1) <= g.pass {
		return g.tr.RoundTrip(r)
	}
	g.held.Add(1)
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// Two servers share one PostgreSQL database and so one outbox. Server A
// places 40 calls (each rejected busy) with an initiated and a completed
// callback; both servers' deliverers race for the callbacks. After its first
// 30 deliveries, A hangs: its deliveries stay in flight and never reach the
// app. A is then stopped and its leases expire (forced here instead of
// waiting the 60 s lease): B takes A's callbacks over. The app gets every
// (CallSid, SequenceNumber) exactly once, each call's in order, and B
// delivered the callbacks A abandoned.
func TestOutboxTwoNodesOnePostgres(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	dsn := storetest.PostgresDSN(t)
	const calls = 40
	const pass = 30

	ga := &gate{pass: pass, tr: &http.Transport{}}
	t.Cleanup(ga.tr.CloseIdleConnections)
	a, stopA := startEnv(t, server.Options{Webhook: webhook.Config{UserAgent: "node-a", Transport: ga, Timeout: 2 * time.Minute}},
		func(c *config.Serve) { c.DB = dsn; c.CPS = 20 })
	b, _ := startEnv(t, server.Options{Webhook: webhook.Config{UserAgent: "node-b"}},
		func(c *config.Serve) { c.DB = dsn })
	nodeA, nodeB := nodeName(t, a.data), nodeName(t, b.data)
	if nodeA == nodeB {
		t.Fatalf("both servers are node %s", nodeA)
	}
	st := newStatusLog()
	a.app.handle("/status", st.handler)
	u := startUAS(t, "sipp_uas_final.xml", calls, 486)
	to := fmt.Sprintf("sip:uas@127.0.0.1:%d", u.port)

	rest := a.rest()
	sids := map[string]bool{}
	for range calls {
		c, err := rest.Api.CreateCall(&openapi.CreateCallParams{
			To: &to, From: ptr("+15557654321"), Twiml: ptr(`<Response><Hangup/></Response>`),
			StatusCallback: ptr(a.app.url("/status")), StatusCallbackEvent: &[]string{"initiated", "completed"},
		})
		if err != nil {
			t.Fatal(err)
		}
		sids[*c.Sid] = true
	}

	// Every call ends; every callback is then queued: delivered, or in the
	// outbox (held by A, or behind one held by A).
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pending, err := b.srv.Store().PendingCallbacks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if delivered := len(st.all()); delivered+pending == 2*calls && ga.held.Load() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %d callbacks delivered, %d pending, %d held by A; want %d in all",
				len(st.all()), pending, ga.held.Load(), 2*calls)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // let A claim what it can
	t.Logf("before A stops: %d delivered, %d held in flight by A", len(st.all()), ga.held.Load())

	stopA()
	// A is gone; its leases would expire in 60 s. Expire them now.
	if err := b.srv.Store().ExtendLeases(ctx, nodeA, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	hits := st.waitUntil(t, 30*time.Second, "every callback delivered", func(h []statusHit) bool { return len(h) >= 2*calls })
	time.Sleep(1500 * time.Millisecond) // duplicates would come now
	hits = st.all()

	type key struct {
		sid string
		seq int
	}
	count := map[key]int{}
	byNode := map[string]int{}
	order := map[string][]statusHit{}
	for _, h := range hits {
		count[key{h.CallSID, h.Seq}]++
		byNode[h.UserAgent]++
		order[h.CallSID] = append(order[h.CallSID], h)
		if !sids[h.CallSID] {
			t.Errorf("callback for unknown call %s", h.CallSID)
		}
	}
	t.Logf("%d callbacks delivered: by node %v (A held %d)", len(hits), byNode, ga.held.Load())
	for sid := range sids {
		for seq := range 2 {
			if n := count[key{sid, seq}]; n != 1 {
				t.Errorf("call %s callback %d delivered %d times, want once", sid, seq, n)
			}
		}
		o := order[sid]
		if len(o) == 2 && (o[0].Seq != 0 || o[0].Status != "initiated" || o[1].Seq != 1 || o[1].Status != "busy") {
			t.Errorf("call %s: callbacks out of order: %s", sid, describeHits(o))
		}
	}
	if len(hits) != 2*calls {
		t.Errorf("%d callbacks delivered, want %d", len(hits), 2*calls)
	}
	if byNode["node-a"] > pass {
		t.Errorf("A delivered %d callbacks, at most %d went through its transport", byNode["node-a"], pass)
	}
	if held := int(ga.held.Load()); byNode["node-b"] < held || held == 0 {
		t.Errorf("B delivered %d callbacks; A abandoned %d, which B should have taken over", byNode["node-b"], held)
	}
	if n, err := b.srv.Store().PendingCallbacks(ctx); err != nil || n != 0 {
		t.Errorf("outbox still holds %d callbacks (%v)", n, err)
	}
	u.wait(t, 20*time.Second)
}

// A second server started on the database of a running one leaves the
// calls the first one has in progress alone: closing the call records "left
// open by the previous run" is for a restart of the same node, not for
// another node's live calls.
func TestSecondNodeLeavesLiveCallsOpen(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	dsn := storetest.PostgresDSN(t)
	a, _ := startEnv(t, server.Options{}, func(c *config.Serve) { c.DB = dsn })
	st := newStatusLog()
	a.app.handle("/status", st.handler)
	u := startUAS(t, "sipp_uas_ring.xml", 1, 0)
	to := fmt.Sprintf("sip:uas@127.0.0.1:%d", u.port)
	params := &openapi.CreateCallParams{
		To: &to, From: ptr("+15557654321"), Twiml: ptr(`<Response><Hangup/></Response>`),
		StatusCallback: ptr(a.app.url("/status")), StatusCallbackEvent: &allEvents,
	}
	params.SetTimeout(4)
	call, err := a.rest().Api.CreateCall(params)
	if err != nil {
		t.Fatal(err)
	}
	a.waitStatus(*call.Sid, "ringing")

	startEnv(t, server.Options{}, func(c *config.Serve) { c.DB = dsn })
	got, err := a.rest().Api.FetchCall(*call.Sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Status != "ringing" {
		t.Errorf("a call ringing on server A is %s once server B started on the same database, want still ringing", *got.Status)
	}
	// The call rings out (Timeout 4 s): A records no-answer and sends the
	// completed callback.
	deadline := time.Now().Add(15 * time.Second)
	var final *statusHit
	for final == nil && time.Now().Before(deadline) {
		for _, h := range st.all() {
			if h.Params["CallDuration"] != "" {
				final = &h
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if final == nil {
		t.Errorf("no completed callback within 15 s: %s", describeHits(st.all()))
	} else if final.Status != "no-answer" {
		t.Errorf("completed callback CallStatus %s, want no-answer", final.Status)
	}
	if got, err := a.rest().Api.FetchCall(*call.Sid, nil); err != nil {
		t.Fatal(err)
	} else if *got.Status != "no-answer" {
		t.Errorf("call record ended %s, want no-answer", *got.Status)
	}
	u.wait(t, 20*time.Second)
}
