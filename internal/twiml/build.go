package twiml

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
)

// Parse reads a TwiML voice document from r and returns its model.
//
// The error, when not nil, is an ErrorList holding every problem found, in
// document order, each with Twilio's code and a line:column position:
//   - a document over MaxDocumentSize (11750), not well-formed XML, not UTF-8,
//     nested deeper than MaxDepth (12100) or whose root is not <Response>
//     (12102) gives no model: Parse returns nil and a one-error list;
//   - a well-formed document that breaks TwiML rules (12200, 13xxx, 14xxx,
//     16xxx) still gives a model, as Twilio still runs it: unknown verbs and
//     nouns are left out of it, and an attribute with a wrong value keeps its
//     default. The caller decides whether to run it.
//
// Unknown attributes are ignored, as Twilio ignores them. An error reading r
// is returned as is, wrapped.
func Parse(r io.Reader) (*Response, error) {
	data, tooLarge, err := readDocument(r)
	if err != nil {
		return nil, err
	}
	if tooLarge != nil {
		return nil, ErrorList{tooLarge}
	}
	return ParseBytes(data)
}

// ParseBytes is Parse on a document already in memory.
func ParseBytes(data []byte) (*Response, error) {
	if len(data) > MaxDocumentSize {
		_, tooLarge, _ := readDocument(bytes.NewReader(data))
		return nil, ErrorList{tooLarge}
	}
	root, perr := parseTree(data)
	if perr != nil {
		return nil, ErrorList{perr}
	}
	b := &builder{}
	resp := b.response(root)
	if len(b.errs) > 0 {
		sort.SliceStable(b.errs, func(i, j int) bool {
			pi, pj := b.errs[i].Pos, b.errs[j].Pos
			return pi.Line < pj.Line || (pi.Line == pj.Line && pi.Col < pj.Col)
		})
		return resp, b.errs
	}
	return resp, nil
}

// Validate checks a model built in code against the same rules Parse applies,
// by writing it out and reading it back. Positions in the errors refer to the
// document Marshal writes.
func Validate(r *Response) error {
	data, err := Marshal(r)
	if err != nil {
		return err
	}
	_, err = ParseBytes(data)
	return err
}

// builder turns the raw element tree into the typed model, collecting errors.
type builder struct {
	errs ErrorList
}

func (b *builder) errorf(code int, pos Pos, format string, args ...any) {
	b.errs = append(b.errs, &Error{Code: code, Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// attrs fills the attribute fields of elem (a pointer to an element struct)
// from n's attributes: defaults first, then every known attribute the
// document gives. Unknown attributes are ignored. remap changes an error code
// for a context (Say inside Gather reports 13321/13322, not 13511/13510).
func (b *builder) attrs(n *rawNode, elem Node, remap map[int]int) {
	applyDefaults(elem)
	v := reflect.ValueOf(elem).Elem()
	spec := specOf(v.Type())
	m := elem.meta()
	m.Pos = n.pos
	who := n.name
	if remap != nil {
		who = "Gather->" + n.name // the only remapping context
	}
	var present []int
	for _, ra := range n.attrs {
		i, ok := spec.byName[ra.name]
		if !ok {
			continue // Twilio ignores attributes it does not know.
		}
		a := &spec.attrs[i]
		val, msg := a.parse(ra.value)
		if msg != "" {
			code := a.code
			if c, ok := remap[code]; ok {
				code = c
			}
			b.errorf(code, ra.pos, "%s: invalid %s value %q: %s", who, a.name, ra.value, msg)
			continue
		}
		v.Field(a.field).Set(val)
		present = append(present, i)
	}
	if len(present) > 0 {
		sort.Ints(present)
		m.Present = make([]string, 0, len(present))
		for i, idx := range present {
			if i > 0 && present[i-1] == idx {
				continue
			}
			m.Present = append(m.Present, spec.attrs[idx].name)
		}
	}
}

// hasAttr reports whether n has attribute name, valid or not.
func hasAttr(n *rawNode, name string) bool {
	for _, a := range n.attrs {
		if a.name == name {
			return true
		}
	}
	return false
}

// hasElements reports whether n has a child element, allowed or not: a
// "required" error would only repeat the error about that element.
func hasElements(n *rawNode) bool {
	for _, c := range n.children {
		if c.elem != nil {
			return true
		}
	}
	return false
}

// attrPos is the position of attribute name on n, or n's position.
func attrPos(n *rawNode, name string) Pos {
	for _, a := range n.attrs {
		if a.name == name {
			return a.pos
		}
	}
	return n.pos
}

// text returns n's character data, trimmed, reporting any child element as a
// schema error (code) since the element holds text only.
func (b *builder) text(n *rawNode, code int) string {
	var s strings.Builder
	for _, c := range n.children {
		if c.elem != nil {
			b.errorf(code, c.pos, "%s: <%s> is not allowed inside <%s>, which holds text only", n.name, c.elem.name, n.name)
			continue
		}
		s.WriteString(c.text)
	}
	return strings.TrimSpace(s.String())
}

// noContent reports any element or non-space text inside n, which takes none.
func (b *builder) noContent(n *rawNode) {
	for _, c := range n.children {
		if c.elem != nil {
			b.errorf(CodeSchema, c.pos, "%s: <%s> is not allowed inside <%s>", n.name, c.elem.name, n.name)
		} else if strings.TrimSpace(c.text) != "" {
			b.errorf(CodeSchema, c.pos, "%s: text is not allowed inside <%s>", n.name, n.name)
		}
	}
}

// elements returns n's child elements, reporting non-space text as an error.
func (b *builder) elements(n *rawNode, code int) []*rawNode {
	var out []*rawNode
	for _, c := range n.children {
		if c.elem != nil {
			out = append(out, c.elem)
		} else if strings.TrimSpace(c.text) != "" {
			b.errorf(code, c.pos, "%s: text is not allowed inside <%s>", n.name, n.name)
		}
	}
	return out
}

func (b *builder) response(n *rawNode) *Response {
	r := &Response{Meta: Meta{Pos: n.pos}}
	for _, c := range b.elements(n, CodeSchema) {
		if v := b.verb(c); v != nil {
			r.Verbs = append(r.Verbs, v)
		}
	}
	return r
}

// passThrough are the Twilio verbs switchboard keeps as a generic *Element:
// documented by Twilio, but not run by switchboard.
var passThroughVerbs = map[string]bool{"Pay": true, "Prompt": true, "Sms": true}

func (b *builder) verb(n *rawNode) Verb {
	switch n.name {
	case "Say":
		return b.say(n, nil)
	case "Play":
		return b.play(n)
	case "Pause":
		return b.pause(n)
	case "Gather":
		return b.gather(n)
	case "Record":
		return b.record(n)
	case "Dial":
		return b.dial(n)
	case "Enqueue":
		return b.enqueue(n)
	case "Leave":
		v := &Leave{}
		b.attrs(n, v, nil)
		b.noContent(n)
		return v
	case "Echo":
		v := &Echo{}
		b.attrs(n, v, nil)
		b.noContent(n)
		return v
	case "Hangup":
		v := &Hangup{}
		b.attrs(n, v, nil)
		v.Parameters = b.parameters(n)
		return v
	case "Reject":
		v := &Reject{}
		b.attrs(n, v, nil)
		v.Parameters = b.parameters(n)
		return v
	case "Redirect":
		v := &Redirect{}
		b.attrs(n, v, nil)
		v.URL = b.text(n, CodeSchema)
		if v.URL == "" {
			b.errorf(CodeSchema, n.pos, "Redirect: a URL is required")
		} else {
			b.checkURL(n.pos, "Redirect", "URL", v.URL, CodeInvalidURL)
		}
		return v
	case "Refer":
		return b.refer(n)
	case "Connect":
		return b.connect(n)
	case "Start":
		return b.start(n)
	case "Stop":
		return b.stop(n)
	}
	if passThroughVerbs[n.name] {
		return b.generic(n)
	}
	b.errorf(CodeSchema, n.pos, "Response: unknown verb <%s> (TwiML names are case-sensitive)", n.name)
	return nil
}

// generic keeps n as an *Element, unvalidated.
func (b *builder) generic(n *rawNode) *Element {
	e := &Element{Meta: Meta{Pos: n.pos}, Name: n.name}
	for _, a := range n.attrs {
		e.Attrs = append(e.Attrs, Attr{Name: a.name, Value: a.value})
	}
	for _, c := range n.children {
		if c.elem != nil {
			e.Children = append(e.Children, b.generic(c.elem))
		} else if c.text != "" {
			e.Children = append(e.Children, Text(c.text))
		}
	}
	return e
}

func (b *builder) parameters(n *rawNode) []*Parameter {
	var ps []*Parameter
	for _, c := range b.elements(n, CodeSchema) {
		if c.name != "Parameter" {
			b.errorf(CodeSchema, c.pos, "%s: <%s> is not allowed inside <%s>", n.name, c.name, n.name)
			continue
		}
		ps = append(ps, b.parameter(c))
	}
	return ps
}

func (b *builder) parameter(n *rawNode) *Parameter {
	p := &Parameter{}
	b.attrs(n, p, nil)
	b.noContent(n)
	if p.Name == "" {
		b.errorf(CodeSchema, n.pos, "Parameter: the name attribute is required")
	}
	return p
}

func (b *builder) say(n *rawNode, remap map[int]int) *Say {
	s := &Say{}
	b.attrs(n, s, remap)
	code := func(c int) int {
		if r, ok := remap[c]; ok {
			return r
		}
		return c
	}
	if s.IsSet("voice") && !validVoice(s.Voice) {
		who := "Say"
		if remap != nil {
			who = "Gather->Say"
		}
		b.errorf(code(CodeSayVoice), attrPos(n, "voice"), "%s: invalid voice value %q: must be man, woman, alice, Polly.<name> or Google.<name>", who, s.Voice)
		s.Voice = "man"
		s.Present = without(s.Present, "voice")
	}
	if s.IsSet("language") && !validLanguage(s.Language) {
		b.errorf(CodeSchema, attrPos(n, "language"), "Say: invalid language value %q: must be a language tag such as en-US", s.Language)
		s.Language = "en-US"
		s.Present = without(s.Present, "language")
	}
	s.Content = b.ssmlContent(n, 0)
	text := strings.TrimSpace(s.Text())
	switch {
	case text == "" && !hasElement(s.Content):
		b.errorf(CodeSayText, n.pos, "Say: there is no text to say")
	case len([]rune(s.Text())) > MaxSayLength:
		b.errorf(CodeSayTooLong, n.pos, "Say: text is %d characters long, over the limit of %d", len([]rune(s.Text())), MaxSayLength)
	}
	return s
}

// MaxSayLength is the most characters one <Say> may speak (Twilio's limit; 13521).
const MaxSayLength = 4096

func hasElement(cs []Content) bool {
	for _, c := range cs {
		if _, ok := c.(*Element); ok {
			return true
		}
	}
	return false
}

func without(list []string, name string) []string {
	out := list[:0:0]
	for _, s := range list {
		if s != name {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (b *builder) play(n *rawNode) *Play {
	p := &Play{}
	b.attrs(n, p, nil)
	if p.IsSet("digits") && !validDigits(p.Digits) {
		b.errorf(CodePlayDigits, attrPos(n, "digits"), "Play: invalid digits value %q: use 0-9, *, #, w and W", p.Digits)
		p.Digits = ""
		p.Present = without(p.Present, "digits")
	}
	p.URL = b.text(n, CodeSchema)
	switch {
	case p.URL == "" && p.Digits == "" && !hasAttr(n, "digits"):
		b.errorf(CodeSchema, n.pos, "Play: a URL or the digits attribute is required")
	case p.URL != "":
		b.checkURL(n.pos, "Play", "URL", p.URL, CodeInvalidURL)
	}
	return p
}

func (b *builder) pause(n *rawNode) *Pause {
	p := &Pause{}
	b.attrs(n, p, nil)
	b.noContent(n)
	return p
}

var gatherSayRemap = map[int]int{CodeSayVoice: CodeGatherSayVoice, CodeSayLoop: CodeGatherSayLoop}

func (b *builder) gather(n *rawNode) *Gather {
	g := &Gather{}
	b.attrs(n, g, nil)
	if g.IsSet("finishOnKey") && !validFinishOnKey(g.FinishOnKey, false) {
		b.errorf(CodeGatherFinishOnKey, attrPos(n, "finishOnKey"), "Gather: invalid finishOnKey value %q: must be one of 0-9, # or *, or empty", g.FinishOnKey)
		g.FinishOnKey = "#"
		g.Present = without(g.Present, "finishOnKey")
	}
	if g.IsSet("speechTimeout") && !validSpeechTimeout(g.SpeechTimeout) {
		b.errorf(CodeGatherSpeechTimeout, attrPos(n, "speechTimeout"), "Gather: invalid speechTimeout value %q: must be auto or a non-negative integer", g.SpeechTimeout)
		g.SpeechTimeout = ""
		g.Present = without(g.Present, "speechTimeout")
	}
	if g.IsSet("language") && !validLanguage(g.Language) {
		b.errorf(CodeGatherLanguage, attrPos(n, "language"), "Gather: invalid language value %q: must be a language tag such as en-US", g.Language)
		g.Language = "en-US"
		g.Present = without(g.Present, "language")
	}
	if g.IsSet("speechModel") && !validSpeechModel(g.SpeechModel) {
		b.errorf(CodeGatherSpeechModel, attrPos(n, "speechModel"), "Gather: invalid speechModel value %q", g.SpeechModel)
		g.SpeechModel = ""
		g.Present = without(g.Present, "speechModel")
	}
	b.checkURL(attrPos(n, "action"), "Gather", "action", g.Action, CodeInvalidURL)
	for _, c := range b.elements(n, CodeGatherNested) {
		switch c.name {
		case "Say":
			g.Verbs = append(g.Verbs, b.say(c, gatherSayRemap))
		case "Play":
			g.Verbs = append(g.Verbs, b.play(c))
		case "Pause":
			g.Verbs = append(g.Verbs, b.pause(c))
		default:
			b.errorf(CodeGatherNested, c.pos, "Gather: <%s> is not allowed inside <Gather>; only Say, Play and Pause are", c.name)
		}
	}
	return g
}

func (b *builder) record(n *rawNode) *Record {
	r := &Record{}
	b.attrs(n, r, nil)
	b.noContent(n)
	if r.IsSet("finishOnKey") && !validFinishOnKey(r.FinishOnKey, true) {
		b.errorf(CodeRecordFinishOnKey, attrPos(n, "finishOnKey"), "Record: invalid finishOnKey value %q: use any of 0-9, # and *", r.FinishOnKey)
		r.FinishOnKey = "1234567890*#"
		r.Present = without(r.Present, "finishOnKey")
	}
	if r.Transcribe && r.IsSet("maxLength") && r.MaxLength > MaxTranscribeLength {
		b.errorf(CodeRecordTranscribeLen, attrPos(n, "maxLength"), "Record: maxLength %d is too high for transcription (at most %d seconds)", r.MaxLength, MaxTranscribeLength)
	}
	b.checkURL(attrPos(n, "action"), "Record", "action", r.Action, CodeInvalidURL)
	b.checkURL(attrPos(n, "transcribeCallback"), "Record", "transcribeCallback", r.TranscribeCallback, CodeTranscribeCallback)
	return r
}

// MaxTranscribeLength is the longest recording Twilio transcribes, in seconds
// (13615: "maxLength too high for transcription").
const MaxTranscribeLength = 120

// MaxDialNouns is how many nouns one <Dial> may ring at once (001_*: "up to ten").
const MaxDialNouns = 10

var passThroughDialNouns = map[string]bool{"Application": true, "Sim": true, "WhatsApp": true}

func (b *builder) dial(n *rawNode) *Dial {
	d := &Dial{}
	b.attrs(n, d, nil)
	if d.IsSet("callerId") && !validCallerID(d.CallerID) {
		b.errorf(CodeDialCallerID, attrPos(n, "callerId"), "Dial: invalid callerId value %q: use letters, digits and + - _ . : @ without spaces", d.CallerID)
		d.CallerID = ""
		d.Present = without(d.Present, "callerId")
	}
	b.checkURL(attrPos(n, "action"), "Dial", "action", d.Action, CodeInvalidURL)

	var text strings.Builder
	var textPos Pos
	for _, c := range n.children {
		if c.elem == nil {
			if strings.TrimSpace(c.text) != "" && textPos.Line == 0 {
				textPos = c.pos
			}
			text.WriteString(c.text)
			continue
		}
		switch c.elem.name {
		case "Number":
			d.Nouns = append(d.Nouns, b.number(c.elem))
		case "Sip":
			d.Nouns = append(d.Nouns, b.sip(c.elem))
		case "Client":
			d.Nouns = append(d.Nouns, b.client(c.elem))
		case "Conference":
			d.Nouns = append(d.Nouns, b.conference(c.elem))
		case "Queue":
			d.Nouns = append(d.Nouns, b.queue(c.elem))
		default:
			if passThroughDialNouns[c.elem.name] {
				d.Nouns = append(d.Nouns, b.generic(c.elem))
				continue
			}
			b.errorf(CodeDialNested, c.pos, "Dial: <%s> is not allowed inside <Dial>; use Number, Sip, Client, Conference or Queue", c.elem.name)
		}
	}
	d.Number = strings.TrimSpace(text.String())
	switch {
	case d.Number != "" && len(d.Nouns) > 0:
		b.errorf(CodeSchema, textPos, "Dial: a phone number as text cannot be combined with nested nouns")
		d.Number = ""
	case d.Number != "":
		if !validPhoneNumber(d.Number) {
			b.errorf(CodePhoneNumberFormat, textPos, "Dial: invalid phone number format %q", d.Number)
		}
	case len(d.Nouns) == 0:
		b.errorf(CodeSchema, n.pos, "Dial: nothing to dial: give a phone number or a noun")
	}
	if len(d.Nouns) > MaxDialNouns {
		b.errorf(CodeSchema, d.Nouns[MaxDialNouns].Position(), "Dial: at most %d nouns may be dialed at once, found %d", MaxDialNouns, len(d.Nouns))
	}
	// 13000: a Conference is alone in its Dial (one Conference, nothing else).
	conferences := 0
	for _, x := range d.Nouns {
		if _, ok := x.(*Conference); ok {
			conferences++
		}
	}
	if conferences > 0 && len(d.Nouns) > 1 {
		for _, x := range d.Nouns {
			if c, ok := x.(*Conference); ok {
				b.errorf(CodeConferenceMixed, c.Pos, "Dial: <Conference> cannot be combined with other nouns in the same <Dial>")
				break
			}
		}
	}
	return d
}

func (b *builder) number(n *rawNode) *Number {
	x := &Number{}
	b.attrs(n, x, nil)
	if x.IsSet("sendDigits") && !validDigits(x.SendDigits) {
		b.errorf(CodeNumberSendDigits, attrPos(n, "sendDigits"), "Number: invalid sendDigits value %q: use 0-9, *, #, w and W", x.SendDigits)
		x.SendDigits = ""
		x.Present = without(x.Present, "sendDigits")
	}
	x.PhoneNumber = b.text(n, CodeDialNested)
	if !validPhoneNumber(x.PhoneNumber) {
		b.errorf(CodePhoneNumberFormat, n.pos, "Number: invalid phone number format %q", x.PhoneNumber)
	}
	b.checkURL(attrPos(n, "url"), "Number", "url", x.URL, CodeInvalidURL)
	return x
}

func (b *builder) sip(n *rawNode) *Sip {
	s := &Sip{}
	b.attrs(n, s, nil)
	s.URI = b.text(n, CodeDialNested)
	b.checkSipURI(n.pos, "Sip", s.URI)
	if s.IsSet("username") != s.IsSet("password") {
		b.errorf(CodeSipCredentials, n.pos, "Sip: username and password must be given together")
	}
	b.checkURL(attrPos(n, "url"), "Sip", "url", s.URL, CodeInvalidURL)
	return s
}

func (b *builder) client(n *rawNode) *Client {
	c := &Client{}
	b.attrs(n, c, nil)
	var text strings.Builder
	for _, ch := range n.children {
		if ch.elem == nil {
			text.WriteString(ch.text)
			continue
		}
		switch ch.elem.name {
		case "Identity":
			if c.IdentityElement {
				b.errorf(CodeSchema, ch.pos, "Client: more than one <Identity>")
				continue
			}
			c.IdentityElement = true
			c.Identity = b.text(ch.elem, CodeSchema)
		case "Parameter":
			c.Parameters = append(c.Parameters, b.parameter(ch.elem))
		default:
			b.errorf(CodeSchema, ch.pos, "Client: <%s> is not allowed inside <Client>; use Identity and Parameter", ch.elem.name)
		}
	}
	if t := strings.TrimSpace(text.String()); t != "" {
		if c.IdentityElement || len(c.Parameters) > 0 {
			b.errorf(CodeSchema, n.pos, "Client: text cannot be combined with <Identity> or <Parameter>")
		} else {
			c.Identity = t
		}
	}
	if c.Identity == "" {
		b.errorf(CodeSchema, n.pos, "Client: a client identity is required")
	}
	b.checkURL(attrPos(n, "url"), "Client", "url", c.URL, CodeInvalidURL)
	return c
}

func (b *builder) conference(n *rawNode) *Conference {
	c := &Conference{}
	b.attrs(n, c, nil)
	c.Name = b.text(n, CodeDialNested)
	if c.Name == "" {
		b.errorf(CodeConfName, n.pos, "Conference: a conference room name is required")
	}
	if c.IsSet("participantLabel") {
		if msg := participantLabelProblem(c.ParticipantLabel); msg != "" {
			b.errorf(CodeConfLabel, attrPos(n, "participantLabel"), "Conference: invalid participantLabel %q: %s", c.ParticipantLabel, msg)
			c.ParticipantLabel = ""
			c.Present = without(c.Present, "participantLabel")
		}
	}
	if c.IsSet("coach") && !validCallSID(c.Coach) {
		b.errorf(CodeConfCoach, attrPos(n, "coach"), "Conference: invalid coach value %q: must be a call SID (CA followed by 32 hex digits)", c.Coach)
		c.Coach = ""
		c.Present = without(c.Present, "coach")
	}
	b.checkURL(attrPos(n, "waitUrl"), "Conference", "waitUrl", c.WaitURL, CodeConfWaitURL)
	return c
}

// MaxQueueName is the longest queue name Twilio accepts (a Queue's friendly name).
const MaxQueueName = 64

func (b *builder) queue(n *rawNode) *Queue {
	q := &Queue{}
	b.attrs(n, q, nil)
	q.Name = b.text(n, CodeDialNested)
	switch {
	case q.Name == "":
		b.errorf(CodeQueueNameShort, n.pos, "Queue: queue name too short: a name is required")
	case len([]rune(q.Name)) > MaxQueueName:
		b.errorf(CodeQueueNameLong, n.pos, "Queue: queue name too long: %d characters, at most %d", len([]rune(q.Name)), MaxQueueName)
	}
	b.checkURL(attrPos(n, "url"), "Queue", "url", q.URL, CodeQueueURL)
	return q
}

func (b *builder) enqueue(n *rawNode) *Enqueue {
	e := &Enqueue{}
	b.attrs(n, e, nil)
	var text strings.Builder
	for _, c := range n.children {
		if c.elem == nil {
			text.WriteString(c.text)
			continue
		}
		if c.elem.name != "Task" || e.Task != nil {
			b.errorf(CodeSchema, c.pos, "Enqueue: <%s> is not allowed here; <Enqueue> holds a queue name or one <Task>", c.elem.name)
			continue
		}
		t := &Task{}
		b.attrs(c.elem, t, nil)
		t.Body = b.text(c.elem, CodeSchema)
		e.Task = t
	}
	e.Name = strings.TrimSpace(text.String())
	switch {
	case e.Name == "" && e.WorkflowSID == "":
		b.errorf(CodeEnqueueNameShort, n.pos, "Enqueue: queue name too short: a name (or a workflowSid) is required")
	case len([]rune(e.Name)) > MaxQueueName:
		b.errorf(CodeEnqueueNameLong, n.pos, "Enqueue: queue name too long: %d characters, at most %d", len([]rune(e.Name)), MaxQueueName)
	}
	if e.Task != nil && e.WorkflowSID == "" {
		b.errorf(CodeSchema, e.Task.Pos, "Enqueue: <Task> needs the workflowSid attribute")
	}
	b.checkURL(attrPos(n, "action"), "Enqueue", "action", e.Action, CodeEnqueueAction)
	b.checkURL(attrPos(n, "waitUrl"), "Enqueue", "waitUrl", e.WaitURL, CodeEnqueueWaitURL)
	return e
}

func (b *builder) refer(n *rawNode) *Refer {
	r := &Refer{}
	b.attrs(n, r, nil)
	for _, c := range b.elements(n, CodeSchema) {
		if c.name != "Sip" || r.Sip != nil {
			b.errorf(CodeSchema, c.pos, "Refer: <%s> is not allowed here; <Refer> holds one <Sip>", c.name)
			continue
		}
		s := &ReferSip{}
		b.attrs(c, s, nil)
		s.URI = b.text(c, CodeSchema)
		b.checkSipURI(c.pos, "Refer->Sip", s.URI)
		r.Sip = s
	}
	if r.Sip == nil {
		b.errorf(CodeSchema, n.pos, "Refer: a <Sip> target is required")
	}
	return r
}

var passThroughConnectNouns = map[string]bool{
	"Room": true, "VirtualAgent": true, "Conversation": true, "ConversationRelay": true,
	"ConversationRelaySession": true, "Autopilot": true, "AiSession": true, "Assistant": true,
}

func (b *builder) connect(n *rawNode) *Connect {
	c := &Connect{}
	b.attrs(n, c, nil)
	for _, ch := range b.elements(n, CodeSchema) {
		switch {
		case ch.name == "Stream":
			c.Nouns = append(c.Nouns, b.stream(ch, true))
		case passThroughConnectNouns[ch.name]:
			c.Nouns = append(c.Nouns, b.generic(ch))
		default:
			b.errorf(CodeSchema, ch.pos, "Connect: <%s> is not allowed inside <Connect>", ch.name)
			continue
		}
		if len(c.Nouns) == 2 {
			b.errorf(CodeSchema, ch.pos, "Connect: <Connect> holds exactly one noun")
		}
	}
	if len(c.Nouns) == 0 && !hasElements(n) {
		b.errorf(CodeSchema, n.pos, "Connect: a noun such as <Stream> is required")
	}
	return c
}

func (b *builder) start(n *rawNode) *Start {
	s := &Start{}
	b.attrs(n, s, nil)
	for _, ch := range b.elements(n, CodeStartNested) {
		switch ch.name {
		case "Stream":
			s.Nouns = append(s.Nouns, b.stream(ch, true))
		case "Siprec":
			s.Nouns = append(s.Nouns, b.siprec(ch))
		case "Transcription", "Recording":
			s.Nouns = append(s.Nouns, b.generic(ch))
		default:
			b.errorf(CodeStartNested, ch.pos, "Start: <%s> is not allowed inside <Start>; use Stream, Siprec, Transcription or Recording", ch.name)
		}
	}
	if len(s.Nouns) == 0 && !hasElements(n) {
		b.errorf(CodeStartNested, n.pos, "Start: a noun such as <Stream> is required")
	}
	return s
}

func (b *builder) stop(n *rawNode) *Stop {
	s := &Stop{}
	b.attrs(n, s, nil)
	for _, ch := range b.elements(n, CodeSchema) {
		switch ch.name {
		case "Stream":
			s.Nouns = append(s.Nouns, b.stream(ch, false))
		case "Siprec":
			s.Nouns = append(s.Nouns, b.siprec(ch))
		case "Transcription":
			s.Nouns = append(s.Nouns, b.generic(ch))
		default:
			b.errorf(CodeSchema, ch.pos, "Stop: <%s> is not allowed inside <Stop>; use Stream, Siprec or Transcription", ch.name)
		}
	}
	if len(s.Nouns) == 0 && !hasElements(n) {
		b.errorf(CodeSchema, n.pos, "Stop: a noun such as <Stream> is required")
	}
	return s
}

// stream builds a <Stream>; inside <Start> and <Connect> it needs a url.
func (b *builder) stream(n *rawNode, needURL bool) *Stream {
	s := &Stream{}
	b.attrs(n, s, nil)
	s.Parameters = b.parameters(n)
	switch {
	case s.URL == "" && needURL && s.ConnectorName == "":
		b.errorf(CodeSchema, n.pos, "Stream: the url attribute is required")
	case s.URL != "" && !validStreamURL(s.URL):
		b.errorf(CodeSchema, attrPos(n, "url"), "Stream: invalid url %q: must be a wss:// URL", s.URL)
	}
	if !needURL && s.Name == "" && s.URL == "" {
		b.errorf(CodeSchema, n.pos, "Stream: <Stop><Stream> needs the name (or url) of the stream to stop")
	}
	return s
}

func (b *builder) siprec(n *rawNode) *Siprec {
	s := &Siprec{}
	b.attrs(n, s, nil)
	s.Parameters = b.parameters(n)
	return s
}
