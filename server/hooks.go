package server

import (
	"github.com/labstack/echo/v4"
)

// handleHook hands a vendor's post to the source it names: POST
// /hooks/{type}/{source} (netsapiens: /hooks/netsapiens/{source}). Any source
// type whose factory returns a handler receives posts this way, with no
// route of its own; a configured source answers only under its own type.
// The source validates the correlation id and the body.
func (s *Server) handleHook(c echo.Context) error {
	name := c.Param("source")
	h, ok := s.opts.Hooks[name]
	if !ok {
		return refuseBody(c, ErrNotFound)
	}
	for _, sc := range s.cfg.Sources {
		if sc.Name == name && sc.Type != c.Param("type") {
			return ErrNotFound
		}
	}
	h.ServeHTTP(c.Response(), c.Request())
	return nil
}
