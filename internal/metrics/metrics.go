// Package metrics is wallboard's Prometheus face. Counters that other parts
// already keep (sources' Stats, the hub's Stats and Screens) are read at
// scrape time through small functions, so no package needs to know about
// Prometheus; what only exists as a moment (an apply, a flush, an event
// reaching the model) is observed here through hooks.
package metrics

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wallboard/wallboard/internal/alert"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/hub"
	"github.com/wallboard/wallboard/internal/source"
)

// Statuses are the source statuses, each a series of wallboard_source_status.
var Statuses = []event.Status{event.StatusConnecting, event.StatusLive, event.StatusDegraded, event.StatusFailed}

// Inputs are where the scrape-time figures come from. Nil fields are left out.
type Inputs struct {
	Sources func() []source.Stats
	Hub     func() hub.Stats
	Screens func() []hub.Screen
	// Boards lists every board, so boards without screens show 0.
	Boards func() []string
	// Snapshot reports the last snapshot written and how many writes failed.
	Snapshot func() (lastSaved time.Time, failures int64)
	// Journal reports the journal's bytes on disk, its commits that
	// failed, and whether it is failing now (acknowledgements held back).
	Journal func() (bytes int64, failures int64, failing bool)
	// Alerts reports the alert webhook's counters; nil when no webhook is
	// configured (the series are then absent).
	Alerts func() alert.Stats
	// Cluster reports the replica's view of the cluster; nil without
	// cluster: (the series are then absent).
	Cluster func() ClusterStats
	// Version and Commit label wallboard_build_info.
	Version, Commit string
}

// Metrics is one registry with wallboard's metrics. Use New.
type Metrics struct {
	reg    *prometheus.Registry
	apply  prometheus.Histogram
	batch  prometheus.Histogram
	flush  prometheus.Histogram
	events *prometheus.CounterVec
}

// New registers wallboard's metrics and the Go runtime and process
// collectors in a registry of its own (never the global one, so tests can
// make as many as they like).
func New(in Inputs) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.apply = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "wallboard_model_apply_seconds",
		Help:    "Time the model took to apply one batch of events.",
		Buckets: []float64{.00001, .00005, .0001, .0005, .001, .005, .01, .05, .1, .5},
	})
	m.batch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "wallboard_model_apply_batch_events",
		Help:    "Events per batch the model applied.",
		Buckets: []float64{1, 2, 5, 10, 50, 100, 500, 1000},
	})
	m.flush = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "wallboard_flush_seconds",
		Help:    "Time to render one flush tick's delta for every board and queue it to the subscribers.",
		Buckets: []float64{.0001, .0005, .001, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wallboard_events_total",
		Help: "Normalized events sources sent to the model, per source and event kind.",
	}, []string{"source", "kind"})
	m.reg.MustRegister(m.apply, m.batch, m.flush, m.events,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&scrape{in: in})
	return m
}

// Handler serves the registry in the Prometheus text (or negotiated) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// ObserveApply records one batch the model applied: it matches
// model.Loop.OnApply.
func (m *Metrics) ObserveApply(n int, d time.Duration) {
	m.apply.Observe(d.Seconds())
	m.batch.Observe(float64(n))
}

// ObserveFlush records how long one delta took to reach the boards' topics.
func (m *Metrics) ObserveFlush(d time.Duration) { m.flush.Observe(d.Seconds()) }

// Sink wraps a source sink so that every event passing through is counted
// by source and kind.
func (m *Metrics) Sink(next source.Sink) source.Sink { return &countingSink{next: next, m: m} }

type countingSink struct {
	next source.Sink
	m    *Metrics
	mu   sync.Mutex
	ctrs map[[2]string]prometheus.Counter
}

func (s *countingSink) Publish(ctx context.Context, evs ...event.Event) error {
	if err := s.next.Publish(ctx, evs...); err != nil {
		return err
	}
	s.count(evs)
	return nil
}

// PublishBatch passes a source's batch (cursor, ticket) on and counts it.
func (s *countingSink) PublishBatch(ctx context.Context, b event.Batch) error {
	if err := source.PublishBatch(ctx, s.next, b); err != nil {
		return err
	}
	s.count(b.Events)
	return nil
}

func (s *countingSink) count(evs []event.Event) {
	s.mu.Lock()
	if s.ctrs == nil {
		s.ctrs = map[[2]string]prometheus.Counter{}
	}
	for _, e := range evs {
		k := [2]string{e.Source, e.Kind.String()}
		c := s.ctrs[k]
		if c == nil {
			c = s.m.events.WithLabelValues(k[0], k[1])
			s.ctrs[k] = c
		}
		c.Inc()
	}
	s.mu.Unlock()
}

// scrape turns the other packages' counters into metrics at scrape time.
type scrape struct{ in Inputs }

var (
	descMessages = prometheus.NewDesc("wallboard_source_messages_total",
		"Upstream messages received per source (events, heartbeats and frames wallboard does not use).", []string{"source", "type"}, nil)
	descErrors = prometheus.NewDesc("wallboard_source_errors_total",
		"Upstream frames rejected per source: malformed frames and decode errors, counted and skipped.", []string{"source", "type"}, nil)
	descReconnects = prometheus.NewDesc("wallboard_source_reconnects_total",
		"Reconnects per source.", []string{"source", "type"}, nil)
	descUnmapped = prometheus.NewDesc("wallboard_source_unmapped_total",
		"Vendor values no mapping knows (a state code, a reason code without a label, an event type), per source and field; the values themselves are on /admin and in /api/v1/state.",
		[]string{"source", "type", "field"}, nil)
	descUp = prometheus.NewDesc("wallboard_source_up",
		"1 when the source is live, else 0.", []string{"source", "type"}, nil)
	descStatus = prometheus.NewDesc("wallboard_source_status",
		"The source's current status: 1 for the series of that status, 0 for the others.", []string{"source", "type", "status"}, nil)
	descLastMessage = prometheus.NewDesc("wallboard_source_last_message_timestamp_seconds",
		"When the source last received anything (Unix time); absent before the first message.", []string{"source", "type"}, nil)
	descSubscribers = prometheus.NewDesc("wallboard_subscribers",
		"Open event streams (screens), all boards.", nil, nil)
	descBoardSubscribers = prometheus.NewDesc("wallboard_board_subscribers",
		"Open event streams per board.", []string{"board"}, nil)
	descBehind = prometheus.NewDesc("wallboard_board_subscribers_behind_frames",
		"Frames published that the board's furthest-behind screen has not been sent yet.", []string{"board"}, nil)
	descCut = prometheus.NewDesc("wallboard_subscribers_cut_total",
		"Streams switched from the fast path to a full reset for lagging far behind (slow screens).", nil, nil)
	descTimeouts = prometheus.NewDesc("wallboard_subscribers_timed_out_total",
		"Streams closed because a write blocked past the write deadline (stalled screens).", nil, nil)
	descFrames = prometheus.NewDesc("wallboard_frames_total",
		"Frames published (once per board, not per subscriber).", nil, nil)
	descBytes = prometheus.NewDesc("wallboard_sent_bytes_total",
		"Bytes written to event streams.", nil, nil)
	descSnapshot = prometheus.NewDesc("wallboard_snapshot_last_saved_timestamp_seconds",
		"When the model's snapshot was last written to the state directory (Unix time).", nil, nil)
	descSnapshotFailures = prometheus.NewDesc("wallboard_snapshot_failures_total",
		"Snapshot writes that failed.", nil, nil)
	descJournalBytes = prometheus.NewDesc("wallboard_journal_bytes",
		"Bytes of the journal's segment files (what the next start replays after the snapshot).", nil, nil)
	descJournalFailures = prometheus.NewDesc("wallboard_journal_commit_failures_total",
		"Group commits of the journal that could not be written or synced.", nil, nil)
	descJournalFailing = prometheus.NewDesc("wallboard_journal_failing",
		"1 while the journal cannot write (disk full, I/O error): nothing newer is acknowledged upstream.", nil, nil)
	descAlerts = prometheus.NewDesc("wallboard_alert_notifications_total",
		"Alert webhook notifications by result: sent (the webhook answered 2xx), failed (every attempt failed), dropped (the send queue was full).",
		[]string{"result"}, nil)
	descBuild = prometheus.NewDesc("wallboard_build_info",
		"Always 1; the labels carry the version and commit.", []string{"version", "commit"}, nil)
)

func (s *scrape) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMessages, descErrors, descReconnects, descUnmapped, descUp, descStatus, descLastMessage,
		descSubscribers, descBoardSubscribers, descBehind, descCut, descTimeouts, descFrames, descBytes,
		descSnapshot, descSnapshotFailures, descJournalBytes, descJournalFailures, descJournalFailing, descAlerts, descBuild} {
		ch <- d
	}
	for _, d := range clusterDescs {
		ch <- d
	}
}

func (s *scrape) Collect(ch chan<- prometheus.Metric) {
	c := func(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, t, v, labels...)
	}
	c(descBuild, prometheus.GaugeValue, 1, s.in.Version, s.in.Commit)
	if s.in.Sources != nil {
		for _, st := range s.in.Sources() {
			c(descMessages, prometheus.CounterValue, float64(st.Messages), st.Name, st.Type)
			c(descErrors, prometheus.CounterValue, float64(st.Errors), st.Name, st.Type)
			c(descReconnects, prometheus.CounterValue, float64(st.Reconnects), st.Name, st.Type)
			for field, n := range st.UnmappedFields {
				c(descUnmapped, prometheus.CounterValue, float64(n), st.Name, st.Type, field)
			}
			c(descUp, prometheus.GaugeValue, b2f(st.Status == event.StatusLive), st.Name, st.Type)
			for _, status := range Statuses {
				c(descStatus, prometheus.GaugeValue, b2f(st.Status == status), st.Name, st.Type, string(status))
			}
			if !st.LastMessageAt.IsZero() {
				c(descLastMessage, prometheus.GaugeValue, float64(st.LastMessageAt.UnixNano())/1e9, st.Name, st.Type)
			}
		}
	}
	if s.in.Hub != nil {
		hs := s.in.Hub()
		c(descSubscribers, prometheus.GaugeValue, float64(hs.Subscribers))
		c(descCut, prometheus.CounterValue, float64(hs.Cut))
		c(descTimeouts, prometheus.CounterValue, float64(hs.Timeouts))
		c(descFrames, prometheus.CounterValue, float64(hs.Frames))
		c(descBytes, prometheus.CounterValue, float64(hs.BytesSent))
	}
	if s.in.Screens != nil {
		per := map[string]int{}
		behind := map[string]uint64{}
		if s.in.Boards != nil {
			for _, b := range s.in.Boards() {
				per[b] = 0
				behind[b] = 0
			}
		}
		for _, sc := range s.in.Screens() {
			per[sc.Board]++
			behind[sc.Board] = max(behind[sc.Board], sc.Behind)
		}
		for b, n := range per {
			c(descBoardSubscribers, prometheus.GaugeValue, float64(n), b)
			c(descBehind, prometheus.GaugeValue, float64(behind[b]), b)
		}
	}
	if s.in.Snapshot != nil {
		last, failures := s.in.Snapshot()
		if !last.IsZero() {
			c(descSnapshot, prometheus.GaugeValue, float64(last.UnixNano())/1e9)
		}
		c(descSnapshotFailures, prometheus.CounterValue, float64(failures))
	}
	if s.in.Journal != nil {
		bytes, failures, failing := s.in.Journal()
		c(descJournalBytes, prometheus.GaugeValue, float64(bytes))
		c(descJournalFailures, prometheus.CounterValue, float64(failures))
		c(descJournalFailing, prometheus.GaugeValue, b2f(failing))
	}
	if s.in.Alerts != nil {
		st := s.in.Alerts()
		c(descAlerts, prometheus.CounterValue, float64(st.Sent), "sent")
		c(descAlerts, prometheus.CounterValue, float64(st.Failed), "failed")
		c(descAlerts, prometheus.CounterValue, float64(st.Dropped), "dropped")
	}
	s.collectCluster(ch)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
