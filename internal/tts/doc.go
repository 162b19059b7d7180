// Package tts turns the text of a TwiML <Say> into speech: a WAV file the media
// engine can play into a call.
//
// Speech comes from an Engine, a small interface (Name, Synthesize) so that a
// cloud service can be added beside the default, Espeak, which runs espeak-ng
// as a subprocess (it is GPL-3: never linked). The text goes to espeak-ng on
// stdin, never on its command line; its WAV (22,050 Hz, mono, 16-bit PCM)
// comes back on stdout with placeholder RIFF sizes, which are patched, so every
// file handed out is exact. Each run has a time limit, an output size limit,
// and its stderr is kept for the error. The audio layer resamples to 8 kHz.
//
// A Cache wraps any Engine and keeps its speech on disk under
// DIR/tts/<engine>/<sha256>.wav, keyed by the engine, the voice the request
// resolves to, the language and the text or SSML. Concurrent requests for the
// same speech synthesize it once; files are written to a temporary name and
// renamed into place; a damaged file is made again; an optional size bound
// evicts the least recently used files.
//
// Twilio's <Say> attributes (https://www.twilio.com/docs/voice/twiml/say) map
// onto local voices: SelectVoice reads voice ("man", the default; "woman" and
// "alice", female; "Polly.Joanna", "Google.en-US-Standard-C"... by the language
// and gender of the named voice) and language ("en-US", "ja-JP"...), and Espeak
// maps the result onto espeak-ng's voices, falling back to en-US for languages
// espeak-ng cannot speak. Problems Twilio only warns about (an unknown voice,
// an invalid <prosody rate>) come back as Warnings with Twilio's codes; bad
// text fails with errors that TwilioCode maps to Twilio's codes (13520 empty or
// unparsable, 13521 too long). ParseLoop reads the loop attribute.
//
// SSML inside <Say> (BuildSSML) is rewritten into what espeak-ng understands:
// <break>, <prosody>, <emphasis>, <p>, <s> pass through (checked), <say-as>,
// <sub> and <lang> are translated, tags espeak-ng does not know are removed
// with their text kept, and text is escaped. <break time="500ms"/> gives half a
// second of silence.
//
// Japanese: espeak-ng's "ja" voice reads only kana, and says "Chinese letter"
// for each kanji. ToKana rewrites Japanese text into katakana readings with the
// kagome morphological analyser and the IPA dictionary, using each word's
// pronunciation, so that 東京は晴れです is spoken トーキョーワハレデス. The
// dictionary is large (about 90 MB of memory, about a second to load) and is
// loaded once, on the first Japanese request or by LoadJapanese.
package tts
