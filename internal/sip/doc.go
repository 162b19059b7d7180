// Package sip is switchboard's SIP signalling: it receives calls (as the UAS),
// places calls (as the UAC), and turns each established call into a Leg, a
// transport-neutral handle on the call's RTP session that the interpreter, a
// bridge or a conference drives without knowing SIP.
//
// A Server listens on one address over UDP and TCP. It is built on sipgo
// (github.com/emiago/sipgo) for the message parser, the transports and the
// transaction layer (RFC 3261 §17: retransmission of requests and non-2xx
// responses, absorption of retransmitted requests, matching of CANCEL to its
// INVITE). Everything above the transactions is this package's: the dialogs
// (RFC 3261 §12), the call state machine (state.go, a pure function table-tested
// on its own), SDP offer/answer for G.711 (sdp.go, RFC 3264 on pion/sdp), the
// 2xx retransmission and ACK wait the transaction layer leaves to the core
// (RFC 6026), re-INVITEs for hold and unhold, BYE from either side, CANCEL,
// OPTIONS, INFO digits, and digest authentication when dialing.
//
// An inbound call reaches the Handler as an InboundCall, on its own goroutine,
// after a 100 Trying: the application answers it (Answer: 200 OK with the SDP
// answer, then the ACK), rejects it (Reject: 404 for an unknown number, 486 or
// 603 for <Reject>), rings it (Ringing: 180), opens its media before the answer
// (EarlyMedia: 183 Session Progress with the SDP answer, early media per RFC
// 3960, sent without 100rel; the 200 then repeats that SDP on the same RTP
// session), or sees the caller cancel (Canceled: the 487 is sent for it).
// InboundCall.WebhookParams gives what Twilio passes the webhook about a SIP
// call: From and To (E.164 when the user part is a phone number), SipCallId,
// SipSourceIp, SipDomain and SipHeader_X-... for each X- header. An outbound
// call is placed with Server.Dial, which returns the Leg once answered or a
// *DialError with the SIP status; an SDP answer in a provisional response (a
// 183) is applied to the call's session at once and handed to
// DialRequest.OnEarlyMedia, so the ringback or announcement of the far end can
// be heard before the answer. Dial speaks UDP and TCP, not TLS (sips: and
// ;transport=tls fail with ErrTLSUnsupported), and drops Twilio's region
// parameter from the URI it calls. When a proxy forks the INVITE and more than
// one phone answers, the first 2xx makes the Leg; each other one is
// acknowledged in its own dialog and hung up with BYE (RFC 3261 §13.2.2.4).
//
// Bad input never stops the server: a request whose Request-URI or core
// headers do not parse, or whose Content-Length overruns the datagram, is
// answered 400 (sanitize.go explains how, given that sipgo would otherwise drop
// it); malformed SDP gets 400, an offer without PCMU or PCMA gets 488 (RFC 3261
// §21.4.26), an unsupported body type 415, an unknown Require 420, a non-SIP
// Request-URI 416, requests for unknown dialogs 481, unknown methods 501. A
// Handler that panics costs its call a 500, not the process.
//
// Nor does load or abuse take it down. A new INVITE is put to Config.Admit
// and Config.MaxCallRate before any work is done for it, and refused with 503
// and Retry-After when either says so; Server.Pending tells how many calls
// wait on the Handler. Refusals decided before a dialog exists (those, 4xx
// for a bad INVITE, 505 for a SIP version other than 2.0, a Handler's quick
// Reject such as the 404 of an unknown number) are sent over UDP statelessly,
// once, rather than retransmitted toward a source that may be spoofed: the
// 100 Trying waits 100 ms so that a quick refusal comes first, and the caller,
// without a provisional response, retransmits its INVITE if the refusal is
// lost (admit.go). While new calls are refused, a new INVITE over UDP is
// answered 503 from its bytes as the listener reads it, before any parse,
// goroutine or transaction, and the ACK of that 503 dropped the same way
// (shed.go); the listener also refuses new calls while the datagrams it reads
// have waited in its socket over Config.QueueTarget for Config.QueueInterval
// (queuedelay.go: CoDel's rule, from the kernel's receive timestamps). SIP
// TCP connections must send a complete message within
// Config.TCPHandshakeTimeout, are closed after Config.TCPIdleTimeout without
// traffic, and are capped per source address and in all (tcpguard.go).
// Messages that do not parse are logged once per source and 10 s, truncated,
// with the number held back (ratelog.go). A call's transactions, which sipgo
// keeps InviteLinger (1 s) and TxLinger (5 s) after their final responses,
// not the RFCs' 32 s (linger.go), do not hold the call or its RTP session;
// an INVITE retransmitted after its transaction has gone is absorbed for the
// 32 s the RFC's transaction would have (inviteMemory).
//
// Timers of the call layer (2xx retransmission from T1 to T2, the 64*T1 ACK
// wait, the ring timeout of Dial) run on the injectable clock of Config, so
// tests drive them with clock.Fake; sipgo's transaction timers run on real time.
package sip
