package server_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/sipptest"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// SIPp, an independent SIP implementation, calls a TwiML app through the whole
// server: each call is routed to the number, fetches its TwiML (a looping
// <Play>), is answered, and ends with SIPp's BYE; every call record ends
// completed and every webhook was signed.
func TestSIPpCallsTwiMLApp(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	tone := toneWAV(t, 500, time.Second, 8000)
	e.app.handle("/hold.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		http.ServeFile(w, r, tone)
	})
	e.app.twiml("/voice", `<Response><Play loop="0">/hold.wav</Play></Response>`)

	const calls = 10
	runSIPp(t, e, "-sn", "uac", "-s", "support", "-d", "1000", "-m", strconv.Itoa(calls), "-r", "5", "-l", "5", "-recv_timeout", "10000")
	reqs := e.app.waitFor("/voice", calls, 5*time.Second)
	for _, r := range reqs {
		if !r.Valid || r.Params.Get("To") != "support" || r.Params.Get("SipCallId") == "" {
			t.Errorf("webhook request %+v", r)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		cs, _, err := e.srv.Store().ListCalls(context.Background(), store.CallFilter{AccountSID: testSID, Status: store.CallCompleted}, store.Page{Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == calls {
			for _, c := range cs {
				if c.Duration < 1 || c.Duration > 3 {
					t.Errorf("call %s lasted %d s, want about 1 s", c.SID, c.Duration)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d completed call records, want %d", len(cs), calls)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SIPp sends RFC 2833 digits from its shipped captures (an SSRC of their
// own, payload type 101) into a <Gather>: the action gets them.
func TestSIPpDTMFIntoGather(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	if _, err := os.Stat("/usr/share/sip-tester/dtmf_2833_1.pcap"); err != nil {
		t.Skip("sip-tester's DTMF captures are not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("SIPp plays pcap audio through a raw socket: needs root")
	}
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.app.twiml("/voice", `<Response><Gather action="/got" timeout="5"/></Response>`)
	e.app.twiml("/got", `<Response><Hangup/></Response>`)
	scenario, _ := filepath.Abs("testdata/sipp_dtmf.xml")
	runSIPp(t, e, "-sf", scenario, "-s", "support", "-m", "1")
	got := e.app.waitFor("/got", 1, 3*time.Second)[0]
	if d, f := got.Params.Get("Digits"), got.Params.Get("FinishedOnKey"); d != "15" || f != "#" {
		t.Errorf("Digits=%q FinishedOnKey=%q, want 15 and #", d, f)
	}
}

// SIPp sends digits as SIP INFO (application/dtmf-relay and
// application/dtmf) into a <Gather>.
func TestSIPpInfoDTMFIntoGather(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	e := newEnv(t, server.Options{})
	e.number("support", nil)
	e.app.twiml("/voice", `<Response><Gather action="/got" timeout="5"/></Response>`)
	e.app.twiml("/got", `<Response><Hangup/></Response>`)
	scenario, _ := filepath.Abs("testdata/sipp_info.xml")
	runSIPp(t, e, "-sf", scenario, "-s", "support", "-m", "1")
	got := e.app.waitFor("/got", 1, 3*time.Second)[0]
	if d, f := got.Params.Get("Digits"), got.Params.Get("FinishedOnKey"); d != "42" || f != "#" {
		t.Errorf("Digits=%q FinishedOnKey=%q, want 42 and #", d, f)
	}
}

// runSIPp runs sipp against the server with the given scenario arguments,
// on free loopback ports, bounded in time; it fails the test if sipp does.
func runSIPp(t *testing.T, e *env, args ...string) {
	t.Helper()
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("sipp (Debian sip-tester) is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args = append([]string{e.srv.SIPAddr().String()}, args...)
	args = append(args,
		"-i", "127.0.0.1", "-p", strconv.Itoa(sipptest.FreeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(sipptest.MediaPort(t)),
		"-timeout", "40s", "-timeout_error", "-nostdin")
	cmd := exec.CommandContext(ctx, sipp, args...)
	cmd.Dir = t.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		if len(out) > 3000 {
			out = out[len(out)-3000:]
		}
		t.Fatalf("sipp: %v\n%s", err, out)
	}
}

// needSIPp skips a test when sipp is not installed.
func needSIPp(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Skip("sipp (Debian sip-tester) is not installed")
	}
}
