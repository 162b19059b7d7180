package audiocache

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
)

// Twilio error codes a failed <Play> fetch is reported with. Each is documented
// at https://www.twilio.com/docs/api/errors/<code>.
const (
	// CodeInvalidURL (11100, "Invalid URL format"): the URL cannot be parsed,
	// is relative, or is not http/https. Twilio's page lists "Bad URL in Play
	// or Redirect Verb Body" among its causes.
	CodeInvalidURL = 11100
	// CodeRetrievalFailure (11200, "HTTP retrieval failure"): the server
	// answered with a status that is neither 2xx nor 304, or the fetch failed
	// in a way no narrower code covers.
	CodeRetrievalFailure = 11200
	// CodeConnectionFailure (11205, "HTTP connection failure"): the connection
	// could not be made or broke, or the time limit (Options.Timeout) expired.
	CodeConnectionFailure = 11205
	// CodeProtocolViolation (11206, "HTTP protocol violation"): the answer is
	// not HTTP.
	CodeProtocolViolation = 11206
	// CodeBadHostName (11210, "HTTP bad host name"): the host does not
	// resolve.
	CodeBadHostName = 11210
	// CodeTooManyRedirects (11215, "HTTP too many redirects"): more than
	// MaxRedirects redirects.
	CodeTooManyRedirects = 11215
	// CodeTLSHandshake (11220, "SSL/TLS Handshake Error").
	CodeTLSHandshake = 11220
	// CodeCertDomainMismatch (11235, "Certificate Invalid - Domain Mismatch").
	CodeCertDomainMismatch = 11235
	// CodeCertExpired (11236, "Certificate Invalid - Certificate Expired").
	CodeCertExpired = 11236
	// CodeCertUnknownAuthority (11237, "Certificate Invalid - Could not find
	// path to certificate").
	CodeCertUnknownAuthority = 11237
	// CodeTooLarge (11750): the file is larger than Options.MaxFileBytes.
	// Twilio has no code of its own for an oversized <Play> file; 11750
	// ("TwiML response body too large") is the closest in its dictionary, and
	// its page points at <Play> among the causes.
	CodeTooLarge = 11750
	// CodeInvalidContentType (13420, "Play: Invalid Content-Type"): "Play
	// requires an audio Content-Type"; the URL returned something that is
	// not audio (an HTML error page, XML, text) or an empty body.
	CodeInvalidContentType = 13420
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
	return fmt.Sprintf("https://www.twilio.com/docs/errors/%d", e.Code)
}

// Message returns Twilio's title for the error code.
func (e *Error) Message() string { return CodeMessage(e.Code) }

// CodeMessage returns Twilio's title for an error code this package reports,
// or "" for another code.
func CodeMessage(code int) string {
	switch code {
	case CodeInvalidURL:
		return "Invalid URL format"
	case CodeRetrievalFailure:
		return "HTTP retrieval failure"
	case CodeConnectionFailure:
		return "HTTP connection failure"
	case CodeProtocolViolation:
		return "HTTP protocol violation"
	case CodeBadHostName:
		return "HTTP bad host name"
	case CodeTooManyRedirects:
		return "HTTP too many redirects"
	case CodeTLSHandshake:
		return "SSL/TLS Handshake Error"
	case CodeCertDomainMismatch:
		return "Certificate Invalid - Domain Mismatch"
	case CodeCertExpired:
		return "Certificate Invalid - Certificate Expired"
	case CodeCertUnknownAuthority:
		return "Certificate Invalid - Could not find path to certificate"
	case CodeTooLarge:
		return "TwiML response body too large"
	case CodeInvalidContentType:
		return "Play: Invalid Content-Type"
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
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsTimeout {
			return CodeConnectionFailure, err
		}
		return CodeBadHostName, err
	}
	// Certificates (11235-11237), then other TLS failures (11220).
	var hostErr x509.HostnameError
	if errors.As(err, &hostErr) {
		return CodeCertDomainMismatch, err
	}
	var invalidErr x509.CertificateInvalidError
	if errors.As(err, &invalidErr) {
		if invalidErr.Reason == x509.Expired {
			return CodeCertExpired, err
		}
		return CodeCertUnknownAuthority, err
	}
	var authErr x509.UnknownAuthorityError
	if errors.As(err, &authErr) {
		return CodeCertUnknownAuthority, err
	}
	var verifyErr *tls.CertificateVerificationError
	if errors.As(err, &verifyErr) {
		return CodeCertUnknownAuthority, err
	}
	var recErr tls.RecordHeaderError
	var alertErr tls.AlertError
	if errors.As(err, &recErr) || errors.As(err, &alertErr) || strings.Contains(err.Error(), "tls: ") ||
		strings.Contains(err.Error(), "HTTP response to HTTPS client") {
		return CodeTLSHandshake, err
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return CodeConnectionFailure, err
	}
	if strings.Contains(err.Error(), "malformed HTTP") {
		return CodeProtocolViolation, err
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return CodeConnectionFailure, err
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return CodeConnectionFailure, err
	}
	return CodeRetrievalFailure, err
}
