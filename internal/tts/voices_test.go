package tts

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSelectVoice(t *testing.T) {
	tests := []struct {
		voice, lang string
		wantLang    string
		wantGender  Gender
		wantCodes   []int // warning codes
	}{
		{"", "", "en-US", Male, nil},
		{"man", "", "en-US", Male, nil},
		{"MAN", "en-gb", "en-GB", Male, nil},
		{"woman", "fr-FR", "fr-FR", Female, nil},
		{"alice", "ja-JP", "ja-JP", Female, nil},
		{"alice", "ja_jp", "ja-JP", Female, nil},
		{"Polly.Joanna", "", "en-US", Female, nil},
		{"Polly.Joanna-Neural", "", "en-US", Female, nil},
		{"polly.matthew-generative", "en-US", "en-US", Male, nil},
		{"Polly.Mizuki", "ja-JP", "ja-JP", Female, nil},
		{"Polly.Takumi", "", "ja-JP", Male, nil},
		{"Polly.Céline", "", "fr-FR", Female, nil},
		{"Polly.Aditi", "hi-IN", "hi-IN", Female, nil},
		{"Polly.Aditi", "", "en-IN", Female, nil},
		{"Polly.Joanna", "de-DE", "en-US", Female, []int{13511}},
		{"Polly.Nobody", "de-DE", "de-DE", GenderUnknown, []int{13511}},
		{"Polly.Nobody", "", "en-US", GenderUnknown, []int{13511}},
		{"Google.en-US-Standard-C", "", "en-US", Female, nil},
		{"Google.en-US-Neural2-D", "", "en-US", Male, nil},
		{"Google.ja-JP-Wavenet-C", "", "ja-JP", Male, nil},
		{"Google.en-GB-Chirp3-HD-Aoede", "", "en-GB", Female, nil},
		{"Google.de-DE-Chirp3-HD-Charon", "", "de-DE", Male, nil},
		{"Google.fr-FR-Neural2-Z", "", "fr-FR", GenderUnknown, nil},
		{"Google.ja-JP-Standard-A", "en-US", "ja-JP", Female, []int{13511}},
		{"Google.nonsense", "es-MX", "es-MX", GenderUnknown, []int{13511}},
		{"Google.xx-YY-Mystery-Q", "", "xx-YY", GenderUnknown, []int{13511}},
		{"robot", "", "en-US", Male, []int{13511}},
		{"robot", "it-IT", "it-IT", Male, []int{13511}},
	}
	for _, tt := range tests {
		sel := SelectVoice(tt.voice, tt.lang)
		var codes []int
		for _, w := range sel.Warnings {
			codes = append(codes, w.Code)
		}
		if sel.Language != tt.wantLang || sel.Gender != tt.wantGender || !cmp.Equal(codes, tt.wantCodes) {
			t.Errorf("SelectVoice(%q, %q) = %s %s %v; want %s %s %v",
				tt.voice, tt.lang, sel.Language, sel.Gender, codes, tt.wantLang, tt.wantGender, tt.wantCodes)
		}
	}
}

func TestCanonicalLanguage(t *testing.T) {
	tests := map[string]string{
		"en-us": "en-US", "EN_us": "en-US", "en-gb-wls": "en-GB-WLS", "cmn-cn": "cmn-CN",
		"es-419": "es-419", "sr-latn-rs": "sr-Latn-RS", "ja": "ja", " ja-jp ": "ja-JP", "": "",
	}
	for in, want := range tests {
		if got := CanonicalLanguage(in); got != want {
			t.Errorf("CanonicalLanguage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEspeakResolve(t *testing.T) {
	e := &Espeak{}
	tests := []struct {
		req       Request
		name      string
		lang      string
		fallback  bool
		wantCodes []int
	}{
		{Request{}, "en-us", "en-US", false, nil},
		{Request{Voice: "woman"}, "en-us+f3", "en-US", false, nil},
		{Request{Voice: "alice", Language: "en-AU"}, "en-gb+f3", "en-GB", false, nil},
		{Request{Voice: "Polly.Mizuki"}, "ja+f3", "ja-JP", false, nil},
		{Request{Voice: "man", Language: "ja-JP"}, "ja", "ja-JP", false, nil},
		{Request{Language: "fr-FR"}, "fr-fr", "fr-FR", false, nil},
		{Request{Language: "fr-CA"}, "fr-fr", "fr-FR", false, nil},
		{Request{Language: "de-DE"}, "de", "de-DE", false, nil},
		{Request{Language: "es-ES"}, "es", "es-ES", false, nil},
		{Request{Voice: "Polly.Mia"}, "es-419+f3", "es-MX", false, nil},
		{Request{Language: "pt-BR"}, "pt-br", "pt-BR", false, nil},
		{Request{Language: "it-IT"}, "it", "it-IT", false, nil},
		{Request{Language: "zh-CN"}, "cmn", "zh-CN", false, nil},
		{Request{Voice: "Polly.Zhiyu"}, "cmn+f3", "zh-CN", false, nil},
		{Request{Language: "en-ZW"}, "en-us", "en-US", false, nil},
		{Request{Language: "fil-PH"}, "en-us", "en-US", true, []int{13511}},
		{Request{Voice: "woman", Language: "klingon"}, "en-us+f3", "en-US", true, []int{13511}},
		{Request{Voice: "robot", Language: "xx"}, "en-us", "en-US", true, []int{13511, 13511}},
		{Request{SSML: `<speak><prosody rate="warp">x</prosody></speak>`}, "en-us", "en-US", false, []int{13513}},
	}
	for _, tt := range tests {
		v, err := e.Resolve(tt.req)
		if err != nil {
			t.Fatal(err)
		}
		var codes []int
		for _, w := range v.Warnings {
			codes = append(codes, w.Code)
		}
		if v.Name != tt.name || v.Language != tt.lang || !cmp.Equal(codes, tt.wantCodes) {
			t.Errorf("Resolve(%+v) = %q %q %v; want %q %q %v", tt.req, v.Name, v.Language, codes, tt.name, tt.lang, tt.wantCodes)
		}
		if v.Params != "rate=175" {
			t.Errorf("Params = %q", v.Params)
		}
	}
}

// TestLanguageTableVoicesExist checks every espeak-ng voice the table names
// against the installed espeak-ng.
func TestLanguageTableVoicesExist(t *testing.T) {
	needEspeak(t)
	out, err := exec.Command(DefaultEspeakPath, "--voices").Output()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 1 {
			have[f[1]] = true
		}
	}
	for _, l := range languages {
		if !have[l.espeak] {
			t.Errorf("language %s: espeak-ng has no voice %q", l.codes[0], l.espeak)
		}
	}
	for name, nv := range pollyVoices {
		for _, lang := range nv.langs {
			if _, ok := lookupLanguage(lang); !ok {
				t.Errorf("Polly.%s speaks %s, which has no espeak-ng voice", name, lang)
			}
		}
	}
}

func FuzzSelectVoice(f *testing.F) {
	f.Add("Google.en-US-Standard-C", "en-US")
	f.Add("Polly.Joanna-Neural", "ja-JP")
	f.Add("google.--", "_")
	f.Fuzz(func(t *testing.T, voice, lang string) {
		sel := SelectVoice(voice, lang)
		if sel.Language == "" && strings.TrimSpace(lang) != "" {
			t.Fatalf("no language for %q %q", voice, lang)
		}
		v, err := (&Espeak{}).Resolve(Request{Voice: voice, Language: lang})
		if err != nil || v.Name == "" || v.Language == "" {
			t.Fatalf("Resolve(%q, %q) = %+v, %v", voice, lang, v, err)
		}
	})
}
