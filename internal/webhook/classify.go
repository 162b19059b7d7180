package webhook

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// TransportCode returns Twilio's error code for a failed HTTP request's
// transport error (DNS, TCP, TLS, a broken answer): the classification every
// fetch from a user's server shares (TwiML, callbacks, <Play> files).
func TransportCode(err error) int {
	code, _ := classify(err)
	return code
}

// classify maps a transport error to Twilio's error code and to the retry
// class it belongs to (0: never retried).
func classify(err error) (code int, class RetryOn) {
	switch {
	case errors.Is(err, ErrDenied):
		return CodeConnectionFailure, 0
	case errors.Is(err, errConnectTimeout):
		return CodeConnectionFailure, RetryConnect
	case errors.Is(err, errReadTimeout):
		return CodeConnectionFailure, RetryRead
	case errors.Is(err, errTotalTimeout):
		return CodeConnectionFailure, 0
	case errors.Is(err, ErrBadURL):
		return CodeInvalidURL, 0
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsTimeout {
			return CodeConnectionFailure, RetryConnect
		}
		return CodeBadHostName, 0
	}
	// Certificates (error 11235-11237), then other TLS failures (11220).
	var hostErr x509.HostnameError
	if errors.As(err, &hostErr) {
		return CodeCertDomainMismatch, 0
	}
	var invalidErr x509.CertificateInvalidError
	if errors.As(err, &invalidErr) {
		if invalidErr.Reason == x509.Expired {
			return CodeCertExpired, 0
		}
		return CodeCertUnknownAuthority, 0
	}
	var authErr x509.UnknownAuthorityError
	if errors.As(err, &authErr) {
		return CodeCertUnknownAuthority, 0
	}
	var verifyErr *tls.CertificateVerificationError
	if errors.As(err, &verifyErr) {
		return CodeCertUnknownAuthority, 0
	}
	var recErr tls.RecordHeaderError
	var alertErr tls.AlertError
	if errors.As(err, &recErr) || errors.As(err, &alertErr) || strings.Contains(err.Error(), "tls: ") ||
		strings.Contains(err.Error(), "HTTP response to HTTPS client") {
		return CodeTLSHandshake, RetryConnect
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return CodeConnectionFailure, RetryConnect
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return CodeConnectionFailure, RetryConnect
	}
	if strings.Contains(err.Error(), "malformed HTTP") {
		return CodeProtocolViolation, 0
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return CodeConnectionFailure, RetryRead
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return CodeConnectionFailure, 0
	}
	return CodeRetrievalFailure, 0
}
