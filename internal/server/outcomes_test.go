package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard-voice/switchboard/internal/config"
	"github.com/switchboard-voice/switchboard/internal/media"
	"github.com/switchboard-voice/switchboard/internal/media/wav"
	"github.com/switchboard-voice/switchboard/internal/server"
	"github.com/switchboard-voice/switchboard/internal/sipptest"
	"github.com/switchboard-voice/switchboard/internal/softphone"
)

// newEnvWith is newEnv with the configuration changed by tweak first (CPS,
// the database...).
func newEnvWith(t *testing.T, opts server.Options, tweak func(*config.Serve)) *env {
	t.Helper()
	e, _ := startEnv(t, opts, tweak)
	return e
}

// startEnv is newEnvWith that also returns a function stopping the server
// (waiting for its Run to return), for tests that stop one early; it is
// called at the end of the test otherwise.
func startEnv(t *testing.T, opts server.Options, tweak func(*config.Serve)) (*env, func()) {
	t.Helper()
	cfg := testConfig(t.TempDir())
	if tweak != nil {
		tweak(&cfg)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(context.Background())
	// The tests share a machine loaded by other packages' tests: its stalls
	// must not refuse their calls (overload_internal_test.go tests the rule).
	opts.IgnorePacer = true
	srv, err := server.New(ctx, cfg, log, io.Discard, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("server Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("server did not stop within 30 s")
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-srv.Started():
	case <-time.After(10 * time.Second):
		t.Fatal("server not listening within 10 s")
	}
	phone, err := softphone.Start(softphone.Config{Logger: log.With("part", "softphone")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { phone.Close() })
	return &env{t: t, data: cfg.Data, srv: srv, app: newApp(t), phone: phone}, stop
}

// uas is a SIPp user agent server running in the background.
type uas struct {
	port int
	done chan struct{} // closed when sipp exits
	err  error         // its exit error, once done
	out  *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startUAS runs SIPp as a UAS with the scenario file of testdata for calls
// calls on a free loopback port, bounded in time (-timeout); code, when not
// 0, replaces [code] in the scenario (SIPp's -key cannot set a status code: it
// checks codes before substituting keys). It is killed at the end of the test
// if still running.
func startUAS(t *testing.T, scenario string, calls, code int) *uas {
	t.Helper()
	return startUASWith(t, scenario, calls, code)
}

// startUASWith is startUAS with more SIPp options (-rtp_echo...).
func startUASWith(t *testing.T, scenario string, calls, code int, extra ...string) *uas {
	t.Helper()
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("sipp (Debian sip-tester) is not installed")
	}
	b, err := os.ReadFile(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		b = []byte(strings.ReplaceAll(string(b), "[code]", strconv.Itoa(code)))
	}
	dir := t.TempDir()
	sf := filepath.Join(dir, scenario)
	if err := os.WriteFile(sf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	u := &uas{port: sipptest.FreeUDPPort(t), done: make(chan struct{}), out: &lockedBuffer{}}
	args := []string{"-sf", sf, "-m", strconv.Itoa(calls),
		"-i", "127.0.0.1", "-p", strconv.Itoa(u.port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(sipptest.MediaPort(t)),
		"-timeout", "60s", "-timeout_error", "-nostdin"}
	args = append(args, extra...)
	cmd := exec.Command(sipp, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = u.out, u.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		u.err = cmd.Wait()
		close(u.done)
	}()
	t.Cleanup(func() {
		select {
		case <-u.done:
		default:
			cmd.Process.Kill()
			<-u.done
		}
	})
	// Wait until SIPp has bound its port (an INVITE sent before would be
	// retransmitted anyway).
	deadline := time.Now().Add(5 * time.Second)
	for !udpPortTaken(u.port) {
		select {
		case <-u.done:
			t.Fatalf("sipp UAS exited: %v\n%s", u.err, u.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sipp UAS not listening on %d within 5 s\n%s", u.port, u.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return u
}

func udpPortTaken(port int) bool {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		return true
	}
	c.Close()
	return false
}

// wait waits for SIPp to end and reports whether every call went as its
// scenario says.
func (u *uas) wait(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-u.done:
	case <-time.After(within):
		t.Errorf("sipp UAS still running after %v", within)
		return
	}
	if u.err != nil {
		out := u.out.String()
		if len(out) > 3000 {
			out = out[len(out)-3000:]
		}
		t.Errorf("sipp UAS: %v\n%s", u.err, out)
	}
}

// statusLog records the status callbacks the app gets, with their arrival
// times and the User-Agent they came with.
type statusLog struct {
	mu   sync.Mutex
	got  []statusHit
	wake chan struct{}
}

type statusHit struct {
	At        time.Time
	CallSID   string
	Status    string
	Seq       int
	UserAgent string
	Params    map[string]string
}

func newStatusLog() *statusLog { return &statusLog{wake: make(chan struct{}, 1)} }

// handler answers 204 after recording the request.
func (s *statusLog) handler(w http.ResponseWriter, r *http.Request) {
	s.record(r)
	w.WriteHeader(http.StatusNoContent)
}

func (s *statusLog) record(r *http.Request) {
	r.ParseForm()
	p := map[string]string{}
	for k := range r.Form {
		p[k] = r.Form.Get(k)
	}
	seq, err := strconv.Atoi(p["SequenceNumber"])
	if err != nil {
		seq = -1
	}
	s.mu.Lock()
	s.got = append(s.got, statusHit{At: time.Now(), CallSID: p["CallSid"], Status: p["CallStatus"], Seq: seq, UserAgent: r.UserAgent(), Params: p})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *statusLog) all() []statusHit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]statusHit(nil), s.got...)
}

// waitUntil waits until cond holds for the hits so far, within d.
func (s *statusLog) waitUntil(t *testing.T, d time.Duration, what string, cond func([]statusHit) bool) []statusHit {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		hits := s.all()
		if cond(hits) {
			return hits
		}
		select {
		case <-s.wake:
		case <-time.After(200 * time.Millisecond):
		case <-deadline.C:
			hits = s.all()
			t.Fatalf("%s: not within %v; %d callbacks: %s", what, d, len(hits), describeHits(hits))
		}
	}
}

func describeHits(hits []statusHit) string {
	var b strings.Builder
	for _, h := range hits {
		fmt.Fprintf(&b, "\n  %s %s seq=%d sip=%s", h.CallSID, h.Status, h.Seq, h.Params["SipResponseCode"])
	}
	return b.String()
}

var allEvents = []string{"initiated", "ringing", "answered", "completed"}

// Calls to a SIP endpoint that does not answer end with the status Twilio
// gives each outcome, seen in the call record and in the status callbacks:
// 486 busy, 404 and 503 failed, a ring timeout no-answer (after a CANCEL),
// and a closed port failed.
func TestCreateCallOutcomes(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	for _, tc := range []struct {
		name     string
		scenario string
		code     int    // the UAS's final status
		timeout  string // CreateCall's Timeout
		status   string
		sipCode  string // SipResponseCode on the completed callback
		ringing  bool   // a ringing event is expected
	}{
		{name: "486 busy", scenario: "sipp_uas_final.xml", code: 486, status: "busy", sipCode: "486"},
		{name: "600 busy everywhere", scenario: "sipp_uas_final.xml", code: 600, status: "busy", sipCode: "600"},
		{name: "404 failed", scenario: "sipp_uas_final.xml", code: 404, status: "failed", sipCode: "404"},
		{name: "503 failed", scenario: "sipp_uas_final.xml", code: 503, status: "failed", sipCode: "503"},
		{name: "480 no-answer", scenario: "sipp_uas_final.xml", code: 480, status: "no-answer", sipCode: "480"},
		{name: "ring timeout no-answer", scenario: "sipp_uas_ring.xml", timeout: "2", status: "no-answer", sipCode: "487", ringing: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, server.Options{})
			st := newStatusLog()
			e.app.handle("/status", st.handler)
			u := startUAS(t, tc.scenario, 1, tc.code)
			to := fmt.Sprintf("sip:uas@127.0.0.1:%d", u.port)
			params := &openapi.CreateCallParams{
				To: &to, From: ptr("+15557654321"), Twiml: ptr(`<Response><Say>never heard</Say></Response>`),
				StatusCallback: ptr(e.app.url("/status")), StatusCallbackEvent: &allEvents,
			}
			if tc.timeout != "" {
				n, _ := strconv.Atoi(tc.timeout)
				params.SetTimeout(n)
			}
			start := time.Now()
			call, err := e.rest().Api.CreateCall(params)
			if err != nil {
				t.Fatal(err)
			}
			if *call.Status != "queued" {
				t.Errorf("created call status %s, want queued", *call.Status)
			}
			checkOutcome(t, e, st, *call.Sid, tc.status, tc.sipCode, tc.ringing)
			u.wait(t, 20*time.Second)
			if tc.timeout != "" {
				if d := time.Since(start); d < 2*time.Second || d > 10*time.Second {
					t.Errorf("the call gave up after %v, want about Timeout=2 s", d)
				}
			}
		})
	}

	// Nothing listens on the port: ICMP port unreachable, or silence. The
	// call must fail (Twilio: failed, not no-answer), within the time SIP
	// gives a transaction (Timer B, 32 s).
	t.Run("closed port failed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, server.Options{})
		st := newStatusLog()
		e.app.handle("/status", st.handler)
		to := fmt.Sprintf("sip:nobody@127.0.0.1:%d", sipptest.FreeUDPPort(t))
		call, err := e.rest().Api.CreateCall(&openapi.CreateCallParams{
			To: &to, From: ptr("+15557654321"), Twiml: ptr(`<Response><Hangup/></Response>`),
			StatusCallback: ptr(e.app.url("/status")), StatusCallbackEvent: &allEvents,
		})
		if err != nil {
			t.Fatal(err)
		}
		final := st.waitUntil(t, 45*time.Second, "final callback", func(h []statusHit) bool {
			return len(h) > 0 && h[len(h)-1].Status != "initiated" && h[len(h)-1].Status != "ringing"
		})
		got, err := e.rest().Api.FetchCall(*call.Sid, nil)
		if err != nil {
			t.Fatal(err)
		}
		last := final[len(final)-1]
		t.Logf("closed port: record %s, callbacks %s", *got.Status, describeHits(final))
		if *got.Status != "failed" || last.Status != "failed" {
			t.Errorf("a call to a closed port ended %s (callback %s, SipResponseCode %q), want failed",
				*got.Status, last.Status, last.Params["SipResponseCode"])
		}
	})
}

// checkOutcome waits for the call's final callback and checks it, the ones
// before it and the call record.
func checkOutcome(t *testing.T, e *env, st *statusLog, callSID, status, sipCode string, ringing bool) {
	t.Helper()
	hits := st.waitUntil(t, 30*time.Second, "final status callback", func(h []statusHit) bool {
		for _, x := range h {
			if x.Params["CallDuration"] != "" {
				return true
			}
		}
		return false
	})
	time.Sleep(300 * time.Millisecond) // anything after the final one would be an error
	hits = st.all()
	want := []string{"initiated"}
	if ringing {
		want = append(want, "ringing")
	}
	want = append(want, status)
	var names []string
	for _, h := range hits {
		names = append(names, h.Status)
	}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("callbacks %v, want %v%s", names, want, describeHits(hits))
	}
	for i, h := range hits {
		p := h.Params
		if h.CallSID != callSID || h.Seq != i || p["CallbackSource"] != "call-progress-events" ||
			p["Direction"] != "outbound-api" || p["Timestamp"] == "" || p["AccountSid"] != testSID {
			t.Errorf("callback %d: %v", i, p)
		}
		final := i == len(hits)-1
		if !final && (p["SipResponseCode"] != "" || p["CallDuration"] != "") {
			t.Errorf("callback %d (%s) carries SipResponseCode %q CallDuration %q", i, h.Status, p["SipResponseCode"], p["CallDuration"])
		}
		if final {
			if p["SipResponseCode"] != sipCode {
				t.Errorf("final callback SipResponseCode %q, want %q", p["SipResponseCode"], sipCode)
			}
			if p["CallDuration"] != "0" {
				t.Errorf("final callback CallDuration %q, want 0", p["CallDuration"])
			}
		}
	}
	for _, r := range e.app.got("/status") {
		if !r.Valid {
			t.Errorf("status callback with a bad signature: %v", r.Params)
		}
	}
	got, err := e.rest().Api.FetchCall(callSID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Status != status || got.Duration == nil || *got.Duration != "0" || got.EndTime == nil {
		t.Errorf("call record: status %s duration %v end %v, want %s, 0", *got.Status, deref(got.Duration), got.EndTime, status)
	}
	if len(e.app.got("/voice")) != 0 {
		t.Error("TwiML fetched for a call never answered")
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// baresip, an independent SIP phone, answers a call placed with CreateCall:
// it hears the <Play>ed tone, and the call completes.
func TestCreateCallToBaresip(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Skip("baresip is not installed")
	}
	e := newEnv(t, server.Options{})
	st := newStatusLog()
	e.app.handle("/status", st.handler)
	e.serveTone("/tone.wav", 1000, 2*time.Second)

	// What baresip sends: a 400 Hz tone, long enough not to end the call.
	source := toneWAV(t, 400, 15*time.Second, 8000)
	var dir string
	var sipPort int
	var out *lockedBuffer
	for attempt := 1; ; attempt++ {
		var ok bool
		dir, sipPort, out, ok = startBaresip(t, bin, source)
		if ok {
			break
		}
		if attempt == 3 {
			t.Fatalf("baresip did not start:\n%s", out.String())
		}
	}

	to := fmt.Sprintf("sip:bob@127.0.0.1:%d", sipPort)
	call, err := e.rest().Api.CreateCall(&openapi.CreateCallParams{
		To: &to, From: ptr("+15557654321"),
		Twiml:          ptr(`<Response><Play>` + e.app.url("/tone.wav") + `</Play></Response>`),
		StatusCallback: ptr(e.app.url("/status")), StatusCallbackEvent: &allEvents,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := e.waitStatus(*call.Sid, "completed")
	if d, _ := strconv.Atoi(deref(got.Duration)); d < 1 || d > 5 {
		t.Errorf("call lasted %s s, want about 2", deref(got.Duration))
	}
	hits := st.waitUntil(t, 10*time.Second, "completed callback", func(h []statusHit) bool {
		return len(h) > 0 && h[len(h)-1].Status == "completed"
	})
	var names []string
	for _, h := range hits {
		names = append(names, h.Status)
	}
	if j := strings.Join(names, ","); j != "initiated,ringing,in-progress,completed" && j != "initiated,in-progress,completed" {
		t.Errorf("callbacks %v", names)
	}

	s := baresipHeard(t, dir, out)
	v := voiced(s)
	t.Logf("baresip heard %d samples, %d voiced", len(s), len(v))
	if len(v) < 3*media.SampleRate/2 || !dominant(v, 1000) {
		t.Errorf("baresip heard %d voiced samples; 1 kHz dominant %v", len(v), dominant(v, 1000))
	}
}

// With --cps 2, twenty calls created at once are all accepted (queued) at
// once, then placed one every half second: the initiated callbacks span
// about 9.5 s, never two within 0.4 s; every call ends busy.
func TestCreateCallCPSLimit(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	const calls = 20
	e := newEnvWith(t, server.Options{}, func(c *config.Serve) { c.CPS = 2 })
	st := newStatusLog()
	e.app.handle("/status", st.handler)
	u := startUAS(t, "sipp_uas_final.xml", calls, 486)
	to := fmt.Sprintf("sip:uas@127.0.0.1:%d", u.port)

	rest := e.rest()
	sids := make([]string, calls)
	errs := make([]error, calls)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := rest.Api.CreateCall(&openapi.CreateCallParams{
				To: &to, From: ptr("+15557654321"), Twiml: ptr(`<Response><Hangup/></Response>`),
				StatusCallback: ptr(e.app.url("/status")), StatusCallbackEvent: &[]string{"initiated", "completed"},
			})
			if err != nil {
				errs[i] = err
				return
			}
			if *c.Status != "queued" {
				errs[i] = fmt.Errorf("created with status %s", *c.Status)
			}
			sids[i] = *c.Sid
		}()
	}
	wg.Wait()
	created := time.Since(start)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("CreateCall %d: %v", i, err)
		}
	}
	if created > 5*time.Second {
		t.Errorf("creating %d calls took %v: creation must not wait for the rate limit", calls, created)
	}

	hits := st.waitUntil(t, 40*time.Second, "all completed callbacks", func(h []statusHit) bool {
		n := 0
		for _, x := range h {
			if x.Params["CallDuration"] != "" {
				n++
			}
		}
		return n >= calls
	})
	var initiated []time.Time
	final := map[string]string{}
	for _, h := range hits {
		switch {
		case h.Status == "initiated":
			initiated = append(initiated, h.At)
		case h.Params["CallDuration"] != "":
			final[h.CallSID] = h.Status
		}
	}
	if len(initiated) != calls {
		t.Fatalf("%d initiated callbacks, want %d", len(initiated), calls)
	}
	sort.Slice(initiated, func(i, j int) bool { return initiated[i].Before(initiated[j]) })
	span := initiated[calls-1].Sub(initiated[0])
	minGap := time.Hour
	var gaps []string
	for i := 1; i < calls; i++ {
		g := initiated[i].Sub(initiated[i-1])
		minGap = min(minGap, g)
		gaps = append(gaps, g.Round(10*time.Millisecond).String())
	}
	t.Logf("initiated callbacks span %v, gaps %v", span, gaps)
	if span < 9*time.Second-300*time.Millisecond {
		t.Errorf("initiated callbacks span %v, want at least 9 s (19 turns of 0.5 s)", span)
	}
	// Arrival times carry the delivery's jitter (the first callbacks
	// compete with twenty call records being written): the spacing of the
	// calls themselves is checked on their start times as recorded.
	if minGap < 250*time.Millisecond {
		t.Errorf("two initiated callbacks arrived %v apart, want about 0.5 s at 2 CPS", minGap)
	}
	var starts []time.Time
	for _, s := range sids {
		c, err := e.srv.Store().Call(context.Background(), testSID, s)
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, c.StartTime)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	gaps = gaps[:0]
	minGap = time.Hour
	for i := 1; i < calls; i++ {
		g := starts[i].Sub(starts[i-1])
		minGap = min(minGap, g)
		gaps = append(gaps, g.Round(10*time.Millisecond).String())
	}
	t.Logf("calls started over %v, gaps %v", starts[calls-1].Sub(starts[0]), gaps)
	if minGap < 400*time.Millisecond {
		t.Errorf("two calls started %v apart, want at least about 0.5 s at 2 CPS", minGap)
	}
	for _, s := range sids {
		if final[s] != "busy" {
			t.Errorf("call %s ended %q, want busy", s, final[s])
		}
		if c, err := rest.Api.FetchCall(s, nil); err != nil || *c.Status != "busy" {
			t.Errorf("call record %s: %v %v", s, c, err)
		}
	}
	u.wait(t, 20*time.Second)
}

// baresipHeard reads what baresip heard: sndfile writes dump-*-dec.wav
// once the call is closed.
func baresipHeard(t *testing.T, dir string, out *lockedBuffer) []int16 {
	t.Helper()
	var dump string
	deadline := time.Now().Add(10 * time.Second)
	for dump == "" {
		m, _ := filepath.Glob(filepath.Join(dir, "dump-*-dec.wav"))
		if len(m) > 0 {
			dump = m[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dump-*-dec.wav in %s:\n%s", dir, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	var s []int16
	var format wav.Format
	deadline = time.Now().Add(5 * time.Second)
	for {
		f, err := os.Open(dump)
		if err != nil {
			t.Fatal(err)
		}
		format, s, err = wav.ReadAll(f)
		f.Close()
		if err == nil && len(s) > media.SampleRate {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("read %s: %v (%d samples)", dump, err, len(s))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if format.SampleRate != media.SampleRate || format.Channels != 1 {
		t.Fatalf("dump format %v", format)
	}
	return s
}

// startBaresip runs baresip answering bob@127.0.0.1:PORT at once (a port free
// for UDP and TCP, which it binds both), sending source and recording what
// it hears to dump-*-dec.wav in its directory; it is killed at the end of
// the test. ok is false when it could not start (a port was taken
// meanwhile): try again.
func startBaresip(t *testing.T, bin, source string) (dir string, port int, out *lockedBuffer, ok bool) {
	t.Helper()
	dir = t.TempDir()
	port = freeTCPUDPPort(t)
	rtp := 44000 + (port%50)*20
	conf := fmt.Sprintf(`poll_method		poll
sip_listen		127.0.0.1:%d
net_interface		127.0.0.1
audio_player		aubridge,nil
audio_source		aufile,%s
audio_alert		aubridge,nil
rtp_ports		%d-%d
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			aubridge.so
module			sndfile.so
module_app		account.so
module_app		menu.so
snd_path		%s
`, port, source, rtp, rtp+19, dir)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	acct := fmt.Sprintf("<sip:bob@127.0.0.1:%d>;answermode=auto;audio_codecs=PCMU,PCMA;regint=0\n", port)
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(acct), 0o644); err != nil {
		t.Fatal(err)
	}
	out = &lockedBuffer{}
	// -t bounds its life; the test kills it before.
	cmd := exec.Command(bin, "-f", dir, "-t", "60")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("baresip output:\n%s", out.String())
		}
	})
	deadline := time.After(10 * time.Second)
	for !strings.Contains(out.String(), "baresip is ready.") {
		select {
		case <-exited:
			return dir, port, out, false
		case <-deadline:
			t.Fatalf("baresip not ready within 10 s:\n%s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return dir, port, out, true
}

// freeTCPUDPPort returns a loopback port free for both TCP and UDP.
func freeTCPUDPPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		l.Close()
		if err == nil {
			c.Close()
			return port
		}
	}
	t.Fatal("no port free for both TCP and UDP")
	return 0
}

// Calls created at once with room under the rate limit are dialed while the
// API still writes its answer: the answer is the record as created (queued),
// whatever the call's own goroutine does meanwhile (run with -race).
func TestCreateCallAnswerWhileDialing(t *testing.T) {
	t.Parallel()
	needSIPp(t)
	const calls = 30
	e := newEnvWith(t, server.Options{}, func(c *config.Serve) { c.CPS = 1000 })
	st := newStatusLog()
	e.app.handle("/status", st.handler)
	u := startUAS(t, "sipp_uas_final.xml", calls, 486)
	to := fmt.Sprintf("sip:uas@127.0.0.1:%d", u.port)
	rest := e.rest()
	var wg sync.WaitGroup
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := rest.Api.CreateCall(&openapi.CreateCallParams{
				To: &to, From: ptr("+15557654321"), Twiml: ptr(`<Response><Hangup/></Response>`),
				StatusCallback: ptr(e.app.url("/status")),
			})
			if err != nil {
				t.Error(err)
				return
			}
			if *c.Status != "queued" || c.StartTime != nil {
				t.Errorf("created call: status %s start %v, want queued and not started", *c.Status, deref(c.StartTime))
			}
		}()
	}
	wg.Wait()
	hits := st.waitUntil(t, 30*time.Second, "completed callbacks", func(h []statusHit) bool { return len(h) >= calls })
	for _, h := range hits {
		if h.Status != "busy" {
			t.Errorf("call %s ended %s, want busy", h.CallSID, h.Status)
		}
	}
	u.wait(t, 20*time.Second)
}
