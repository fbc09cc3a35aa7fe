package server

import (
	"strconv"
	"strings"
	"testing"

	"github.com/wallboard/wallboard/internal/database/dbtest"
)

func TestAuditAPI(t *testing.T) {
	for _, c := range dbtest.Open(t) {
		t.Run(c.Name, func(t *testing.T) {
			ts := newBoardsServer(t, c.DB)
			b := ts.URL + "/api/v1/boards"
			for _, req := range []struct{ method, path, body string }{
				{"POST", "", `{"id":"a1","title":"One"}`},
				{"POST", "", `{"id":"a2"}`},
				{"PUT", "/a1", `{"version":1,"title":"One (new)"}`},
			} {
				if got := call(t, req.method, b+req.path, adminToken, req.body); got.status >= 300 {
					t.Fatalf("%s %s = %d %s", req.method, req.path, got.status, got.raw)
				}
			}
			u := ts.URL + "/api/v1/audit"
			if got := call(t, "GET", u, "", ""); got.status != 401 {
				t.Errorf("without a token = %d", got.status)
			}
			if got := call(t, "GET", u, readToken, ""); got.status != 403 {
				t.Errorf("with a read token = %d", got.status)
			}
			all := call(t, "GET", u, adminToken, "")
			entries, _ := all.body["entries"].([]any)
			if all.status != 200 || len(entries) != 3 {
				t.Fatalf("audit = %d %s", all.status, all.raw)
			}
			first := entries[0].(map[string]any)
			detail := first["detail"].(map[string]any)
			if first["action"] != "board.update" || first["actor"] != "token:automation" || first["target"] != "board:a1" ||
				detail["before"].(map[string]any)["title"] != "One" || detail["after"].(map[string]any)["title"] != "One (new)" {
				t.Errorf("newest entry %v", first)
			}
			if at, _ := first["at"].(string); !strings.HasSuffix(at, "Z") {
				t.Errorf("at = %q, want UTC RFC 3339", at)
			}
			if last := entries[2].(map[string]any); last["detail"].(map[string]any)["before"] != nil {
				t.Errorf("a create has a before: %v", last)
			}
			tests := []struct {
				name, query string
				want        int // entries; -1: a 400
			}{
				{"target", "?target=board:a1", 2},
				{"action", "?action=board.create", 2},
				{"action prefix", "?action=board.", 3},
				{"actor", "?actor=token:nobody", 0},
				{"limit", "?limit=1", 1},
				{"page", "?before=" + jsonNumber(entries[1].(map[string]any)["id"]), 1},
				{"since in the future", "?since=2999-01-01T00:00:00Z", 0},
				{"bad since", "?since=yesterday", -1},
				{"bad limit", "?limit=0", -1},
				{"bad before", "?before=x", -1},
			}
			for _, tt := range tests {
				got := call(t, "GET", u+tt.query, adminToken, "")
				if tt.want < 0 {
					if got.status != 400 || got.body["errors"] == nil {
						t.Errorf("%s: %d %s, want 400 with errors", tt.name, got.status, got.raw)
					}
					continue
				}
				if n := len(got.body["entries"].([]any)); got.status != 200 || n != tt.want {
					t.Errorf("%s: %d with %d entries, want %d", tt.name, got.status, n, tt.want)
				}
			}
		})
	}
}

func jsonNumber(v any) string {
	f, _ := v.(float64)
	return strconv.FormatInt(int64(f), 10)
}
