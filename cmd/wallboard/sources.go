package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/netsapiens"
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
		sim := d.sims[sc.Name]
		if sim == nil {
			sim = vendorsim.NewSim(vendorsim.Options{Prefix: sc.Name + "-", Agents: sc.SimAgents, Queues: sc.SimQueues, Seed: sc.SimSeed})
			if d.sims != nil {
				d.sims[sc.Name] = sim
			}
		}
		return vendorsim.NewDirectSource(sc.Name, sim), nil, nil
	case config.TypeNetSapiens:
		src, err := netsapiens.New(sc, d.store, d.log)
		if err != nil {
			return nil, nil, err
		}
		return src, src, nil
	}
	return nil, nil, fmt.Errorf("source type %s is not available in this build", sc.Type)
}
