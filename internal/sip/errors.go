package sip

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these (test with
// errors.Is) and add the detail.
var (
	// ErrMalformedSDP means a session description could not be parsed or is not
	// usable (no address, no port). The SIP answer to it is 400 Bad Request.
	ErrMalformedSDP = errors.New("malformed sdp")
	// ErrNoSharedCodec means the offer or answer has no audio codec switchboard
	// speaks (PCMU or PCMA over RTP/AVP). The SIP answer to it is 488 Not
	// Acceptable Here (RFC 3261 §21.4.26).
	ErrNoSharedCodec = errors.New("no shared audio codec")
	// ErrInvalidTransition means an event does not apply to the call's state,
	// such as an ACK before any answer.
	ErrInvalidTransition = errors.New("invalid call state transition")
	// ErrCanceled means the caller sent CANCEL (or gave up) before the call was
	// answered; 487 Request Terminated has been sent.
	ErrCanceled = errors.New("call canceled before answer")
	// ErrAlreadyFinal means the call already received a final response
	// (answered or rejected): a second one cannot be sent.
	ErrAlreadyFinal = errors.New("call already answered or rejected")
	// ErrAckTimeout means the 200 OK was never acknowledged within 64*T1
	// (RFC 3261 §13.3.1.4); the call was hung up with BYE.
	ErrAckTimeout = errors.New("no ack for 200 ok")
	// ErrNoAnswer means an outbound call rang until its timeout and was
	// canceled.
	ErrNoAnswer = errors.New("no answer")
	// ErrCallEnded means the leg is already over.
	ErrCallEnded = errors.New("call already ended")
	// ErrServerClosed means the server is shutting down or was never started.
	ErrServerClosed = errors.New("sip server closed")
	// ErrBadURI means a SIP URI given to Dial cannot be used.
	ErrBadURI = errors.New("bad sip uri")
	// ErrTLSUnsupported means a SIP URI given to Dial asks for TLS (a sips:
	// URI, or ;transport=tls), which switchboard does not speak: nothing was
	// sent. It is distinct from ErrBadURI: the URI is well formed.
	ErrTLSUnsupported = errors.New("sip over tls is not supported")
	// ErrNoOffer means an operation needs the SDP offer of the INVITE, and
	// the INVITE came without one (a delayed offer, RFC 3261 §13.2.1): early
	// media cannot be sent before the answer then.
	ErrNoOffer = errors.New("invite has no sdp offer")
	// ErrBadConfig means a Config the server cannot run with (no address, a
	// bad port, no media engine to answer or dial with).
	ErrBadConfig = errors.New("bad sip config")
	// ErrBadStatus means a status code given to Reject is not a final error
	// response (300-699).
	ErrBadStatus = errors.New("bad sip status code")
)
