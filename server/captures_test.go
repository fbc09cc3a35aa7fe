package server

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/wallboard/wallboard/internal/capture"
)

// TestCapturesListedAndDownloadedByAdminsOnly: /admin lists each source's
// capture files; downloading one needs an admin (the demo's loopback
// visitor is one), and only names of files in that source's directory.
func TestCapturesListedAndDownloadedByAdminsOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := capture.Open(filepath.Join(dir, "s1"), capture.Header{Source: "s1", Type: "simulation"}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Record("in", "k", []byte(`{"hello":1}`))
	w.Close()
	files, _ := capture.List(filepath.Join(dir, "s1"))
	if len(files) != 1 {
		t.Fatalf("%d capture files", len(files))
	}
	name := files[0].Name
	os.WriteFile(filepath.Join(dir, "secret.jsonl.gz"), []byte("outside"), 0o600)
	with := func(o *Options) { o.Captures = dir }
	signedOut, _, _ := newTestServerWith(t, false, nil, with)
	admin, _, _ := newTestServerWith(t, true, nil, with)

	tests := []struct {
		name string
		srv  string
		path string
		want int
	}{
		{"signed out", signedOut.URL, "/admin/captures/s1/" + name, http.StatusUnauthorized},
		{"admin", admin.URL, "/admin/captures/s1/" + name, http.StatusOK},
		{"unknown source", admin.URL, "/admin/captures/nope/" + name, http.StatusNotFound},
		{"missing file", admin.URL, "/admin/captures/s1/s1-2000.jsonl.gz", http.StatusNotFound},
		{"not a capture name", admin.URL, "/admin/captures/s1/snapshot.json", http.StatusNotFound},
		{"escaped traversal", admin.URL, "/admin/captures/s1/..%2fsecret.jsonl.gz", http.StatusNotFound},
		{"dot-dot source", admin.URL, "/admin/captures/../secret.jsonl.gz", http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(t, "GET", tc.srv+tc.path)
			if resp.StatusCode != tc.want {
				t.Fatalf("GET %s = %d, want %d", tc.path, resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusOK {
				b, _ := io.ReadAll(resp.Body)
				if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
					t.Errorf("the download is not the gzip file")
				}
				if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="`+name+`"` {
					t.Errorf("Content-Disposition %q", cd)
				}
			}
		})
	}

	b, _ := io.ReadAll(do(t, "GET", admin.URL+"/admin").Body)
	if re := `class="admin-capture" data-source="s1"><td>s1</td><td><a href="/admin/captures/s1/` + regexp.QuoteMeta(name) + `" download>`; !regexp.MustCompile(re).Match(b) {
		t.Errorf("/admin does not list the capture:\n%s", b)
	}
}
