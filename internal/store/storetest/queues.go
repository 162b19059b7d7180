package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// testQueues: a queue is created, found by SID and by name, its name is
// unique in the account (not across accounts), its average wait follows the
// members dequeued, it is renamed and resized, listed, and deleted.
func testQueues(t *testing.T, st store.Store) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	main := mainAccount(t, st)
	sub := subAccount(t, st, main.SID, "sub", at)
	newQueue := func(account, name string) store.Queue {
		return store.Queue{SID: sid.New("QU"), AccountSID: account, FriendlyName: name, MaxSize: store.DefaultQueueMaxSize, DateCreated: at, DateUpdated: at}
	}
	q, err := st.CreateQueue(ctx(t), newQueue(main.SID, "support"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateQueue(ctx(t), newQueue(main.SID, "support")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second queue named support: err = %v, want ErrConflict", err)
	}
	if _, err := st.CreateQueue(ctx(t), newQueue(sub.SID, "support")); err != nil {
		t.Errorf("another account's queue of the same name: %v", err)
	}
	if got, err := st.QueueByName(ctx(t), main.SID, "support"); err != nil || got.SID != q.SID {
		t.Errorf("QueueByName: %+v %v", got, err)
	}
	if _, err := st.Queue(ctx(t), sub.SID, q.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another account's queue by SID: err = %v, want ErrNotFound", err)
	}
	for _, w := range []time.Duration{10 * time.Second, 20 * time.Second, 31 * time.Second} {
		if err := st.QueueWaited(ctx(t), main.SID, q.SID, w, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Queue(ctx(t), main.SID, q.SID)
	if err != nil || got.Dequeued != 3 || got.AverageWaitTime() != 20 || !got.DateUpdated.Equal(at.Add(time.Minute)) {
		t.Errorf("after three waits: %+v (average %d s) %v", got, got.AverageWaitTime(), err)
	}
	other, _ := st.CreateQueue(ctx(t), newQueue(main.SID, "sales"))
	if _, err := st.UpdateQueue(ctx(t), main.SID, other.SID, func(q *store.Queue) error { q.FriendlyName = "support"; return nil }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("renaming onto a taken name: err = %v, want ErrConflict", err)
	}
	up, err := st.UpdateQueue(ctx(t), main.SID, q.SID, func(q *store.Queue) error {
		q.FriendlyName, q.MaxSize, q.Dequeued, q.DateUpdated = "help", 5000, 99, at.Add(time.Hour)
		return nil
	})
	if err != nil || up.FriendlyName != "help" || up.MaxSize != 5000 || up.Dequeued != 3 {
		t.Errorf("update: %+v %v", up, err)
	}
	qs, more, err := st.ListQueues(ctx(t), store.QueueFilter{AccountSID: main.SID}, store.Page{Size: 10})
	if err != nil || more || len(qs) != 2 {
		t.Errorf("list: %d %v %v", len(qs), more, err)
	}
	if err := st.DeleteQueue(ctx(t), main.SID, q.SID); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteQueue(ctx(t), main.SID, q.SID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
}
