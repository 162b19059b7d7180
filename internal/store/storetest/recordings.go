package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-voice/switchboard/internal/sid"
	"github.com/switchboard-voice/switchboard/internal/store"
)

func testRecordings(t *testing.T, st store.Store) {
	acct := mainAccount(t, st)
	other := subAccount(t, st, acct.SID, "other", t0)
	mk := func(account, call string, at time.Time) store.Recording {
		r, err := st.CreateRecording(ctx(t), store.Recording{
			SID: sid.New("RE"), AccountSID: account, CallSID: call, Source: store.SourceRecordVerb,
			Status: store.RecordingInProgress, Track: "inbound", StartTime: at,
			File: "recordings/" + account + "/x.wav", DateCreated: at, DateUpdated: at,
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := mk(acct.SID, "CA1", t0)
	b := mk(acct.SID, "CA2", t0.Add(time.Minute))
	mk(other.SID, "CA3", t0)

	got, err := st.Recording(ctx(t), acct.SID, a.SID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Fatalf("read back (-created +read):\n%s", diff)
	}
	if got.Channels != 1 {
		t.Errorf("channels default %d, want 1", got.Channels)
	}
	if _, err := st.Recording(ctx(t), other.SID, a.SID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("recording read by another account: %v", err)
	}

	un, err := st.UnfinishedRecordings(ctx(t))
	if err != nil || len(un) != 3 {
		t.Fatalf("unfinished = %d, %v; want 3", len(un), err)
	}
	a, err = st.UpdateRecording(ctx(t), acct.SID, a.SID, func(r *store.Recording) error {
		r.Status, r.Duration = store.RecordingCompleted, 4321*time.Millisecond
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Recording(ctx(t), acct.SID, a.SID); got.Duration != 4321*time.Millisecond || got.Status != store.RecordingCompleted {
		t.Fatalf("after update: %+v", got)
	}
	if un, _ := st.UnfinishedRecordings(ctx(t)); len(un) != 2 {
		t.Fatalf("unfinished after completion = %d, want 2", len(un))
	}

	list, _, err := st.ListRecordings(ctx(t), store.RecordingFilter{AccountSID: acct.SID, CallSID: "CA2"}, store.Page{Size: 10})
	if err != nil || len(list) != 1 || list[0].SID != b.SID {
		t.Fatalf("list by call: %v %v", list, err)
	}
	list, _, _ = st.ListRecordings(ctx(t), store.RecordingFilter{AccountSID: acct.SID, CreatedAfter: t0.Add(time.Second)}, store.Page{Size: 10})
	if len(list) != 1 || list[0].SID != b.SID {
		t.Fatalf("list created after: %v", list)
	}

	if err := st.DeleteRecording(ctx(t), other.SID, b.SID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete by another account: %v", err)
	}
	if err := st.DeleteRecording(ctx(t), acct.SID, b.SID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recording(ctx(t), acct.SID, b.SID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted recording still there: %v", err)
	}
}
