package server

import (
	"errors"
	"fmt"
	"testing"

	"github.com/switchboard-voice/switchboard/internal/sip"
	"github.com/switchboard-voice/switchboard/internal/voice"
)

// The interpreter learns of a cancel from a failed answer only through
// voice.ErrCanceled (it knows no SIP); other failures stay failures.
func TestAnswerErrorTellsACancel(t *testing.T) {
	other := errors.New("no ACK")
	for _, c := range []struct {
		err      error
		canceled bool
	}{
		{sip.ErrCanceled, true},
		{fmt.Errorf("answer: %w", sip.ErrCanceled), true},
		{other, false},
		{sip.ErrAlreadyFinal, false},
	} {
		got := answerError(c.err)
		if errors.Is(got, voice.ErrCanceled) != c.canceled || !errors.Is(got, c.err) {
			t.Errorf("answerError(%v) = %v: canceled %v, want %v, and wrapping the SIP error", c.err, got, errors.Is(got, voice.ErrCanceled), c.canceled)
		}
	}
}
