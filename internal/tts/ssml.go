package tts

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// BuildSSML turns the inner XML of a <Say> that has SSML children (its text
// and child elements, exactly as written in the TwiML, e.g.
// `Hello <break time="1s"/> <prosody rate="slow">world</prosody>`) into the
// <speak> document that goes in Request.SSML. Twilio's <Say> SSML
// (https://www.twilio.com/docs/voice/twiml/say/text-speech#ssml-tags) is
// written without <speak> and may use the amazon: prefix without declaring it;
// both are fine. It fails with ErrInvalidSSML when the markup is not
// well-formed.
func BuildSSML(inner string) (string, error) {
	doc := "<speak>" + inner + "</speak>"
	if err := wellFormed(doc); err != nil {
		return "", err
	}
	return doc, nil
}

// wellFormed checks that doc is one well-formed XML element.
func wellFormed(doc string) error {
	d := newSSMLDecoder(doc)
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidSSML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && strings.TrimSpace(string(t)) != "" {
				return fmt.Errorf("%w: text outside <speak>", ErrInvalidSSML)
			}
		}
	}
	if roots != 1 {
		return fmt.Errorf("%w: want one root element, have %d", ErrInvalidSSML, roots)
	}
	return nil
}

func newSSMLDecoder(doc string) *xml.Decoder {
	d := xml.NewDecoder(strings.NewReader(doc))
	d.Strict = true
	d.Entity = xml.HTMLEntity // &nbsp; and friends, as browsers and Polly accept
	return d
}

// maxSSMLDepth bounds element nesting; deeper elements are unwrapped (their
// text is kept) so a hostile document cannot make the output explode.
const maxSSMLDepth = 32

// maxBreak is the longest <break> Amazon Polly accepts
// (https://docs.aws.amazon.com/polly/latest/dg/break-tag.html); longer ones are
// shortened to it.
const maxBreakMillis = 10_000

// ssmlOptions says how to rewrite a document for espeak-ng.
type ssmlOptions struct {
	// text rewrites the text of the document's own language (ToKana for
	// Japanese); nil keeps it.
	text func(string) string
	// gender is put on the <voice> that a <lang> element becomes.
	gender Gender
	// base is the espeak-ng language of the document ("en-us"), restored after
	// each <lang>: espeak-ng does not always return to the voice it was
	// started with when a <voice> ends (it stays Japanese after a "ja" one).
	base string
}

// ssmlResult is a document rewritten for espeak-ng.
type ssmlResult struct {
	doc      string
	chars    int  // characters of text to speak (markup excluded)
	hasText  bool // there is text other than white space
	speaks   bool // there is a letter, digit or symbol to speak
	pauses   bool // there is a <break> of some length
	warnings []Warning
}

// espeakSSML rewrites an SSML document (a <speak> element, or bare inner XML)
// into the SSML dialect espeak-ng understands (see
// https://github.com/espeak-ng/espeak-ng/blob/master/docs/markup.md):
//
//   - <break>, <p>, <s>, <prosody>, <emphasis> pass through with their
//     attributes checked: <break time> is clamped to 10 s, <prosody volume> in
//     dB becomes the percentage espeak-ng reads, an invalid <prosody rate> is
//     dropped with a 13513 warning, as Twilio does;
//   - <lang xml:lang> becomes <voice xml:lang> with the espeak-ng language;
//   - <say-as interpret-as> "characters", "spell-out", "digits", "telephone"
//     spells the text out; "expletive" is replaced by a short silence (Polly
//     bleeps it); other values just speak the text;
//   - <sub alias> is replaced by its alias;
//   - <mark> and <desc> are removed; every other element (<phoneme>, <w>,
//     <voice>, <audio>, amazon:effect...) is removed but its text is kept;
//   - text is cleaned (control characters, invalid UTF-8), rewritten by
//     o.text where the document's language applies, and escaped.
//
// It fails with ErrInvalidSSML when doc is not well-formed.
func espeakSSML(doc string, o ssmlOptions) (ssmlResult, error) {
	doc = strings.TrimSpace(doc)
	if !strings.HasPrefix(doc, "<speak") || wellFormed(doc) != nil {
		// Not a <speak> document: take it as the inner XML of a <Say>.
		doc = "<speak>" + doc + "</speak>"
	}
	w := ssmlWriter{opts: o}
	w.b.WriteString("<speak>")
	d := newSSMLDecoder(doc)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ssmlResult{}, fmt.Errorf("%w: %w", ErrInvalidSSML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			w.start(t)
		case xml.EndElement:
			w.end()
		case xml.CharData:
			w.text(string(t))
		}
	}
	w.b.WriteString(w.trailer + "</speak>")
	return ssmlResult{doc: w.b.String(), chars: w.chars, hasText: w.hasText, speaks: w.speaks, pauses: w.pauses, warnings: w.warnings}, nil
}

// A frame is one open element of the input.
type frame struct {
	closing string              // end tag(s) written for it, or ""
	drop    bool                // its content is not spoken
	restore bool                // a <lang>: the document's voice resumes after it
	text    func(string) string // text rewrite inside it
}

type ssmlWriter struct {
	opts     ssmlOptions
	b        strings.Builder
	stack    []frame
	trailer  string // end tags owed at the end of the document
	switches int    // <lang> elements turned into <voice>
	afterTag bool   // the last thing written was an end tag or <break/>
	chars    int
	hasText  bool
	speaks   bool
	pauses   bool
	warnings []Warning
}

func (w *ssmlWriter) top() frame {
	if len(w.stack) == 0 {
		return frame{text: w.opts.text}
	}
	return w.stack[len(w.stack)-1]
}

func (w *ssmlWriter) push(f frame) { w.stack = append(w.stack, f) }

func (w *ssmlWriter) start(t xml.StartElement) {
	parent := w.top()
	f := frame{drop: parent.drop, text: parent.text}
	if parent.drop || len(w.stack) >= maxSSMLDepth {
		w.push(f)
		return
	}
	name := strings.ToLower(t.Name.Local)
	if t.Name.Space != "" && t.Name.Space != "http://www.w3.org/2001/10/synthesis" {
		name = strings.ToLower(t.Name.Space) + ":" + name // amazon:effect...
	}
	switch name {
	case "break":
		w.writeBreak(t)
		f.drop = true
	case "p", "s":
		f.closing = w.open(name, nil)
	case "prosody":
		if attrs := w.prosodyAttrs(t); len(attrs) > 0 {
			f.closing = w.open("prosody", attrs)
		}
	case "emphasis":
		level := strings.ToLower(attr(t, "level"))
		switch level {
		case "strong", "moderate", "reduced":
			f.closing = w.open("emphasis", []xml.Attr{{Name: xml.Name{Local: "level"}, Value: level}})
		case "none":
		default:
			f.closing = w.open("emphasis", nil)
		}
	case "lang":
		if l, ok := lookupLanguage(attrLang(t)); ok && w.switches < maxLangSwitches {
			w.switches++
			f.closing = w.open("voice", w.voiceAttrs(l.espeak))
			f.restore = true
			f.text = nil
			if l.espeak == "ja" {
				f.text = ToKana
			}
		}
	case "say-as":
		switch strings.ToLower(attr(t, "interpret-as")) {
		case "characters", "spell-out", "verbatim", "digits", "telephone":
			// espeak-ng's "characters" reads a run of digits as a grouped
			// number ("five comma five five one..."): space every character out.
			f.closing = w.open("say-as", []xml.Attr{{Name: xml.Name{Local: "interpret-as"}, Value: "characters"}})
			f.text = chain(parent.text, spaceOut)
		case "expletive":
			w.writeBreakMillis(500)
			f.drop = true
		}
	case "sub":
		if alias := attr(t, "alias"); strings.TrimSpace(alias) != "" {
			w.text(alias) // the alias is spoken instead of the content
			f.drop = true
		}
	case "mark", "desc":
		f.drop = true
	}
	w.push(f)
}

func (w *ssmlWriter) end() {
	if len(w.stack) == 0 {
		return
	}
	f := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	if f.closing != "" {
		w.b.WriteString(f.closing)
		w.afterTag = true
	}
	if f.restore && w.opts.base != "" {
		// Speak the rest of the enclosing element in the document's voice
		// again, explicitly; its end tag is owed by that element.
		w.b.WriteString("<voice")
		writeAttrs(&w.b, w.voiceAttrs(w.opts.base))
		w.b.WriteString(">")
		if len(w.stack) == 0 {
			w.trailer = "</voice>" + w.trailer
		} else {
			w.stack[len(w.stack)-1].closing = "</voice>" + w.stack[len(w.stack)-1].closing
		}
	}
}

// maxLangSwitches bounds the <lang> elements turned into voice changes (each
// nests one more <voice> in espeak-ng); later ones are spoken in the
// surrounding voice.
const maxLangSwitches = 8

func (w *ssmlWriter) voiceAttrs(lang string) []xml.Attr {
	attrs := []xml.Attr{{Name: xml.Name{Local: "xml:lang"}, Value: lang}}
	if g := w.opts.gender; g != GenderUnknown {
		attrs = append(attrs, xml.Attr{Name: xml.Name{Local: "gender"}, Value: g.String()})
	}
	return attrs
}

// chain applies f then g; either may be nil.
func chain(f, g func(string) string) func(string) string {
	switch {
	case f == nil:
		return g
	case g == nil:
		return f
	}
	return func(s string) string { return g(f(s)) }
}

// spaceOut puts a space between the characters of s: "5551234" -> "5 5 5 1 2 3 4".
func spaceOut(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	prevSpace := true
	for _, r := range s {
		if unicode.IsSpace(r) {
			if !prevSpace {
				b.WriteByte(' ')
			}
			prevSpace = true
			continue
		}
		if !prevSpace {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		prevSpace = false
	}
	return b.String()
}

func (w *ssmlWriter) text(s string) {
	f := w.top()
	if f.drop {
		return
	}
	s = cleanText(s)
	w.countText(s) // as written: Twilio counts the characters it was given
	if f.text != nil {
		s = f.text(s)
	}
	if w.afterTag {
		// espeak-ng reads a "." right after an end tag as the word "dot"
		// ("<prosody>world</prosody>. Next" says "world dot next"). A lone
		// period there ends a sentence: say so with a sentence break.
		if rest, ok := strings.CutPrefix(s, "."); ok && !strings.HasPrefix(rest, ".") &&
			(rest == "" || !unicode.IsDigit(rune(rest[0]))) {
			w.b.WriteString(`<break strength="strong"/>`)
			s = rest
		}
	}
	if s == "" {
		return
	}
	_ = xml.EscapeText(&w.b, []byte(s)) // a strings.Builder never fails
	w.afterTag = false
}

func (w *ssmlWriter) countText(s string) {
	w.chars += utf8.RuneCountInString(s)
	if !w.hasText && strings.TrimSpace(s) != "" {
		w.hasText = true
	}
	if !w.speaks && speakable(s) {
		w.speaks = true
	}
}

// open writes a start tag and returns the matching end tag.
func (w *ssmlWriter) open(name string, attrs []xml.Attr) string {
	w.b.WriteString("<" + name)
	writeAttrs(&w.b, attrs)
	w.b.WriteString(">")
	w.afterTag = false
	return "</" + name + ">"
}

func writeAttrs(b *strings.Builder, attrs []xml.Attr) {
	for _, a := range attrs {
		b.WriteString(" " + a.Name.Local + `="`)
		_ = xml.EscapeText(b, []byte(a.Value))
		b.WriteString(`"`)
	}
}

// writeBreak writes a <break> (https://www.w3.org/TR/speech-synthesis11/#S3.2.3):
// a valid time wins over strength; an invalid time is ignored.
func (w *ssmlWriter) writeBreak(t xml.StartElement) {
	if ms, ok := parseBreakTime(attr(t, "time")); ok {
		w.writeBreakMillis(ms)
		return
	}
	switch s := strings.ToLower(attr(t, "strength")); s {
	case "none":
		w.afterTag = true
		return
	case "x-weak", "weak", "medium", "strong", "x-strong":
		w.b.WriteString(`<break strength="` + s + `"/>`)
	default:
		w.b.WriteString(`<break/>`)
	}
	w.pauses = true
	w.afterTag = true
}

func (w *ssmlWriter) writeBreakMillis(ms int) {
	if ms > 0 {
		w.b.WriteString(`<break time="` + strconv.Itoa(ms) + `ms"/>`)
		w.pauses = true
	}
	w.afterTag = true
}

// parseBreakTime reads "500ms", "1s", "1.5s" into milliseconds, clamped to
// maxBreakMillis.
func parseBreakTime(s string) (int, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	unit := 1.0
	switch {
	case strings.HasSuffix(s, "ms"):
		s = s[:len(s)-2]
	case strings.HasSuffix(s, "s"):
		s, unit = s[:len(s)-1], 1000
	default:
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return int(math.Round(min(v*unit, maxBreakMillis))), true
}

// prosodyAttrs checks <prosody>'s rate, pitch and volume
// (https://www.w3.org/TR/speech-synthesis11/#S3.2.4) and returns those
// espeak-ng can use.
func (w *ssmlWriter) prosodyAttrs(t xml.StartElement) []xml.Attr {
	var out []xml.Attr
	add := func(name, value string) {
		out = append(out, xml.Attr{Name: xml.Name{Local: name}, Value: value})
	}
	if v, present := attrOK(t, "rate"); present {
		if r, ok := prosodyRate(v); ok {
			add("rate", r)
		} else {
			w.warnings = append(w.warnings, Warning{CodeInvalidRate,
				fmt.Sprintf("invalid <prosody rate=%q>: using the default rate", v)})
		}
	}
	if v, present := attrOK(t, "pitch"); present {
		if p, ok := prosodyPitch(v); ok {
			add("pitch", p)
		}
	}
	if v, present := attrOK(t, "volume"); present {
		if p, ok := prosodyVolume(v); ok {
			add("volume", p)
		}
	}
	return out
}

var rateWords = map[string]bool{"x-slow": true, "slow": true, "medium": true, "fast": true, "x-fast": true, "default": true}

// prosodyRate accepts the keywords and a percentage, which Polly limits to
// 20%..200% (https://docs.aws.amazon.com/polly/latest/dg/prosody-tag.html).
func prosodyRate(v string) (string, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	if rateWords[v] {
		return v, true
	}
	p, ok := percent(v)
	if !ok || p <= 0 {
		return "", false
	}
	return strconv.Itoa(int(math.Round(max(20, min(p, 200))))) + "%", true
}

var pitchWords = map[string]bool{"x-low": true, "low": true, "medium": true, "high": true, "x-high": true, "default": true}

func prosodyPitch(v string) (string, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	if pitchWords[v] {
		return v, true
	}
	p, ok := percent(v)
	if !ok {
		return "", false
	}
	if strings.HasPrefix(v, "+") || strings.HasPrefix(v, "-") {
		return fmt.Sprintf("%+d%%", int(math.Round(max(-100, min(p, 100))))), true
	}
	return strconv.Itoa(int(math.Round(max(0, min(p, 300))))) + "%", true
}

var volumeWords = map[string]bool{"silent": true, "x-soft": true, "soft": true, "medium": true, "loud": true, "x-loud": true, "default": true}

// prosodyVolume accepts the keywords and "+6dB"/"-6dB", which espeak-ng does
// not understand and is turned into the amplitude percentage (+6 dB = 200%).
func prosodyVolume(v string) (string, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	if volumeWords[v] {
		return v, true
	}
	n, ok := strings.CutSuffix(v, "db")
	if !ok {
		return "", false
	}
	db, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
	if err != nil || math.IsNaN(db) || math.IsInf(db, 0) {
		return "", false
	}
	amp := 100 * math.Pow(10, max(-60, min(db, 20))/20)
	return strconv.Itoa(int(math.Round(min(amp, 400)))) + "%", true
}

// percent reads "85%", "+10%", "-20%".
func percent(v string) (float64, bool) {
	n, ok := strings.CutSuffix(v, "%")
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func attr(t xml.StartElement, local string) string {
	v, _ := attrOK(t, local)
	return v
}

func attrOK(t xml.StartElement, local string) (string, bool) {
	for _, a := range t.Attr {
		if strings.EqualFold(a.Name.Local, local) {
			return a.Value, true
		}
	}
	return "", false
}

// attrLang returns xml:lang (the decoder reports its space as "xml" or the XML
// namespace URI).
func attrLang(t xml.StartElement) string {
	for _, a := range t.Attr {
		if a.Name.Local == "lang" {
			return a.Value
		}
	}
	return ""
}

// cleanText makes text safe to hand to espeak-ng: invalid UTF-8 and control
// characters become spaces (espeak-ng stops at NUL and reads some control
// characters as commands), and "[[", which espeak-ng takes as the start of raw
// phoneme input, is broken up.
func cleanText(s string) string {
	clean := true
	for i, r := range s {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\n' && r != '\t') ||
			(r == '[' && strings.HasPrefix(s[i:], "[[")) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteByte(' ')
		case r == utf8.RuneError: // a literal U+FFFD
			b.WriteByte(' ')
		case unicode.IsControl(r) && r != '\n' && r != '\t':
			b.WriteByte(' ')
		case r == '[' && strings.HasPrefix(s[i:], "[["):
			b.WriteString("[ ")
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// speakable reports whether s has something to speak: a letter, a digit or a
// symbol ($, %, emoji), not only punctuation and white space.
func speakable(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsSymbol(r) {
			return true
		}
	}
	return false
}
