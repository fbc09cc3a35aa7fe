package vendorsim

// Seq returns the sequence number of the last action emitted (0 before
// any), so a test that steps the simulation can read its subscription up
// to exactly that action before it looks at what followed.
func (s *Sim) Seq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}
