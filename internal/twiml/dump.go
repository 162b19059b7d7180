package twiml

import (
	"fmt"
	"reflect"
	"strings"
)

// Dump renders a model as an indented, stable text tree: each element with its
// position, every attribute with its value (defaults included; "(set)" marks
// the ones the document gave), then its text and children. The golden files
// of testdata/ are Dumps; it is also handy when debugging a call flow.
func Dump(r *Response) string {
	var b strings.Builder
	if r == nil {
		return "<nil>\n"
	}
	fmt.Fprintf(&b, "Response %s\n", r.Pos)
	for _, v := range r.Verbs {
		dumpNode(&b, v, 1)
	}
	return b.String()
}

var (
	typeMeta    = reflect.TypeFor[Meta]()
	typeContent = reflect.TypeFor[[]Content]()
)

func dumpNode(b *strings.Builder, n any, depth int) {
	ind := strings.Repeat("  ", depth)
	if n == nil || (reflect.ValueOf(n).Kind() == reflect.Pointer && reflect.ValueOf(n).IsNil()) {
		fmt.Fprintf(b, "%s<nil>\n", ind)
		return
	}
	switch x := n.(type) {
	case Text:
		fmt.Fprintf(b, "%stext %q\n", ind, string(x))
		return
	case *Element:
		fmt.Fprintf(b, "%s<%s> %s\n", ind, x.Name, x.Pos)
		for _, a := range x.Attrs {
			fmt.Fprintf(b, "%s  @%s = %q\n", ind, a.Name, a.Value)
		}
		for _, c := range x.Children {
			dumpNode(b, c, depth+1)
		}
		return
	}
	node := n.(Node)
	m := node.meta()
	fmt.Fprintf(b, "%s%s %s\n", ind, node.TagName(), m.Pos)
	v := reflect.ValueOf(n).Elem()
	spec := specOf(v.Type())
	for _, a := range spec.attrs {
		f := v.Field(a.field)
		val := a.format(f)
		if a.kind != kindInt && a.kind != kindBool {
			val = fmt.Sprintf("%q", val)
		}
		set := ""
		if m.IsSet(a.name) {
			set = " (set)"
		}
		fmt.Fprintf(b, "%s  @%s = %s%s\n", ind, a.name, val, set)
	}
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if _, ok := sf.Tag.Lookup("twiml"); ok || sf.Type == typeMeta {
			continue
		}
		f := v.Field(i)
		switch {
		case sf.Type.Kind() == reflect.String:
			fmt.Fprintf(b, "%s  %s: %q\n", ind, sf.Name, f.String())
		case sf.Type.Kind() == reflect.Bool:
			fmt.Fprintf(b, "%s  %s: %t\n", ind, sf.Name, f.Bool())
		case sf.Type == typeContent || sf.Type.Kind() == reflect.Slice:
			for j := range f.Len() {
				dumpNode(b, f.Index(j).Interface(), depth+1)
			}
		case sf.Type.Kind() == reflect.Pointer:
			if !f.IsNil() {
				dumpNode(b, f.Interface(), depth+1)
			}
		}
	}
}
