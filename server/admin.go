package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/metrics"
	"github.com/wallboard/wallboard/templates"
)

// Operations is what the admin page shows beyond sources and screens.
type Operations struct {
	Version, Commit string
	StateDir        string
	Snapshot        SnapshotStatus
	Journal         JournalStatus
}

// JournalStatus is the state of the journal of applied events.
type JournalStatus struct {
	Enabled  bool
	Durable  uint64
	Segments int
	Bytes    int64
	Replayed string // what the last start replayed, in words
	Problem  string // why nothing is acknowledged upstream (disk full, …)
}

// SnapshotStatus is the state of the model's snapshot in the state
// directory.
type SnapshotStatus struct {
	Interval  time.Duration
	LastSaved time.Time
	Restored  string // what the last start restored, in words
	Problem   string // a snapshot set aside, or a write that failed
}

// canAdmin reports whether the request may see the admin page. It is the one
// place that decides it: a signed-in admin (or the demo's loopback visitor).
func (s *Server) canAdmin(r *http.Request) bool {
	return s.isAdmin(r)
}

func (s *Server) handleAdmin(c echo.Context) error {
	if !s.canAdmin(c.Request()) {
		if s.viewer(c.Request()) {
			return ErrForbidden // signed in, not an admin
		}
		return ErrUnauthorized
	}
	now := time.Now()
	v := templates.AdminView{Started: s.started, Now: now, Assets: s.templAssets(), Version: "dev", Commit: "unknown", StateDir: s.cfg.StateDir,
		Lang: viewerLang(c.Request())}
	if s.opts.Operations != nil {
		op := s.opts.Operations()
		v.Version, v.Commit, v.StateDir = op.Version, op.Commit, op.StateDir
		v.Snapshot = templates.AdminSnapshot{Interval: op.Snapshot.Interval.String(), LastSaved: op.Snapshot.LastSaved,
			Restored: op.Snapshot.Restored, Problem: op.Snapshot.Problem}
		v.Journal = templates.AdminJournal{Enabled: op.Journal.Enabled, Durable: op.Journal.Durable, Segments: op.Journal.Segments,
			Bytes: op.Journal.Bytes, Replayed: op.Journal.Replayed, Problem: op.Journal.Problem}
	}
	if s.opts.Cluster != nil {
		cs := s.opts.Cluster()
		v.Cluster = &templates.AdminCluster{Node: cs.Node, Leader: cs.Leader, Applied: cs.Applied, StreamLast: cs.StreamLast,
			LagSeconds: cs.LagSeconds, Ready: cs.Ready, Why: cs.Why}
		for _, n := range cs.Nodes {
			v.Cluster.Nodes = append(v.Cluster.Nodes, templates.AdminClusterNode{Name: n.Name, Leader: n.Leader, LastSeen: n.LastSeenAt, Applied: n.Applied})
		}
	}
	for _, st := range s.opts.Sources() {
		v.Sources = append(v.Sources, templates.AdminSource{Name: st.Name, Type: st.Type, Status: string(st.Status), Detail: st.Detail,
			LastMessage: st.LastMessageAt, Messages: st.Messages, Errors: st.Errors, Reconnects: st.Reconnects, LastError: st.LastError,
			UnmappedOverflow: st.UnmappedOverflow})
		for _, u := range st.Unmapped {
			v.Unmapped = append(v.Unmapped, templates.AdminUnmapped{Source: st.Name, Field: u.Field, Value: u.Value,
				ConfigKey: u.ConfigKey, Count: u.Count, LastSeen: u.LastSeen, Example: u.Example})
		}
	}
	for _, sc := range s.opts.Streams.Screens() {
		v.Screens = append(v.Screens, templates.AdminScreen{Board: sc.Board, Kiosk: sc.Info.Kiosk, Remote: sc.Info.Remote, Since: sc.Since,
			LastWrite: sc.LastWrite, Behind: sc.Behind, Pending: sc.Pending, Resetting: sc.Resetting})
	}
	v.Sound = s.sound.list()  // console.go
	v.Captures = s.captures() // captures.go
	return render(c, http.StatusOK, templates.AdminPage(v))
}

// metricsHandler is the Prometheus handler the caller passed, or one over
// the server's own inputs (tests that build a bare server).
func (s *Server) metricsHandler() http.Handler {
	if s.opts.Metrics != nil {
		return s.opts.Metrics
	}
	var boards []string
	for _, b := range s.cfg.Boards {
		boards = append(boards, b.ID)
	}
	return metrics.New(metrics.Inputs{Sources: s.opts.Sources, Hub: s.opts.Streams.Stats, Screens: s.opts.Streams.Screens,
		Boards: func() []string { return boards }}).Handler()
}
