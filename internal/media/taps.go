package media

import "slices"

// A Tap listens to a session's audio in both directions without being its
// consumer: a call recorder, a media stream, a detector, a supervisor's
// listen-in. Taps are kept by the session, not by its Sink or Source, so they
// hear the leg whoever the consumer is and are not lost when it changes (SetSink,
// Play).
//
// Both methods are called on the engine's pacer goroutine, every tick while the
// session is live: TapIn in the tick's receive phase, then TapOut in the same
// tick's send phase, so that a tap can pair them. They must return promptly,
// must not retain frame (it is the engine's buffer, reused in the next call),
// and must not call AddTap or RemoveTap of the same session (the session's tap
// lock is held while they run).
type Tap interface {
	// TapIn gets the frame the session played out of its jitter buffer this
	// tick: what the remote said (silence when nothing came). Called after the
	// Sink got it.
	TapIn(frame []int16)
	// TapOut gets the frame the session sent this tick: what the remote heard
	// (the source's audio, in-band DTMF tones, or silence; silence too while
	// nothing is sent, e.g. on hold or before SetRemote, and while an RFC 4733
	// event replaces the audio).
	TapOut(frame []int16)
}

// AddTap adds t to the session's taps; from the next tick on it hears both
// directions (its first call is a TapIn). Adding a tap already added does
// nothing. t is compared with == by RemoveTap, so its dynamic type must be
// comparable (a pointer, typically).
//
// AddTap may be called from any goroutine, including from a Source, a Sink, a
// tick hook or another session's tap, but not from a tap of this session.
func (s *Session) AddTap(t Tap) {
	if t == nil {
		return
	}
	s.tapMu.Lock()
	defer s.tapMu.Unlock()
	var cur []Tap
	if p := s.taps.Load(); p != nil {
		cur = *p
	}
	if slices.Contains(cur, t) {
		return
	}
	// Copy on write: the pacer may be reading the old slice.
	next := make([]Tap, len(cur), len(cur)+1)
	copy(next, cur)
	next = append(next, t)
	s.taps.Store(&next)
}

// RemoveTap removes t from the session's taps. Once it returns, t is not called
// again (a tick's TapIn may thus have no TapOut). Removing a tap that is not
// there does nothing. The same restrictions on callers as AddTap apply.
func (s *Session) RemoveTap(t Tap) {
	s.tapMu.Lock()
	defer s.tapMu.Unlock()
	p := s.taps.Load()
	if p == nil {
		return
	}
	i := slices.Index(*p, t)
	if i < 0 {
		return
	}
	if len(*p) == 1 {
		s.taps.Store(nil)
		return
	}
	next := slices.Delete(slices.Clone(*p), i, i+1)
	s.taps.Store(&next)
}

// How taps are called without allocating and without a call after RemoveTap:
// AddTap and RemoveTap replace the slice s.taps points to (copy on write, nil
// when there are none) under s.tapMu, and the pacer holds s.tapMu while it
// calls the taps, reading s.taps again under it. A tick without taps thus costs
// one atomic load; a tick with taps two uncontended lock/unlock pairs. (Waiting
// for the pacer instead would make RemoveTap take up to a tick, and deadlock in
// a tick hook or a Source.)
//
// The receive phase remembers which slice it called in s.tx.taps, and the send
// phase calls TapOut on those taps only (those of them still there if the slice
// changed in between), so that every TapOut follows the TapIn of its tick: a
// tap added between the phases starts with the next tick's TapIn.

// tapIn calls TapIn on every tap (the pacer, in the receive phase, when
// s.taps was non-nil) and remembers them for tapOut.
func (s *Session) tapIn(frame []int16) {
	s.tapMu.Lock()
	p := s.taps.Load()
	if p != nil {
		for _, t := range *p {
			t.TapIn(frame)
		}
	}
	s.tapMu.Unlock()
	s.tx.taps = p
}

// tapOut calls TapOut on the taps tapIn called in this tick (the pacer, in the
// send phase, when s.tx.taps is non-nil), with silence when nothing was sent.
func (s *Session) tapOut(frame []int16, silent bool) {
	p := s.tx.taps
	s.tx.taps = nil
	if silent {
		clear(frame)
	}
	s.tapMu.Lock()
	cur := s.taps.Load()
	for _, t := range *p {
		if cur == p || (cur != nil && slices.Contains(*cur, t)) {
			t.TapOut(frame)
		}
	}
	s.tapMu.Unlock()
}
