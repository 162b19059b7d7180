package sip_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sip"
)

// BenchmarkInboundCall measures one whole inbound call over loopback UDP:
// INVITE, 100, 200 with SDP (a media session opened), ACK, BYE, 200 (the
// session closed). The raw client's own parsing is included.
func BenchmarkInboundCall(b *testing.B) {
	legs := make(chan *sip.Leg, 1)
	srv := startServerB(b, answerAndWait(legs))
	u := newRawUA(b, srv.Addr())
	b.ReportAllocs()
	for b.Loop() {
		c := u.newCall("+14155550100")
		branch, cseq := c.invite(c.offer("sendrecv", "0 101"))
		res := u.final(branch, 5*time.Second)
		c.established(res)
		c.ack(cseq, "")
		select {
		case <-legs:
		case <-time.After(10 * time.Second):
			b.Fatal("not answered")
		}
		if r := u.final(c.request("BYE", "", ""), 5*time.Second); r.StatusCode != 200 {
			b.Fatalf("BYE: %d", r.StatusCode)
		}
	}
}

func startServerB(b *testing.B, h sip.Handler) *sip.Server {
	srv, err := sip.NewServer(sip.Config{Addr: "127.0.0.1:0", Media: newEngine(b, -1)}, h)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx) }()
	<-srv.Ready()
	b.Cleanup(func() { cancel(); <-done })
	return srv
}
