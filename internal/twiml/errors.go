package twiml

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every *Error also matches one of these with errors.Is, so a
// caller can branch on the kind of failure without knowing Twilio's numbers.
var (
	// ErrParse matches a document that is not well-formed XML, is not UTF-8,
	// has no <Response> root or nests too deeply (Twilio 12100, 12102).
	ErrParse = errors.New("twiml: document parse failure")
	// ErrTooLarge matches a document over MaxDocumentSize (Twilio 11750).
	ErrTooLarge = errors.New("twiml: document too large")
	// ErrSchema matches a document that parses but breaks a TwiML rule: an unknown
	// verb or noun, a wrong attribute value, a forbidden nesting (12200, 13xxx, 14xxx, 16xxx).
	ErrSchema = errors.New("twiml: schema validation failure")
	// ErrInvalidChar is returned by Marshal when a string in the model holds a
	// character XML 1.0 cannot carry (for example U+0000).
	ErrInvalidChar = errors.New("twiml: character not allowed in XML")
	// ErrBadNode is returned by Marshal when the model holds a nil verb or noun,
	// or a Node type of another package.
	ErrBadNode = errors.New("twiml: nil or foreign node in model")
)

// Twilio error codes used by this package. The table in doc.go gives the title of
// each as Twilio's error dictionary words it.
const (
	CodeResponseTooLarge     = 11750
	CodeInvalidURL           = 11100
	CodeParseFailure         = 12100
	CodeRootNotResponse      = 12102
	CodeSchema               = 12200
	CodeConferenceMixed      = 13000
	CodeDialMethod           = 13210
	CodeDialTimeout          = 13212
	CodeDialHangupOnStar     = 13213
	CodeDialCallerID         = 13214
	CodeDialNested           = 13215
	CodeDialTimeLimit        = 13216
	CodeDialRecord           = 13217
	CodeDialSequential       = 13218
	CodeDialAnswerOnBridge   = 13219
	CodeDialRingTone         = 13220
	CodeNumberMethod         = 13221
	CodeNumberSendDigits     = 13222
	CodePhoneNumberFormat    = 13223
	CodeConfMuted            = 13230
	CodeConfEndOnExit        = 13231
	CodeConfStartOnEnter     = 13232
	CodeConfWaitURL          = 13233
	CodeConfWaitMethod       = 13234
	CodeConfBeep             = 13235
	CodeConfName             = 13237
	CodeConfTrim             = 13239
	CodeConfCoach            = 13240
	CodeSipMethod            = 13241
	CodeSipURI               = 13243
	CodeSipCredentials       = 13249
	CodeSipHeaderName        = 13252
	CodeSipHeaderTooLong     = 13253
	CodeTranscribeCallback   = 13257
	CodeGatherFinishOnKey    = 13310
	CodeGatherMethod         = 13312
	CodeGatherTimeout        = 13313
	CodeGatherNumDigits      = 13314
	CodeGatherNested         = 13320
	CodeGatherSayVoice       = 13321
	CodeGatherSayLoop        = 13322
	CodeGatherInput          = 13326
	CodeGatherSpeechTimeout  = 13327
	CodeGatherMaxSpeechTime  = 13328
	CodeGatherPartialMethod  = 13329
	CodeGatherLanguage       = 13331
	CodeGatherBargeIn        = 13332
	CodeGatherProfanity      = 13333
	CodeGatherSpeechModel    = 13334
	CodeGatherEmptyResult    = 13338
	CodePlayLoop             = 13410
	CodePlayDigits           = 13430
	CodeSayLoop              = 13510
	CodeSayVoice             = 13511
	CodeSayRate              = 13513
	CodeSayText              = 13520
	CodeSayTooLong           = 13521
	CodeRecordMethod         = 13610
	CodeRecordTimeout        = 13611
	CodeRecordMaxLength      = 13612
	CodeRecordFinishOnKey    = 13613
	CodeRecordTranscribe     = 13614
	CodeRecordTranscribeLen  = 13615
	CodeRecordPlayBeep       = 13616
	CodeRecordingStatusEvent = 13621
	CodeRecordingTrack       = 13622
	CodeRecordTrim           = 13699
	CodeRedirectMethod       = 13710
	CodeRejectReason         = 13810
	CodePauseLength          = 13910
	CodeEnqueueMethod        = 14201
	CodeEnqueueWaitURL       = 14202
	CodeEnqueueAction        = 14203
	CodeEnqueueNameShort     = 14204
	CodeEnqueueNameLong      = 14205
	CodeEnqueueWaitMethod    = 14206
	CodeQueueMethod          = 14210
	CodeQueueURL             = 14211
	CodeQueueNameShort       = 14212
	CodeQueueNameLong        = 14213
	CodeStartNested          = 14300
	CodeConfAttributes       = 16002
	CodeConfLabel            = 16023
)

// CodeInfo describes one Twilio error code as Twilio's error dictionary does.
type CodeInfo struct {
	Title   string // Twilio's title, e.g. "Dial: Invalid timeout value"
	Warning bool   // Twilio logs it as a WARNING (true) or an ERROR (false)
}

// Codes is Twilio's error dictionary for every code this package reports.
var Codes = map[int]CodeInfo{
	CodeInvalidURL:           {"Invalid URL format", false},
	CodeResponseTooLarge:     {"TwiML response body too large", false},
	CodeParseFailure:         {"Document parse failure", false},
	CodeRootNotResponse:      {"The root element must be Response", false},
	CodeSchema:               {"Schema validation warning", true},
	CodeConferenceMixed:      {"Conference Noun cannot be mixed with Number nouns", true},
	CodeDialMethod:           {"Dial: Invalid method value", true},
	CodeDialTimeout:          {"Dial: Invalid timeout value", true},
	CodeDialHangupOnStar:     {"Dial: Invalid hangupOnStar value", true},
	CodeDialCallerID:         {"Dial: Invalid callerId value", true},
	CodeDialNested:           {"Dial: Invalid nested element", true},
	CodeDialTimeLimit:        {"Invalid timeLimit value", true},
	CodeDialRecord:           {"Dial: Invalid record value", true},
	CodeDialSequential:       {"Dial: Invalid sequential value", true},
	CodeDialAnswerOnBridge:   {"Dial: Invalid answerOnBridge value", true},
	CodeDialRingTone:         {"Dial: Invalid ringTone value", true},
	CodeNumberMethod:         {"Dial->Number: Invalid method value", true},
	CodeNumberSendDigits:     {"Dial->Number: Invalid sendDigits value", true},
	CodePhoneNumberFormat:    {"Dial: Invalid phone number format", true},
	CodeConfMuted:            {"Dial->Conference: Invalid muted value", true},
	CodeConfEndOnExit:        {"Dial->Conference: Invalid endConferenceOnExit value", false},
	CodeConfStartOnEnter:     {"Dial->Conference: Invalid startConferenceOnEnter value", true},
	CodeConfWaitURL:          {"Dial->Conference: Invalid waitUrl", true},
	CodeConfWaitMethod:       {"Dial->Conference: Invalid waitMethod", true},
	CodeConfBeep:             {"Dial->Conference: Invalid beep value", true},
	CodeConfName:             {"Dial->Conference: Invalid Conference Name", true},
	CodeConfTrim:             {"Dial->Conference: Invalid Trim Value", false},
	CodeConfCoach:            {"Dial->Conference: Invalid Whisper SID", false},
	CodeSipMethod:            {"Dial->SIP: Invalid method value", true},
	CodeSipURI:               {"Dial->SIP: Invalid SIP URI", true},
	CodeSipCredentials:       {"Dial: Invalid username or password attribute", true},
	CodeSipHeaderName:        {"Dial: Invalid header name", true},
	CodeSipHeaderTooLong:     {"Dial: Header is too long", true},
	CodeTranscribeCallback:   {"Invalid transcribeCallback URL", false},
	CodeGatherFinishOnKey:    {"Gather: Invalid finishOnKey value", true},
	CodeGatherMethod:         {"Gather: Invalid method value", true},
	CodeGatherTimeout:        {"Gather: Invalid timeout value", true},
	CodeGatherNumDigits:      {"Gather: Invalid numDigits value", true},
	CodeGatherNested:         {"Gather: Invalid nested verb", true},
	CodeGatherSayVoice:       {"Gather -> Say: Invalid voice value", true},
	CodeGatherSayLoop:        {"Gather->Say: Invalid loop value", true},
	CodeGatherInput:          {"Gather: Invalid input value", true},
	CodeGatherSpeechTimeout:  {"Gather: Invalid speechTimeout value", true},
	CodeGatherMaxSpeechTime:  {"Gather: Invalid maxSpeechTime value", true},
	CodeGatherPartialMethod:  {"Gather: Invalid partialResultCallbackMethod value", true},
	CodeGatherLanguage:       {"Gather: Invalid language value", true},
	CodeGatherBargeIn:        {"Gather: Invalid bargeIn value", true},
	CodeGatherProfanity:      {"Gather: Invalid profanityFilter value", true},
	CodeGatherSpeechModel:    {"Gather: Invalid model value", true},
	CodeGatherEmptyResult:    {"Gather: Invalid actionOnEmptyResult value", false},
	CodePlayLoop:             {"Play: Invalid loop value", true},
	CodePlayDigits:           {"Play: Invalid DTMF String", true},
	CodeSayLoop:              {"Say: Invalid loop value", true},
	CodeSayVoice:             {"Say: Invalid voice value", true},
	CodeSayRate:              {"Say: Invalid rate value", true},
	CodeSayText:              {"Say: Invalid text", true},
	CodeSayTooLong:           {"<Say> element character limits exceeded", true},
	CodeRecordMethod:         {"Record: Invalid method value", true},
	CodeRecordTimeout:        {"Record: Invalid timeout value", true},
	CodeRecordMaxLength:      {"Record: Invalid maxLength value", true},
	CodeRecordFinishOnKey:    {"Record: Invalid finishOnKey value", true},
	CodeRecordTranscribe:     {"Record: Invalid transcribe value", true},
	CodeRecordTranscribeLen:  {"Record: maxLength too high for transcription", true},
	CodeRecordPlayBeep:       {"Record: playBeep must be true or false", true},
	CodeRecordingStatusEvent: {"Invalid 'recordingStatusCallbackEvent'", false},
	CodeRecordingTrack:       {"Record: invalid recordingTrack value", true},
	CodeRecordTrim:           {"Record: Invalid trim value", true},
	CodeRedirectMethod:       {"Redirect: Invalid method value", true},
	CodeRejectReason:         {"Reject: Invalid cause", true},
	CodePauseLength:          {"Pause: Invalid length value", true},
	CodeEnqueueMethod:        {"Enqueue: Invalid method value", false},
	CodeEnqueueWaitURL:       {"Enqueue: Invalid waitUrl", false},
	CodeEnqueueAction:        {"Enqueue: Invalid Enqueue action url", false},
	CodeEnqueueNameShort:     {"Enqueue: Queue name too short", false},
	CodeEnqueueNameLong:      {"Enqueue: Queue name too long", false},
	CodeEnqueueWaitMethod:    {"Enqueue: Invalid waitUrlMethod value", false},
	CodeQueueMethod:          {"Dial->Queue: Invalid whisper method", false},
	CodeQueueURL:             {"Dial->Queue: Invalid whisper url", false},
	CodeQueueNameShort:       {"Dial->Queue: queue name too short", false},
	CodeQueueNameLong:        {"Dial->Queue: queue name too long", false},
	CodeStartNested:          {"Start: Invalid nested noun value", false},
	CodeConfAttributes:       {"Failed to validate conference attributes", false},
	CodeConfLabel:            {"Conference: Participant label invalid (max 128 chars, not CallSid, no '/')", false},
}

// Pos is a position in a TwiML document: 1-based line and column, the column
// counted in characters (Unicode code points), not bytes.
type Pos struct {
	Line int
	Col  int
}

// String formats p as "line:col".
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is one problem found in a TwiML document, with Twilio's error code and
// the position of the element or attribute at fault.
type Error struct {
	Code int
	Pos  Pos
	Msg  string
}

// Error formats e as "line:col: code msg".
func (e *Error) Error() string {
	return fmt.Sprintf("%d:%d: %d %s", e.Pos.Line, e.Pos.Col, e.Code, e.Msg)
}

// Warning reports whether Twilio logs e's code as a warning rather than an error.
func (e *Error) Warning() bool { return Codes[e.Code].Warning }

// Is makes errors.Is(e, ErrParse), errors.Is(e, ErrTooLarge) and
// errors.Is(e, ErrSchema) true for the matching kind of code.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrTooLarge:
		return e.Code == CodeResponseTooLarge
	case ErrParse:
		return e.Code == CodeParseFailure || e.Code == CodeRootNotResponse
	case ErrSchema:
		return e.Code != CodeResponseTooLarge && e.Code != CodeParseFailure && e.Code != CodeRootNotResponse
	}
	return false
}

// ErrorList is every problem found in one document, in document order.
type ErrorList []*Error

// Error joins the errors, one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap gives the errors of l to errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Fatal reports whether l holds an error that stops the document from being
// run at all (a parse failure or an oversized body): Parse then returns no model.
func (l ErrorList) Fatal() bool {
	for _, e := range l {
		if errors.Is(e, ErrParse) || errors.Is(e, ErrTooLarge) {
			return true
		}
	}
	return false
}
