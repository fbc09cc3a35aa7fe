package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wallboard/wallboard/internal/board"
	"github.com/wallboard/wallboard/internal/journal"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/store"
	"github.com/wallboard/wallboard/server"
)

// snapshotKey is the model snapshot's file in the state directory.
const snapshotKey = "model.snapshot"

// snapshotter keeps the model's snapshot in the state directory: restored
// before the sources start, written every interval while the model changes,
// and once more after the model has stopped.
type snapshotter struct {
	dir      *store.Dir
	log      *slog.Logger
	interval time.Duration
	// covered, when set, is told the journal position of every snapshot
	// written (the journal drops what the snapshot holds).
	covered func(journal.Pos)

	mu        sync.Mutex
	last      []byte // what was written last, to skip writing the same again
	lastSaved time.Time
	restored  string
	aside     string // why the snapshot found at start was set aside
	writeErr  string // the last write's error, until a write succeeds
	failures  atomic.Int64
}

// restore loads the snapshot into m, which has not started, and returns
// what it restored (zero when nothing). A snapshot that cannot be used is
// reported, renamed aside and otherwise ignored: wallboard starts empty
// rather than not at all.
func (s *snapshotter) restore(m *model.Model, now time.Time) model.RestoreInfo {
	b, err := s.dir.Get(snapshotKey)
	if errors.Is(err, store.ErrNotFound) {
		s.setRestored("No snapshot to restore: started empty")
		return model.RestoreInfo{}
	}
	var info model.RestoreInfo
	if err == nil {
		info, err = m.Restore(b, now)
	}
	if err != nil {
		aside := s.setAside(now)
		s.log.Error("snapshot not used: starting empty", "error", err, "set_aside_as", aside)
		s.mu.Lock()
		s.aside = fmt.Sprintf("The snapshot could not be used (%v); it was set aside as %s and wallboard started empty.", err, aside)
		s.restored = "Started empty"
		s.mu.Unlock()
		return model.RestoreInfo{}
	}
	what := fmt.Sprintf("Restored the snapshot of %s: %d agents, %d queues, %d open contacts", info.Day, info.Agents, info.Queues, info.Contacts)
	if info.Counters {
		what += ", today's counters"
	} else {
		what += " (from an earlier day: today's counters start at zero)"
	}
	s.log.Info("snapshot restored", "day", info.Day, "agents", info.Agents, "queues", info.Queues, "contacts", info.Contacts, "counters", info.Counters)
	s.setRestored(what)
	s.mu.Lock()
	s.last = b
	s.mu.Unlock()
	return info
}

func (s *snapshotter) setRestored(what string) {
	s.mu.Lock()
	s.restored = what
	s.mu.Unlock()
}

// setAside renames the snapshot so that the next write does not replace the
// evidence, and returns the new name.
func (s *snapshotter) setAside(now time.Time) string {
	name := snapshotKey + ".bad-" + now.UTC().Format("20060102T150405.000Z")
	if err := os.Rename(filepath.Join(s.dir.Path(), snapshotKey), filepath.Join(s.dir.Path(), name)); err != nil {
		s.log.Error("failed to set the snapshot aside", "error", err)
		return "(not renamed: " + err.Error() + ")"
	}
	return name
}

// save writes st unless it is what was written last.
func (s *snapshotter) save(st model.State, now time.Time) error {
	b, err := st.Marshal()
	if err == nil {
		s.mu.Lock()
		same := bytes.Equal(b, s.last)
		s.mu.Unlock()
		if same {
			return nil
		}
		err = s.dir.Put(snapshotKey, b)
	}
	if err == nil && s.covered != nil {
		s.covered(st.Position())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.failures.Add(1)
		s.writeErr = "The last snapshot write failed: " + err.Error()
		return fmt.Errorf("failed to write the snapshot: %w", err)
	}
	s.last, s.lastSaved, s.writeErr = b, now, ""
	return nil
}

// run writes the snapshot every interval until ctx ends.
func (s *snapshotter) run(ctx context.Context, loop *model.Loop) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			st, err := loop.PersistState(ctx)
			if err != nil {
				return // the loop stopped: the final save follows
			}
			if err := s.save(st, time.Now()); err != nil {
				s.log.Error("snapshot", "error", err)
			}
		}
	}
}

// status is what the admin page and the metrics show.
func (s *snapshotter) status() server.SnapshotStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	problem := s.aside
	if s.writeErr != "" {
		problem = strings.TrimSpace(problem + " " + s.writeErr)
	}
	return server.SnapshotStatus{Interval: s.interval, LastSaved: s.lastSaved, Restored: s.restored, Problem: problem}
}

func (s *snapshotter) metricsStatus() (time.Time, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastSaved, s.failures.Load()
}

// boardIDs are the ids of the boards on screen (the file's and the
// database's).
func boardIDs(proj *board.Projector) []string {
	bs := proj.Boards()
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.Def.ID
	}
	return ids
}
