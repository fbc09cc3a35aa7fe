package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/journal"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/store"
	"github.com/wallboard/wallboard/server"
)

// journalDir is the journal's directory in the state directory.
const journalDir = "journal"

// durability is the journal's wiring: it replays the journal into the
// restored model, commits once per flush tick, and tells each source which
// of its batches are durable, so that acknowledgements and cursors follow
// what survives a kill -9.
type durability struct {
	j   *journal.File
	log *slog.Logger
	// durable: each source's notifications, by source name; fixed before
	// anything runs, so the commit callback reads it without a lock.
	durable map[string]*source.Durable

	pos     journal.Pos       // where the restored model stands
	off     bool              // nothing is appended (benchNoJournal)
	cursors map[string]string // each source's cursor as of pos

	mu        sync.Mutex
	replayed  string
	lastErr   string
	closeOnce sync.Once
	failures  atomic.Int64
}

// openJournal opens the journal in the state directory and replays into m,
// which holds the snapshot described by info, every record after the
// snapshot's position.
func openJournal(st *store.Dir, m *model.Model, info model.RestoreInfo, names []string, log *slog.Logger, now time.Time) (*durability, error) {
	d := &durability{log: log, durable: map[string]*source.Durable{}, cursors: map[string]string{}}
	for _, n := range names {
		d.durable[n] = source.NewDurable()
	}
	for k, v := range info.Cursors {
		d.cursors[k] = v
	}
	j, err := journal.Open(filepath.Join(st.Path(), journalDir), journal.Options{Logger: log, OnDurable: d.onDurable})
	if err != nil {
		return nil, err
	}
	d.j = j
	start := time.Now()
	ri, err := j.Replay(info.Journal, func(_ journal.Pos, b *event.Batch) error {
		for i := range b.Events {
			m.Apply(b.Events[i], now)
		}
		if b.Cursor != "" {
			d.cursors[b.Source] = b.Cursor
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to replay the journal: %w", err)
	}
	d.pos = max(info.Journal, ri.Last)
	what := fmt.Sprintf("Replayed %d event(s) in %d record(s) of the journal after the snapshot", ri.Events, ri.Records)
	if ri.Dropped != "" {
		what += "; cut off an unreadable tail (" + ri.Dropped + ")"
	}
	d.replayed = what
	log.Info("journal replayed", "records", ri.Records, "events", ri.Events, "from", uint64(info.Journal), "to", uint64(d.pos),
		"took", time.Since(start).Round(time.Millisecond), "dropped", ri.Dropped)
	return d, nil
}

// noJournalEnv names the environment variable that turns the journal off
// for measuring its cost (the load tool's -no-journal); never in service.
const noJournalEnv = "WALLBOARD_BENCH_NO_JOURNAL"

// benchNoJournal reports whether noJournalEnv asks for no journal: batches
// are then applied without being appended, and sources acknowledge at once.
func benchNoJournal() bool { return os.Getenv(noJournalEnv) == "1" }

// resumer is a source that resumes from a cursor of its own (the Pulsar
// reader): it starts where the restored model stands.
type resumer interface{ Resume(cursor string) }

// resumeFromJournal hands src the cursor the journal and the snapshot
// restored for it ("" when none).
func resumeFromJournal(src source.Source, cursor string) {
	if r, ok := src.(resumer); ok {
		r.Resume(cursor)
	}
}

// onDurable runs on the committing goroutine after each group commit.
func (d *durability) onDurable(src string, ticket uint64) {
	if du := d.durable[src]; du != nil {
		du.Advance(ticket)
	}
}

// run commits every tick until ctx ends.
func (d *durability) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := d.j.Commit()
			msg := ""
			if err != nil {
				msg = err.Error()
				d.failures.Add(1)
			}
			d.mu.Lock()
			changed := msg != d.lastErr
			d.lastErr = msg
			d.mu.Unlock()
			switch {
			case !changed:
			case err != nil: // logged once per kind of failure, not every tick
				d.log.Error("journal commit failed: nothing newer is acknowledged upstream", "error", err)
			default:
				d.log.Info("journal writes again")
			}
		}
	}
}

// covered tells the journal that a snapshot through pos is written.
func (d *durability) covered(pos journal.Pos) { d.j.Covered(pos) }

// close commits what is pending and closes the journal; it may be called
// again (serve defers it for its early returns).
func (d *durability) close() {
	d.closeOnce.Do(func() {
		if err := d.j.Close(); err != nil {
			d.log.Error("journal: the last commit failed", "error", err)
		}
	})
}

// metricsStatus is what /metrics shows.
func (d *durability) metricsStatus() (int64, int64, bool) {
	st := d.j.Status()
	return st.Bytes, d.failures.Load(), st.Problem != ""
}

// status is what /admin and /readyz show.
func (d *durability) status() server.JournalStatus {
	st := d.j.Status()
	d.mu.Lock()
	defer d.mu.Unlock()
	return server.JournalStatus{Enabled: !d.off, Durable: uint64(st.Durable), Segments: st.Segments, Bytes: st.Bytes,
		Replayed: d.replayed, Problem: st.Problem}
}
