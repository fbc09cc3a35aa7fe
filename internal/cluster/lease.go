package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// leaseValue is what the lease key holds: who holds it, and a nonce of
// this holding, so a renewal whose answer was lost can be recognized.
type leaseValue struct {
	Node  string    `json:"node"`
	Nonce string    `json:"nonce"`
	Since time.Time `json:"since"`
}

// leaseLoop tries to take the lease while nobody holds it and renews it
// while this node does, every Renew, until ctx ends; then it ends the
// lead session and gives the lease up.
func (n *Node) leaseLoop(ctx context.Context) {
	t := time.NewTicker(n.o.Renew)
	defer t.Stop()
	var val []byte
	for {
		n.mu.Lock()
		leading := n.leading
		n.mu.Unlock()
		switch {
		case n.hang.Load(): // tests: a node stuck elsewhere
		case leading:
			n.renew(ctx, val)
		default:
			val = n.tryAcquire(ctx)
		}
		select {
		case <-ctx.Done():
			n.resign()
			return
		case <-n.restart:
			n.restartSession(ctx)
		case <-t.C:
		}
	}
}

// tryAcquire reads the lease and creates it when nobody holds it. It
// returns the value it wrote (nil when it did not take the lease).
func (n *Node) tryAcquire(ctx context.Context) []byte {
	rctx, cancel := context.WithTimeout(ctx, n.o.Renew)
	defer cancel()
	e, err := n.lease.Get(rctx, leaderKey)
	switch {
	case err == nil:
		var v leaseValue
		_ = json.Unmarshal(e.Value(), &v)
		n.setLeader(v.Node)
		return nil
	case !errors.Is(err, jetstream.ErrKeyNotFound):
		return nil // not connected: nothing to do but wait
	}
	// A session that ran out of lease must have ended before another
	// starts: never two sets of sources.
	n.endSession("")
	val, _ := json.Marshal(leaseValue{Node: n.o.Node, Nonce: nonce(), Since: time.Now().UTC()})
	t0 := time.Now()
	rev, err := n.lease.Create(rctx, leaderKey, val)
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
			n.log.Debug("cluster: failed to take the lease", "error", err)
		}
		return nil
	}
	n.mu.Lock()
	n.leading, n.term, n.rev = true, rev, rev
	n.validUntil = t0.Add(n.o.LeaseTTL - n.o.StopMargin)
	n.firstFailed = time.Time{}
	n.leader = n.o.Node
	n.changes++
	n.mu.Unlock()
	n.log.Info("cluster: this replica leads", "term", rev)
	n.startSession(ctx, rev)
	return val
}

// renew updates the lease at the revision this node holds.
func (n *Node) renew(ctx context.Context, val []byte) {
	attempt := time.Now()
	n.mu.Lock()
	rev := n.rev
	if n.firstFailed.IsZero() {
		n.firstFailed = attempt
	}
	first := n.firstFailed
	n.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, n.o.Renew)
	defer cancel()
	// t0 is the earliest the entry can have been written: this attempt's
	// start when it succeeds at the revision held (no earlier attempt
	// was written, or the revision would differ).
	t0 := attempt
	nrev, err := n.lease.Update(rctx, leaderKey, val, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		// An earlier renewal may have been written with its answer lost:
		// the key is still ours if it holds our value, written no sooner
		// than the first renewal that went unanswered.
		if e, gerr := n.lease.Get(rctx, leaderKey); gerr == nil && string(e.Value()) == string(val) {
			nrev, err, t0 = e.Revision(), nil, first
		}
	}
	switch {
	case err == nil:
		n.mu.Lock()
		if n.leading {
			n.rev = nrev
			n.validUntil = t0.Add(n.o.LeaseTTL - n.o.StopMargin)
			n.firstFailed = time.Time{}
		}
		n.mu.Unlock()
	case errors.Is(err, jetstream.ErrKeyRevisionMismatch), errors.Is(err, jetstream.ErrKeyNotFound):
		n.endSession("the lease was lost")
	default:
		if ctx.Err() == nil {
			n.log.Warn("cluster: failed to renew the lease", "error", err)
		}
	}
}

// startSession runs Lead for the term, once this node has applied the
// stream up to its term's first message (so the sources resume from the
// cursors the old leader's last batches carried). The session ends when
// the lease runs out (a timer, independent of the renewals, which may
// hang), when it is lost, or when ctx ends.
func (n *Node) startSession(ctx context.Context, term uint64) {
	n.gen.Add(1)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	n.mu.Lock()
	n.session, n.sessDone = cancel, done
	n.mu.Unlock()
	go func() {
		defer close(done)
		defer cancel()
		watch := make(chan struct{})
		defer close(watch)
		go n.watchDeadline(sctx, cancel, watch)
		var seq uint64
		for {
			var err error
			if seq, err = n.publishMarker(sctx, term); err == nil {
				break
			}
			if sctx.Err() != nil {
				return
			}
			n.log.Warn("cluster: failed to publish the term's first message; retrying", "error", err)
			select {
			case <-sctx.Done():
				return
			case <-time.After(n.o.Renew):
			}
		}
		if !n.waitApplied(sctx, seq) {
			return
		}
		n.startedAt.Store(time.Now().UnixNano())
		n.log.Info("cluster: starting the sources", "term", term, "from", seq)
		n.o.Lead(sctx)
		n.stoppedAt.Store(time.Now().UnixNano())
	}()
}

// watchDeadline cancels the session when the lease may run out: at
// validUntil, which renewals push forward.
func (n *Node) watchDeadline(ctx context.Context, cancel context.CancelFunc, done <-chan struct{}) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		n.mu.Lock()
		until := time.Until(n.validUntil)
		n.mu.Unlock()
		if until <= 0 {
			n.log.Warn("cluster: stopping the sources: the lease could not be renewed in time")
			cancel()
			n.mu.Lock()
			n.leading = false
			n.term = 0
			n.mu.Unlock()
			return
		}
		t.Reset(min(until, n.o.Renew/4))
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-t.C:
		}
	}
}

// restartSession stops the sources after a failed publish and starts
// them again under the same lease: they resume from the cursors of what
// the stream stored.
func (n *Node) restartSession(ctx context.Context) {
	n.mu.Lock()
	cancel, done, term := n.session, n.sessDone, n.term
	n.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
	n.mu.Lock()
	ok := n.leadingNow(time.Now()) && n.term == term
	n.mu.Unlock()
	if ok {
		n.log.Info("cluster: restarting the sources after a failed publish", "term", term)
		n.startSession(ctx, term)
	}
}

// endSession stops the lead session and waits for Lead to return. The
// lease itself is left to expire (or to be given up by resign).
func (n *Node) endSession(why string) {
	n.mu.Lock()
	cancel, done, was := n.session, n.sessDone, n.leading
	n.leading, n.term = false, 0
	n.session, n.sessDone = nil, nil
	n.mu.Unlock()
	if was {
		n.log.Warn("cluster: this replica stops leading", "reason", why)
	}
	if cancel != nil {
		cancel()
		<-done
	}
}

// resign ends the session, waits for the published batches to be stored,
// then deletes the lease at its revision, so a successor need not wait
// for it to expire.
func (n *Node) resign() {
	n.mu.Lock()
	rev, held := n.rev, n.leading
	n.mu.Unlock()
	n.endSession("shutting down")
	if !held {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.o.StopMargin)
	defer cancel()
	select {
	case <-n.js.PublishAsyncComplete():
	case <-ctx.Done():
	}
	if err := n.lease.Delete(ctx, leaderKey, jetstream.LastRevision(rev)); err != nil {
		n.log.Warn("cluster: failed to give the lease up; it expires by itself", "error", err)
		return
	}
	n.log.Info("cluster: gave the lease up")
}
