package server

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/wallboard/wallboard/internal/config"
)

// OpenID Connect sign-in: the authorization code flow with PKCE
// (golang.org/x/oauth2), endpoints from the issuer's discovery document, and
// the ID token verified here with the standard library against the
// provider's published keys (RS256/384/512, ES256/384): signature, issuer,
// audience, expiry and the nonce this sign-in sent.

// Session keys of a sign-in in progress.
const (
	keyOIDCState    = "oidc_state"
	keyOIDCNonce    = "oidc_nonce"
	keyOIDCVerifier = "oidc_verifier"
	keyOIDCNext     = "oidc_next"
)

type oidcClient struct {
	cfg  *config.OIDC
	log  *slog.Logger
	http *http.Client

	mu        sync.Mutex
	disc      *discovery
	keys      map[string]crypto.PublicKey // by kid
	keysAt    time.Time
	discErrAt time.Time
}

type discovery struct {
	Issuer        string `json:"issuer"`
	AuthEndpoint  string `json:"authorization_endpoint"`
	TokenEndpoint string `json:"token_endpoint"`
	JWKSURI       string `json:"jwks_uri"`
}

func newOIDC(cfg *config.OIDC, log *slog.Logger) *oidcClient {
	return &oidcClient{cfg: cfg, log: log, http: &http.Client{Timeout: 10 * time.Second}}
}

// discover fetches and caches the issuer's discovery document.
func (o *oidcClient) discover(ctx context.Context) (*discovery, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.disc != nil {
		return o.disc, nil
	}
	u := strings.TrimSuffix(o.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	var d discovery
	if err := o.getJSON(ctx, u, &d); err != nil {
		return nil, fmt.Errorf("failed to read the provider's discovery document: %w", err)
	}
	if d.Issuer != o.cfg.Issuer {
		return nil, fmt.Errorf("the discovery document names issuer %q, not the configured %q", d.Issuer, o.cfg.Issuer)
	}
	if d.AuthEndpoint == "" || d.TokenEndpoint == "" || d.JWKSURI == "" {
		return nil, errors.New("the discovery document lacks an authorization, token or jwks endpoint")
	}
	o.disc = &d
	return o.disc, nil
}

func (o *oidcClient) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := o.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

func (o *oidcClient) oauth(d *discovery) *oauth2.Config {
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret.Reveal(), RedirectURL: o.cfg.RedirectURL,
		Scopes: o.cfg.Scopes, Endpoint: oauth2.Endpoint{AuthURL: d.AuthEndpoint, TokenURL: d.TokenEndpoint}}
}

// handleOIDCStart sends the browser to the provider, remembering state,
// nonce and the PKCE verifier in the session.
func (s *Server) handleOIDCStart(c echo.Context) error {
	if s.oidc == nil {
		return ErrNotFound
	}
	ctx := c.Request().Context()
	d, err := s.oidc.discover(ctx)
	if err != nil {
		s.log.Warn("single sign-on unavailable", "error", err)
		return s.loginPage(c, http.StatusBadGateway, "/", "Single sign-on is unavailable: the identity provider did not answer. Try again shortly.")
	}
	state, nonce, verifier := newToken(), newToken(), oauth2.GenerateVerifier()
	s.sessions.Put(ctx, keyOIDCState, state)
	s.sessions.Put(ctx, keyOIDCNonce, nonce)
	s.sessions.Put(ctx, keyOIDCVerifier, verifier)
	s.sessions.Put(ctx, keyOIDCNext, safeNext(c.QueryParam("next")))
	u := s.oidc.oauth(d).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce))
	return c.Redirect(http.StatusFound, u)
}

// handleOIDCCallback exchanges the code, verifies the ID token and signs the
// user in with the role their groups map to.
func (s *Server) handleOIDCCallback(c echo.Context) error {
	if s.oidc == nil {
		return ErrNotFound
	}
	ctx := c.Request().Context()
	state := s.sessions.PopString(ctx, keyOIDCState)
	nonce := s.sessions.PopString(ctx, keyOIDCNonce)
	verifier := s.sessions.PopString(ctx, keyOIDCVerifier)
	next := safeNext(s.sessions.PopString(ctx, keyOIDCNext))
	fail := func(status int, msg string, err error) error {
		s.log.Warn("single sign-on failed", "reason", msg, "error", err)
		return s.loginPage(c, status, next, msg)
	}
	if e := c.QueryParam("error"); e != "" {
		return fail(http.StatusUnauthorized, "The identity provider refused the sign-in ("+e+").", nil)
	}
	if state == "" || !equal(c.QueryParam("state"), state) {
		return fail(http.StatusBadRequest, "This sign-in link has expired or was not started here. Try again.", nil)
	}
	d, err := s.oidc.discover(ctx)
	if err != nil {
		return fail(http.StatusBadGateway, "The identity provider did not answer. Try again shortly.", err)
	}
	xctx := context.WithValue(ctx, oauth2.HTTPClient, s.oidc.http)
	tok, err := s.oidc.oauth(d).Exchange(xctx, c.QueryParam("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return fail(http.StatusBadGateway, "The identity provider did not accept the sign-in code. Try again.", redactOAuthErr(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return fail(http.StatusBadGateway, "The identity provider sent no ID token.", nil)
	}
	claims, err := s.oidc.verify(ctx, raw, nonce)
	if err != nil {
		return fail(http.StatusUnauthorized, "The identity provider's ID token was not valid.", err)
	}
	p, err := s.oidc.principal(claims)
	if err != nil {
		return fail(http.StatusForbidden, err.Error(), nil)
	}
	if err := s.signIn(ctx, p); err != nil {
		return err
	}
	s.log.Info("signed in", "user", p.User, "role", p.Role, "via", "oidc")
	return c.Redirect(http.StatusSeeOther, next)
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

// principal maps verified claims to a user and role.
func (o *oidcClient) principal(claims map[string]any) (Principal, error) {
	name := ""
	for _, k := range []string{o.cfg.UsernameClaim, "email", "sub"} {
		if v, ok := claims[k].(string); ok && v != "" {
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
		return Principal{}, errors.New("Your account is not in a group that may use wallboard. Ask an administrator.")
	}
	return Principal{User: name, Role: role, Groups: groups}, nil
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

// leeway tolerates clock skew between us and the provider.
const leeway = time.Minute

// verify checks an ID token's signature against the provider's keys and its
// claims, and returns the claims.
func (o *oidcClient) verify(ctx context.Context, raw, nonce string) (map[string]any, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWS compact token")
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return nil, fmt.Errorf("bad header: %w", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errors.New("bad signature encoding")
	}
	key, err := o.key(ctx, hdr.Kid)
	if err != nil {
		return nil, err
	}
	if err := verifySignature(hdr.Alg, key, []byte(parts[0]+"."+parts[1]), sig); err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, fmt.Errorf("bad claims: %w", err)
	}
	now := time.Now()
	if iss, _ := claims["iss"].(string); iss != o.cfg.Issuer {
		return nil, fmt.Errorf("issuer %q is not %q", iss, o.cfg.Issuer)
	}
	aud := stringList(claims["aud"])
	if !slices.Contains(aud, o.cfg.ClientID) {
		return nil, fmt.Errorf("audience %v does not include this client", aud)
	}
	if azp, ok := claims["azp"].(string); ok && len(aud) > 1 && azp != o.cfg.ClientID {
		return nil, errors.New("authorized party is another client")
	}
	exp, ok := claims["exp"].(float64)
	if !ok || now.After(time.Unix(int64(exp), 0).Add(leeway)) {
		return nil, errors.New("expired (or no exp)")
	}
	if iat, ok := claims["iat"].(float64); ok && time.Unix(int64(iat), 0).After(now.Add(leeway)) {
		return nil, errors.New("issued in the future")
	}
	if nbf, ok := claims["nbf"].(float64); ok && time.Unix(int64(nbf), 0).After(now.Add(leeway)) {
		return nil, errors.New("not valid yet")
	}
	if n, _ := claims["nonce"].(string); nonce == "" || !equal(n, nonce) {
		return nil, errors.New("nonce does not match this sign-in")
	}
	return claims, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// verifySignature checks sig over signed with key for alg. Symmetric and
// "none" algorithms are refused.
func verifySignature(alg string, key crypto.PublicKey, signed, sig []byte) error {
	var h crypto.Hash
	switch alg {
	case "RS256", "ES256":
		h = crypto.SHA256
	case "RS384", "ES384":
		h = crypto.SHA384
	case "RS512":
		h = crypto.SHA512
	default:
		return fmt.Errorf("unsupported algorithm %q", alg)
	}
	var digest []byte
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(signed)
		digest = d[:]
	case crypto.SHA384:
		d := sha512.Sum384(signed)
		digest = d[:]
	default:
		d := sha512.Sum512(signed)
		digest = d[:]
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if !strings.HasPrefix(alg, "RS") {
			return fmt.Errorf("algorithm %s does not fit an RSA key", alg)
		}
		if err := rsa.VerifyPKCS1v15(k, h, digest, sig); err != nil {
			return errors.New("bad signature")
		}
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		if !strings.HasPrefix(alg, "ES") || len(sig) != 2*size {
			return fmt.Errorf("algorithm %s does not fit this EC key", alg)
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(k, digest, r, s) {
			return errors.New("bad signature")
		}
	default:
		return errors.New("unsupported key type")
	}
	return nil
}

// key returns the provider's key kid, fetching the key set again when kid
// is unknown (the provider rotated its keys), at most every 30 s.
func (o *oidcClient) key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	d, err := o.discover(ctx)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if k, ok := o.lookup(kid); ok {
		return k, nil
	}
	if o.keys != nil && time.Since(o.keysAt) < 30*time.Second {
		return nil, fmt.Errorf("no key %q in the provider's key set", kid)
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := o.getJSON(ctx, d.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("failed to read the provider's keys: %w", err)
	}
	o.keys, o.keysAt = map[string]crypto.PublicKey{}, time.Now()
	for _, j := range set.Keys {
		if j.Use != "" && j.Use != "sig" {
			continue
		}
		if k, err := j.public(); err == nil {
			o.keys[j.Kid] = k
		}
	}
	if k, ok := o.lookup(kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("no key %q in the provider's key set", kid)
}

// lookup finds kid; a token without kid may use the only key. Under o.mu.
func (o *oidcClient) lookup(kid string) (crypto.PublicKey, bool) {
	if k, ok := o.keys[kid]; ok {
		return k, true
	}
	if kid == "" && len(o.keys) == 1 {
		for _, k := range o.keys {
			return k, true
		}
	}
	return nil, false
}

// jwk is one JSON Web Key (RFC 7517) of the kinds ID tokens are signed with.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

func (j jwk) public() (crypto.PublicKey, error) {
	b := func(s string) (*big.Int, error) {
		v, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(v) == 0 {
			return nil, errors.New("bad key number")
		}
		return new(big.Int).SetBytes(v), nil
	}
	switch j.Kty {
	case "RSA":
		n, err := b(j.N)
		if err != nil {
			return nil, err
		}
		e, err := b(j.E)
		if err != nil || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31 {
			return nil, errors.New("bad RSA exponent")
		}
		if n.BitLen() < 2048 {
			return nil, errors.New("RSA key shorter than 2048 bits")
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	case "EC":
		var curve elliptic.Curve
		switch j.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		default:
			return nil, errors.New("unsupported curve")
		}
		x, err := b(j.X)
		if err != nil {
			return nil, err
		}
		y, err := b(j.Y)
		if err != nil {
			return nil, err
		}
		size := (curve.Params().BitSize + 7) / 8
		raw := append([]byte{4}, append(x.FillBytes(make([]byte, size)), y.FillBytes(make([]byte, size))...)...)
		return ecdsa.ParseUncompressedPublicKey(curve, raw)
	}
	return nil, errors.New("unsupported key type")
}
