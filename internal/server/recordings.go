package server

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/switchboard-voice/switchboard/internal/recording"
	"github.com/switchboard-voice/switchboard/internal/store"
)

// repairRecordings finishes the recordings a stopped process left in
// progress: each file's header is repaired so it plays, and the record gets
// the file's real duration and a final status (completed, or absent when the
// file is empty or missing).
func repairRecordings(ctx context.Context, st store.Store, dataDir string, log *slog.Logger) error {
	open, err := st.UnfinishedRecordings(ctx)
	if err != nil {
		return fmt.Errorf("recordings left open: %w", err)
	}
	for _, rec := range open {
		res, rerr := recording.Repair(filepath.Join(dataDir, rec.File))
		status := store.RecordingCompleted
		if rerr != nil || res.Samples == 0 {
			status = store.RecordingAbsent
		}
		if _, err := st.UpdateRecording(ctx, rec.AccountSID, rec.SID, func(r *store.Recording) error {
			r.Status, r.Duration = status, res.Duration()
			return nil
		}); err != nil {
			return fmt.Errorf("finish recording %s: %w", rec.SID, err)
		}
		log.Warn("repaired a recording left open by the previous run", "recording", rec.SID,
			"status", status, "duration", res.Duration(), "err", rerr)
	}
	return nil
}
