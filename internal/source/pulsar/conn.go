package pulsar

import (
	"net"
	"sync"
)

// readChunk is how much one socket read may take: about 150 typical proxy
// frames, so a backlog costs one read system call per chunk instead of one
// per 4 KiB (the WebSocket library's own buffer).
const readChunk = 64 << 10

// batchConn sits under the WebSocket connection (the HTTP transport dials
// it). It reads the socket in large chunks, and once the session is live it
// holds what the connection writes (acknowledgements, pongs) until the
// reading goroutine has used up the chunk and must wait for the socket
// again. Then it first runs beforeWait — which hands the events of every
// message processed so far to the model and moves the cursor — and only
// then writes everything it holds in one system call. So the acks of a
// whole chunk cost one write, and a message is never acknowledged before
// its events were handed on.
//
// While the reading goroutine waits on the socket, writes from other
// goroutines (control pings) go out at once. What is held is bounded by the
// acks of one chunk of messages.
type batchConn struct {
	net.Conn

	rbuf []byte
	r, w int

	mu         sync.Mutex
	batching   bool
	reading    bool // the reading goroutine waits on the socket
	wbuf       []byte
	beforeWait func() error
}

func newBatchConn(c net.Conn) *batchConn { return &batchConn{Conn: c} }

// startBatching holds writes from now on and runs beforeWait before every
// socket read. Call it once the WebSocket upgrade is done, from the
// goroutine that will read.
func (c *batchConn) startBatching(beforeWait func() error) {
	c.mu.Lock()
	c.batching, c.beforeWait = true, beforeWait
	c.mu.Unlock()
}

// Read serves the chunk read last; when it is used up, it runs beforeWait,
// writes what was held and reads the next chunk.
func (c *batchConn) Read(p []byte) (int, error) {
	if c.r < c.w {
		n := copy(p, c.rbuf[c.r:c.w])
		c.r += n
		return n, nil
	}
	c.mu.Lock()
	before := c.beforeWait
	c.mu.Unlock()
	if before != nil {
		if err := before(); err != nil {
			return 0, err
		}
	}
	c.mu.Lock()
	if err := c.flushLocked(); err != nil {
		c.mu.Unlock()
		return 0, err
	}
	c.reading = true
	c.mu.Unlock()
	if c.rbuf == nil {
		c.rbuf = make([]byte, readChunk)
	}
	var n int
	var err error
	if len(p) >= len(c.rbuf) {
		n, err = c.Conn.Read(p) // a big read needs no copy
	} else {
		c.r = 0
		c.w, err = c.Conn.Read(c.rbuf)
		n = copy(p, c.rbuf[:c.w])
		c.r = n
	}
	c.mu.Lock()
	c.reading = false
	c.mu.Unlock()
	return n, err
}

// Write holds p while batching and the reading goroutine is busy, and
// writes it at once otherwise.
func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batching && !c.reading {
		c.wbuf = append(c.wbuf, p...)
		return len(p), nil
	}
	if err := c.flushLocked(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func (c *batchConn) flushLocked() error {
	if len(c.wbuf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.wbuf)
	if cap(c.wbuf) > 4*readChunk {
		c.wbuf = nil // an odd burst: do not keep its buffer for the whole session
	} else {
		c.wbuf = c.wbuf[:0]
	}
	return err
}
