package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/internal/source"
)

// OpenID Connect sign-in: the authorization code flow with PKCE
// (golang.org/x/oauth2); discovery, the provider's keys and the ID token's
// signature, issuer, audience, expiry and not-before are checked by
// github.com/coreos/go-oidc. On top of it: the nonce this sign-in sent, the
// authorized party, a token issued in the future, and the mapping of the
// provider's groups to a role. An OIDC user's name is prefixed with
// "oidc:" for board access, so no provider account can pass for a local
// one (docs/security.md).

// oidcPrefix marks the names of users who signed in with OpenID Connect.
const oidcPrefix = "oidc:"

// signingAlgs are the ID token signatures accepted; symmetric and "none"
// never are.
var signingAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA}

// leeway tolerates clock skew between us and the provider.
const leeway = time.Minute

type oidcClient struct {
	cfg  *config.OIDC
	log  *slog.Logger
	http *http.Client

	// The provider, discovered on first use. No network call is made under
	// mu: a slow provider delays only the sign-ins that wait for it.
	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
}

func newOIDC(cfg *config.OIDC, log *slog.Logger) *oidcClient {
	return &oidcClient{cfg: cfg, log: log, http: &http.Client{Timeout: 10 * time.Second}}
}

// discover returns the provider, reading its discovery document the first
// time (and again after a failure).
func (o *oidcClient) discover(ctx context.Context) (*oidc.Provider, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	p, v := o.provider, o.verifier
	o.mu.Unlock()
	if p != nil {
		return p, v, nil
	}
	// The key set keeps this context's HTTP client (not its deadline) for
	// its later fetches.
	p, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), o.http), o.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to read the provider's discovery document: %w", err)
	}
	v = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID, SupportedSigningAlgs: signingAlgs})
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		o.provider, o.verifier = p, v
	}
	return o.provider, o.verifier, nil
}

func (o *oidcClient) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret.Reveal(), RedirectURL: o.cfg.RedirectURL,
		Scopes: o.cfg.Scopes, Endpoint: p.Endpoint()}
}

// A sign-in in progress (state, nonce, PKCE verifier, where to go after)
// is kept in a signed cookie, not in a session: an anonymous visitor
// leaves no state on the server.
const (
	oidcCookie = "wallboard_oidc"
	oidcTTL    = 10 * time.Minute
)

type oidcFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
	Expires  int64  `json:"e"`
}

func (s *Server) setFlow(c echo.Context, f oidcFlow) {
	b, _ := json.Marshal(f)
	v := base64.RawURLEncoding.EncodeToString(b)
	c.SetCookie(&http.Cookie{Name: oidcCookie, Value: v + "." + s.sign("oidc", v), Path: "/auth/oidc/", MaxAge: int(oidcTTL.Seconds()),
		HttpOnly: true, Secure: s.cfg.TLS.Secure(), SameSite: http.SameSiteLaxMode})
}

// popFlow returns the sign-in in progress and removes its cookie; ok is
// false without one, or with one forged or expired.
func (s *Server) popFlow(c echo.Context) (oidcFlow, bool) {
	ck, err := c.Request().Cookie(oidcCookie)
	if err != nil {
		return oidcFlow{}, false
	}
	c.SetCookie(&http.Cookie{Name: oidcCookie, Path: "/auth/oidc/", MaxAge: -1, HttpOnly: true,
		Secure: s.cfg.TLS.Secure(), SameSite: http.SameSiteLaxMode})
	v, mac, ok := strings.Cut(ck.Value, ".")
	if !ok || !equal(mac, s.sign("oidc", v)) {
		return oidcFlow{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	var f oidcFlow
	if err != nil || json.Unmarshal(b, &f) != nil || time.Now().Unix() > f.Expires || f.State == "" {
		return oidcFlow{}, false
	}
	return f, true
}

// handleOIDCStart sends the browser to the provider, remembering state,
// nonce and the PKCE verifier in a signed cookie.
func (s *Server) handleOIDCStart(c echo.Context) error {
	if s.oidc == nil {
		return ErrNotFound
	}
	p, _, err := s.oidc.discover(c.Request().Context())
	if err != nil {
		s.log.Warn("single sign-on unavailable", "error", err)
		return s.loginPage(c, http.StatusBadGateway, "/", i18n.Key("Single sign-on is unavailable: the identity provider did not answer. Try again shortly."))
	}
	f := oidcFlow{State: newToken(), Nonce: newToken(), Verifier: oauth2.GenerateVerifier(),
		Next: safeNext(c.QueryParam("next")), Expires: time.Now().Add(oidcTTL).Unix()}
	s.setFlow(c, f)
	u := s.oidc.oauth(p).AuthCodeURL(f.State, oauth2.S256ChallengeOption(f.Verifier), oidc.Nonce(f.Nonce))
	return c.Redirect(http.StatusFound, u)
}

// handleOIDCCallback exchanges the code, verifies the ID token and signs the
// user in with the role their groups map to.
func (s *Server) handleOIDCCallback(c echo.Context) error {
	if s.oidc == nil {
		return ErrNotFound
	}
	ctx := c.Request().Context()
	f, started := s.popFlow(c)
	next := safeNext(f.Next)
	fail := func(status int, msg string, err error) error {
		s.log.Warn("single sign-on failed", "reason", msg, "error", err)
		return s.loginPage(c, status, next, msg)
	}
	if e := c.QueryParam("error"); e != "" {
		// The provider's words stay in the log: a link could put any
		// sentence in the banner.
		s.log.Warn("single sign-on refused by the provider", "error", source.Excerpt([]byte(e), 80),
			"description", source.Excerpt([]byte(c.QueryParam("error_description")), 200))
		return fail(http.StatusUnauthorized, i18n.Key("The identity provider refused the sign-in."), nil)
	}
	if !started || !equal(c.QueryParam("state"), f.State) {
		return fail(http.StatusBadRequest, i18n.Key("This sign-in link has expired or was not started here. Try again."), nil)
	}
	p, v, err := s.oidc.discover(ctx)
	if err != nil {
		return fail(http.StatusBadGateway, i18n.Key("The identity provider did not answer. Try again shortly."), err)
	}
	xctx := context.WithValue(ctx, oauth2.HTTPClient, s.oidc.http)
	tok, err := s.oidc.oauth(p).Exchange(xctx, c.QueryParam("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return fail(http.StatusBadGateway, i18n.Key("The identity provider did not accept the sign-in code. Try again."), redactOAuthErr(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return fail(http.StatusBadGateway, i18n.Key("The identity provider sent no ID token."), nil)
	}
	claims, err := s.oidc.verify(ctx, v, raw, f.Nonce)
	if err != nil {
		return fail(http.StatusUnauthorized, i18n.Key("The identity provider's ID token was not valid."), err)
	}
	pr, err := s.oidc.principal(claims)
	if err != nil {
		return fail(http.StatusForbidden, err.Error(), nil)
	}
	if err := s.signIn(ctx, pr); err != nil {
		return err
	}
	s.log.Info("signed in", "user", pr.User, "role", pr.Role, "via", "oidc")
	return c.Redirect(http.StatusSeeOther, next)
}

// verify checks an ID token with go-oidc (signature, issuer, audience,
// expiry, not-before, numeric times), then what it leaves to us: the nonce
// of this sign-in, the authorized party, and a token issued in the future.
// It returns the claims.
func (o *oidcClient) verify(ctx context.Context, v *oidc.IDTokenVerifier, raw, nonce string) (map[string]any, error) {
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if nonce == "" || !equal(tok.Nonce, nonce) {
		return nil, errors.New("nonce does not match this sign-in")
	}
	if !tok.IssuedAt.IsZero() && tok.IssuedAt.After(time.Now().Add(leeway)) {
		return nil, errors.New("issued in the future")
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("failed to read the claims: %w", err)
	}
	if azp, ok := claims["azp"].(string); ok && len(tok.Audience) > 1 && azp != o.cfg.ClientID {
		return nil, errors.New("authorized party is another client")
	}
	return claims, nil
}

// redactOAuthErr keeps the status of a token endpoint error and drops its
// body, which may echo credentials.
func redactOAuthErr(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return fmt.Errorf("token endpoint: HTTP %d %s", re.Response.StatusCode, re.ErrorCode)
	}
	return err
}

// principal maps verified claims to a user and role. The name is the
// username claim, else the e-mail address if the provider verified it,
// else the subject; for board access it is prefixed with "oidc:".
func (o *oidcClient) principal(claims map[string]any) (Principal, error) {
	name := ""
	for _, k := range []string{o.cfg.UsernameClaim, "email", "sub"} {
		v, ok := claims[k].(string)
		if k == "email" && claims["email_verified"] != true {
			continue // an unverified address names anyone
		}
		if ok && v != "" {
			name = v
			break
		}
	}
	if name == "" {
		return Principal{}, errors.New("the identity provider sent no user name")
	}
	groups := stringList(claims[o.cfg.GroupsClaim])
	role := ""
	for _, r := range config.Roles {
		for _, g := range o.cfg.Roles[r] {
			if slices.Contains(groups, g) {
				role = r // Roles rise: the last match is the highest
			}
		}
	}
	if role == "" {
		role = o.cfg.DefaultRole
	}
	if role == "none" || rank(role) < 0 {
		return Principal{}, errors.New("Your account is not in a group that may use wallboard. Ask an administrator.") //nolint:revive,staticcheck // error-strings, ST1005: shown to the user as written
	}
	return Principal{User: oidcPrefix + name, Role: role, Groups: groups}, nil
}

// stringList reads a claim that is a string or a list of strings.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
