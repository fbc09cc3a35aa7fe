package server

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
)

// testIdP is a small OpenID provider on loopback: discovery, JWKS, an
// authorization endpoint that approves at once, and a token endpoint that
// checks the code, the PKCE verifier and the client secret before it hands
// out an RS256-signed ID token. mutate lets a test spoil the token.
type testIdP struct {
	*httptest.Server
	key     *rsa.PrivateKey
	kid     string
	groups  []string
	mutate  func(claims map[string]any, hdr map[string]any) // nil: a good token
	signKey *rsa.PrivateKey                                 // nil: key
	// sign, if set, signs the token instead (other algorithms); jwks, if
	// set, is the key set served instead of key's.
	signer func(hdr, claims map[string]any) string
	jwks   []byte
	// gate, while set, holds every key set request until it is closed.
	gate chan struct{}
	user string // preferred_username, default olga

	mu    sync.Mutex
	codes map[string]authReq
	seen  []authReq
}

type authReq struct{ challenge, method, nonce, redirect, clientID string }

const (
	idpClient   = "wallboard"
	idpSecret   = "s3cret-client"
	idpRedirect = "https://wallboard.example.com/auth/oidc/callback"
)

func newTestIdP(t *testing.T) *testIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &testIdP{key: key, kid: "k1", codes: map[string]authReq{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": p.URL, "authorization_endpoint": p.URL + "/authorize",
			"token_endpoint": p.URL + "/token", "jwks_uri": p.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		gate, raw := p.gate, p.jwks
		p.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		if raw != nil {
			_, _ = w.Write(raw)
			return
		}
		b64 := base64.RawURLEncoding.EncodeToString
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": p.kid, "use": "sig", "alg": "RS256",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		req := authReq{challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"), nonce: q.Get("nonce"),
			redirect: q.Get("redirect_uri"), clientID: q.Get("client_id")}
		code := rand.Text()
		p.mu.Lock()
		p.codes[code] = req
		p.seen = append(p.seen, req)
		p.mu.Unlock()
		http.Redirect(w, r, req.redirect+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		p.mu.Lock()
		req, found := p.codes[r.PostForm.Get("code")]
		delete(p.codes, r.PostForm.Get("code"))
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case id != idpClient || secret != idpSecret:
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		case !found || r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("redirect_uri") != req.redirect:
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		case req.method != "S256" || base64.RawURLEncoding.EncodeToString(sum[:]) != req.challenge:
			http.Error(w, `{"error":"invalid_grant","error_description":"PKCE"}`, http.StatusBadRequest)
			return
		}
		now := time.Now()
		user := p.user
		if user == "" {
			user = "olga"
		}
		claims := map[string]any{"iss": p.URL, "aud": idpClient, "sub": "u-1", "preferred_username": user,
			"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "nonce": req.nonce, "groups": p.groups}
		hdr := map[string]any{"alg": "RS256", "kid": p.kid, "typ": "JWT"}
		if p.mutate != nil {
			p.mutate(claims, hdr)
		}
		w.Header().Set("Content-Type", "application/json")
		var idt string
		if p.signer != nil {
			idt = p.signer(hdr, claims)
		} else {
			idt = p.sign(t, hdr, claims)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300,
			"id_token": idt})
	})
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

func (p *testIdP) sign(t *testing.T, hdr, claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(hdr) + "." + enc(claims)
	key := p.key
	if p.signKey != nil {
		key = p.signKey
	}
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func oidcConfig(issuer string) config.Config {
	cfg := secConfig()
	cfg.Auth.OIDC = &config.OIDC{Issuer: issuer, ClientID: idpClient, ClientSecret: idpSecret, RedirectURL: idpRedirect,
		Roles: map[string][]string{config.RoleSupervisor: {"wb-supervisors"}, config.RoleAdmin: {"wb-admins"}}}
	return cfg
}

// oidcSignIn runs the browser's side of the flow: wallboard's start, the
// provider's authorize, wallboard's callback. It returns the callback's
// answer.
func oidcSignIn(t *testing.T, b *browser) (*http.Response, string) {
	t.Helper()
	resp, _ := b.do("GET", "/auth/oidc/start?next=%2Fboards%2Ffloor", nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	authz, err := b.c.Get(resp.Header.Get("Location")) // the provider approves at once
	if err != nil {
		t.Fatal(err)
	}
	authz.Body.Close()
	cb, err := url.Parse(authz.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(cb.String(), idpRedirect) {
		t.Fatalf("provider redirected to %q", authz.Header.Get("Location"))
	}
	return b.do("GET", "/auth/oidc/callback?"+cb.RawQuery, nil)
}

func TestOIDCSignIn(t *testing.T) {
	t.Parallel()
	idp := newTestIdP(t)
	idp.groups = []string{"staff", "wb-supervisors"}
	ts := newSecServer(t, oidcConfig(idp.URL))
	b := newBrowser(t, ts.URL)
	if _, page := b.do("GET", "/login", nil); !strings.Contains(page, "Sign in with single sign-on") {
		t.Errorf("sign-in page lacks the provider's button")
	}
	resp, body := oidcSignIn(t, b)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/boards/floor" {
		t.Fatalf("callback: %d %q %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if resp, page := b.do("GET", "/boards/floor", nil); resp.StatusCode != 200 || !strings.Contains(page, "olga · supervisor") {
		t.Errorf("after sign-in: %d %s", resp.StatusCode, excerpt(page, "userbar"))
	}
	if resp, _ := b.do("GET", "/boards/floor/settings", nil); resp.StatusCode != 200 {
		t.Errorf("the group's role (supervisor) is not granted: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/admin", nil); resp.StatusCode != 403 {
		t.Errorf("supervisor reached admin: %d", resp.StatusCode)
	}
	idp.mu.Lock()
	req := idp.seen[0]
	idp.mu.Unlock()
	if req.method != "S256" || req.challenge == "" || req.nonce == "" || req.clientID != idpClient {
		t.Errorf("authorization request: %+v", req)
	}
	// A callback replayed (state already used) signs nobody in.
	b2 := newBrowser(t, ts.URL)
	if resp, _ := b2.do("GET", "/auth/oidc/callback?code=x&state=y", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("callback without a started sign-in: %d", resp.StatusCode)
	}
}

func TestOIDCRefusesBadTokens(t *testing.T) {
	t.Parallel()
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		groups  []string
		mutate  func(c, h map[string]any)
		signKey *rsa.PrivateKey
		want    int
	}{
		{"wrong nonce", nil, func(c, h map[string]any) { c["nonce"] = "replayed" }, nil, 401},
		{"no nonce", nil, func(c, h map[string]any) { delete(c, "nonce") }, nil, 401},
		{"wrong audience", nil, func(c, h map[string]any) { c["aud"] = "someone-else" }, nil, 401},
		{"wrong issuer", nil, func(c, h map[string]any) { c["iss"] = "https://evil.example" }, nil, 401},
		{"expired", nil, func(c, h map[string]any) { c["exp"] = time.Now().Add(-10 * time.Minute).Unix() }, nil, 401},
		{"signed by another key", nil, nil, otherKey, 401},
		{"alg none", nil, func(c, h map[string]any) { h["alg"] = "none" }, nil, 401},
		{"HS256 with the public key", nil, func(c, h map[string]any) { h["alg"] = "HS256" }, nil, 401},
		{"unknown key id", nil, func(c, h map[string]any) { h["kid"] = "k9" }, nil, 401},
		{"a good token", []string{"wb-admins"}, nil, nil, 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			idp := newTestIdP(t)
			idp.groups, idp.mutate, idp.signKey = tt.groups, tt.mutate, tt.signKey
			ts := newSecServer(t, oidcConfig(idp.URL))
			b := newBrowser(t, ts.URL)
			resp, body := oidcSignIn(t, b)
			if resp.StatusCode != tt.want {
				t.Fatalf("callback = %d, want %d: %s", resp.StatusCode, tt.want, excerpt(body, "login-error"))
			}
			want := 401
			if tt.want == 303 {
				want = 200
			}
			if resp, _ := b.do("GET", "/boards/private", nil); resp.StatusCode != want {
				t.Errorf("after the callback: /boards/private = %d, want %d", resp.StatusCode, want)
			}
		})
	}
}

func TestOIDCRoleMapping(t *testing.T) {
	t.Parallel()
	o := &config.OIDC{UsernameClaim: "preferred_username", GroupsClaim: "groups", DefaultRole: "viewer",
		Roles: map[string][]string{"supervisor": {"sup"}, "admin": {"adm"}}}
	c := &oidcClient{cfg: o}
	tests := []struct {
		name     string
		claims   map[string]any
		user     string
		role     string
		defRole  string
		refused  bool
		wantGrps int
	}{
		{"no groups: default role", map[string]any{"preferred_username": "a"}, "oidc:a", "viewer", "viewer", false, 0},
		{"highest role wins", map[string]any{"preferred_username": "a", "groups": []any{"adm", "sup"}}, "oidc:a", "admin", "viewer", false, 2},
		{"a single group as a string", map[string]any{"email": "b@x", "email_verified": true, "groups": "sup"}, "oidc:b@x", "supervisor", "viewer", false, 1},
		{"an unverified e-mail is no name", map[string]any{"email": "b@x", "email_verified": "true", "sub": "s-2"}, "oidc:s-2", "viewer", "viewer", false, 0},
		{"falls back to sub", map[string]any{"sub": "s-1"}, "oidc:s-1", "viewer", "viewer", false, 0},
		{"default none refuses", map[string]any{"preferred_username": "a"}, "", "", "none", true, 0},
		{"no name at all", map[string]any{}, "", "", "viewer", true, 0},
	}
	for _, tt := range tests {
		o.DefaultRole = tt.defRole
		p, err := c.principal(tt.claims)
		if (err != nil) != tt.refused || (!tt.refused && (p.User != tt.user || p.Role != tt.role || len(p.Groups) != tt.wantGrps)) {
			t.Errorf("%s: %+v, %v", tt.name, p, err)
		}
	}
}

// An unreachable provider is a clear message, not a crash.
func TestOIDCProviderDown(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	cfg := oidcConfig(dead.URL)
	ts := newSecServer(t, cfg)
	resp, body := newBrowser(t, ts.URL).do("GET", "/auth/oidc/start", nil)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "Single sign-on is unavailable") {
		t.Errorf("provider down: %d %s", resp.StatusCode, excerpt(body, "login-error"))
	}
}
