package tts

import (
	"fmt"
	"strings"
)

// A Selection is what a <Say>'s voice and language attributes ask for,
// independent of any engine: the language to speak and the gender of the
// voice. An engine turns it into one of its own voices.
type Selection struct {
	// Language is the language to speak, as a canonical Twilio code ("en-US").
	// It may be a language the engine cannot speak.
	Language string
	// Gender is the gender of the requested voice.
	Gender Gender
	// Warnings say where the attributes were invalid or contradictory.
	Warnings []Warning
}

// A namedVoice is a Polly or Google voice Twilio offers, with its language(s)
// and gender.
type namedVoice struct {
	langs  []string // first is the voice's own language; bilingual voices have more
	gender Gender
}

// pollyVoices lists the Amazon Polly voices Twilio accepts as "Polly.<Name>"
// (and "Polly.<Name>-Neural" / "-Generative" / "-LongForm"), keyed by lower-case
// name. Source: https://docs.aws.amazon.com/polly/latest/dg/available-voices.html
// and https://www.twilio.com/docs/voice/twiml/say/text-speech#available-voices-and-languages.
var pollyVoices = map[string]namedVoice{
	// English, US
	"ivy": {[]string{"en-US"}, Female}, "joanna": {[]string{"en-US"}, Female},
	"kendra": {[]string{"en-US"}, Female}, "kimberly": {[]string{"en-US"}, Female},
	"salli": {[]string{"en-US"}, Female}, "ruth": {[]string{"en-US"}, Female},
	"danielle": {[]string{"en-US"}, Female}, "joey": {[]string{"en-US"}, Male},
	"justin": {[]string{"en-US"}, Male}, "kevin": {[]string{"en-US"}, Male},
	"matthew": {[]string{"en-US"}, Male}, "stephen": {[]string{"en-US"}, Male},
	"gregory": {[]string{"en-US"}, Male}, "patrick": {[]string{"en-US"}, Male},
	// English, elsewhere
	"amy": {[]string{"en-GB"}, Female}, "emma": {[]string{"en-GB"}, Female},
	"brian": {[]string{"en-GB"}, Male}, "arthur": {[]string{"en-GB"}, Male},
	"nicole": {[]string{"en-AU"}, Female}, "olivia": {[]string{"en-AU"}, Female},
	"russell": {[]string{"en-AU"}, Male}, "geraint": {[]string{"en-GB-WLS"}, Male},
	"aditi": {[]string{"en-IN", "hi-IN"}, Female}, "raveena": {[]string{"en-IN"}, Female},
	"kajal": {[]string{"en-IN", "hi-IN"}, Female}, "niamh": {[]string{"en-IE"}, Female},
	"aria": {[]string{"en-NZ"}, Female}, "ayanda": {[]string{"en-ZA"}, Female},
	// German
	"marlene": {[]string{"de-DE"}, Female}, "vicki": {[]string{"de-DE"}, Female},
	"hans": {[]string{"de-DE"}, Male}, "daniel": {[]string{"de-DE"}, Male},
	"hannelore": {[]string{"de-AT"}, Female}, "sabrina": {[]string{"de-CH"}, Female},
	// Spanish
	"conchita": {[]string{"es-ES"}, Female}, "lucia": {[]string{"es-ES"}, Female},
	"enrique": {[]string{"es-ES"}, Male}, "sergio": {[]string{"es-ES"}, Male},
	"mia": {[]string{"es-MX"}, Female}, "andres": {[]string{"es-MX"}, Male},
	"penelope": {[]string{"es-US"}, Female}, "lupe": {[]string{"es-US"}, Female},
	"miguel": {[]string{"es-US"}, Male}, "pedro": {[]string{"es-US"}, Male},
	// French
	"celine": {[]string{"fr-FR"}, Female}, "céline": {[]string{"fr-FR"}, Female},
	"lea": {[]string{"fr-FR"}, Female}, "léa": {[]string{"fr-FR"}, Female},
	"mathieu": {[]string{"fr-FR"}, Male}, "remi": {[]string{"fr-FR"}, Male},
	"rémi": {[]string{"fr-FR"}, Male}, "chantal": {[]string{"fr-CA"}, Female},
	"gabrielle": {[]string{"fr-CA"}, Female}, "liam": {[]string{"fr-CA"}, Male},
	"isabelle": {[]string{"fr-BE"}, Female},
	// Italian, Portuguese
	"carla": {[]string{"it-IT"}, Female}, "bianca": {[]string{"it-IT"}, Female},
	"giorgio": {[]string{"it-IT"}, Male}, "adriano": {[]string{"it-IT"}, Male},
	"vitoria": {[]string{"pt-BR"}, Female}, "vitória": {[]string{"pt-BR"}, Female},
	"camila": {[]string{"pt-BR"}, Female}, "ricardo": {[]string{"pt-BR"}, Male},
	"thiago": {[]string{"pt-BR"}, Male}, "ines": {[]string{"pt-PT"}, Female},
	"inês": {[]string{"pt-PT"}, Female}, "cristiano": {[]string{"pt-PT"}, Male},
	// Asian languages
	"mizuki": {[]string{"ja-JP"}, Female}, "takumi": {[]string{"ja-JP"}, Male},
	"kazuha": {[]string{"ja-JP"}, Female}, "tomoko": {[]string{"ja-JP"}, Female},
	"seoyeon": {[]string{"ko-KR"}, Female}, "zhiyu": {[]string{"cmn-CN"}, Female},
	"hiujin": {[]string{"yue-CN"}, Female},
	// Others
	"zeina": {[]string{"arb"}, Female}, "hala": {[]string{"ar-AE"}, Female},
	"zayd": {[]string{"ar-AE"}, Male}, "tatyana": {[]string{"ru-RU"}, Female},
	"maxim": {[]string{"ru-RU"}, Male}, "lotte": {[]string{"nl-NL"}, Female},
	"laura": {[]string{"nl-NL"}, Female}, "ruben": {[]string{"nl-NL"}, Male},
	"lisa": {[]string{"nl-BE"}, Female}, "liv": {[]string{"nb-NO"}, Female},
	"ida": {[]string{"nb-NO"}, Female}, "naja": {[]string{"da-DK"}, Female},
	"sofie": {[]string{"da-DK"}, Female}, "mads": {[]string{"da-DK"}, Male},
	"astrid": {[]string{"sv-SE"}, Female}, "elin": {[]string{"sv-SE"}, Female},
	"suvi": {[]string{"fi-FI"}, Female}, "ewa": {[]string{"pl-PL"}, Female},
	"maja": {[]string{"pl-PL"}, Female}, "ola": {[]string{"pl-PL"}, Female},
	"jacek": {[]string{"pl-PL"}, Male}, "jan": {[]string{"pl-PL"}, Male},
	"filiz": {[]string{"tr-TR"}, Female}, "burcu": {[]string{"tr-TR"}, Female},
	"carmen": {[]string{"ro-RO"}, Female}, "dora": {[]string{"is-IS"}, Female},
	"dóra": {[]string{"is-IS"}, Female}, "karl": {[]string{"is-IS"}, Male},
	"gwyneth": {[]string{"cy-GB"}, Female}, "arlet": {[]string{"ca-ES"}, Female},
	"jitka": {[]string{"cs-CZ"}, Female},
}

// googleGenders gives the gender of Google's lettered voices
// ("Google.<locale>-<Standard|Wavenet|Neural2|News|Studio|Polyglot>-<letter>"),
// keyed by lower-case locale and letter. Source:
// https://cloud.google.com/text-to-speech/docs/voices. The same letter has the
// same gender across the Standard/Wavenet/Neural2 families of a locale.
var googleGenders = map[string]Gender{
	"en-us/a": Male, "en-us/b": Male, "en-us/c": Female, "en-us/d": Male,
	"en-us/e": Female, "en-us/f": Female, "en-us/g": Female, "en-us/h": Female,
	"en-us/i": Male, "en-us/j": Male, "en-us/o": Female, "en-us/q": Male,
	"en-gb/a": Female, "en-gb/b": Male, "en-gb/c": Female, "en-gb/d": Male,
	"en-gb/f": Female, "en-gb/n": Female, "en-gb/o": Male,
	"en-au/a": Female, "en-au/b": Male, "en-au/c": Female, "en-au/d": Male,
	"en-in/a": Female, "en-in/b": Male, "en-in/c": Male, "en-in/d": Female,
	"ja-jp/a": Female, "ja-jp/b": Female, "ja-jp/c": Male, "ja-jp/d": Male,
	"fr-fr/a": Female, "fr-fr/b": Male, "fr-fr/c": Female, "fr-fr/d": Male, "fr-fr/e": Female,
	"fr-ca/a": Female, "fr-ca/b": Male, "fr-ca/c": Female, "fr-ca/d": Male,
	"de-de/a": Female, "de-de/b": Male, "de-de/c": Female, "de-de/d": Male,
	"de-de/e": Male, "de-de/f": Female,
	"es-es/a": Female, "es-es/b": Male, "es-es/c": Female, "es-es/d": Female,
	"es-us/a": Female, "es-us/b": Male, "es-us/c": Male,
	"it-it/a": Female, "it-it/b": Female, "it-it/c": Male, "it-it/d": Male,
	"pt-br/a": Female, "pt-br/b": Male, "pt-br/c": Female,
	"cmn-cn/a": Female, "cmn-cn/b": Male, "cmn-cn/c": Male, "cmn-cn/d": Female,
	"ko-kr/a": Female, "ko-kr/b": Female, "ko-kr/c": Male, "ko-kr/d": Male,
}

// chirpGenders gives the gender of Google's named Chirp 3 HD voices
// ("Google.<locale>-Chirp3-HD-<Name>"), which are the same in every locale.
var chirpGenders = map[string]Gender{
	"achernar": Female, "achird": Male, "algenib": Male, "algieba": Male,
	"alnilam": Male, "aoede": Female, "autonoe": Female, "callirrhoe": Female,
	"charon": Male, "despina": Female, "enceladus": Male, "erinome": Female,
	"fenrir": Male, "gacrux": Female, "iapetus": Male, "kore": Female,
	"laomedeia": Female, "leda": Female, "orus": Male, "puck": Male,
	"pulcherrima": Female, "rasalgethi": Male, "sadachbia": Male,
	"sadaltager": Male, "schedar": Male, "sulafat": Female, "umbriel": Male,
	"vindemiatrix": Female, "zephyr": Female, "zubenelgenubi": Male,
}

// SelectVoice interprets a <Say>'s voice and language attributes
// (https://www.twilio.com/docs/voice/twiml/say#attributes-voice):
//
//   - "" and "man" ask for a male voice (Twilio's default voice is "man");
//     "woman" and the retired "alice" for a female one. These speak the
//     language attribute, or en-US.
//   - "Polly.<Name>" and "Google.<locale>-<type>-<variant>" name a voice with
//     its own language and gender; that language wins over the language
//     attribute (a Polly voice speaks only its own language), with a 13511
//     warning when the two disagree.
//   - An unknown Polly or Google name speaks the language attribute (or the
//     locale in the Google name) with a 13511 warning; any other unknown voice
//     is treated as "man" with a 13511 warning.
//
// SelectVoice never fails: Twilio logs these as warnings and still speaks.
func SelectVoice(voice, lang string) Selection {
	v := strings.TrimSpace(voice)
	attrLang := strings.TrimSpace(lang)
	sel := Selection{Gender: Male}
	var own []string // the named voice's languages, when known
	lower := strings.ToLower(v)
	switch {
	case lower == "" || lower == "man":
	case lower == "woman" || lower == "alice":
		sel.Gender = Female
	case strings.HasPrefix(lower, "polly."):
		name := stripPollyEngine(lower[len("polly."):])
		if nv, ok := pollyVoices[name]; ok {
			sel.Gender, own = nv.gender, nv.langs
		} else {
			sel.Gender = GenderUnknown
			sel.Warnings = append(sel.Warnings, Warning{CodeInvalidVoice,
				fmt.Sprintf("unknown voice %q: speaking the language with a default voice", v)})
		}
	case strings.HasPrefix(lower, "google."):
		locale, gender, ok := parseGoogleVoice(v[len("google."):])
		sel.Gender = gender
		if locale != "" {
			own = []string{locale}
		}
		if !ok {
			sel.Warnings = append(sel.Warnings, Warning{CodeInvalidVoice,
				fmt.Sprintf("unknown voice %q: speaking the language with a default voice", v)})
		}
	default:
		sel.Warnings = append(sel.Warnings, Warning{CodeInvalidVoice,
			fmt.Sprintf("unknown voice %q: using the default voice \"man\"", v)})
	}

	switch {
	case len(own) == 0 && attrLang == "":
		sel.Language = DefaultLanguage
	case len(own) == 0:
		sel.Language = CanonicalLanguage(attrLang)
	case attrLang == "":
		sel.Language = CanonicalLanguage(own[0])
	default:
		sel.Language = CanonicalLanguage(own[0])
		matched := false
		for _, l := range own {
			if sameLanguage(l, attrLang) {
				sel.Language, matched = CanonicalLanguage(l), true
				break
			}
		}
		if !matched {
			sel.Warnings = append(sel.Warnings, Warning{CodeInvalidVoice,
				fmt.Sprintf("voice %q speaks %s, not language %q: speaking %s", v, sel.Language, attrLang, sel.Language)})
		}
	}
	return sel
}

// stripPollyEngine removes Twilio's engine suffix from a lower-case Polly name:
// "joanna-neural" -> "joanna".
func stripPollyEngine(name string) string {
	for _, suf := range []string{"-neural", "-generative", "-longform", "-standard"} {
		if n, ok := strings.CutSuffix(name, suf); ok {
			return n
		}
	}
	return name
}

// parseGoogleVoice reads a Google voice name without its "Google." prefix, such
// as "en-US-Standard-C", "en-US-Neural2-F", "ja-JP-Wavenet-A" or
// "en-US-Chirp3-HD-Aoede". It returns the canonical locale (empty when the name
// has none), the gender (GenderUnknown when not in the tables), and whether the
// name was understood completely.
func parseGoogleVoice(name string) (locale string, g Gender, ok bool) {
	parts := strings.Split(name, "-")
	if len(parts) < 3 || parts[0] == "" || parts[1] == "" {
		return "", GenderUnknown, false
	}
	locale = CanonicalLanguage(parts[0] + "-" + parts[1])
	key := strings.ToLower(locale)
	last := strings.ToLower(parts[len(parts)-1])
	if g, ok := chirpGenders[last]; ok {
		return locale, g, true
	}
	if g, ok := googleGenders[key+"/"+last]; ok {
		return locale, g, true
	}
	// A voice of a known family whose gender we do not know is still a valid
	// name: speak its locale with the default gender.
	return locale, GenderUnknown, googleFamilies[strings.ToLower(parts[2])]
}

// googleFamilies are the voice types in Google voice names.
var googleFamilies = map[string]bool{
	"standard": true, "wavenet": true, "neural2": true, "news": true,
	"studio": true, "polyglot": true, "journey": true, "chirp": true, "chirp3": true,
}
