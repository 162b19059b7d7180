package tts

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/ikawaha/kagome-dict/ipa"
	"github.com/ikawaha/kagome/v2/tokenizer"
)

// The Japanese tokenizer holds the whole IPA dictionary in memory (about
// 90 MB of heap, about 1 s to load), so it is loaded once, on first use.
var kana struct {
	once   sync.Once
	tok    *tokenizer.Tokenizer
	err    error
	loaded atomic.Bool // the load has been attempted
}

func japaneseTokenizer() (*tokenizer.Tokenizer, error) {
	kana.once.Do(func() {
		defer kana.loaded.Store(true)
		defer func() {
			// ipa.Dict panics if its embedded dictionary is unreadable.
			if r := recover(); r != nil {
				kana.err = fmt.Errorf("tts: load japanese dictionary: %v", r)
			}
		}()
		t, err := tokenizer.New(ipa.Dict(), tokenizer.OmitBosEos())
		if err != nil {
			kana.err = fmt.Errorf("tts: load japanese dictionary: %w", err)
			return
		}
		kana.tok = t
	})
	return kana.tok, kana.err
}

// LoadJapanese loads the Japanese dictionary now rather than on the first
// Japanese <Say>, so that no call waits for it. It is safe to call many times.
func LoadJapanese() error {
	_, err := japaneseTokenizer()
	return err
}

// ToKana rewrites Japanese text as katakana readings, the only Japanese script
// espeak-ng's "ja" voice reads (it speaks each kanji as "Chinese letter"). Each
// morpheme found by kagome (IPA dictionary) is replaced by its pronunciation,
// not its dictionary reading, so the topic particle は comes out as ワ, へ as エ,
// and long vowels as ー: "東京は晴れです" becomes "トーキョーワハレデス".
// Text the dictionary does not know (ASCII words, digits, punctuation, kana) is
// kept as it is; a kanji with no reading at all is dropped rather than spoken
// as "Chinese letter". If the dictionary cannot be loaded, text is returned
// unchanged.
func ToKana(text string) string {
	if !hasJapanese(text) {
		return text
	}
	t, err := japaneseTokenizer()
	if err != nil {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) * 2)
	for _, tok := range t.Tokenize(text) {
		writeReading(&b, t, tok, true)
	}
	return b.String()
}

// writeReading writes one token's pronunciation. For an unknown token that
// contains kanji, it tries each kanji on its own when split is true.
func writeReading(b *strings.Builder, t *tokenizer.Tokenizer, tok tokenizer.Token, split bool) {
	if p, ok := tok.Pronunciation(); ok && p != "" && p != "*" {
		b.WriteString(p)
		return
	}
	if !hasHan(tok.Surface) {
		b.WriteString(tok.Surface)
		return
	}
	for _, r := range tok.Surface {
		if !unicode.Is(unicode.Han, r) {
			b.WriteRune(r)
			continue
		}
		if !split {
			continue // a kanji nobody can read: drop it
		}
		for _, sub := range t.Tokenize(string(r)) {
			writeReading(b, t, sub, false)
		}
	}
}

// hasJapanese reports whether s contains kanji or kana.
func hasJapanese(s string) bool {
	for _, r := range s {
		if r >= 0x3040 && (unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)) {
			return true
		}
	}
	return false
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x2E80 && unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
