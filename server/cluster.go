package server

import (
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
)

// ClusterStatus is a replica's view of the replicas (cluster: set), for
// GET /api/v1/cluster, /admin and /readyz.
type ClusterStatus struct {
	Node       string
	Leader     string // "" while nobody leads
	Term       uint64 // this replica's lease term while it leads
	Applied    uint64 // the last stream position this replica applied
	StreamLast uint64
	LagSeconds float64
	Connected  bool
	Ready      bool
	Why        string // why not ready
	Nodes      []ClusterNode
}

// ClusterNode is one replica as GET /api/v1/cluster lists it.
type ClusterNode struct {
	Name       string    `json:"name"`
	Leader     bool      `json:"leader"`
	LastSeenAt time.Time `json:"last_seen_at"`
	Applied    uint64    `json:"applied"`
}

type clusterJSON struct {
	Node   string        `json:"node"`
	Leader string        `json:"leader"`
	Nodes  []ClusterNode `json:"nodes"`
}

// handleCluster answers GET /api/v1/cluster (who may: as /api/v1/state).
// A single process answers with itself as the leader.
func (s *Server) handleCluster(c echo.Context) error {
	r := c.Request()
	c.Response().Header().Set("Cache-Control", "no-store")
	if _, signedIn := s.principal(r); !s.apiToken(r) && !signedIn {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="wallboard"`)
		return ErrUnauthorized
	}
	if s.opts.Cluster == nil {
		name, err := os.Hostname()
		if err != nil || name == "" {
			name = "wallboard"
		}
		return c.JSON(http.StatusOK, clusterJSON{Node: name, Leader: name,
			Nodes: []ClusterNode{{Name: name, Leader: true, LastSeenAt: time.Now().UTC()}}})
	}
	st := s.opts.Cluster()
	out := clusterJSON{Node: st.Node, Leader: st.Leader, Nodes: st.Nodes}
	if out.Nodes == nil {
		out.Nodes = []ClusterNode{}
	}
	return c.JSON(http.StatusOK, out)
}
