package config

import (
	"strings"
	"testing"
	"time"
)

func TestDatabaseKeys(t *testing.T) {
	t.Parallel()
	getenv := env(map[string]string{"PGPASSWORD": "p@ss", "ADMIN": "admin-token-0123456789", "READ": "read-token-0123456789"})
	tests := []struct {
		name string
		yaml string
		want []string // problems, each "path: …" (a prefix); none = valid
		// check looks at a valid configuration.
		check func(t *testing.T, c Config)
	}{
		{name: "defaults", yaml: "", check: func(t *testing.T, c Config) {
			if c.DatabaseURL() != "" || c.IntervalLength.D() != 15*time.Minute || c.HistoryDays != 400 {
				t.Errorf("defaults: %q %s %d", c.DatabaseURL(), c.IntervalLength, c.HistoryDays)
			}
		}},
		{name: "the contract's example", yaml: `
database: "postgres://wallboard:${PGPASSWORD}@db.internal:5432/wallboard?sslmode=verify-full"
interval_length: "15m"
history_days: 400
api_tokens:
  - {name: automation, token: "${ADMIN}", scope: admin}
  - {name: reporting, token: "${READ}"}
`, check: func(t *testing.T, c Config) {
			if c.DatabaseURL() != "postgres://wallboard:p@ss@db.internal:5432/wallboard?sslmode=verify-full" {
				t.Errorf("database = %q", c.DatabaseURL())
			}
			if c.Database.String() != "[redacted]" {
				t.Errorf("the database URL prints as %q", c.Database)
			}
			if !c.APITokens[0].Admin() || c.APITokens[1].Admin() || c.APITokens[1].Scope != ScopeRead {
				t.Errorf("scopes %+v", c.APITokens)
			}
		}},
		{name: "unix socket", yaml: `database: "postgresql://wallboard@/wallboard?host=/run/postgresql"`},
		{name: "every interval length", yaml: "interval_length: 60m\nhistory_days: 1", check: func(t *testing.T, c Config) {
			if c.IntervalLength.D() != time.Hour {
				t.Errorf("interval_length = %s", c.IntervalLength)
			}
		}},
		{name: "not postgres", yaml: `database: "mysql://u:pw@h/db"`, want: []string{"database: must be empty (an embedded SQLite file in state_dir) or a postgres:// URL"}},
		{name: "a file path", yaml: `database: "./data/wallboard.db"`, want: []string{"database: must be empty"}},
		{name: "no database name", yaml: `database: "postgres://u:pw@h:5432"`, want: []string{"database: names no database"}},
		{name: "bad URL", yaml: `database: "postgres://u:pw@h:port/db"`, want: []string{"database: is not a valid URL"}},
		{name: "interval length", yaml: "interval_length: 10m", want: []string{"interval_length: must be 1m, 5m, 15m, 30m or 60m, not 10m0s"}},
		{name: "history days", yaml: "history_days: 0", want: []string{"history_days: must be between 1 and 3660, not 0"}},
		{name: "scope", yaml: "api_tokens: [{name: x, token: \"${READ}\", scope: write}]", want: []string{`api_tokens[0].scope: must be read or admin, not "write"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), getenv)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if tt.check != nil {
					tt.check(t, c)
				}
				return
			}
			probs, _ := err.(Problems)
			if len(probs) != len(tt.want) {
				t.Fatalf("problems %q, want %q", probs, tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(probs[i], w) {
					t.Errorf("problem %q, want %q", probs[i], w)
				}
				if strings.Contains(probs[i], "pw") {
					t.Errorf("a problem shows the password: %q", probs[i])
				}
			}
		})
	}
}
