package media

// Remote returns what SetRemote last set: the negotiated codec, the
// telephone-event payload type (0 when the remote offered none, so DTMF must
// be detected in-band) and the direction. It is the zero Remote before
// SetRemote.
func (s *Session) Remote() Remote {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.remote
}
