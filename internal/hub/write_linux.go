package hub

import (
	"net"
	"syscall"
	"unsafe"
)

// nonBlockingWrites says plain TCP streams are handed to the topic's
// writers (Linux: non-blocking writev on the socket).
const nonBlockingWrites = true

// tryWrite writes bufs in one writev without blocking (the socket is
// non-blocking) and returns how much the kernel took. A full socket is not
// an error: the caller finishes the rest with blocking writes.
func (r *rawSub) tryWrite(bufs net.Buffers) (n, total int, err error) {
	var one [1]syscall.Iovec
	iov := one[:0]
	if len(bufs) > 1 {
		iov = make([]syscall.Iovec, 0, len(bufs))
	}
	for _, b := range bufs {
		total += len(b)
		if len(b) > 0 {
			v := syscall.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			iov = append(iov, v)
		}
	}
	if len(iov) == 0 {
		return 0, 0, nil
	}
	var errno syscall.Errno
	cerr := r.rc.Write(func(fd uintptr) bool {
		for {
			// RawSyscall: a write to a non-blocking socket never blocks, so
			// the scheduler need not hand the P over (and sysmon need not
			// keep polling at its fastest for a thread in a syscall).
			m, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
			if e == syscall.EINTR {
				continue
			}
			if e == 0 {
				n = int(m)
			}
			errno = e
			return true // never wait: a full socket goes to drain
		}
	})
	switch {
	case cerr != nil:
		return n, total, cerr
	case errno == syscall.EAGAIN:
		return 0, total, nil
	case errno != 0:
		return 0, total, errno
	}
	return n, total, nil
}
