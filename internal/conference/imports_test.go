package conference

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package below the interpreter: voice uses conference,
// so conference may depend on the standard library, the media engine and the
// error codes only (no voice, sip, webhook, store: no I/O, no cycle).
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"github.com/switchboard-voice/switchboard/internal/media":   true,
		"github.com/switchboard-voice/switchboard/internal/errcode": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.Contains(path, ".") && !allowed[path] {
				t.Errorf("%s imports %s: conference may import the standard library, media and errcode only", name, path)
			}
		}
	}
}
