package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Roles, from least to most: a viewer sees the boards they are allowed; a
// supervisor also sets those boards' ticker message and settings; an admin
// may do everything.
const (
	RoleViewer     = "viewer"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
)

// Roles lists the roles in rising order of privilege.
var Roles = []string{RoleViewer, RoleSupervisor, RoleAdmin}

// TLS serves HTTPS from certificate files, or says a reverse proxy in front
// terminates TLS.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// BehindProxy: a reverse proxy serves wallboard over HTTPS, so cookies
	// are marked Secure and HSTS is sent although wallboard itself speaks
	// plain HTTP to the proxy.
	BehindProxy bool `yaml:"behind_proxy"`
}

// Enabled reports whether wallboard serves TLS itself.
func (t TLS) Enabled() bool { return t.CertFile != "" }

// Secure reports whether browsers reach wallboard over HTTPS.
func (t TLS) Secure() bool { return t.Enabled() || t.BehindProxy }

// Auth is who may sign in and how.
type Auth struct {
	Users       []User      `yaml:"users"`
	OIDC        *OIDC       `yaml:"oidc"`
	Session     Session     `yaml:"session"`
	SignInLimit SignInLimit `yaml:"sign_in_limit"`
}

// User is a local account.
type User struct {
	Name string `yaml:"name"`
	// PasswordHash is a bcrypt hash, as `wallboard hash-password` prints.
	PasswordHash Secret   `yaml:"password_hash"`
	Role         string   `yaml:"role"` // viewer (default) | supervisor | admin
	Groups       []string `yaml:"groups"`
}

// OIDC is an OpenID Connect identity provider (authorization code flow with
// PKCE).
type OIDC struct {
	Issuer       string `yaml:"issuer"`
	ClientID     string `yaml:"client_id"`
	ClientSecret Secret `yaml:"client_secret"`
	// RedirectURL is {wallboard's public URL}/auth/oidc/callback, as
	// registered with the provider.
	RedirectURL   string   `yaml:"redirect_url"`
	Scopes        []string `yaml:"scopes"`         // default openid, profile, email
	UsernameClaim string   `yaml:"username_claim"` // default preferred_username (then email, then sub)
	GroupsClaim   string   `yaml:"groups_claim"`   // default groups
	// Roles maps a role to the claim values (groups) that grant it; the
	// highest granted role wins.
	Roles map[string][]string `yaml:"roles"`
	// DefaultRole is the role of a user in none of those groups: viewer
	// (default) or none (refused).
	DefaultRole string `yaml:"default_role"`
	Label       string `yaml:"label"` // the sign-in button, default "Sign in with single sign-on"
}

// Session configures sign-in sessions.
type Session struct {
	IdleTimeout Duration `yaml:"idle_timeout"` // default 12h
	Lifetime    Duration `yaml:"lifetime"`     // absolute, default 168h
}

// SignInLimit bounds failed sign-ins within Window, per user name and per
// client address.
type SignInLimit struct {
	PerUser    int      `yaml:"per_user"`    // default 5
	PerAddress int      `yaml:"per_address"` // default 20
	Window     Duration `yaml:"window"`      // default 15m
}

// BoardAccess is the part of a board that says who may see it and who may
// frame it.
type BoardAccess struct {
	// Access lists who may see the board when signed in; empty means every
	// signed-in user. Admins always may.
	Access Access `yaml:"access"`
	// EmbedOrigins may frame the board (CSP frame-ancestors), e.g.
	// "https://intranet.example.com". Empty: nobody.
	EmbedOrigins []string `yaml:"embed_origins"`
}

// Access is a board's allow list.
type Access struct {
	Users  []string `yaml:"users"`
	Roles  []string `yaml:"roles"`
	Groups []string `yaml:"groups"`
}

// Empty reports whether the list allows every signed-in user.
func (a Access) Empty() bool { return len(a.Users)+len(a.Roles)+len(a.Groups) == 0 }

// Allows reports whether a user with role and groups may see the board.
func (a Access) Allows(user, role string, groups []string) bool {
	if role == RoleAdmin || a.Empty() {
		return true
	}
	if slices.Contains(a.Users, user) || slices.Contains(a.Roles, role) {
		return true
	}
	for _, g := range groups {
		if slices.Contains(a.Groups, g) {
			return true
		}
	}
	return false
}

// KioskOptions are a TV link's screen options.
type KioskOptions struct {
	// Names shows agents' names as full (default), initials, or none:
	// applied when the fragments are rendered, so hidden names never reach
	// the screen.
	Names string `yaml:"names"`
	// Rotate lists more boards this screen shows in turn, every RotateEvery.
	Rotate      []string `yaml:"rotate"`
	RotateEvery Duration `yaml:"rotate_every"` // default 30s
	// PixelShift moves the picture by a few pixels this often, against
	// burn-in; default 2m, 0 turns it off.
	PixelShift *Duration `yaml:"pixel_shift"`
	// Dim lowers the brightness between From and To (in timezone).
	Dim *Dim `yaml:"dim"`
	// Lang shows this screen in a language of its own (en, de, fr, es);
	// default: the board's lang.
	Lang string `yaml:"lang"`
}

// Name display modes.
const (
	NamesFull     = "full"
	NamesInitials = "initials"
	NamesNone     = "none"
)

// Dim is a night-dimming schedule.
type Dim struct {
	From       string  `yaml:"from"`       // "HH:MM"
	To         string  `yaml:"to"`         // "HH:MM"; may be earlier than from (over midnight)
	Brightness float64 `yaml:"brightness"` // 0.05–1, default 0.4
}

var hhmm = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)

// validateSecurity checks tls, auth and the boards' access, embedding and
// kiosk options, and fills their defaults.
func (c *Config) validateSecurity() Problems {
	var p Problems
	add := func(path, format string, args ...any) { p = append(p, path+": "+fmt.Sprintf(format, args...)) }

	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		add("tls", "cert_file and key_file go together")
	}

	a := &c.Auth
	if a.Session.IdleTimeout == 0 {
		a.Session.IdleTimeout = Duration(12 * time.Hour)
	}
	if a.Session.Lifetime == 0 {
		a.Session.Lifetime = Duration(168 * time.Hour)
	}
	if a.Session.IdleTimeout.D() < time.Minute {
		add("auth.session.idle_timeout", "must be at least 1m")
	}
	if a.Session.Lifetime.D() < a.Session.IdleTimeout.D() {
		add("auth.session.lifetime", "must be at least idle_timeout (%s)", a.Session.IdleTimeout)
	}
	l := &a.SignInLimit
	if l.PerUser == 0 {
		l.PerUser = 5
	}
	if l.PerAddress == 0 {
		l.PerAddress = 20
	}
	if l.Window == 0 {
		l.Window = Duration(15 * time.Minute)
	}
	if l.PerUser < 1 || l.PerAddress < 1 || l.Window.D() < time.Second {
		add("auth.sign_in_limit", "per_user and per_address must be at least 1 and window at least 1s")
	}

	users := map[string]bool{}
	for i := range a.Users {
		u := &a.Users[i]
		path := fmt.Sprintf("auth.users[%d]", i)
		switch {
		case u.Name == "":
			add(path+".name", "missing")
		case users[u.Name]:
			add(path+".name", "%q is used by another user", u.Name)
		case strings.HasPrefix(u.Name, "oidc:"):
			add(path+".name", `"oidc:" is kept for users of the identity provider`)
		}
		users[u.Name] = true
		if u.Role == "" {
			u.Role = RoleViewer
		}
		if !slices.Contains(Roles, u.Role) {
			add(path+".role", "must be viewer, supervisor or admin")
		}
		if u.PasswordHash == "" {
			add(path+".password_hash", "missing (make one with `wallboard hash-password`)")
		} else if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
			add(path+".password_hash", "is not a bcrypt hash (make one with `wallboard hash-password`)")
		}
	}

	if o := a.OIDC; o != nil {
		if u, err := url.Parse(o.Issuer); o.Issuer == "" {
			add("auth.oidc.issuer", "missing")
		} else if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
			add("auth.oidc.issuer", "must be an https URL (http only on loopback)")
		}
		if o.ClientID == "" {
			add("auth.oidc.client_id", "missing")
		}
		if u, err := url.Parse(o.RedirectURL); o.RedirectURL == "" {
			add("auth.oidc.redirect_url", "missing: {wallboard's public URL}/auth/oidc/callback")
		} else if err != nil || u.Host == "" || !strings.HasSuffix(u.Path, "/auth/oidc/callback") {
			add("auth.oidc.redirect_url", "must be an absolute URL ending in /auth/oidc/callback")
		}
		if len(o.Scopes) == 0 {
			o.Scopes = []string{"openid", "profile", "email"}
		} else if !slices.Contains(o.Scopes, "openid") {
			add("auth.oidc.scopes", "must include openid")
		}
		if o.UsernameClaim == "" {
			o.UsernameClaim = "preferred_username"
		}
		if o.GroupsClaim == "" {
			o.GroupsClaim = "groups"
		}
		for _, r := range sortedKeys(o.Roles) {
			if !slices.Contains(Roles, r) {
				add("auth.oidc.roles."+r, "unknown role (viewer, supervisor or admin)")
			}
		}
		if o.DefaultRole == "" {
			o.DefaultRole = RoleViewer
		}
		if o.DefaultRole != "none" && !slices.Contains(Roles, o.DefaultRole) {
			add("auth.oidc.default_role", "must be viewer, supervisor, admin or none")
		}
		if o.Label == "" {
			o.Label = "Sign in with single sign-on"
		}
	}

	ids := map[string]bool{}
	for _, b := range c.Boards {
		ids[b.ID] = true
	}
	for i := range c.Boards {
		b := &c.Boards[i]
		path := fmt.Sprintf("boards[%d]", i)
		for j, r := range b.Access.Roles {
			if !slices.Contains(Roles, r) {
				add(fmt.Sprintf("%s.access.roles[%d]", path, j), "unknown role %q", r)
			}
		}
		for j, o := range b.EmbedOrigins {
			if msg := checkOrigin(o); msg != "" {
				add(fmt.Sprintf("%s.embed_origins[%d]", path, j), "%s", msg)
			}
		}
		for j := range b.Kiosk {
			k := &b.Kiosk[j].KioskOptions
			kp := fmt.Sprintf("%s.kiosk[%d]", path, j)
			if k.Names == "" {
				k.Names = NamesFull
			}
			if !slices.Contains([]string{NamesFull, NamesInitials, NamesNone}, k.Names) {
				add(kp+".names", "must be full, initials or none")
			}
			for n, r := range k.Rotate {
				if !ids[r] {
					add(fmt.Sprintf("%s.rotate[%d]", kp, n), "no board has id %q", r)
				}
			}
			if k.RotateEvery == 0 {
				k.RotateEvery = Duration(30 * time.Second)
			}
			if k.RotateEvery.D() < 5*time.Second {
				add(kp+".rotate_every", "must be at least 5s")
			}
			if k.PixelShift == nil {
				d := Duration(2 * time.Minute)
				k.PixelShift = &d
			}
			if d := k.PixelShift.D(); d < 0 || (d > 0 && d < 10*time.Second) {
				add(kp+".pixel_shift", "must be 0 (off) or at least 10s")
			}
			if d := k.Dim; d != nil {
				if !hhmm.MatchString(d.From) {
					add(kp+".dim.from", "must be a time of day like \"22:00\"")
				}
				if !hhmm.MatchString(d.To) {
					add(kp+".dim.to", "must be a time of day like \"06:30\"")
				}
				if d.Brightness == 0 {
					d.Brightness = 0.4
				}
				if d.Brightness < 0.05 || d.Brightness > 1 {
					add(kp+".dim.brightness", "must be between 0.05 and 1")
				}
			}
		}
	}
	return p
}

var originHost = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9.-]+$`)

// checkOrigin returns why o is not a scheme://host[:port] origin, or "".
func checkOrigin(o string) string {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || !originHost.MatchString(u.Hostname()) {
		return fmt.Sprintf("%q is not an origin like https://intranet.example.com", o)
	}
	return ""
}

// Origin returns o without a trailing slash, as frame-ancestors wants it.
func Origin(o string) string { return strings.TrimSuffix(o, "/") }

// isLoopbackHost reports whether h is localhost or a loopback IP address
// (a name like 127.evil.example is not).
func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
