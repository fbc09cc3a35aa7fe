package main

import (
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
