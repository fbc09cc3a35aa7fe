package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// API token scopes: a read token may call the GET routes of /api/v1; an
// admin token may also manage boards and links.
const (
	ScopeRead  = "read"
	ScopeAdmin = "admin"
)

// IntervalLengths are the history interval lengths one may choose.
var IntervalLengths = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, 60 * time.Minute}

// Admin reports whether the token may manage boards and links.
func (t APIToken) Admin() bool { return t.Scope == ScopeAdmin }

// DatabaseURL returns the configured PostgreSQL URL, or "" for the embedded
// SQLite file in state_dir.
func (c *Config) DatabaseURL() string { return c.Database.Reveal() }

// validateDatabase checks the keys of the kept state (database,
// interval_length, history_days) and the API tokens' scopes.
func (c *Config) validateDatabase() Problems {
	var p Problems
	add := func(path, format string, args ...any) { p = append(p, path+": "+fmt.Sprintf(format, args...)) }
	if d := c.Database.Reveal(); d != "" {
		u, err := url.Parse(d)
		switch {
		case !strings.HasPrefix(d, "postgres://") && !strings.HasPrefix(d, "postgresql://"):
			add("database", "must be empty (an embedded SQLite file in state_dir) or a postgres:// URL")
		case err != nil:
			// url's message quotes the URL, password and all: say less.
			add("database", "is not a valid URL (a password with special characters must be percent-encoded)")
		case u.Path == "" || u.Path == "/":
			add("database", "names no database: postgres://USER:PASSWORD@HOST:5432/DATABASE")
		}
	}
	if !slices.Contains(IntervalLengths, c.IntervalLength.D()) {
		add("interval_length", "must be 1m, 5m, 15m, 30m or 60m, not %s", c.IntervalLength)
	}
	if c.HistoryDays < 1 || c.HistoryDays > 3660 {
		add("history_days", "must be between 1 and 3660, not %d", c.HistoryDays)
	}
	for i := range c.APITokens {
		t := &c.APITokens[i]
		switch t.Scope {
		case "":
			t.Scope = ScopeRead
		case ScopeRead, ScopeAdmin:
		default:
			add(fmt.Sprintf("api_tokens[%d].scope", i), "must be read or admin, not %q", t.Scope)
		}
	}
	return p
}
