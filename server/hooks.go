package server

import (
	"github.com/labstack/echo/v4"
)

// handleNetSapiensHook hands a vendor post to the NetSapiens source it names;
// the source validates the correlation id and the body.
func (s *Server) handleNetSapiensHook(c echo.Context) error {
	h, ok := s.opts.Hooks[c.Param("source")]
	if !ok {
		return refuseBody(c, ErrNotFound)
	}
	h.ServeHTTP(c.Response(), c.Request())
	return nil
}
