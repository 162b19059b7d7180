package twiml

import (
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-voice/switchboard/internal/errcode"
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

// Twilio error codes used by this package, as named in package errcode. The
// table in doc.go gives the title of each as Twilio's error dictionary words it.
const (
	CodeResponseTooLarge     = errcode.ResponseTooLarge
	CodeInvalidURL           = errcode.InvalidURL
	CodeParseFailure         = errcode.DocumentParseFailure
	CodeRootNotResponse      = errcode.RootNotResponse
	CodeSchema               = errcode.SchemaValidationWarning
	CodeConferenceMixed      = errcode.ConferenceNounMixedWithNumbers
	CodeDialMethod           = errcode.DialInvalidMethod
	CodeDialTimeout          = errcode.DialInvalidTimeout
	CodeDialHangupOnStar     = errcode.DialInvalidHangupOnStar
	CodeDialCallerID         = errcode.DialInvalidCallerID
	CodeDialNested           = errcode.DialInvalidNestedElement
	CodeDialTimeLimit        = errcode.DialInvalidTimeLimit
	CodeDialRecord           = errcode.DialInvalidRecord
	CodeDialSequential       = errcode.DialInvalidSequential
	CodeDialAnswerOnBridge   = errcode.DialInvalidAnswerOnBridge
	CodeDialRingTone         = errcode.DialInvalidRingTone
	CodeNumberMethod         = errcode.NumberInvalidMethod
	CodeNumberSendDigits     = errcode.NumberInvalidSendDigits
	CodePhoneNumberFormat    = errcode.DialInvalidPhoneNumber
	CodeConfMuted            = errcode.ConfInvalidMuted
	CodeConfEndOnExit        = errcode.ConfInvalidEndOnExit
	CodeConfStartOnEnter     = errcode.ConfInvalidStartOnEnter
	CodeConfWaitURL          = errcode.ConfInvalidWaitURL
	CodeConfWaitMethod       = errcode.ConfInvalidWaitMethod
	CodeConfBeep             = errcode.ConfInvalidBeep
	CodeConfName             = errcode.ConfInvalidName
	CodeConfTrim             = errcode.ConfInvalidTrim
	CodeConfCoach            = errcode.ConfInvalidWhisperSID
	CodeSipMethod            = errcode.SipInvalidMethod
	CodeSipURI               = errcode.SipInvalidURI
	CodeSipCredentials       = errcode.DialInvalidCredentials
	CodeSipHeaderName        = errcode.DialInvalidHeaderName
	CodeSipHeaderTooLong     = errcode.DialHeaderTooLong
	CodeTranscribeCallback   = errcode.InvalidTranscribeCallback
	CodeGatherFinishOnKey    = errcode.GatherInvalidFinishOnKey
	CodeGatherMethod         = errcode.GatherInvalidMethod
	CodeGatherTimeout        = errcode.GatherInvalidTimeout
	CodeGatherNumDigits      = errcode.GatherInvalidNumDigits
	CodeGatherNested         = errcode.GatherInvalidNestedVerb
	CodeGatherSayVoice       = errcode.GatherSayInvalidVoice
	CodeGatherSayLoop        = errcode.GatherSayInvalidLoop
	CodeGatherInput          = errcode.GatherInvalidInput
	CodeGatherSpeechTimeout  = errcode.GatherInvalidSpeechTimeout
	CodeGatherMaxSpeechTime  = errcode.GatherInvalidMaxSpeechTime
	CodeGatherPartialMethod  = errcode.GatherInvalidPartialMethod
	CodeGatherLanguage       = errcode.GatherInvalidLanguage
	CodeGatherBargeIn        = errcode.GatherInvalidBargeIn
	CodeGatherProfanity      = errcode.GatherInvalidProfanityFilter
	CodeGatherSpeechModel    = errcode.GatherInvalidModel
	CodeGatherEmptyResult    = errcode.GatherInvalidActionOnEmpty
	CodePlayLoop             = errcode.PlayInvalidLoop
	CodePlayDigits           = errcode.PlayInvalidDigits
	CodeSayLoop              = errcode.SayInvalidLoop
	CodeSayVoice             = errcode.SayInvalidVoice
	CodeSayRate              = errcode.SayInvalidRate
	CodeSayText              = errcode.SayInvalidText
	CodeSayTooLong           = errcode.SayTooLong
	CodeRecordMethod         = errcode.RecordInvalidMethod
	CodeRecordTimeout        = errcode.RecordInvalidTimeout
	CodeRecordMaxLength      = errcode.RecordInvalidMaxLength
	CodeRecordFinishOnKey    = errcode.RecordInvalidFinishOnKey
	CodeRecordTranscribe     = errcode.RecordInvalidTranscribe
	CodeRecordTranscribeLen  = errcode.RecordMaxLengthTooHighForTranscribe
	CodeRecordPlayBeep       = errcode.RecordInvalidPlayBeep
	CodeRecordingStatusEvent = errcode.InvalidRecordingStatusCallbackEvent
	CodeRecordingTrack       = errcode.RecordInvalidRecordingTrack
	CodeRecordTrim           = errcode.RecordInvalidTrim
	CodeRedirectMethod       = errcode.RedirectInvalidMethod
	CodeRejectReason         = errcode.RejectInvalidCause
	CodePauseLength          = errcode.PauseInvalidLength
	CodeEnqueueMethod        = errcode.EnqueueInvalidMethod
	CodeEnqueueWaitURL       = errcode.EnqueueInvalidWaitURL
	CodeEnqueueAction        = errcode.EnqueueInvalidAction
	CodeEnqueueNameShort     = errcode.EnqueueQueueNameTooShort
	CodeEnqueueNameLong      = errcode.EnqueueQueueNameTooLong
	CodeEnqueueWaitMethod    = errcode.EnqueueInvalidWaitURLMethod
	CodeQueueMethod          = errcode.QueueInvalidWhisperMethod
	CodeQueueURL             = errcode.QueueInvalidWhisperURL
	CodeQueueNameShort       = errcode.QueueNameTooShort
	CodeQueueNameLong        = errcode.QueueNameTooLong
	CodeStartNested          = errcode.StartInvalidNestedNoun
	CodeConfAttributes       = errcode.ConferenceAttributesInvalid
	CodeConfLabel            = errcode.ParticipantLabelInvalid
)

// CodeInfo describes one Twilio error code as Twilio's error dictionary does.
type CodeInfo struct {
	Title   string // Twilio's title, e.g. "Dial: Invalid timeout value"
	Warning bool   // Twilio logs it as a WARNING (true) or an ERROR (false)
}

// Codes is Twilio's error dictionary for every code this package reports: the
// title is errcode.Message's, the level Twilio's.
var Codes = dictionary(map[int]bool{
	CodeInvalidURL:           false,
	CodeResponseTooLarge:     false,
	CodeParseFailure:         false,
	CodeRootNotResponse:      false,
	CodeSchema:               true,
	CodeConferenceMixed:      true,
	CodeDialMethod:           true,
	CodeDialTimeout:          true,
	CodeDialHangupOnStar:     true,
	CodeDialCallerID:         true,
	CodeDialNested:           true,
	CodeDialTimeLimit:        true,
	CodeDialRecord:           true,
	CodeDialSequential:       true,
	CodeDialAnswerOnBridge:   true,
	CodeDialRingTone:         true,
	CodeNumberMethod:         true,
	CodeNumberSendDigits:     true,
	CodePhoneNumberFormat:    true,
	CodeConfMuted:            true,
	CodeConfEndOnExit:        false,
	CodeConfStartOnEnter:     true,
	CodeConfWaitURL:          true,
	CodeConfWaitMethod:       true,
	CodeConfBeep:             true,
	CodeConfName:             true,
	CodeConfTrim:             false,
	CodeConfCoach:            false,
	CodeSipMethod:            true,
	CodeSipURI:               true,
	CodeSipCredentials:       true,
	CodeSipHeaderName:        true,
	CodeSipHeaderTooLong:     true,
	CodeTranscribeCallback:   false,
	CodeGatherFinishOnKey:    true,
	CodeGatherMethod:         true,
	CodeGatherTimeout:        true,
	CodeGatherNumDigits:      true,
	CodeGatherNested:         true,
	CodeGatherSayVoice:       true,
	CodeGatherSayLoop:        true,
	CodeGatherInput:          true,
	CodeGatherSpeechTimeout:  true,
	CodeGatherMaxSpeechTime:  true,
	CodeGatherPartialMethod:  true,
	CodeGatherLanguage:       true,
	CodeGatherBargeIn:        true,
	CodeGatherProfanity:      true,
	CodeGatherSpeechModel:    true,
	CodeGatherEmptyResult:    false,
	CodePlayLoop:             true,
	CodePlayDigits:           true,
	CodeSayLoop:              true,
	CodeSayVoice:             true,
	CodeSayRate:              true,
	CodeSayText:              true,
	CodeSayTooLong:           true,
	CodeRecordMethod:         true,
	CodeRecordTimeout:        true,
	CodeRecordMaxLength:      true,
	CodeRecordFinishOnKey:    true,
	CodeRecordTranscribe:     true,
	CodeRecordTranscribeLen:  true,
	CodeRecordPlayBeep:       true,
	CodeRecordingStatusEvent: false,
	CodeRecordingTrack:       true,
	CodeRecordTrim:           true,
	CodeRedirectMethod:       true,
	CodeRejectReason:         true,
	CodePauseLength:          true,
	CodeEnqueueMethod:        false,
	CodeEnqueueWaitURL:       false,
	CodeEnqueueAction:        false,
	CodeEnqueueNameShort:     false,
	CodeEnqueueNameLong:      false,
	CodeEnqueueWaitMethod:    false,
	CodeQueueMethod:          false,
	CodeQueueURL:             false,
	CodeQueueNameShort:       false,
	CodeQueueNameLong:        false,
	CodeStartNested:          false,
	CodeConfAttributes:       false,
	CodeConfLabel:            false,
})

// dictionary gives each code of warning its title, and its level: a warning
// (true) or an error (false).
func dictionary(warning map[int]bool) map[int]CodeInfo {
	m := make(map[int]CodeInfo, len(warning))
	for code, w := range warning {
		m[code] = CodeInfo{Title: errcode.Message(code), Warning: w}
	}
	return m
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
