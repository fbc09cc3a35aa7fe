package main

import (
	"log/slog"
	"net/http"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/source"
	_ "github.com/wallboard/wallboard/internal/source/vendors" // every source type
)

// sourceDeps are what sources may need beyond their configuration.
type sourceDeps struct {
	store source.Store
	log   *slog.Logger
}

// buildSource makes the source a configuration entry describes, and the
// webhook handler of sources that receive posts, through the factory its
// type registered.
func buildSource(sc config.Source, d sourceDeps) (source.Source, http.Handler, error) {
	return source.New(sc, source.Deps{Store: d.store, Log: d.log})
}
