// Package media is switchboard's media engine: RTP sessions carrying G.711 audio,
// RFC 4733 telephone-events, pacing on a monotonic clock, and the small Source and
// Sink interfaces through which everything else (speech, file playback, recording,
// bridges, the conference mixer, media streams) produces and consumes audio.
//
// All audio inside switchboard is 8 kHz, 16-bit signed linear PCM, mono, handled in
// frames of 20 ms (160 samples). Codecs (package g711), file formats (package wav,
// package audiofile) and signal processing (package dsp) live in subpackages; this
// package moves frames between them and the network.
//
// A leg's Session keeps its RTP socket for the whole call while the consumer of its
// audio changes (the interpreter's playback, a bridge, a mixer): sources and sinks
// are attached and detached, the socket is not torn down.
//
// # Engine and pacing
//
// An Engine owns the RTP port range (an even RTP port and the odd RTCP port above
// it per session, RFC 3550 §11; handed out round-robin, skipping ports other
// processes hold; an ended session's sockets stay bound a while and go, emptied,
// to a session at least a second later: ports.go) and one pacer: one 20 ms ticker that services every session on
// every tick. Tick k is due k×20 ms after the engine started on the monotonic
// clock; a late tick services every frame that has come due (up to 100 ms; older
// ones are skipped and the RTP timestamp jumps), so the media never drifts however
// the ticks are delivered. Each tick runs in two phases: first every session's
// receive side (one frame from its jitter buffer to its Sink, the inactivity
// timer), then every session's send side (one frame from its Source, or silence,
// to one RTP packet). Sources and Sinks are therefore called on the pacer and must
// return promptly; a consumer that connects sessions (a bridge, a mixer) sees all
// of a tick's received audio before any of that tick's audio is sent.
// Engine.AddTickHook runs a function between the two phases of every tick: where
// a mixer computes its mix from what it got in the receive phase, for the send
// phase to take. A hook removed (by the function AddTickHook returns) is not
// called again once that returns.
//
// The pacer's work is split among shards (EngineConfig.Shards, GOMAXPROCS by
// default) so that the media of many calls spreads over the cores: each shard
// has its own sessions (a new one goes to the shard with the fewest), its own
// buffers and its own goroutine (shard 0's is the ticker's), and every shard
// services the same tick at the same time. Within a shard a tick runs as
// above. A Group (Engine.NewGroup) keeps sessions and tick hooks together on
// one shard: a conference room's mixer hook (Group.AddTickHook) and its legs
// (Group.Adopt, Group.NewSession) then run on one goroutine, the hook between
// its legs' receive and send phases, without any wait for other shards. The
// engine's own hooks (Engine.AddTickHook) keep their meaning across shards:
// while there are any, every shard finishes its receive phase, the hooks run,
// then every shard sends — correct wherever the sessions a hook touches are,
// but serial. Group.Adopt moves a session between ticks, so it is never
// serviced twice or skipped in a tick. A Pipe between sessions of different
// shards is safe (it locks) but may add a tick of delay.
//
// The pacer times itself: Engine.TickStats gives how late each tick started
// and how long it took, in all and per phase and shard, and Group.HookStats
// the time of a group's hooks (a conference's mixer), in fixed histograms the
// pacer fills without locks or allocation (p50, p99, max; Sub for a window).
//
// On Linux the pacer also does the socket I/O, through an io_uring(7) per
// shard: in a tick's receive phase it reads the RTP sockets whose read is
// due without blocking, one datagram from each per round and one
// io_uring_enter(2) per 256 sockets (readBatch), a socket asked again only
// while it may have more (a datagram that waited a frame, a jitter buffer
// short of its target: caughtUp), and what three rounds left with
// recvmmsg(2); in the send phase each shard queues its sessions' packets and
// sends them the same way, up to 256 packets from as many sockets a call
// (sendBatch). Where io_uring is missing, or with EngineConfig.NoIOUring, a
// socket is read with one recvmmsg(2) a tick and a packet sent with one
// sendto(2). A system call's entry and exit
// cost about 1 µs on machines with page-table isolation, and the batch cuts a
// packet's send from about 3 µs of CPU to about 1.2 µs. A session closed while
// its packet is queued leaves the closing of its descriptor to the batch, so
// that the number is not reused before the kernel has sent. The RTP sockets
// are plain non-blocking descriptors outside the Go runtime's poller, so a
// packet costs no poller wake-up and no goroutine switch, and reading at the tick
// adds no delay because received audio is only played out at ticks. Elsewhere
// (and for RTCP, which is only counted) a goroutine per socket blocks in a read.
// System calls are most of the cost of a leg, so a socket on which nothing
// arrived for half a second (hold, silence suppression) is read every other
// tick until something does, and EngineConfig.ReadEvery 2 reads every socket
// every other tick (half the receive system calls, up to 20 ms more delay).
// Sending and receiving a packet allocate nothing, and a tick's frames pass
// through buffers each shard shares among its sessions, so that each session's
// working set per tick is a few cache lines; a frame that several sessions of a
// shard send in a tick (a conference's listeners share one mix; silence) is
// G.711-encoded once.
//
// # Sending
//
// RTP (RFC 3550, RFC 3551 profile) starts with a random SSRC, sequence number and
// timestamp; the timestamp advances 160 per tick whether a packet is sent or not,
// and the marker bit flags the first packet of a talkspurt: the first packet, the
// first after a pause in sending (hold, a stall), and the first of each Play.
// Silence is sent while nothing plays. Nothing is sent before SetRemote, while the
// Direction is RecvOnly or Inactive, or to an unspecified address (c=0.0.0.0).
// SendDTMF sends RFC 4733 events on the negotiated payload type (start with the
// marker bit, an update every 20 ms, the end packet three times, all with the
// timestamp of the event's start), replacing audio while they last, or in-band
// tones when telephone-event was not negotiated.
//
// # Receiving
//
// A datagram is used if it is RTP version 2 with a payload type switchboard
// understands (PCMU 0, PCMA 8, comfort noise 13, the negotiated codec and
// telephone-event types); RTCP, on the RTCP port or multiplexed on the RTP port
// (RFC 5761), is counted and ignored; anything else is ignored. Symmetric RTP
// (RFC 4961, "latching"): the first valid packet fixes the source, and RTP is
// sent back there; packets from other sources are ignored, except from the
// signalled address with an SSRC not seen before (the remote moved back);
// SetRemote with a new address starts over. A new audio SSRC starts a new
// timeline in the jitter buffer; sequence numbers and timestamps wrap.
// Telephone-events may come on another SSRC than the audio; each key press is
// reported once on the DTMF channel.
//
// The JitterBuffer is time based: samples are kept in a ring indexed by RTP
// timestamp, playout runs 40 ms behind the first packet and adapts (stretching
// by a little when a packet is just late, shedding delay when packets are
// consistently early), reordering and duplicates cost nothing, and anything
// missing at its playout time is silence. Sinks get exactly one frame per tick.
//
// # Connecting sessions
//
// A Pipe is both a Sink and a Source: a.SetSink(p) and b.Play(ctx, p) bridge
// what leg a hears into leg b, with no delay added (the receive phase of a tick
// runs before its send phase). MultiSink lets several consumers (a recorder, a
// detector) share what one leg hears. A conference mixer fits the same way: it
// takes every participant's frame in the receive phase and hands each its mix in
// the send phase.
//
// # Taps
//
// A Tap listens to a leg without being its consumer (a recorder, a media
// stream, a listen-in): Session.AddTap attaches it to the session itself, so
// it hears the leg whoever the Sink and Source are, and a change of consumer
// does not lose it. In every tick while the session is live, TapIn gets the
// frame played out to the Sink (what the remote said) in the receive phase, and
// TapOut the frame sent (what the remote heard: the source, an in-band DTMF
// tone, or silence when nothing is sent or an RFC 4733 event replaces the
// audio) in the same tick's send phase. Once RemoveTap returns, the tap is not
// called again. Taps are kept in a copy-on-write slice: a tick without taps
// costs one atomic load, a tick with taps allocates nothing.
//
// # Inactivity and hold
//
// A session ends with ErrInactive when no RTP has been received for
// EngineConfig.InactivityTimeout (60 s by default). The timer only runs while the
// Direction is SendRecv, and every SetRemote restarts it: on hold (SendOnly,
// RecvOnly, Inactive) the remote may legitimately send nothing for as long as the
// hold lasts, and an unhold re-INVITE gives it a full timeout to start again.
package media
