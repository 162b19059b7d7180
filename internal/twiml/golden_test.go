package twiml

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// ignorePos compares models without their positions (a written document lays
// elements out anew).
var ignorePos = cmpopts.IgnoreTypes(Pos{})

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// roundTrip checks that writing r and reading it back gives r again, and that
// writing is stable.
func roundTrip(t *testing.T, r *Response) {
	t.Helper()
	out, err := Marshal(r)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	r2, err := ParseBytes(out)
	if r2 == nil {
		t.Fatalf("re-parse of marshalled document failed: %v\n%s", err, out)
	}
	if diff := cmp.Diff(r, r2, ignorePos); diff != "" {
		t.Fatalf("round trip changed the model (-parsed +reparsed):\n%s\ndocument:\n%s", diff, out)
	}
	out2, err := Marshal(r2)
	if err != nil {
		t.Fatalf("second Marshal: %v", err)
	}
	if string(out) != string(out2) {
		t.Fatalf("Marshal is not stable:\n%s\n---\n%s", out, out2)
	}
}

func corpus(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestCorpusValid parses every document of testdata/valid (the seeds' examples
// and Twilio's documented examples of each verb, reconstructed), checks it has
// no error, compares its Dump with the .golden file beside it, and round-trips it.
func TestCorpusValid(t *testing.T) {
	files := corpus(t, "valid")
	if len(files) < 60 {
		t.Fatalf("only %d valid documents in the corpus", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := ParseBytes(data)
			if err != nil {
				t.Fatalf("want a valid document, got:\n%v", err)
			}
			golden(t, strings.TrimSuffix(f, ".xml")+".golden", Dump(r))
			roundTrip(t, r)
			if err := Validate(r); err != nil {
				t.Errorf("Validate of a parsed valid document: %v", err)
			}
		})
	}
}

// TestCorpusInvalid parses every document of testdata/invalid and compares the
// errors (code, line:col, message) with the .golden file beside it. Where a
// model comes back, it must round-trip too.
func TestCorpusInvalid(t *testing.T) {
	files := corpus(t, "invalid")
	if len(files) < 60 {
		t.Fatalf("only %d invalid documents in the corpus", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := ParseBytes(data)
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("want an ErrorList, got %v", err)
			}
			for _, e := range list {
				if _, ok := Codes[e.Code]; !ok {
					t.Errorf("code %d is not in Codes", e.Code)
				}
				if e.Pos.Line < 1 || e.Pos.Col < 1 {
					t.Errorf("error without a position: %v", e)
				}
			}
			if (r == nil) != list.Fatal() {
				t.Errorf("model %v but Fatal() = %v", r != nil, list.Fatal())
			}
			golden(t, strings.TrimSuffix(f, ".xml")+".golden", err.Error()+"\n")
			if r != nil {
				roundTrip(t, r)
			}
		})
	}
}

// TestCodesDocumented checks that every code the package can report has a row
// in doc.go's table and a constant, so the table cannot drift.
func TestCodesDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for code, info := range Codes {
		level := "E"
		if info.Warning {
			level = "W"
		}
		row := "//\t" + strconv.Itoa(code) + " " + level + " "
		if !strings.Contains(string(doc), row) {
			t.Errorf("doc.go has no row %q for %s", row, info.Title)
		}
	}
	// And every code in a tag is known.
	tagCode := regexp.MustCompile(`code=(\d+)`)
	src, err := os.ReadFile("model.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range tagCode.FindAllStringSubmatch(string(src), -1) {
		n, _ := strconv.Atoi(m[1])
		if _, ok := Codes[n]; !ok {
			t.Errorf("model.go uses code %d, which is not in Codes", n)
		}
	}
}

// TestCorpusCoversCodes checks that the invalid corpus exercises most of the
// codes: a code no document triggers is a rule nobody has seen fire.
func TestCorpusCoversCodes(t *testing.T) {
	seen := map[int]bool{}
	for _, f := range corpus(t, "invalid") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseBytes(data)
		var list ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				seen[e.Code] = true
			}
		}
	}
	// Codes reached only by table tests (size, URL checks of rarely used attributes).
	elsewhere := map[int]bool{CodeResponseTooLarge: true, CodeTranscribeCallback: true, CodeEnqueueAction: true,
		CodeEnqueueWaitURL: true, CodeQueueURL: true, CodeGatherMaxSpeechTime: true, CodeGatherPartialMethod: true,
		CodeGatherBargeIn: true, CodeGatherSpeechModel: true, CodeGatherEmptyResult: true}
	for code, info := range Codes {
		if !seen[code] && !elsewhere[code] {
			t.Errorf("no invalid document triggers %d (%s)", code, info.Title)
		}
	}
}
