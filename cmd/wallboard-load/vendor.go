package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source/axp"
	"github.com/wallboard/wallboard/internal/source/netsapiens"
	"github.com/wallboard/wallboard/internal/source/pulsar"
	"github.com/wallboard/wallboard/internal/source/sapi"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// vendors are the -vendor choices: the emulator the tool starts and the
// source type wallboard reads it with.
var vendors = []struct{ name, label, sourceType string }{
	{"8x8-stream", "8x8 Event Streaming", pulsar.Type},
	{"8x8-sapi", "8x8 Streaming API", sapi.Type},
	{"avaya", "Avaya Experience Platform Agent & Engagement", axp.TypeEngagement},
	{"netsapiens", "NetSapiens v2 event subscriptions", netsapiens.Type},
}

func knownVendor(name string) bool {
	for _, v := range vendors {
		if v.name == name {
			return true
		}
	}
	return false
}

func vendorNames() string {
	var names []string
	for _, v := range vendors {
		names = append(names, v.name)
	}
	return strings.Join(names, ", ")
}

// upstream is the emulated vendor one run drives and the wallboard sources
// that read it.
type upstream struct {
	vendor, label, sourceType string
	// sources returns wallboard's sources, given the address wallboard
	// listens on (NetSapiens posts its webhooks there).
	sources func(publicURL string) []config.Source
	// The board shows the agents of boardQueues (8x8 Event Streaming: the
	// others serve another queue) or, when empty, every agent of the
	// source "load" (the others are a second source, "load-ingest").
	boardQueues []string
	driver      upstreamDriver
	// fed: the emulator renders events as they are handed to it and the
	// source reads them at once, so a backlog cannot be built before the
	// source sees it; the ingest clock starts with the first event.
	fed   bool
	close func()
}

// upstreamDriver is a driver that can tell whether wallboard has received
// everything it sent: got counts what wallboard has received, in units
// that want counts what it must receive for everything sent so far.
type upstreamDriver interface {
	driver
	want() float64
	got(metrics map[string]float64) float64
}

// newUpstream starts the emulator of o.vendor.
func newUpstream(o options) (*upstream, error) {
	for _, v := range vendors {
		if v.name != o.vendor {
			continue
		}
		up := &upstream{vendor: v.name, label: v.label, sourceType: v.sourceType}
		if v.name == "8x8-stream" {
			return up, up.startPulsar(o)
		}
		return up, up.startSim(o)
	}
	return nil, fmt.Errorf("unknown -vendor %q (known: %s)", o.vendor, vendorNames())
}

// startPulsar drives the 8x8 Event Streaming emulator with raw events
// (pulsarDriver): one source, the board shows queue qb.
func (up *upstream) startPulsar(o options) error {
	sim := vendorsim.NewSim(vendorsim.Options{Agents: 1, Queues: 1, Seed: 1})
	emu, err := vendorsim.NewPulsarServer(sim, vendorsim.PulsarOptions{Retention: 3*(o.agents+o.others) + o.ingest + int(o.rate*o.duration.Seconds()*2) + 100000})
	if err != nil {
		return fmt.Errorf("failed to start the 8x8 Event Streaming emulator: %w", err)
	}
	up.sources = func(string) []config.Source {
		src := emu.SourceConfig("load")
		src.Options.(*pulsar.Options).ReasonLabels = nil // the board shows "801=<seq>" raw
		// The topic's agents are published raw, not the emulator's Sim's:
		// its agent status API would list none of them.
		src.Options.(*pulsar.Options).AgentStatusURL, src.Options.(*pulsar.Options).AgentStatusToken = "", ""
		return []config.Source{src}
	}
	up.boardQueues = []string{boardQueue}
	up.driver = &pulsarDriver{emu: emu}
	up.close = emu.Close
	return nil
}

// simSide is one simulated site behind its own emulator: the board's agents
// (source "load") or the agents off the board (source "load-ingest").
type simSide struct {
	sim    *vendorsim.Sim
	ids    []string
	in     []bool // avaya: the agent has been brought out of LOGGED_OUT
	source func(name, publicURL string) config.Source
	close  func()
}

// simDriver drives the emulators of the 8x8 Streaming API, Avaya and
// NetSapiens through a vendorsim.Sim that is never Run (no random traffic):
// each change is one injected agent state, which the emulator renders in
// its vendor's format and sends to wallboard the vendor's way. The change's
// seq rides in the not-ready reason, which each vendor carries to the
// card's label as text: 8x8 newReasonCodeUser "801=<seq>", Avaya's cause
// (reasonCode 599), NetSapiens callqueue-agent-status.
type simDriver struct {
	vendor      string
	board, oth  *simSide
	wanted      atomic.Int64
	accepted    atomic.Int64 // netsapiens: objects in posts wallboard accepted
	ingestCount atomic.Int64
}

func (up *upstream) startSim(o options) error {
	d := &simDriver{vendor: up.vendor}
	var err error
	if d.board, err = d.side("b", "Board", max(o.agents, 1)); err != nil {
		return err
	}
	closers := []func(){d.board.close}
	if o.others > 0 {
		if d.oth, err = d.side("o", "Elsewhere", o.others); err != nil {
			d.board.close()
			return err
		}
		closers = append(closers, d.oth.close)
	}
	up.sources = func(publicURL string) []config.Source {
		out := []config.Source{d.board.source("load", publicURL)}
		if d.oth != nil {
			out = append(out, d.oth.source("load-ingest", publicURL))
		}
		return out
	}
	up.driver, up.fed = d, true
	up.close = func() {
		for _, c := range closers {
			c()
		}
	}
	return nil
}

// side starts one simulated site of n agents in one queue behind the
// vendor's emulator.
func (d *simDriver) side(prefix, queue string, n int) (*simSide, error) {
	sim := vendorsim.NewSim(vendorsim.Options{Prefix: prefix, Agents: n, Queues: 1, Seed: 1, QueueNames: []string{queue}})
	s := &simSide{sim: sim, in: make([]bool, n)}
	for _, a := range sim.Agents() {
		s.ids = append(s.ids, a.ID)
	}
	switch d.vendor {
	case "8x8-sapi":
		emu, err := vendorsim.NewSAPIServer(sim, vendorsim.SAPIOptions{})
		if err != nil {
			return nil, fmt.Errorf("failed to start the 8x8 Streaming API emulator: %w", err)
		}
		s.close = emu.Close
		s.source = func(name, _ string) config.Source {
			src := emu.SourceConfig(name)
			src.Options.(*sapi.Options).ReasonLabels = nil // the board shows "801=<seq>" raw
			// The load is the stream's: no resync from the agent status API.
			src.Options.(*sapi.Options).AgentStatusURL, src.Options.(*sapi.Options).AgentStatusToken = "", ""
			return src
		}
		// A new subscription first gets the provisioning prelude: per
		// agent its name, its skill and its state.
		d.wanted.Add(int64(3 * n))
	case "avaya":
		emu, err := vendorsim.StartAXP(sim, vendorsim.AXPOptions{})
		if err != nil {
			return nil, fmt.Errorf("failed to start the Avaya emulator: %w", err)
		}
		s.close = emu.Close
		s.source = func(name, _ string) config.Source {
			src := emu.SourceConfig(name, axp.TypeEngagement)
			src.Options.(*axp.Options).ReasonCodes = nil // the cause "801=<seq>" is the label
			return src
		}
		// The source counts the authentication response as a message.
		d.wanted.Add(1)
	case "netsapiens":
		// Capped posts: a backlog goes out as many posts under wallboard's
		// 1 MiB body limit (an agent entry is ~350 bytes).
		emu, err := vendorsim.StartNetSapiens(sim, vendorsim.NetSapiensOptions{MaxBatch: 1000,
			OnPost: func(p vendorsim.NetSapiensPost) {
				if p.Model == "agent" && p.Err == nil && p.Status >= 200 && p.Status < 300 {
					d.accepted.Add(int64(p.Objects))
				}
			}})
		if err != nil {
			return nil, fmt.Errorf("failed to start the NetSapiens emulator: %w", err)
		}
		s.close = emu.Close
		s.source = func(name, publicURL string) config.Source { return emu.SourceConfig(name, publicURL) }
		// A new agent subscription first gets the agent table (one entry
		// per agent: each serves one queue).
		d.wanted.Add(int64(n))
	default:
		return nil, fmt.Errorf("unknown -vendor %q", d.vendor)
	}
	return s, nil
}

// want: 8x8 and Avaya count wallboard's upstream messages; NetSapiens posts
// batches (one message each), so there it is the agent objects in posts
// wallboard answered 2xx, as the emulator saw them.
func (d *simDriver) want() float64 { return float64(d.wanted.Load()) }

func (d *simDriver) got(m map[string]float64) float64 {
	if d.vendor == "netsapiens" {
		return float64(d.accepted.Load())
	}
	return m["wallboard_source_messages_total"]
}

// do sets agent i of side s not ready with reason, and counts what the
// vendor will send for it.
func (d *simDriver) do(s *simSide, i int, reason string, at time.Time) {
	units := int64(1)
	if d.vendor == "avaya" && !s.in[i] {
		units = 2 // AgentState LOGGED_IN, then NOT_READY
	}
	s.in[i] = true
	d.wanted.Add(units)
	s.sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: s.ids[i], State: event.StateNotReady, Reason: reason, At: at})
}

func (d *simDriver) provision(board, others int) error {
	if board > len(d.board.ids) || (others > 0 && (d.oth == nil || others > len(d.oth.ids))) {
		return fmt.Errorf("the emulators have %d and %d agents, not %d and %d", len(d.board.ids), d.otherLen(), board, others)
	}
	now := time.Now()
	for i := range board {
		d.do(d.board, i, "801=0", now)
	}
	for i := range others {
		d.do(d.oth, i, "802=0", now)
	}
	return nil
}

func (d *simDriver) otherLen() int {
	if d.oth == nil {
		return 0
	}
	return len(d.oth.ids)
}

func (d *simDriver) send(cs []change) error {
	now := time.Now()
	for _, c := range cs {
		if c.other {
			if d.oth == nil {
				return fmt.Errorf("no agents off the board (-others)")
			}
			// A reason of its own each time, so that every event changes
			// the agent (Avaya sends nothing for an unchanged presence).
			d.do(d.oth, c.agent%len(d.oth.ids), "802="+strconv.FormatInt(d.ingestCount.Add(1), 10), now)
			continue
		}
		d.do(d.board, c.agent%len(d.board.ids), "801="+strconv.FormatInt(c.seq, 10), now)
	}
	return nil
}

// waitUpstream waits until wallboard has received everything the driver
// sent (and what the vendor sends a new client), at most limit.
func waitUpstream(ctx context.Context, t *target, limit time.Duration) error {
	d := t.up.driver
	deadline := time.Now().Add(limit)
	for {
		got, want := d.got(t.metricsOrNil()), d.want()
		if got >= want {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("wallboard received %g of %g upstream messages from the %s emulator within %s", got, want, t.up.label, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
