//go:build !linux || 386

package media

import "net/netip"

// Outside Linux there is no io_uring: a sendBatch sends each packet at once.
type sendBatch struct{}

func newSendBatch(bool, func(error)) (*sendBatch, error) { return &sendBatch{}, nil }

func (b *sendBatch) batched() bool { return false }

func (b *sendBatch) queue(s *Session, pkt []byte, to netip.AddrPort) error {
	return s.sock.sendTo(pkt, to)
}

func (b *sendBatch) full() bool { return false }
func (b *sendBatch) flush()     {}
func (b *sendBatch) close()     {}
