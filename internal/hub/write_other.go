//go:build !linux

package hub

import (
	"errors"
	"net"
)

// nonBlockingWrites is false here: plain TCP streams are served like TLS
// ones, by a goroutine each with blocking writes.
const nonBlockingWrites = false

func (r *rawSub) tryWrite(net.Buffers) (n, total int, err error) {
	return 0, 0, errors.New("non-blocking writes are implemented for Linux only")
}
