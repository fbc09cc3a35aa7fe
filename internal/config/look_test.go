package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLookProblemsHaveTheirPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"theme", "boards:\n  - {id: a, theme: pink}\n", []string{`boards[0].theme: must be dark or light, not "pink"`}},
		{"clock", "boards:\n  - {id: a, clock: 13h}\n", []string{`boards[0].clock: must be 24h or 12h, not "13h"`}},
		{"lang", "boards:\n  - {id: a, lang: pt, langs: [de, xx]}\n", []string{`boards[0].lang: must be en, de, fr or es, not "pt"`, `boards[0].langs[1]: must be en, de, fr or es, not "xx"`}},
		{"kiosk lang", "boards:\n  - id: a\n    kiosk:\n      - {name: tv, token: 0123456789abcdef0123456789abcdef, lang: jp}\n", []string{`boards[0].kiosk[0].lang: must be en, de, fr or es, not "jp"`}},
		{"colour", "branding: {colour: blue}\n", []string{`branding.colour: "blue" is not a colour like "#0a7cff"`}},
		{"logo type", "branding: {logo: logo.gif}\n", []string{`branding.logo: "logo.gif" is not a .png, .svg, .jpg or .webp file`}},
		{"logo missing", "branding: {logo: /nonexistent/logo.png}\n", []string{`branding.logo: cannot read "/nonexistent/logo.png"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := strings.Join(problems(t, tt.doc, env(nil)), "\n")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("problems lack %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestLogoIsReadAsDataURI(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "logo.svg")
	if err := os.WriteFile(path, []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse([]byte("branding: {name: Acme, colour: \"#0a7cff\", logo: "+path+"}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg.Branding.LogoURI, "data:image/svg+xml;base64,PHN2Zy") {
		t.Errorf("logo = %q", cfg.Branding.LogoURI)
	}
}
