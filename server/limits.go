package server

import (
	"errors"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/i18n"
)

// Request limits (docs/security.md lists them): every body is small and
// must arrive in time, whatever route it is sent to and whatever carries
// the CSRF token; no route takes an upload.

// maxFormBytes bounds the body of every route but the vendor webhook (which
// has its own, larger limit: max_body_bytes).
const maxFormBytes = 64 << 10

// defaultBodyTimeout bounds the time to read a request's body on every
// route but the event streams (which live for days and take no body).
const defaultBodyTimeout = 10 * time.Second

var (
	errTooLarge = &pageError{status: http.StatusRequestEntityTooLarge, title: i18n.Key("Request too large"),
		msg: i18n.Key("The request is larger than this server accepts.")}
	errUpload = &pageError{status: http.StatusUnsupportedMediaType, title: i18n.Key("Unsupported request"),
		msg: i18n.Key("This server takes no uploads.")}
	errSlowBody = &pageError{status: http.StatusRequestTimeout, title: i18n.Key("Request too slow"),
		msg: i18n.Key("The request did not arrive in time.")}
	errBadBody    = &pageError{status: http.StatusBadRequest, title: i18n.Key("Bad request"), msg: i18n.Key("The request could not be read.")}
	errStreamBody = &pageError{status: http.StatusBadRequest, title: i18n.Key("Bad request"),
		msg: i18n.Key("An event stream takes no request body.")}
)

// isStream reports whether the route is an event stream.
func isStream(c echo.Context) bool { return strings.HasSuffix(c.Path(), "/events") }

// limitBody bounds every request's body before any handler or middleware
// reads it: at most maxFormBytes (413 when declared larger, a read error
// when a chunked body grows past it), no multipart (415), and the whole
// body within the body timeout (the connection's read deadline, which the
// server resets for the next request). Event streams take no body at all
// and get no deadline; nor does a request without a body.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if isStream(c) {
			if r.ContentLength != 0 {
				return refuseBody(c, errStreamBody)
			}
			return next(c)
		}
		if r.ContentLength == 0 {
			return next(c) // no body: nothing to bound
		}
		rc := http.NewResponseController(c.Response())
		_ = rc.SetReadDeadline(time.Now().Add(s.bodyTimeout))
		if strings.HasPrefix(r.URL.Path, "/hooks/") {
			return next(c) // the source bounds its own body (max_body_bytes)
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); strings.HasPrefix(mt, "multipart/") {
			return refuseBody(c, errUpload)
		}
		if r.ContentLength > maxFormBytes {
			return refuseBody(c, errTooLarge)
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, maxFormBytes)
		}
		return next(c)
	}
}

// refuseBody answers err without reading the request's body, and closes
// the connection after the answer: net/http would otherwise read what is
// left of a small body before answering, at the client's pace.
func refuseBody(c echo.Context, err error) error {
	c.Response().Header().Set("Connection", "close")
	return err
}

// readForm parses the request's urlencoded form (bounded by limitBody) and
// maps a body that is too large or too slow to its status.
func readForm(r *http.Request) error {
	err := r.ParseForm()
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &mbe):
		return errTooLarge
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errSlowBody
	default:
		return errBadBody
	}
}
