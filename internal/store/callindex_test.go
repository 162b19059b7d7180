package store

import (
	"strings"
	"testing"
)

// TestOpenCallsIndex checks what migration 00010 promises: the calls still
// open, and only those, are in calls_open_idx, and the queries of
// FinalizeOpenCalls find them through it instead of reading every call.
func TestOpenCallsIndex(t *testing.T) {
	s, a := openWriterStore(t, t.TempDir())
	ctx := t.Context()
	statuses := []CallStatus{CallQueued, CallRinging, CallInProgress, CallCompleted, CallBusy, CallFailed, CallNoAnswer, CallCanceled}
	for i, st := range statuses {
		if _, err := s.SaveCall(ctx, testCall(a, i, st), Event{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var inIndex int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM calls INDEXED BY calls_open_idx WHERE "+openCalls).Scan(&inIndex); err != nil {
		t.Fatalf("count through calls_open_idx: %v", err)
	}
	if inIndex != 3 {
		t.Errorf("calls_open_idx holds %d calls, want the 3 open ones", inIndex)
	}
	for _, q := range []string{
		"UPDATE calls SET date_updated = 0 WHERE " + openCalls + " AND ($1 = '' OR node = $1)",
		"UPDATE calls SET status = 'completed' WHERE " + openCalls + " AND ($1 = '' OR node = $1)",
	} {
		rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, "")
		if err != nil {
			t.Fatalf("explain %s: %v", q, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, "calls_open_idx") {
			t.Errorf("%s\nplan %q does not use calls_open_idx", q, p)
		}
	}
	var others int
	if err := s.r.QueryRowContext(ctx,
		"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('calls_status_idx', 'calls_node_idx')").Scan(&others); err != nil {
		t.Fatal(err)
	}
	if others != 0 {
		t.Errorf("%d of the indexes 00010 replaces are still there", others)
	}
}
