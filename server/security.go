package server

import (
	"crypto/rand"
	"encoding/base64"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// pageError is an error with its status and the words a person reads.
type pageError struct {
	status     int
	title, msg string
}

func (e *pageError) Error() string { return e.title }

// securityHeaders are set on every answer: a strict Content-Security-Policy
// whose script nonce is new for each answer (templates read it from the
// request context), no framing unless a board allows it (boardCSP), no
// referrer, no sniffing, and HSTS when browsers reach us over HTTPS.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var b [16]byte
		_, _ = rand.Read(b[:])
		nonce := base64.RawURLEncoding.EncodeToString(b[:])
		r := c.Request()
		c.SetRequest(r.WithContext(templ.WithNonce(r.Context(), nonce)))
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Content-Security-Policy", csp(nonce, nil))
		h.Set("X-Frame-Options", "DENY")
		if s.cfg.TLS.Secure() {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// csp is the policy: scripts only with this answer's nonce (htmx and its SSE
// extension need neither eval nor inline scripts as long as no hx-on or js:
// attribute is used), styles from our own stylesheet plus style attributes
// (the templates size grids with CSS variables in style=""), connections to
// this origin only, and framing by frameAncestors ('none' when empty).
func csp(nonce string, frameAncestors []string) string {
	fa := "'none'"
	if len(frameAncestors) > 0 {
		fa = strings.Join(frameAncestors, " ")
	}
	return "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'self'; style-src-attr 'unsafe-inline'; " +
		"img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors " + fa
}

// allowFraming lets the board's embed origins frame this answer.
func allowFraming(c echo.Context, origins []string) {
	if len(origins) == 0 {
		return
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", csp(templ.GetNonce(c.Request().Context()), origins))
	h.Del("X-Frame-Options")
}
