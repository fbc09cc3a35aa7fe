package server

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/hub"
)

// handleBoardEvents checks the session from its cookie (principal): the
// session middleware, which would buffer the stream, is not on this route.
func (s *Server) handleBoardEvents(c echo.Context) error {
	_, b, err := s.boardAccess(c, config.RoleViewer)
	if err != nil {
		return err
	}
	stream, _ := s.viewerStream(c, b, b.Lang) // the page's ?lang= (pages.go)
	return s.stream(c, stream, "")
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
