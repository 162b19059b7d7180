package audiocache

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-voice/switchboard/internal/errcode"
	"github.com/switchboard-voice/switchboard/internal/webhook"
)

// Twilio error codes a failed <Play> fetch is reported with, as named in
// package errcode. Each is documented at
// https://www.twilio.com/docs/errors/<code>. The HTTP ones are the webhook
// package's: a <Play> file is fetched from the same kind of server, and fails
// the same ways.
const (
	CodeInvalidURL           = webhook.CodeInvalidURL
	CodeRetrievalFailure     = webhook.CodeRetrievalFailure
	CodeConnectionFailure    = webhook.CodeConnectionFailure
	CodeProtocolViolation    = webhook.CodeProtocolViolation
	CodeBadHostName          = webhook.CodeBadHostName
	CodeTooManyRedirects     = webhook.CodeTooManyRedirects
	CodeTLSHandshake         = webhook.CodeTLSHandshake
	CodeCertDomainMismatch   = webhook.CodeCertDomainMismatch
	CodeCertExpired          = webhook.CodeCertExpired
	CodeCertUnknownAuthority = webhook.CodeCertUnknownAuthority
	// CodeTooLarge (11750): the file is larger than Options.MaxFileBytes.
	// Twilio has no code of its own for an oversized <Play> file; 11750
	// ("TwiML response body too large") is the closest in its dictionary, and
	// its page points at <Play> among the causes.
	CodeTooLarge = webhook.CodeResponseTooLarge
	// CodeInvalidContentType (13420, "Play: Invalid Content-Type"): "Play
	// requires an audio Content-Type"; the URL returned something that is
	// not audio (an HTML error page, XML, text) or an empty body.
	CodeInvalidContentType = errcode.PlayInvalidContentType
)

// Sentinel errors, found with errors.Is in an *Error's chain.
var (
	// ErrBadURL: the URL is malformed, relative or not http/https.
	ErrBadURL = errors.New("audiocache: invalid url")
	// ErrStatus: the server answered with a status that is not 2xx or 304.
	ErrStatus = errors.New("audiocache: unsuccessful http status")
	// ErrTooLarge: the body is larger than Options.MaxFileBytes.
	ErrTooLarge = errors.New("audiocache: audio file too large")
	// ErrContentType: the Content-Type is not audio, and the body does not
	// start like an audio file either.
	ErrContentType = errors.New("audiocache: not an audio content-type")
	// ErrEmptyBody: a 2xx answer without a body.
	ErrEmptyBody = errors.New("audiocache: empty body")
	// ErrTooManyRedirects: the redirect limit was reached.
	ErrTooManyRedirects = errors.New("audiocache: too many redirects")
	// ErrTimeout: the fetch took longer than Options.Timeout.
	ErrTimeout = errors.New("audiocache: timed out")
	// ErrClosed: the Cache is closed.
	ErrClosed = errors.New("audiocache: cache closed")
)

// An Error is a failed <Play> fetch, carrying Twilio's error code.
type Error struct {
	// Code is Twilio's error code (one of the Code constants).
	Code int
	// URL is the URL that was requested, any password redacted (as given
	// when it could not be parsed).
	URL string
	// Status is the HTTP status of the answer, 0 when there was none.
	Status int
	// Err is the underlying cause.
	Err error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("audiocache: %d", e.Code)
	if e.URL != "" {
		s += " GET " + e.URL
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
// more_info field of a Notification gives it.
func (e *Error) MoreInfo() string {
	return errcode.MoreInfo(e.Code)
}

// Message returns Twilio's title for the error code.
func (e *Error) Message() string { return CodeMessage(e.Code) }

// CodeMessage returns Twilio's title for an error code this package reports,
// or "" for another code.
func CodeMessage(code int) string {
	switch code {
	case CodeInvalidURL, CodeRetrievalFailure, CodeConnectionFailure,
		CodeProtocolViolation, CodeBadHostName, CodeTooManyRedirects,
		CodeTLSHandshake, CodeCertDomainMismatch, CodeCertExpired,
		CodeCertUnknownAuthority, CodeTooLarge, CodeInvalidContentType:
		return errcode.Message(code)
	}
	return ""
}

// Code returns the Twilio error code in err's chain, or 0.
func Code(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// classify maps a transport error of a request made under ctx to Twilio's
// error code and the error to wrap.
func classify(ctx context.Context, err error) (int, error) {
	if errors.Is(context.Cause(ctx), ErrTimeout) {
		return CodeConnectionFailure, fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	if errors.Is(err, ErrTooManyRedirects) {
		return CodeTooManyRedirects, err
	}
	return webhook.TransportCode(err), err
}
