package sip_test

import (
	"context"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sip"
	"github.com/switchboard-voice/switchboard/internal/sipptest"
)

// SIPp, an independent implementation, places calls with its built-in UAC
// scenario (INVITE, 100/180, 200, ACK, BYE, 200) against the server, over UDP
// and TCP; every call must complete.
func TestSIPp(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("sipp (Debian sip-tester) is not installed")
	}
	for _, transport := range []string{"u1", "t1"} {
		t.Run(transport, func(t *testing.T) {
			var answered, ended atomic.Int32
			srv := startServer(t, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
				_ = call.Ringing()
				leg, err := call.Answer(ctx)
				if err != nil {
					t.Errorf("answer: %v", err)
					return
				}
				answered.Add(1)
				select {
				case <-leg.Done():
					if leg.EndReason() == sip.EndRemoteHangup {
						ended.Add(1)
					}
				case <-time.After(20 * time.Second):
					t.Error("sipp never hung up")
				}
			}), serverOpts{})
			const calls = 5
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, sipp, srv.Addr().String(),
				"-sn", "uac", "-t", transport, "-m", strconv.Itoa(calls), "-r", "10", "-l", "5",
				"-i", "127.0.0.1", "-p", strconv.Itoa(sipptest.FreeUDPPort(t)),
				"-mi", "127.0.0.1", "-mp", strconv.Itoa(sipptest.MediaPort(t)),
				"-timeout", "30s", "-timeout_error", "-recv_timeout", "10000", "-nostdin")
			cmd.Dir = t.TempDir()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("sipp: %v\n%s", err, tail(out, 3000))
			}
			waitCalls(t, srv, 0)
			if a, e := answered.Load(), ended.Load(); a != calls || e != calls {
				t.Fatalf("%d calls answered and %d hung up by sipp, want %d", a, e, calls)
			}
		})
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
