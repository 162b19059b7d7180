package voice

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-voice/switchboard/internal/store"
)

// mailboxSize bounds the commands waiting for one call; more are refused
// (ErrBusy) rather than queued without end.
const mailboxSize = 8

// ErrBusy: the call has too many commands waiting.
var ErrBusy = errors.New("voice: too many commands pending for the call")

// A command asks a live call to change what it does: run another document,
// or end. Only the call's goroutine acts on it (drive, dial); the sender
// waits for the reply when it wants to see the result.
type command struct {
	update Update
	done   chan error // buffered: the reply never blocks the call
}

func (c command) reply(err error) {
	if c.done != nil {
		c.done <- err
	}
}

// Update steers a live call, as POST .../Calls/{Sid}.json does on Twilio:
//
//   - Status completed ends the call (hung up once answered; canceled while
//     queued or ringing); canceled cancels a queued or ringing call and
//     leaves an answered one alone. Update returns once the call's final
//     status is stored.
//   - URL (with Method) or Twiml stops the running verb at once and runs the
//     new document; on an outbound call not answered yet, it is what runs at
//     the answer.
//   - FallbackURL, StatusCallback (and their methods) and TimeLimit change
//     the call without interrupting it.
//
// ErrCallNotFound when the call is not running here.
func (in *Interpreter) Update(ctx context.Context, accountSID, callSID string, u Update) error {
	r, err := in.liveRun(accountSID, callSID)
	if err != nil {
		return err
	}
	cmd := &command{update: u, done: make(chan error, 1)}
	if err := r.post(cmd); err != nil {
		return err
	}
	select {
	case err := <-cmd.done:
		if errors.Is(err, ErrCallNotFound) {
			return nil // the call ended meanwhile: the command is moot
		}
		return err
	case <-ctx.Done():
		return fmt.Errorf("update call: %w", ctx.Err())
	}
}

// configure applies the parts of an update that do not interrupt the call;
// r.mu is held.
func (r *run) configure(u Update) {
	if u.TimeLimit > 0 {
		r.settings.timeLimit = u.TimeLimit
		if r.limit != nil {
			r.limit.Reset(u.TimeLimit) // from now on, as Twilio counts it
		}
	}
	if u.FallbackURL != "" {
		r.settings.fallbackURL, r.settings.fallbackMethod = u.FallbackURL, u.FallbackMethod
	}
	if u.StatusCallback != "" {
		r.settings.statusCallback, r.settings.statusCallbackMethod = u.StatusCallback, u.StatusCallbackMethod
	}
}

// post hands a command to the call. What changes no document (fallback,
// callbacks, time limit) is applied at once; a new document given while an
// outbound call is still dialing waits for the answer without interrupting
// anything; any other command goes to the mailbox and interrupts the current
// step. A call that is over refuses commands (ErrCallNotFound).
func (r *run) post(cmd *command) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.over {
		return ErrCallNotFound
	}
	r.configure(cmd.update)
	if cmd.update.Status == "" && cmd.update.URL == "" && cmd.update.Twiml == "" {
		cmd.reply(nil) // nothing to interrupt
		return nil
	}
	if cmd.update.Status == "" && r.dialing {
		u := cmd.update
		r.pending = &u
		cmd.reply(nil)
		return nil
	}
	if cmd.update.Status == store.CallCanceled && r.media != nil {
		cmd.reply(nil) // canceling an answered call does nothing, as on Twilio
		return nil
	}
	select {
	case r.mailbox <- cmd:
	default:
		return ErrBusy
	}
	if cmd.update.Status == "" {
		cmd.reply(nil) // the new document runs as soon as the verb stops
	}
	if r.interrupt != nil {
		r.interrupt(errInterrupted)
	}
	return nil
}

// stop ends the call on a command (Status completed or canceled): an
// answered call is hung up, one not answered yet is refused and canceled.
// The command is answered once the final status is stored (finish).
func (r *run) stop(ctx context.Context, cmd *command) {
	r.stopCmd = cmd
	if r.leg != nil {
		return // finish hangs up and records the end
	}
	if r.inbound != nil {
		if err := r.inbound.Reject(487, "Request Terminated"); err != nil {
			r.log.Warn("reject failed", "err", err)
		}
	}
	r.setFinal(ctx, store.CallCanceled, "canceled through the API")
}
