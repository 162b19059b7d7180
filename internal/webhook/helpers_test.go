package webhook_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/twilio/twilio-go/client"
	"go.uber.org/goleak"

	"github.com/switchboard-voice/switchboard/internal/webhook"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testToken = "12345678901234567890123456789012"

// seen is one request as the user's app saw it.
type seen struct {
	Method    string
	URL       string // as the app reconstructs it: scheme://Host + RequestURI
	Header    http.Header
	Form      url.Values // POST body or GET query
	Body      string
	ValidSig  bool // twilio-go's RequestValidator accepts X-Twilio-Signature
	BasicUser string
	BasicPass string
}

// app is an httptest server standing for the user's app. It records every
// request, checks its signature with twilio-go, and answers with handle.
type app struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newApp(t testing.TB, handle http.HandlerFunc) *app {
	t.Helper()
	a := &app{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.record(r)
		if handle != nil {
			handle(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<Response><Say>hi</Say></Response>`)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *app) record(r *http.Request) {
	full := "http://" + r.Host + r.RequestURI
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body)) // the handler may read it again
	s := seen{Method: r.Method, URL: full, Header: r.Header.Clone(), Body: string(body)}
	v := client.NewRequestValidator(testToken)
	sig := r.Header.Get(webhook.SignatureHeader)
	if r.Method == http.MethodPost {
		s.Form, _ = url.ParseQuery(string(body))
		s.ValidSig = v.Validate(full, first(s.Form), sig)
	} else {
		s.Form = r.URL.Query()
		s.ValidSig = v.Validate(full, map[string]string{}, sig)
	}
	s.BasicUser, s.BasicPass, _ = r.BasicAuth()
	a.mu.Lock()
	a.reqs = append(a.reqs, s)
	a.mu.Unlock()
}

func (a *app) requests() []seen {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]seen(nil), a.reqs...)
}

func first(v url.Values) map[string]string {
	m := make(map[string]string, len(v))
	for k, vs := range v {
		m[k] = vs[0]
	}
	return m
}

// newClient returns a Client closed at the end of the test.
func newClient(t testing.TB, cfg webhook.Config) *webhook.Client {
	t.Helper()
	c := webhook.New(cfg)
	t.Cleanup(c.Close)
	return c
}

// code returns the Twilio code of err, or -1 when it is not an *Error.
func code(err error) int {
	if e, ok := err.(*webhook.Error); ok {
		return e.Code
	}
	return -1
}
