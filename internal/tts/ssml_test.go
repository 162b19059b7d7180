package tts

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestEspeakSSMLGolden rewrites each testdata/ssml/*.ssml for espeak-ng and
// compares with the .golden file beside it (go test -update rewrites them).
// Files named ja_* are rewritten as Japanese (text into kana).
func TestEspeakSSMLGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/ssml/*.ssml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range files {
		name := strings.TrimSuffix(filepath.Base(in), ".ssml")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			o := ssmlOptions{gender: Female, base: "en-us"}
			if strings.HasPrefix(name, "ja_") {
				o.text, o.base = ToKana, "ja"
			}
			got := renderSSMLResult(espeakSSML(string(src), o))
			golden := strings.TrimSuffix(in, ".ssml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("espeakSSML(%s):\n got: %s\nwant: %s", in, got, want)
			}
		})
	}
}

func renderSSMLResult(r ssmlResult, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nchars=%d text=%v speaks=%v pauses=%v\n", r.doc, r.chars, r.hasText, r.speaks, r.pauses)
	for _, w := range r.warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return b.String()
}

func TestEspeakSSMLErrors(t *testing.T) {
	for _, doc := range []string{
		`<speak>unclosed <prosody rate="slow">text</speak>`,
		`<speak>bad & ampersand</speak>`,
		`<speak>bad <1tag/></speak>`,
		`<speak><break time="1s"></speak>`,
		"<speak>\x00</speak>",
	} {
		_, err := espeakSSML(doc, ssmlOptions{})
		if !errors.Is(err, ErrInvalidSSML) {
			t.Errorf("espeakSSML(%q) err = %v, want ErrInvalidSSML", doc, err)
		}
		if TwilioCode(err) != CodeInvalidText {
			t.Errorf("TwilioCode = %d, want %d", TwilioCode(err), CodeInvalidText)
		}
	}
}

func TestEspeakSSMLCleansText(t *testing.T) {
	r, err := espeakSSML("<speak>bell\x07 and \x1b escape and \xff\xfe bytes</speak>", ssmlOptions{})
	if err == nil {
		// Control characters are not allowed in XML: the decoder may refuse
		// them, which is a clear outcome too. If it accepts, they are gone.
		for _, c := range []string{"\x07", "\x1b", "\xff"} {
			if strings.Contains(r.doc, c) {
				t.Errorf("output %q still contains %q", r.doc, c)
			}
		}
	} else if !errors.Is(err, ErrInvalidSSML) {
		t.Fatalf("err = %v", err)
	}
}

func TestBuildSSML(t *testing.T) {
	tests := []struct {
		inner string
		want  string
		err   bool
	}{
		{`Hello <break time="1s"/> world`, `<speak>Hello <break time="1s"/> world</speak>`, false},
		{`<amazon:effect name="whispered">psst</amazon:effect>`, `<speak><amazon:effect name="whispered">psst</amazon:effect></speak>`, false},
		{`plain text`, `<speak>plain text</speak>`, false},
		{`unclosed <prosody>`, "", true},
		{`</speak><speak>`, "", true},
		{`a < b`, "", true},
	}
	for _, tt := range tests {
		got, err := BuildSSML(tt.inner)
		if tt.err {
			if !errors.Is(err, ErrInvalidSSML) {
				t.Errorf("BuildSSML(%q) err = %v, want ErrInvalidSSML", tt.inner, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("BuildSSML(%q) = %q, %v; want %q", tt.inner, got, err, tt.want)
		}
	}
}

func TestParseBreakTime(t *testing.T) {
	tests := []struct {
		in   string
		ms   int
		okay bool
	}{
		{"500ms", 500, true},
		{"1s", 1000, true},
		{"1.5s", 1500, true},
		{" 250MS ", 250, true},
		{"0s", 0, true},
		{"11s", maxBreakMillis, true},
		{"1e9s", maxBreakMillis, true},
		{"-1s", 0, false},
		{"NaNs", 0, false},
		{"500", 0, false},
		{"ms", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		ms, ok := parseBreakTime(tt.in)
		if ms != tt.ms || ok != tt.okay {
			t.Errorf("parseBreakTime(%q) = %d, %v; want %d, %v", tt.in, ms, ok, tt.ms, tt.okay)
		}
	}
}

func TestProsodyValues(t *testing.T) {
	tests := []struct {
		f    func(string) (string, bool)
		in   string
		want string
		ok   bool
	}{
		{prosodyRate, "x-slow", "x-slow", true},
		{prosodyRate, "85%", "85%", true},
		{prosodyRate, "5%", "20%", true},
		{prosodyRate, "500%", "200%", true},
		{prosodyRate, "0%", "", false},
		{prosodyRate, "fastest", "", false},
		{prosodyRate, "1.5", "", false},
		{prosodyPitch, "+10%", "+10%", true},
		{prosodyPitch, "-200%", "-100%", true},
		{prosodyPitch, "high", "high", true},
		{prosodyPitch, "2st", "", false},
		{prosodyVolume, "+6dB", "200%", true},
		{prosodyVolume, "-6dB", "50%", true},
		{prosodyVolume, "+0dB", "100%", true},
		{prosodyVolume, "x-loud", "x-loud", true},
		{prosodyVolume, "10", "", false},
	}
	for _, tt := range tests {
		got, ok := tt.f(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%q -> %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\x00b", "a b"},
		{"bell\x07", "bell "},
		{"tab\tand\nnewline", "tab\tand\nnewline"},
		{"bad \xff byte", "bad   byte"},
		{"\u0085next line", " next line"},
		{"[[h@l'oU]]", "[ [h@l'oU]]"},
		{"日本語", "日本語"},
	}
	for _, tt := range tests {
		if got := cleanText(tt.in); got != tt.want {
			t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzEspeakSSML(f *testing.F) {
	files, _ := filepath.Glob("testdata/ssml/*.ssml")
	for _, p := range files {
		// Japanese seeds load the 90 MB dictionary in every fuzz worker,
		// which the fuzzer takes for a hang.
		if b, err := os.ReadFile(p); err == nil && !strings.Contains(string(b), "ja") && !strings.HasPrefix(filepath.Base(p), "ja_") {
			f.Add(string(b))
		}
	}
	f.Add(`<speak><break time="1s"/>.</speak>`)
	f.Fuzz(func(t *testing.T, doc string) {
		r, err := espeakSSML(doc, ssmlOptions{gender: Male})
		if err != nil {
			if !errors.Is(err, ErrInvalidSSML) {
				t.Fatalf("error %v does not wrap ErrInvalidSSML", err)
			}
			return
		}
		// Whatever came in, what goes to espeak-ng is one well-formed
		// <speak> document.
		if err := wellFormed(r.doc); err != nil {
			t.Fatalf("output %q is not well-formed: %v", r.doc, err)
		}
		if !strings.HasPrefix(r.doc, "<speak>") || !strings.HasSuffix(r.doc, "</speak>") {
			t.Fatalf("output %q is not a <speak> document", r.doc)
		}
	})
}

func BenchmarkEspeakSSML(b *testing.B) {
	doc := `<speak>Thank you for calling. <break time="500ms"/> <prosody rate="90%">Press <say-as interpret-as="digits">1</say-as> for sales</prosody>, <emphasis>2</emphasis> for support. <amazon:effect name="whispered">Goodbye</amazon:effect>.</speak>`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := espeakSSML(doc, ssmlOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
