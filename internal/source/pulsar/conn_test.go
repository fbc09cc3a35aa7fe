package pulsar

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
)

// countConn counts the writes that reach the socket.
type countConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// countingDial dials like the source does and counts every socket write of
// the connections it makes in writes.
func countingDial(writes *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countConn{Conn: c, writes: writes}, nil
	}
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestBatchConnHoldsWritesUntilRead: while batching, writes are held; the
// next socket read first runs beforeWait, then writes everything held in
// one write, then reads.
func TestBatchConnHoldsWritesUntilRead(t *testing.T) {
	t.Parallel()
	c, peer := tcpPair(t)
	var writes atomic.Int64
	bc := newBatchConn(countConn{Conn: c, writes: &writes})
	var order []string
	bc.startBatching(func() error {
		order = append(order, "beforeWait")
		if w := writes.Load(); w != 0 {
			t.Errorf("%d writes before beforeWait ran", w)
		}
		return nil
	})
	for _, s := range []string{"ack1;", "ack2;", "ack3;"} {
		if n, err := bc.Write([]byte(s)); err != nil || n != len(s) {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if w := writes.Load(); w != 0 {
		t.Fatalf("socket writes = %d before any read, want 0", w)
	}
	if _, err := peer.Write([]byte("msg")); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 16)
	n, err := bc.Read(p)
	if err != nil || string(p[:n]) != "msg" {
		t.Fatalf("Read = %q, %v", p[:n], err)
	}
	if len(order) != 1 {
		t.Fatalf("beforeWait ran %d times, want 1", len(order))
	}
	if w := writes.Load(); w != 1 {
		t.Errorf("socket writes = %d, want 1 for three held writes", w)
	}
	got := make([]byte, 15)
	if _, err := io.ReadFull(peer, got); err != nil || string(got) != "ack1;ack2;ack3;" {
		t.Fatalf("peer got %q, %v", got, err)
	}
}

// TestBatchConnServesChunk: a chunk read once serves several small reads
// without another socket read (and without running beforeWait again).
func TestBatchConnServesChunk(t *testing.T) {
	t.Parallel()
	c, peer := tcpPair(t)
	bc := newBatchConn(c)
	calls := 0
	bc.startBatching(func() error { calls++; return nil })
	if _, err := peer.Write([]byte("abcdef")); err != nil {
		t.Fatal(err)
	}
	var got []byte
	p := make([]byte, 2)
	for len(got) < 6 {
		n, err := bc.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p[:n]...)
	}
	// One socket read may return fewer bytes than were sent; it never
	// returns more, so at most one wait per byte and usually one in all.
	if string(got) != "abcdef" || calls < 1 || calls > len(got) {
		t.Fatalf("got %q with %d waits", got, calls)
	}
}

// TestBatchConnWritesAtOnceWhileReading: a write from another goroutine
// while the reader waits on the socket (a control ping) is not held.
func TestBatchConnWritesAtOnceWhileReading(t *testing.T) {
	t.Parallel()
	c, peer := tcpPair(t)
	bc := newBatchConn(c)
	waiting := make(chan struct{})
	bc.startBatching(func() error { close(waiting); return nil })
	done := make(chan error, 1)
	go func() {
		_, err := bc.Read(make([]byte, 8))
		done <- err
	}()
	<-waiting
	// The reader is past beforeWait; wait until it is inside the socket read.
	for {
		bc.mu.Lock()
		r := bc.reading
		bc.mu.Unlock()
		if r {
			break
		}
		runtime.Gosched()
	}
	if _, err := bc.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(peer, got); err != nil || string(got) != "ping" {
		t.Fatalf("peer got %q, %v", got, err)
	}
	peer.Write([]byte("x"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestBatchConnBeforeWaitError: an error from beforeWait fails the read and
// nothing held is written (the events were not handed on, so their messages
// must not be acknowledged).
func TestBatchConnBeforeWaitError(t *testing.T) {
	t.Parallel()
	c, _ := tcpPair(t)
	var writes atomic.Int64
	bc := newBatchConn(countConn{Conn: c, writes: &writes})
	boom := errors.New("model stopped")
	bc.startBatching(func() error { return boom })
	bc.Write([]byte("ack"))
	if _, err := bc.Read(make([]byte, 4)); !errors.Is(err, boom) {
		t.Fatalf("Read err = %v, want %v", err, boom)
	}
	if w := writes.Load(); w != 0 {
		t.Errorf("socket writes = %d after a failed beforeWait, want 0", w)
	}
}
