package server

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// CSRF: every unsafe request (POST, PUT, PATCH, DELETE) carries the
// session's token in the csrf_token form field or the X-CSRF-Token header,
// except the vendor webhook (its credential is the subscription id) and the
// demo's loopback-only control route. Cross-origin unsafe requests are also
// refused by the browser's Sec-Fetch-Site / Origin headers.

// csrfExempt reports whether path is a route that is not a browser form.
func csrfExempt(path string) bool {
	return strings.HasPrefix(path, "/hooks/") || path == "/demo/action"
}

// maxFormBytes bounds a form body read for its CSRF token.
const maxFormBytes = 64 << 10

// csrfProtect refuses unsafe requests without the session's CSRF token.
func (s *Server) csrfProtect(next echo.HandlerFunc) echo.HandlerFunc {
	cop := http.NewCrossOriginProtection()
	return func(c echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if csrfExempt(r.URL.Path) || s.kioskReport(r.URL.Path) || bearerAPI(r) { // bearerAPI: api_boards.go
			return next(c)
		}
		if err := cop.Check(r); err != nil {
			return errCSRF
		}
		got := r.Header.Get("X-CSRF-Token")
		if got == "" {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, maxFormBytes)
			got = r.PostFormValue("csrf_token")
		}
		want := s.sessions.GetString(s.sessionCtx(r), keyCSRF)
		if want == "" || got == "" || !equal(got, want) {
			return errCSRF
		}
		return next(c)
	}
}

var errCSRF = &pageError{status: http.StatusForbidden, title: "Form expired",
	msg: "This form has expired or did not come from this site. Go back, reload the page and try again."}

// csrfToken returns the session's CSRF token, making one if needed. ctx must
// carry the loaded session (the pages' session middleware).
func (s *Server) csrfToken(ctx context.Context) string {
	tok := s.sessions.GetString(ctx, keyCSRF)
	if tok == "" {
		tok = newToken()
		s.sessions.Put(ctx, keyCSRF, tok)
	}
	return tok
}

// newToken returns 26 random characters (130 bits).
func newToken() string { return rand.Text() }
