package twiml

import (
	"regexp"
	"slices"
)

// ssmlRule is what an SSML element inside <Say> may hold, following the SSML
// tags Twilio documents for <Say> (https://www.twilio.com/docs/voice/twiml/say/text-speech#ssml-tags)
// and the W3C SSML 1.1 recommendation they come from.
type ssmlRule struct {
	empty    bool                      // no content (break)
	children []string                  // elements allowed inside; nil = inline ones
	required []string                  // attributes that must be there
	enums    map[string][]string       // attribute -> allowed values
	patterns map[string]*regexp.Regexp // attribute -> allowed shape
	codes    map[string]int            // attribute -> Twilio code when wrong
}

var (
	inlineSSML = []string{"break", "emphasis", "lang", "phoneme", "prosody", "say-as", "sub", "w", "amazon:effect", "amazon:domain"}
	blockSSML  = append([]string{"p", "s"}, inlineSSML...)

	ssmlTime    = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(ms|s)$`)
	ssmlRate    = regexp.MustCompile(`^(x-slow|slow|medium|fast|x-fast|default|[0-9]+(\.[0-9]+)?%)$`)
	ssmlPitch   = regexp.MustCompile(`^(x-low|low|medium|high|x-high|default|[+-]?[0-9]+(\.[0-9]+)?%)$`)
	ssmlVolume  = regexp.MustCompile(`^(silent|x-soft|soft|medium|loud|x-loud|default|[+-]?[0-9]+(\.[0-9]+)?dB)$`)
	ssmlLangTag = languageTag
)

var ssmlRules = map[string]ssmlRule{
	"break": {empty: true,
		enums:    map[string][]string{"strength": {"none", "x-weak", "weak", "medium", "strong", "x-strong"}},
		patterns: map[string]*regexp.Regexp{"time": ssmlTime}},
	"emphasis": {enums: map[string][]string{"level": {"strong", "moderate", "reduced"}}},
	"lang":     {children: blockSSML, required: []string{"xml:lang"}, patterns: map[string]*regexp.Regexp{"xml:lang": ssmlLangTag}},
	"p":        {children: append([]string{"s"}, inlineSSML...)},
	"s":        {},
	"phoneme": {required: []string{"ph"},
		enums: map[string][]string{"alphabet": {"ipa", "x-sampa", "x-amazon-jyutping", "x-amazon-pinyin", "x-amazon-pron-kana", "x-amazon-yomigana"}}},
	"prosody": {children: blockSSML,
		patterns: map[string]*regexp.Regexp{"rate": ssmlRate, "pitch": ssmlPitch, "volume": ssmlVolume},
		codes:    map[string]int{"rate": CodeSayRate}},
	"say-as": {required: []string{"interpret-as"},
		enums: map[string][]string{
			"interpret-as": {"characters", "spell-out", "cardinal", "number", "ordinal", "digits", "fraction", "unit", "date", "time", "address", "expletive", "telephone"},
			"format":       {"mdy", "dmy", "ymd", "md", "dm", "ym", "my", "d", "m", "y", "yyyymmdd", "hms12", "hms24"},
		}},
	"sub":           {required: []string{"alias"}},
	"w":             {},
	"amazon:effect": {children: blockSSML},
	"amazon:domain": {children: blockSSML, required: []string{"name"}},
}

// ssmlContent reads the mixed content of <Say> or of an SSML element inside it.
func (b *builder) ssmlContent(n *rawNode, depth int) []Content {
	var out []Content
	allowed := blockSSML
	if depth > 0 {
		if r := ssmlRules[n.name]; r.children != nil {
			allowed = r.children
		} else {
			allowed = inlineSSML
		}
	}
	for _, c := range n.children {
		if c.elem == nil {
			if c.text != "" {
				out = append(out, Text(c.text))
			}
			continue
		}
		e := c.elem
		rule, known := ssmlRules[e.name]
		if !known {
			b.errorf(CodeSchema, e.pos, "Say: unknown SSML element <%s>", e.name)
			continue
		}
		if !slices.Contains(allowed, e.name) {
			b.errorf(CodeSchema, e.pos, "Say: SSML <%s> is not allowed inside <%s>", e.name, n.name)
			continue
		}
		el := &Element{Meta: Meta{Pos: e.pos}, Name: e.name}
		for _, a := range e.attrs {
			el.Attrs = append(el.Attrs, Attr{Name: a.name, Value: a.value})
			code := CodeSchema
			if c, ok := rule.codes[a.name]; ok {
				code = c
			}
			if vals, ok := rule.enums[a.name]; ok && !slices.Contains(vals, a.value) {
				b.errorf(code, a.pos, "Say: SSML <%s> has invalid %s %q", e.name, a.name, a.value)
			}
			if re, ok := rule.patterns[a.name]; ok && !re.MatchString(a.value) {
				b.errorf(code, a.pos, "Say: SSML <%s> has invalid %s %q", e.name, a.name, a.value)
			}
		}
		for _, req := range rule.required {
			if _, ok := el.Attr(req); !ok {
				b.errorf(CodeSchema, e.pos, "Say: SSML <%s> needs the %s attribute", e.name, req)
			}
		}
		if rule.empty {
			b.noContent(e)
		} else {
			el.Children = b.ssmlContent(e, depth+1)
		}
		out = append(out, el)
	}
	return out
}
