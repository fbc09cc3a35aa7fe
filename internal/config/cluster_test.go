package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCluster(t *testing.T) {
	t.Parallel()
	const pg = "database: postgres://wb:pw@db:5432/wallboard\n"
	tests := []struct {
		name     string
		yaml     string
		problems []string
		check    func(t *testing.T, c *Config)
	}{
		{name: "absent", yaml: "listen: 127.0.0.1:1\n", check: func(t *testing.T, c *Config) {
			if c.Cluster != nil {
				t.Errorf("cluster = %+v, want nil", c.Cluster)
			}
		}},
		{name: "defaults", yaml: pg + "cluster:\n  node: wb1\n  nats: [\"nats://u:secret@10.0.0.5:4222\", \"tls://n2:4222\"]\n",
			check: func(t *testing.T, c *Config) {
				cl := c.Cluster
				if cl.Node != "wb1" || cl.Prefix != "wallboard" || cl.Replicas != 1 || cl.LeaseTTL.D() != 5*time.Second ||
					cl.MaxLag.D() != 5*time.Second || cl.Retention.D() != 26*time.Hour {
					t.Errorf("cluster = %+v", cl)
				}
				if got := cl.URLs(); !slices.Equal(got, []string{"nats://u:secret@10.0.0.5:4222", "tls://n2:4222"}) {
					t.Errorf("urls = %v", got)
				}
				if s := cl.NATS[0].String(); strings.Contains(s, "secret") {
					t.Errorf("a NATS URL prints as %q", s)
				}
			}},
		{name: "set", yaml: pg + "cluster:\n  node: wb-2\n  nats: [nats://n:4222]\n  prefix: site_a\n  replicas: 3\n  lease_ttl: 8s\n  max_lag: 3s\n  retention: 48h\n",
			check: func(t *testing.T, c *Config) {
				cl := c.Cluster
				if cl.Prefix != "site_a" || cl.Replicas != 3 || cl.LeaseTTL.D() != 8*time.Second || cl.MaxLag.D() != 3*time.Second || cl.Retention.D() != 48*time.Hour {
					t.Errorf("cluster = %+v", cl)
				}
			}},
		{name: "missing", yaml: pg + "cluster:\n  prefix: x\n", problems: []string{
			"cluster.node: missing (a name unique to this replica)",
			"cluster.nats: missing (nats://HOST:4222 of a NATS server with JetStream)"}},
		{name: "bad values", yaml: pg + "cluster:\n  node: wb 1\n  nats: [\"http://x:4222\", \"nats://\"]\n  prefix: a.b\n  replicas: 7\n  lease_ttl: 1s\n  max_lag: 100ms\n  retention: 10m\n",
			problems: []string{
				`cluster.node: "wb 1" may contain only letters, digits and '-'`,
				"cluster.nats[0]: must be a nats:// or tls:// URL",
				"cluster.nats[1]: names no host",
				`cluster.prefix: "a.b" may contain only letters, digits, '-' and '_'`,
				"cluster.replicas: must be between 1 and 5, not 7",
				"cluster.lease_ttl: must be between 2s and 1m, not 1s",
				"cluster.max_lag: must be at least 1s, not 100ms",
				"cluster.retention: must be at least 1h, not 10m0s"}},
		{name: "sqlite", yaml: "cluster:\n  node: wb1\n  nats: [nats://n:4222]\n", problems: []string{
			"database: must be a postgres:// URL when cluster is set (the replicas share one database)"}},
		{name: "unknown key", yaml: pg + "cluster:\n  node: wb1\n  nats: [nats://n:4222]\n  leader: wb1\n", problems: []string{"cluster.leader"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Parse([]byte(tt.yaml), func(string) string { return "" })
			if len(tt.problems) > 0 {
				if err == nil {
					t.Fatal("no problems reported")
				}
				for _, want := range tt.problems {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("problems %v lack %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, &cfg)
		})
	}
}
