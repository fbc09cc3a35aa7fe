package hub

import (
	"errors"
	"sync"
	"syscall"
)

// watcher notices raw subscribers whose client closed the connection: one
// epoll set and one goroutine per hub instead of a reading goroutine per
// stream. A client sends nothing after its request, so readable means
// closed (or a stray byte, read and dropped).
type watcher struct {
	epfd int
	h    *Hub

	subs syncMap
}

// epollET is EPOLLET as the uint32 the event wants (syscall declares it
// negative).
const epollET = 1 << 31

type watched struct {
	t *Topic
	s *subscriber
}

func newWatcher(h *Hub) *watcher {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		h.opts.Logger.Warn("epoll unavailable: one reading goroutine per stream", "error", err)
		return nil
	}
	w := &watcher{epfd: epfd, h: h}
	w.subs.init()
	go w.run()
	return w
}

// watchClose starts noticing when s's client goes away.
func (h *Hub) watchClose(t *Topic, s *subscriber) {
	h.watchOnce.Do(func() { h.watch = newWatcher(h) })
	if w := h.watch; w != nil && s.raw.fd >= 0 {
		w.subs.store(s.raw.fd, watched{t: t, s: s})
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET, Fd: int32(s.raw.fd)}
		if err := syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, s.raw.fd, &ev); err == nil {
			return
		}
		w.subs.delete(s.raw.fd, s)
	}
	go watchConn(s.raw.conn, func() { t.drop(s) })
}

// unwatch forgets s before its connection is closed, so its descriptor's
// number can be reused.
func (h *Hub) unwatch(s *subscriber) {
	if w := h.watch; w != nil && s.raw.fd >= 0 && w.subs.delete(s.raw.fd, s) {
		_ = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_DEL, s.raw.fd, nil)
	}
}

func (w *watcher) run() {
	defer syscall.Close(w.epfd)
	events := make([]syscall.EpollEvent, 256)
	var buf [512]byte
	for {
		select {
		case <-w.h.closed:
			return
		default:
		}
		// A bounded wait, so the goroutine notices the hub closing.
		n, err := syscall.EpollWait(w.epfd, events, 500)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			w.h.opts.Logger.Error("epoll wait failed: closed streams are noticed on their next write", "error", err)
			return
		}
		for _, ev := range events[:n] {
			x, ok := w.subs.load(int(ev.Fd))
			if !ok {
				continue
			}
			if clientGone(x.s, buf[:]) {
				x.t.drop(x.s)
			}
		}
	}
}

// clientGone reads what the client sent without blocking: end of stream or
// an error means it has gone; bytes are dropped.
func clientGone(s *subscriber, buf []byte) bool {
	gone := false
	err := s.raw.rc.Read(func(fd uintptr) bool {
		for {
			n, err := syscall.Read(int(fd), buf)
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
			case err != nil || n == 0:
				gone = true
			case n > 0:
				continue
			}
			return true // never wait
		}
	})
	return gone || err != nil
}

// syncMap maps a descriptor to the subscriber that holds it.
type syncMap struct {
	mu sync.Mutex
	m  map[int]watched
}

func (m *syncMap) init() { m.m = map[int]watched{} }

func (m *syncMap) store(fd int, w watched) {
	m.mu.Lock()
	m.m[fd] = w
	m.mu.Unlock()
}

func (m *syncMap) load(fd int) (watched, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.m[fd]
	return w, ok
}

// delete forgets fd if it still belongs to s, and says whether it did.
func (m *syncMap) delete(fd int, s *subscriber) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w, ok := m.m[fd]; ok && w.s == s {
		delete(m.m, fd)
		return true
	}
	return false
}
