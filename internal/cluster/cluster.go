// Package cluster runs wallboard as several replicas on NATS JetStream: one
// leader holds the vendor subscriptions and publishes what they send to a
// stream; every replica, the leader too, applies that stream in order to
// its own model, so every replica shows the same boards.
//
// Leadership is a lease: the key "leader" in a JetStream key-value bucket
// whose entries expire after the lease's time-to-live (TTL). A node takes
// it with a create (which fails while the key exists) and renews it with
// an update that names the revision it holds, so a renewal after someone
// else took the key fails. The lease's term is the revision it was created
// at; every message the leader publishes carries it, and appliers drop a
// leader's message whose term is older than one they have already seen,
// so a stale leader's late publish can never reach a model behind its
// successor's first message.
//
// Time: a leader measures its lease from the moment it SENT the request
// that created or renewed it (t0), on its own monotonic clock. The server
// wrote the entry after t0, so the entry expires, on the server, no sooner
// than t0+TTL. The leader stops its sources and refuses to publish at
// t0+TTL-StopMargin. The only clock assumptions are: the leader's and the
// server's clocks advance at nearly the same rate over one TTL (quartz
// drift is a few parts per million; the margin allows far more), and the
// server's wall clock is not stepped forward while the lease runs (NATS
// expires entries by wall-clock age: run NTP slewing, not stepping). With
// the defaults (TTL 5 s, renewal every 1 s, margin 1.5 s) a leader that
// cannot renew stops 3.5 s after its last successful renewal was sent,
// and another node can take over no sooner than 5 s after it, so the
// sources have at least 1.5 s to let go of the vendors; a successor takes
// over at most TTL + one renewal interval (6 s) after the leader's last
// renewal, plus the time to apply what it had not applied yet.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/journal"
)

// Defaults of Options' zero fields.
const (
	DefaultPrefix     = "wallboard"
	DefaultLeaseTTL   = 5 * time.Second
	DefaultMaxLag     = 5 * time.Second
	DefaultRetention  = 26 * time.Hour
	DefaultDuplicates = 5 * time.Minute
	// nodesTTL: a node that stops reporting leaves the list after this.
	nodesTTL = time.Minute
	// maxPendingAcks bounds the leader's publishes awaiting the stream's
	// acknowledgement; past it the sources wait.
	maxPendingAcks = 16384
)

// ErrNotLeader is returned by PublishBatch when this node does not hold
// the lease (or its lease may have expired): the batch was not published.
var ErrNotLeader = errors.New("this replica is not the leader")

// Message headers.
const (
	hdrTerm = "Wallboard-Term" // the publishing leader's term; absent: a webhook from any node
	hdrNode = "Wallboard-Node" // the node that published
)

// leaderKey is the lease's key in the lease bucket.
const leaderKey = "leader"

var prefixRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Options configure a Node. Zero durations take the defaults above.
type Options struct {
	Node        string   // unique per process
	URLs        []string // NATS servers
	Credentials string   // a NATS .creds file (optional)
	// Conn, when set, is used instead of connecting to URLs (tests); the
	// node does not close it.
	Conn *nats.Conn

	Prefix    string // names the stream and buckets; default "wallboard"
	Replicas  int    // JetStream replicas of the stream and buckets; default 1
	Retention time.Duration
	// LeaseTTL is how long a lease lasts after its last renewal; Renew is
	// how often it is renewed (default LeaseTTL/5); StopMargin is how long
	// before the lease may expire its holder stops (default 0.3*LeaseTTL).
	LeaseTTL   time.Duration
	Renew      time.Duration
	StopMargin time.Duration
	MaxLag     time.Duration // Ready is false while this far behind; default 5s

	Logger *slog.Logger

	// From is the stream position this node's model already holds (its
	// snapshot's): the stream is applied from the next one.
	From journal.Pos
	// Apply receives every batch of the stream in order, on one
	// goroutine, with its position. It may block (back pressure); it
	// returns an error only when the model has stopped.
	Apply func(pos journal.Pos, b event.Batch) error
	// Lead runs while this node holds the lease, once it has applied the
	// stream up to its own term's first message. Its ctx ends when the
	// lease is lost or may expire soon; Lead must then return within
	// StopMargin (stop the sources). It may be called again later.
	Lead func(ctx context.Context)
	// OnDurable is told, per source, the highest ticket of the leader's
	// batches that the stream has stored: acknowledgements and cursors
	// follow it, as with the journal.
	OnDurable journal.OnDurable
}

// Node is one replica's membership of the cluster.
type Node struct {
	o   Options
	log *slog.Logger

	streamName, subject string
	markers             string // the subject of the terms' first messages
	leaseBucket         string
	nodesBucket         string
	stateBucket         string

	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream
	lease   jetstream.KeyValue
	nodesKV jetstream.KeyValue
	stateKV jetstream.KeyValue
	ready   chan struct{} // closed once connected and set up

	openMu    sync.Mutex
	opened    bool
	closeOnce sync.Once

	applied   atomic.Uint64
	connected atomic.Bool
	gaps      atomic.Uint64 // messages the stream dropped before this node applied them
	fenced    atomic.Uint64 // former leaders' messages dropped
	corrupt   atomic.Uint64 // unreadable messages skipped

	// mu guards the lease and the status.
	mu          sync.Mutex
	leading     bool      // a lead session runs (or is starting)
	term        uint64    // the lease's creation revision while leading
	rev         uint64    // the lease's current revision
	validUntil  time.Time // monotonic: stop publishing from here (t0+TTL-StopMargin)
	firstFailed time.Time // the first unanswered renewal since the last success
	leader      string    // the leader as last read
	nodes       map[string]NodeStatus
	lastSeq     uint64 // the stream's last sequence as last read
	lagSeconds  float64
	disconnAt   time.Time
	caughtUp    bool          // applied the stream up to its end at least once
	appliedCh   chan struct{} // closed and replaced when applied moves, while waiting
	waiting     bool
	changes     int64
	problem     string

	// pubMu orders the leader's publishes with their acknowledgements.
	pubMu   sync.Mutex
	pending chan pendingAck
	// gen numbers lead sessions; poisoned is the session whose publish
	// failed: nothing it published later counts as durable.
	gen      atomic.Uint64
	poisoned atomic.Uint64
	restart  chan struct{}

	session  context.CancelFunc
	sessDone chan struct{}
	// stopped records when the last lead session ended (tests).
	stoppedAt atomic.Int64
	startedAt atomic.Int64
	hang      atomic.Bool // tests: skip renewals, as a leader stuck elsewhere
}

type pendingAck struct {
	f      jetstream.PubAckFuture
	source string
	ticket uint64
	gen    uint64
}

// New checks o and returns a node; nothing runs until Run.
func New(o Options) (*Node, error) {
	if o.Node == "" {
		return nil, errors.New("cluster: node name missing")
	}
	if o.Conn == nil && len(o.URLs) == 0 {
		return nil, errors.New("cluster: no NATS server")
	}
	if o.Apply == nil {
		return nil, errors.New("cluster: Apply missing")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if !prefixRE.MatchString(o.Prefix) {
		return nil, fmt.Errorf("cluster: prefix %q may contain only letters, digits, '-' and '_'", o.Prefix)
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.Renew <= 0 {
		o.Renew = o.LeaseTTL / 5
	}
	if o.StopMargin <= 0 {
		o.StopMargin = o.LeaseTTL * 3 / 10
	}
	if o.Renew*2 >= o.LeaseTTL-o.StopMargin {
		return nil, fmt.Errorf("cluster: the lease (%s) less the stop margin (%s) must allow two renewals (every %s)", o.LeaseTTL, o.StopMargin, o.Renew)
	}
	if o.MaxLag <= 0 {
		o.MaxLag = DefaultMaxLag
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Lead == nil {
		o.Lead = func(ctx context.Context) { <-ctx.Done() }
	}
	n := &Node{o: o, log: o.Logger.With("node", o.Node), nodes: map[string]NodeStatus{},
		streamName: o.Prefix + "-events", subject: o.Prefix + ".events", markers: o.Prefix + ".terms",
		leaseBucket: o.Prefix + "-lease", nodesBucket: o.Prefix + "-nodes", stateBucket: o.Prefix + "-state",
		ready: make(chan struct{}), appliedCh: make(chan struct{}), pending: make(chan pendingAck, maxPendingAcks), restart: make(chan struct{}, 1)}
	n.applied.Store(uint64(o.From))
	return n, nil
}

// Name is this node's name.
func (n *Node) Name() string { return n.o.Node }

// Open connects and sets up the stream and buckets, retrying until ctx
// ends; then State answers. Run calls it when the caller has not.
func (n *Node) Open(ctx context.Context) error {
	n.openMu.Lock()
	defer n.openMu.Unlock()
	if n.opened {
		return nil
	}
	if n.nc == nil {
		if err := n.connect(); err != nil {
			return err
		}
	}
	if !n.setup(ctx) {
		return fmt.Errorf("failed to set up the cluster's stream and buckets on NATS: %s", n.Status().Problem)
	}
	n.opened = true
	close(n.ready)
	return nil
}

// Close closes the NATS connection (Run does on its way out).
func (n *Node) Close() {
	n.closeOnce.Do(func() {
		if n.nc != nil && n.o.Conn == nil {
			_ = n.nc.Drain()
		}
	})
}

// Run sets up (Open) and runs the consumer, the lease and the node's
// status until ctx ends. On the way out it stops a lead session, waits for
// what it published to be stored and gives the lease up, so another node
// takes over at once. Everything it started has ended when it returns.
func (n *Node) Run(ctx context.Context) error {
	defer n.Close()
	if err := n.Open(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() { n.consume(ctx) })
	wg.Go(func() { n.acks(ctx) })
	wg.Go(func() { n.report(ctx) })
	n.leaseLoop(ctx) // returns after the lead session ended and the lease was given up
	wg.Wait()
	return nil
}

// connect opens the NATS connection; a server that is not there yet is
// retried in the background.
func (n *Node) connect() error {
	if n.o.Conn != nil {
		n.nc = n.o.Conn
		n.connected.Store(n.nc.IsConnected())
		return nil
	}
	opts := []nats.Option{nats.Name("wallboard " + n.o.Node), nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond), nats.RetryOnFailedConnect(true), nats.Timeout(2 * time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { n.setConnected(false, err) }),
		nats.ReconnectHandler(func(*nats.Conn) { n.setConnected(true, nil) }),
		nats.ConnectHandler(func(*nats.Conn) { n.setConnected(true, nil) }),
	}
	if n.o.Credentials != "" {
		opts = append(opts, nats.UserCredentials(n.o.Credentials))
	}
	nc, err := nats.Connect(strings.Join(n.o.URLs, ","), opts...)
	if err != nil {
		return fmt.Errorf("failed to connect to NATS: %w", err)
	}
	n.nc = nc
	n.connected.Store(nc.IsConnected())
	if !nc.IsConnected() {
		n.mu.Lock()
		n.disconnAt = time.Now()
		n.mu.Unlock()
	}
	return nil
}

func (n *Node) setConnected(up bool, err error) {
	n.connected.Store(up)
	n.mu.Lock()
	defer n.mu.Unlock()
	if up {
		n.disconnAt = time.Time{}
		n.log.Info("connected to NATS")
		return
	}
	if n.disconnAt.IsZero() {
		n.disconnAt = time.Now()
	}
	if err != nil {
		n.log.Warn("disconnected from NATS", "error", err)
	}
}

// setup creates (or updates) the stream and the buckets, retrying every
// second until it succeeds or ctx ends (false).
func (n *Node) setup(ctx context.Context) bool {
	logged := ""
	for {
		err := n.trySetup(ctx)
		if err == nil {
			n.setProblem("")
			return true
		}
		if msg := err.Error(); msg != logged {
			n.log.Error("cluster: failed to set up the stream and buckets; retrying", "error", err)
			logged = msg
		}
		n.setProblem(err.Error())
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
		}
	}
}

func (n *Node) trySetup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Acknowledgements arrive in a millisecond or so; a burst may hold
	// many outstanding, and an ack that never comes fails the publish
	// (the sources then restart from what the stream holds).
	js, err := jetstream.New(n.nc, jetstream.WithPublishAsyncMaxPending(maxPendingAcks), jetstream.WithPublishAsyncTimeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("failed to open JetStream: %w", err)
	}
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: n.streamName, Subjects: []string{n.subject, n.markers},
		Storage: jetstream.FileStorage, Replicas: n.o.Replicas, MaxAge: n.o.Retention,
		Duplicates: min(DefaultDuplicates, n.o.Retention), Discard: jetstream.DiscardOld,
		Description: "wallboard: normalized vendor events, applied in order by every replica"})
	if err != nil {
		return fmt.Errorf("failed to create stream %s: %w", n.streamName, err)
	}
	lease, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: n.leaseBucket, TTL: n.o.LeaseTTL,
		History: 1, Storage: jetstream.FileStorage, Replicas: n.o.Replicas, Description: "wallboard: the leader's lease"})
	if err != nil {
		return fmt.Errorf("failed to create bucket %s: %w", n.leaseBucket, err)
	}
	nodes, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: n.nodesBucket, TTL: nodesTTL,
		History: 1, Storage: jetstream.FileStorage, Replicas: n.o.Replicas, Description: "wallboard: replicas and what they applied"})
	if err != nil {
		return fmt.Errorf("failed to create bucket %s: %w", n.nodesBucket, err)
	}
	state, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: n.stateBucket,
		History: 1, Storage: jetstream.FileStorage, Replicas: n.o.Replicas, Description: "wallboard: the sources' subscription ids"})
	if err != nil {
		return fmt.Errorf("failed to create bucket %s: %w", n.stateBucket, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("failed to read stream %s: %w", n.streamName, err)
	}
	if from := uint64(n.o.From); info.State.LastSeq < from {
		n.log.Warn("cluster: this replica's snapshot is ahead of the stream (was the stream deleted?); it waits for the stream to reach it",
			"snapshot", from, "stream_last", info.State.LastSeq)
	}
	n.js, n.stream, n.lease, n.nodesKV, n.stateKV = js, st, lease, nodes, state
	n.mu.Lock()
	n.lastSeq = info.State.LastSeq
	n.mu.Unlock()
	return nil
}

func (n *Node) setProblem(p string) {
	n.mu.Lock()
	n.problem = p
	n.mu.Unlock()
}

// Applied is the position of the last stream message this node applied.
func (n *Node) Applied() journal.Pos { return journal.Pos(n.applied.Load()) }

// Leader reports whether this node leads now (its lease is valid).
func (n *Node) Leader() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leadingNow(time.Now())
}

func (n *Node) leadingNow(now time.Time) bool {
	return n.leading && n.term != 0 && now.Before(n.validUntil)
}
