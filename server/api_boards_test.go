package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/internal/database/dbtest"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

const (
	readToken  = "read-0123456789abcdef"
	adminToken = "admin-0123456789abcdef"
)

// newBoardsServer serves the boards API over db, with one board in the
// file (with a kiosk token that must never be shown) and one source.
func newBoardsServer(t *testing.T, db *database.DB) *httptest.Server {
	t.Helper()
	cfg := config.Default()
	cfg.APITokens = []config.APIToken{{Name: "reporting", Token: readToken}, {Name: "automation", Token: adminToken, Scope: config.ScopeAdmin}}
	cfg.Sources = []config.Source{{Name: "s1", Type: vendorsim.TypeSimulation}}
	cfg.Boards = []config.Board{{ID: "floor", Title: "Floor", Kiosk: []config.Kiosk{{Name: "tv", Token: kiosk}}}}
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	ts := httptest.NewServer(New(Options{Config: &cfg, BoardStore: db, AuditLog: db, Metrics: http.NotFoundHandler()}))
	t.Cleanup(ts.Close)
	return ts
}

type apiAnswer struct {
	status int
	body   map[string]any
	raw    string
}

func call(t *testing.T, method, url, token, body string, header ...string) apiAnswer {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := apiAnswer{status: resp.StatusCode, raw: string(b)}
	json.Unmarshal(b, &a.body)
	return a
}

func TestBoardsAPIAccess(t *testing.T) {
	ts := newBoardsServer(t, dbtest.Open(t)[0].DB)
	const board = `{"id":"annex","title":"Annex"}`
	tests := []struct {
		name         string
		method, path string
		token, body  string
		header       []string
		want         int
	}{
		{"list without a token", "GET", "/api/v1/boards", "", "", nil, 401},
		{"list with a wrong token", "GET", "/api/v1/boards", "nope-0123456789abcdef", "", nil, 401},
		{"list with a read token", "GET", "/api/v1/boards", readToken, "", nil, 200},
		{"get with a read token", "GET", "/api/v1/boards/floor", readToken, "", nil, 200},
		{"create with a read token", "POST", "/api/v1/boards", readToken, board, nil, 403},
		{"create with a wrong token", "POST", "/api/v1/boards", "nope-0123456789abcdef", board, nil, 401},
		{"create without a token: a browser form gets the CSRF refusal", "POST", "/api/v1/boards", "", board, nil, 403},
		{"update with a read token", "PUT", "/api/v1/boards/annex", readToken, `{"version":1}`, nil, 403},
		{"delete with a read token", "DELETE", "/api/v1/boards/annex", readToken, "", nil, 403},
		{"create with an admin token, even cross-site: a bearer token is no ambient credential", "POST", "/api/v1/boards", adminToken, board,
			[]string{"Sec-Fetch-Site", "cross-site"}, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, tt.method, ts.URL+tt.path, tt.token, tt.body, tt.header...)
			if a.status != tt.want {
				t.Errorf("%s %s = %d %s, want %d", tt.method, tt.path, a.status, a.raw, tt.want)
			}
			if a.status == 401 && a.body["error"] == nil {
				t.Errorf("401 without a JSON error: %s", a.raw)
			}
		})
	}
}

func TestBoardsAPI(t *testing.T) {
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			ts := newBoardsServer(t, c.DB)
			u := ts.URL + "/api/v1/boards"
			a := call(t, "POST", u, adminToken, `{"id":"annex","title":"Annex","sources":["s1"],"tiles":["waiting","offered"],
				"thresholds":{"waiting":{"warn":3,"alarm":6},"longest_wait":{"warn":"30s"}}}`)
			if a.status != 201 || a.body["origin"] != "database" || a.body["version"] != 1.0 || a.body["title"] != "Annex" {
				t.Fatalf("create = %d %s", a.status, a.raw)
			}
			if a.body["thresholds"].(map[string]any)["longest_wait"].(map[string]any)["warn"] != "30s" {
				t.Errorf("thresholds came back as %v", a.body["thresholds"])
			}

			list := call(t, "GET", u, readToken, "")
			boards, _ := list.body["boards"].([]any)
			if list.status != 200 || len(boards) != 2 {
				t.Fatalf("list = %d %s", list.status, list.raw)
			}
			file, db := boards[0].(map[string]any), boards[1].(map[string]any)
			if file["id"] != "floor" || file["origin"] != "file" || db["id"] != "annex" || db["origin"] != "database" {
				t.Errorf("list %s", list.raw)
			}
			if strings.Contains(list.raw, kiosk) || strings.Contains(list.raw, `"kiosk"`) {
				t.Errorf("the list shows a file board's kiosk links: %s", list.raw)
			}
			if got := call(t, "GET", u+"/annex", readToken, ""); got.status != 200 || got.body["version"] != 1.0 {
				t.Errorf("get = %d %s", got.status, got.raw)
			}
			if got := call(t, "GET", u+"/nope", readToken, ""); got.status != 404 {
				t.Errorf("get of none = %d", got.status)
			}

			// Bad input: every problem, with check-config's paths; nothing stored.
			bad := []struct {
				name  string
				body  string
				paths []string
			}{
				{"not JSON", `{"id":`, []string{"(body)"}},
				{"not an object", `["annex"]`, []string{"(body)"}},
				{"unknown key", `{"id":"b1","colour":"red"}`, []string{"colour"}},
				{"no id", `{"title":"T"}`, []string{"id"}},
				{"bad id", `{"id":"no spaces"}`, []string{"id"}},
				{"unknown source and tile", `{"id":"b2","sources":["s9"],"tiles":["waiting","vibes"]}`, []string{"sources[0]", "tiles[1]"}},
				{"service level as a percentage", `{"id":"b3","thresholds":{"service_level":{"warn":80}}}`, []string{"thresholds.service_level"}},
				{"a duration that is not one", `{"id":"b4","thresholds":{"longest_wait":{"warn":"soon"}}}`, []string{"(body)"}},
				{"kiosk tokens in the board", `{"id":"b5","kiosk":[{"name":"tv","token":"0123456789abcdef0123456789abcdef"}]}`, []string{"kiosk"}},
				{"bad embed origin", `{"id":"b6","embed_origins":["intranet"]}`, []string{"embed_origins[0]"}},
			}
			for _, b := range bad {
				a := call(t, "POST", u, adminToken, b.body)
				var paths []string
				errs, _ := a.body["errors"].([]any)
				for _, e := range errs {
					m := e.(map[string]any)
					paths = append(paths, m["path"].(string))
					if m["message"] == "" {
						t.Errorf("%s: an error without a message: %s", b.name, a.raw)
					}
				}
				if a.status != 400 || strings.Join(paths, " ") != strings.Join(b.paths, " ") {
					t.Errorf("%s: %d %s, want 400 with paths %v", b.name, a.status, a.raw, b.paths)
				}
			}
			if got := call(t, "POST", u, adminToken, `{"id":"annex"}`); got.status != 409 {
				t.Errorf("create of an existing id = %d %s", got.status, got.raw)
			}
			if got := call(t, "POST", u, adminToken, `{"id":"floor"}`); got.status != 409 || got.body["origin"] != "file" {
				t.Errorf("create over a file board = %d %s", got.status, got.raw)
			}
			if got := call(t, "POST", u, adminToken, strings.Repeat(" ", 70<<10)+`{"id":"big"}`); got.status != 413 {
				t.Errorf("a huge body = %d", got.status)
			}

			// Changes carry the version they were read at.
			up := call(t, "PUT", u+"/annex", adminToken, `{"version":1,"origin":"database","title":"Annex (east)","sources":["s1"]}`)
			if up.status != 200 || up.body["version"] != 2.0 || up.body["title"] != "Annex (east)" || up.body["id"] != "annex" {
				t.Fatalf("update = %d %s", up.status, up.raw)
			}
			stale := call(t, "PUT", u+"/annex", adminToken, `{"version":1,"title":"Mine"}`)
			if stale.status != 409 || stale.body["changed_by"] != "token:automation" || stale.body["version"] != 2.0 ||
				!strings.HasPrefix(stale.body["error"].(string), "changed by token:automation at ") || !strings.HasSuffix(stale.body["error"].(string), ", reload") {
				t.Errorf("stale update = %d %s", stale.status, stale.raw)
			}
			for _, tt := range []struct {
				name, path, body string
				want             int
			}{
				{"no version", "/annex", `{"title":"x"}`, 400},
				{"version not a number", "/annex", `{"version":"2"}`, 400},
				{"renaming", "/annex", `{"version":2,"id":"other"}`, 400},
				{"invalid", "/annex", `{"version":2,"tiles":["vibes"]}`, 400},
				{"a file board", "/floor", `{"version":1,"title":"x"}`, 409},
				{"none", "/nope", `{"version":1}`, 404},
			} {
				if got := call(t, "PUT", u+tt.path, adminToken, tt.body); got.status != tt.want {
					t.Errorf("update, %s: %d %s, want %d", tt.name, got.status, got.raw, tt.want)
				}
			}
			if got := call(t, "GET", u+"/annex", readToken, ""); got.body["title"] != "Annex (east)" || got.body["version"] != 2.0 {
				t.Errorf("after the refused changes: %s", got.raw)
			}

			if got := call(t, "DELETE", u+"/floor", adminToken, ""); got.status != 409 {
				t.Errorf("delete of a file board = %d", got.status)
			}
			if got := call(t, "DELETE", u+"/annex?version=1", adminToken, ""); got.status != 409 {
				t.Errorf("delete at a stale version = %d", got.status)
			}
			if got := call(t, "DELETE", u+"/annex", adminToken, ""); got.status != 204 {
				t.Errorf("delete = %d %s", got.status, got.raw)
			}
			if got := call(t, "DELETE", u+"/annex", adminToken, ""); got.status != 404 {
				t.Errorf("second delete = %d", got.status)
			}
			if got := call(t, "GET", u+"/annex", readToken, ""); got.status != 404 {
				t.Errorf("get after delete = %d", got.status)
			}

			// Each change is in the audit log under the token's name.
			log, err := c.DB.Audit(context.Background(), database.AuditFilter{Target: "board:annex"})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range log {
				actions = append(actions, e.Action+" by "+e.Actor)
			}
			if want := "board.delete by token:automation, board.update by token:automation, board.create by token:automation"; strings.Join(actions, ", ") != want {
				t.Errorf("audit %v", actions)
			}
		})
	}
}
