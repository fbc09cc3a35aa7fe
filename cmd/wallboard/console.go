package main

import (
	"context"
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

// startAlerts sends queue alarms to the configured webhook (n, nil when
// none) until ctx ends: a watcher reads the boards' queues once a second
// (never the model), the notifier posts from its own goroutine.
func startAlerts(ctx context.Context, cfg *config.Config, n *alert.Notifier, proj *board.Projector) {
	if n == nil {
		return
	}
	var boards []config.Board
	for _, b := range cfg.Boards {
		if len(cfg.Alerts.Webhook.Boards) == 0 || slices.Contains(cfg.Alerts.Webhook.Boards, b.ID) {
			boards = append(boards, b)
		}
	}
	go n.Run(ctx)
	go alert.NewWatcher(n).Run(ctx, time.Second, func() []alert.BoardQueues {
		out := make([]alert.BoardQueues, 0, len(boards))
		for _, b := range boards {
			out = append(out, alert.BoardQueues{Board: b.ID, Thresholds: b.Thresholds, Queues: proj.BoardQueues(b.ID)})
		}
		return out
	})
}

// alertStats is the notifier's counters for /metrics (nil: no webhook).
func alertStats(n *alert.Notifier) func() alert.Stats {
	if n == nil {
		return nil
	}
	return n.Stats
}
