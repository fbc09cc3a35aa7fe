// Package board projects the model onto the hub's streams: each configured
// board, its name-hiding variants for kiosk screens (privacy.go) and its
// supervisor console (internal/console). Each stream's fragment is rendered
// once per flush, whatever the number of screens, and published to the
// stream's hub topic.
package board

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/console"
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
// alone writes the floor (under the floor's write lock) and each stream's
// record of what it last sent (no lock: nothing else reads it). Page loads,
// resets and the alert watcher read the floor under its read lock and get
// copies (views, rendered bytes), never the streams' records. Apply panics
// when called concurrently, so a second owner cannot creep in unnoticed.
type Projector struct {
	now     func() time.Time
	log     *slog.Logger
	floor   *projection.Floor
	boards  []*Board // configured boards, in order
	streams []*Board // the boards, then their variants and consoles
	byID    map[string]*Board
	console *console.Views
	tickers tickers // ticker.go
	brand   config.Branding

	// OnFlush, when set before Run, is called after each delta with how
	// long its fragments took to render and publish.
	OnFlush func(time.Duration)

	applying atomic.Bool
}

// Options configure a Projector.
type Options struct {
	Location *time.Location
	Now      func() time.Time
	Logger   *slog.Logger
	// AllNameModes gives every board its initials and none variants, not
	// only those its file's kiosk links use: TV links made at run time
	// (kept in the database) may hide names on any board.
	AllNameModes bool
}

// NewProjector returns a projector for the boards and sources of cfg. Call
// Attach for each stream before Run.
func NewProjector(cfg *config.Config, o Options) *Projector {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Projector{now: o.Now, log: o.Logger, floor: projection.New(cfg, o.Location), byID: map[string]*Board{}, brand: cfg.Branding}
	var extra []*Board
	for _, def := range cfg.Boards {
		b := p.newBoard(def, def.ID, generation(def), "")
		p.boards = append(p.boards, b)
		extra = append(extra, p.privacyVariants(cfg, def, o.AllNameModes)...)
		for _, lang := range append([]string{def.Lang}, def.Langs...) {
			// A console in each of the board's languages (the viewer's
			// Accept-Language picks one; server/console.go).
			id := console.LangStreamID(def.ID, lang, def.Lang)
			if p.byID[id] != nil {
				continue
			}
			c := &Board{Def: def, Gen: generation(def) + "c", id: id}
			c.Def.Lang = lang
			c.r = console.NewStream(&c.Def, p.floor, p.log)
			p.byID[c.id] = c
			extra = append(extra, c)
		}
	}
	p.streams = append(append(p.streams, p.boards...), extra...)
	p.console = console.New(cfg.Boards, p.floor, o.Now)
	return p
}

// newBoard adds a board stream of def with id, showing names as mode.
func (p *Projector) newBoard(def config.Board, id, gen, mode string) *Board {
	b := &Board{Def: def, Gen: gen, id: id}
	b.r = &view{def: &b.Def, nameMode: mode, floor: p.floor, log: p.log}
	p.byID[id] = b
	return b
}

// generation hashes a board's definition (without its kiosk tokens).
func generation(def config.Board) string {
	def.Kiosk = nil
	sum := sha256.Sum256(fmt.Appendf(nil, "%#v", def))
	return hex.EncodeToString(sum[:4])
}

// Boards returns the configured boards in configuration order.
func (p *Projector) Boards() []*Board { return p.boards }

// Streams returns every stream: the boards, their name-hiding variants and
// their consoles. Each needs its own hub topic.
func (p *Projector) Streams() []*Board { return p.streams }

// Console answers the console's page loads.
func (p *Projector) Console() *console.Views { return p.console }

// Attach sets where stream id's fragments go.
func (p *Projector) Attach(id string, pub Publisher) {
	if b := p.byID[id]; b != nil {
		b.pub = pub
	}
}

// Run applies deltas until ctx ends or deltas closes, calling OnFlush after
// each. The goroutine that calls Run owns the projection.
func (p *Projector) Run(ctx context.Context, deltas <-chan model.Delta) {
	for {
		select {
		case <-ctx.Done():
			return
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
	for _, b := range p.streams {
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
	b := p.byID[id]
	if b == nil {
		return nil
	}
	p.floor.RLock()
	defer p.floor.RUnlock()
	return b.r.Reset(p.now())
}

// View returns the view of board stream id (a board or a name-hiding
// variant) for a page load.
func (p *Projector) View(id string) (templates.Board, bool) {
	b := p.byID[id]
	if b == nil {
		return templates.Board{}, false
	}
	v, ok := b.r.(*view)
	if !ok {
		return templates.Board{}, false
	}
	p.floor.RLock()
	defer p.floor.RUnlock()
	return v.page(p.now(), p.brand), true
}

// Summary is board id's state in a few figures, for the board list in
// lang (its service level formatted for lang).
func (p *Projector) Summary(id, lang string) templates.BoardSummary {
	b := p.byID[id]
	if b == nil {
		return templates.BoardSummary{}
	}
	p.floor.RLock()
	defer p.floor.RUnlock()
	def := b.Def
	def.Lang = lang
	s := templates.BoardSummary{ServiceLevel: "–"}
	for _, k := range kpis(p.floor, &def, p.now(), []string{"waiting", "service_level", "available"}) {
		switch k.ID {
		case "kpi-waiting":
			s.Waiting = digits(k.Value)
			s.WaitingLevel = k.Level
		case "kpi-service_level":
			s.ServiceLevel, s.SLLevel = k.Value, k.Level
		case "kpi-available":
			s.Available = digits(k.Value)
		}
	}
	s.Sources = string(p.floor.WorstStatus(&b.Def))
	return s
}

// Counts returns how many agents and queues board id shows.
func (p *Projector) Counts(id string) (agents, queues int) {
	b := p.byID[id]
	if b == nil {
		return 0, 0
	}
	p.floor.RLock()
	defer p.floor.RUnlock()
	return p.floor.Counts(&b.Def)
}

// BoardQueues returns copies of the queues board id shows (alerts).
func (p *Projector) BoardQueues(id string) []model.Queue {
	b := p.byID[id]
	if b == nil {
		return nil
	}
	p.floor.RLock()
	defer p.floor.RUnlock()
	return p.floor.Queues(&b.Def)
}

// digits reads a count formatted for any language ("1,234", "1.234",
// "1 234"): its digits.
func digits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n = n*10 + int(r-'0')
		}
	}
	return n
}
