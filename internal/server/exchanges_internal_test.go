package server

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/store"
)

// batchStore records the batches of events written, and can hold a write
// until released.
type batchStore struct {
	mu      sync.Mutex
	batches [][]store.Event
	hold    chan struct{} // the first write waits on it
	holding chan struct{} // closed when the first write started
	once    sync.Once
}

func (b *batchStore) AppendEvents(_ context.Context, evs []store.Event) error {
	b.once.Do(func() {
		close(b.holding)
		<-b.hold
	})
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batches = append(b.batches, append([]store.Event(nil), evs...))
	return nil
}

// Events gather while a batch is written, none is lost, order is kept, and
// an event reported after close is still written.
func TestExchangeLogBatches(t *testing.T) {
	st := &batchStore{hold: make(chan struct{}), holding: make(chan struct{})}
	l := &exchangeLog{store: st, log: slog.New(slog.DiscardHandler), ch: make(chan store.Event, exchangeQueue), done: make(chan struct{})}
	go l.run()
	l.add(store.Event{Name: "0"})
	<-st.holding // the first batch is being written: the next ones gather
	for i := 1; i <= 300; i++ {
		l.add(store.Event{Name: string(rune('0' + i%10))})
	}
	close(st.hold)
	l.close()
	l.add(store.Event{Name: "late"})

	st.mu.Lock()
	defer st.mu.Unlock()
	var sizes []int
	n := 0
	for _, b := range st.batches {
		sizes = append(sizes, len(b))
		for _, ev := range b {
			if ev.Name != "late" && ev.Name != string(rune('0'+n%10)) {
				t.Fatalf("event %d out of order: %q", n, ev.Name)
			}
			n++
		}
	}
	if n != 302 {
		t.Fatalf("%d events written, want 302 (batches %v)", n, sizes)
	}
	if len(sizes) != 4 || sizes[0] != 1 || sizes[1] != exchangeBatch || sizes[2] != 300-exchangeBatch || sizes[3] != 1 {
		t.Errorf("batches %v, want [1 %d %d 1]", sizes, exchangeBatch, 300-exchangeBatch)
	}
}
