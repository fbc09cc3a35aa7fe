package server

import (
	"fmt"
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
// start and the model answers; 503 with the reason otherwise.
func (s *Server) handleReadyz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	if _, err := s.opts.Floor.Snapshot(c.Request().Context()); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"ready": false, "reason": "the model is not running"})
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

// handleMetrics writes Prometheus text format.
func (s *Server) handleMetrics(c echo.Context) error {
	var b strings.Builder
	metric := func(name, help, typ string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	stats := s.opts.Sources()
	metric("wallboard_source_messages_total", "Upstream messages received per source.", "counter")
	for _, st := range stats {
		fmt.Fprintf(&b, "wallboard_source_messages_total{source=%q,type=%q} %d\n", st.Name, st.Type, st.Messages)
	}
	metric("wallboard_source_errors_total", "Malformed frames and other errors per source.", "counter")
	for _, st := range stats {
		fmt.Fprintf(&b, "wallboard_source_errors_total{source=%q} %d\n", st.Name, st.Errors)
	}
	metric("wallboard_source_reconnects_total", "Reconnects per source.", "counter")
	for _, st := range stats {
		fmt.Fprintf(&b, "wallboard_source_reconnects_total{source=%q} %d\n", st.Name, st.Reconnects)
	}
	metric("wallboard_source_up", "1 when the source is live.", "gauge")
	for _, st := range stats {
		up := 0
		if st.Status == "live" {
			up = 1
		}
		fmt.Fprintf(&b, "wallboard_source_up{source=%q,status=%q} %d\n", st.Name, st.Status, up)
	}
	hs := s.opts.Streams.Stats()
	metric("wallboard_subscribers", "Open event streams.", "gauge")
	fmt.Fprintf(&b, "wallboard_subscribers %d\n", hs.Subscribers)
	metric("wallboard_subscribers_cut_total", "Streams switched to a full reset for lagging far behind.", "counter")
	fmt.Fprintf(&b, "wallboard_subscribers_cut_total %d\n", hs.Cut)
	metric("wallboard_subscribers_timed_out_total", "Streams closed because a write blocked past the deadline.", "counter")
	fmt.Fprintf(&b, "wallboard_subscribers_timed_out_total %d\n", hs.Timeouts)
	metric("wallboard_frames_total", "Frames published (once per board, not per subscriber).", "counter")
	fmt.Fprintf(&b, "wallboard_frames_total %d\n", hs.Frames)
	metric("wallboard_sent_bytes_total", "Bytes written to event streams.", "counter")
	fmt.Fprintf(&b, "wallboard_sent_bytes_total %d\n", hs.BytesSent)
	c.Response().Header().Set(echo.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	return c.String(http.StatusOK, b.String())
}
