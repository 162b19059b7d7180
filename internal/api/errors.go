package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/switchboard-voice/switchboard/internal/errcode"
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

// Twilio error codes the REST API answers with, as named in package errcode.
// Each is documented at https://www.twilio.com/docs/errors/CODE.
const (
	CodeBadRequest                 = errcode.BadRequest                          // generic: a parameter of the wrong type or value
	CodeUnsupportedMediaType       = errcode.UnsupportedMediaType                // generic: a media format switchboard cannot produce (recording .mp3)
	CodeInvalidParameter           = errcode.InvalidParameter                    // a list filter with a value Twilio would refuse (dates, Status, Log)
	CodeInvalidFriendlyName        = errcode.InvalidFriendlyName                 // FriendlyName longer than 64 characters or empty
	CodePermissionDenied           = errcode.PermissionDenied                    // bad credentials, or an account they do not reach
	CodeMethodNotAllowed           = errcode.MethodNotAllowed                    // the resource exists but not with this HTTP method
	CodeAccountNotActive           = errcode.AccountNotActive                    // the account is suspended or closed
	CodeAccessDenied               = errcode.AccessDenied                        // authenticated, but not allowed to do this
	CodePageSizeTooLarge           = errcode.InvalidPageSize                     // PageSize outside 1..1000
	CodeNotFound                   = errcode.NotFound                            // no such resource
	CodeConflict                   = errcode.Conflict                            // the resource is not in a state that allows this change
	CodeInternal                   = errcode.InternalServerError                 // switchboard failed
	CodeServiceUnavailable         = errcode.ServiceUnavailable                  // shutting down: no new calls
	CodeTooManyRequests            = errcode.TooManyRequests                     // too many requests (commands pending for a call)
	CodeNestedSubaccount           = errcode.SubaccountsCannotContainSubaccounts // subaccounts cannot contain subaccounts
	CodeToMissing                  = errcode.ToMissing                           // Create Call without To
	CodeInvalidCallURL             = errcode.InvalidCallURL                      // Create Call: Url (or Twiml) missing, both given, or not a URL
	CodeFromNotVerified            = errcode.FromNotVerified                     // From is not one of the account's numbers
	CodeInvalidTo                  = errcode.InvalidTo                           // To is not a phone number, SIP URI or client
	CodeInvalidFrom                = errcode.InvalidFrom                         // From is not a valid caller ID
	CodeFromMissing                = errcode.FromMissing                         // Create Call without From
	CodeToUnreachable              = errcode.ToUnreachable                       // To cannot be reached (no trunk for phone numbers)
	CodeInvalidMachineDetection    = errcode.InvalidMachineDetection             // MachineDetection not Enable or DetectMessageEnd
	CodeInvalidCallState           = errcode.InvalidCallState                    // a realtime operation (recording) on a call that is not in progress
	CodeInvalidURL                 = errcode.InvalidNumberURL                    // a phone number's URL handler is not a valid URL
	CodeInvalidMethod              = errcode.InvalidNumberMethod                 // a phone number's HTTP method is not GET or POST
	CodeApplicationSIDNotFound     = errcode.ApplicationSIDNotFound              // VoiceApplicationSid/SmsApplicationSid not accessible
	CodePhoneNumberInvalid         = errcode.PhoneNumberInvalid                  // PhoneNumber missing or malformed
	CodePhoneNumberUnavailable     = errcode.PhoneNumberUnavailable              // PhoneNumber already taken (on this server)
	CodeAreaCodeUnavailable        = errcode.AreaCodeUnavailable                 // no numbers to provision by AreaCode
	CodeAccountClosed              = errcode.AccountClosed                       // a closed subaccount's status cannot change
	CodeInvalidPageToken           = errcode.InvalidPageToken                    // PageToken (or Page) not valid
	CodeInvalidCallbackURL         = errcode.InvalidCallbackURL                  // StatusCallback is not a valid URL
	CodeInvalidStatusCallback      = errcode.InvalidStatusCallbackURL            // a call's StatusCallback is not a valid URL
	CodeInvalidStatusCallbackEvent = errcode.InvalidStatusCallbackEvent          // StatusCallbackEvent not among initiated ringing answered completed
	CodeTwimlTooLong               = errcode.TwimlTooLong                        // Twiml over 4,000 characters
)

// Twilio's conference codes of the Conference and Participant resources,
// not (yet) in package errcode.
const (
	CodeConferenceNotLive       = 16022 // Conference does not exist or is completed (a change to a conference that is not live)
	CodeParticipantLabelInvalid = 16024 // Participant label invalid: max 128 chars, not a CallSid, no '/' (Create Participant)
	CodeParticipantLabelInUse   = 16026 // Participant label is in use by another participant
	CodeCoachedNotPresent       = 16028 // Participant to be whispered (CallSidToCoach) is not present in the conference
)

// Codes of the HTTP layer, not (yet) in package errcode.
const (
	// CodeRequestTooLarge is Twilio's 20413, Request Entity Too Large: a
	// body over the server's limit (HTTP 413).
	CodeRequestTooLarge = 20413
	// CodeRequestTimeout: the body did not arrive in time (HTTP 408). Twilio
	// documents no code of its own for this; like 400 and 415, the HTTP
	// status serves as the code.
	CodeRequestTimeout = 408
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
	return errcode.MoreInfo(e.Code)
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

// errTooLarge answers a request body over maxBodyBytes.
func errTooLarge() *Error {
	return &Error{
		Status:  http.StatusRequestEntityTooLarge,
		Code:    CodeRequestTooLarge,
		Message: fmt.Sprintf("Request Entity Too Large: the body is over the %d bytes allowed", maxBodyBytes),
	}
}

// errBodyTimeout answers a request whose body stalled.
func errBodyTimeout() *Error {
	return &Error{
		Status:  http.StatusRequestTimeout,
		Code:    CodeRequestTimeout,
		Message: "Request Timeout: the request body did not arrive in time",
	}
}
