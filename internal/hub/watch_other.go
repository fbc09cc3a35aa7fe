//go:build !linux

package hub

// watcher is Linux's epoll set; elsewhere each raw stream has a reading
// goroutine.
type watcher struct{}

func (h *Hub) watchClose(t *Topic, s *subscriber) {
	go watchConn(s.raw.conn, func() { t.drop(s) })
}

func (h *Hub) unwatch(*subscriber) {}
