package twiml

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// attrKind is how an attribute's text maps to its Go field.
type attrKind int

const (
	kindStr attrKind = iota
	kindURL
	kindMethod
	kindBool
	kindInt
	kindEnum
	kindList
)

// attrSpec is one attribute of an element type, read from a `twiml` struct tag.
type attrSpec struct {
	name     string
	field    int // index of the field in the struct
	kind     attrKind
	code     int
	min, max int
	hasMin   bool
	hasMax   bool
	allowed  []string // enum values, or list members
	def      reflect.Value
	hasDef   bool // the tag gives a default; else the zero value means "not given"
}

// elemSpec is the attribute table of one element type.
type elemSpec struct {
	attrs  []attrSpec
	byName map[string]int
}

var specCache sync.Map // reflect.Type -> *elemSpec

// specOf returns the attribute table of the struct type behind the pointer v.
func specOf(t reflect.Type) *elemSpec {
	if s, ok := specCache.Load(t); ok {
		return s.(*elemSpec)
	}
	s := buildSpec(t)
	specCache.Store(t, s)
	return s
}

func buildSpec(t reflect.Type) *elemSpec {
	s := &elemSpec{byName: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("twiml")
		if !ok {
			continue
		}
		a := parseTag(tag, f.Type)
		a.field = i
		s.byName[a.name] = len(s.attrs)
		s.attrs = append(s.attrs, a)
	}
	return s
}

// parseTag reads one `twiml` tag. A malformed tag is a programming error in
// this package, caught by TestSpecTags, so it panics.
func parseTag(tag string, ft reflect.Type) attrSpec {
	parts := strings.Split(tag, ",")
	if len(parts) < 2 {
		panic("twiml: bad tag " + tag)
	}
	a := attrSpec{name: parts[0], code: CodeSchema}
	switch parts[1] {
	case "str":
		a.kind = kindStr
	case "url":
		a.kind = kindURL
	case "method":
		a.kind = kindMethod
	case "bool":
		a.kind = kindBool
	case "int":
		a.kind = kindInt
	case "enum":
		a.kind = kindEnum
	case "list":
		a.kind = kindList
	default:
		panic("twiml: bad kind in tag " + tag)
	}
	defText, hasDef := "", false
	for _, p := range parts[2:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "default":
			defText, hasDef = v, true
		case "code":
			a.code = mustAtoi(v, tag)
		case "min":
			a.min, a.hasMin = mustAtoi(v, tag), true
		case "max":
			a.max, a.hasMax = mustAtoi(v, tag), true
		case "enum", "list":
			a.allowed = strings.Split(v, "|")
		default:
			panic("twiml: bad option in tag " + tag)
		}
	}
	a.def = reflect.Zero(ft)
	if hasDef {
		v, msg := a.parse(defText)
		if msg != "" {
			panic("twiml: bad default in tag " + tag + ": " + msg)
		}
		a.def = v
		a.hasDef = true
	}
	return a
}

func mustAtoi(s, tag string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic("twiml: bad number in tag " + tag)
	}
	return n
}

// parse converts attribute text to the field's value. msg is empty on
// success, else it says what is wrong, for the error message.
func (a *attrSpec) parse(s string) (reflect.Value, string) {
	switch a.kind {
	case kindStr, kindURL:
		return reflect.ValueOf(s), ""
	case kindMethod:
		switch strings.ToUpper(s) {
		case "GET":
			return reflect.ValueOf("GET"), ""
		case "POST":
			return reflect.ValueOf("POST"), ""
		}
		return reflect.Value{}, "must be GET or POST"
	case kindBool:
		switch strings.ToLower(s) {
		case "true":
			return reflect.ValueOf(true), ""
		case "false":
			return reflect.ValueOf(false), ""
		}
		return reflect.Value{}, "must be true or false"
	case kindInt:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n > 1<<31-1 || n < -(1<<31) {
			return reflect.Value{}, "must be " + a.rangeText()
		}
		if (a.hasMin && n < a.min) || (a.hasMax && n > a.max) {
			return reflect.Value{}, "must be " + a.rangeText()
		}
		return reflect.ValueOf(n), ""
	case kindEnum:
		if slices.Contains(a.allowed, s) {
			return reflect.ValueOf(s), ""
		}
		return reflect.Value{}, "must be one of " + strings.Join(a.allowed, ", ")
	case kindList:
		fields := strings.Fields(s)
		if len(fields) == 0 {
			return reflect.Value{}, "must list one or more of " + strings.Join(a.allowed, ", ")
		}
		for _, f := range fields {
			if !slices.Contains(a.allowed, f) {
				return reflect.Value{}, fmt.Sprintf("%q is not one of %s", f, strings.Join(a.allowed, ", "))
			}
		}
		return reflect.ValueOf(fields), ""
	}
	return reflect.Value{}, "unsupported"
}

func (a *attrSpec) rangeText() string {
	switch {
	case a.hasMin && a.hasMax:
		return fmt.Sprintf("an integer from %d to %d", a.min, a.max)
	case a.hasMin && a.min == 0:
		return "a non-negative integer"
	case a.hasMin && a.min == 1:
		return "a positive integer"
	case a.hasMin:
		return fmt.Sprintf("an integer of at least %d", a.min)
	}
	return "an integer"
}

// format is the inverse of parse: the attribute text for a field value.
func (a *attrSpec) format(v reflect.Value) string {
	switch a.kind {
	case kindBool:
		return strconv.FormatBool(v.Bool())
	case kindInt:
		return strconv.Itoa(int(v.Int()))
	case kindList:
		return strings.Join(v.Interface().([]string), " ")
	}
	return v.String()
}

// isDefault reports whether v equals the attribute's default.
func (a *attrSpec) isDefault(v reflect.Value) bool {
	if a.kind == kindList {
		return slices.Equal(v.Interface().([]string), a.def.Interface().([]string))
	}
	return v.Equal(a.def)
}

// applyDefaults sets every attribute field of the element behind ptr to its default.
func applyDefaults(ptr any) {
	v := reflect.ValueOf(ptr).Elem()
	for _, a := range specOf(v.Type()).attrs {
		f := v.Field(a.field)
		if a.kind == kindList {
			f.Set(reflect.ValueOf(slices.Clone(a.def.Interface().([]string))))
			continue
		}
		f.Set(a.def)
	}
}

// New returns a new element of type T with every attribute at Twilio's
// default, ready to be filled in and marshalled:
//
//	d := twiml.New[twiml.Dial]()
//	d.Timeout = 20
func New[T any, P interface {
	*T
	Node
}]() P {
	p := P(new(T))
	applyDefaults(p)
	return p
}
