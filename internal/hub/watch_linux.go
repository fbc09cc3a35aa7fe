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
	h       *Hub
	wakeR   int // a pipe's ends: Close writes a byte so that run returns at once
	wakeW   int
	subs    syncMap
	closeMu sync.Mutex // held while the descriptors are used from other goroutines
	epfd    int        // -1 once closed
}

// epollET is EPOLLET as the uint32 the event wants (syscall declares it
// negative).
const epollET = 1 << 31

type watched struct {
	t *Topic
	s *subscriber
}

// newWatcher makes the epoll set and starts its goroutine, or returns nil
// (then each stream has a reading goroutine). h.mu is held.
func newWatcher(h *Hub) *watcher {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		h.opts.Logger.Warn("epoll unavailable: one reading goroutine per stream", "error", err)
		return nil
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		_ = syscall.Close(epfd)
		h.opts.Logger.Warn("epoll unavailable: one reading goroutine per stream", "error", err)
		return nil
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(p[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p[0], &ev); err != nil {
		_ = syscall.Close(epfd)
		_ = syscall.Close(p[0])
		_ = syscall.Close(p[1])
		h.opts.Logger.Warn("epoll unavailable: one reading goroutine per stream", "error", err)
		return nil
	}
	w := &watcher{epfd: epfd, h: h, wakeR: p[0], wakeW: p[1]}
	w.subs.init()
	if !h.goLocked(w.run) {
		w.close()
		return nil
	}
	return w
}

// wake makes run return (the hub is closing).
func (w *watcher) wake() {
	w.closeMu.Lock()
	defer w.closeMu.Unlock()
	if w.epfd >= 0 {
		_, _ = syscall.Write(w.wakeW, []byte{1})
	}
}

func (w *watcher) close() {
	w.closeMu.Lock()
	defer w.closeMu.Unlock()
	if w.epfd < 0 {
		return
	}
	_ = syscall.Close(w.epfd)
	_ = syscall.Close(w.wakeR)
	_ = syscall.Close(w.wakeW)
	w.epfd = -1
}

// watchClose starts noticing when s's client goes away. It reports false
// when the hub is closing.
func (h *Hub) watchClose(t *Topic, s *subscriber) bool {
	h.mu.Lock()
	if !h.watchTried && !h.stopping {
		h.watchTried = true
		if w := newWatcher(h); w != nil {
			h.watch.Store(w)
		}
	}
	h.mu.Unlock()
	if w := h.watch.Load(); w != nil && s.raw.fd >= 0 {
		w.subs.store(s.raw.fd, watched{t: t, s: s})
		w.closeMu.Lock()
		var err error = syscall.EBADF
		if w.epfd >= 0 {
			ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET, Fd: int32(s.raw.fd)}
			err = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, s.raw.fd, &ev)
		}
		w.closeMu.Unlock()
		if err == nil {
			return true
		}
		w.subs.delete(s.raw.fd, s)
	}
	return h.spawn(func() { watchConn(s.raw.conn, func() { t.drop(s) }) })
}

// unwatch forgets s before its connection is closed, so its descriptor's
// number can be reused.
func (h *Hub) unwatch(s *subscriber) {
	if w := h.watch.Load(); w != nil && s.raw.fd >= 0 && w.subs.delete(s.raw.fd, s) {
		w.closeMu.Lock()
		if w.epfd >= 0 {
			_ = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_DEL, s.raw.fd, nil)
		}
		w.closeMu.Unlock()
	}
}

func (w *watcher) run() {
	defer w.close()
	events := make([]syscall.EpollEvent, 256)
	var buf [512]byte
	for {
		select {
		case <-w.h.closed:
			return
		default:
		}
		// Close wakes the wait through the pipe; the bound is a safety net.
		n, err := syscall.EpollWait(w.epfd, events, 500)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			w.h.opts.Logger.Error("epoll wait failed: closed streams are noticed on their next write", "error", err)
			return
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == w.wakeR {
				continue // the hub is closing: seen at the top of the loop
			}
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
