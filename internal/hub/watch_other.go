//go:build !linux

package hub

// watcher is Linux's epoll set; elsewhere each raw stream has a reading
// goroutine.
type watcher struct{}

func (*watcher) wake() {}

// watchClose starts s's reading goroutine; it reports false when the hub is
// closing.
func (h *Hub) watchClose(t *Topic, s *subscriber) bool {
	return h.spawn(func() { watchConn(s.raw.conn, func() { t.drop(s) }) })
}

func (h *Hub) unwatch(*subscriber) {}
