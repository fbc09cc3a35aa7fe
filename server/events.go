package server

import (
	"errors"
	"net/http"

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
	return s.signedInStream(c, stream, b.ID, config.RoleViewer)
}

// signedInStream serves stream id of board to a signed-in user who needs
// role on it; the stream ends when the session does (streamwatch.go).
func (s *Server) signedInStream(c echo.Context, id, board, role string) error {
	token, user := s.sessionToken(c.Request())
	return s.stream(c, id, hub.Info{Bind: s.watchStream(token, user, board, role)})
}

// sessionToken is the token of r's session and its user, "" without a
// signed-in one (the demo's loopback visitor).
func (s *Server) sessionToken(r *http.Request) (token, user string) {
	ctx := s.sessionCtx(r)
	p, ok := s.sessionPrincipal(ctx)
	if !ok {
		return "", ""
	}
	return s.sessions.Token(ctx), p.User
}

// stream serves stream id to the client, as info says who it is. The
// client's position is its Last-Event-ID (a reconnect) or the since
// parameter its page was rendered with (the first connect).
func (s *Server) stream(c echo.Context, id string, info hub.Info) error {
	topic, ok := s.opts.Streams.Lookup(id)
	if !ok {
		return ErrNotFound
	}
	r := c.Request()
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = c.QueryParam("since")
	}
	if isHead(c) {
		c.Response().Header().Set(echo.HeaderContentType, "text/event-stream")
		return c.NoContent(http.StatusOK)
	}
	info.Remote = r.RemoteAddr
	err := topic.Serve(r.Context(), c.Response(), last, info)
	if err != nil && !errors.Is(err, hub.ErrClosed) {
		s.log.Debug("stream ended", "board", id, "error", err)
	}
	return nil // the answer has started: nothing more to say
}
