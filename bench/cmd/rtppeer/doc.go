// Command rtppeer is the callee's media in bench/run.sh bridge, and the
// meter of what a bridge loses.
//
// It binds one UDP socket on loopback; the SIPp callee
// (scenarios/uas_answer_hold.xml) puts that port in every SDP answer, so
// switchboard sends the RTP of every dialled leg there. For each source
// address that sends to it (one per dialled leg) rtppeer starts a stream back
// to that address, from the same socket (the address of the SDP answer, so
// switchboard's symmetric-RTP latching keeps it): PCMU, 160 octets every 20 ms,
// its own SSRC, sequence numbers and timestamps. A stream whose source has
// been quiet for -idle is ended.
//
// The audio is a marked tone: every 20 ms frame of the file rtppeer writes
// with -write (and sends itself) is a 350 Hz tone carrying two 8-octet marks,
// at octets 0 and 80, that say which frame it is. SIPp's caller plays that file
// (rtp_stream), switchboard decodes it, bridges the linear audio to the
// dialled leg and encodes it again; G.711 u-law decodes and re-encodes to the
// same octets, so the marks come out intact if the audio does. For each stream
// rtppeer counts:
//
//   - packets received, and switchboard's RTP sequence numbers missing
//     (sent by switchboard, not received here);
//   - marked frames received, and marked frames missing: the frame index
//     jumped by more than one, i.e. a 20 ms frame of the caller's audio that
//     never came out of the bridge (lost on the way in, dropped as late by
//     the jitter buffer, dropped by a full bridge pipe, or skipped by the
//     pacer);
//   - frames repeated, and unmarked frames (silence, concealment) between two
//     marked ones: the bridge ran dry.
//
// A line "STATS key=value ..." with the counters so far (all streams, ended
// ones included) is printed on SIGUSR1, and a last one on SIGTERM, SIGINT or
// after -timeout, followed by "STREAMS ..." (how many streams lost frames,
// the worst one). Every loop is bounded: the process ends after -timeout.
//
// Usage:
//
//	rtppeer -write FILE [-frames N]          write the marked u-law file (N frames of 20 ms)
//	rtppeer -addr 127.0.0.1:0 -addr-file F   serve (F receives the port), until SIGTERM or -timeout
package main
