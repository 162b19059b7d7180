package tts

import "strings"

// DefaultLanguage is Twilio's default <Say> language
// (https://www.twilio.com/docs/voice/twiml/say#attributes-language).
const DefaultLanguage = "en-US"

// A language is one row of the table of languages espeak-ng can speak.
type language struct {
	// codes are the Twilio/BCP-47 codes, lower case; the first, in its
	// canonical spelling, is the language reported as spoken.
	codes []string
	// espeak is espeak-ng's voice for the language (see `espeak-ng --voices`).
	espeak string
}

// languages maps Twilio's <Say> language codes (the Polly, Google and legacy
// "alice" locales) to espeak-ng 1.51 voices. Where espeak-ng has no voice for a
// locale, the closest one of the same language is used (en-AU speaks en-gb,
// fr-CA speaks fr-fr). Locales whose language espeak-ng cannot speak at all
// (fil-PH, gl-ES...) are missing here and fall back to DefaultLanguage.
var languages = []language{
	{[]string{"en-US", "en", "en-CA"}, "en-us"},
	{[]string{"en-GB", "en-UK", "en-AU", "en-IN", "en-IE", "en-NZ", "en-ZA", "en-GB-WLS"}, "en-gb"},
	{[]string{"ja-JP", "ja"}, "ja"},
	{[]string{"fr-FR", "fr", "fr-CA"}, "fr-fr"},
	{[]string{"fr-BE"}, "fr-be"},
	{[]string{"fr-CH"}, "fr-ch"},
	{[]string{"de-DE", "de", "de-AT", "de-CH"}, "de"},
	{[]string{"es-ES", "es"}, "es"},
	{[]string{"es-MX", "es-US", "es-419"}, "es-419"},
	{[]string{"pt-BR"}, "pt-br"},
	{[]string{"pt-PT", "pt"}, "pt"},
	{[]string{"it-IT", "it"}, "it"},
	{[]string{"zh-CN", "zh", "cmn-CN", "cmn", "zh-TW", "cmn-TW"}, "cmn"},
	{[]string{"zh-HK", "yue-HK", "yue-CN", "yue"}, "yue"},
	{[]string{"ko-KR", "ko"}, "ko"},
	{[]string{"ru-RU", "ru"}, "ru"},
	{[]string{"nl-NL", "nl", "nl-BE"}, "nl"},
	{[]string{"nb-NO", "nb", "no-NO", "no"}, "nb"},
	{[]string{"da-DK", "da"}, "da"},
	{[]string{"sv-SE", "sv"}, "sv"},
	{[]string{"fi-FI", "fi"}, "fi"},
	{[]string{"pl-PL", "pl"}, "pl"},
	{[]string{"tr-TR", "tr"}, "tr"},
	{[]string{"ar-AE", "ar", "arb", "ar-XA", "ar-SA", "ar-EG"}, "ar"},
	{[]string{"hi-IN", "hi"}, "hi"},
	{[]string{"is-IS", "is"}, "is"},
	{[]string{"ro-RO", "ro"}, "ro"},
	{[]string{"cy-GB", "cy"}, "cy"},
	{[]string{"ca-ES", "ca"}, "ca"},
	{[]string{"cs-CZ", "cs"}, "cs"},
	{[]string{"el-GR", "el"}, "el"},
	{[]string{"hu-HU", "hu"}, "hu"},
	{[]string{"id-ID", "id"}, "id"},
	{[]string{"sk-SK", "sk"}, "sk"},
	{[]string{"uk-UA", "uk"}, "uk"},
	{[]string{"vi-VN", "vi"}, "vi"},
	{[]string{"th-TH", "th"}, "th"},
	{[]string{"he-IL", "he", "iw-IL"}, "he"},
	{[]string{"bn-IN", "bn", "bn-BD"}, "bn"},
	{[]string{"ta-IN", "ta"}, "ta"},
	{[]string{"te-IN", "te"}, "te"},
	{[]string{"gu-IN", "gu"}, "gu"},
	{[]string{"kn-IN", "kn"}, "kn"},
	{[]string{"ml-IN", "ml"}, "ml"},
	{[]string{"mr-IN", "mr"}, "mr"},
	{[]string{"pa-IN", "pa"}, "pa"},
	{[]string{"ms-MY", "ms"}, "ms"},
	{[]string{"lv-LV", "lv"}, "lv"},
	{[]string{"lt-LT", "lt"}, "lt"},
	{[]string{"bg-BG", "bg"}, "bg"},
	{[]string{"sr-RS", "sr"}, "sr"},
	{[]string{"hr-HR", "hr"}, "hr"},
	{[]string{"sl-SI", "sl"}, "sl"},
	{[]string{"et-EE", "et"}, "et"},
	{[]string{"af-ZA", "af"}, "af"},
	{[]string{"eu-ES", "eu"}, "eu"},
	{[]string{"sw-KE", "sw"}, "sw"},
	{[]string{"ur-PK", "ur", "ur-IN"}, "ur"},
	{[]string{"fa-IR", "fa"}, "fa"},
}

// languageIndex maps every lower-case code of the table to its row.
var languageIndex = func() map[string]*language {
	m := make(map[string]*language)
	for i := range languages {
		for _, c := range languages[i].codes {
			m[strings.ToLower(c)] = &languages[i]
		}
	}
	return m
}()

// lookupLanguage finds the row for a Twilio language code: first the exact code
// (case-insensitive, "_" taken as "-"), then its primary language subtag
// ("en-ZW" is spoken as "en"). It reports false when espeak-ng cannot speak
// the language.
func lookupLanguage(code string) (*language, bool) {
	c := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), "_", "-"))
	if l, ok := languageIndex[c]; ok {
		return l, true
	}
	if i := strings.IndexByte(c, '-'); i > 0 {
		if l, ok := languageIndex[c[:i]]; ok {
			return l, true
		}
	}
	return nil, false
}

// CanonicalLanguage spells a language tag the way Twilio does: "EN_us" becomes
// "en-US", "en-gb-wls" becomes "en-GB-WLS", "cmn-cn" becomes "cmn-CN". It does
// not check that the language exists.
func CanonicalLanguage(code string) string {
	parts := strings.Split(strings.ReplaceAll(strings.TrimSpace(code), "_", "-"), "-")
	for i, p := range parts {
		switch {
		case i == 0:
			parts[i] = strings.ToLower(p)
		case len(p) == 4 && isAlpha(p): // script: Latn
			parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
		case len(p) <= 3: // region (US, 419) or Twilio's WLS
			parts[i] = strings.ToUpper(p)
		default:
			parts[i] = strings.ToLower(p)
		}
	}
	return strings.Join(parts, "-")
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// sameLanguage reports whether two Twilio codes name the same locale.
func sameLanguage(a, b string) bool {
	return strings.EqualFold(strings.ReplaceAll(a, "_", "-"), strings.ReplaceAll(b, "_", "-"))
}
