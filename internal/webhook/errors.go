package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/switchboard-voice/switchboard/internal/errcode"
)

// Twilio error codes this package reports, as named in package errcode. Each
// is documented at https://www.twilio.com/docs/errors/<code>.
const (
	// CodeInvalidURL (11100, "Invalid URL format"): the URL cannot be parsed or
	// is not http/https.
	CodeInvalidURL = errcode.InvalidURL
	// CodeRetrievalFailure (11200, "HTTP retrieval failure"): the app answered
	// with a non-2xx status, or the fetch failed in a way no narrower code covers.
	CodeRetrievalFailure = errcode.RetrievalFailure
	// CodeConnectionFailure (11205, "HTTP connection failure"): the TCP
	// connection could not be made (refused, reset, unreachable, or the
	// address is denied: Config.Deny) or a timer expired: 10 s to connect,
	// 15 s in total.
	CodeConnectionFailure = errcode.ConnectionFailure
	// CodeProtocolViolation (11206, "HTTP protocol violation"): the app's answer
	// is not HTTP.
	CodeProtocolViolation = errcode.ProtocolViolation
	// CodeBadHostName (11210, "HTTP bad host name"): the host name does not
	// resolve.
	CodeBadHostName = errcode.BadHostName
	// CodeTooManyRedirects (11215, "HTTP too many redirects").
	CodeTooManyRedirects = errcode.TooManyRedirects
	// CodeTLSHandshake (11220, "SSL/TLS Handshake Error").
	CodeTLSHandshake = errcode.TLSHandshake
	// CodeCertDomainMismatch (11235, "Certificate Invalid - Domain Mismatch").
	CodeCertDomainMismatch = errcode.CertDomainMismatch
	// CodeCertExpired (11236, "Certificate Invalid - Certificate Expired").
	CodeCertExpired = errcode.CertExpired
	// CodeCertUnknownAuthority (11237, "Certificate Invalid - Could not find
	// path to certificate").
	CodeCertUnknownAuthority = errcode.CertUnknownAuthority
	// CodeResponseTooLarge (11750, "TwiML response body too large"): more than
	// the 64 kB Twilio accepts for a document.
	CodeResponseTooLarge = errcode.ResponseTooLarge
	// CodeDocumentParse (12100, "Document parse failure"): the TwiML could not be
	// parsed. This package never parses TwiML; FetchWithFallback uses the code
	// for a document its Validate hook rejects.
	CodeDocumentParse = errcode.DocumentParseFailure
	// CodeInvalidContentType (12300, "Invalid Content-Type"): the answer is
	// neither TwiML, audio nor text/plain, or has no Content-Type.
	CodeInvalidContentType = errcode.InvalidContentType
)

// Sentinel errors, found with errors.Is in an *Error's chain.
var (
	// ErrTimeout: a connect, read or total timer expired.
	ErrTimeout = errors.New("webhook: timed out")
	// ErrStatus: the app answered with a status that is not 2xx.
	ErrStatus = errors.New("webhook: unsuccessful http status")
	// ErrTooLarge: the body is larger than the cap for its kind.
	ErrTooLarge = errors.New("webhook: response body too large")
	// ErrContentType: the Content-Type is missing or not one Twilio accepts.
	ErrContentType = errors.New("webhook: unsupported content-type")
	// ErrTooManyRedirects: the redirect limit was reached.
	ErrTooManyRedirects = errors.New("webhook: too many redirects")
	// ErrBadURL: the URL is malformed, relative or not http/https.
	ErrBadURL = errors.New("webhook: invalid url")
	// ErrBadMethod: the method is neither GET nor POST.
	ErrBadMethod = errors.New("webhook: method must be GET or POST")
	// ErrInvalidDocument: the Validate hook rejected the document.
	ErrInvalidDocument = errors.New("webhook: invalid document")
)

// An Error is a failed request to the user's app, carrying Twilio's error code
// and what a Notification (Alert) resource records about it: the request URL,
// method and parameters, and the response status, headers and (the start of
// the) body when there was a response.
type Error struct {
	// Code is Twilio's error code (one of the Code constants), 0 when Twilio
	// has none (a dropped callback).
	Code int
	// CallSID is the call the request was made for, when known.
	CallSID string
	// URL is the URL that failed (after redirects: the one that answered).
	URL string
	// Method is GET or POST.
	Method string
	// Params are the request parameters sent.
	Params url.Values
	// Status is the HTTP status of the answer, 0 when there was none.
	Status int
	// ResponseHeader holds the answer's headers when there was one.
	ResponseHeader http.Header
	// ResponseBody holds at most the first 4 KiB of the answer's body, when it
	// was read.
	ResponseBody []byte
	// Err is the underlying cause.
	Err error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("webhook: %d", e.Code)
	if e.Method != "" || e.URL != "" {
		s += fmt.Sprintf(" %s %s", e.Method, e.URL)
	}
	if e.Status != 0 {
		s += fmt.Sprintf(": status %d", e.Status)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// MoreInfo returns the URL of Twilio's page for the error code, as the
// more_info field of a Notification or a REST error body gives it.
func (e *Error) MoreInfo() string {
	if e.Code == 0 {
		return ""
	}
	return errcode.MoreInfo(e.Code)
}

// Message returns Twilio's short description of the error code; for an
// address the deny list refused, it adds why.
func (e *Error) Message() string {
	if errors.Is(e.Err, ErrDenied) {
		return CodeMessage(e.Code) + ": " + deniedMessage
	}
	return CodeMessage(e.Code)
}

// CodeMessage returns Twilio's title (errcode.Message) for an error code this
// package reports, or "" for another code.
func CodeMessage(code int) string {
	switch code {
	case CodeInvalidURL, CodeRetrievalFailure, CodeConnectionFailure,
		CodeProtocolViolation, CodeBadHostName, CodeTooManyRedirects,
		CodeTLSHandshake, CodeCertDomainMismatch, CodeCertExpired,
		CodeCertUnknownAuthority, CodeResponseTooLarge, CodeDocumentParse,
		CodeInvalidContentType:
		return errcode.Message(code)
	}
	return ""
}
