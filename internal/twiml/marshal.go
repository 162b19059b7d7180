package twiml

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Marshal writes r as a TwiML document: an XML declaration, then <Response>
// with one verb per line, nouns indented below their verb. An attribute is
// written when the document it came from gave it (Meta.Present) or when its
// value differs from Twilio's default, so Parse(Marshal(r)) gives back r
// (positions aside). Text is written as is; <Say> content keeps its
// whitespace. A string holding a character XML cannot carry gives
// ErrInvalidChar, a nil verb or noun ErrBadNode.
func Marshal(r *Response) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("twiml: marshal: %w", ErrBadNode)
	}
	w := &writer{}
	w.buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if len(r.Verbs) == 0 {
		w.buf.WriteString("<Response/>\n")
	} else {
		w.buf.WriteString("<Response>\n")
		for _, v := range r.Verbs {
			w.node(v, 1)
		}
		w.buf.WriteString("</Response>\n")
	}
	if w.err != nil {
		return nil, w.err
	}
	return w.buf.Bytes(), nil
}

type writer struct {
	buf bytes.Buffer
	err error
}

func (w *writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *writer) indent(depth int) {
	for range depth {
		w.buf.WriteString("  ")
	}
}

// open writes "<Name attrs" for a typed element.
func (w *writer) open(n Node) {
	w.buf.WriteByte('<')
	w.buf.WriteString(n.TagName())
	v := reflect.ValueOf(n).Elem()
	m := n.meta()
	for _, a := range specOf(v.Type()).attrs {
		f := v.Field(a.field)
		if !m.IsSet(a.name) && a.isDefault(f) {
			continue
		}
		w.attr(a.name, a.format(f))
	}
}

func (w *writer) attr(name, value string) {
	w.buf.WriteByte(' ')
	w.buf.WriteString(name)
	w.buf.WriteString(`="`)
	w.escape(value, true)
	w.buf.WriteByte('"')
}

// leaf writes a whole element whose content is text (possibly empty).
func (w *writer) leaf(n Node, depth int, text string) {
	w.indent(depth)
	w.open(n)
	if text == "" {
		w.buf.WriteString("/>\n")
		return
	}
	w.buf.WriteByte('>')
	w.escape(text, false)
	w.closeTag(n.TagName())
}

func (w *writer) closeTag(name string) {
	w.buf.WriteString("</")
	w.buf.WriteString(name)
	w.buf.WriteString(">\n")
}

// parent writes an element with child elements, one per line.
func (w *writer) parent(n Node, depth int, children func()) {
	w.indent(depth)
	w.open(n)
	w.buf.WriteString(">\n")
	children()
	w.indent(depth)
	w.closeTag(n.TagName())
}

func (w *writer) params(ps []*Parameter, depth int) {
	for _, p := range ps {
		if p == nil {
			w.fail(fmt.Errorf("twiml: marshal: nil Parameter: %w", ErrBadNode))
			continue
		}
		w.leaf(p, depth, "")
	}
}

func (w *writer) node(n Node, depth int) {
	if n == nil || reflect.ValueOf(n).IsNil() {
		w.fail(fmt.Errorf("twiml: marshal: %w", ErrBadNode))
		return
	}
	switch x := n.(type) {
	case *Say:
		w.indent(depth)
		w.open(x)
		w.buf.WriteByte('>')
		w.content(x.Content)
		w.closeTag("Say")
	case *Play:
		w.leaf(x, depth, x.URL)
	case *Pause, *Leave, *Echo, *Parameter, *Record:
		w.leaf(x, depth, "")
	case *Redirect:
		w.leaf(x, depth, x.URL)
	case *Number:
		w.leaf(x, depth, x.PhoneNumber)
	case *Sip:
		w.leaf(x, depth, x.URI)
	case *ReferSip:
		w.leaf(x, depth, x.URI)
	case *Conference:
		w.leaf(x, depth, x.Name)
	case *Queue:
		w.leaf(x, depth, x.Name)
	case *Task:
		w.leaf(x, depth, x.Body)
	case *Gather:
		w.verbs(x, x.Verbs, depth)
	case *Dial:
		if len(x.Nouns) == 0 {
			w.leaf(x, depth, x.Number)
			return
		}
		w.parent(x, depth, func() {
			if x.Number != "" {
				w.indent(depth + 1)
				w.escape(x.Number, false)
				w.buf.WriteByte('\n')
			}
			for _, c := range x.Nouns {
				w.node(c, depth+1)
			}
		})
	case *Client:
		if !x.IdentityElement && len(x.Parameters) == 0 {
			w.leaf(x, depth, x.Identity)
			return
		}
		w.parent(x, depth, func() {
			if x.IdentityElement {
				w.indent(depth + 1)
				w.buf.WriteString("<Identity>")
				w.escape(x.Identity, false)
				w.closeTag("Identity")
			}
			w.params(x.Parameters, depth+1)
		})
	case *Enqueue:
		if x.Task == nil {
			w.leaf(x, depth, x.Name)
			return
		}
		w.indent(depth)
		w.open(x)
		w.buf.WriteByte('>')
		w.escape(x.Name, false)
		w.buf.WriteByte('\n')
		w.node(x.Task, depth+1)
		w.indent(depth)
		w.closeTag("Enqueue")
	case *Hangup:
		w.withParams(x, x.Parameters, depth)
	case *Reject:
		w.withParams(x, x.Parameters, depth)
	case *Stream:
		w.withParams(x, x.Parameters, depth)
	case *Siprec:
		w.withParams(x, x.Parameters, depth)
	case *Refer:
		if x.Sip == nil {
			w.leaf(x, depth, "")
			return
		}
		w.parent(x, depth, func() { w.node(x.Sip, depth+1) })
	case *Connect:
		w.nouns(x, x.Nouns, depth)
	case *Start:
		w.nouns(x, x.Nouns, depth)
	case *Stop:
		w.nouns(x, x.Nouns, depth)
	case *Element:
		w.indent(depth)
		w.element(x)
		w.buf.WriteByte('\n')
	case *Response:
		w.fail(fmt.Errorf("twiml: marshal: <Response> nested in a document: %w", ErrBadNode))
	default:
		w.fail(fmt.Errorf("twiml: marshal: unknown node type %T: %w", n, ErrBadNode))
	}
}

func (w *writer) withParams(n Node, ps []*Parameter, depth int) {
	if len(ps) == 0 {
		w.leaf(n, depth, "")
		return
	}
	w.parent(n, depth, func() { w.params(ps, depth+1) })
}

func (w *writer) verbs(n Node, vs []Verb, depth int) {
	if len(vs) == 0 {
		w.leaf(n, depth, "")
		return
	}
	w.parent(n, depth, func() {
		for _, v := range vs {
			w.node(v, depth+1)
		}
	})
}

func (w *writer) nouns(n Node, ns []Noun, depth int) {
	if len(ns) == 0 {
		w.leaf(n, depth, "")
		return
	}
	w.parent(n, depth, func() {
		for _, c := range ns {
			w.node(c, depth+1)
		}
	})
}

// element writes a generic element inline, exactly as its content is.
func (w *writer) element(e *Element) {
	if e.Name == "" || strings.ContainsAny(e.Name, " \t\r\n<>&\"'/=") {
		w.fail(fmt.Errorf("twiml: marshal: element name %q: %w", e.Name, ErrInvalidChar))
		return
	}
	w.buf.WriteByte('<')
	w.buf.WriteString(e.Name)
	for _, a := range e.Attrs {
		if a.Name == "" || strings.ContainsAny(a.Name, " \t\r\n<>&\"'/=") {
			w.fail(fmt.Errorf("twiml: marshal: attribute name %q: %w", a.Name, ErrInvalidChar))
			return
		}
		w.attr(a.Name, a.Value)
	}
	if len(e.Children) == 0 {
		w.buf.WriteString("/>")
		return
	}
	w.buf.WriteByte('>')
	w.content(e.Children)
	w.buf.WriteString("</")
	w.buf.WriteString(e.Name)
	w.buf.WriteByte('>')
}

func (w *writer) content(cs []Content) {
	for _, c := range cs {
		switch c := c.(type) {
		case Text:
			w.escape(string(c), false)
		case *Element:
			if c == nil {
				w.fail(fmt.Errorf("twiml: marshal: nil SSML element: %w", ErrBadNode))
				continue
			}
			w.element(c)
		default:
			w.fail(fmt.Errorf("twiml: marshal: content %T: %w", c, ErrBadNode))
		}
	}
}

// escape writes s as XML character data (attr=false) or an attribute value.
// Characters outside XML 1.0's Char production fail with ErrInvalidChar.
func (w *writer) escape(s string, attr bool) {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				w.fail(fmt.Errorf("twiml: marshal: invalid UTF-8 in %q: %w", s, ErrInvalidChar))
				return
			}
		}
		if !isXMLChar(r) {
			w.fail(fmt.Errorf("twiml: marshal: character %U in %q: %w", r, s, ErrInvalidChar))
			return
		}
		switch r {
		case '&':
			w.buf.WriteString("&amp;")
		case '<':
			w.buf.WriteString("&lt;")
		case '>':
			w.buf.WriteString("&gt;")
		case '\r':
			w.buf.WriteString("&#xD;")
		case '"':
			if attr {
				w.buf.WriteString("&quot;")
			} else {
				w.buf.WriteByte('"')
			}
		case '\n':
			if attr {
				w.buf.WriteString("&#xA;")
			} else {
				w.buf.WriteByte('\n')
			}
		case '\t':
			if attr {
				w.buf.WriteString("&#x9;")
			} else {
				w.buf.WriteByte('\t')
			}
		default:
			w.buf.WriteRune(r)
		}
	}
}

// isXMLChar is XML 1.0's Char production (https://www.w3.org/TR/xml/#charsets).
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
