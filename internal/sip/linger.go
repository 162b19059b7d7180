package sip

import (
	"time"

	"github.com/emiago/sipgo/sip"
)

// TxLinger is how long sipgo keeps a server transaction after its final
// response, to absorb retransmissions of the request: Timer J (non-INVITE,
// RFC 3261 §17.2.2) and Timer L (INVITE answered with a 2xx, RFC 6026 §8.7).
// The RFCs set both to 64*T1, 32 s over UDP; at 500 calls/s that keeps some
// 32,000 INVITE and BYE transactions with their parsed requests and
// responses, most of switchboard's heap in load (bench/README.md, "Memory").
// 5 s is the time Kamailio's tm module keeps a completed transaction
// (wt_timer). It only matters if every copy of a final response is lost for
// that long: the request's sender retransmits it from T1 doubling to T2, so
// by 5 s it has been answered four times (0, 0.5, 1.5 and 3.5 s); a later
// retransmission of a BYE gets 481 (the sender ends the dialog either way),
// and the 2xx of an INVITE is retransmitted by the leg itself until its ACK
// (Leg.awaitAck), whose ACK reaches the leg with or without the transaction.
const TxLinger = 5 * time.Second

// sipgo reads these when it creates a transaction: they are set once, before
// any server exists.
func init() {
	sip.Timer_J = TxLinger
	sip.Timer_L = TxLinger
}
