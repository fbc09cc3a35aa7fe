package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wallboard/wallboard/internal/database/dbtest"
)

// TestStaysSignedInAcrossARestart restarts serve on the same state
// directory and database: the browser's session still works, and so does a
// TV link made through the API before the restart.
func TestStaysSignedInAcrossARestart(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return dbtest.PostgresURL(t) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "wallboard.yaml")
			cfg := fmt.Sprintf(`
listen: "127.0.0.1:0"
state_dir: %q
database: %q
timezone: "UTC"
api_tokens:
  - {name: automation, token: "admin-token-0123456789abcdef", scope: admin}
auth:
  users:
    - {name: sue, password_hash: %q, role: supervisor}
sources:
  - {name: sim, type: simulation, sim_agents: 4, sim_queues: 1}
boards:
  - {id: floor}
`, filepath.Join(dir, "data"), tt.url(t), hash)
			if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar, Timeout: 10 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			page := func(u string) (int, string) {
				t.Helper()
				resp, err := browser.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}

			first := start(t, testEnv, "serve", "--config", path)
			_, login := page(first.url + "/login")
			m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(login)
			if m == nil {
				t.Fatalf("no sign-in form: %.300s", login)
			}
			resp, err := browser.PostForm(first.url+"/login", url.Values{"csrf_token": {m[1]}, "username": {"sue"}, "password": {"correct horse"}, "next": {"/"}})
			if err != nil || resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %v %v", resp, err)
			}
			resp.Body.Close()
			if code, body := page(first.url + "/boards/floor"); code != 200 || !strings.Contains(body, "sue · supervisor") {
				t.Fatalf("signed in: %d", code)
			}
			req, _ := http.NewRequest("POST", first.url+"/api/v1/boards/floor/links", strings.NewReader(`{"name":"tv"}`))
			req.Header.Set("Authorization", "Bearer admin-token-0123456789abcdef")
			resp, err = http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("make a TV link: %v %v", resp, err)
			}
			var link struct{ Token string }
			_ = json.NewDecoder(resp.Body).Decode(&link)
			resp.Body.Close()
			if err := first.stop(); err != nil {
				t.Fatal(err)
			}

			second := start(t, testEnv, "serve", "--config", path)
			code, body := page(second.url + "/boards/floor")
			if code != 200 || !strings.Contains(body, "sue · supervisor") {
				t.Fatalf("after the restart: %d, want the board with sue signed in", code)
			}
			if code, _ := get(t, second.url+"/tv/"+link.Token); code != 200 {
				t.Errorf("the TV link after the restart: %d", code)
			}
		})
	}
}
