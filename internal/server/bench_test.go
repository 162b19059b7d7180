package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/sip"
	"github.com/switchboard-voice/switchboard/internal/softphone"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// BenchmarkInboundHangupCall places whole calls, one after the other, from
// the in-repo softphone to a number whose app answers <Hangup/>: the SIP
// INVITE, the webhook, the call record's three saves, the BYE, over real
// loopback sockets and a real SQLite file. One op is one call.
//
// The figures are of the whole process, so they include the caller and the
// app (an httptest server) beside switchboard; they are for comparing builds
// on this one path, steadier than bench/run.sh on a noisy machine:
// allocs/op and B/op are what the calls allocate (they set how often the
// collector runs), cpu-µs/call the process's CPU time per call.
func BenchmarkInboundHangupCall(b *testing.B) {
	cfg := testConfig(b.TempDir())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, log, io.Discard, server.Options{IgnorePacer: true})
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				b.Errorf("server Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			b.Errorf("server did not stop within 30 s")
		}
	})
	select {
	case <-srv.Started():
	case err := <-done:
		b.Fatalf("server Run returned before listening: %v", err)
	}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<Response><Hangup/></Response>`)
	}))
	b.Cleanup(app.Close)
	now := time.Now()
	if _, err := srv.Store().CreateNumber(ctx, store.IncomingPhoneNumber{
		SID: sid.New("PN"), AccountSID: testSID, PhoneNumber: "+15550009999", APIVersion: "2010-04-01",
		VoiceURL: app.URL + "/voice", VoiceMethod: "POST", VoiceFallbackMethod: "POST", StatusCallbackMethod: "POST",
		SMSMethod: "POST", SMSFallbackMethod: "POST", DateCreated: now, DateUpdated: now,
	}); err != nil {
		b.Fatal(err)
	}
	phone, err := softphone.Start(softphone.Config{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { phone.Close() })
	call := func() {
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		res, err := phone.Call(cctx, softphone.Options{
			URI:    "sip:+15550009999@" + srv.SIPAddr().String(),
			From:   "+15550001234",
			Script: softphone.Script{Duration: 5 * time.Second},
		})
		if err != nil {
			b.Fatalf("call: %v", err)
		}
		if !res.Answered || res.End != sip.EndRemoteHangup {
			b.Fatalf("call %+v: want answered, then switchboard's BYE", res)
		}
	}
	call() // warm: connections, prepared statements

	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for b.Loop() {
		call()
	}
	b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/call")
}

// processCPU returns the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
