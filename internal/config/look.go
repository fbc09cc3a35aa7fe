package config

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Branding is the installation's look on every board: a name beside the
// logo, a brand colour for accents, and a logo (a file, read at load time,
// or a data:image URI).
type Branding struct {
	Name   string `yaml:"name"`
	Colour string `yaml:"colour"` // "#0a7cff"
	Logo   string `yaml:"logo"`   // a PNG, SVG, JPEG or WebP file of at most 256 KB, or a data:image/… URI
	// LogoURI is the logo as a data: URI; set by Validate.
	LogoURI string `yaml:"-"`
}

// Themes, Clocks and Langs are the values a board's theme, clock and lang
// may take ("" is the default: dark, 24h, en).
var (
	Themes = []string{"", "dark", "light"}
	Clocks = []string{"", "24h", "12h"}
	Langs  = []string{"", "en", "de", "fr", "es"}
)

var colourRE = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

var logoTypes = map[string]string{".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}

// validateLook checks the branding and each board's theme, clock and
// language, and reads the logo.
func (c *Config) validateLook() Problems {
	var p Problems
	add := func(path, format string, args ...any) { p = append(p, path+": "+fmt.Sprintf(format, args...)) }
	b := &c.Branding
	if b.Colour != "" && !colourRE.MatchString(b.Colour) {
		add("branding.colour", "%q is not a colour like \"#0a7cff\"", b.Colour)
	}
	if len([]rune(b.Name)) > 40 {
		add("branding.name", "at most 40 characters")
	}
	switch {
	case b.Logo == "":
	case strings.HasPrefix(b.Logo, "data:image/"):
		if len(b.Logo) > 350_000 {
			add("branding.logo", "a data URI of at most 256 KB")
		}
		b.LogoURI = b.Logo
	default:
		typ := logoTypes[strings.ToLower(filepath.Ext(b.Logo))]
		if typ == "" {
			add("branding.logo", "%q is not a .png, .svg, .jpg or .webp file", b.Logo)
			break
		}
		if fi, err := os.Stat(b.Logo); err != nil {
			add("branding.logo", "cannot read %q: %v", b.Logo, err)
			break
		} else if fi.Size() > 256<<10 {
			add("branding.logo", "%q is larger than 256 KB", b.Logo)
			break
		}
		data, err := os.ReadFile(b.Logo)
		if err != nil {
			add("branding.logo", "cannot read %q: %v", b.Logo, err)
			break
		}
		b.LogoURI = "data:" + typ + ";base64," + base64.StdEncoding.EncodeToString(data)
	}
	for i, bd := range c.Boards {
		path := fmt.Sprintf("boards[%d]", i)
		if !slices.Contains(Themes, bd.Theme) {
			add(path+".theme", "must be dark or light, not %q", bd.Theme)
		}
		if !slices.Contains(Clocks, bd.Clock) {
			add(path+".clock", "must be 24h or 12h, not %q", bd.Clock)
		}
		if !slices.Contains(Langs, bd.Lang) {
			add(path+".lang", "must be en, de, fr or es, not %q", bd.Lang)
		}
		for j, l := range bd.Langs {
			if l == "" || !slices.Contains(Langs, l) {
				add(fmt.Sprintf("%s.langs[%d]", path, j), "must be en, de, fr or es, not %q", l)
			}
		}
		for j, k := range bd.Kiosk {
			if !slices.Contains(Langs, k.Lang) {
				add(fmt.Sprintf("%s.kiosk[%d].lang", path, j), "must be en, de, fr or es, not %q", k.Lang)
			}
		}
	}
	return p
}
