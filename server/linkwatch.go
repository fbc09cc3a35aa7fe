package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/wallboard/wallboard/internal/database"
)

// A TV link kept in the database lives as long as the link: revoking it in
// this process ends its open streams at once (endLink); a revocation made
// by another process sharing the database is noticed by a round every
// linkRecheckEvery, which runs only while such streams are open (one query
// for all of them). Where each link was last seen is kept in memory and
// written at most once a linkTouchEvery, never while a TV waits.

const (
	linkRecheckEvery = time.Second
	linkTouchEvery   = time.Minute
)

// linkStream is one open stream of a database link.
type linkStream struct {
	id   int64
	from string
	end  func()
}

// linkWatch holds the open streams of database links and their pending
// visits.
type linkWatch struct {
	every, touchEvery time.Duration
	store             LinkStore // nil: no database links
	log               *slog.Logger

	mu     sync.Mutex
	byID   map[int64]map[*linkStream]struct{}
	visits map[int64]database.LinkVisit // not yet written
	round  *time.Timer                  // armed while a stream is open
	flush  *time.Timer                  // armed while a visit waits
	closed bool
}

// seen records a visit of link id from an address; it is written later.
func (w *linkWatch) seen(id int64, from string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if w.visits == nil {
		w.visits = map[int64]database.LinkVisit{}
	}
	w.visits[id] = database.LinkVisit{ID: id, At: at, From: from}
	if w.flush == nil {
		w.flush = time.AfterFunc(w.touchEvery, w.writeVisits)
	}
}

// writeVisits writes the pending visits in one transaction, and counts the
// open streams as seen now, so a TV on all day shows as seen.
func (w *linkWatch) writeVisits() {
	now := time.Now()
	w.mu.Lock()
	for id, set := range w.byID {
		for o := range set {
			if w.visits == nil {
				w.visits = map[int64]database.LinkVisit{}
			}
			w.visits[id] = database.LinkVisit{ID: id, At: now, From: o.from}
			break
		}
	}
	batch := make([]database.LinkVisit, 0, len(w.visits))
	for _, v := range w.visits {
		batch = append(batch, v)
	}
	w.visits = nil
	w.flush = nil
	if len(w.byID) > 0 && !w.closed {
		w.flush = time.AfterFunc(w.touchEvery, w.writeVisits)
	}
	w.mu.Unlock()
	if len(batch) == 0 || w.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.store.TouchLinks(ctx, batch); err != nil {
		w.log.Warn("failed to record where TV links were seen", "error", err)
	}
}

// bind returns the hub's Bind for a stream of link id opened from from.
func (w *linkWatch) bind(id int64, from string) func(end func()) func() {
	return func(end func()) func() {
		o := &linkStream{id: id, from: from, end: end}
		w.mu.Lock()
		if w.byID == nil {
			w.byID = map[int64]map[*linkStream]struct{}{}
		}
		set := w.byID[id]
		if set == nil {
			set = map[*linkStream]struct{}{}
			w.byID[id] = set
		}
		set[o] = struct{}{}
		if w.round == nil && !w.closed {
			w.round = time.AfterFunc(w.every, w.recheck)
		}
		w.mu.Unlock()
		return func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			delete(w.byID[id], o)
			if len(w.byID[id]) == 0 {
				delete(w.byID, id)
			}
		}
	}
}

// endLink ends every open stream of link id now (it was revoked).
func (w *linkWatch) endLink(id int64) {
	w.mu.Lock()
	var ends []func()
	for o := range w.byID[id] {
		ends = append(ends, o.end)
	}
	w.mu.Unlock()
	for _, end := range ends {
		end() // outside w.mu: ending a stream calls its unbind
	}
}

// recheck ends the streams of links revoked elsewhere, then arms the next
// round while streams remain.
func (w *linkWatch) recheck() {
	w.mu.Lock()
	ids := make([]int64, 0, len(w.byID))
	for id := range w.byID {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	if len(ids) > 0 && w.store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		gone, err := w.store.RevokedLinks(ctx, ids)
		cancel()
		if err != nil {
			w.log.Warn("failed to check TV links", "error", err)
		}
		for _, id := range gone {
			w.endLink(id)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.byID) > 0 && !w.closed {
		w.round.Reset(w.every)
	} else {
		w.round = nil
	}
}

// close stops the timers and writes the pending visits.
func (w *linkWatch) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	for _, t := range []*time.Timer{w.round, w.flush} {
		if t != nil {
			t.Stop()
		}
	}
	w.mu.Unlock()
	w.writeVisits()
}
