package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// validTwiML stands for the interpreter's parser: a document must start with
// <Response>.
func validTwiML(r *webhook.Response) error {
	if r.Kind == webhook.KindTwiML && !bytes.HasPrefix(r.Body, []byte("<Response>")) {
		return errors.New("root element is not <Response>")
	}
	return nil
}

func TestFetchWithFallback(t *testing.T) {
	a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/500":
			w.WriteHeader(500)
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html><body>Welcome to nginx!</body></html>")
		case "/custom-code":
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, "<Response><Bogus/></Response>")
		case "/ok", "/fallback":
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, "<Response><Say>"+r.URL.Path+"</Say></Response>")
		}
	})
	c := newClient(t, webhook.Config{})
	params := url.Values{"CallSid": {"CA1"}, "From": {"+1"}}
	validate := func(r *webhook.Response) error {
		if bytes.Contains(r.Body, []byte("<Bogus/>")) {
			return &webhook.Error{Code: 12200, Err: errors.New("schema validation warning")}
		}
		return validTwiML(r)
	}
	tests := []struct {
		name, primary, fallback string
		wantBody                string // "" when no answer is usable
		wantCodes               []int
	}{
		{"primary ok", "/ok", "/fallback", "<Response><Say>/ok</Say></Response>", nil},
		{"primary 500", "/500", "/fallback", "<Response><Say>/fallback</Say></Response>", []int{11200}},
		{"primary not twiml", "/html", "/fallback", "<Response><Say>/fallback</Say></Response>", []int{12100}},
		{"validator's own code", "/custom-code", "/fallback", "<Response><Say>/fallback</Say></Response>", []int{12200}},
		{"both fail", "/500", "/html", "", []int{11200, 12100}},
		{"no fallback", "/500", "", "", []int{11200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(a.requests())
			fb := webhook.Request{}
			if tt.fallback != "" {
				fb.URL = a.URL + tt.fallback
			}
			resp, errs := c.FetchWithFallback(context.Background(),
				webhook.Request{URL: a.URL + tt.primary, Params: params, AuthToken: testToken, CallSID: "CA1"}, fb, validate)
			if tt.wantBody == "" {
				if resp != nil {
					t.Errorf("got answer %q, want none", resp.Body)
				}
			} else if resp == nil || string(resp.Body) != tt.wantBody {
				t.Errorf("got %v, want %q", resp, tt.wantBody)
			}
			var codes []int
			for _, e := range errs {
				codes = append(codes, e.Code)
				if e.CallSID != "CA1" || e.URL == "" {
					t.Errorf("error without call or URL: %+v", e)
				}
			}
			if len(codes) != len(tt.wantCodes) {
				t.Fatalf("codes %v, want %v", codes, tt.wantCodes)
			}
			for i := range codes {
				if codes[i] != tt.wantCodes[i] {
					t.Fatalf("codes %v, want %v", codes, tt.wantCodes)
				}
			}
			reqs := a.requests()[before:]
			if len(errs) > 0 && tt.fallback != "" {
				if len(reqs) != 2 {
					t.Fatalf("%d requests, want 2", len(reqs))
				}
				f := reqs[1]
				if f.Form.Get("ErrorCode") != strconv.Itoa(errs[0].Code) || f.Form.Get("ErrorUrl") != a.URL+tt.primary {
					t.Errorf("fallback got ErrorCode=%q ErrorUrl=%q", f.Form.Get("ErrorCode"), f.Form.Get("ErrorUrl"))
				}
				if f.Form.Get("CallSid") != "CA1" || f.Form.Get("From") != "+1" || !f.ValidSig {
					t.Errorf("fallback lost the call's parameters or signature: %v", f.Form)
				}
			}
		})
	}
}

func TestFetchWithFallbackNotAfterHangup(t *testing.T) {
	a := newApp(t, nil)
	c := newClient(t, webhook.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	resp, errs := c.FetchWithFallback(ctx, webhook.Request{URL: a.URL + "/a"}, webhook.Request{URL: a.URL + "/b"}, nil)
	if resp != nil || len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Fatalf("resp %v errs %v", resp, errs)
	}
	if n := len(a.requests()); n != 0 {
		t.Errorf("%d requests after the call ended", n)
	}
}
