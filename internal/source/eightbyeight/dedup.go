package eightbyeight

// Seen remembers the last N message ids so that a replay (SAPI resends what
// a subscription missed, a Pulsar consumer redelivers) is dropped before it
// reaches the model. The model deduplicates too; this keeps the counters
// honest and the inbox quiet. Not safe for concurrent use.
type Seen struct {
	ring []string
	next int
	set  map[string]struct{}
}

// NewSeen returns a Seen holding up to n ids.
func NewSeen(n int) *Seen {
	return &Seen{ring: make([]string, n), set: make(map[string]struct{}, n)}
}

// Add records id and reports whether it was new. The empty id is always new.
func (s *Seen) Add(id string) bool {
	if id == "" || len(s.ring) == 0 {
		return true
	}
	if _, ok := s.set[id]; ok {
		return false
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.set, old)
	}
	s.ring[s.next] = id
	s.set[id] = struct{}{}
	s.next = (s.next + 1) % len(s.ring)
	return true
}
