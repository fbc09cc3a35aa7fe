// Package static embeds the browser assets: the stylesheet, the page script,
// and htmx with its SSE extension (copied from node_modules by the front-end
// build and committed, so that `go build` alone works). Each file is served
// under a URL that carries a hash of its content, so browsers cache it for
// good and still fetch a new version at once.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed app.css wallboard.js console.js editor.js vendor/*.js
var files embed.FS

// Files are the embedded assets.
var Files fs.FS = files

// Assets serves the embedded files and names them by content.
type Assets struct {
	hashes map[string]string // name → short content hash
}

// New hashes every embedded file.
func New() *Assets {
	a := &Assets{hashes: map[string]string{}}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.hashes[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	return a
}

// URL returns the cache-busting URL of the file name ("app.css").
func (a *Assets) URL(name string) string {
	return "/static/" + name + "?v=" + a.hashes[name]
}

// ServeHTTP serves /static/{name}; with the right ?v= the answer may be
// cached for a year.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/static/")
	b, err := files.ReadFile(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if v := r.URL.Query().Get("v"); v != "" && v == a.hashes[name] {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}
