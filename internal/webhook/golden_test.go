package webhook_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// capture is a transport that records requests as text and answers them
// itself, so the golden files do not depend on a port number.
type capture struct {
	mu   sync.Mutex
	reqs []string
}

func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range r.Header[name] {
			fmt.Fprintf(&b, "%s: %s\n", name, v)
		}
	}
	b.WriteString("\n")
	if r.Body != nil {
		body, _ := io.ReadAll(r.Body)
		b.WriteString(strings.ReplaceAll(string(body), "&", "\n&"))
		b.WriteString("\n")
	}
	c.mu.Lock()
	c.reqs = append(c.reqs, b.String())
	c.mu.Unlock()
	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"text/xml"}},
		Body:       io.NopCloser(strings.NewReader("<Response/>")),
		Request:    r,
	}, nil
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGoldenRequests(t *testing.T) {
	call := webhook.CallParams{
		CallSID: "CA0123456789abcdef0123456789abcdef", AccountSID: "AC0123456789abcdef0123456789abcdef",
		From: "+818012345678", To: "sip:support@127.0.0.1", CallStatus: "ringing", Direction: webhook.DirectionInbound,
		ForwardedFrom: "+818011112222", CallerName: "山田 太郎",
		SIPDomain: "127.0.0.1", SIPCallID: "a84b4c76e66710@127.0.0.1", SIPSourceIP: "127.0.0.1",
		SIPHeaders: map[string][]string{"X-Customer-Id": {"42"}, "X-Tags": {"vip", "ja"}},
	}
	tests := []struct {
		file, method, url string
	}{
		{"request_post.golden", "POST", "https://bob:pw@app.example.com/voice?tenant=a#rc=0"},
		{"request_get.golden", "GET", "https://app.example.com:8443/voice.xml?tenant=a"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			tr := &capture{}
			c := webhook.New(webhook.Config{Transport: tr})
			_, err := c.Fetch(context.Background(), webhook.Request{
				URL: tt.url, Method: tt.method, Params: call.Values(), AuthToken: testToken, IdempotencyToken: "fixed-token",
			})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, tr.reqs[0])
		})
	}
}

func TestGoldenStatusCallback(t *testing.T) {
	tr := &capture{}
	clk := clock.NewFake(time.Date(2010, 8, 20, 1, 13, 42, 0, time.UTC))
	c := webhook.New(webhook.Config{Transport: tr, Clock: clk})
	call := webhook.CallParams{
		CallSID: "CA0123456789abcdef0123456789abcdef", AccountSID: "AC0123456789abcdef0123456789abcdef",
		From: "+818012345678", To: "+81312345678", Direction: webhook.DirectionInbound,
	}
	for i, ev := range []webhook.StatusEvent{
		{Call: withStatus(call, "ringing")},
		{Call: withStatus(call, "in-progress")},
		{Call: withStatus(call, "completed"), Final: true, CallDuration: 83 * time.Second},
	} {
		p := ev.Values()
		p.Set("SequenceNumber", strconv.Itoa(i))
		p.Set("Timestamp", webhook.FormatTimestamp(clk.Now()))
		p.Set("CallbackSource", webhook.CallbackSourceCallProgress)
		if err := c.Deliver(context.Background(), webhook.Request{CallSID: call.CallSID, URL: "https://app.example.com/status", AuthToken: testToken, Params: p}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(30 * time.Second)
	}
	// The idempotency token is random per callback: blank it.
	var all strings.Builder
	for _, r := range tr.reqs {
		lines := strings.Split(r, "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, webhook.IdempotencyHeader+":") {
				lines[i] = webhook.IdempotencyHeader + ": <random>"
			}
		}
		all.WriteString(strings.Join(lines, "\n"))
		all.WriteString("----\n")
	}
	golden(t, "status_callbacks.golden", all.String())
}

func withStatus(p webhook.CallParams, status string) webhook.CallParams {
	p.CallStatus = status
	return p
}
