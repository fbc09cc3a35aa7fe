package server

import (
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
)

func (s *Server) handleHealthz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.String(http.StatusOK, "ok\n")
}

// handleReadyz is 200 once every source has been live at least once since
// start, the model answers and the journal writes; 503 with the reason
// otherwise. A replica (cluster: set) is ready while it is connected to
// NATS and no more than max_lag behind the stream.
func (s *Server) handleReadyz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	if _, err := s.opts.Floor.Snapshot(c.Request().Context()); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"ready": false, "reason": "the model is not running"})
	}
	if s.opts.Operations != nil {
		if p := s.opts.Operations().Journal.Problem; p != "" {
			return c.JSON(http.StatusServiceUnavailable, map[string]any{"ready": false, "reason": p, "journal": p})
		}
	}
	if s.opts.Cluster != nil {
		// Replicas: only the leader runs the sources; every replica is
		// ready once it is connected and caught up with the stream.
		if st := s.opts.Cluster(); !st.Ready {
			return c.JSON(http.StatusServiceUnavailable, map[string]any{"ready": false, "reason": "cluster: " + st.Why,
				"lag_seconds": st.LagSeconds})
		}
		return c.JSON(http.StatusOK, map[string]any{"ready": true})
	}
	var waiting []string
	for _, st := range s.opts.Sources() {
		if !st.EverLive {
			waiting = append(waiting, st.Name)
		}
	}
	if len(waiting) > 0 {
		sort.Strings(waiting)
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"ready": false,
			"reason": "not live yet: " + strings.Join(waiting, ", "), "sources": waiting})
	}
	return c.JSON(http.StatusOK, map[string]any{"ready": true})
}
