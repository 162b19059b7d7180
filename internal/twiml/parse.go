package twiml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxDocumentSize is the largest TwiML document Parse accepts: Twilio refuses a
// response body over 64 kB with error 11750.
const MaxDocumentSize = 64 << 10

// MaxDepth is how deeply elements may nest. Real TwiML needs a handful of
// levels (Response > Gather > Say > prosody > emphasis); the cap keeps a
// hostile document from costing more than its size.
const MaxDepth = 32

// rawNode is an element as read from the document, before typing.
type rawNode struct {
	name     string
	pos      Pos
	attrs    []rawAttr
	children []rawChild
}

type rawAttr struct {
	name  string
	value string
	pos   Pos
}

// rawChild is either an element or a run of character data.
type rawChild struct {
	elem *rawNode
	text string
	pos  Pos
}

// lineIndex turns byte offsets into line:column positions, columns counted in
// characters. Offsets are asked for in increasing order while parsing, so it
// keeps a cursor and counts characters only from there: linear overall.
type lineIndex struct {
	data []byte
	line int // cursor: 1-based line,
	off  int // the cursor's byte offset,
	col  int // and its 1-based column.
}

func newLineIndex(data []byte) *lineIndex {
	li := &lineIndex{data: data}
	li.rewind()
	return li
}

// rewind puts the cursor at the start, past a byte order mark, which no
// editor shows as a column.
func (li *lineIndex) rewind() {
	li.line, li.off, li.col = 1, 0, 1
	if bytes.HasPrefix(li.data, []byte("\xef\xbb\xbf")) {
		li.off = 3
	}
}

func (li *lineIndex) pos(off int) Pos {
	off = max(0, min(off, len(li.data)))
	if off < li.off {
		li.rewind() // rare: an error reported after later positions
	}
	for li.off < off {
		c := li.data[li.off]
		switch {
		case c == '\n':
			li.line++
			li.off++
			li.col = 1
			continue
		case c < utf8.RuneSelf:
			li.off++
		default:
			_, n := utf8.DecodeRune(li.data[li.off:])
			li.off += n
		}
		li.col++
	}
	return Pos{Line: li.line, Col: li.col}
}

// readDocument reads at most MaxDocumentSize bytes from r.
func readDocument(r io.Reader) ([]byte, *Error, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDocumentSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("twiml: reading document: %w", err)
	}
	if len(data) > MaxDocumentSize {
		li := newLineIndex(data)
		return nil, &Error{
			Code: CodeResponseTooLarge,
			Pos:  li.pos(MaxDocumentSize),
			Msg:  fmt.Sprintf("TwiML response body too large: over %d bytes (64 kB)", MaxDocumentSize),
		}, nil
	}
	return data, nil, nil
}

// parseTree checks that data is a well-formed UTF-8 XML document with a
// <Response> root and returns its element tree. Any failure is one *Error with
// code 12100 (or 12102 for another root), as Twilio reports.
func parseTree(data []byte) (*rawNode, *Error) {
	li := newLineIndex(data)
	fail := func(off int, format string, args ...any) (*rawNode, *Error) {
		return nil, &Error{Code: CodeParseFailure, Pos: li.pos(off), Msg: "Document parse failure: " + fmt.Sprintf(format, args...)}
	}
	start := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		start = 3
	}
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return fail(off, "invalid UTF-8")
	}
	if len(bytes.TrimSpace(data[start:])) == 0 {
		return fail(len(data), "empty document")
	}

	d := xml.NewDecoder(bytes.NewReader(data[start:]))
	d.Strict = true
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return in, nil
		}
		return nil, fmt.Errorf("encoding %q is not supported, use UTF-8", label)
	}

	var (
		stack []*rawNode
		root  *rawNode
		done  bool // the root element has closed
	)
	for {
		off := start + int(d.InputOffset())
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			msg := err.Error()
			if errors.As(err, &se) {
				msg = se.Msg
			}
			return fail(start+int(d.InputOffset()), "%s", msg)
		}
		end := start + int(d.InputOffset())
		switch t := tok.(type) {
		case xml.ProcInst:
			if t.Target == "xml" && off != start {
				return fail(off, "the XML declaration must be at the very start of the document")
			}
		case xml.Directive:
			return fail(off, "DOCTYPE and other directives are not allowed")
		case xml.Comment:
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return fail(off, "text outside the root element")
				}
				continue
			}
			top := stack[len(stack)-1]
			// Adjacent runs (text, CDATA, entity) join into one text child.
			if n := len(top.children); n > 0 && top.children[n-1].elem == nil {
				top.children[n-1].text += string(t)
				continue
			}
			top.children = append(top.children, rawChild{text: string(t), pos: li.pos(off)})
		case xml.StartElement:
			if done {
				return fail(off, "more than one root element")
			}
			if len(stack) >= MaxDepth {
				return fail(off, "elements nest deeper than %d levels", MaxDepth)
			}
			n := &rawNode{name: qname(t.Name), pos: li.pos(off)}
			if len(t.Attr) > 0 {
				offs := attrOffsets(data[off:end], len(t.Attr))
				n.attrs = make([]rawAttr, len(t.Attr))
				seen := make(map[string]bool, len(t.Attr))
				for i, a := range t.Attr {
					name := qname(a.Name)
					if seen[name] {
						return fail(off+offs[i], "attribute %s appears twice in <%s>", name, n.name)
					}
					seen[name] = true
					n.attrs[i] = rawAttr{name: name, value: a.Value, pos: li.pos(off + offs[i])}
				}
			}
			if len(stack) == 0 {
				root = n
			} else {
				top := stack[len(stack)-1]
				top.children = append(top.children, rawChild{elem: n, pos: n.pos})
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 {
				return fail(off, "unexpected end element </%s>", qname(t.Name))
			}
			top := stack[len(stack)-1]
			if name := qname(t.Name); name != top.name {
				return fail(off, "element <%s> closed by </%s>", top.name, name)
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				done = true
			}
		}
	}
	if len(stack) > 0 {
		return fail(len(data), "element <%s> is not closed", stack[len(stack)-1].name)
	}
	if root == nil {
		return fail(len(data), "no root element")
	}
	if root.name != "Response" {
		return nil, &Error{Code: CodeRootNotResponse, Pos: root.pos, Msg: fmt.Sprintf("The root element must be Response, not <%s>", root.name)}
	}
	return root, nil
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// attrOffsets finds the byte offset, within the start tag tag, of each of the
// first n attribute names. The tag is well-formed (the decoder accepted it),
// so a name is the run of non-space characters before '=' outside quotes.
func attrOffsets(tag []byte, n int) []int {
	offs := make([]int, 0, n)
	i := 1 // skip '<'
	for i < len(tag) && !isXMLSpace(tag[i]) && tag[i] != '>' && tag[i] != '/' {
		i++ // element name
	}
	for len(offs) < n && i < len(tag) {
		for i < len(tag) && isXMLSpace(tag[i]) {
			i++
		}
		if i >= len(tag) || tag[i] == '>' || tag[i] == '/' {
			break
		}
		offs = append(offs, i)
		for i < len(tag) && tag[i] != '=' {
			i++
		}
		i++ // '='
		for i < len(tag) && isXMLSpace(tag[i]) {
			i++
		}
		if i >= len(tag) {
			break
		}
		q := tag[i]
		i++
		for i < len(tag) && tag[i] != q {
			i++
		}
		i++ // closing quote
	}
	for len(offs) < n {
		offs = append(offs, 0)
	}
	return offs
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
