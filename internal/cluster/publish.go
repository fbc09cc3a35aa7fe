package cluster

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/journal"
)

// PublishBatch publishes a batch of the leader's sources to the stream; it
// does not wait for the stream to store it (OnDurable says when it has).
// It refuses with ErrNotLeader when this node's lease is not valid, so a
// leader that lost its lease publishes nothing more. It implements
// source.BatchSink.
func (n *Node) PublishBatch(ctx context.Context, b event.Batch) error {
	if len(b.Events) == 0 && b.Cursor == "" && b.Ticket == 0 {
		return nil
	}
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	n.mu.Lock()
	term, ok := n.term, n.leadingNow(time.Now())
	n.mu.Unlock()
	if !ok {
		return ErrNotLeader
	}
	gen := n.gen.Load()
	if n.poisoned.Load() == gen {
		return fmt.Errorf("failed to publish to the stream: an earlier publish failed; the sources restart")
	}
	m := n.message(&b, term)
	f, err := n.js.PublishMsgAsync(m)
	if err != nil {
		n.failed(gen, err)
		return fmt.Errorf("failed to publish to the stream: %w", err)
	}
	select {
	case n.pending <- pendingAck{f: f, source: b.Source, ticket: b.Ticket, gen: gen}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Publish publishes events of one source (source.Sink).
func (n *Node) Publish(ctx context.Context, evs ...event.Event) error {
	if len(evs) == 0 {
		return nil
	}
	return n.PublishBatch(ctx, event.Batch{Source: evs[0].Source, Events: evs})
}

// Post publishes a batch that any node received (a webhook) and waits
// until the stream has stored it: the caller answers the vendor after.
// It carries no term, so it is applied whatever the leadership.
func (n *Node) Post(ctx context.Context, b event.Batch) error {
	select {
	case <-n.ready:
	case <-ctx.Done():
		return fmt.Errorf("failed to publish to the stream: %w", ctx.Err())
	}
	b.Ticket = 0
	if _, err := n.js.PublishMsg(ctx, n.message(&b, 0)); err != nil {
		return fmt.Errorf("failed to publish to the stream: %w", err)
	}
	return nil
}

// message encodes b for the stream: the journal's batch encoding, the
// term (0: none) and, when every event carries the vendor's id, a message
// id the stream deduplicates by (a vendor that sends the same events
// again, to a new leader say, has them stored once).
func (n *Node) message(b *event.Batch, term uint64) *nats.Msg {
	ticket := b.Ticket
	b.Ticket = 0 // the leader's own numbering means nothing to the others
	data := journal.AppendBatch(nil, b)
	b.Ticket = ticket
	m := &nats.Msg{Subject: n.subject, Data: data, Header: nats.Header{}}
	m.Header.Set(hdrNode, n.o.Node)
	if term != 0 {
		m.Header.Set(hdrTerm, strconv.FormatUint(term, 10))
	}
	if id := MsgID(b); id != "" {
		m.Header.Set(jetstream.MsgIDHeader, id)
	}
	return m
}

// MsgID is the stream's deduplication id of a batch: its source and a hash
// of its events' ids, or "" when an event has none (only the vendor's ids
// say that two batches are the same).
func MsgID(b *event.Batch) string {
	if len(b.Events) == 0 {
		return ""
	}
	h := sha256.New()
	for i := range b.Events {
		id := b.Events[i].ID
		if id == "" {
			return ""
		}
		h.Write([]byte(b.Events[i].Kind.String()))
		h.Write([]byte{0})
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	return b.Source + ":" + hex.EncodeToString(h.Sum(nil)[:16])
}

// publishMarker publishes the term's first message (no events) and
// returns its position: from it on, every applier drops older terms.
func (n *Node) publishMarker(ctx context.Context, term uint64) (uint64, error) {
	m := &nats.Msg{Subject: n.markers, Header: nats.Header{}}
	m.Header.Set(hdrNode, n.o.Node)
	m.Header.Set(hdrTerm, strconv.FormatUint(term, 10))
	ack, err := n.js.PublishMsg(ctx, m)
	if err != nil {
		return 0, fmt.Errorf("failed to publish to the stream: %w", err)
	}
	return ack.Sequence, nil
}

// acks waits for the leader's publishes to be stored, in order, and tells
// OnDurable. After a failure nothing later of the same session counts as
// durable: the sources restart and resume from what the stream holds.
func (n *Node) acks(ctx context.Context) {
	for {
		var p pendingAck
		select {
		case <-ctx.Done():
			n.drainAcks()
			return
		case p = <-n.pending:
		}
		n.await(p)
	}
}

func (n *Node) await(p pendingAck) {
	select {
	case <-p.f.Ok():
		n.durable(p)
	case err := <-p.f.Err():
		n.failed(p.gen, err)
	}
}

func (n *Node) durable(p pendingAck) {
	if n.poisoned.Load() != p.gen && p.ticket != 0 && n.o.OnDurable != nil {
		n.o.OnDurable(p.source, p.ticket)
	}
}

// drainAcks reports what is stored of what was published before a stop.
func (n *Node) drainAcks() {
	deadline := time.After(n.o.StopMargin)
	for {
		select {
		case p := <-n.pending:
			select {
			case <-p.f.Ok():
				n.durable(p)
			case err := <-p.f.Err():
				n.log.Warn("cluster: a publish failed while stopping", "source", p.source, "error", err)
				n.poisoned.Store(p.gen)
			case <-deadline:
				return
			}
		default:
			return
		}
	}
}

// failed marks the session's publishes as broken and asks the lease loop
// to restart the sources.
func (n *Node) failed(gen uint64, err error) {
	if n.poisoned.Swap(gen) == gen {
		return
	}
	n.log.Error("cluster: a publish to the stream failed: the sources restart from what the stream holds", "error", err)
	select {
	case n.restart <- struct{}{}:
	default:
	}
}

// nonce returns a random string that tells one holding of the lease from
// another.
func nonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
