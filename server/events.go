package server

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/hub"
)

// handleBoardEvents checks the session from its cookie (principal): the
// session middleware, which would buffer the stream, is not on this route.
func (s *Server) handleBoardEvents(c echo.Context) error {
	p, ok := s.principal(c.Request())
	if !ok {
		return ErrUnauthorized
	}
	id := c.Param("id")
	if _, found := s.cfg.Board(id); !found {
		return ErrNotFound
	}
	if !s.canSee(p, id) {
		return ErrForbidden
	}
	return s.stream(c, id, "")
}

// stream serves board id's event stream. The client's position is its
// Last-Event-ID (a reconnect) or the since parameter its page was rendered
// with (the first connect).
func (s *Server) stream(c echo.Context, id, kiosk string) error {
	topic, ok := s.opts.Streams.Lookup(id)
	if !ok {
		return ErrNotFound
	}
	r := c.Request()
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = c.QueryParam("since")
	}
	err := topic.Serve(r.Context(), c.Response(), last, hub.Info{Kiosk: kiosk, Remote: r.RemoteAddr})
	if err != nil && !errors.Is(err, hub.ErrClosed) {
		s.log.Debug("stream ended", "board", id, "error", err)
	}
	return nil // the answer has started: nothing more to say
}
