package sip

import (
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TxLinger is how long sipgo keeps a non-INVITE server transaction after its
// final response, to absorb retransmissions of the request: Timer J (RFC 3261
// §17.2.2), 64*T1 (32 s over UDP) in the RFC. 5 s is the time Kamailio's tm
// module keeps a completed transaction (wt_timer). It only matters if every
// copy of a final response is lost for that long: the request's sender
// retransmits it from T1 doubling to T2, so by 5 s it has been answered four
// times (0, 0.5, 1.5 and 3.5 s); a later retransmission of a BYE gets 481
// (the sender ends the dialog either way).
const TxLinger = 5 * time.Second

// InviteLinger is how long sipgo keeps the transaction of an INVITE answered
// with a 2xx: Timer L (the Accepted state, RFC 6026 §7.1), 64*T1 in the RFC.
// Each kept transaction holds the parsed INVITE and its answer, about 10 KB
// of heap with what the collector then has to go over: at 1,200 calls/s,
// 5 s of them were 40 MB of RSS and most of the marking that makes the
// setup's tail (bench/README.md, "Session 13"). The state does two things:
// it passes the ACKs up, and it absorbs retransmissions of the INVITE. Here
// the ACK reaches the leg with or without the transaction (Leg.awaitAck,
// which also retransmits the 2xx on the transport once the transaction is
// gone), and a retransmission that comes later than InviteLinger is absorbed
// by the server (inviteMemory) for as long as the RFC's Accepted state would
// last: the state's work is all done, for a few dozen bytes a call instead
// of 10 KB.
const InviteLinger = time.Second

// sipgo reads these when it creates a transaction: they are set once, before
// any server exists.
func init() {
	sip.Timer_J = TxLinger
	sip.Timer_L = InviteLinger
}

// inviteMemory remembers the INVITEs answered with a 2xx, by transaction
// (Call-ID, top Via branch, CSeq), for retransmitWindow: a retransmission
// that comes after sipgo has ended the INVITE's transaction (InviteLinger)
// would otherwise be taken for a new call. A key is a few dozen bytes where
// a transaction is about 10 KB.
type inviteMemory struct {
	mu  sync.Mutex
	set recentSet
}

// inviteKey is the transaction of an INVITE, as a retransmission repeats it
// (RFC 3261 §17.2.3).
func inviteKey(req *sip.Request) []byte {
	var k []byte
	if id := req.CallID(); id != nil {
		k = append(k, *id...)
	}
	k = append(k, 0)
	if via := req.Via(); via != nil {
		branch, _ := via.Params.Get("branch")
		k = append(k, branch...)
	}
	k = append(k, 0)
	if cseq := req.CSeq(); cseq != nil {
		k = strconv.AppendUint(k, uint64(cseq.SeqNo), 10)
	}
	return k
}

// seen reports whether key was added within retransmitWindow before now.
func (m *inviteMemory) seen(key []byte, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.set.has(key, now)
}

// add remembers key from now.
func (m *inviteMemory) add(key []byte, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.set.add(key, now)
}
