package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/wallboard/wallboard/internal/cluster"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/journal"
	"github.com/wallboard/wallboard/internal/metrics"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/server"
)

// clusterDir holds a replica's snapshot in the state directory: its
// position is the stream's, never the local journal's, so the two never
// mix when a process moves between one and several.
const clusterDir = "cluster"

// clusterOpenTimeout bounds the wait for NATS at start: a replica that
// cannot reach it exits with the reason (and its supervisor restarts it).
const clusterOpenTimeout = 30 * time.Second

// replicas is the wiring of cluster: (docs/operations.md, "Replicas"). The
// JetStream stream plays the journal's part: the leader's sources publish
// their batches to it instead of handing them to the model; every
// replica's model applies the stream, each batch with its stream position
// as its ticket, which streamPosition hands back to the loop as the
// journal position (so snapshots record where in the stream they stand);
// the stream's acknowledgements make the leader's batches durable.
// Without cluster: none of this exists and the event path is as before.
type replicas struct {
	node    *cluster.Node
	log     *slog.Logger
	durable map[string]*source.Durable
}

// streamPosition is the loop's Journal on a replica: the batches it
// applies come from the stream, which is the journal; each carries its
// position in its Ticket (replicas.apply).
type streamPosition struct{}

func (streamPosition) Append(b *event.Batch) (journal.Pos, error) { return journal.Pos(b.Ticket), nil }

// newReplicas makes the node; apply hands it batches to the model, lead
// runs the sources while this replica leads. Nothing starts.
func newReplicas(cc *config.Cluster, from journal.Pos, names []string, log *slog.Logger,
	apply func(journal.Pos, event.Batch) error, lead func(context.Context)) (*replicas, error) {
	r := &replicas{log: log, durable: map[string]*source.Durable{}}
	for _, n := range names {
		r.durable[n] = source.NewDurable()
	}
	node, err := cluster.New(cluster.Options{Node: cc.Node, URLs: cc.URLs(), Credentials: cc.Credentials, Prefix: cc.Prefix,
		Replicas: cc.Replicas, Retention: cc.Retention.D(), LeaseTTL: cc.LeaseTTL.D(), MaxLag: cc.MaxLag.D(), Logger: log,
		From: from, Apply: apply, Lead: lead, OnDurable: r.onDurable})
	if err != nil {
		return nil, fmt.Errorf("failed to set up the cluster: %w", err)
	}
	r.node = node
	return r, nil
}

func (r *replicas) onDurable(src string, ticket uint64) {
	if du := r.durable[src]; du != nil {
		du.Advance(ticket)
	}
}

// relayHook is a webhook source's handler on a replica: the leader's
// source takes the post itself; another replica relays it to the leader
// (cluster.Node.Relay) and answers what the leader answered.
type relayHook struct {
	local  http.Handler
	node   *cluster.Node
	source string
	log    *slog.Logger
}

// maxRelayBody bounds a post a replica relays (the leader's source applies
// its own, smaller limit).
const maxRelayBody = 8 << 20

func (h relayHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.node.Leader() {
		h.local.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRelayBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	status, answer, err := h.node.Relay(r.Context(), h.source, r.Header, body)
	if err != nil {
		h.log.Warn("cluster: a post could not reach the leader; the vendor posts again", "source", h.source, "error", err)
		http.Error(w, "the leader is not reachable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(answer)
}

// serveRelays hands the posts other replicas relay to the local sources'
// handlers while this replica leads.
func (a *app) serveRelays(ctx context.Context, hooks map[string]http.Handler) {
	err := a.repl.node.ServeRelays(ctx, func(src string, h http.Header, body []byte) (int, []byte) {
		hook, ok := hooks[src]
		if !ok {
			return http.StatusNotFound, []byte("no such source\n")
		}
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/hooks/relayed/"+src, bytes.NewReader(body))
		req.Header = h
		rec := httptest.NewRecorder()
		hook.ServeHTTP(rec, req)
		return rec.Code, rec.Body.Bytes()
	})
	if err != nil {
		a.log.Error("cluster: relayed posts are not taken", "error", err)
	}
}

// status is what /api/v1/cluster, /admin and /readyz show.
func (r *replicas) status() server.ClusterStatus {
	st := r.node.Status()
	out := server.ClusterStatus{Node: st.Node, Leader: st.Leader, Term: st.Term, Applied: st.Applied, StreamLast: st.StreamLast,
		LagSeconds: st.LagSeconds, Connected: st.Connected, Ready: st.Ready, Why: st.Why}
	for _, n := range st.Nodes {
		out.Nodes = append(out.Nodes, server.ClusterNode{Name: n.Name, Leader: n.Leader, LastSeenAt: n.LastSeenAt, Applied: n.Applied})
	}
	return out
}

// metrics is what /metrics shows.
func (r *replicas) metrics() metrics.ClusterStats {
	st := r.node.Status()
	return metrics.ClusterStats{Leader: st.IsLeader, LagSeconds: st.LagSeconds, Applied: st.Applied, Changes: st.Changes,
		Fenced: st.Fenced, Ready: st.Ready}
}

// apply hands a batch of the stream to the model with its position.
func (a *app) applyFromStream(pos journal.Pos, b event.Batch) error {
	b.Ticket = uint64(pos)
	return a.loop.PublishBatch(context.Background(), b)
}

// lead runs while this replica leads: it resumes every source from the
// cursor the model holds (the stream's, up to the new term), supervises
// them and sends queue alarms, until ctx ends; it returns once they have
// all stopped.
func (a *app) lead(ctx context.Context) {
	cursors, err := a.loop.Cursors(ctx)
	if err != nil {
		return
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i, r := range a.sources {
		resumeFromJournal(r.src, cursors[a.cfg.Sources[i].Name])
		wg.Go(func() { source.Supervise(ctx, r.src, r.rep, r.b) })
	}
	wg.Go(func() { a.serveRelays(ctx, a.hooks) })
	if a.alerts != nil { // queue alarms: the leader alone sends them
		wg.Go(func() { a.alerts.watch(ctx) })
	}
	a.log.Info("leading: sources started", "sources", len(a.sources))
	<-ctx.Done()
	stopping := time.Now()
	wg.Wait()
	a.log.Info("leading no more: sources stopped", "led", stopping.Sub(start).Round(time.Millisecond),
		"stopping_took", time.Since(stopping).Round(time.Millisecond))
}

// followerStats shows, on a replica that does not lead, the leader's
// sources as the stream told the model: their status, not the local
// sources that do not run here.
func (r *replicas) followerStats(loop *model.Loop, out []source.Stats) {
	if r.node.Leader() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	states, err := loop.Sources(ctx)
	if err != nil {
		return
	}
	leader := r.node.Status().Leader
	for i := range out {
		for _, s := range states {
			if s.Name != out[i].Name || s.Status == "" {
				continue
			}
			out[i].Status, out[i].Detail = s.Status, s.Detail
			out[i].Summary = string(s.Status) + " (on the leader " + leader + ")"
			if s.Status == event.StatusLive {
				out[i].EverLive, out[i].LiveSince = true, s.Since
			}
		}
	}
}
