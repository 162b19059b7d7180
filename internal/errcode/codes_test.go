package errcode

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// constants reads every constant of codes.go with its value and line comment.
func constants(t *testing.T) []struct {
	name, comment string
	code          int
} {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var out []struct {
		name, comment string
		code          int
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if len(vs.Names) != 1 || len(vs.Values) != 1 {
				t.Fatalf("%v: want one name = one literal per line", vs.Names)
			}
			lit, ok := vs.Values[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.INT {
				t.Fatalf("%s: value is not an integer literal", vs.Names[0].Name)
			}
			code, err := strconv.Atoi(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			var comment string
			if vs.Comment != nil {
				comment = strings.TrimSpace(vs.Comment.Text())
			}
			out = append(out, struct {
				name, comment string
				code          int
			}{vs.Names[0].Name, comment, code})
		}
	}
	return out
}

func TestCodes(t *testing.T) {
	consts := constants(t)
	if len(consts) < 100 {
		t.Fatalf("found %d constants in codes.go, want them all", len(consts))
	}
	seen := map[int]string{}
	for _, c := range consts {
		if other, dup := seen[c.code]; dup {
			t.Errorf("%s and %s are both %d", c.name, other, c.code)
		}
		seen[c.code] = c.name
		msg := Message(c.code)
		if msg == "" {
			t.Errorf("%s (%d) has no Message", c.name, c.code)
		}
		if c.comment != msg {
			t.Errorf("%s (%d): comment %q, Message %q", c.name, c.code, c.comment, msg)
		}
	}
	if len(titles) != len(consts) {
		t.Errorf("%d titles for %d constants", len(titles), len(consts))
	}
}

func TestMessageUnknown(t *testing.T) {
	if m := Message(0); m != "" {
		t.Errorf("Message(0) = %q", m)
	}
	if m := Message(99999); m != "" {
		t.Errorf("Message(99999) = %q", m)
	}
}

func TestMoreInfo(t *testing.T) {
	if got, want := MoreInfo(InvalidURL), "https://www.twilio.com/docs/errors/11100"; got != want {
		t.Errorf("MoreInfo = %q, want %q", got, want)
	}
}

// errcode sits below every other package: it must import none of them.
func TestImportsNothingFromTheProject(t *testing.T) {
	for _, name := range []string{"doc.go", "codes.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.Contains(p, "switchboard") {
				t.Errorf("%s imports %s", name, p)
			}
		}
	}
}
