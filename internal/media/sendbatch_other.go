//go:build !linux || 386

package media

import (
	"net/netip"
	"time"
)

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

// Nor is there a readBatch: each socket is read by its own goroutine.
const ringReadRounds = 0

type readBatch struct{}

func newReadBatch(bool, func(error)) (*readBatch, error) { return &readBatch{}, nil }

func (b *readBatch) batched() bool                                    { return false }
func (b *readBatch) read([]*Session, uint64, time.Time, *recvBuffers) {}
func (b *readBatch) close()                                           {}
