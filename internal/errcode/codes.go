package errcode

import "strconv"

// Generic codes: HTTP statuses the REST API also answers with as its error
// code.
const (
	BadRequest           = 400 // Bad Request
	UnsupportedMediaType = 415 // Unsupported Media Type
)

// 11xxx, 12xxx: fetching and parsing the app's TwiML and media over HTTP.
const (
	InvalidURL                     = 11100 // Invalid URL format
	RetrievalFailure               = 11200 // HTTP retrieval failure
	ConnectionFailure              = 11205 // HTTP connection failure
	ProtocolViolation              = 11206 // HTTP protocol violation
	BadHostName                    = 11210 // HTTP bad host name
	TooManyRedirects               = 11215 // HTTP too many redirects
	TLSHandshake                   = 11220 // SSL/TLS Handshake Error
	CertDomainMismatch             = 11235 // Certificate Invalid - Domain Mismatch
	CertExpired                    = 11236 // Certificate Invalid - Certificate Expired
	CertUnknownAuthority           = 11237 // Certificate Invalid - Could not find path to certificate
	ResponseTooLarge               = 11750 // TwiML response body too large
	DocumentParseFailure           = 12100 // Document parse failure
	RootNotResponse                = 12102 // The root element must be Response
	SchemaValidationWarning        = 12200 // Schema validation warning
	InvalidContentType             = 12300 // Invalid Content-Type
	ConferenceNounMixedWithNumbers = 13000 // Conference Noun cannot be mixed with Number nouns
)

// 132xx: <Dial> and its nouns.
const (
	DialFromDialSegment       = 13201 // Dial: Cannot Dial out from a Dial Call Segment
	DialInvalidMethod         = 13210 // Dial: Invalid method value
	DialInvalidTimeout        = 13212 // Dial: Invalid timeout value
	DialInvalidHangupOnStar   = 13213 // Dial: Invalid hangupOnStar value
	DialInvalidCallerID       = 13214 // Dial: Invalid callerId value
	DialInvalidNestedElement  = 13215 // Dial: Invalid nested element
	DialInvalidTimeLimit      = 13216 // Invalid timeLimit value
	DialInvalidRecord         = 13217 // Dial: Invalid record value
	DialInvalidSequential     = 13218 // Dial: Invalid sequential value
	DialInvalidAnswerOnBridge = 13219 // Dial: Invalid answerOnBridge value
	DialInvalidRingTone       = 13220 // Dial: Invalid ringTone value
	NumberInvalidMethod       = 13221 // Dial->Number: Invalid method value
	NumberInvalidSendDigits   = 13222 // Dial->Number: Invalid sendDigits value
	DialInvalidPhoneNumber    = 13223 // Dial: Invalid phone number format
	ConfInvalidMuted          = 13230 // Dial->Conference: Invalid muted value
	ConfInvalidEndOnExit      = 13231 // Dial->Conference: Invalid endConferenceOnExit value
	ConfInvalidStartOnEnter   = 13232 // Dial->Conference: Invalid startConferenceOnEnter value
	ConfInvalidWaitURL        = 13233 // Dial->Conference: Invalid waitUrl
	ConfInvalidWaitMethod     = 13234 // Dial->Conference: Invalid waitMethod
	ConfInvalidBeep           = 13235 // Dial->Conference: Invalid beep value
	ConfInvalidName           = 13237 // Dial->Conference: Invalid Conference Name
	ConfInvalidTrim           = 13239 // Dial->Conference: Invalid Trim Value
	ConfInvalidWhisperSID     = 13240 // Dial->Conference: Invalid Whisper SID
	SipInvalidMethod          = 13241 // Dial->SIP: Invalid method value
	SipInvalidURI             = 13243 // Dial->SIP: Invalid SIP URI
	DialInvalidCredentials    = 13249 // Dial: Invalid username or password attribute
	DialInvalidHeaderName     = 13252 // Dial: Invalid header name
	DialHeaderTooLong         = 13253 // Dial: Header is too long
	InvalidTranscribeCallback = 13257 // Invalid transcribeCallback URL
)

// 133xx: <Gather>.
const (
	GatherInvalidFinishOnKey     = 13310 // Gather: Invalid finishOnKey value
	GatherInvalidMethod          = 13312 // Gather: Invalid method value
	GatherInvalidTimeout         = 13313 // Gather: Invalid timeout value
	GatherInvalidNumDigits       = 13314 // Gather: Invalid numDigits value
	GatherInvalidNestedVerb      = 13320 // Gather: Invalid nested verb
	GatherSayInvalidVoice        = 13321 // Gather -> Say: Invalid voice value
	GatherSayInvalidLoop         = 13322 // Gather->Say: Invalid loop value
	GatherInvalidInput           = 13326 // Gather: Invalid input value
	GatherInvalidSpeechTimeout   = 13327 // Gather: Invalid speechTimeout value
	GatherInvalidMaxSpeechTime   = 13328 // Gather: Invalid maxSpeechTime value
	GatherInvalidPartialMethod   = 13329 // Gather: Invalid partialResultCallbackMethod value
	GatherInvalidLanguage        = 13331 // Gather: Invalid language value
	GatherInvalidBargeIn         = 13332 // Gather: Invalid bargeIn value
	GatherInvalidProfanityFilter = 13333 // Gather: Invalid profanityFilter value
	GatherInvalidModel           = 13334 // Gather: Invalid model value
	GatherInvalidActionOnEmpty   = 13338 // Gather: Invalid actionOnEmptyResult value
)

// 134xx, 135xx: <Play> and <Say>.
const (
	PlayInvalidLoop        = 13410 // Play: Invalid loop value
	PlayInvalidContentType = 13420 // Play: Invalid Content-Type
	PlayInvalidDigits      = 13430 // Play: Invalid DTMF String
	SayInvalidLoop         = 13510 // Say: Invalid loop value
	SayInvalidVoice        = 13511 // Say: Invalid voice value
	SayInvalidRate         = 13513 // Say: Invalid rate value
	SayInvalidText         = 13520 // Say: Invalid text
	SayTooLong             = 13521 // <Say> element character limits exceeded
)

// 136xx: <Record> and recordings.
const (
	RecordInvalidMethod                 = 13610 // Record: Invalid method value
	RecordInvalidTimeout                = 13611 // Record: Invalid timeout value
	RecordInvalidMaxLength              = 13612 // Record: Invalid maxLength value
	RecordInvalidFinishOnKey            = 13613 // Record: Invalid finishOnKey value
	RecordInvalidTranscribe             = 13614 // Record: Invalid transcribe value
	RecordMaxLengthTooHighForTranscribe = 13615 // Record: maxLength too high for transcription
	RecordInvalidPlayBeep               = 13616 // Record: playBeep must be true or false
	RecordLengthOutOfRange              = 13617 // Record: Recording length is out of range
	InvalidRecordingStatusCallbackEvent = 13621 // Invalid 'recordingStatusCallbackEvent'
	RecordInvalidRecordingTrack         = 13622 // Record: invalid recordingTrack value
	RecordInvalidTrim                   = 13699 // Record: Invalid trim value
)

// 137xx-139xx: <Redirect>, <Reject>, <Pause>.
const (
	RedirectInvalidMethod = 13710 // Redirect: Invalid method value
	RejectInvalidCause    = 13810 // Reject: Invalid cause
	PauseInvalidLength    = 13910 // Pause: Invalid length value
)

// 14xxx: <Enqueue>, <Dial><Queue>, <Start>.
const (
	EnqueueInvalidMethod        = 14201 // Enqueue: Invalid method value
	EnqueueInvalidWaitURL       = 14202 // Enqueue: Invalid waitUrl
	EnqueueInvalidAction        = 14203 // Enqueue: Invalid Enqueue action url
	EnqueueQueueNameTooShort    = 14204 // Enqueue: Queue name too short
	EnqueueQueueNameTooLong     = 14205 // Enqueue: Queue name too long
	EnqueueInvalidWaitURLMethod = 14206 // Enqueue: Invalid waitUrlMethod value
	QueueInvalidWhisperMethod   = 14210 // Dial->Queue: Invalid whisper method
	QueueInvalidWhisperURL      = 14211 // Dial->Queue: Invalid whisper url
	QueueNameTooShort           = 14212 // Dial->Queue: queue name too short
	QueueNameTooLong            = 14213 // Dial->Queue: queue name too long
	StartInvalidNestedNoun      = 14300 // Start: Invalid nested noun value
)

// 16xxx: conferences.
const (
	ConferenceAttributesInvalid = 16002 // Failed to validate conference attributes
	ParticipantLabelInvalid     = 16023 // Conference: Participant label invalid (max 128 chars, not CallSid, no '/')
)

// 20xxx: REST API requests.
const (
	InvalidParameter    = 20001 // Invalid Parameter
	InvalidFriendlyName = 20002 // Invalid FriendlyName
	PermissionDenied    = 20003 // Permission Denied
	MethodNotAllowed    = 20004 // Method not allowed
	AccountNotActive    = 20005 // Account not active
	AccessDenied        = 20006 // Access Denied
	InvalidPageSize     = 20007 // Invalid PageSize
	NotFound            = 20404 // Not Found
	Conflict            = 20409 // Conflict
	TooManyRequests     = 20429 // Too Many Requests
	InternalServerError = 20500 // Internal Server Error
	ServiceUnavailable  = 20503 // Service Unavailable
)

// 21xxx: REST API resources (accounts, calls, phone numbers).
const (
	SubaccountsCannotContainSubaccounts = 21101 // Subaccounts cannot contain subaccounts
	ToMissing                           = 21201 // No 'To' number is specified
	InvalidCallURL                      = 21205 // Invalid url
	FromNotVerified                     = 21210 // 'From' phone number not verified
	InvalidTo                           = 21211 // Invalid 'To' Phone Number
	InvalidFrom                         = 21212 // Invalid 'From' Phone Number
	FromMissing                         = 21213 // 'From' phone number is required
	ToUnreachable                       = 21214 // 'To' phone number cannot be reached
	InvalidCallState                    = 21220 // Invalid call state
	InvalidMachineDetection             = 21234 // Invalid MachineDetection value
	InvalidNumberURL                    = 21402 // Invalid Url
	InvalidNumberMethod                 = 21403 // Invalid Method
	ApplicationSIDNotFound              = 21420 // Application Sid not found
	PhoneNumberInvalid                  = 21421 // PhoneNumber is invalid
	PhoneNumberUnavailable              = 21422 // PhoneNumber is not available
	AreaCodeUnavailable                 = 21452 // No phone numbers found in area code
	AccountClosed                       = 21479 // Cannot change the status of a closed account
	InvalidPageToken                    = 21481 // Invalid PageToken
	InvalidCallbackURL                  = 21502 // Invalid callback url
	InvalidStatusCallbackURL            = 21609 // Invalid StatusCallbackUrl
	InvalidStatusCallbackEvent          = 21626 // Invalid StatusCallbackEvents
)

// 3xxxx: voice calls.
const (
	SIPCommunication = 32011 // Error communicating with your SIP communications infrastructure
	TwimlTooLong     = 32018 // Twiml parameter is too long
)

// titles is Twilio's title for each code above.
var titles = map[int]string{
	BadRequest:           "Bad Request",
	UnsupportedMediaType: "Unsupported Media Type",

	InvalidURL:                     "Invalid URL format",
	RetrievalFailure:               "HTTP retrieval failure",
	ConnectionFailure:              "HTTP connection failure",
	ProtocolViolation:              "HTTP protocol violation",
	BadHostName:                    "HTTP bad host name",
	TooManyRedirects:               "HTTP too many redirects",
	TLSHandshake:                   "SSL/TLS Handshake Error",
	CertDomainMismatch:             "Certificate Invalid - Domain Mismatch",
	CertExpired:                    "Certificate Invalid - Certificate Expired",
	CertUnknownAuthority:           "Certificate Invalid - Could not find path to certificate",
	ResponseTooLarge:               "TwiML response body too large",
	DocumentParseFailure:           "Document parse failure",
	RootNotResponse:                "The root element must be Response",
	SchemaValidationWarning:        "Schema validation warning",
	InvalidContentType:             "Invalid Content-Type",
	ConferenceNounMixedWithNumbers: "Conference Noun cannot be mixed with Number nouns",

	DialFromDialSegment:       "Dial: Cannot Dial out from a Dial Call Segment",
	DialInvalidMethod:         "Dial: Invalid method value",
	DialInvalidTimeout:        "Dial: Invalid timeout value",
	DialInvalidHangupOnStar:   "Dial: Invalid hangupOnStar value",
	DialInvalidCallerID:       "Dial: Invalid callerId value",
	DialInvalidNestedElement:  "Dial: Invalid nested element",
	DialInvalidTimeLimit:      "Invalid timeLimit value",
	DialInvalidRecord:         "Dial: Invalid record value",
	DialInvalidSequential:     "Dial: Invalid sequential value",
	DialInvalidAnswerOnBridge: "Dial: Invalid answerOnBridge value",
	DialInvalidRingTone:       "Dial: Invalid ringTone value",
	NumberInvalidMethod:       "Dial->Number: Invalid method value",
	NumberInvalidSendDigits:   "Dial->Number: Invalid sendDigits value",
	DialInvalidPhoneNumber:    "Dial: Invalid phone number format",
	ConfInvalidMuted:          "Dial->Conference: Invalid muted value",
	ConfInvalidEndOnExit:      "Dial->Conference: Invalid endConferenceOnExit value",
	ConfInvalidStartOnEnter:   "Dial->Conference: Invalid startConferenceOnEnter value",
	ConfInvalidWaitURL:        "Dial->Conference: Invalid waitUrl",
	ConfInvalidWaitMethod:     "Dial->Conference: Invalid waitMethod",
	ConfInvalidBeep:           "Dial->Conference: Invalid beep value",
	ConfInvalidName:           "Dial->Conference: Invalid Conference Name",
	ConfInvalidTrim:           "Dial->Conference: Invalid Trim Value",
	ConfInvalidWhisperSID:     "Dial->Conference: Invalid Whisper SID",
	SipInvalidMethod:          "Dial->SIP: Invalid method value",
	SipInvalidURI:             "Dial->SIP: Invalid SIP URI",
	DialInvalidCredentials:    "Dial: Invalid username or password attribute",
	DialInvalidHeaderName:     "Dial: Invalid header name",
	DialHeaderTooLong:         "Dial: Header is too long",
	InvalidTranscribeCallback: "Invalid transcribeCallback URL",

	GatherInvalidFinishOnKey:     "Gather: Invalid finishOnKey value",
	GatherInvalidMethod:          "Gather: Invalid method value",
	GatherInvalidTimeout:         "Gather: Invalid timeout value",
	GatherInvalidNumDigits:       "Gather: Invalid numDigits value",
	GatherInvalidNestedVerb:      "Gather: Invalid nested verb",
	GatherSayInvalidVoice:        "Gather -> Say: Invalid voice value",
	GatherSayInvalidLoop:         "Gather->Say: Invalid loop value",
	GatherInvalidInput:           "Gather: Invalid input value",
	GatherInvalidSpeechTimeout:   "Gather: Invalid speechTimeout value",
	GatherInvalidMaxSpeechTime:   "Gather: Invalid maxSpeechTime value",
	GatherInvalidPartialMethod:   "Gather: Invalid partialResultCallbackMethod value",
	GatherInvalidLanguage:        "Gather: Invalid language value",
	GatherInvalidBargeIn:         "Gather: Invalid bargeIn value",
	GatherInvalidProfanityFilter: "Gather: Invalid profanityFilter value",
	GatherInvalidModel:           "Gather: Invalid model value",
	GatherInvalidActionOnEmpty:   "Gather: Invalid actionOnEmptyResult value",

	PlayInvalidLoop:        "Play: Invalid loop value",
	PlayInvalidContentType: "Play: Invalid Content-Type",
	PlayInvalidDigits:      "Play: Invalid DTMF String",
	SayInvalidLoop:         "Say: Invalid loop value",
	SayInvalidVoice:        "Say: Invalid voice value",
	SayInvalidRate:         "Say: Invalid rate value",
	SayInvalidText:         "Say: Invalid text",
	SayTooLong:             "<Say> element character limits exceeded",

	RecordInvalidMethod:                 "Record: Invalid method value",
	RecordInvalidTimeout:                "Record: Invalid timeout value",
	RecordInvalidMaxLength:              "Record: Invalid maxLength value",
	RecordInvalidFinishOnKey:            "Record: Invalid finishOnKey value",
	RecordInvalidTranscribe:             "Record: Invalid transcribe value",
	RecordMaxLengthTooHighForTranscribe: "Record: maxLength too high for transcription",
	RecordInvalidPlayBeep:               "Record: playBeep must be true or false",
	RecordLengthOutOfRange:              "Record: Recording length is out of range",
	InvalidRecordingStatusCallbackEvent: "Invalid 'recordingStatusCallbackEvent'",
	RecordInvalidRecordingTrack:         "Record: invalid recordingTrack value",
	RecordInvalidTrim:                   "Record: Invalid trim value",

	RedirectInvalidMethod: "Redirect: Invalid method value",
	RejectInvalidCause:    "Reject: Invalid cause",
	PauseInvalidLength:    "Pause: Invalid length value",

	EnqueueInvalidMethod:        "Enqueue: Invalid method value",
	EnqueueInvalidWaitURL:       "Enqueue: Invalid waitUrl",
	EnqueueInvalidAction:        "Enqueue: Invalid Enqueue action url",
	EnqueueQueueNameTooShort:    "Enqueue: Queue name too short",
	EnqueueQueueNameTooLong:     "Enqueue: Queue name too long",
	EnqueueInvalidWaitURLMethod: "Enqueue: Invalid waitUrlMethod value",
	QueueInvalidWhisperMethod:   "Dial->Queue: Invalid whisper method",
	QueueInvalidWhisperURL:      "Dial->Queue: Invalid whisper url",
	QueueNameTooShort:           "Dial->Queue: queue name too short",
	QueueNameTooLong:            "Dial->Queue: queue name too long",
	StartInvalidNestedNoun:      "Start: Invalid nested noun value",

	ConferenceAttributesInvalid: "Failed to validate conference attributes",
	ParticipantLabelInvalid:     "Conference: Participant label invalid (max 128 chars, not CallSid, no '/')",

	InvalidParameter:    "Invalid Parameter",
	InvalidFriendlyName: "Invalid FriendlyName",
	PermissionDenied:    "Permission Denied",
	MethodNotAllowed:    "Method not allowed",
	AccountNotActive:    "Account not active",
	AccessDenied:        "Access Denied",
	InvalidPageSize:     "Invalid PageSize",
	NotFound:            "Not Found",
	Conflict:            "Conflict",
	TooManyRequests:     "Too Many Requests",
	InternalServerError: "Internal Server Error",
	ServiceUnavailable:  "Service Unavailable",

	SubaccountsCannotContainSubaccounts: "Subaccounts cannot contain subaccounts",
	ToMissing:                           "No 'To' number is specified",
	InvalidCallURL:                      "Invalid url",
	FromNotVerified:                     "'From' phone number not verified",
	InvalidTo:                           "Invalid 'To' Phone Number",
	InvalidFrom:                         "Invalid 'From' Phone Number",
	FromMissing:                         "'From' phone number is required",
	ToUnreachable:                       "'To' phone number cannot be reached",
	InvalidCallState:                    "Invalid call state",
	InvalidMachineDetection:             "Invalid MachineDetection value",
	InvalidNumberURL:                    "Invalid Url",
	InvalidNumberMethod:                 "Invalid Method",
	ApplicationSIDNotFound:              "Application Sid not found",
	PhoneNumberInvalid:                  "PhoneNumber is invalid",
	PhoneNumberUnavailable:              "PhoneNumber is not available",
	AreaCodeUnavailable:                 "No phone numbers found in area code",
	AccountClosed:                       "Cannot change the status of a closed account",
	InvalidPageToken:                    "Invalid PageToken",
	InvalidCallbackURL:                  "Invalid callback url",
	InvalidStatusCallbackURL:            "Invalid StatusCallbackUrl",
	InvalidStatusCallbackEvent:          "Invalid StatusCallbackEvents",

	SIPCommunication: "Error communicating with your SIP communications infrastructure",
	TwimlTooLong:     "Twiml parameter is too long",
}

// Message returns Twilio's short title for code, as its error dictionary
// words it, or "" for a code switchboard does not use.
func Message(code int) string { return titles[code] }

// MoreInfo returns the URL of Twilio's page for code, as the more_info field
// of a Notification or a REST error body gives it.
func MoreInfo(code int) string {
	return "https://www.twilio.com/docs/errors/" + strconv.Itoa(code)
}
