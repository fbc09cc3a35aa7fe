// Package board projects the model onto the hub's streams: each configured
// board, its name-hiding variants for kiosk screens (privacy.go) and its
// supervisor console (internal/console). Each stream's fragment is rendered
// once per flush, whatever the number of screens, and published to the
// stream's hub topic.
package board

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/console"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/projection"
	"github.com/wallboard/wallboard/templates"
)

// Publisher is where a stream's fragments go (a hub topic).
type Publisher interface {
	Publish(data []byte)
}

// renderer renders one stream. Fragment is called by the projector's
// goroutine only (Apply), after the delta is on the floor: it may keep what
// it last sent without a lock. Reset is called from any goroutine under the
// floor's read lock and must not touch what Fragment keeps.
type renderer interface {
	Fragment(d model.Delta, now time.Time) []byte
	Reset(now time.Time) []byte
}

// Board is one stream the projector renders: a configured board, one of its
// name-hiding variants, or its console.
type Board struct {
	Def config.Board
	Gen string // hash of the definition: pages from an older one are reset
	id  string // the hub topic's id
	pub Publisher
	r   renderer
}

// StreamID is the id of b's hub topic.
func (b *Board) StreamID() string { return b.id }

// Projector keeps the latest copy of every entity (the floor, fed by model
// deltas) and renders every stream from it.
//
// One goroutine owns the projection: the one that calls Apply (Run). It
// alone writes the floor (under the floor's write lock), each stream's
// record of what it last sent (no lock: nothing else reads it) and the set
// of boards (boards made, changed or removed while running reach it through
// PutBoard and RemoveBoard, which Run applies between deltas). The set is
// replaced whole and read through an atomic pointer, so page loads, resets
// and the alert watcher always see one consistent set; they read the floor
// under its read lock and get copies (views, rendered bytes), never the
// streams' records. Apply panics when called concurrently, so a second
// owner cannot creep in unnoticed.
type Projector struct {
	now     func() time.Time
	log     *slog.Logger
	floor   *projection.Floor
	set     atomic.Pointer[boardSet]
	console *console.Views
	tickers tickers // ticker.go
	brand   config.Branding
	changes chan change
	// allNames: every board has every name mode's variant (AllNameModes).
	allNames bool

	// OnFlush, when set before Run, is called after each delta with how
	// long its fragments took to render and publish.
	OnFlush func(time.Duration)
	// Open, when set before Run, makes (or finds) the topic of a stream
	// that appears while running: a board made or changed through the API
	// or the editor. Without it such streams are rendered to no one.
	Open func(b *Board) Topic

	applying atomic.Bool
}

// Topic is a stream's hub topic as the projector drives it when boards
// change while running (hub.Topic).
type Topic interface {
	Publisher
	// Regenerate resets every screen of the topic under a new generation.
	Regenerate(gen string)
	// EndAfter ends the topic's open streams after d.
	EndAfter(d time.Duration)
}

// boardSet is the boards on screen at one time; the owner replaces it whole.
type boardSet struct {
	defs    []config.Board // the file's boards, then the database's by id
	boards  []*Board       // one per def, in the same order
	streams []*Board       // the boards, then their variants and consoles
	byID    map[string]*Board
	file    int // how many of defs are the file's
}

// Options configure a Projector.
type Options struct {
	Location *time.Location
	Now      func() time.Time
	Logger   *slog.Logger
	// Stored are the boards kept in the database, shown after the file's.
	Stored []config.Board
	// AllNameModes gives every board its initials and none variants, not
	// only those its file's kiosk links use: TV links made at run time
	// (kept in the database) may hide names on any board.
	AllNameModes bool
}

// NewProjector returns a projector for the boards and sources of cfg (and
// o.Stored). Call Attach for each stream before Run.
func NewProjector(cfg *config.Config, o Options) *Projector {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Projector{now: o.Now, log: o.Logger, floor: projection.New(cfg, o.Location), brand: cfg.Branding,
		changes: make(chan change), allNames: o.AllNameModes}
	defs := append(slices.Clone(cfg.Boards), o.Stored...)
	set := p.build(defs, len(cfg.Boards), nil)
	p.set.Store(set)
	p.console = console.New(set.defs, p.floor, o.Now)
	return p
}

// build makes the set of boards defs (the first file of them the file's).
// The streams of old whose definition is unchanged are kept as they are,
// with what they last sent and their topic.
func (p *Projector) build(defs []config.Board, file int, old *boardSet) *boardSet {
	set := &boardSet{defs: defs, file: file, byID: map[string]*Board{}}
	keep := func(b *Board) *Board {
		if old != nil {
			if o := old.byID[b.id]; o != nil && o.Gen == b.Gen {
				b = o
			}
		}
		set.byID[b.id] = b
		return b
	}
	var extra []*Board
	for _, def := range defs {
		set.boards = append(set.boards, keep(p.newBoard(def, def.ID, generation(def), "")))
		for _, v := range p.privacyVariants(defs, def, p.allNames) {
			extra = append(extra, keep(v))
		}
		for _, lang := range append([]string{def.Lang}, def.Langs...) {
			// A console in each of the board's languages (the viewer's
			// Accept-Language picks one; server/console.go).
			id := console.LangStreamID(def.ID, lang, def.Lang)
			if set.byID[id] != nil {
				continue
			}
			c := &Board{Def: def, Gen: generation(def) + "c", id: id}
			c.Def.Lang = lang
			c.r = console.NewStream(&c.Def, p.floor, p.log)
			extra = append(extra, keep(c))
		}
	}
	set.streams = append(slices.Clone(set.boards), extra...)
	return set
}

// newBoard returns a board stream of def with id, showing names as mode.
func (p *Projector) newBoard(def config.Board, id, gen, mode string) *Board {
	b := &Board{Def: def, Gen: gen, id: id}
	b.r = &view{def: &b.Def, nameMode: mode, floor: p.floor, log: p.log}
	return b
}

// generation hashes a board's definition (without its kiosk tokens).
func generation(def config.Board) string {
	def.Kiosk = nil
	sum := sha256.Sum256(fmt.Appendf(nil, "%#v", def))
	return hex.EncodeToString(sum[:4])
}

// Boards returns the boards on screen: the file's in configuration order,
// then the database's by id.
func (p *Projector) Boards() []*Board { return p.set.Load().boards }

// Streams returns every stream: the boards, their name-hiding variants and
// their consoles. Each needs its own hub topic.
func (p *Projector) Streams() []*Board { return p.set.Load().streams }

// Board returns the definition of board id (the file's or the database's).
func (p *Projector) Board(id string) (*config.Board, bool) {
	b := p.set.Load().byID[id]
	if b == nil || b.id != b.Def.ID {
		return nil, false
	}
	def := b.Def
	return &def, true
}

// HasStream reports whether stream id is on screen now (a board, one of
// its variants or its console).
func (p *Projector) HasStream(id string) bool { return p.set.Load().byID[id] != nil }

// BoardDefs returns the definitions of the boards on screen, in order.
func (p *Projector) BoardDefs() []config.Board { return p.set.Load().defs }

// Console answers the console's page loads.
func (p *Projector) Console() *console.Views { return p.console }

// Attach sets where stream id's fragments go. Call it before Run.
func (p *Projector) Attach(id string, pub Publisher) {
	if b := p.set.Load().byID[id]; b != nil {
		b.pub = pub
	}
}

// change is a board put on screen or taken off, for the owner to apply.
type change struct {
	put    *config.Board
	remove string
	done   chan error
}

// ErrFileBoard is returned for a change to a board of the configuration
// file: those change with the file.
var ErrFileBoard = errors.New("the board is defined in the configuration file")

// PutBoard shows def (a board of the database, made or changed) on its
// screens: Run applies it between two deltas, so the board's screens get
// it within a flush tick (a reset under a new generation, which reloads
// their pages); no other screen is touched. It returns once applied, or
// when ctx ends first.
func (p *Projector) PutBoard(ctx context.Context, def config.Board) error {
	return p.ask(ctx, change{put: &def})
}

// RemoveBoard takes board id (of the database) off the screens: they show
// "this board was removed" and their streams end.
func (p *Projector) RemoveBoard(ctx context.Context, id string) error {
	return p.ask(ctx, change{remove: id})
}

func (p *Projector) ask(ctx context.Context, c change) error {
	c.done = make(chan error, 1)
	select {
	case p.changes <- c:
	case <-ctx.Done():
		return fmt.Errorf("failed to change the boards on screen: %w", ctx.Err())
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("failed to change the boards on screen: %w", ctx.Err())
	}
}

// removedFor is how long a removed board's screens keep their stream after
// the frame that says so.
const removedFor = 2 * time.Second

// applyChange replaces the set with c applied. Only the owner calls it.
func (p *Projector) applyChange(c change) error {
	old := p.set.Load()
	id := c.remove
	if c.put != nil {
		id = c.put.ID
	}
	i := slices.IndexFunc(old.defs, func(d config.Board) bool { return d.ID == id })
	if i >= 0 && i < old.file {
		return fmt.Errorf("board %s: %w", id, ErrFileBoard)
	}
	defs := slices.Clone(old.defs)
	if i >= 0 {
		defs = slices.Delete(defs, i, i+1)
	}
	if c.put != nil {
		defs = append(defs, *c.put)
		slices.SortStableFunc(defs[old.file:], func(a, b config.Board) int { return strings.Compare(a.ID, b.ID) })
	}
	next := p.build(defs, old.file, old)
	// New streams get their topic before the set is seen (SetTicker
	// publishes from other goroutines), and their reset after, so that it
	// renders the new definition.
	var opened []*Board
	for _, b := range next.streams {
		if old.byID[b.id] == b || p.Open == nil {
			continue
		}
		b.pub = p.Open(b)
		opened = append(opened, b)
	}
	p.set.Store(next)
	p.console.SetBoards(next.defs)
	for _, b := range opened {
		if t, ok := b.pub.(Topic); ok {
			t.Regenerate(b.Gen)
		}
	}
	for sid, b := range old.byID {
		if next.byID[sid] != nil {
			continue
		}
		t, ok := b.pub.(Topic)
		if !ok {
			continue
		}
		if next.byID[b.Def.ID] != nil {
			// A variant the board no longer has (a language taken off):
			// its pages reconnect to the board's own stream.
			t.EndAfter(0)
			continue
		}
		t.Publish(removedFragment(b.Def.Lang))
		t.EndAfter(removedFor)
	}
	p.log.Info("boards on screen changed", "board", id, "removed", c.put == nil, "boards", len(next.boards))
	return nil
}

// Run applies deltas until ctx ends or deltas closes, calling OnFlush after
// each. The goroutine that calls Run owns the projection.
func (p *Projector) Run(ctx context.Context, deltas <-chan model.Delta) {
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-p.changes:
			c.done <- p.applyChange(c)
		case d, ok := <-deltas:
			if !ok {
				return
			}
			if p.OnFlush == nil {
				p.Apply(d)
				continue
			}
			start := time.Now()
			p.Apply(d)
			p.OnFlush(time.Since(start))
		}
	}
}

// Apply takes one delta in and publishes each affected stream's fragment.
// Only the projection's owner calls it (see Projector).
func (p *Projector) Apply(d model.Delta) {
	if !p.applying.CompareAndSwap(false, true) {
		panic("board: Projector.Apply called concurrently: the projection has one owner")
	}
	defer p.applying.Store(false)
	p.floor.Put(d)
	// The floor is read without a lock from here: only this goroutine
	// writes it.
	now := p.now()
	for _, b := range p.set.Load().streams {
		if b.pub == nil {
			continue
		}
		if frag := b.r.Fragment(d, now); len(frag) > 0 {
			b.pub.Publish(frag)
		}
	}
}

// Reset renders every container of stream id as out-of-band swaps: what a
// reconnecting page receives instead of a backlog.
func (p *Projector) Reset(id string) []byte {
	b := p.set.Load().byID[id]
	if b == nil {
		return nil
	}
	p.floor.RLock()
	out := b.r.Reset(p.now())
	p.floor.RUnlock()
	if _, ok := b.r.(*view); ok { // a board page, not a console
		out = append(out, genFragment(pageGen(b.Def))...)
	}
	return out
}

// Preview is def as a page would show it now, for the board editor: def
// need not be on screen, and nothing is kept.
func (p *Projector) Preview(def config.Board) templates.Board {
	v := &view{def: &def, floor: p.floor, log: p.log}
	p.floor.RLock()
	defer p.floor.RUnlock()
	return v.page(p.now(), p.brand)
}

// View returns the view of board stream id (a board or a name-hiding
// variant) for a page load.
func (p *Projector) View(id string) (templates.Board, bool) {
	b := p.set.Load().byID[id]
	if b == nil {
		return templates.Board{}, false
	}
	v, ok := b.r.(*view)
	if !ok {
		return templates.Board{}, false
	}
	p.floor.RLock()
	defer p.floor.RUnlock()
	page := v.page(p.now(), p.brand)
	page.Gen = pageGen(b.Def)
	return page, true
}

// Summary is board id's state in a few figures, for the board list in
// lang (its service level formatted for lang).
func (p *Projector) Summary(id, lang string) templates.BoardSummary {
	b := p.set.Load().byID[id]
	if b == nil {
		return templates.BoardSummary{}
	}
	p.floor.RLock()
	defer p.floor.RUnlock()
	def := b.Def
	def.Lang = lang
	s := templates.BoardSummary{ServiceLevel: "–"}
	// The counts from the floor itself; the levels and the formatted
	// service level from the KPI row's rules.
	for _, q := range p.floor.Queues(&def) {
		s.Waiting += q.Waiting
	}
	states := map[event.State]int{}
	p.floor.CountStates(&def, states)
	s.Available = states[event.StateAvailable]
	for _, k := range kpis(p.floor, &def, p.now(), []string{"waiting", "service_level"}) {
		switch k.ID {
		case "kpi-waiting":
			s.WaitingLevel = k.Level
		case "kpi-service_level":
			s.ServiceLevel, s.SLLevel = k.Value, k.Level
		}
	}
	s.Sources = string(p.floor.WorstStatus(&b.Def))
	return s
}

// Counts returns how many agents and queues board id shows.
func (p *Projector) Counts(id string) (agents, queues int) {
	b := p.set.Load().byID[id]
	if b == nil {
		return 0, 0
	}
	p.floor.RLock()
	defer p.floor.RUnlock()
	return p.floor.Counts(&b.Def)
}

// BoardQueues returns copies of the queues board id shows (alerts).
func (p *Projector) BoardQueues(id string) []model.Queue {
	b := p.set.Load().byID[id]
	if b == nil {
		return nil
	}
	p.floor.RLock()
	defer p.floor.RUnlock()
	return p.floor.Queues(&b.Def)
}

// pageGen hashes what of a board only a page load shows (its title, look
// and language): a reset redraws everything else (figures, thresholds,
// queues, the grid), so a page reloads only when this changes.
func pageGen(def config.Board) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%q %q %q %q", def.Title, def.Theme, def.Clock, def.Lang))
	return hex.EncodeToString(sum[:4])
}

// genFragment tells a page what its board's page is as of the stream: a
// page loaded under another reloads (static/wallboard.js).
func genFragment(gen string) []byte {
	var buf bytes.Buffer
	_ = templates.BoardState(gen, "", true).Render(context.Background(), &buf)
	return buf.Bytes()
}

// removedFragment tells a page that its board was removed.
func removedFragment(lang string) []byte {
	var buf bytes.Buffer
	_ = templates.BoardState("", i18n.T(lang, "This board was removed."), true).Render(context.Background(), &buf)
	return buf.Bytes()
}
