package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/i18n"
)

// CSRF: every unsafe request (POST, PUT, PATCH, DELETE) carries the
// session's token in the csrf_token form field or the X-CSRF-Token header,
// except the vendor webhook (its credential is the subscription id), the
// demo's loopback-only control route and a kiosk's sound report; the
// sign-in form, which has no session yet, carries a token bound to a
// cookie instead (loginToken). Cross-origin unsafe requests are also
// refused by the browser's Sec-Fetch-Site / Origin headers.

// csrfExempt reports whether path is a route that is not a browser form.
func csrfExempt(path string) bool {
	return strings.HasPrefix(path, "/hooks/") || path == "/demo/action"
}

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
		if r.URL.Path == "/login" {
			// The sign-in form has no session yet: handleLogin checks the
			// sign-in limit, then its cookie-bound token (loginToken).
			return next(c)
		}
		// The form is read here, whatever carries the token, so that a body
		// too large or too slow is refused before any handler sees it.
		if err := readForm(r); err != nil {
			return err
		}
		got := r.Header.Get("X-CSRF-Token")
		if got == "" {
			got = r.PostFormValue("csrf_token")
		}
		want := s.sessions.GetString(s.sessionCtx(r), keyCSRF)
		if want == "" || got == "" || !equal(got, want) {
			return errCSRF
		}
		return next(c)
	}
}

var errCSRF = &pageError{status: http.StatusForbidden, title: i18n.Key("Form expired"),
	msg: i18n.Key("This form has expired or did not come from this site. Go back, reload the page and try again.")}

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

// The sign-in form's CSRF token needs no session (an anonymous visitor
// leaves no state on the server): the browser gets a random cookie, and
// the form's token is an HMAC of it under a key made at start, so a site
// that cannot read our cookies cannot forge the form (double submit, signed).
// A restart makes open sign-in forms expire.

// loginCookie holds the browser's half of the sign-in form's token.
const loginCookie = "wallboard_login"

// newKey returns 32 random bytes.
func newKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// sign returns the HMAC of value for purpose under the server's form key.
func (s *Server) sign(purpose, value string) string {
	m := hmac.New(sha256.New, s.formKey)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// loginToken returns the sign-in form's token for this browser, setting its
// login cookie first when it has none.
func (s *Server) loginToken(c echo.Context) string {
	v := ""
	if ck, err := c.Request().Cookie(loginCookie); err == nil && len(ck.Value) >= 26 && len(ck.Value) <= 64 {
		v = ck.Value
	}
	if v == "" {
		v = newToken()
		c.SetCookie(&http.Cookie{Name: loginCookie, Value: v, Path: "/login", HttpOnly: true,
			Secure: s.cfg.TLS.Secure(), SameSite: http.SameSiteLaxMode})
	}
	return s.sign("login", v)
}

// checkLoginToken reports whether got is the sign-in token of r's cookie.
func (s *Server) checkLoginToken(r *http.Request, got string) bool {
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" || got == "" {
		return false
	}
	return hmac.Equal([]byte(got), []byte(s.sign("login", ck.Value)))
}
