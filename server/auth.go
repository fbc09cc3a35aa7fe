package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/templates"
)

// Session keys.
const (
	keyUser   = "user"
	keyRole   = "role"
	keyGroups = "groups" // newline-separated
	keyCSRF   = "csrf"
	// keyLocal marks a session of a user kept in the database (users.go):
	// their role, boards and whether they may still sign in are read from
	// there on every request, so a change applies at once.
	keyLocal = "local"
)

// Principal is who makes a request.
type Principal struct {
	User   string
	Role   string // config.RoleViewer, RoleSupervisor or RoleAdmin
	Groups []string
	// Boards a user kept in the database may see besides those open to
	// them (users.go).
	Boards []string
	// Local: a user kept in the database.
	Local bool
}

// Name is the user's name as people read it (without the "oidc:" that
// keeps provider accounts apart from local ones).
func (p Principal) Name() string { return strings.TrimPrefix(p.User, oidcPrefix) }

// rank orders roles: a role includes every lower one.
func rank(role string) int { return slices.Index(config.Roles, role) }

// Has reports whether p holds role or a higher one.
func (p Principal) Has(role string) bool { return p.User != "" && rank(p.Role) >= rank(role) }

// loopbackPrincipal is who a loopback request is in the demo.
var loopbackPrincipal = Principal{User: "demo", Role: config.RoleAdmin}

// setupAuth applies the configuration to sessions and sign-in.
func (s *Server) setupAuth() {
	a := s.cfg.Auth
	s.sessions.Cookie.Secure = s.cfg.TLS.Secure()
	s.sessions.Cookie.SameSite = http.SameSiteLaxMode
	s.sessions.Cookie.HttpOnly = true
	s.sessions.Cookie.Path = "/"
	if a.Session.IdleTimeout > 0 {
		s.sessions.IdleTimeout = a.Session.IdleTimeout.D()
	}
	if a.Session.Lifetime > 0 {
		s.sessions.Lifetime = a.Session.Lifetime.D()
	}
	lim := a.SignInLimit
	if lim.PerUser == 0 { // a configuration that skipped Validate
		lim = config.SignInLimit{PerUser: 5, PerAddress: 20, Window: config.Duration(15 * time.Minute)}
	}
	s.userLimit = newLimiter(lim.PerUser, lim.Window.D())
	s.addrLimit = newLimiter(lim.PerAddress, lim.Window.D())
	if a.OIDC != nil {
		s.oidc = newOIDC(a.OIDC, s.log)
	}
	// A hash to compare against when the user does not exist, so that a
	// wrong name takes as long as a wrong password.
	s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.MinCost)
	for _, u := range a.Users {
		if c, err := bcrypt.Cost([]byte(u.PasswordHash.Reveal())); err == nil {
			s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such user"), c)
			break
		}
	}
}

// sessionCtx returns r's context with its session loaded: the one the
// session middleware loaded, or (on routes without it, such as event
// streams, which it would buffer) one read from the cookie.
func (s *Server) sessionCtx(r *http.Request) context.Context {
	token := ""
	if ck, err := r.Cookie(s.sessions.Cookie.Name); err == nil {
		token = ck.Value
	}
	ctx, err := s.sessions.Load(r.Context(), token)
	if err != nil {
		ctx, _ = s.sessions.Load(r.Context(), "")
	}
	return ctx
}

// principal returns who signed in on r's session; in the demo, a request
// from loopback is an admin without signing in.
func (s *Server) principal(r *http.Request) (Principal, bool) {
	if p, ok := s.sessionPrincipal(s.sessionCtx(r)); ok {
		return p, true
	}
	if s.opts.AnonymousLoopback && isLoopback(r.RemoteAddr) {
		return loopbackPrincipal, true
	}
	return Principal{}, false
}

// sessionPrincipal returns who signed in on the session loaded in ctx.
func (s *Server) sessionPrincipal(ctx context.Context) (Principal, bool) {
	user := s.sessions.GetString(ctx, keyUser)
	if user == "" {
		return Principal{}, false
	}
	p := Principal{User: user, Role: s.sessions.GetString(ctx, keyRole)}
	if g := s.sessions.GetString(ctx, keyGroups); g != "" {
		p.Groups = strings.Split(g, "\n")
	}
	if rank(p.Role) < 0 {
		p.Role = config.RoleViewer
	}
	if s.sessions.GetBool(ctx, keyLocal) {
		return s.localPrincipal(ctx, user) // users.go
	}
	return p, true
}

// canSee reports whether p may see board id.
func (s *Server) canSee(p Principal, id string) bool {
	b, ok := s.board(id)
	if !ok || p.User == "" {
		return false
	}
	return b.Access.Allows(p.User, p.Role, p.Groups) || slices.Contains(p.Boards, id)
}

// boardAccess resolves the board the route's :id names for the request's
// user, who must have at least role: 401 without a user, 404 for an unknown
// board, 403 below the role or without access to the board.
func (s *Server) boardAccess(c echo.Context, role string) (Principal, *config.Board, error) {
	p, ok := s.principal(c.Request())
	if !ok {
		return Principal{}, nil, ErrUnauthorized
	}
	b, found := s.board(c.Param("id"))
	if !found {
		return p, nil, ErrNotFound
	}
	if !p.Has(role) || !s.canSee(p, b.ID) {
		return p, nil, ErrForbidden
	}
	return p, b, nil
}

// canSupervise reports whether r's user may set board id's ticker and
// settings: a supervisor who may see it, or an admin.
func (s *Server) canSupervise(r *http.Request, id string) bool {
	p, ok := s.principal(r)
	return ok && p.Has(config.RoleSupervisor) && s.canSee(p, id)
}

// isAdmin reports whether r's user is an admin.
func (s *Server) isAdmin(r *http.Request) bool {
	p, ok := s.principal(r)
	return ok && p.Has(config.RoleAdmin)
}

// signIn starts a fresh session for p: a new session token (no fixation),
// and a new CSRF token.
func (s *Server) signIn(ctx context.Context, p Principal) error {
	if err := s.sessions.RenewToken(ctx); err != nil {
		return fmt.Errorf("failed to renew the session: %w", err)
	}
	s.sessions.Put(ctx, keyUser, p.User)
	s.sessions.Put(ctx, keyRole, p.Role)
	s.sessions.Put(ctx, keyGroups, strings.Join(p.Groups, "\n"))
	s.sessions.Put(ctx, keyLocal, p.Local)
	s.sessions.Put(ctx, keyCSRF, newToken())
	return nil
}

func (s *Server) loginPage(c echo.Context, status int, next, msg string) error {
	label, oidcURL := "", ""
	if s.oidc != nil {
		label, oidcURL = s.oidc.cfg.Label, "/auth/oidc/start?next="+url.QueryEscape(next)
	}
	return render(c, status, templates.Login(s.loginToken(c), next, msg, label, oidcURL, len(s.cfg.Auth.Users) > 0 || s.opts.Users != nil, s.templAssets(), viewerLang(c.Request())))
}

func (s *Server) handleLoginPage(c echo.Context) error {
	return s.loginPage(c, http.StatusOK, safeNext(c.QueryParam("next")), "")
}

// handleLogin checks a local account's password. Every attempt counts
// against the user name and the client address before the password is
// checked (so parallel guesses cannot pass the limit); a successful one is
// forgiven. Over the limit, 429 until the window has passed. The address's
// limit is checked before the form is even read.
func (s *Server) handleLogin(c echo.Context) error {
	r := c.Request()
	addr := s.clientAddr(r)
	now := time.Now()
	if wait := s.addrLimit.wait(addr, now); wait > 0 {
		c.Response().Header().Set("Connection", "close") // the form is left unread (refuseBody)
		return s.tooManySignIns(c, "/", addr, wait)
	}
	if err := readForm(r); err != nil {
		return err
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf_token")
	}
	if !s.checkLoginToken(r, got) {
		return errCSRF
	}
	name, password := strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	userKey := strings.ToLower(name)
	if wait := s.userLimit.try(userKey, now); wait > 0 {
		return s.tooManySignIns(c, next, addr, wait)
	}
	if wait := s.addrLimit.try(addr, now); wait > 0 {
		s.userLimit.forgive(userKey)
		return s.tooManySignIns(c, next, addr, wait)
	}
	var user *config.User
	for i := range s.cfg.Auth.Users {
		if s.cfg.Auth.Users[i].Name == name {
			user = &s.cfg.Auth.Users[i]
		}
	}
	if user == nil && name != "" {
		user = s.localUser(r.Context(), name) // users.go: nil when none may sign in
	}
	hash := s.noUserHash()
	if user != nil {
		hash = []byte(user.PasswordHash.Reveal())
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	if user == nil || err != nil || name == "" {
		s.log.Info("sign-in failed", "user", name, "address", addr)
		return s.loginPage(c, http.StatusUnauthorized, next, i18n.Key("Wrong user name or password."))
	}
	s.userLimit.reset(userKey)
	s.addrLimit.forgive(addr)
	local := !slices.ContainsFunc(s.cfg.Auth.Users, func(u config.User) bool { return u.Name == name })
	if err := s.signIn(r.Context(), Principal{User: user.Name, Role: user.Role, Groups: user.Groups, Local: local}); err != nil {
		return err
	}
	s.log.Info("signed in", "user", user.Name, "role", user.Role)
	return c.Redirect(http.StatusSeeOther, next)
}

// noUserHash is the hash a sign-in of an unknown name is checked against:
// one of the file's cost, or, when users are kept in the database and the
// file has none, one of theirs (made at the first such sign-in, not at
// start).
func (s *Server) noUserHash() []byte {
	if s.opts.Users == nil || len(s.cfg.Auth.Users) > 0 {
		return s.dummyHash
	}
	s.dummyOnce.Do(func() {
		if h, err := bcrypt.GenerateFromPassword([]byte("no such user"), passwordCost); err == nil {
			s.dummyLocal = h
		} else {
			s.dummyLocal = s.dummyHash
		}
	})
	return s.dummyLocal
}

// tooManySignIns is the 429 answer of a refused sign-in.
func (s *Server) tooManySignIns(c echo.Context, next, addr string, wait time.Duration) error {
	mins := int((wait + time.Minute - 1) / time.Minute)
	c.Response().Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds()+1)))
	s.log.Warn("sign-in refused: too many failed attempts", "address", addr)
	return s.loginPage(c, http.StatusTooManyRequests, next,
		i18n.T(viewerLang(c.Request()), "Too many failed sign-ins for this account or from this address. Try again in %d minute(s).", mins))
}

// handleLogout ends the session (POST with the CSRF token) and its open
// event streams.
func (s *Server) handleLogout(c echo.Context) error {
	ctx := c.Request().Context()
	token := s.sessions.Token(ctx)
	if err := s.sessions.Destroy(ctx); err != nil {
		return err
	}
	if token != "" {
		s.watch.endSession(token)
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}

// safeNext keeps a redirect target on this site: a path that starts with a
// single "/", parses as a URL without scheme or host, and holds no
// backslash, control character or white space anywhere (browsers drop a
// tab or newline and would read "/\t/evil" as "//evil", another site).
// Anything else is "/".
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || !utf8.ValidString(next) {
		return "/"
	}
	for _, r := range next {
		if r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			return "/"
		}
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

// clientAddr is the address failed sign-ins count against: the peer, or
// behind a TLS proxy the address the proxy appended to X-Forwarded-For.
func (s *Server) clientAddr(r *http.Request) string {
	if s.cfg.TLS.BehindProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter counts failures per key within a sliding window.
type limiter struct {
	max    int
	window time.Duration

	mu    sync.Mutex
	fails map[string][]time.Time
}

func newLimiter(limit int, window time.Duration) *limiter {
	return &limiter{max: limit, window: window, fails: map[string][]time.Time{}}
}

// wait returns how long key must wait before trying again (0: it may).
func (l *limiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.recent(key, now)
	if len(f) < l.max {
		return 0
	}
	return f[len(f)-l.max].Add(l.window).Sub(now)
}

// try counts an attempt of key now, unless key must wait (returned, and
// the attempt is not counted).
func (l *limiter) try(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.recent(key, now)
	if len(f) >= l.max {
		return f[len(f)-l.max].Add(l.window).Sub(now)
	}
	l.addLocked(key, append(f, now), now)
	return 0
}

// forgive takes back key's latest attempt (it succeeded).
func (l *limiter) forgive(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.fails[key]; len(f) > 1 {
		l.fails[key] = f[:len(f)-1]
	} else {
		delete(l.fails, key)
	}
}

func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addLocked(key, append(l.recent(key, now), now), now)
}

// addLocked stores key's attempts f, bounded. Called under l.mu.
func (l *limiter) addLocked(key string, f []time.Time, now time.Time) {
	if len(f) > l.max {
		f = f[len(f)-l.max:]
	}
	l.fails[key] = f
	if len(l.fails) > 10000 { // bounded memory under a spray of names
		for k := range l.fails {
			if len(l.recent(k, now)) == 0 {
				delete(l.fails, k)
			}
		}
	}
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// recent drops key's failures older than the window. Called under l.mu.
func (l *limiter) recent(key string, now time.Time) []time.Time {
	f := l.fails[key]
	i := 0
	for i < len(f) && now.Sub(f[i]) >= l.window {
		i++
	}
	if i == len(f) {
		delete(l.fails, key)
		return nil
	}
	f = f[i:]
	l.fails[key] = f
	return f
}

// equal compares secrets in constant time.
func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// ErrForbidden: signed in, but not allowed.
var ErrForbidden = errors.New("forbidden")
