package webhook_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/switchboard-voice/switchboard/internal/webhook"
)

func prefixes(t *testing.T, ss ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// appOn starts an app listening on addr (such as "127.0.0.3:0"), skipping
// the test when the address cannot be bound.
func appOn(t *testing.T, addr string, handle http.HandlerFunc) *app {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	a := &app{}
	a.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.record(r)
		if handle != nil {
			handle(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<Response><Say>hi</Say></Response>`))
	}))
	a.Listener.Close()
	a.Listener = ln
	a.Start()
	t.Cleanup(a.Close)
	return a
}

// wantDenied checks that err is error 11205 caused by the deny list, with a
// message saying so.
func wantDenied(t *testing.T, err error) *webhook.Error {
	t.Helper()
	var e *webhook.Error
	if !errors.As(err, &e) || e.Code != webhook.CodeConnectionFailure || !errors.Is(err, webhook.ErrDenied) {
		t.Fatalf("err = %v, want 11205 wrapping ErrDenied", err)
	}
	if !strings.HasPrefix(e.Message(), "HTTP connection failure: ") || !strings.Contains(e.Message(), "does not allow") {
		t.Errorf("Message() = %q, want the title and the denial", e.Message())
	}
	return e
}

func TestDenyLoopback(t *testing.T) {
	a := newApp(t, nil)
	c := newClient(t, webhook.Config{Deny: prefixes(t, "10.0.0.0/8", "127.0.0.0/8")})
	_, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL + "/voice", CallSID: "CA1"})
	e := wantDenied(t, err)
	if e.URL != a.URL+"/voice" || e.CallSID != "CA1" || e.Status != 0 {
		t.Errorf("error = %+v", e)
	}
	if n := len(a.requests()); n != 0 {
		t.Fatalf("the denied app got %d requests", n)
	}
	// 0.0.0.0 connects to this host too: refused with any deny list.
	_, port, _ := net.SplitHostPort(a.Listener.Addr().String())
	_, err = c.Fetch(context.Background(), webhook.Request{URL: "http://0.0.0.0:" + port + "/voice"})
	wantDenied(t, err)
	if n := len(a.requests()); n != 0 {
		t.Fatalf("the app reached through 0.0.0.0 got %d requests", n)
	}
	// Callbacks obey it too.
	wantDenied(t, c.Deliver(context.Background(), webhook.Request{URL: a.URL + "/status"}))
}

func TestDenyAllowsOtherAddresses(t *testing.T) {
	a := newApp(t, nil)
	c := newClient(t, webhook.Config{Deny: prefixes(t, "10.0.0.0/8", "127.0.0.2/32", "::1/128")})
	resp, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL + "/voice"})
	if err != nil || resp.Kind != webhook.KindTwiML {
		t.Fatalf("fetch of an allowed address: %+v, %v", resp, err)
	}
}

func TestDenyIPv6(t *testing.T) {
	a := appOn(t, "[::1]:0", nil)
	c := newClient(t, webhook.Config{Deny: prefixes(t, "::1/128")})
	_, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL + "/voice"})
	wantDenied(t, err)

	// Only 127.0.0.0/8 denied: ::1 is another address, allowed; an
	// IPv4-mapped IPv6 literal of a denied IPv4 address is not.
	c = newClient(t, webhook.Config{Deny: prefixes(t, "127.0.0.0/8")})
	if _, err := c.Fetch(context.Background(), webhook.Request{URL: a.URL + "/voice"}); err != nil {
		t.Fatalf("::1 with only 127.0.0.0/8 denied: %v", err)
	}
	v4 := newApp(t, nil)
	_, port, _ := net.SplitHostPort(v4.Listener.Addr().String())
	_, err = c.Fetch(context.Background(), webhook.Request{URL: "http://[::ffff:127.0.0.1]:" + port + "/voice"})
	wantDenied(t, err)
	if n := len(v4.requests()); n != 0 {
		t.Fatalf("the app reached through ::ffff:127.0.0.1 got %d requests", n)
	}
}

func TestDenyRedirectToDeniedAddress(t *testing.T) {
	inside := appOn(t, "127.0.0.3:0", nil)
	outside := appOn(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL+"/secret", http.StatusFound)
	})
	c := newClient(t, webhook.Config{Deny: prefixes(t, "127.0.0.3/32")})
	_, err := c.Fetch(context.Background(), webhook.Request{URL: outside.URL + "/voice"})
	e := wantDenied(t, err)
	if e.URL != inside.URL+"/secret" {
		t.Errorf("error URL = %q, want the redirect's target", e.URL)
	}
	if len(outside.requests()) != 1 || len(inside.requests()) != 0 {
		t.Fatalf("requests: allowed app %d (want 1), denied app %d (want 0)", len(outside.requests()), len(inside.requests()))
	}
	// Without the deny list the same redirect reaches it: the denial, not
	// the setup, stopped it.
	if _, err := newClient(t, webhook.Config{}).Fetch(context.Background(), webhook.Request{URL: outside.URL + "/voice"}); err != nil {
		t.Fatal(err)
	}
	if len(inside.requests()) != 1 {
		t.Fatalf("without a deny list the redirect target got %d requests", len(inside.requests()))
	}
}

// fixedDNS answers every A query on a loopback UDP socket with ip, and every
// other query with no answer, so that any name resolves to ip.
func fixedDNS(t *testing.T, ip netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 512)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired})
			b.StartQuestions()
			b.Question(q)
			b.StartAnswers()
			if q.Type == dnsmessage.TypeA {
				b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: ip.As4()})
			}
			msg, err := b.Finish()
			if err != nil {
				continue
			}
			pc.WriteTo(msg, addr)
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

// A name that resolves to a denied address is refused: the check runs on the
// address connected to, not on the URL's host.
func TestDenyHostNameResolvingToDeniedAddress(t *testing.T) {
	a := newApp(t, nil)
	_, port, _ := net.SplitHostPort(a.Listener.Addr().String())
	r := fixedDNS(t, netip.MustParseAddr("127.0.0.1"))
	u := "http://app.example.com:" + port + "/voice"

	if _, err := newClient(t, webhook.Config{Resolver: r}).Fetch(context.Background(), webhook.Request{URL: u}); err != nil {
		t.Fatalf("without a deny list the name resolves and answers: %v", err)
	}
	c := newClient(t, webhook.Config{Resolver: r, Deny: prefixes(t, "127.0.0.0/8")})
	_, err := c.Fetch(context.Background(), webhook.Request{URL: u})
	e := wantDenied(t, err)
	if e.URL != u {
		t.Errorf("error URL = %q", e.URL)
	}
	if n := len(a.requests()); n != 1 {
		t.Fatalf("app got %d requests, want only the one made without a deny list", n)
	}
}

// A denied primary URL is a failed fetch like any other: the fallback URL is
// tried with ErrorCode 11205.
func TestDenyFallsBack(t *testing.T) {
	fallback := newApp(t, nil)
	c := newClient(t, webhook.Config{Deny: prefixes(t, "127.0.0.3/32")})
	resp, errs := c.FetchWithFallback(context.Background(),
		webhook.Request{URL: "http://127.0.0.3:9/voice", Params: url.Values{"CallSid": {"CA1"}}},
		webhook.Request{URL: fallback.URL + "/fallback"}, nil)
	if resp == nil || len(errs) != 1 {
		t.Fatalf("resp %+v, errs %v: want the fallback's answer after one error", resp, errs)
	}
	wantDenied(t, errs[0])
	got := fallback.requests()
	if len(got) != 1 || got[0].Form.Get("ErrorCode") != "11205" || got[0].Form.Get("ErrorUrl") != "http://127.0.0.3:9/voice" {
		t.Fatalf("fallback requests = %+v", got)
	}
}

func TestDeniedBy(t *testing.T) {
	deny := prefixes(t, "127.0.0.0/8", "fe80::/10", "::ffff:10.0.0.0/104")
	for _, tt := range []struct {
		ip   string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.255.1.2", true},
		{"::ffff:127.0.0.1", true}, // mapped form of a denied IPv4 address
		{"fe80::1%eth0", true},     // zone ignored
		{"10.1.2.3", true},         // IPv4 form of a mapped prefix
		{"128.0.0.1", false},
		{"::1", false},
		{"2001:db8::1", false},
	} {
		if _, got := webhook.DeniedBy(deny, netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("DeniedBy(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
	if webhook.DenyControl(nil) != nil {
		t.Error("DenyControl(nil) is not nil")
	}
	ctl := webhook.DenyControl(deny)
	if err := ctl("tcp4", "127.0.0.1:80", nil); !errors.Is(err, webhook.ErrDenied) {
		t.Errorf("control(127.0.0.1:80) = %v", err)
	}
	if err := ctl("tcp6", "[2001:db8::1]:443", nil); err != nil {
		t.Errorf("control([2001:db8::1]:443) = %v", err)
	}
	if err := ctl("tcp", "not-an-address", nil); !errors.Is(err, webhook.ErrDenied) {
		t.Errorf("control(unparsable) = %v, want denied", err)
	}
}
