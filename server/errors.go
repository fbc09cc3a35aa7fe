package server

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/templates"
)

// handleError is the one place that maps errors to statuses and logs the
// unexpected ones.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, title, msg := http.StatusInternalServerError, "Something went wrong", "The server could not answer. It has been logged."
	var he *echo.HTTPError
	switch {
	case errors.Is(err, ErrNotFound):
		status, title, msg = http.StatusNotFound, "Not found", "There is no such board or link. It may have been removed from the configuration."
	case errors.Is(err, ErrUnauthorized):
		status, title, msg = http.StatusUnauthorized, "Sign-in required", "Boards need a signed-in session, an API token, or a TV link."
	case errors.As(err, &he):
		status = he.Code
		title = http.StatusText(status)
		msg = http.StatusText(status)
	default:
		s.log.Error("request failed", "method", c.Request().Method, "path", redactPath(c.Request().URL.Path), "error", err)
	}
	r := c.Request()
	if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/hooks/") || strings.Contains(r.Header.Get("Accept"), "application/json") {
		_ = c.JSON(status, map[string]string{"error": title})
		return
	}
	_ = render(c, status, templates.ErrorPage(status, title, msg, s.templAssets()))
}

var tvPath = regexp.MustCompile(`^/tv/[^/]+`)

// redactPath hides kiosk tokens, which are credentials, from logs.
func redactPath(p string) string { return tvPath.ReplaceAllString(p, "/tv/[redacted]") }

// accessLog logs one line per request, without query strings or tokens.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		s.log.Debug("request", "method", c.Request().Method, "path", redactPath(c.Request().URL.Path),
			"status", c.Response().Status, "duration", time.Since(start))
		return nil
	}
}

// securityHeaders are set on every answer.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
		return next(c)
	}
}
