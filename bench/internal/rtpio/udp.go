package rtpio

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"
)

// Batch is how many datagrams one recvmmsg or sendmmsg moves at the most.
const Batch = 64

// Receive reads pc in batches until done is closed or pc is, and hands each
// batch to handle with the time it was read. oob is the room for control
// messages (receive timestamps) per datagram; 0 for none.
func Receive(pc *ipv4.PacketConn, oob int, done <-chan struct{}, handle func(msgs []ipv4.Message, now time.Time)) {
	msgs := make([]ipv4.Message, Batch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 2048)}
		if oob > 0 {
			msgs[i].OOB = make([]byte, oob)
		}
	}
	for {
		n, err := pc.ReadBatch(msgs, 0)
		if err != nil {
			select {
			case <-done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		handle(msgs[:n], time.Now())
	}
}

// From is the sender of a received datagram, an IPv4-mapped address
// unmapped; ok is false when it has no UDP address.
func From(m *ipv4.Message) (from netip.AddrPort, ok bool) {
	ua, ok := m.Addr.(*net.UDPAddr)
	if !ok {
		return netip.AddrPort{}, false
	}
	from = ua.AddrPort()
	return netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), true
}

// Send sends buf[i*size:(i+1)*size] to dst[i], Batch datagrams a call,
// skipping a datagram the socket refuses. It reuses msgs and returns it for
// the next call, and how many calls failed.
func Send(pc *ipv4.PacketConn, msgs []ipv4.Message, buf []byte, size int, dst []*net.UDPAddr) ([]ipv4.Message, int) {
	if cap(msgs) < len(dst) {
		msgs = make([]ipv4.Message, len(dst))
	}
	msgs = msgs[:len(dst)]
	for i := range dst {
		msgs[i] = ipv4.Message{Buffers: [][]byte{buf[i*size : (i+1)*size]}, Addr: dst[i]}
	}
	errs := 0
	for off := 0; off < len(msgs); {
		n, err := pc.WriteBatch(msgs[off:min(off+Batch, len(msgs))], 0)
		if err != nil {
			errs++
			n = max(n, 1) // skip the datagram refused
		}
		off += n
	}
	return msgs, errs
}

// Pace calls tick every period until done is closed, with the time and
// whether the call came more than half a period late. Fallen a whole period
// behind, it does not burst to catch up.
func Pace(done <-chan struct{}, period time.Duration, tick func(now time.Time, late bool)) {
	next := time.Now().Add(period)
	for {
		select {
		case <-done:
			return
		case <-time.After(time.Until(next)):
		}
		now := time.Now()
		late := now.Sub(next) > period/2
		next = next.Add(period)
		if now.After(next) {
			next = now.Add(period)
		}
		tick(now, late)
	}
}
