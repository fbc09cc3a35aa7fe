package config

import (
	"fmt"
	"net/url"
	"time"
)

// QueueSetting sets how one queue's service level is counted. Queue is a
// queue id or name; Source, when set, limits it to that source's queue. The
// first entry that matches a queue wins; queues no entry matches use the
// defaults (DefaultQueueSetting).
type QueueSetting struct {
	Queue  string `yaml:"queue"`
	Source string `yaml:"source"`
	// ServiceLevelThreshold: answered within it counts for service level;
	// default: the top-level service_level_threshold.
	ServiceLevelThreshold Duration `yaml:"service_level_threshold"`
	// ShortAbandon: abandons within it are not counted against service
	// level (left out of the denominator); default 0 (none are).
	ShortAbandon Duration `yaml:"short_abandon"`
	// AbandonsInSL: abandons count in the service-level denominator;
	// default true.
	AbandonsInSL *bool `yaml:"abandons_in_sl"`
}

// Abandons reports whether abandons count in the service-level
// denominator (true unless set false).
func (q QueueSetting) Abandons() bool { return q.AbandonsInSL == nil || *q.AbandonsInSL }

// Alerts: reason-code thresholds on agents' time in state, and where queue
// alarms are sent.
type Alerts struct {
	// Reasons flag an agent whose time in not_ready with that reason passes After.
	Reasons []ReasonAlert `yaml:"reasons"`
	// Webhook receives queue alarms as they start and clear.
	Webhook *Webhook `yaml:"webhook"`
}

// ReasonAlert flags agents in not_ready with Reason for longer than After.
type ReasonAlert struct {
	Reason string   `yaml:"reason"`
	After  Duration `yaml:"after"`
}

// Webhook is where queue alarms are POSTed as JSON.
type Webhook struct {
	URL string `yaml:"url"`
	// Headers are sent with every request (e.g. Authorization); their
	// values never appear in logs.
	Headers map[string]Secret `yaml:"headers"`
	// Timeout of one attempt; default 5s.
	Timeout Duration `yaml:"timeout"`
	// Attempts before a notification is given up; default 6 (backoff 1s,
	// 2s, 4s, … up to 1m between them).
	Attempts int `yaml:"attempts"`
	// Boards limits the alarms sent to those boards' queues; empty = all.
	Boards []string `yaml:"boards"`
}

// ReasonAfter returns the alert threshold for reason (0 for none).
func (c *Config) ReasonAfter(reason string) time.Duration {
	for _, r := range c.Alerts.Reasons {
		if r.Reason == reason {
			return r.After.D()
		}
	}
	return 0
}

func (c *Config) validateConsole() Problems {
	var p Problems
	add := func(path, format string, args ...any) { p = append(p, path+": "+fmt.Sprintf(format, args...)) }
	sources := map[string]bool{}
	for _, s := range c.Sources {
		sources[s.Name] = true
	}
	seen := map[string]string{}
	for i, q := range c.QueueSettings {
		path := fmt.Sprintf("queue_settings[%d]", i)
		if q.Queue == "" {
			add(path+".queue", "missing (a queue id or name)")
		}
		if q.Source != "" && !sources[q.Source] {
			add(path+".source", "no source is named %q", q.Source)
		}
		if q.ServiceLevelThreshold < 0 {
			add(path+".service_level_threshold", "must be positive")
		}
		if q.ShortAbandon < 0 {
			add(path+".short_abandon", "must not be negative")
		}
		if q.ServiceLevelThreshold == 0 {
			c.QueueSettings[i].ServiceLevelThreshold = c.ServiceLevelThreshold
		}
		key := q.Source + "\x00" + q.Queue
		if other, ok := seen[key]; ok && q.Queue != "" {
			add(path+".queue", "%q is already set by %s", q.Queue, other)
		}
		seen[key] = path
	}
	reasons := map[string]string{}
	for i, r := range c.Alerts.Reasons {
		path := fmt.Sprintf("alerts.reasons[%d]", i)
		if r.Reason == "" {
			add(path+".reason", "missing")
		}
		if r.After.D() <= 0 {
			add(path+".after", "must be positive (e.g. 45m)")
		}
		if other, ok := reasons[r.Reason]; ok && r.Reason != "" {
			add(path+".reason", "%q is already set by %s", r.Reason, other)
		}
		reasons[r.Reason] = path
	}
	if w := c.Alerts.Webhook; w != nil {
		u, err := url.Parse(w.URL)
		switch {
		case w.URL == "":
			add("alerts.webhook.url", "missing")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			add("alerts.webhook.url", "must be an http or https URL")
		}
		if w.Timeout < 0 {
			add("alerts.webhook.timeout", "must be positive")
		} else if w.Timeout == 0 {
			w.Timeout = Duration(5 * time.Second)
		}
		if w.Attempts < 0 || w.Attempts > 100 {
			add("alerts.webhook.attempts", "must be between 1 and 100")
		} else if w.Attempts == 0 {
			w.Attempts = 6
		}
		for j, id := range w.Boards {
			if _, ok := c.Board(id); !ok {
				add(fmt.Sprintf("alerts.webhook.boards[%d]", j), "no board has id %q", id)
			}
		}
	}
	return p
}
