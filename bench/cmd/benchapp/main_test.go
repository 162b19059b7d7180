package main

import (
	"encoding/binary"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// twimlDoc is the shape of the documents the app answers, for checking them
// with an independent XML parser.
type twimlDoc struct {
	XMLName xml.Name `xml:"Response"`
	Verbs   []struct {
		XMLName xml.Name
		Loop    string `xml:"loop,attr"`
		Text    string `xml:",chardata"`
	} `xml:",any"`
}

func parseDoc(t *testing.T, b []byte) twimlDoc {
	t.Helper()
	var d twimlDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("the TwiML does not parse: %v\n%s", err, b)
	}
	return d
}

func TestDocument(t *testing.T) {
	tests := []struct {
		mode, text string
		dial       string
		verbs      []string // name=text (loop)
		err        error
	}{
		{mode: "say", text: "Hello.", verbs: []string{"Say=Hello.", "Hangup="}},
		{mode: "say", text: `Tom & Jerry <say> "hi"`, verbs: []string{`Say=Tom & Jerry <say> "hi"`, "Hangup="}},
		{mode: "say", text: "日本語です", verbs: []string{"Say=日本語です", "Hangup="}},
		{mode: "hangup", verbs: []string{"Hangup="}},
		{mode: "play", verbs: []string{"Play=/loop.wav (0)"}},
		{mode: "say", text: "bell\a", err: errControl},
		{mode: "dial", dial: "sip:uas@127.0.0.1:5080", verbs: []string{"Dial="}},
		{mode: "dial", dial: "sip:uas@127.0.0.1:5080;x=<&>", verbs: []string{"Dial="}},
		{mode: "dial", err: errDial},
		{mode: "dial", dial: "tel:+14155550100", err: errDial},
		{mode: "conference", err: errMode},
		{mode: "", err: errMode},
	}
	for _, tt := range tests {
		t.Run(tt.mode+"/"+tt.text, func(t *testing.T) {
			b, err := document(tt.mode, tt.text, tt.dial)
			if !errors.Is(err, tt.err) {
				t.Fatalf("document(%q, %q) error %v, want %v", tt.mode, tt.text, err, tt.err)
			}
			if tt.err != nil {
				return
			}
			var got []string
			for _, v := range parseDoc(t, b).Verbs {
				s := v.XMLName.Local + "=" + v.Text
				if v.Loop != "" {
					s += " (" + v.Loop + ")"
				}
				got = append(got, s)
			}
			if strings.Join(got, "|") != strings.Join(tt.verbs, "|") {
				t.Errorf("verbs %q, want %q\n%s", got, tt.verbs, b)
			}
		})
	}
}

// FuzzDocument: whatever -text is, the app either refuses it or answers a
// document that parses, with the text intact in <Say>.
func FuzzDocument(f *testing.F) {
	for _, s := range []string{"Hello.", "a & b", "<Say>", "]]>", "\x00", "\t\n", "ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		b, err := document("say", text, "")
		if err != nil {
			if !errors.Is(err, errControl) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !utf8.ValidString(text) {
			return // encoding/xml replaces invalid UTF-8; espeak-ng would too
		}
		d := parseDoc(t, b)
		if len(d.Verbs) != 2 || d.Verbs[0].XMLName.Local != "Say" {
			t.Fatalf("verbs %+v", d.Verbs)
		}
		// XML normalises line ends (XML 1.0 section 2.11).
		want := strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
		if d.Verbs[0].Text != want {
			t.Fatalf("Say text %q, want %q", d.Verbs[0].Text, want)
		}
	})
}

func TestToneWAV(t *testing.T) {
	b := toneWAV(440, 2*time.Second)
	le := binary.LittleEndian
	if string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
		t.Fatalf("not a canonical RIFF/WAVE header: % x", b[:44])
	}
	if got := le.Uint32(b[4:]); int(got) != len(b)-8 {
		t.Errorf("RIFF size %d, want %d", got, len(b)-8)
	}
	if f, ch, rate, bits := le.Uint16(b[20:]), le.Uint16(b[22:]), le.Uint32(b[24:]), le.Uint16(b[34:]); f != 1 || ch != 1 || rate != 8000 || bits != 16 {
		t.Errorf("format %d, %d channels, %d Hz, %d bits; want PCM mono 8000 Hz 16-bit", f, ch, rate, bits)
	}
	if got := le.Uint32(b[40:]); got != 2*2*8000 {
		t.Errorf("data size %d, want %d (2 s)", got, 2*2*8000)
	}
	// A 440 Hz tone crosses zero 880 times a second; peak near half scale.
	var crossings, peak int
	prev := int16(0)
	for i := 44; i+1 < len(b); i += 2 {
		s := int16(le.Uint16(b[i:]))
		if (prev < 0) != (s < 0) {
			crossings++
		}
		prev = s
		peak = max(peak, int(s))
	}
	if crossings < 1750 || crossings > 1770 {
		t.Errorf("%d zero crossings in 2 s, want ~1760 (440 Hz)", crossings)
	}
	if peak < 16000 || peak > 16400 {
		t.Errorf("peak %d, want ~16383 (half scale)", peak)
	}
}

func TestHandler(t *testing.T) {
	twiml, err := document("play", "", "")
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(twiml, toneWAV(440, time.Second))
	srv := httptest.NewServer(a.handler())
	defer srv.Close()

	get := func(method, path string, hdr map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader("CallSid=CA1"))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}

	resp, body := get(http.MethodPost, "/voice", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/xml" || string(body) != string(twiml) {
		t.Errorf("POST /voice: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = get(http.MethodGet, "/loop.wav", nil)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/wav" || len(body) != 44+16000 || etag == "" {
		t.Errorf("GET /loop.wav: %d %q, %d bytes, ETag %q", resp.StatusCode, resp.Header.Get("Content-Type"), len(body), etag)
	}
	// A revalidation (RFC 9110 section 13.1.2) is answered 304 with no body.
	resp, body = get(http.MethodGet, "/loop.wav", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("conditional GET /loop.wav: %d, %d bytes; want 304, none", resp.StatusCode, len(body))
	}
	_, body = get(http.MethodGet, "/stats", nil)
	if got := strings.TrimSpace(string(body)); got != `{"voice":1,"wav":2}` {
		t.Errorf("/stats %s, want voice 1, wav 2", got)
	}
	if resp, _ := get(http.MethodGet, "/nothing", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nothing: %d, want 404", resp.StatusCode)
	}
}

func BenchmarkVoice(b *testing.B) {
	twiml, err := document("say", "Thanks for calling the benchmark line. Goodbye.", "")
	if err != nil {
		b.Fatal(err)
	}
	h := newApp(twiml, toneWAV(440, time.Second)).handler()
	req := httptest.NewRequest(http.MethodPost, "/voice", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
	}
}

// In -mode dial the document is one <Dial> of one <Sip>: the URI given,
// escaped.
func TestDialDocument(t *testing.T) {
	for _, uri := range []string{"sip:uas@127.0.0.1:5080", "sip:uas@127.0.0.1:5080;x=<&>"} {
		b, err := document("dial", "", uri)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			XMLName xml.Name `xml:"Response"`
			Dial    []struct {
				Sip []string `xml:"Sip"`
			} `xml:"Dial"`
		}
		if err := xml.Unmarshal(b, &d); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		if len(d.Dial) != 1 || len(d.Dial[0].Sip) != 1 || d.Dial[0].Sip[0] != uri {
			t.Errorf("document %s: want one <Dial><Sip>%s</Sip></Dial>", b, uri)
		}
	}
}

// /conference/NAME, /enqueue/NAME and /agent/NAME answer their TwiML for
// NAME, whatever the mode; a name that is not a plain word is refused.
func TestNamedDocuments(t *testing.T) {
	twiml, err := document("hangup", "", "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newApp(twiml, toneWAV(440, time.Second)).handler())
	defer srv.Close()
	type doc struct {
		XMLName xml.Name `xml:"Response"`
		Dial    struct {
			Conference struct {
				Beep string `xml:"beep,attr"`
				Name string `xml:",chardata"`
			} `xml:"Conference"`
			Queue string `xml:"Queue"`
		} `xml:"Dial"`
		Enqueue string `xml:"Enqueue"`
		Pause   struct {
			Length string `xml:"length,attr"`
		} `xml:"Pause"`
	}
	get := func(path string) doc {
		t.Helper()
		resp, err := srv.Client().Post(srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader("CallSid=CA1"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var d doc
		if err := xml.Unmarshal(body, &d); err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d %q: %v", path, resp.StatusCode, body, err)
		}
		return d
	}
	if d := get("/conference/room3"); d.Dial.Conference.Name != "room3" || d.Dial.Conference.Beep != "false" {
		t.Errorf("conference %q beep %q; want room3, false", d.Dial.Conference.Name, d.Dial.Conference.Beep)
	}
	if d := get("/enqueue/q7"); d.Enqueue != "q7" || d.Pause.Length != "600" {
		t.Errorf("enqueue: %+v", d)
	}
	if d := get("/agent/q7"); d.Dial.Queue != "q7" || d.Enqueue != "" {
		t.Errorf("agent: %+v", d)
	}
	for _, kind := range []string{"conference", "enqueue", "agent"} {
		for _, bad := range []string{"a%3Cb", "room%20one", strings.Repeat("x", 65)} {
			resp, err := srv.Client().Get(srv.URL + "/" + kind + "/" + bad)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET /%s/%s: %d, want 404", kind, bad, resp.StatusCode)
			}
		}
	}
}
