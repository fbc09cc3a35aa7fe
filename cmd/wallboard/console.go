package main

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/wallboard/wallboard/internal/alert"
	"github.com/wallboard/wallboard/internal/board"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/model"
)

// queueRules turns queue_settings into the model's per-queue rules.
func queueRules(cfg *config.Config) []model.QueueRule {
	var out []model.QueueRule
	for _, q := range cfg.QueueSettings {
		out = append(out, model.QueueRule{Source: q.Source, Queue: q.Queue, Settings: model.QueueSettings{
			SLThreshold: q.ServiceLevelThreshold.D(), ShortAbandon: q.ShortAbandon.D(), ExcludeAbandons: !q.Abandons()}})
	}
	return out
}

// alerts sends queue alarms to the configured webhook: a watcher reads the
// boards' queues once a second (never the model), a notifier posts from
// its own goroutine. The app runs both (notifier.Run and watch) until it
// stops.
type alerts struct {
	notifier *alert.Notifier
	watch    func(ctx context.Context)
}

// newAlerts returns the alerts of cfg, or nil without a webhook. It starts
// nothing.
func newAlerts(cfg *config.Config, proj *board.Projector, log *slog.Logger) *alerts {
	n := alert.FromConfig(cfg.Alerts.Webhook, log)
	if n == nil {
		return nil
	}
	w := alert.NewWatcher(n)
	// The boards on screen now (the file's and the database's, with their
	// thresholds as last saved), those the webhook names.
	read := func() []alert.BoardQueues {
		var out []alert.BoardQueues
		for _, b := range proj.BoardDefs() {
			if len(cfg.Alerts.Webhook.Boards) == 0 || slices.Contains(cfg.Alerts.Webhook.Boards, b.ID) {
				out = append(out, alert.BoardQueues{Board: b.ID, Thresholds: b.Thresholds, Queues: proj.BoardQueues(b.ID)})
			}
		}
		return out
	}
	return &alerts{notifier: n, watch: func(ctx context.Context) { w.Run(ctx, time.Second, read) }}
}

// stats is the notifier's counters for /metrics (nil: no webhook).
func (a *alerts) stats() func() alert.Stats {
	if a == nil {
		return nil
	}
	return a.notifier.Stats
}
