package server

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/hub"
)

func (s *Server) handleBoardEvents(c echo.Context) error {
	if !s.viewerFromCookie(c) {
		return ErrUnauthorized
	}
	return s.stream(c, c.Param("id"), "")
}

func (s *Server) handleKioskEvents(c echo.Context) error {
	id, name, ok := s.kioskBoard(c.Param("token"))
	if !ok {
		return ErrNotFound
	}
	return s.stream(c, id, name)
}

// viewerFromCookie checks the session without the session middleware, which
// would buffer the stream.
func (s *Server) viewerFromCookie(c echo.Context) bool {
	r := c.Request()
	if s.opts.AnonymousLoopback && isLoopback(r.RemoteAddr) {
		return true
	}
	cookie, err := r.Cookie(s.sessions.Cookie.Name)
	if err != nil {
		return false
	}
	ctx, err := s.sessions.Load(r.Context(), cookie.Value)
	if err != nil {
		return false
	}
	return s.sessions.GetString(ctx, "user") != ""
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
