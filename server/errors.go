package server

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/i18n"
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
	var pe *pageError
	r := c.Request()
	switch {
	case errors.Is(err, ErrUnauthorized) && r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") && !isStream(c):
		// A person in a browser: to the sign-in page, and back here after.
		// Not an event stream: its client would take the sign-in page for
		// the stream and reconnect to it forever; a 401 tells it the
		// session has ended.
		_ = c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(r.URL.RequestURI()))
		return
	case errors.Is(err, ErrForbidden):
		status, title, msg = http.StatusForbidden, i18n.Key("Not allowed"), i18n.Key("Your account may not see this board or do this. Ask an administrator to add you to the board's access list.")
	case errors.As(err, &pe):
		status, title, msg = pe.status, pe.title, pe.msg
	case errors.Is(err, ErrNotFound):
		status, title, msg = http.StatusNotFound, i18n.Key("Not found"), i18n.Key("There is no such board or link. It may have been removed from the configuration.")
	case errors.Is(err, ErrUnauthorized):
		status, title, msg = http.StatusUnauthorized, i18n.Key("Sign-in required"), i18n.Key("Boards need a signed-in session, an API token, or a TV link.")
	case errors.As(err, &he):
		status = he.Code
		title = http.StatusText(status)
		msg = http.StatusText(status)
	default:
		s.log.Error("request failed", "method", c.Request().Method, "path", redactPath(c.Request().URL.Path), "error", err)
	}
	if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/hooks/") || strings.Contains(r.Header.Get("Accept"), "application/json") {
		_ = c.JSON(status, map[string]string{"error": title})
		return
	}
	_ = render(c, status, templates.ErrorPage(status, title, msg, s.templAssets(), viewerLang(r)))
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
