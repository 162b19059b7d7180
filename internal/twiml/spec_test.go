package twiml

import (
	"reflect"
	"testing"
)

// allElements is one value of every typed element, for table tests.
var allElements = []Node{
	&Say{}, &Play{}, &Pause{}, &Gather{}, &Record{}, &Dial{}, &Number{}, &Sip{}, &Client{},
	&Conference{}, &Queue{}, &Enqueue{}, &Task{}, &Leave{}, &Hangup{}, &Reject{}, &Redirect{},
	&Refer{}, &ReferSip{}, &Connect{}, &Start{}, &Stop{}, &Echo{}, &Stream{}, &Siprec{}, &Parameter{},
}

// TestSpecTags checks every `twiml` tag: it parses (parseTag panics on a bad
// one), names are unique within an element, a default survives format/parse,
// and an out-of-range default cannot hide (a default must itself be valid).
func TestSpecTags(t *testing.T) {
	for _, n := range allElements {
		typ := reflect.TypeOf(n).Elem()
		t.Run(typ.Name(), func(t *testing.T) {
			spec := specOf(typ)
			seen := map[string]bool{}
			for _, a := range spec.attrs {
				if seen[a.name] {
					t.Errorf("attribute %s declared twice", a.name)
				}
				seen[a.name] = true
				if !a.hasDef {
					continue // the zero value stands for "not given"
				}
				text := a.format(a.def)
				v, msg := a.parse(text)
				if msg != "" {
					t.Errorf("%s: default %q does not parse: %s", a.name, text, msg)
					continue
				}
				if !a.isDefault(v) {
					t.Errorf("%s: default %q does not round-trip", a.name, text)
				}
			}
		})
	}
}

// TestNewAppliesDefaults checks New against a bare parsed element for every
// type that can stand alone in a document.
func TestNewAppliesDefaults(t *testing.T) {
	r := mustParse(t, `<Response><Record/><Pause/><Reject/><Hangup/><Leave/><Echo/></Response>`)
	want := []Node{New[Record](), New[Pause](), New[Reject](), New[Hangup](), New[Leave](), New[Echo]()}
	for i, v := range r.Verbs {
		got := reflect.ValueOf(v).Elem()
		w := reflect.ValueOf(want[i]).Elem()
		got.FieldByName("Meta").Set(reflect.Zero(reflect.TypeFor[Meta]()))
		if !reflect.DeepEqual(got.Interface(), w.Interface()) {
			t.Errorf("%s: New gives %+v, parsing gives %+v", v.TagName(), w.Interface(), got.Interface())
		}
	}
}
