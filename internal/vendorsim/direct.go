package vendorsim

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
)

// DirectSource feeds a simulation's actions into the model as normalized
// events, with no vendor protocol in between. The demo uses it beside the
// emulated vendors; it is the configured type "simulation".
type DirectSource struct {
	name  string
	sim   *Sim
	drive bool
}

// TypeSimulation is the demo's own source type: it feeds a built-in
// contact-center simulation's events straight into the model.
const TypeSimulation = "simulation"

func init() {
	source.Register(source.Type{
		Name:    TypeSimulation,
		Options: func() config.SourceOptions { return new(SimulationOptions) },
		New: func(sc config.Source, _ source.Deps) (source.Source, http.Handler, error) {
			o, _ := sc.Options.(*SimulationOptions)
			if o == nil {
				o = &SimulationOptions{}
			}
			if o.Sim != nil {
				return NewDirectSource(sc.Name, o.Sim, false), nil, nil
			}
			sim := NewSim(Options{Agents: o.SimAgents, Queues: o.SimQueues, Seed: o.SimSeed})
			return NewDirectSource(sc.Name, sim, true), nil, nil
		},
	})
}

// SimulationOptions are the options of a simulation source.
type SimulationOptions struct {
	SimAgents int   `yaml:"sim_agents"`
	SimQueues int   `yaml:"sim_queues"`
	SimSeed   int64 `yaml:"sim_seed"`
	// Sim, set in code (the demo), is a simulation that someone else
	// drives; the source only reads it. Nil: the source makes and drives
	// its own from the options above.
	Sim *Sim `yaml:"-"`
}

// Check implements config.SourceOptions.
func (o *SimulationOptions) Check(c *config.SourceCheck) {
	if o.SimAgents < 0 || o.SimQueues < 0 {
		c.Add("sim_agents", "must not be negative")
	}
	if c.Source.Capture {
		c.Add("capture", "a simulation source has no vendor traffic to record")
	}
}

// NewDirectSource returns the source name fed by sim. With drive, the source
// also advances the simulation while it runs (a configured "simulation"
// source owns its simulation; the demo drives its own).
func NewDirectSource(name string, sim *Sim, drive bool) *DirectSource {
	return &DirectSource{name: name, sim: sim, drive: drive}
}

// Name implements source.Source.
func (d *DirectSource) Name() string { return d.name }

// Type implements source.Source.
func (d *DirectSource) Type() string { return TypeSimulation }

// Run implements source.Source: provisioning first, then every action.
func (d *DirectSource) Run(ctx context.Context, r *source.Reporter) error {
	sub := d.sim.Subscribe()
	defer sub.Close()
	if d.drive {
		// The simulation runs while this session does, and stops with it.
		sctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); d.sim.Run(sctx) }()
		defer func() { stop(); <-done }()
	}
	var evs []event.Event
	for _, q := range d.sim.Queues() {
		evs = append(evs, event.Event{Kind: event.QueueInfo, Queue: q.ID, Name: q.Name})
	}
	for _, a := range d.sim.Agents() {
		evs = append(evs, event.Event{Kind: event.AgentInfo, Agent: a.ID, Name: a.Name, Queues: a.Queues})
	}
	// The current truth, so a (re)connect starts from the right picture.
	truth := d.sim.Truth()
	for id, a := range truth.Agents {
		evs = append(evs, event.Event{Kind: event.AgentState, Agent: id, State: a.State, Reason: a.Reason, At: a.Since})
	}
	if err := r.Emit(ctx, evs...); err != nil {
		return err
	}
	r.Live()
	for {
		select {
		case <-ctx.Done():
			return nil
		case a, ok := <-sub.C():
			if !ok {
				return nil
			}
			r.Message()
			if e, ok := ActionEvent(a); ok {
				e.ID = "sim-" + strconv.FormatInt(a.Seq, 10)
				if err := r.Emit(ctx, e); err != nil {
					return err
				}
			}
		}
	}
}

// ActionEvent translates a simulation action to the normalized event that a
// perfect vendor source would produce.
func ActionEvent(a Action) (event.Event, bool) {
	e := event.Event{At: a.At, Agent: a.Agent, Queue: a.Queue, Interaction: a.Call, QueuedAt: a.QueuedAt}
	switch a.Kind {
	case ActionAgentState:
		e.Kind, e.State, e.Reason = event.AgentState, a.State, a.Reason
	case ActionCallQueued, ActionCallRejected:
		e.Kind, e.Agent = event.ContactQueued, ""
	case ActionCallOffered:
		e.Kind = event.ContactOffered
	case ActionCallAnswered:
		e.Kind = event.ContactAnswered
	case ActionCallAbandoned, ActionCallEnded:
		e.Kind = event.ContactEnded
	default:
		return event.Event{}, false
	}
	return e, true
}

// sourceConfig builds a source of a vendor type for an emulator, through
// the configuration's own decoding and defaults. The vendor's package must
// be linked; without it this panics (a mistake in the calling program).
func sourceConfig(name, typ, url string, options map[string]any) config.Source {
	s, err := config.NewSource(name, typ, url, options)
	if err != nil {
		panic(fmt.Sprintf("vendorsim: %v (import the package of type %s)", err, typ))
	}
	return s
}
