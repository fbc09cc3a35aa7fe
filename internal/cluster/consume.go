package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wallboard/wallboard/internal/journal"
)

// consume applies the stream from the position after Options.From, in
// order, until ctx ends. A consumer that fails (NATS gone) starts again
// after the last position applied.
func (n *Node) consume(ctx context.Context) {
	logged := ""
	for ctx.Err() == nil {
		err := n.consumeOnce(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		if msg := err.Error(); msg != logged {
			n.log.Warn("cluster: the stream's consumer stopped; starting it again", "error", err)
			logged = msg
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// applier is the consumer's state: the highest leader term applied.
// Every replica drops a leader's message whose term is below one it has
// applied, and every replica sees the same messages in the same order, so
// they all drop the same ones.
type applier struct {
	maxTerm uint64
}

func (n *Node) consumeOnce(ctx context.Context) error {
	from := n.applied.Load()
	a := &applier{}
	if from > 0 {
		t, err := n.termAt(ctx, from)
		if err != nil {
			return err
		}
		a.maxTerm = t
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if from > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from+1
	}
	cons, err := n.js.OrderedConsumer(ctx, n.streamName, cfg)
	if err != nil {
		return fmt.Errorf("failed to create the stream's consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(512))
	if err != nil {
		return fmt.Errorf("failed to consume the stream: %w", err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return fmt.Errorf("failed to read the stream: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			continue
		}
		if err := n.applyMsg(a, msg.Subject(), msg.Headers().Get(hdrTerm), msg.Data(), meta); err != nil {
			return nil // the model stopped
		}
	}
}

// applyMsg applies one message of the stream at its position.
func (n *Node) applyMsg(a *applier, subject, termHdr string, data []byte, meta *jetstream.MsgMetadata) error {
	seq := meta.Sequence.Stream
	applied := n.applied.Load()
	if seq <= applied {
		return nil // applied before the consumer restarted
	}
	if applied > 0 && seq > applied+1 {
		n.gaps.Add(seq - applied - 1)
		n.log.Warn("cluster: the stream no longer holds messages this replica had not applied (retention)",
			"applied", applied, "next", seq)
	}
	term, _ := strconv.ParseUint(termHdr, 10, 64)
	switch {
	case term != 0 && term < a.maxTerm:
		n.fenced.Add(1)
		n.log.Warn("cluster: dropped a message of a former leader", "term", term, "current", a.maxTerm, "position", seq)
	case subject == n.markers:
		a.maxTerm = max(a.maxTerm, term)
	default:
		if term != 0 {
			a.maxTerm = max(a.maxTerm, term)
		}
		b, err := journal.DecodeBatch(data)
		if err != nil {
			n.corrupt.Add(1)
			n.log.Error("cluster: skipped an unreadable message of the stream", "position", seq, "error", err)
			break
		}
		if err := n.o.Apply(journal.Pos(seq), b); err != nil {
			return err
		}
	}
	n.applied.Store(seq)
	n.notifyApplied()
	n.mu.Lock()
	if meta.NumPending == 0 {
		n.caughtUp = true
		n.lagSeconds = 0
	}
	n.mu.Unlock()
	return nil
}

// termAt is the highest leader term among the term markers at or before
// pos: what an applier that had applied the stream up to pos knows.
func (n *Node) termAt(ctx context.Context, pos uint64) (uint64, error) {
	info, err := n.stream.Info(ctx, jetstream.WithSubjectFilter(n.markers))
	if err != nil {
		return 0, fmt.Errorf("failed to read the stream's terms: %w", err)
	}
	if info.State.Subjects[n.markers] == 0 {
		return 0, nil
	}
	cons, err := n.js.OrderedConsumer(ctx, n.streamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{n.markers}, DeliverPolicy: jetstream.DeliverAllPolicy, InactiveThreshold: 5 * time.Second})
	if err != nil {
		return 0, fmt.Errorf("failed to read the stream's terms: %w", err)
	}
	var term uint64
	for {
		msg, err := cons.Next(jetstream.FetchMaxWait(time.Second))
		if errors.Is(err, jetstream.ErrNoMessages) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
			return term, nil
		}
		if err != nil {
			return 0, fmt.Errorf("failed to read the stream's terms: %w", err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			continue
		}
		if meta.Sequence.Stream > pos {
			return term, nil
		}
		t, _ := strconv.ParseUint(msg.Headers().Get(hdrTerm), 10, 64)
		term = max(term, t)
		if meta.NumPending == 0 {
			return term, nil
		}
	}
}

// waitApplied waits until this node has applied the stream up to seq.
func (n *Node) waitApplied(ctx context.Context, seq uint64) bool {
	for {
		n.mu.Lock()
		n.waiting = true
		ch := n.appliedCh
		n.mu.Unlock()
		if n.applied.Load() >= seq {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-ch:
		}
	}
}

// notifyApplied wakes waitApplied.
func (n *Node) notifyApplied() {
	n.mu.Lock()
	if n.waiting {
		close(n.appliedCh)
		n.appliedCh = make(chan struct{})
		n.waiting = false
	}
	n.mu.Unlock()
}
