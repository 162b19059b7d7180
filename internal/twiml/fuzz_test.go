package twiml

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse feeds arbitrary bytes to the parser, seeded with the whole corpus.
// It must never panic; every error must be an ErrorList of known codes with
// positions; a returned model must marshal, and reading the written document
// back must give the same model and the same bytes again.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.xml"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("<Response><Say>\x00</Say></Response>"))
	f.Add([]byte("<Response><Dial><Sip>sip:a@b?=&amp;=</Sip></Dial></Response>"))

	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseBytes(data)
		var list ErrorList
		if err != nil {
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %v", err)
			}
			for _, e := range list {
				if _, ok := Codes[e.Code]; !ok {
					t.Fatalf("unknown code %d", e.Code)
				}
				if e.Pos.Line < 1 || e.Pos.Col < 1 {
					t.Fatalf("no position: %v", e)
				}
			}
		}
		if r == nil {
			if !list.Fatal() {
				t.Fatalf("no model but no fatal error: %v", err)
			}
			return
		}
		out, err := Marshal(r)
		if err != nil {
			t.Fatalf("Marshal of a parsed model: %v", err)
		}
		if len(out) > MaxDocumentSize {
			return // indentation and escaping can push a near-limit document over it
		}
		r2, err := ParseBytes(out)
		if r2 == nil {
			t.Fatalf("re-parse failed: %v\n%s", err, out)
		}
		if diff := cmp.Diff(r, r2, ignorePos); diff != "" {
			t.Fatalf("round trip changed the model:\n%s\ninput: %q\nwritten: %s", diff, data, out)
		}
		out2, err := Marshal(r2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("Marshal not stable (%v):\n%s\n---\n%s", err, out, out2)
		}
	})
}
