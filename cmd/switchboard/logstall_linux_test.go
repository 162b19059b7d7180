package main

import (
	"bytes"
	"context"
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
	overall := time.Now().Add(40 * time.Second)
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

	callee, err := softphone.Start(softphone.Config{RTPPortMin: 44000, RTPPortMax: 44099})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { callee.Close() })
	lctx, lcancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer lcancel()
	listened := make(chan error, 1)
	go func() {
		_, err := callee.Listen(lctx, softphone.ListenOptions{Calls: calls})
		listened <- err
	}()

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
		})
		if code != http.StatusCreated {
			t.Fatalf("create call %d: %d %v", i, code, body)
		}
		sids = append(sids, body["sid"].(string))
	}
	ended := map[string]bool{}
	for len(ended) < calls {
		for _, sid := range sids {
			if ended[sid] {
				continue
			}
			code, body := restForm(t, "GET", s.http, "/Calls/"+sid+".json", nil)
			if code != 200 {
				t.Fatalf("fetch %s: %d %v", sid, code, body)
			}
			if body["status"] == "completed" {
				ended[sid] = true
			}
		}
		if time.Now().After(overall) {
			t.Fatalf("with the log pipe full, %d of %d calls completed within 40 s", len(ended), calls)
		}
		time.Sleep(50 * time.Millisecond)
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
	select {
	case err := <-listened:
		if err != nil {
			t.Errorf("callee: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("callee did not take every call")
	}
}
