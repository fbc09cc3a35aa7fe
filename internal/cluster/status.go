package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// NodeStatus is one replica as the others see it (GET /api/v1/cluster).
type NodeStatus struct {
	Name       string    `json:"name"`
	Leader     bool      `json:"leader"`
	LastSeenAt time.Time `json:"last_seen_at"`
	Applied    uint64    `json:"applied"`
	LagSeconds float64   `json:"lag_seconds"`
}

// Status is this node's view of the cluster, for /admin, /readyz and
// /metrics. Reading it never waits for NATS.
type Status struct {
	Node       string
	Leader     string // "" while nobody holds the lease
	IsLeader   bool
	Term       uint64
	Applied    uint64 // the last stream position applied
	StreamLast uint64 // the stream's last position, as last read
	// LagSeconds is how far behind this node is: the age, in the stream's
	// own time, of the oldest message it has not applied (0 when none).
	LagSeconds float64
	Connected  bool
	Ready      bool
	Why        string // why not ready; empty when ready
	Problem    string // a setup error, when any
	// Changes counts leaders this node has seen take over; Fenced,
	// Gaps and Corrupt count messages dropped (a former leader's, lost
	// to retention, unreadable).
	Changes               int64
	Fenced, Gaps, Corrupt uint64
	Nodes                 []NodeStatus
}

// report refreshes what this node knows of the stream and the other
// nodes, and tells them what it applied, every Renew, until ctx ends.
func (n *Node) report(ctx context.Context) {
	t := time.NewTicker(n.o.Renew)
	defer t.Stop()
	for {
		n.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *Node) refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, n.o.Renew)
	defer cancel()
	info, err := n.stream.Info(ctx)
	if err != nil {
		return
	}
	applied := n.applied.Load()
	lag := 0.0
	if last := info.State.LastSeq; last > applied {
		// the age of the oldest message not applied, on the server's
		// clock alone (the stream's last time against its time)
		oldest := info.State.LastTime
		if m, err := n.stream.GetMsg(ctx, applied+1); err == nil {
			oldest = m.Time
		} else if info.State.FirstTime.After(oldest) {
			oldest = info.State.FirstTime
		}
		lag = max(0, info.State.LastTime.Sub(oldest).Seconds())
	}
	n.mu.Lock()
	n.lastSeq = info.State.LastSeq
	if applied >= info.State.LastSeq {
		n.caughtUp = true
		lag = 0
	}
	n.lagSeconds = lag
	leading := n.leadingNow(time.Now())
	n.mu.Unlock()

	me, _ := json.Marshal(NodeStatus{Name: n.o.Node, Leader: leading, LastSeenAt: time.Now().UTC(), Applied: applied, LagSeconds: lag})
	if _, err := n.nodesKV.Put(ctx, nodeKey(n.o.Node), me); err != nil {
		return
	}
	keys, err := n.nodesKV.ListKeys(ctx)
	if err != nil {
		return
	}
	nodes := map[string]NodeStatus{}
	for k := range keys.Keys() {
		e, err := n.nodesKV.Get(ctx, k)
		if err != nil {
			continue
		}
		var ns NodeStatus
		if json.Unmarshal(e.Value(), &ns) == nil && ns.Name != "" {
			nodes[ns.Name] = ns
		}
	}
	n.mu.Lock()
	n.nodes = nodes
	n.mu.Unlock()
}

// nodeKey is a node's key in the nodes bucket (names are letters,
// digits and '-', all valid in keys).
func nodeKey(name string) string { return "node." + name }

func (n *Node) setLeader(name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if name != n.leader && name != "" {
		n.changes++
	}
	n.leader = name
}

// Status returns this node's view of the cluster.
func (n *Node) Status() Status {
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	st := Status{Node: n.o.Node, Leader: n.leader, IsLeader: n.leadingNow(now), Applied: n.applied.Load(),
		StreamLast: n.lastSeq, LagSeconds: n.lagSeconds, Connected: n.connected.Load(), Problem: n.problem,
		Changes: n.changes, Fenced: n.fenced.Load(), Gaps: n.gaps.Load(), Corrupt: n.corrupt.Load()}
	if st.IsLeader {
		st.Term, st.Leader = n.term, n.o.Node
	}
	for _, ns := range n.nodes {
		if now.Sub(ns.LastSeenAt) > nodesTTL {
			continue
		}
		ns.Leader = ns.Name == st.Leader
		st.Nodes = append(st.Nodes, ns)
	}
	if !slices.ContainsFunc(st.Nodes, func(ns NodeStatus) bool { return ns.Name == n.o.Node }) {
		st.Nodes = append(st.Nodes, NodeStatus{Name: n.o.Node, Leader: st.IsLeader, LastSeenAt: now.UTC(),
			Applied: st.Applied, LagSeconds: st.LagSeconds})
	}
	slices.SortFunc(st.Nodes, func(a, b NodeStatus) int { return strings.Compare(a.Name, b.Name) })
	for i := range st.Nodes {
		if st.Nodes[i].Name == n.o.Node { // this node's own figures are fresh
			st.Nodes[i].Applied, st.Nodes[i].LagSeconds = st.Applied, st.LagSeconds
		}
	}
	switch {
	case !st.Connected && !n.disconnAt.IsZero() && now.Sub(n.disconnAt) > n.o.MaxLag:
		st.Why = "cut from NATS since " + n.disconnAt.UTC().Format(time.RFC3339)
	case st.Problem != "":
		st.Why = st.Problem
	case !n.caughtUp:
		st.Why = "applying the stream since the snapshot"
	case st.LagSeconds > n.o.MaxLag.Seconds():
		st.Why = "behind the stream"
	}
	st.Ready = st.Why == ""
	return st
}

// Ready reports whether this node should get traffic (/readyz).
func (n *Node) Ready() (bool, string) {
	st := n.Status()
	return st.Ready, st.Why
}

// WaitReady waits until the node is connected and set up.
func (n *Node) WaitReady(ctx context.Context) error {
	select {
	case <-n.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errNotRunning: the node's buckets are not open yet.
var errNotRunning = errors.New("cluster: not connected yet")

// State is the bucket of what sources keep across leaders (subscription
// ids): Get, Put and Delete as the state directory has them.
func (n *Node) State() *KV { return &KV{n: n} }

// KV is a key-value store in the cluster's state bucket.
type KV struct{ n *Node }

func (k *KV) bucket() (jetstream.KeyValue, error) {
	select {
	case <-k.n.ready:
		return k.n.stateKV, nil
	default:
		return nil, errNotRunning
	}
}
