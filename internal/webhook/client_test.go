package webhook_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-voice/switchboard/internal/clock"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

var inbound = webhook.CallParams{
	CallSID:     "CA0123456789abcdef0123456789abcdef",
	AccountSID:  "AC0123456789abcdef0123456789abcdef",
	From:        "+15005550006",
	To:          "+15005550001",
	CallStatus:  "ringing",
	Direction:   webhook.DirectionInbound,
	CallerName:  "山田 太郎",
	SIPCallID:   "a84b4c76e66710@127.0.0.1",
	SIPSourceIP: "127.0.0.1",
	SIPHeaders:  map[string][]string{"X-Customer-Id": {"42"}},
}

func TestFetchPostSendsSignedParams(t *testing.T) {
	a := newApp(t, nil)
	c := newClient(t, webhook.Config{})
	want := inbound.Values()
	resp, err := c.Fetch(context.Background(), webhook.Request{
		URL: a.URL + "/voice?tenant=a", Method: "post", Params: want, AuthToken: testToken,
	})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if resp.Kind != webhook.KindTwiML || string(resp.Body) != `<Response><Say>hi</Say></Response>` {
		t.Errorf("got %v %q", resp.Kind, resp.Body)
	}
	if resp.URL != a.URL+"/voice?tenant=a" || resp.Status != 200 || resp.Method != "POST" {
		t.Errorf("Response URL %q status %d method %s", resp.URL, resp.Status, resp.Method)
	}
	reqs := a.requests()
	if len(reqs) != 1 {
		t.Fatalf("app saw %d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.URL != a.URL+"/voice?tenant=a" {
		t.Errorf("app saw %s %s", r.Method, r.URL)
	}
	if diff := cmp.Diff(want, r.Form); diff != "" {
		t.Errorf("parameters (-want +got):\n%s", diff)
	}
	if !r.ValidSig {
		t.Errorf("twilio-go rejects X-Twilio-Signature %q", r.Header.Get(webhook.SignatureHeader))
	}
	for h, v := range map[string]string{
		"User-Agent":   "TwilioProxy/1.1",
		"Content-Type": "application/x-www-form-urlencoded",
	} {
		if got := r.Header.Get(h); got != v {
			t.Errorf("%s = %q, want %q", h, got, v)
		}
	}
	if len(r.Header.Get(webhook.IdempotencyHeader)) < 16 {
		t.Errorf("no %s header", webhook.IdempotencyHeader)
	}
}

func TestFetchGetMergesQuery(t *testing.T) {
	a := newApp(t, nil)
	c := newClient(t, webhook.Config{})
	params := inbound.Values()
	if _, err := c.Fetch(context.Background(), webhook.Request{
		URL: a.URL + "/voice.xml?tenant=a&x=%C3%BC", Method: "GET", Params: params, AuthToken: testToken,
	}); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	r := a.requests()[0]
	if r.Method != "GET" || r.Body != "" {
		t.Errorf("app saw %s with body %q", r.Method, r.Body)
	}
	want := url.Values{"tenant": {"a"}, "x": {"ü"}}
	for k, v := range params {
		want[k] = v
	}
	if diff := cmp.Diff(want, r.Form); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(r.URL, a.URL+"/voice.xml?tenant=a&x=%C3%BC&") {
		t.Errorf("URL %q does not keep the URL's own query first", r.URL)
	}
	if !r.ValidSig {
		t.Errorf("twilio-go rejects the GET signature")
	}
}

func TestFetchUnsignedWithoutToken(t *testing.T) {
	a := newApp(t, nil)
	c := newClient(t, webhook.Config{})
	if _, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL}); err != nil {
		t.Fatal(err)
	}
	if sig := a.requests()[0].Header.Get(webhook.SignatureHeader); sig != "" {
		t.Errorf("unsigned request carries signature %q", sig)
	}
}

func TestFetchUnicodeURLIsEscapedAndSigned(t *testing.T) {
	a := newApp(t, nil)
	c := newClient(t, webhook.Config{})
	if _, err := c.Fetch(context.Background(), webhook.Request{
		URL: a.URL + "/café/音声?name=日本 語", Params: url.Values{"From": {"+1"}}, AuthToken: testToken,
	}); err != nil {
		t.Fatal(err)
	}
	r := a.requests()[0]
	if want := a.URL + "/caf%C3%A9/%E9%9F%B3%E5%A3%B0?name=%E6%97%A5%E6%9C%AC%20%E8%AA%9E"; r.URL != want {
		t.Errorf("app saw %q, want %q", r.URL, want)
	}
	if !r.ValidSig {
		t.Error("twilio-go rejects the signature of an escaped URL")
	}
}

func TestFetchBasicAuthFromURL(t *testing.T) {
	a := newApp(t, nil)
	c := newClient(t, webhook.Config{})
	u := strings.Replace(a.URL, "http://", "http://alice:s%3Acret@", 1) + "/voice#rc=0"
	if _, err := c.Fetch(context.Background(), webhook.Request{URL: u, Params: url.Values{"A": {"1"}}, AuthToken: testToken}); err != nil {
		t.Fatal(err)
	}
	r := a.requests()[0]
	if r.BasicUser != "alice" || r.BasicPass != "s:cret" {
		t.Errorf("basic auth %q:%q", r.BasicUser, r.BasicPass)
	}
	if r.URL != a.URL+"/voice" {
		t.Errorf("app saw %q: credentials or fragment leaked", r.URL)
	}
	if !r.ValidSig {
		t.Error("signature not over the URL without credentials and fragment")
	}
}

func TestFetchCookiesPerCall(t *testing.T) {
	a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("session"); err != nil {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: r.FormValue("CallSid"), Path: "/"})
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, "<Response/>")
	})
	c := newClient(t, webhook.Config{})
	jar1, jar2 := webhook.NewJar(), webhook.NewJar()
	fetch := func(jar http.CookieJar, sid string) {
		t.Helper()
		if _, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL + "/voice", Params: url.Values{"CallSid": {sid}}, Jar: jar}); err != nil {
			t.Fatal(err)
		}
	}
	fetch(jar1, "CA1") // sets session=CA1
	fetch(jar1, "CA1") // sends it back
	fetch(jar2, "CA2") // another call: no cookie, gets session=CA2
	fetch(jar1, "CA1")
	fetch(nil, "CA3") // no jar: no cookies
	var got []string
	for _, r := range a.requests() {
		got = append(got, r.Header.Get("Cookie"))
	}
	want := []string{"", "session=CA1", "", "session=CA1", ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Cookie headers (-want +got):\n%s", diff)
	}
}

func TestFetchRedirects(t *testing.T) {
	var hops atomic.Int32
	a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/302":
			http.SetCookie(w, &http.Cookie{Name: "hop", Value: "1", Path: "/"})
			w.Header().Set("Location", "final?from=302") // relative
			w.WriteHeader(http.StatusFound)
		case "/307":
			w.Header().Set("Location", "/final?from=307")
			w.WriteHeader(http.StatusTemporaryRedirect)
		case "/loop":
			hops.Add(1)
			w.Header().Set("Location", "/loop")
			w.WriteHeader(http.StatusMovedPermanently)
		case "/nowhere":
			w.WriteHeader(http.StatusFound) // no Location
		case "/final":
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			io.WriteString(w, "<Response/>")
		}
	})
	c := newClient(t, webhook.Config{MaxRedirects: 3})
	params := url.Values{"CallSid": {"CA1"}}

	t.Run("302 turns POST into GET", func(t *testing.T) {
		jar := webhook.NewJar()
		resp, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL + "/302", Params: params, AuthToken: testToken, Jar: jar})
		if err != nil {
			t.Fatal(err)
		}
		if resp.URL != a.URL+"/final?from=302" || resp.Method != "GET" {
			t.Errorf("answered by %s %s", resp.Method, resp.URL)
		}
		reqs := a.requests()
		last := reqs[len(reqs)-1]
		if last.Method != "GET" || last.URL != a.URL+"/final?from=302" || !last.ValidSig {
			t.Errorf("redirected request %s %s, signature valid %v", last.Method, last.URL, last.ValidSig)
		}
		if last.Header.Get("Cookie") != "hop=1" {
			t.Errorf("cookie set on the redirect not sent: %q", last.Header.Get("Cookie"))
		}
	})
	t.Run("307 repeats the POST", func(t *testing.T) {
		resp, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL + "/307", Params: params, AuthToken: testToken})
		if err != nil {
			t.Fatal(err)
		}
		reqs := a.requests()
		last := reqs[len(reqs)-1]
		if resp.Method != "POST" || last.Method != "POST" || last.Form.Get("CallSid") != "CA1" || !last.ValidSig {
			t.Errorf("redirected request %s form %v, signature valid %v", last.Method, last.Form, last.ValidSig)
		}
	})
	t.Run("too many", func(t *testing.T) {
		_, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL + "/loop", Params: params})
		if code(err) != webhook.CodeTooManyRedirects || !errors.Is(err, webhook.ErrTooManyRedirects) {
			t.Fatalf("err = %v, want 11215", err)
		}
		if n := hops.Load(); n != 4 {
			t.Errorf("%d requests, want 4 (1 + 3 redirects)", n)
		}
	})
	t.Run("no location", func(t *testing.T) {
		_, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL + "/nowhere"})
		var e *webhook.Error
		if !errors.As(err, &e) || e.Code != webhook.CodeRetrievalFailure || e.Status != 302 {
			t.Fatalf("err = %v, want 11200 with status 302", err)
		}
	})
}

func TestFetchStatusErrors(t *testing.T) {
	for _, status := range []int{400, 404, 500, 503} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(status)
				io.WriteString(w, "<h1>oops</h1>")
			})
			c := newClient(t, webhook.Config{})
			_, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL + "/voice", Params: url.Values{"CallSid": {"CA9"}}, CallSID: "CA9"})
			var e *webhook.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Code != webhook.CodeRetrievalFailure || e.Status != status || !errors.Is(err, webhook.ErrStatus) {
				t.Errorf("code %d status %d", e.Code, e.Status)
			}
			if string(e.ResponseBody) != "<h1>oops</h1>" || e.ResponseHeader.Get("Content-Type") != "text/html" {
				t.Errorf("response kept: %q %v", e.ResponseBody, e.ResponseHeader)
			}
			if e.URL != a.URL+"/voice" || e.Method != "POST" || e.CallSID != "CA9" || e.Params.Get("CallSid") != "CA9" {
				t.Errorf("request not recorded: %+v", e)
			}
			if e.MoreInfo() != "https://www.twilio.com/docs/errors/11200" || e.Message() != "HTTP retrieval failure" {
				t.Errorf("MoreInfo %q Message %q", e.MoreInfo(), e.Message())
			}
			if n := len(a.requests()); n != 1 {
				t.Errorf("%d requests: a status is not retried by default", n)
			}
		})
	}
}

func TestFetchContentTypes(t *testing.T) {
	tests := []struct {
		ct       string // "-" sends none
		body     string
		wantKind webhook.Kind
		wantCode int
	}{
		{"text/xml", "<Response/>", webhook.KindTwiML, 0},
		{"application/xml; charset=UTF-8", "<Response/>", webhook.KindTwiML, 0},
		{"text/html", "<Response/>", webhook.KindTwiML, 0},
		{"TEXT/XML", "<Response/>", webhook.KindTwiML, 0},
		{"text/plain; charset=utf-8", "Hello there", webhook.KindText, 0},
		{"audio/mpeg", "ID3...", webhook.KindAudio, 0},
		{"audio/x-wav", "RIFF....WAVE", webhook.KindAudio, 0},
		{"audio/wav", "RIFF", webhook.KindAudio, 0},
		{"audio/ulaw", "\xff\xff", webhook.KindAudio, 0},
		{"application/json", `{"say":"hi"}`, 0, webhook.CodeInvalidContentType},
		{"image/png", "\x89PNG", 0, webhook.CodeInvalidContentType},
		{"audio/ogg", "OggS", 0, webhook.CodeInvalidContentType},
		{"-", "<Response/>", 0, webhook.CodeInvalidContentType},
	}
	for _, tt := range tests {
		t.Run(tt.ct, func(t *testing.T) {
			a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.ct == "-" {
					w.Header()["Content-Type"] = nil // no sniffing
				} else {
					w.Header().Set("Content-Type", tt.ct)
				}
				io.WriteString(w, tt.body)
			})
			c := newClient(t, webhook.Config{})
			resp, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL})
			if tt.wantCode != 0 {
				if code(err) != tt.wantCode || !errors.Is(err, webhook.ErrContentType) {
					t.Fatalf("err = %v, want %d", err, tt.wantCode)
				}
				if got := string(err.(*webhook.Error).ResponseBody); got != tt.body {
					t.Errorf("ResponseBody = %q", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if resp.Kind != tt.wantKind || string(resp.Body) != tt.body {
				t.Errorf("got %v %q, want %v %q", resp.Kind, resp.Body, tt.wantKind, tt.body)
			}
		})
	}
}

// countingTransport counts the body bytes the client reads.
type countingTransport struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.n}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func TestFetchHugeBodyIsCapped(t *testing.T) {
	const size = 10 << 20
	chunk := []byte(strings.Repeat("<p>spam</p>\n", 1024))
	for _, declared := range []bool{false, true} {
		t.Run(fmt.Sprintf("content-length %v", declared), func(t *testing.T) {
			written := make(chan int64, 1)
			a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				if declared {
					w.Header().Set("Content-Length", strconv.Itoa(size))
				}
				var n int64
				for n < size {
					m, err := w.Write(chunk)
					n += int64(m)
					if err != nil {
						break
					}
				}
				written <- n
			})
			tr := &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
			defer tr.base.(*http.Transport).CloseIdleConnections()
			c := newClient(t, webhook.Config{Transport: tr})
			_, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL})
			if code(err) != webhook.CodeResponseTooLarge || !errors.Is(err, webhook.ErrTooLarge) {
				t.Fatalf("err = %v, want 11750", err)
			}
			read := tr.n.Load()
			limit := int64(webhook.DefaultMaxTwiMLBody)
			if declared && read != 0 {
				t.Errorf("read %d bytes of a body declared too large", read)
			}
			if read > limit+int64(len(chunk)) {
				t.Errorf("read %d bytes, cap is %d", read, limit)
			}
			select {
			case n := <-written:
				if n >= size {
					t.Errorf("the app wrote all %d bytes: the connection was not dropped", n)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the app is still writing")
			}
		})
	}
}

func TestFetchAudioCap(t *testing.T) {
	a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Write(make([]byte, 100<<10))
	})
	c := newClient(t, webhook.Config{MaxAudioBody: 200 << 10})
	resp, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL})
	if err != nil || resp.Kind != webhook.KindAudio || len(resp.Body) != 100<<10 {
		t.Fatalf("100 KiB of audio under a 200 KiB cap: %v", err)
	}
	c = newClient(t, webhook.Config{MaxAudioBody: 50 << 10})
	if _, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL}); code(err) != webhook.CodeResponseTooLarge {
		t.Fatalf("100 KiB of audio over a 50 KiB cap: err = %v", err)
	}
}

// hang answers only when the client goes away or the test ends.
func hang(release <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
}

func TestFetchHangingAppTimesOut(t *testing.T) {
	release := make(chan struct{})
	a := newApp(t, hang(release))
	defer close(release)
	c := newClient(t, webhook.Config{Timeout: 300 * time.Millisecond})
	start := time.Now()
	_, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL})
	if code(err) != webhook.CodeConnectionFailure || !errors.Is(err, webhook.ErrTimeout) {
		t.Fatalf("err = %v, want 11205 timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v with a 300 ms timeout", d)
	}
}

func TestFetchTimeoutOnFakeClock(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		hang(release)(w, r)
	})
	defer close(release)
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c := newClient(t, webhook.Config{Clock: clk})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL})
		errc <- err
	}()
	<-arrived
	clk.Advance(14 * time.Second)
	select {
	case err := <-errc:
		t.Fatalf("Fetch ended before 15 s of (fake) time: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	clk.Advance(time.Second)
	select {
	case err := <-errc:
		if code(err) != webhook.CodeConnectionFailure || !errors.Is(err, webhook.ErrTimeout) {
			t.Fatalf("err = %v, want 11205 timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Fetch did not time out at 15 s of fake time")
	}
}

func TestFetchStalledBodyReadTimeout(t *testing.T) {
	release := make(chan struct{})
	a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, "<Response>")
		w.(http.Flusher).Flush()
		hang(release)(w, r)
	})
	defer close(release)
	c := newClient(t, webhook.Config{ReadTimeout: 200 * time.Millisecond})
	_, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL})
	if code(err) != webhook.CodeConnectionFailure || !errors.Is(err, webhook.ErrTimeout) {
		t.Fatalf("err = %v, want 11205 read timeout", err)
	}
}

func TestFetchConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newClient(t, webhook.Config{})
	_, err = c.Fetch(context.Background(), webhook.Request{URL: "http://" + addr + "/voice"})
	if code(err) != webhook.CodeConnectionFailure {
		t.Fatalf("err = %v, want 11205", err)
	}
}

func TestFetchRetriesConnectFailures(t *testing.T) {
	// The first connection is accepted and closed at once; the retry is served.
	a := newApp(t, nil)
	var dials atomic.Int32
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.DisableKeepAlives = true
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	c := newClient(t, webhook.Config{Transport: base})
	if _, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL}); err != nil {
		t.Fatalf("Fetch after one failed connect: %v", err)
	}
	if dials.Load() != 2 {
		t.Errorf("%d dials, want 2", dials.Load())
	}
	dials.Store(0)
	c = newClient(t, webhook.Config{Transport: base, Retries: -1})
	if _, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL}); code(err) != webhook.CodeConnectionFailure {
		t.Fatalf("without retries: err = %v, want 11205", err)
	}
}

func TestFetchBadHostName(t *testing.T) {
	c := newClient(t, webhook.Config{})
	_, err := c.Fetch(context.Background(), webhook.Request{URL: "https://app.example.invalid/voice"})
	if code(err) != webhook.CodeBadHostName {
		t.Fatalf("err = %v, want 11210", err)
	}
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("no *net.DNSError in %v", err)
	}
}

func TestFetchInvalidURLs(t *testing.T) {
	c := newClient(t, webhook.Config{})
	for _, u := range []string{"", "/relative", "ftp://example.com/x", "http://", "http://[::1", "mailto:a@b", "javascript:alert(1)"} {
		_, err := c.Fetch(context.Background(), webhook.Request{URL: u})
		if code(err) != webhook.CodeInvalidURL || !errors.Is(err, webhook.ErrBadURL) {
			t.Errorf("Fetch(%q): err = %v, want 11100", u, err)
		}
	}
	if _, err := c.Fetch(context.Background(), webhook.Request{URL: "http://127.0.0.1/", Method: "PUT"}); !errors.Is(err, webhook.ErrBadMethod) {
		t.Errorf("PUT: err = %v", err)
	}
}

func TestFetchTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, "<Response/>")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	plain := newApp(t, nil)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	trusting := newClient(t, webhook.Config{TLSConfig: &tls.Config{RootCAs: pool}})
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	if _, err := trusting.Fetch(context.Background(), webhook.Request{URL: srv.URL}); err != nil {
		t.Errorf("trusted certificate: %v", err)
	}
	if _, err := newClient(t, webhook.Config{}).Fetch(context.Background(), webhook.Request{URL: srv.URL}); code(err) != webhook.CodeCertUnknownAuthority {
		t.Errorf("self-signed certificate: err = %v, want 11237", err)
	}
	if _, err := trusting.Fetch(context.Background(), webhook.Request{URL: "https://localhost:" + port}); code(err) != webhook.CodeCertDomainMismatch {
		t.Errorf("certificate for another name: err = %v, want 11235", err)
	}
	if _, err := trusting.Fetch(context.Background(), webhook.Request{URL: strings.Replace(plain.URL, "http:", "https:", 1)}); code(err) != webhook.CodeTLSHandshake {
		t.Errorf("https to a plain http server: err = %v, want 11220", err)
	}
}

func TestFetchNotHTTP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 4096)
			conn.Read(buf)
			io.WriteString(conn, "SSH-2.0-OpenSSH_9.2\r\nthis is not http\r\n\r\n")
			conn.Close()
		}
	}()
	defer func() { l.Close(); <-done }()
	c := newClient(t, webhook.Config{})
	_, err = c.Fetch(context.Background(), webhook.Request{URL: "http://" + l.Addr().String()})
	if code(err) != webhook.CodeProtocolViolation {
		t.Fatalf("err = %v, want 11206", err)
	}
}

func TestFetchConnectionOverrides(t *testing.T) {
	var n atomic.Int32
	var tokens []string
	a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		tokens = append(tokens, r.Header.Get(webhook.IdempotencyHeader))
		if n.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, "<Response/>")
	})
	c := newClient(t, webhook.Config{})
	resp, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL + "/voice?x=1#rc=3&rp=5xx,ct", Params: url.Values{"A": {"1"}}, AuthToken: testToken})
	if err != nil {
		t.Fatalf("rc=3&rp=5xx: %v", err)
	}
	if n.Load() != 3 {
		t.Errorf("%d attempts, want 3", n.Load())
	}
	if tokens[0] == "" || tokens[0] != tokens[1] || tokens[1] != tokens[2] {
		t.Errorf("idempotency tokens differ across retries: %q", tokens)
	}
	for _, r := range a.requests() {
		if r.URL != a.URL+"/voice?x=1" || !r.ValidSig {
			t.Errorf("app saw %q (valid signature %v)", r.URL, r.ValidSig)
		}
	}
	if resp.URL != a.URL+"/voice?x=1" {
		t.Errorf("Response.URL = %q", resp.URL)
	}

	release := make(chan struct{})
	b := newApp(t, hang(release))
	defer close(release)
	start := time.Now()
	_, err = c.Fetch(context.Background(), webhook.Request{URL: b.URL + "#tt=200"})
	if code(err) != webhook.CodeConnectionFailure || time.Since(start) > 3*time.Second {
		t.Errorf("tt=200 on a hanging app: err = %v after %v", err, time.Since(start))
	}
}

func TestFetchCallerCancel(t *testing.T) {
	release := make(chan struct{})
	a := newApp(t, hang(release))
	defer close(release)
	c := newClient(t, webhook.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Fetch(ctx, webhook.Request{URL: a.URL})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the caller's context error in the chain", err)
	}
}

func TestClassifyContentType(t *testing.T) {
	tests := []struct {
		in   string
		kind webhook.Kind
		mt   string
		ok   bool
	}{
		{"text/xml", webhook.KindTwiML, "text/xml", true},
		{"Application/XML;charset=utf-8", webhook.KindTwiML, "application/xml", true},
		{"text/html; charset", webhook.KindTwiML, "text/html", true},
		{"text/plain", webhook.KindText, "text/plain", true},
		{"audio/x-aifc", webhook.KindAudio, "audio/x-aifc", true},
		{"audio/gsm", webhook.KindAudio, "audio/gsm", true},
		{"application/json", 0, "application/json", false},
		{"", 0, "", false},
		{";;;", 0, "", false},
	}
	for _, tt := range tests {
		kind, mt, ok := webhook.ClassifyContentType(tt.in)
		if kind != tt.kind || mt != tt.mt || ok != tt.ok {
			t.Errorf("ClassifyContentType(%q) = %v, %q, %v; want %v, %q, %v", tt.in, kind, mt, ok, tt.kind, tt.mt, tt.ok)
		}
	}
}

func BenchmarkFetch(b *testing.B) {
	a := newApp(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<Response><Say>Hello</Say></Response>`)
	})
	c := newClient(b, webhook.Config{})
	req := webhook.Request{URL: a.URL + "/voice", Params: inbound.Values(), AuthToken: testToken}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Fetch(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
