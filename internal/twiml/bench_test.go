package twiml

import (
	"os"
	"strings"
	"testing"
)

// BenchmarkParse measures a typical webhook answer (seed 000's conference with
// events) and the worst shapes a hostile 64 kB document can take.
func BenchmarkParse(b *testing.B) {
	typical, err := os.ReadFile("testdata/valid/dial-all.xml")
	if err != nil {
		b.Fatal(err)
	}
	docs := []struct {
		name string
		doc  []byte
	}{
		{"typical", typical},
		{"64kB-pauses-one-line", []byte("<Response>" + strings.Repeat("<Pause/>", (MaxDocumentSize-30)/8) + "</Response>")},
		{"64kB-unknown-verbs", []byte("<Response>" + strings.Repeat("<B/>", (MaxDocumentSize-30)/4) + "</Response>")},
		{"64kB-ssml", []byte("<Response><Say>" + strings.Repeat("<s>a</s>", (MaxDocumentSize-40)/8) + "</Say></Response>")},
		{"64kB-comments-in-text", []byte("<Response><Say>" + strings.Repeat("a<!---->", (MaxDocumentSize-40)/8) + "</Say></Response>")},
	}
	for _, d := range docs {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(d.doc)))
			for b.Loop() {
				_, _ = ParseBytes(d.doc)
			}
		})
	}
}

func BenchmarkMarshal(b *testing.B) {
	data, err := os.ReadFile("testdata/valid/dial-all.xml")
	if err != nil {
		b.Fatal(err)
	}
	r, err := ParseBytes(data)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(r); err != nil {
			b.Fatal(err)
		}
	}
}
