package api_test

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/api"
)

// stalledRequest opens a connection to e's server, sends head and the first
// half of a form body of 100 bytes, and stalls. It returns the response and
// whether the server closed the connection after it, waiting at most wait
// for both.
func stalledRequest(t *testing.T, e *env, head string, wait time.Duration) (*http.Response, []byte, bool) {
	t.Helper()
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "FriendlyName=" + strings.Repeat("x", 87) // 100 bytes
	if _, err := io.WriteString(conn, head+"Content-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: 100\r\n\r\n"+body[:50]); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no response to a stalled body within %v: %v", wait, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("response body: %v", err)
	}
	_, err = br.ReadByte()
	closed := errors.Is(err, io.EOF)
	if !closed && !errors.Is(err, os.ErrDeadlineExceeded) {
		closed = true // reset: closed too
	}
	return resp, b, closed
}

// TestStalledBodyIsCutOff: a client that sends its headers and half its body
// and then stalls is answered and disconnected once the body timeout has
// passed, whether its credentials are good (408) or not (401), instead of
// holding a connection and a goroutine forever.
func TestStalledBodyIsCutOff(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e := newEnvWith(t, func(c *api.Config) { c.BodyTimeout = timeout })
	auth := func(user, pass string) string {
		return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)) + "\r\n"
	}
	path := "/2010-04-01/Accounts/" + e.main.SID + "/IncomingPhoneNumbers.json"
	tests := []struct {
		name   string
		head   string
		status int
		code   int
	}{
		{"authenticated", "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + auth(e.main.SID, e.main.AuthToken), 408, 408},
		{"wrong token", "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + auth(e.main.SID, strings.Repeat("0", 32)), 401, 20003},
		{"GET with a body", "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + auth(e.main.SID, e.main.AuthToken), 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			resp, body, closed := stalledRequest(t, e, tt.head, 5*time.Second)
			took := time.Since(start)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.code != 0 {
				if code, status := errBody(t, body); code != tt.code || status != tt.status {
					t.Errorf("error body %d/%d, want %d/%d", code, status, tt.code, tt.status)
				}
			}
			if !closed {
				t.Error("connection still open after the stalled body's answer")
			}
			if took > timeout+2*time.Second {
				t.Errorf("answered after %v, timeout %v", took, timeout)
			}
		})
	}
	// A body that arrives in time is read as usual.
	if _, err := e.as(e.main).Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+14155550100")}); err != nil {
		t.Errorf("a body in time: %v", err)
	}
}

// TestLargeBodyIs413: a body over the limit gets 413 with Twilio's 20413,
// through a real connection, whether its length is announced or chunked.
func TestLargeBodyIs413(t *testing.T) {
	e := newEnv(t)
	u := e.srv.URL + "/2010-04-01/Accounts/" + e.main.SID + "/IncomingPhoneNumbers.json"
	body := "FriendlyName=" + strings.Repeat("x", 10<<20) // 10 MB
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			var r io.Reader = strings.NewReader(body)
			if chunked {
				r = io.MultiReader(r) // hides the length: sent chunked
			}
			req, err := http.NewRequest("POST", u, r)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(e.main.SID, e.main.AuthToken)
			resp, err := (&http.Client{Transport: e.tr}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413: %s", resp.StatusCode, b)
			}
			if code, status := errBody(t, b); code != 20413 || status != 413 {
				t.Errorf("error body %d/%d, want 20413/413", code, status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// TestHeadIsGetWithoutBody: every resource that answers GET answers HEAD the
// same, status and headers, without the body.
func TestHeadIsGetWithoutBody(t *testing.T) {
	e := newEnv(t)
	if _, err := e.as(e.main).Api.CreateIncomingPhoneNumber(&openapi.CreateIncomingPhoneNumberParams{PhoneNumber: ptr("+14155550100")}); err != nil {
		t.Fatal(err)
	}
	base := e.srv.URL + "/2010-04-01/Accounts/" + e.main.SID
	for _, path := range []string{
		".json",
		"/IncomingPhoneNumbers.json",
		"/Calls.json",
		"/Calls/CA" + strings.Repeat("0", 32) + ".json", // 404
	} {
		t.Run(path, func(t *testing.T) {
			do := func(method string) (*http.Response, []byte) {
				req, err := http.NewRequest(method, base+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.SetBasicAuth(e.main.SID, e.main.AuthToken)
				resp, err := (&http.Client{Transport: e.tr}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				resp.Header.Del("Date")
				return resp, b
			}
			get, getBody := do("GET")
			head, headBody := do("HEAD")
			if head.StatusCode != get.StatusCode || len(headBody) != 0 {
				t.Errorf("HEAD %d with %d bytes, GET %d", head.StatusCode, len(headBody), get.StatusCode)
			}
			if head.Header.Get("Content-Length") != fmt.Sprint(len(getBody)) {
				t.Errorf("HEAD Content-Length %q, GET body %d bytes", head.Header.Get("Content-Length"), len(getBody))
			}
			if diff := cmp.Diff(get.Header, head.Header); diff != "" {
				t.Errorf("headers (-GET +HEAD):\n%s", diff)
			}
		})
	}
}
