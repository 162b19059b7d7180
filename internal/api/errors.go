package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Sentinel errors of EnsureMainAccount.
var (
	// ErrInvalidAccountSID: the configured main account SID is not AC + 32
	// hex digits.
	ErrInvalidAccountSID = errors.New("api: invalid account SID (want AC followed by 32 hex digits)")
	// ErrInvalidAuthToken: the configured auth token is not 32 hex digits.
	ErrInvalidAuthToken = errors.New("api: invalid auth token (want 32 hex digits)")
	// ErrMainAccountMismatch: the store already has a main account with
	// another SID than the configured one.
	ErrMainAccountMismatch = errors.New("api: store already has a different main account")
)

// Twilio error codes the REST API answers with. Each is documented at
// https://www.twilio.com/docs/errors/CODE.
const (
	CodeBadRequest                 = 400   // generic: a parameter of the wrong type or value
	CodeUnsupportedMediaType       = 415   // generic: a media format switchboard cannot produce (recording .mp3)
	CodeInvalidParameter           = 20001 // a list filter with a value Twilio would refuse (dates, Status, Log)
	CodeInvalidFriendlyName        = 20002 // FriendlyName longer than 64 characters or empty
	CodePermissionDenied           = 20003 // bad credentials, or an account they do not reach
	CodeMethodNotAllowed           = 20004 // the resource exists but not with this HTTP method
	CodeAccountNotActive           = 20005 // the account is suspended or closed
	CodeAccessDenied               = 20006 // authenticated, but not allowed to do this
	CodePageSizeTooLarge           = 20007 // PageSize outside 1..1000
	CodeNotFound                   = 20404 // no such resource
	CodeConflict                   = 20409 // the resource is not in a state that allows this change
	CodeInternal                   = 20500 // switchboard failed
	CodeTooManyRequests            = 20429 // too many requests (commands pending for a call)
	CodeNestedSubaccount           = 21101 // subaccounts cannot contain subaccounts
	CodeToMissing                  = 21201 // Create Call without To
	CodeInvalidCallURL             = 21205 // Create Call: Url (or Twiml) missing, both given, or not a URL
	CodeFromNotVerified            = 21210 // From is not one of the account's numbers
	CodeInvalidTo                  = 21211 // To is not a phone number, SIP URI or client
	CodeInvalidFrom                = 21212 // From is not a valid caller ID
	CodeFromMissing                = 21213 // Create Call without From
	CodeToUnreachable              = 21214 // To cannot be reached (no trunk for phone numbers)
	CodeInvalidMachineDetection    = 21234 // MachineDetection not Enable or DetectMessageEnd
	CodeInvalidCallState           = 21220 // a realtime operation (recording) on a call that is not in progress
	CodeInvalidURL                 = 21402 // a phone number's URL handler is not a valid URL
	CodeInvalidMethod              = 21403 // a phone number's HTTP method is not GET or POST
	CodeApplicationSIDNotFound     = 21420 // VoiceApplicationSid/SmsApplicationSid not accessible
	CodePhoneNumberInvalid         = 21421 // PhoneNumber missing or malformed
	CodePhoneNumberUnavailable     = 21422 // PhoneNumber already taken (on this server)
	CodeAreaCodeUnavailable        = 21452 // no numbers to provision by AreaCode
	CodeAccountClosed              = 21479 // a closed subaccount's status cannot change
	CodeInvalidPageToken           = 21481 // PageToken (or Page) not valid
	CodeInvalidCallbackURL         = 21502 // StatusCallback is not a valid URL
	CodeInvalidStatusCallback      = 21609 // a call's StatusCallback is not a valid URL
	CodeInvalidStatusCallbackEvent = 21626 // StatusCallbackEvent not among initiated ringing answered completed
	CodeTwimlTooLong               = 32018 // Twiml over 4,000 characters
)

// Error is a REST error as Twilio returns it: the HTTP status and Twilio's
// error code, written as {"code","message","more_info","status"}.
type Error struct {
	Status  int    // HTTP status
	Code    int    // Twilio error code
	Message string // what went wrong, for a person
	// Detail is an optional longer explanation (Twilio sends one with 20003).
	Detail string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %d: %s", e.Status, e.Code, e.Message)
}

// MoreInfo is the documentation page of the error code.
func (e *Error) MoreInfo() string {
	return "https://www.twilio.com/docs/errors/" + strconv.Itoa(e.Code)
}

// errorBody is the JSON shape of an Error.
type errorBody struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
}

func (e *Error) body() errorBody {
	return errorBody{Code: e.Code, Message: e.Message, MoreInfo: e.MoreInfo(), Status: e.Status, Detail: e.Detail}
}

func badRequest(code int, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// errAuthenticate is Twilio's answer to missing or wrong credentials, and to
// credentials that do not reach the account in the URL.
func errAuthenticate() *Error {
	return &Error{
		Status:  http.StatusUnauthorized,
		Code:    CodePermissionDenied,
		Message: "Authenticate",
		Detail:  "Your AccountSid or AuthToken was incorrect.",
	}
}

func errNotFound(path string) *Error {
	return &Error{
		Status:  http.StatusNotFound,
		Code:    CodeNotFound,
		Message: fmt.Sprintf("The requested resource %s was not found", path),
	}
}

func errMethodNotAllowed(method string) *Error {
	return &Error{
		Status:  http.StatusMethodNotAllowed,
		Code:    CodeMethodNotAllowed,
		Message: fmt.Sprintf("Method not allowed: %s", method),
	}
}

func errAccountNotActive(sid string) *Error {
	return &Error{
		Status:  http.StatusForbidden,
		Code:    CodeAccountNotActive,
		Message: fmt.Sprintf("Account not active: %s", sid),
	}
}

func errAccessDenied(format string, args ...any) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeAccessDenied, Message: fmt.Sprintf(format, args...)}
}

func errInternal() *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "Internal Server Error"}
}
