package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Cluster makes this process one replica of several behind a load
// balancer (docs/operations.md, "Replicas"): one leader holds the vendor
// subscriptions and publishes to a NATS JetStream stream that every
// replica applies. Absent (nil): one process, as before.
type Cluster struct {
	// Node names this process; unique per replica.
	Node string `yaml:"node"`
	// NATS lists the NATS servers (nats:// or tls:// URLs; a password in
	// one is a secret and never shown).
	NATS []Secret `yaml:"nats"`
	// Credentials is a NATS .creds file (optional).
	Credentials string `yaml:"credentials"`
	// Prefix names the stream and buckets, so that several installations
	// may share one NATS; default "wallboard".
	Prefix string `yaml:"prefix"`
	// Replicas is how many NATS servers keep a copy of the stream and
	// buckets: 3 on a three-node NATS cluster; default 1.
	Replicas int `yaml:"replicas"`
	// LeaseTTL is how long the leader's lease lasts after its last
	// renewal: a dead leader's successor takes over after about this
	// plus a second. Default 5s.
	LeaseTTL Duration `yaml:"lease_ttl"`
	// MaxLag: /readyz fails on a replica this far behind the stream.
	// Default 5s.
	MaxLag Duration `yaml:"max_lag"`
	// Retention is how long the stream keeps events (a replica started
	// with an older snapshot, or none, applies what it keeps). Default 26h.
	Retention Duration `yaml:"retention"`
}

// URLs returns the NATS URLs, secrets revealed.
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.NATS))
	for i, u := range c.NATS {
		out[i] = u.Reveal()
	}
	return out
}

var prefixRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// validateCluster checks the cluster: keys and fills in their defaults.
func (c *Config) validateCluster() Problems {
	cl := c.Cluster
	if cl == nil {
		return nil
	}
	var p Problems
	add := func(path, format string, args ...any) {
		p = append(p, "cluster."+path+": "+fmt.Sprintf(format, args...))
	}
	switch {
	case cl.Node == "":
		add("node", "missing (a name unique to this replica)")
	case !nameRE.MatchString(cl.Node):
		add("node", "%q may contain only letters, digits and '-'", cl.Node)
	}
	if len(cl.NATS) == 0 {
		add("nats", "missing (nats://HOST:4222 of a NATS server with JetStream)")
	}
	for i, s := range cl.NATS {
		u, err := url.Parse(s.Reveal())
		switch {
		case err != nil:
			add(fmt.Sprintf("nats[%d]", i), "is not a valid URL")
		case u.Scheme != "nats" && u.Scheme != "tls":
			add(fmt.Sprintf("nats[%d]", i), "must be a nats:// or tls:// URL")
		case u.Host == "":
			add(fmt.Sprintf("nats[%d]", i), "names no host")
		}
	}
	if cl.Prefix == "" {
		cl.Prefix = "wallboard"
	} else if !prefixRE.MatchString(cl.Prefix) {
		add("prefix", "%q may contain only letters, digits, '-' and '_'", cl.Prefix)
	}
	if cl.Replicas == 0 {
		cl.Replicas = 1
	} else if cl.Replicas < 1 || cl.Replicas > 5 {
		add("replicas", "must be between 1 and 5, not %d", cl.Replicas)
	}
	if cl.LeaseTTL == 0 {
		cl.LeaseTTL = Duration(5 * time.Second)
	} else if d := cl.LeaseTTL.D(); d < 2*time.Second || d > time.Minute {
		add("lease_ttl", "must be between 2s and 1m, not %s", cl.LeaseTTL)
	}
	if cl.MaxLag == 0 {
		cl.MaxLag = Duration(5 * time.Second)
	} else if cl.MaxLag.D() < time.Second {
		add("max_lag", "must be at least 1s, not %s", cl.MaxLag)
	}
	if cl.Retention == 0 {
		cl.Retention = Duration(26 * time.Hour)
	} else if cl.Retention.D() < time.Hour {
		add("retention", "must be at least 1h, not %s", cl.Retention)
	}
	if d := c.Database.Reveal(); !strings.HasPrefix(d, "postgres://") && !strings.HasPrefix(d, "postgresql://") {
		p = append(p, "database: must be a postgres:// URL when cluster is set (the replicas share one database)")
	}
	return p
}
