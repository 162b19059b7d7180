package sip_test

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/sip"
	"github.com/switchboard-voice/switchboard/internal/sipptest"
)

// TestSIPpLoad is a load scenario, not part of the regular suite: set
// SWITCHBOARD_SIPP_LOAD=RATE,CALLS,HOLD_MS (e.g. 500,5000,1000) to run it.
// SIPp's UAC places CALLS calls at RATE per second, each held HOLD_MS; the
// server answers each one (opening and closing a media session) and the test
// reports the failures, the calls per second achieved and the server's CPU.
func TestSIPpLoad(t *testing.T) {
	spec := os.Getenv("SWITCHBOARD_SIPP_LOAD")
	if spec == "" {
		t.Skip("set SWITCHBOARD_SIPP_LOAD=RATE,CALLS,HOLD_MS to run the load scenario")
	}
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("sipp not installed")
	}
	parts := strings.Split(spec, ",")
	if len(parts) != 3 {
		t.Fatalf("SWITCHBOARD_SIPP_LOAD=%q: want RATE,CALLS,HOLD_MS", spec)
	}
	rate, calls, hold := parts[0], parts[1], parts[2]
	engine, err := media.NewEngine(media.EngineConfig{IP: netip.MustParseAddr("127.0.0.1"), InactivityTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close()
	var answered atomic.Int64
	var failures sync.Map
	srv, err := sip.NewServer(sip.Config{Addr: "127.0.0.1:0", Media: engine}, sip.HandlerFunc(func(ctx context.Context, call *sip.InboundCall) {
		leg, err := call.Answer(ctx)
		if err != nil {
			failures.Store(err.Error(), true)
			return
		}
		answered.Add(1)
		<-leg.Done()
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe(ctx) }()
	defer func() { cancel(); <-served }()
	<-srv.Ready()

	cpu0, start := processCPU(t), time.Now()
	cmd := exec.Command(sipp, srv.Addr().String(), "-sn", "uac", "-r", rate, "-m", calls, "-d", hold,
		"-l", "5000", "-i", "127.0.0.1", "-p", strconv.Itoa(sipptest.FreeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(sipptest.MediaPort(t)),
		"-timeout", "300s", "-recv_timeout", "10000", "-nostdin")
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	elapsed, cpu := time.Since(start), processCPU(t)-cpu0
	for i := 0; i < 500 && srv.Calls() > 0; i++ {
		time.Sleep(10 * time.Millisecond) // let the last handlers finish
	}
	n, _ := strconv.Atoi(calls)
	t.Logf("%s calls at %s/s held %s ms: sipp %v; answered %d; %.0f calls/s over %v; server CPU %v (%.0f%% of a core, %.0f µs per call)",
		calls, rate, hold, err, answered.Load(), float64(n)/elapsed.Seconds(), elapsed.Round(time.Millisecond),
		cpu.Round(time.Millisecond), 100*cpu.Seconds()/elapsed.Seconds(), float64(cpu.Microseconds())/float64(n))
	failures.Range(func(k, _ any) bool { t.Logf("answer failed: %v", k); return true })
	if err != nil {
		t.Fatalf("sipp reported failed calls:\n%s", tail(out, 4000))
	}
}

// processCPU is the user+system CPU time of this process (Linux /proc).
func processCPU(t *testing.T) time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skip("no /proc/self/stat")
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}
