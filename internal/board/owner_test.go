package board

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/console"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/model"
)

// counter is a Publisher safe for the projector's goroutine and SetTicker's
// caller at once (a hub topic is too).
type counter struct {
	mu     sync.Mutex
	frames int
}

func (c *counter) Publish([]byte) {
	c.mu.Lock()
	c.frames++
	c.mu.Unlock()
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames
}

// ownerProjector is the test projector with a kiosk link hiding names, so
// that it has a board, a variant and a console stream per board.
func ownerProjector(t *testing.T) (*Projector, map[string]*counter) {
	t.Helper()
	cfg := testConfig()
	cfg.Boards[0].Kiosk = []config.Kiosk{{Name: "lobby", Token: "tv-0123456789abcdef0123456789abcdef",
		KioskOptions: config.KioskOptions{Names: config.NamesInitials}}}
	p := NewProjector(cfg, Options{Now: func() time.Time { return now }})
	pubs := map[string]*counter{}
	for _, b := range p.Streams() {
		pubs[b.StreamID()] = &counter{}
		p.Attach(b.StreamID(), pubs[b.StreamID()])
	}
	return p, pubs
}

// churn is delta i of a floor of 40 agents changing state, logging in and
// out, with queue and source changes now and then.
func churn(i int) model.Delta {
	states := []event.State{event.StateAvailable, event.StateBusy, event.StateNotReady, event.StateLoggedOut, event.StateWrapUp}
	d := model.Delta{At: now, Membership: i%3 == 0, Rollover: i%50 == 49}
	for k := range 3 {
		n := (i*3 + k) % 40
		d.Agents = append(d.Agents, model.Agent{Key: model.Key{Source: "uk", ID: "ag" + strconv.Itoa(n)}, Name: fmt.Sprintf("Agent %02d Name", n),
			State: states[(i+k)%len(states)], Since: now.Add(-time.Duration(i) * time.Second), Queues: []string{"q-sales"}})
	}
	if i%4 == 0 {
		d.Queues = []model.Queue{{Key: model.Key{Source: "uk", ID: "q-sales"}, Name: "Sales", Waiting: i % 7, OldestWaiting: now.Add(-time.Minute),
			Offered: i, Answered: i / 2, AnsweredInSL: i / 3}}
	}
	if i%10 == 0 {
		st := event.StatusLive
		if i%20 == 0 {
			st = event.StatusDegraded
		}
		d.Sources = []model.SourceState{{Name: "ns", Status: st, Since: now}}
	}
	return d
}

// The projection has one owner: pages, resets, the alert watcher and the
// ticker read while Apply runs, and each gets a consistent copy. Run with
// -race: a reader touching what Apply keeps unlocked (a stream's last KPI
// row, its grid) or the floor outside the lock fails the test.
func TestReadersDuringApply(t *testing.T) {
	p, pubs := ownerProjector(t)
	variant := VariantID("floor", config.NamesInitials)
	ctx, cancel := context.WithCancel(context.Background())
	deltas := make(chan model.Delta)
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx, deltas) }()

	var readers sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 100)
	reader := func(name string, read func() error) {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					if n == 0 {
						errs <- fmt.Errorf("%s never read", name)
					}
					return
				default:
				}
				if err := read(); err != nil {
					errs <- fmt.Errorf("%s: %w", name, err)
					return
				}
			}
		}()
	}
	for _, id := range []string{"floor", variant} {
		reader("view "+id, func() error {
			v, ok := p.View(id)
			if !ok {
				return fmt.Errorf("no view")
			}
			// One snapshot: the KPI row counts the cards the grid shows.
			avail := 0
			for _, c := range v.Grid.Cards {
				if c.State == string(event.StateAvailable) {
					avail++
				}
				if id == variant && strings.Contains(c.Name, " ") {
					return fmt.Errorf("variant shows a full name %q", c.Name)
				}
			}
			for _, k := range v.KPIs {
				if k.ID == "kpi-available" && k.Value != strconv.Itoa(avail) {
					return fmt.Errorf("KPI says %s available, the grid shows %d", k.Value, avail)
				}
			}
			return nil
		})
	}
	reader("resets", func() error {
		for _, b := range p.Streams() {
			if len(p.Reset(b.StreamID())) == 0 {
				return fmt.Errorf("empty reset of %s", b.StreamID())
			}
		}
		return nil
	})
	reader("counts and alerts", func() error {
		agents, queues := p.Counts("floor")
		if qs := p.BoardQueues("floor"); len(qs) != queues && len(qs) > 1 {
			return fmt.Errorf("%d queues, then %d", queues, len(qs))
		}
		if agents > 40 {
			return fmt.Errorf("%d agents of 40", agents)
		}
		return nil
	})
	reader("console", func() error {
		v, ok := p.Console().View("floor", "")
		if !ok {
			return fmt.Errorf("no console")
		}
		// Agents are never dropped from the floor: every row's agent is
		// found, logged out or not.
		for _, r := range v.Rows {
			if _, ok := p.Console().Agent("floor", model.Key{Source: "uk", ID: strings.TrimPrefix(r.DOMID, "agent-uk-")}); !ok {
				return fmt.Errorf("console row %s has no agent", r.DOMID)
			}
		}
		return nil
	})
	n := 0
	reader("ticker", func() error {
		n++
		msg := "message " + strconv.Itoa(n)
		if !p.SetTicker("floor", msg) {
			return fmt.Errorf("ticker not set")
		}
		if got := p.Ticker(variant); got != msg {
			return fmt.Errorf("variant's ticker %q, want %q", got, msg)
		}
		if len(p.TickerFragment(console.StreamID("floor"))) == 0 {
			return fmt.Errorf("empty ticker fragment")
		}
		return nil
	})

	for i := range 60 {
		deltas <- churn(i)
	}
	close(stop)
	readers.Wait()
	cancel()
	<-done
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, id := range []string{"floor", variant, console.StreamID("floor")} {
		if pubs[id].count() < 60 {
			t.Errorf("%s got %d frames for 60 deltas and the tickers, want more", id, pubs[id].count())
		}
	}
}

// blocking is a Publisher that holds Apply until released.
type blocking struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blocking) Publish([]byte) {
	select {
	case b.entered <- struct{}{}:
		<-b.release
	default:
	}
}

// A second goroutine calling Apply while the owner is in it panics at once
// instead of racing on what the streams last sent.
func TestApplyHasOneOwner(t *testing.T) {
	p, _ := newTestProjector(t)
	pub := &blocking{entered: make(chan struct{}), release: make(chan struct{})}
	p.Attach("floor", pub)
	done := make(chan struct{})
	go func() { defer close(done); p.Apply(testDelta()) }()
	<-pub.entered // the owner is inside Apply
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "one owner") {
				t.Errorf("second Apply: recovered %v, want a panic naming the one owner", r)
			}
		}()
		p.Apply(testDelta())
	}()
	close(pub.release)
	<-done
	// Once the owner is out, Apply can be called again (from any goroutine
	// that takes over, one at a time).
	p.Apply(testDelta())
}

// Run is the one loop over deltas; OnFlush times each (the flush metric).
func TestRunCallsOnFlushPerDelta(t *testing.T) {
	p, recs := newTestProjector(t)
	var flushes []time.Duration
	p.OnFlush = func(d time.Duration) { flushes = append(flushes, d) }
	deltas := make(chan model.Delta, 3)
	deltas <- testDelta()
	deltas <- model.Delta{At: now, Agents: []model.Agent{{Key: model.Key{Source: "uk", ID: "ag2"}, Name: "Aisha Khan", State: event.StateWrapUp, Since: now, Queues: []string{"q-support"}}}}
	deltas <- model.Delta{At: now} // nothing changed: nothing sent, still timed
	close(deltas)
	p.Run(context.Background(), deltas) // returns when deltas closes
	if len(flushes) != 3 {
		t.Fatalf("OnFlush called %d times, want 3", len(flushes))
	}
	for i, d := range flushes {
		if d < 0 {
			t.Errorf("flush %d took %s", i, d)
		}
	}
	if got := len(recs["floor"].frames); got != 2 {
		t.Errorf("floor got %d frames, want 2 (the empty delta sends none)", got)
	}
}
