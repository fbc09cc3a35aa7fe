package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const goodHash = "$2a$04$0aWkKhZ3f0Zq2m6m4Y1Q8uM4rWq3u3HcJ1b9lYlK0mF6b2cQ7m4bK"

func TestSecurityConfiguration(t *testing.T) {
	t.Parallel()
	base := `
sources: [{name: s1, type: simulation}]
boards:
  - id: floor
    embed_origins: ["https://intranet.example.com", "https://*.corp.example.com/"]
    access: {users: [sue], roles: [supervisor], groups: [leads]}
    kiosk:
      - {name: tv, token: "0123456789abcdef0123456789abcdef", names: initials, rotate: [other], rotate_every: 20s,
         pixel_shift: "0", dim: {from: "22:00", to: "06:30"}}
  - id: other
`
	cfg, err := Parse([]byte(base+`
tls: {cert_file: c.pem, key_file: k.pem}
auth:
  session: {idle_timeout: 30m, lifetime: 10h}
  users:
    - {name: sue, password_hash: "`+goodHash+`", role: supervisor}
    - {name: vic, password_hash: "`+goodHash+`"}
  oidc: {issuer: "https://login.example.com/realms/acme", client_id: wb, client_secret: "${S}",
         redirect_url: "https://wb.example.com/auth/oidc/callback", roles: {admin: [wb-admins]}}
`), env(map[string]string{"S": "client-secret-value"}))
	if err != nil {
		t.Fatalf("valid file refused:\n%v", err)
	}
	k := cfg.Boards[0].Kiosk[0]
	if k.Names != NamesInitials || k.RotateEvery.D() != 20*time.Second || k.PixelShift.D() != 0 || k.Dim.Brightness != 0.4 {
		t.Errorf("kiosk options: %+v", k.KioskOptions)
	}
	if cfg.Auth.Users[1].Role != RoleViewer || cfg.Auth.Session.IdleTimeout.D() != 30*time.Minute || !cfg.TLS.Secure() {
		t.Errorf("defaults: %+v %+v", cfg.Auth.Users[1], cfg.Auth.Session)
	}
	if o := cfg.Auth.OIDC; o.UsernameClaim != "preferred_username" || o.GroupsClaim != "groups" || !slices.Contains(o.Scopes, "openid") || o.DefaultRole != RoleViewer {
		t.Errorf("oidc defaults: %+v", o)
	}
	if cfg.Auth.SignInLimit.PerUser != 5 || cfg.Auth.SignInLimit.PerAddress != 20 {
		t.Errorf("sign-in limit defaults: %+v", cfg.Auth.SignInLimit)
	}
	if !cfg.Boards[0].Access.Allows("x", RoleViewer, []string{"leads"}) || cfg.Boards[0].Access.Allows("x", RoleViewer, nil) ||
		!cfg.Boards[0].Access.Allows("x", RoleAdmin, nil) || !cfg.Boards[1].Access.Allows("x", RoleViewer, nil) {
		t.Error("access lists")
	}

	tests := []struct {
		name, yaml, want string
	}{
		{"half a TLS pair", "tls: {cert_file: c.pem}", "tls: cert_file and key_file go together"},
		{"unknown role", `auth: {users: [{name: a, password_hash: "` + goodHash + `", role: boss}]}`, "auth.users[0].role: must be viewer, supervisor or admin"},
		{"plain password", `auth: {users: [{name: a, password_hash: "hunter2"}]}`, "auth.users[0].password_hash: is not a bcrypt hash"},
		{"no hash", `auth: {users: [{name: a}]}`, "auth.users[0].password_hash: missing"},
		{"same user twice", `auth: {users: [{name: a, password_hash: "` + goodHash + `"}, {name: a, password_hash: "` + goodHash + `"}]}`, `auth.users[1].name: "a" is used by another user`},
		{"http issuer", `auth: {oidc: {issuer: "http://login.example.com", client_id: x, redirect_url: "https://w/auth/oidc/callback"}}`, "auth.oidc.issuer: must be an https URL"},
		{"http issuer named like loopback", `auth: {oidc: {issuer: "http://127.evil.example", client_id: x, redirect_url: "https://w/auth/oidc/callback"}}`, "auth.oidc.issuer: must be an https URL"},
		{"http issuer on a 127 subdomain", `auth: {oidc: {issuer: "http://127.0.0.1.evil.example:8080", client_id: x, redirect_url: "https://w/auth/oidc/callback"}}`, "auth.oidc.issuer: must be an https URL"},
		{"a local user named like a provider's", `auth: {users: [{name: "oidc:olga", password_hash: "` + goodHash + `"}]}`, `auth.users[0].name: "oidc:" is kept for users of the identity provider`},
		{"wrong redirect", `auth: {oidc: {issuer: "https://l", client_id: x, redirect_url: "https://w/cb"}}`, "auth.oidc.redirect_url: must be an absolute URL ending in /auth/oidc/callback"},
		{"oidc role", `auth: {oidc: {issuer: "https://l", client_id: x, redirect_url: "https://w/auth/oidc/callback", roles: {god: [x]}}}`, "auth.oidc.roles.god: unknown role"},
		{"idle longer than lifetime", `auth: {session: {idle_timeout: 2h, lifetime: 1h}}`, "auth.session.lifetime: must be at least idle_timeout"},
		{"unknown key", `auth: {sessions: {}}`, "auth.sessions: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), env(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	boardTests := []struct {
		name, board, want string
	}{
		{"origin with a path", `{id: b, embed_origins: ["https://x.example.com/portal"]}`, "boards[0].embed_origins[0]: \"https://x.example.com/portal\" is not an origin"},
		{"origin keyword", `{id: b, embed_origins: ["'self'"]}`, "boards[0].embed_origins[0]:"},
		{"star", `{id: b, embed_origins: ["*"]}`, "boards[0].embed_origins[0]:"},
		{"access role", `{id: b, access: {roles: [boss]}}`, `boards[0].access.roles[0]: unknown role "boss"`},
		{"names", `{id: b, kiosk: [{name: t, token: "0123456789abcdef0123456789abcdef", names: first}]}`, "boards[0].kiosk[0].names: must be full, initials or none"},
		{"rotate to nowhere", `{id: b, kiosk: [{name: t, token: "0123456789abcdef0123456789abcdef", rotate: [nope]}]}`, `boards[0].kiosk[0].rotate[0]: no board has id "nope"`},
		{"rotate too fast", `{id: b, kiosk: [{name: t, token: "0123456789abcdef0123456789abcdef", rotate_every: 1s}]}`, "boards[0].kiosk[0].rotate_every: must be at least 5s"},
		{"dim time", `{id: b, kiosk: [{name: t, token: "0123456789abcdef0123456789abcdef", dim: {from: "25:00", to: "6"}}]}`, `boards[0].kiosk[0].dim.from: must be a time of day`},
	}
	for _, tt := range boardTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte("boards: ["+tt.board+"]"), env(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}
