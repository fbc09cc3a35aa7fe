package server

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
)

// newEditorServer is the security test server with boards kept in db and
// the board editor on.
func newEditorServer(t *testing.T, db *database.DB) *secServer {
	t.Helper()
	ts := newSecServerWith(t, secConfig(), func(o *Options) {
		o.BoardStore, o.AuditLog = db, db
		o.LiveBoards = o.Boards.(LiveBoards)
	})
	return ts
}

// teamForm is a new board's form as the editor posts it.
func teamForm(csrf string) url.Values {
	return url.Values{"csrf_token": {csrf}, "version": {"0"}, "id": {"team"}, "title": {"Team"}, "sources": {"s1"},
		"tiles": {"waiting", "service_level", "available"}, "tile_pos.waiting": {"2"}, "tile_pos.service_level": {"1"},
		"tile_pos.available": {"3"}, "thresholds.waiting.warn": {"3"}, "thresholds.waiting.alarm": {"6"},
		"thresholds.service_level.warn": {"80%"}, "thresholds.longest_wait.warn": {"30s"}, "sort": {"problems"},
		"group_by": {""}, "theme": {"light"}, "clock": {"24h"}, "lang": {"de"}, "embed_origins": {"https://intranet.example.com"},
		"access.users": {"sue, ada"}}
}

func TestEditorAccess(t *testing.T) {
	for _, d := range dbtest.Open(t) {
		t.Run(d.Name, func(t *testing.T) {
			ts := newEditorServer(t, d.DB)
			anon := newBrowser(t, ts.URL)
			vic, sue, ada := signedIn(t, ts.URL, "vic"), signedIn(t, ts.URL, "sue"), signedIn(t, ts.URL, "ada")
			if resp, _ := sue.do("POST", "/editor", teamForm(sue.csrf("/editor"))); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sue creates team: %d", resp.StatusCode)
			}
			tests := []struct {
				name   string
				b      *browser
				method string
				path   string
				form   url.Values
				want   int
			}{
				{name: "anonymous: no editor", b: anon, method: "GET", path: "/editor", want: 401},
				{name: "anonymous: no preview", b: anon, method: "GET", path: "/editor/preview?id=x", want: 401},
				{name: "viewer: no editor", b: vic, method: "GET", path: "/editor", want: 403},
				{name: "viewer: no preview", b: vic, method: "GET", path: "/editor/preview?id=x", want: 403},
				{name: "viewer: no board's editor", b: vic, method: "GET", path: "/boards/floor/edit", want: 403},
				{name: "viewer: cannot create", b: vic, method: "POST", path: "/editor", form: teamForm(vic.csrf("/boards/floor")), want: 403},
				{name: "supervisor: the editor", b: sue, method: "GET", path: "/editor", want: 200},
				{name: "supervisor: the preview", b: sue, method: "GET", path: "/editor/preview?id=x&title=X", want: 200},
				{name: "supervisor: a file board, read only", b: sue, method: "GET", path: "/boards/floor/edit", want: 200},
				{name: "supervisor: a file board cannot be saved", b: sue, method: "POST", path: "/boards/floor/edit",
					form: url.Values{"csrf_token": {sue.csrf("/editor")}, "title": {"X"}}, want: 409},
				{name: "supervisor: a file board cannot be deleted", b: sue, method: "POST", path: "/boards/floor/delete",
					form: url.Values{"csrf_token": {sue.csrf("/editor")}}, want: 409},
				{name: "supervisor: without the CSRF token", b: sue, method: "POST", path: "/editor", form: teamForm("forged"), want: 403},
				{name: "supervisor: without the CSRF token, no delete", b: sue, method: "POST", path: "/boards/team/delete",
					form: url.Values{"csrf_token": {"forged"}}, want: 403},
				{name: "admin: the board's editor", b: ada, method: "GET", path: "/boards/team/edit", want: 200},
				{name: "admin: no such board", b: ada, method: "GET", path: "/boards/nosuch/edit", want: 404},
				{name: "supervisor: the delete confirmation", b: sue, method: "GET", path: "/boards/team/delete", want: 200},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					resp, body := tt.b.do(tt.method, tt.path, tt.form)
					if resp.StatusCode != tt.want {
						t.Errorf("%s %s: %d, want %d: %.300s", tt.method, tt.path, resp.StatusCode, tt.want, body)
					}
				})
			}
			// vic may not see team (its access lists sue and ada): not even
			// through the board's own page.
			if resp, _ := vic.do("GET", "/boards/team", nil); resp.StatusCode != http.StatusForbidden {
				t.Errorf("vic sees team: %d", resp.StatusCode)
			}
			if _, body := sue.do("GET", "/boards/floor/edit", nil); !strings.Contains(body, "defined in the configuration file") {
				t.Error("a file board's editor does not say where it is defined")
			}
		})
	}
}

var genRE = regexp.MustCompile(`data-gen="([^"]+)"`)

var versionField = regexp.MustCompile(`name="version" value="(\d+)"`)

func TestEditorSavesValidatesAndConflicts(t *testing.T) {
	for _, d := range dbtest.Open(t) {
		t.Run(d.Name, func(t *testing.T) {
			ts := newEditorServer(t, d.DB)
			sue, ada := signedIn(t, ts.URL, "sue"), signedIn(t, ts.URL, "ada")
			ctx := context.Background()

			// Made: in the database and on screen at once.
			resp, _ := sue.do("POST", "/editor", teamForm(sue.csrf("/editor")))
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/boards/team/edit?saved=1" {
				t.Fatalf("create: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			live, ok := ts.proj.Board("team")
			if !ok {
				t.Fatal("the new board is not on screen")
			}
			if got := strings.Join(live.Tiles, ","); got != "service_level,waiting,available" {
				t.Errorf("tiles %s, want them in their places", got)
			}
			if live.Thresholds.ServiceLevel.Warn != 0.8 || live.Thresholds.Waiting.Alarm != 6 || live.Sort != "problems" || live.Lang != "de" {
				t.Errorf("board on screen %+v", live)
			}
			if resp, body := sue.do("GET", "/boards/team", nil); resp.StatusCode != 200 || !strings.Contains(body, `data-testid="board-title">Team<`) {
				t.Errorf("the new board's page: %d", resp.StatusCode)
			}
			if resp, _ := sue.do("GET", "/boards/team/console", nil); resp.StatusCode != 200 {
				t.Errorf("the new board's console: %d", resp.StatusCode)
			}
			ctx2, cancel2 := context.WithCancel(ctx)
			waitFrame(t, streamFrames(t, ctx2, sue, "/boards/team/console/events"), "hx-swap-oob")
			cancel2()
			if _, body := sue.do("GET", "/", nil); !strings.Contains(body, `href="/boards/team/edit"`) || !strings.Contains(body, `href="/editor"`) {
				t.Error("the board list links neither the editor nor the new board's")
			}

			tests := []struct {
				name    string
				change  func(url.Values)
				version string
				field   string // the field whose error shows, "" for none
				want    int
			}{
				{name: "not a number", change: func(v url.Values) { v.Set("thresholds.waiting.warn", "lots") }, field: "thresholds.waiting.warn", want: 400},
				{name: "not a duration", change: func(v url.Values) { v.Set("thresholds.longest_wait.alarm", "soon") }, field: "thresholds.longest_wait.alarm", want: 400},
				{name: "a percentage over 100", change: func(v url.Values) { v.Set("thresholds.service_level.alarm", "150%") }, field: "thresholds.service_level.warn", want: 400},
				{name: "an unknown source", change: func(v url.Values) { v["sources"] = []string{"s1", "nosuch"} }, field: "sources", want: 400},
				{name: "an unknown tile", change: func(v url.Values) { v["tiles"] = []string{"waiting", "bogus"} }, field: "tiles", want: 400},
				{name: "a bad origin", change: func(v url.Values) { v.Set("embed_origins", "intranet") }, field: "embed_origins", want: 400},
				{name: "an unknown role", change: func(v url.Values) { v.Set("access.roles", "boss") }, field: "access.roles", want: 400},
				{name: "a bad sort", change: func(v url.Values) { v.Set("sort", "random") }, field: "sort", want: 400},
				{name: "a good change", change: func(v url.Values) { v.Set("thresholds.waiting.warn", "1") }, want: 303},
				{name: "a stale version", change: func(v url.Values) { v.Set("title", "Mine") }, version: "1", want: 409},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					before, err := d.DB.Board(ctx, "team")
					if err != nil {
						t.Fatal(err)
					}
					_, page := sue.do("GET", "/boards/team/edit", nil)
					m := versionField.FindStringSubmatch(page)
					if m == nil {
						t.Fatal("no version on the editor")
					}
					v := teamForm(sue.csrf("/boards/team/edit"))
					v.Set("version", m[1])
					if tt.version != "" {
						v.Set("version", tt.version)
					}
					tt.change(v)
					resp, body := sue.do("POST", "/boards/team/edit", v)
					if resp.StatusCode != tt.want {
						t.Fatalf("save: %d, want %d: %.500s", resp.StatusCode, tt.want, body)
					}
					after, _ := d.DB.Board(ctx, "team")
					if tt.want != 303 && after.Version != before.Version {
						t.Errorf("a refused save changed the board: version %d to %d", before.Version, after.Version)
					}
					if tt.field != "" && !strings.Contains(body, `data-testid="error-`+tt.field+`"`) {
						t.Errorf("no error beside %s: %.2000s", tt.field, body)
					}
					if tt.want == 409 {
						if !regexp.MustCompile(`Changed by sue at \d\d:\d\d, reload`).MatchString(body) {
							t.Errorf("the conflict does not say who changed it and when: %.1000s", body)
						}
						if !strings.Contains(body, `value="Mine"`) {
							t.Error("the conflict lost the form's values")
						}
					}
					if tt.want == 303 {
						if b, _ := ts.proj.Board("team"); b.Thresholds.Waiting.Warn != 1 {
							t.Errorf("the change is not on screen: warn %d", b.Thresholds.Waiting.Warn)
						}
					}
				})
			}

			// Two editors: ada read version 2, sue saves first; ada's save is
			// refused with who and when, and sue's change stays.
			_, page := ada.do("GET", "/boards/team/edit", nil)
			adaVersion := versionField.FindStringSubmatch(page)[1]
			_, page = sue.do("GET", "/boards/team/edit", nil)
			v := teamForm(sue.csrf("/boards/team/edit"))
			v.Set("version", versionField.FindStringSubmatch(page)[1])
			v.Set("title", "Sue's")
			if resp, _ := sue.do("POST", "/boards/team/edit", v); resp.StatusCode != 303 {
				t.Fatalf("sue's save: %d", resp.StatusCode)
			}
			v = teamForm(ada.csrf("/boards/team/edit"))
			v.Set("version", adaVersion)
			v.Set("title", "Ada's")
			resp, body := ada.do("POST", "/boards/team/edit", v)
			if resp.StatusCode != 409 || !strings.Contains(body, "Changed by sue at") {
				t.Errorf("ada's save: %d %.300s", resp.StatusCode, body)
			}
			if b, _ := ts.proj.Board("team"); b.Title != "Sue's" {
				t.Errorf("title on screen %q, want Sue's", b.Title)
			}

			// Deleted: gone from the database and the screens.
			_, page = sue.do("GET", "/boards/team/delete", nil)
			del := url.Values{"csrf_token": {sue.csrf("/boards/team/delete")}, "version": {versionField.FindStringSubmatch(page)[1]}}
			if resp, _ := sue.do("POST", "/boards/team/delete", del); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("delete: %d", resp.StatusCode)
			}
			if _, ok := ts.proj.Board("team"); ok {
				t.Error("a deleted board is still on screen")
			}
			if resp, _ := sue.do("GET", "/boards/team", nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("a deleted board's page: %d", resp.StatusCode)
			}
			// Every change is in the audit log, by who made it.
			entries, err := d.DB.Audit(ctx, database.AuditFilter{Action: "board."})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range entries {
				actions = append(actions, e.Action+" "+e.Actor)
			}
			got := strings.Join(actions, "; ")
			for _, want := range []string{"board.create user:sue", "board.update user:sue", "board.delete user:sue"} {
				if !strings.Contains(got, want) {
					t.Errorf("audit log %q lacks %q", got, want)
				}
			}
			if strings.Contains(got, "user:ada") {
				t.Errorf("ada's refused save is in the audit log: %s", got)
			}
		})
	}
}

// streamFrames reads the data of a stream's frames from the browser's
// session (or none: a TV link).
func streamFrames(t *testing.T, ctx context.Context, b *browser, path string) <-chan string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", b.base+path, nil)
	c := &http.Client{Jar: b.c.Jar}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d", path, resp.StatusCode)
	}
	ch := make(chan string, 64)
	go func() {
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		var data strings.Builder
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				close(ch)
				return
			}
			switch {
			case strings.HasPrefix(l, "data: "):
				data.WriteString(l[6:])
			case l == "\n" && data.Len() > 0:
				ch <- data.String()
				data.Reset()
			}
		}
	}()
	return ch
}

// Saving a board resets the screens of that board (they reload it under
// its new generation) and no other screen.
func TestSavingABoardResetsOnlyItsScreens(t *testing.T) {
	for _, d := range dbtest.Open(t) {
		t.Run(d.Name, func(t *testing.T) {
			ts := newEditorServer(t, d.DB)
			sue := signedIn(t, ts.URL, "sue")
			if resp, _ := sue.do("POST", "/editor", teamForm(sue.csrf("/editor"))); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("create: %d", resp.StatusCode)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// Each stream begins with a reset (no since): read it first.
			tv := streamFrames(t, ctx, newBrowser(t, ts.URL), "/tv/"+tvToken+"/events")
			floor := streamFrames(t, ctx, sue, "/boards/floor/events")
			team := streamFrames(t, ctx, sue, "/boards/team/events")
			var teamGen string
			for name, ch := range map[string]<-chan string{"tv": tv, "floor": floor, "team": team} {
				select {
				case f := <-ch:
					if name == "team" {
						teamGen = genRE.FindStringSubmatch(f)[1]
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("%s: no first frame", name)
				}
			}
			_, page := sue.do("GET", "/boards/team/edit", nil)
			v := teamForm(sue.csrf("/boards/team/edit"))
			v.Set("version", versionField.FindStringSubmatch(page)[1])
			v.Set("thresholds.waiting.warn", "1")
			if resp, _ := sue.do("POST", "/boards/team/edit", v); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("save: %d", resp.StatusCode)
			}
			// A threshold: the reset redraws it in place (the page's own
			// hash stays, so the page does not reload).
			f := waitFrame(t, team, `id="board-state"`)
			if m := genRE.FindStringSubmatch(f); len(m) < 2 || m[1] != teamGen || !strings.Contains(f, `id="agents"`) {
				t.Errorf("team's screens got %.300s, want a reset with the page's hash %s", f, teamGen)
			}
			// The title: only a page load shows it, so the hash changes.
			_, page = sue.do("GET", "/boards/team/edit", nil)
			v.Set("csrf_token", sue.csrf("/boards/team/edit"))
			v.Set("version", versionField.FindStringSubmatch(page)[1])
			v.Set("title", "Renamed")
			if resp, _ := sue.do("POST", "/boards/team/edit", v); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("save: %d", resp.StatusCode)
			}
			f = waitFrame(t, team, `id="board-state"`)
			if m := genRE.FindStringSubmatch(f); len(m) < 2 || m[1] == teamGen {
				t.Errorf("team's screens got %.300s, want a reset with a new page hash", f)
			}
			// The other screens may get the floor's own deltas (a source's
			// status), never a reset.
			for name, ch := range map[string]<-chan string{"tv": tv, "floor": floor} {
				deadline := time.After(300 * time.Millisecond)
			read:
				for {
					select {
					case f := <-ch:
						if strings.Contains(f, `id="board-state"`) || strings.Contains(f, `id="agents"`) {
							t.Errorf("%s's screen was reset by another board's save: %.200s", name, f)
						}
					case <-deadline:
						break read
					}
				}
			}
			// Deleted: its screens are told.
			_, page = sue.do("GET", "/boards/team/delete", nil)
			del := url.Values{"csrf_token": {sue.csrf("/boards/team/delete")}, "version": {versionField.FindStringSubmatch(page)[1]}}
			if resp, _ := sue.do("POST", "/boards/team/delete", del); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("delete: %d", resp.StatusCode)
			}
			waitFrame(t, team, `data-removed="true"`)
		})
	}
}

// waitFrame returns the first frame from ch that contains want, skipping
// the board's own deltas (a source's status).
func waitFrame(t *testing.T, ch <-chan string, want string) string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case f, ok := <-ch:
			if !ok {
				t.Fatalf("the stream ended before a frame with %s", want)
			}
			if strings.Contains(f, want) {
				return f
			}
		case <-deadline:
			t.Fatalf("no frame with %s within 5s", want)
		}
	}
}

// A change made through the API is on screen at once too.
func TestAPIChangesApplyOnScreen(t *testing.T) {
	for _, d := range dbtest.Open(t) {
		t.Run(d.Name, func(t *testing.T) {
			cfg := secConfig()
			cfg.APITokens = []config.APIToken{{Name: "automation", Token: adminToken, Scope: config.ScopeAdmin}}
			ts := newSecServerWith(t, cfg, func(o *Options) {
				o.BoardStore, o.AuditLog, o.Links = d.DB, d.DB, d.DB
				o.LiveBoards = o.Boards.(LiveBoards)
			})
			var tv string // a TV link of the board, made once it exists
			steps := []struct {
				name, method, path, body string
				status                   int
				title                    string // on screen after, "" for none
			}{
				{name: "create", method: "POST", path: "/api/v1/boards", body: `{"id":"api","title":"Made"}`, status: 201, title: "Made"},
				{name: "change", method: "PUT", path: "/api/v1/boards/api", body: `{"title":"Changed","version":1}`, status: 200, title: "Changed"},
				{name: "stale", method: "PUT", path: "/api/v1/boards/api", body: `{"title":"Stale","version":1}`, status: 409, title: "Changed"},
				{name: "delete", method: "DELETE", path: "/api/v1/boards/api", status: 204},
			}
			for _, st := range steps {
				t.Run(st.name, func(t *testing.T) {
					if a := call(t, st.method, ts.URL+st.path, adminToken, st.body); a.status != st.status {
						t.Fatalf("%d, want %d: %s", a.status, st.status, a.raw)
					}
					b, ok := ts.proj.Board("api")
					if st.title == "" && ok {
						t.Error("still on screen")
					}
					if st.title != "" && (!ok || b.Title != st.title) {
						t.Errorf("on screen: %v %q, want %q", ok, b.Title, st.title)
					}
					if tv == "" && st.title != "" {
						a := call(t, "POST", ts.URL+"/api/v1/boards/api/links", adminToken, `{"name":"wall"}`)
						if a.status != 201 {
							t.Fatalf("a TV link of the new board: %d %s", a.status, a.raw)
						}
						tv, _ = a.body["url"].(string)
						if i := strings.Index(tv, "/tv/"); i >= 0 {
							tv = tv[i:]
						}
					}
					// Its TV shows the board as it is now (and nothing once it
					// is deleted).
					resp, body := newBrowser(t, ts.URL).do("GET", tv, nil)
					if st.title != "" && (resp.StatusCode != 200 || !strings.Contains(body, ">"+st.title+"<")) {
						t.Errorf("its TV link: %d, want the board titled %s", resp.StatusCode, st.title)
					}
					if st.title == "" && resp.StatusCode == 200 {
						t.Error("a deleted board's TV link still shows it")
					}
				})
			}
		})
	}
}
