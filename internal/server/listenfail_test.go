package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/server"
)

// When SIP cannot listen (here: its TCP port is taken), Run shuts down and
// returns the error instead of waiting forever for SIP to stop a second time.
func TestRunReturnsWhenSIPCannotListen(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := testConfig(t.TempDir())
	cfg.SIP = taken.Addr().String()
	srv, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler), io.Discard, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "sip") {
			t.Fatalf("Run = %v, want the SIP listen error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run still running 30 s after SIP failed to listen")
	}
	select {
	case <-srv.Started():
		t.Error("Started closed by a Run that never listened")
	default:
	}
}
