package main

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchboard-voice/switchboard/internal/softphone"
)

// A log reader that stops reading (a pipe to a stalled log shipper) does not
// stop calls: with the server's standard error a pipe of one page that
// nobody reads, full within the first calls, every call is still placed,
// answered and ended, and once the reader drains the pipe every line is
// there.
func TestStalledLogReaderDoesNotStopCalls(t *testing.T) {
	t.Parallel()
	const calls = 60
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if _, err := unix.FcntlInt(pw.Fd(), unix.F_SETPIPE_SZ, 4096); err != nil {
		t.Fatalf("F_SETPIPE_SZ: %v", err)
	}
	env := []string{"SWITCHBOARD_ACCOUNT_SID=" + crashSID, "SWITCHBOARD_AUTH_TOKEN=" + crashToken,
		"SWITCHBOARD_CPS=100", "SWITCHBOARD_LOG_LEVEL=debug"}

	callee, listened := listenCalls(t, 44000, 44099, softphone.ListenOptions{Calls: calls})
	app := newCrashApp(t)
	app.unstall() // the app answers every status callback

	s := startServeWith(t, t.TempDir(), serveOpts{stderr: pw}, env...)
	pw.Close() // the child has it
	// If the test fails before draining, unblock the server so that it can
	// be killed and waited for.
	drained := make(chan []byte, 1)
	drain := func() { go func() { b, _ := io.ReadAll(pr); drained <- b }() }
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			drain()
		}
	})

	var sids []string
	for i := range calls {
		code, body := restForm(t, "POST", s.http, "/Calls.json", url.Values{
			"To": {callee.URI("bob")}, "From": {"+15557654321"}, "Twiml": {"<Response><Hangup/></Response>"},
			"StatusCallback": {app.ts.URL + "/status"},
		})
		if code != http.StatusCreated {
			t.Fatalf("create call %d: %d %v", i, code, body)
		}
		sids = append(sids, body["sid"].(string))
	}
	// Each call's completed callback, then its record.
	timeout := time.NewTimer(40 * time.Second)
	defer timeout.Stop()
	for {
		_, delivered := app.snapshot()
		completed := map[string]bool{}
		for _, h := range delivered {
			if h.Status == "completed" {
				completed[h.CallSID] = true
			}
		}
		if len(completed) == calls {
			break
		}
		select {
		case <-app.changed:
		case <-timeout.C:
			t.Fatalf("with the log pipe full, %d of %d calls completed within 40 s", len(completed), calls)
		}
	}
	for _, sid := range sids {
		if code, body := restForm(t, "GET", s.http, "/Calls/"+sid+".json", nil); code != 200 || body["status"] != "completed" {
			t.Fatalf("call %s: %d %v, want completed", sid, code, body)
		}
	}
	queued, err := unix.IoctlGetInt(int(pr.Fd()), unix.TIOCINQ)
	if err != nil {
		t.Fatal(err)
	}

	drain()
	s.stop(t)
	stopped = true
	var log []byte
	select {
	case log = <-drained:
	case <-time.After(10 * time.Second):
		t.Fatal("the log pipe was not closed after the server stopped")
	}
	for _, sid := range sids {
		if !bytes.Contains(log, []byte("call="+sid)) {
			t.Errorf("the log lacks call %s", sid)
		}
	}
	if n := strings.Count(string(log), `msg="call ended"`); n < calls {
		t.Errorf("%d \"call ended\" lines in the log, want %d", n, calls)
	}
	// The calls were over while most of their lines had not been through
	// the pipe: the server's writes to it were stalled.
	if last := bytes.LastIndex(log, []byte(`msg="call ended"`)); last < 4*queued {
		t.Fatalf("the last call's end at byte %d of the log, %d bytes were in the pipe: the pipe never stalled the server's writes, the test shows nothing", last, queued)
	}
	t.Logf("%d calls ended with %d bytes in the log pipe; %d bytes of log read after", calls, queued, len(log))
	listened.expectAll(t, 5*time.Second)
}
