package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/axp"
	"github.com/wallboard/wallboard/internal/source/netsapiens"
	"github.com/wallboard/wallboard/internal/source/pulsar"
	"github.com/wallboard/wallboard/internal/source/sapi"
	"github.com/wallboard/wallboard/internal/store"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// sourceDeps are what sources may need beyond their configuration.
type sourceDeps struct {
	store *store.Dir
	log   *slog.Logger
	sims  map[string]*vendorsim.Sim
}

// buildSource makes the source a configuration entry describes, and the
// webhook handler of sources that receive posts.
func buildSource(sc config.Source, d sourceDeps) (source.Source, http.Handler, error) {
	switch sc.Type {
	case config.TypeSimulation:
		if sim := d.sims[sc.Name]; sim != nil {
			return vendorsim.NewDirectSource(sc.Name, sim, false), nil, nil
		}
		sim := vendorsim.NewSim(vendorsim.Options{Agents: sc.SimAgents, Queues: sc.SimQueues, Seed: sc.SimSeed})
		return vendorsim.NewDirectSource(sc.Name, sim, true), nil, nil
	case config.Type8x8SAPI:
		src, err := sapi.New(sc, d.log)
		if err != nil {
			return nil, nil, err
		}
		return src, nil, nil
	case config.Type8x8Stream:
		src, err := pulsar.New(sc, d.store, d.log)
		if err != nil {
			return nil, nil, err
		}
		return src, nil, nil
	case config.TypeAvayaEngagement, config.TypeAvayaAnalytics:
		src, err := axp.New(sc, d.store, d.log)
		if err != nil {
			return nil, nil, err
		}
		return src, nil, nil
	case config.TypeNetSapiens:
		src, err := netsapiens.New(sc, d.store, d.log)
		if err != nil {
			return nil, nil, err
		}
		return src, src, nil
	}
	return nil, nil, fmt.Errorf("source type %s is not available in this build", sc.Type)
}

// retarget moves an analytics source's measures onto the agents and queues
// of the engagement source they describe (attach_to): the two are separate
// subscriptions of one account, and the board should show one queue tile.
type retarget struct {
	sink source.Sink
	to   string
}

func (r retarget) Publish(ctx context.Context, evs ...event.Event) error {
	r.move(evs)
	return r.sink.Publish(ctx, evs...)
}

// PublishBatch retargets the batch's measures and passes it on whole.
func (r retarget) PublishBatch(ctx context.Context, b event.Batch) error {
	r.move(b.Events)
	return source.PublishBatch(ctx, r.sink, b)
}

func (r retarget) move(evs []event.Event) {
	for i := range evs {
		if evs[i].Kind == event.Measures {
			evs[i].Source = r.to
		}
	}
}
