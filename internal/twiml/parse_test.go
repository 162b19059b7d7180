package twiml

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t *testing.T, doc string) *Response {
	t.Helper()
	r, err := ParseBytes([]byte(doc))
	if err != nil {
		t.Fatalf("ParseBytes: %v", err)
	}
	return r
}

func errorsOf(t *testing.T, doc string) ErrorList {
	t.Helper()
	_, err := ParseBytes([]byte(doc))
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("want an ErrorList, got %v", err)
	}
	return list
}

// TestErrorPositions pins code and line:col for problems on different lines
// and columns, including a column after multi-byte characters (columns count
// characters, not bytes).
func TestErrorPositions(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"attribute on line 1", `<Response><Dial timeout="x">123</Dial></Response>`, "1:17: 13212"},
		{"attribute after kana", "<Response>\n<Say>こんにちは</Say><Pause length=\"x\"/></Response>", "2:24: 13910"},
		{"attribute on its own line", "<Response>\n <Gather\n   numDigits=\"0\"/>\n</Response>", "3:4: 13314"},
		{"element", "<Response>\n\n    <Bogus/>\n</Response>", "3:5: 12200"},
		{"root", "\n<Reply/>", "2:1: 12102"},
		{"unclosed at end", "<Response><Say>hi</Say>", "1:24: 12100"},
		{"byte order mark is no column", "\ufeff<Response><Bogus/></Response>", "1:11: 12200"},
		{"tab counts as one column", "<Response>\n\t<Play loop=\"-2\">a.mp3</Play></Response>", "2:8: 13410"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list := errorsOf(t, tt.doc)
			got := list[0].Error()
			if !strings.HasPrefix(got, tt.want+" ") {
				t.Errorf("got %q, want prefix %q", got, tt.want)
			}
		})
	}
}

// TestDefaults checks the defaults Twilio documents, as a parsed bare element
// and as New gives them.
func TestDefaults(t *testing.T) {
	r := mustParse(t, `<Response><Say>x</Say><Play>a.mp3</Play><Pause/><Gather/><Record/><Dial>123</Dial><Reject/><Enqueue>q</Enqueue><Dial><Conference>c</Conference></Dial></Response>`)
	say := r.Verbs[0].(*Say)
	play := r.Verbs[1].(*Play)
	pause := r.Verbs[2].(*Pause)
	g := r.Verbs[3].(*Gather)
	rec := r.Verbs[4].(*Record)
	d := r.Verbs[5].(*Dial)
	rej := r.Verbs[6].(*Reject)
	enq := r.Verbs[7].(*Enqueue)
	conf := r.Verbs[8].(*Dial).Nouns[0].(*Conference)
	checks := []struct {
		name      string
		got, want any
	}{
		{"Say voice", say.Voice, "man"}, {"Say language", say.Language, "en-US"}, {"Say loop", say.Loop, 1},
		{"Play loop", play.Loop, 1}, {"Pause length", pause.Length, 1},
		{"Gather timeout", g.Timeout, 5}, {"Gather finishOnKey", g.FinishOnKey, "#"}, {"Gather method", g.Method, "POST"},
		{"Gather input", strings.Join(g.Input, " "), "dtmf"}, {"Gather numDigits", g.NumDigits, 0},
		{"Gather profanityFilter", g.ProfanityFilter, true}, {"Gather bargeIn", g.BargeIn, true},
		{"Record maxLength", rec.MaxLength, 3600}, {"Record playBeep", rec.PlayBeep, true}, {"Record timeout", rec.Timeout, 5},
		{"Record finishOnKey", rec.FinishOnKey, "1234567890*#"}, {"Record trim", rec.Trim, "trim-silence"},
		{"Dial timeout", d.Timeout, 30}, {"Dial timeLimit", d.TimeLimit, 14400}, {"Dial record", d.Record, "do-not-record"},
		{"Dial hangupOnStar", d.HangupOnStar, false}, {"Dial recordingTrack", d.RecordingTrack, "both"},
		{"Reject reason", rej.Reason, "rejected"}, {"Enqueue waitUrlMethod", enq.WaitURLMethod, "POST"},
		{"Conference beep", conf.Beep, "true"}, {"Conference startConferenceOnEnter", conf.StartConferenceOnEnter, true},
		{"Conference endConferenceOnExit", conf.EndConferenceOnExit, false}, {"Conference muted", conf.Muted, false},
		{"Conference maxParticipants", conf.MaxParticipants, 250}, {"Conference waitMethod", conf.WaitMethod, "POST"},
		{"Conference jitterBufferSize", conf.JitterBufferSize, "large"}, {"Conference record", conf.Record, "do-not-record"},
		{"Conference trim", conf.Trim, "trim-silence"}, {"Conference waitUrl", conf.WaitURL, DefaultWaitURL},
		{"Conference recordingStatusCallbackEvent", strings.Join(conf.RecordingStatusCallbackEvent, " "), "completed"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if diff := cmp.Diff(New[Conference](), conf, ignorePos, cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".Name"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("New[Conference]() differs from a parsed bare <Conference> (-new +parsed):\n%s", diff)
	}
}

// TestWaitURLEmpty: waitUrl="" is valid and means silence; it must stay
// distinguishable from no waitUrl (hold music) through a round trip (000_*).
func TestWaitURLEmpty(t *testing.T) {
	r := mustParse(t, `<Response><Dial><Conference waitUrl="">a</Conference></Dial><Dial><Conference>b</Conference></Dial></Response>`)
	silent := r.Verbs[0].(*Dial).Nouns[0].(*Conference)
	music := r.Verbs[1].(*Dial).Nouns[0].(*Conference)
	if silent.WaitURL != "" || !silent.IsSet("waitUrl") {
		t.Errorf("waitUrl=\"\": got %q set=%v, want empty and set", silent.WaitURL, silent.IsSet("waitUrl"))
	}
	if music.WaitURL != DefaultWaitURL || music.IsSet("waitUrl") {
		t.Errorf("no waitUrl: got %q set=%v, want default and not set", music.WaitURL, music.IsSet("waitUrl"))
	}
	out, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`<Conference waitUrl="">a</Conference>`)) || !bytes.Contains(out, []byte(`<Conference>b</Conference>`)) {
		t.Errorf("written document lost the distinction:\n%s", out)
	}
}

// TestLimits checks the size cap, the nesting cap and the counted limits
// around their edges.
func TestLimits(t *testing.T) {
	pad := func(n int) string {
		head, tail := "<Response><Say>", "</Say></Response>"
		return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
	}
	nest := func(depth int) string { // Response + Say + (depth-2) prosody
		return "<Response><Say>" + strings.Repeat("<prosody>", depth-2) + "x" + strings.Repeat("</prosody>", depth-2) + "</Say></Response>"
	}
	label := func(n int) string {
		return `<Response><Dial><Conference participantLabel="` + strings.Repeat("é", n) + `">r</Conference></Dial></Response>`
	}
	sip := func(uri string) string { return "<Response><Dial><Sip>" + uri + "</Sip></Dial></Response>" }
	tests := []struct {
		name string
		doc  string
		code int // 0: valid
	}{
		{"64 kB exactly", pad(MaxDocumentSize), CodeSayTooLong},
		{"64 kB + 1", pad(MaxDocumentSize + 1), CodeResponseTooLarge},
		{"depth at the cap", nest(MaxDepth), 0},
		{"depth over the cap", nest(MaxDepth + 1), CodeParseFailure},
		{"label 128 characters", label(128), 0},
		{"label 129 characters", label(129), CodeConfLabel},
		{"sip URI 255", sip("sip:" + strings.Repeat("u", 255-4-12) + "@example.com"), 0},
		{"sip URI 256", sip("sip:" + strings.Repeat("u", 256-4-12) + "@example.com"), CodeSipURI},
		{"sip headers 1024", sip("sip:a@example.com?X-H=" + strings.Repeat("h", 1024-4)), 0},
		{"sip headers 1025", sip("sip:a@example.com?X-H=" + strings.Repeat("h", 1025-4)), CodeSipHeaderTooLong},
		{"maxParticipants 2", `<Response><Dial><Conference maxParticipants="2">r</Conference></Dial></Response>`, 0},
		{"maxParticipants 250", `<Response><Dial><Conference maxParticipants="250">r</Conference></Dial></Response>`, 0},
		{"say 4096", "<Response><Say>" + strings.Repeat("ア", MaxSayLength) + "</Say></Response>", 0},
		{"say 4097", "<Response><Say>" + strings.Repeat("ア", MaxSayLength+1) + "</Say></Response>", CodeSayTooLong},
		{"queue name 64", "<Response><Enqueue>" + strings.Repeat("q", 64) + "</Enqueue></Response>", 0},
		{"huge integer", `<Response><Dial timeout="99999999999999999999">1234</Dial></Response>`, CodeDialTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.doc))
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var list ErrorList
			if !errors.As(err, &list) || list[0].Code != tt.code {
				t.Fatalf("want code %d, got %v", tt.code, err)
			}
		})
	}
}

// TestSentinels checks errors.Is on the kinds of failure.
func TestSentinels(t *testing.T) {
	tests := []struct {
		doc  string
		want error
	}{
		{"<Response>", ErrParse},
		{"<Other/>", ErrParse},
		{"<Response><Foo/></Response>", ErrSchema},
		{"<Response><Say>" + strings.Repeat("x", MaxDocumentSize) + "</Say></Response>", ErrTooLarge},
	}
	for _, tt := range tests {
		_, err := ParseBytes([]byte(tt.doc))
		if !errors.Is(err, tt.want) {
			t.Errorf("%.40q: errors.Is(%v, %v) = false", tt.doc, err, tt.want)
		}
		for _, other := range []error{ErrParse, ErrSchema, ErrTooLarge} {
			if other != tt.want && errors.Is(err, other) {
				t.Errorf("%.40q: also matches %v", tt.doc, other)
			}
		}
	}
}

// TestReaderError: an I/O error is returned wrapped, not as a TwiML error.
func TestReaderError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Parse(iotest.ErrReader(boom))
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want it to wrap boom", err)
	}
	var list ErrorList
	if errors.As(err, &list) {
		t.Fatalf("an I/O error must not be an ErrorList")
	}
	// Reading stops at the cap: a reader that never ends is not read forever.
	_, err = Parse(io.LimitReader(infinite{}, 10*MaxDocumentSize))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("endless input: got %v", err)
	}
}

type infinite struct{}

func (infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// TestMarshalBuilt writes a model built in code, checks the document, and
// validates models with out-of-range values.
func TestMarshalBuilt(t *testing.T) {
	d := New[Dial]()
	d.Timeout = 20
	c := New[Conference]()
	c.Name = "Room & Co"
	c.Beep = "onEnter"
	c.WaitURL = ""
	d.Nouns = []Noun{c}
	say := New[Say]()
	say.Content = []Content{Text(`He said "hi" <loudly>`)}
	r := &Response{Verbs: []Verb{say, d, New[Hangup]()}}
	out, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say>He said "hi" &lt;loudly&gt;</Say>
  <Dial timeout="20">
    <Conference beep="onEnter" waitUrl="">Room &amp; Co</Conference>
  </Dial>
  <Hangup/>
</Response>
`
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("Marshal (-want +got):\n%s", diff)
	}
	if err := Validate(r); err != nil {
		t.Errorf("Validate: %v", err)
	}

	c.MaxParticipants = 500
	err = Validate(r)
	var list ErrorList
	if !errors.As(err, &list) || list[0].Code != CodeConfAttributes {
		t.Errorf("Validate with maxParticipants 500: got %v, want 16002", err)
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		r    *Response
		want error
	}{
		{"nil response", nil, ErrBadNode},
		{"nil verb", &Response{Verbs: []Verb{(*Say)(nil)}}, ErrBadNode},
		{"NUL in text", &Response{Verbs: []Verb{&Say{Content: []Content{Text("a\x00b")}}}}, ErrInvalidChar},
		{"invalid UTF-8", &Response{Verbs: []Verb{&Redirect{URL: "/\xff"}}}, ErrInvalidChar},
		{"bad element name", &Response{Verbs: []Verb{&Element{Name: "a b"}}}, ErrInvalidChar},
		{"nil parameter", &Response{Verbs: []Verb{&Hangup{Parameters: []*Parameter{nil}}}}, ErrBadNode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Marshal(tt.r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestIgnoredAndPassThrough: unknown attributes vanish; Twilio elements that
// switchboard does not run are kept whole.
func TestIgnoredAndPassThrough(t *testing.T) {
	r := mustParse(t, `<Response><Hangup foo="bar"/><Pay chargeAmount="1"><Prompt for="payment-card-number"><Say>card</Say></Prompt></Pay></Response>`)
	h := r.Verbs[0].(*Hangup)
	if len(h.Present) != 0 {
		t.Errorf("unknown attribute recorded: %v", h.Present)
	}
	pay, ok := r.Verbs[1].(*Element)
	if !ok || pay.Name != "Pay" || pay.Text() != "card" {
		t.Fatalf("Pay not kept: %#v", r.Verbs[1])
	}
	if v, _ := pay.Attr("chargeAmount"); v != "1" {
		t.Errorf("chargeAmount = %q", v)
	}
	out, _ := Marshal(r)
	if !bytes.Contains(out, []byte(`<Pay chargeAmount="1"><Prompt for="payment-card-number"><Say>card</Say></Prompt></Pay>`)) {
		t.Errorf("Pay not written back:\n%s", out)
	}
}

func TestSayText(t *testing.T) {
	r := mustParse(t, `<Response><Say>Hello <break time="1s"/><emphasis>big</emphasis> world</Say></Response>`)
	if got := r.Verbs[0].(*Say).Text(); got != "Hello big world" {
		t.Errorf("Text() = %q", got)
	}
}
