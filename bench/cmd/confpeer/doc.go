// Command confpeer is the media of a few probe participants of each
// conference room in bench/run.sh conference, and the meter of what they
// hear.
//
// It binds one UDP socket per room on loopback (-rooms N; the ports go to
// -addr-file, one a line). The probe callers of room R, a SIPp UAC
// (scenarios/uac_conf_probe.xml), put room R's port in their SDP offer, so
// switchboard sends their legs' RTP there. For each source address that
// sends to a socket (one per probe leg) confpeer starts a stream back to that
// address from the same socket: PCMU, 160 octets every 20 ms.
//
// The first stream of a room is its talker; the others are listeners:
//
//   - The talker says a coded tone: frame n is a sine at 2,200 + 100·(n mod
//     16) Hz, plus a 3,800 Hz marker when n is a multiple of 50 (once a
//     second), each at -amp of full scale. All are whole DFT bins of a
//     160-sample frame (k·50 Hz), so a listener finds which frame of the
//     talker the mix carries, whatever else is in it, as long as the others'
//     audio stays below 2 kHz (run.sh low-passes the speech at 1,800 Hz).
//   - Listeners say the -speech file (u-law, looped, each from its own
//     offset), like every other participant.
//
// In every frame a stream receives confpeer decodes the u-law and counts:
//
//   - packets received; switchboard's RTP sequence numbers missing (sent,
//     not received); frames skipped in switchboard's RTP timestamps with the
//     sequence unbroken (tsskip: the pacer gave up those ticks, media
//     session skip);
//   - (listeners) where the talker's frames are. switchboard's jitter buffer
//     works in samples, so after it stretches or cuts the delay a talker
//     frame may start anywhere in a received one: confpeer slides a 160-sample
//     window over the last two frames received to where one of the talker's
//     tones is cleanest (1 ms stride), near where the next talker frame should
//     start, and follows the talker's delay D (where a frame starts less 160
//     times its number). It counts talker frames followed; frames lost, whose
//     place held no tone (silence: a packet too late, the buffer ran dry);
//     samples cut (D fell: the jitter buffer dropped audio to cut its delay);
//     samples of silence inserted (D grew: it stretched playout for a late
//     packet). Loss = (lost·160 + cut) / (followed·160);
//   - (the talker) frames in which it hears its own tone: mix-minus broken
//     if not 0; and the level of what it hears (everyone else, its own tone
//     excluded by the mixer): proof that the others' audio reaches it;
//   - mouth-to-ear delay: from the talker sending a marker frame to a
//     listener receiving it (kernel receive timestamps);
//   - send lateness: each packet's kernel receive timestamp (on loopback, the
//     moment switchboard's sendto ran) against the 20 ms grid its RTP
//     timestamp puts it on, less the smallest such offset of its stream; its
//     p50/p99/max is the view from outside of how late in the pacer's tick
//     the packet left (timer wake-up, the receive phase of every session, the
//     tick hooks — every room's mix — and the send phase up to this leg).
//
// SIGUSR2 starts the measuring window (counters and samples from then on);
// SIGUSR1 prints one line per room, "STATS room=R key=value ...", with the
// window's counters and percentiles. SIGTERM, SIGINT or -timeout end it, with
// the same lines for the whole run ("TOTAL room=R ..."), one line per probe
// leg ("STREAM ...") and the per-second -timeline file. Every loop is bounded: the process ends after -timeout.
//
// Usage:
//
//	confpeer -rooms N -addr-file F [-speech FILE.ulaw] [-timeline T] [-timeout D]
package main
