package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wallboard/wallboard/internal/board"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/hub"
	"github.com/wallboard/wallboard/internal/model"
)

func init() { passwordCost = bcrypt.MinCost } // hashing at the real cost only slows the tests

// manageConfig is secConfig with admin and read API tokens.
func manageConfig() config.Config {
	cfg := secConfig()
	cfg.APITokens = []config.APIToken{{Name: "reporting", Token: readToken}, {Name: "automation", Token: adminToken, Scope: config.ScopeAdmin}}
	return cfg
}

// newManageServer is the server as cmd/wallboard wires it over db: every
// name mode of every board, sessions, users and links in the database.
func newManageServer(t *testing.T, db *database.DB) *secServer {
	t.Helper()
	cfg := manageConfig()
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	loop := model.NewLoop(model.New(model.Options{Sources: []string{"s1"}}), model.LoopOptions{Flush: 10 * time.Millisecond})
	h := hub.New(hub.Options{})
	h.Start()
	proj := board.NewProjector(&cfg, board.Options{AllNameModes: true})
	for _, b := range proj.Streams() {
		id, bid := b.StreamID(), b.Def.ID
		proj.Attach(id, h.Topic(id, b.Gen, func() []byte { return append(proj.Reset(id), proj.TickerFragment(bid)...) }))
	}
	ctx, cancel := context.WithCancel(context.Background())
	go loop.Run(ctx)
	go proj.Run(ctx, loop.Deltas())
	srv := New(Options{Config: &cfg, Boards: proj, Tickers: proj, Console: proj.Console(), Streams: h, Floor: loop,
		Logger: slog.New(slog.DiscardHandler), BoardStore: db, AuditLog: db, Sessions: db.Sessions(), Users: db, Links: db})
	srv.links.touchEvery = 20 * time.Millisecond // not a minute: the test waits for it
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); h.Close(); srv.Close(); cancel() })
	return &secServer{Server: ts, srv: srv, proj: proj, loop: loop}
}

// streamEnds reports whether the stream's lines end within d.
func streamEnds(lines <-chan string, d time.Duration) bool {
	timeout := time.After(d)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

func TestSessionsSurviveARestart(t *testing.T) {
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			first := newManageServer(t, c.DB)
			ada := signedIn(t, first.URL, "ada")
			first.Close()
			// A new server over the same database: the same cookie is
			// still signed in, as the same user with the same role.
			second := newManageServer(t, c.DB)
			ada.base = second.URL
			resp, body := ada.do("GET", "/admin", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("after the restart: GET /admin = %d (%s)", resp.StatusCode, resp.Header.Get("Location"))
			}
			if !strings.Contains(body, "Operations") {
				t.Errorf("admin page: %.200s", body)
			}
			// Sign-out still ends it.
			if resp, _ := ada.do("POST", "/logout", url.Values{"csrf_token": {ada.csrf("/boards/floor/settings")}}); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-out = %d", resp.StatusCode)
			}
			if resp, _ := ada.do("GET", "/admin", nil, "Accept", "text/html"); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("after sign-out: GET /admin = %d, want a redirect to sign in", resp.StatusCode)
			}
		})
	}
}

func TestTVLinksAPI(t *testing.T) {
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			ts := newManageServer(t, c.DB)
			u := ts.URL + "/api/v1/boards/floor/links"
			tests := []struct {
				name, method, path, token, body string
				want                            int
				wantPath                        string // a problem's path in a 400
			}{
				{"list without a token", "GET", "/api/v1/boards/floor/links", "", "", 401, ""},
				{"list with a read token", "GET", "/api/v1/boards/floor/links", readToken, "", 403, ""},
				{"create with a read token", "POST", "/api/v1/boards/floor/links", readToken, `{"name":"tv1"}`, 403, ""},
				{"create with a wrong token", "POST", "/api/v1/boards/floor/links", "nope-0123456789abcdef", `{"name":"tv1"}`, 401, ""},
				{"create on an unknown board", "POST", "/api/v1/boards/nope/links", adminToken, `{"name":"tv1"}`, 404, ""},
				{"create without a name", "POST", "/api/v1/boards/floor/links", adminToken, `{}`, 400, "name"},
				{"create with a bad name", "POST", "/api/v1/boards/floor/links", adminToken, `{"name":"a b/c"}`, 400, "name"},
				{"create with a bad names mode", "POST", "/api/v1/boards/floor/links", adminToken, `{"name":"tv1","names":"some"}`, 400, "names"},
				{"create with an unknown key", "POST", "/api/v1/boards/floor/links", adminToken, `{"name":"tv1","token":"mine"}`, 400, "(body)"},
				{"create with a body that is not JSON", "POST", "/api/v1/boards/floor/links", adminToken, `name=tv1`, 400, "(body)"},
				{"create with the name of a file link", "POST", "/api/v1/boards/floor/links", adminToken, `{"name":"lobby"}`, 409, ""},
				{"revoke a file link", "DELETE", "/api/v1/boards/floor/links/lobby", adminToken, "", 409, ""},
				{"revoke a link that does not exist", "DELETE", "/api/v1/boards/floor/links/nope", adminToken, "", 404, ""},
				{"revoke with a read token", "DELETE", "/api/v1/boards/floor/links/nope", readToken, "", 403, ""},
			}
			for _, tt := range tests {
				a := call(t, tt.method, ts.URL+tt.path, tt.token, tt.body)
				if a.status != tt.want {
					t.Errorf("%s: %d, want %d (%s)", tt.name, a.status, tt.want, a.raw)
				}
				if tt.wantPath != "" && !strings.Contains(a.raw, `"path":"`+strings.ReplaceAll(tt.wantPath, `"`, `\"`)+`"`) {
					t.Errorf("%s: %s lacks the problem at %s", tt.name, a.raw, tt.wantPath)
				}
			}

			// Made with an admin token: the token is shown once, with its URL.
			a := call(t, "POST", u, adminToken, `{"name":"reception-tv","names":"none"}`)
			if a.status != 201 {
				t.Fatalf("create: %d %s", a.status, a.raw)
			}
			token, _ := a.body["token"].(string)
			if len(token) < 32 || a.body["url"] != ts.URL+"/tv/"+token || a.body["name"] != "reception-tv" {
				t.Fatalf("create answered %s", a.raw)
			}
			if a := call(t, "POST", u, adminToken, `{"name":"reception-tv"}`); a.status != 409 {
				t.Errorf("the same name again: %d", a.status)
			}
			// Only a hash is kept: the token is nowhere in the list nor in the
			// SQLite files.
			list := call(t, "GET", u, adminToken, "")
			if list.status != 200 || strings.Contains(list.raw, token) {
				t.Fatalf("list: %d %s", list.status, list.raw)
			}
			var got struct {
				Links []linkRow `json:"links"`
			}
			if err := json.Unmarshal([]byte(list.raw), &got); err != nil {
				t.Fatal(err)
			}
			origins := map[string]string{}
			for _, l := range got.Links {
				origins[l.Name] = l.Origin + "/" + l.Names
			}
			if origins["lobby"] != "file/initials" || origins["reception-tv"] != "database/none" || len(got.Links) != 4 {
				t.Errorf("links: %+v", got.Links)
			}
			if c.DB.Path() != "" {
				for _, f := range []string{c.DB.Path(), c.DB.Path() + "-wal"} {
					b, _ := os.ReadFile(f)
					if strings.Contains(string(b), token) {
						t.Errorf("%s holds the token itself", filepath.Base(f))
					}
				}
			}

			// The TV: its page and stream, names hidden as the link says.
			now := time.Now()
			if err := ts.loop.Publish(context.Background(),
				event.Event{Kind: event.AgentInfo, Source: "s1", Agent: "a1", Name: "Marcus Lee", At: now},
				event.Event{Kind: event.AgentState, Source: "s1", Agent: "a1", State: event.StateAvailable, At: now}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { n, _ := ts.proj.Counts("floor"); return n == 1 })
			tv := newBrowser(t, ts.URL)
			resp, page := tv.do("GET", "/tv/"+token, nil)
			if resp.StatusCode != 200 || !strings.Contains(page, `id="agent-s1-a1"`) || strings.Contains(page, "Marcus") || strings.Contains(page, ">ML<") {
				t.Fatalf("TV page %d: %s", resp.StatusCode, excerpt(page, "a-name"))
			}
			lines := openStream(t, ts.URL+"/tv/"+token+"/events")
			readUntil(t, lines, "data:")

			// Where it was seen is written off the request's path.
			waitFor(t, func() bool {
				ls, _ := c.DB.Links(context.Background(), "floor")
				return len(ls) == 1 && !ls[0].LastSeenAt.IsZero() && ls[0].LastSeenFrom == "127.0.0.1"
			})

			// Revoked: the stream ends at once, the link answers 404 and
			// says it was revoked.
			revoked := time.Now()
			if a := call(t, "DELETE", u+"/reception-tv", adminToken, ""); a.status != 204 {
				t.Fatalf("revoke: %d %s", a.status, a.raw)
			}
			if !streamEnds(lines, time.Second) {
				t.Fatal("the TV's stream was still open 1s after the link was revoked")
			}
			t.Logf("stream ended %v after the revocation", time.Since(revoked))
			resp, page = tv.do("GET", "/tv/"+token, nil)
			if resp.StatusCode != 404 || !strings.Contains(page, "This link was revoked") {
				t.Errorf("revoked TV page %d: %.300s", resp.StatusCode, page)
			}
			if resp, _ := tv.do("GET", "/tv/"+token+"/events", nil); resp.StatusCode != 404 {
				t.Errorf("revoked stream: %d", resp.StatusCode)
			}
			if a := call(t, "DELETE", u+"/reception-tv", adminToken, ""); a.status != 404 {
				t.Errorf("revoke again: %d", a.status)
			}
			// The file's links keep working.
			if resp, _ := tv.do("GET", "/tv/"+tvToken, nil); resp.StatusCode != 200 {
				t.Errorf("file link: %d", resp.StatusCode)
			}
			// Both changes are in the audit log, by the token's name, with
			// no token in them.
			log := call(t, "GET", ts.URL+"/api/v1/audit?action=link.", adminToken, "")
			if log.status != 200 || strings.Contains(log.raw, token) ||
				!strings.Contains(log.raw, `"action":"link.revoke"`) || !strings.Contains(log.raw, `"actor":"token:automation"`) ||
				strings.Index(log.raw, "link.revoke") > strings.Index(log.raw, "link.create") {
				t.Errorf("audit: %s", log.raw)
			}
		})
	}
}

func TestTVLinksPage(t *testing.T) {
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			ts := newManageServer(t, c.DB)
			sue := signedIn(t, ts.URL, "sue") // supervisor, sees floor and private
			vic := signedIn(t, ts.URL, "vic") // viewer
			anon := newBrowser(t, ts.URL)
			csrf := sue.csrf("/boards/floor/links")
			tests := []struct {
				name string
				b    *browser
				path string
				form url.Values
				want int
				in   string // in the answer
			}{
				{"page, signed out", anon, "/boards/floor/links", nil, 401, ""},
				{"page, a viewer", vic, "/boards/floor/links", nil, 403, ""},
				{"page, a supervisor", sue, "/boards/floor/links", nil, 200, "defined in the configuration file"},
				{"page of an unknown board", sue, "/boards/nope/links", nil, 404, ""},
				{"create without the CSRF token", sue, "/boards/floor/links", url.Values{"name": {"tv1"}}, 403, ""},
				{"create, a viewer", vic, "/boards/floor/links", url.Values{"csrf_token": {vic.csrf("/boards/floor")}, "name": {"tv1"}}, 403, ""},
				{"create without a name", sue, "/boards/floor/links", url.Values{"csrf_token": {csrf}, "names": {"full"}}, 400, `data-testid="error-name"`},
				{"create with a bad name", sue, "/boards/floor/links", url.Values{"csrf_token": {csrf}, "name": {"<b>x</b>"}}, 400, `data-testid="error-name"`},
				{"create with a bad names mode", sue, "/boards/floor/links", url.Values{"csrf_token": {csrf}, "name": {"tv1"}, "names": {"x"}}, 400, `data-testid="error-names"`},
				{"create with a file link's name", sue, "/boards/floor/links", url.Values{"csrf_token": {csrf}, "name": {"wall"}}, 409, `data-testid="error-name"`},
				{"create", sue, "/boards/floor/links", url.Values{"csrf_token": {csrf}, "name": {"tv1"}, "names": {"initials"}}, 201, "data:image/png;base64,"},
				{"revoke without the CSRF token", sue, "/boards/floor/links/tv1/revoke", url.Values{}, 403, ""},
				{"revoke a file link", sue, "/boards/floor/links/wall/revoke", url.Values{"csrf_token": {csrf}}, 409, ""},
				{"revoke", sue, "/boards/floor/links/tv1/revoke", url.Values{"csrf_token": {csrf}}, 303, ""},
				{"revoke again", sue, "/boards/floor/links/tv1/revoke", url.Values{"csrf_token": {csrf}}, 404, ""},
			}
			for _, tt := range tests {
				method := "GET"
				if tt.form != nil {
					method = "POST"
				}
				resp, body := tt.b.do(method, tt.path, tt.form)
				if resp.StatusCode != tt.want || !strings.Contains(body, tt.in) {
					t.Errorf("%s: %d, want %d with %q: %.300s", tt.name, resp.StatusCode, tt.want, tt.in, body)
				}
				if tt.want == 400 && strings.Contains(body, "<b>x</b>") {
					t.Errorf("%s: the bad input was not escaped", tt.name)
				}
			}
			ls, err := c.DB.Links(context.Background(), "floor")
			if err != nil || len(ls) != 0 {
				t.Errorf("after revoking: %+v %v (nothing saved by a refused form)", ls, err)
			}
			// The link made by the form was made by sue, and named in the audit.
			es, err := c.DB.Audit(context.Background(), database.AuditFilter{Action: "link."})
			if err != nil || len(es) != 2 || es[0].Action != "link.revoke" || es[1].Actor != "user:sue" {
				t.Errorf("audit: %+v %v", es, err)
			}

			// The API with a session: the page's CSRF token in X-CSRF-Token.
			api := func(b *browser, method, path, body string, header ...string) int {
				t.Helper()
				req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				for i := 0; i+1 < len(header); i += 2 {
					req.Header.Set(header[i], header[i+1])
				}
				resp, err := b.c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			for _, tt := range []struct {
				name               string
				b                  *browser
				method, path, body string
				header             []string
				want               int
			}{
				{"list, a supervisor", sue, "GET", "/api/v1/boards/floor/links", "", nil, 200},
				{"list, a viewer", vic, "GET", "/api/v1/boards/floor/links", "", nil, 403},
				{"list, signed out", anon, "GET", "/api/v1/boards/floor/links", "", nil, 401},
				{"create without the CSRF token", sue, "POST", "/api/v1/boards/floor/links", `{"name":"tv2"}`, nil, 403},
				{"create with the CSRF token", sue, "POST", "/api/v1/boards/floor/links", `{"name":"tv2"}`, []string{"X-CSRF-Token", csrf}, 201},
				{"revoke without the CSRF token", sue, "DELETE", "/api/v1/boards/floor/links/tv2", "", nil, 403},
				{"revoke with the CSRF token", sue, "DELETE", "/api/v1/boards/floor/links/tv2", "", []string{"X-CSRF-Token", csrf}, 204},
			} {
				if got := api(tt.b, tt.method, tt.path, tt.body, tt.header...); got != tt.want {
					t.Errorf("API %s: %d, want %d", tt.name, got, tt.want)
				}
			}
		})
	}
}

func TestLocalUsers(t *testing.T) {
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			ts := newManageServer(t, c.DB)
			ada := signedIn(t, ts.URL, "ada") // the file's admin
			sue := signedIn(t, ts.URL, "sue")
			csrf := ada.csrf("/admin/users")
			add := func(form url.Values) (*http.Response, string) {
				form.Set("csrf_token", csrf)
				return ada.do("POST", "/admin/users", form)
			}
			tests := []struct {
				name  string
				form  url.Values
				want  int
				field string // the field whose error shows
			}{
				{"no name", url.Values{"password": {"long enough"}, "role": {"viewer"}}, 400, "name"},
				{"a bad name", url.Values{"name": {"a b"}, "password": {"long enough"}, "role": {"viewer"}}, 400, "name"},
				{"a file user's name", url.Values{"name": {"vic"}, "password": {"long enough"}, "role": {"viewer"}}, 400, "name"},
				{"a short password", url.Values{"name": {"zoe"}, "password": {"short"}, "role": {"viewer"}}, 400, "password"},
				{"a password over 72 bytes", url.Values{"name": {"zoe"}, "password": {strings.Repeat("x", 73)}, "role": {"viewer"}}, 400, "password"},
				{"no role", url.Values{"name": {"zoe"}, "password": {"long enough"}}, 400, "role"},
				{"an unknown board", url.Values{"name": {"zoe"}, "password": {"long enough"}, "role": {"viewer"}, "boards": {"nope"}}, 400, "boards"},
			}
			for _, tt := range tests {
				resp, body := add(tt.form)
				if resp.StatusCode != tt.want || !strings.Contains(body, `data-testid="error-`+tt.field+`"`) {
					t.Errorf("%s: %d, want %d with an error beside %s", tt.name, resp.StatusCode, tt.want, tt.field)
				}
			}
			if us, _ := c.DB.Users(context.Background()); len(us) != 0 {
				t.Fatalf("refused forms saved %+v", us)
			}
			// Only admins, with the CSRF token.
			if resp, _ := sue.do("GET", "/admin/users", nil); resp.StatusCode != 403 {
				t.Errorf("a supervisor's GET /admin/users: %d", resp.StatusCode)
			}
			if resp, _ := sue.do("POST", "/admin/users", url.Values{"csrf_token": {sue.csrf("/boards/floor/settings")}, "name": {"zoe"}, "password": {"long enough"}, "role": {"admin"}}); resp.StatusCode != 403 {
				t.Errorf("a supervisor's POST /admin/users: %d", resp.StatusCode)
			}
			if resp, _ := ada.do("POST", "/admin/users", url.Values{"name": {"zoe"}, "password": {"long enough"}, "role": {"admin"}}); resp.StatusCode != 403 {
				t.Errorf("without the CSRF token: %d", resp.StatusCode)
			}

			// Zoe, a viewer who may see the private board.
			if resp, body := add(url.Values{"name": {"zoe"}, "password": {"first password"}, "role": {"viewer"}, "boards": {"private"}}); resp.StatusCode != 303 {
				t.Fatalf("add zoe: %d %.300s", resp.StatusCode, body)
			}
			if resp, _ := add(url.Values{"name": {"zoe"}, "password": {"first password"}, "role": {"viewer"}}); resp.StatusCode != 409 {
				t.Errorf("zoe again: %d", resp.StatusCode)
			}
			zoe := newBrowser(t, ts.URL)
			if resp := zoe.login("zoe", "first password"); resp.StatusCode != 303 {
				t.Fatalf("zoe signs in: %d", resp.StatusCode)
			}
			if resp, _ := zoe.do("GET", "/boards/private", nil); resp.StatusCode != 200 {
				t.Errorf("zoe sees the private board: %d", resp.StatusCode)
			}
			if resp, _ := zoe.do("GET", "/boards/floor/links", nil); resp.StatusCode != 403 {
				t.Errorf("zoe, a viewer, on the links page: %d", resp.StatusCode)
			}
			lines := openStreamAs(t, zoe, ts.URL+"/boards/floor/events")
			readUntil(t, lines, "data:")

			user := func() database.User {
				u, err := c.DB.User(context.Background(), "zoe")
				if err != nil {
					t.Fatal(err)
				}
				return u
			}
			change := func(what string, form url.Values) (*http.Response, string) {
				form.Set("csrf_token", csrf)
				return ada.do("POST", "/admin/users/zoe/"+what, form)
			}
			v := func() string { return strconv.FormatInt(user().Version, 10) }

			// A role change applies to her signed-in session at once.
			if resp, body := change("access", url.Values{"version": {v()}, "role": {"supervisor"}, "boards": {"private"}}); resp.StatusCode != 303 {
				t.Fatalf("make zoe a supervisor: %d %.300s", resp.StatusCode, body)
			}
			if resp, _ := zoe.do("GET", "/boards/floor/links", nil); resp.StatusCode != 200 {
				t.Errorf("zoe, now a supervisor, on the links page: %d", resp.StatusCode)
			}
			// A stale version is refused and says who changed it.
			if resp, body := change("access", url.Values{"version": {"1"}, "role": {"admin"}}); resp.StatusCode != 409 || !strings.Contains(body, "changed by user:ada at") {
				t.Errorf("stale version: %d %s", resp.StatusCode, excerpt(body, "changed by"))
			}
			if resp, _ := change("access", url.Values{"version": {v()}, "role": {"boss"}}); resp.StatusCode != 400 {
				t.Errorf("an unknown role: %d", resp.StatusCode)
			}
			if user().Role != "supervisor" {
				t.Errorf("a refused change saved: %+v", user())
			}

			// Disabled: her session and her open stream end at once, and she
			// cannot sign in.
			if resp, _ := change("disable", url.Values{"version": {v()}}); resp.StatusCode != 303 {
				t.Fatalf("disable: %d", resp.StatusCode)
			}
			if !streamEnds(lines, time.Second) {
				t.Error("zoe's stream was open 1s after she was disabled")
			}
			if resp, _ := zoe.do("GET", "/boards/private", nil, "Accept", "text/html"); resp.StatusCode != 303 {
				t.Errorf("zoe's session after she was disabled: %d", resp.StatusCode)
			}
			if resp := newBrowser(t, ts.URL).login("zoe", "first password"); resp.StatusCode != 401 {
				t.Errorf("a disabled user signs in: %d", resp.StatusCode)
			}
			if resp, _ := change("enable", url.Values{"version": {v()}}); resp.StatusCode != 303 {
				t.Fatalf("enable: %d", resp.StatusCode)
			}
			// A new password: the old one no longer works.
			if resp, _ := change("password", url.Values{"version": {v()}, "password": {"short"}}); resp.StatusCode != 400 {
				t.Errorf("a short new password: %d", resp.StatusCode)
			}
			if resp, _ := change("password", url.Values{"version": {v()}, "password": {"second password"}}); resp.StatusCode != 303 {
				t.Fatalf("reset the password: %d", resp.StatusCode)
			}
			if resp := newBrowser(t, ts.URL).login("zoe", "first password"); resp.StatusCode != 401 {
				t.Errorf("the old password: %d", resp.StatusCode)
			}
			if resp := newBrowser(t, ts.URL).login("zoe", "second password"); resp.StatusCode != 303 {
				t.Errorf("the new password: %d", resp.StatusCode)
			}
			if strings.HasPrefix(user().PasswordHash, "second") || bcrypt.CompareHashAndPassword([]byte(user().PasswordHash), []byte("second password")) != nil {
				t.Error("the password is not kept as a bcrypt hash")
			}

			// Every change is in the audit log, newest first, without a hash.
			es, err := c.DB.Audit(context.Background(), database.AuditFilter{Target: "user:zoe"})
			var actions []string
			for _, e := range es {
				actions = append(actions, e.Action)
				if strings.Contains(string(e.Before)+string(e.After), "$2") {
					t.Errorf("audit entry %s holds a hash", e.Action)
				}
			}
			if err != nil || strings.Join(actions, " ") != "user.password user.enable user.disable user.update user.create" {
				t.Errorf("audit: %v %v", actions, err)
			}

			// The audit page: admins only, filtered, bad filters refused.
			resp, body := ada.do("GET", "/admin/audit?target=user:zoe&action=user.disable", nil)
			if resp.StatusCode != 200 || strings.Count(body, `data-testid="audit-entry"`) != 1 || !strings.Contains(body, `data-action="user.disable"`) {
				t.Errorf("audit page: %d %s", resp.StatusCode, excerpt(body, "audit-list"))
			}
			if resp, body := ada.do("GET", "/admin/audit?since=yesterday", nil); resp.StatusCode != 400 || !strings.Contains(body, `data-testid="error-since"`) {
				t.Errorf("audit page with a bad time: %d", resp.StatusCode)
			}
			if resp, _ := sue.do("GET", "/admin/audit", nil); resp.StatusCode != 403 {
				t.Errorf("a supervisor's audit page: %d", resp.StatusCode)
			}
		})
	}
}
