package board

import (
	"slices"
	"strings"
	"unicode"

	"github.com/wallboard/wallboard/internal/config"
)

// Privacy variants: a TV on a public wall may hide agents' names. Names are
// hidden where fragments are rendered, never by the page, so they never
// reach that screen. Each board has one variant per name mode its kiosk
// links use ("floor~initials"); a variant is a stream of its own with its
// own hub topic, rendered once per tick like any board, so the cost is one
// render per variant per tick, not per screen.

// VariantID is the id of board id's stream with names shown as mode (a
// kiosk link's names: full, initials or none), or, for a key made by
// VariantKey, with names and a language of its own.
func VariantID(id, names string) string {
	if names == "" || names == config.NamesFull {
		return id
	}
	return id + "~" + names
}

// VariantKey is the variant of a board (its lang boardLang) that a kiosk
// link with names and lang shows: "" (the board itself), "initials",
// "initials.de" or ".de".
func VariantKey(names, lang, boardLang string) string {
	if names == config.NamesFull {
		names = ""
	}
	if lang == "" || lang == boardLang || (lang == "en" && boardLang == "") {
		return names
	}
	return names + "." + lang
}

// privacyVariants returns def's variants: one per name mode and language
// of the kiosk links that show def (its own and those rotating through
// it), one per extra language of the board (langs), and, with all, one per
// name mode in the board's language.
func (p *Projector) privacyVariants(boards []config.Board, def config.Board, all bool) []*Board {
	var keys []string
	if all {
		keys = append(keys, config.NamesInitials, config.NamesNone)
	}
	for _, b := range boards {
		for _, k := range b.Kiosk {
			if b.ID == def.ID || slices.Contains(k.Rotate, def.ID) {
				keys = append(keys, VariantKey(k.Names, k.Lang, def.Lang))
			}
		}
	}
	for _, l := range def.Langs {
		keys = append(keys, VariantKey("", l, def.Lang))
	}
	seen := map[string]bool{}
	var out []*Board
	for _, key := range keys {
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		mode, lang, _ := strings.Cut(key, ".")
		vdef := def
		if lang != "" {
			vdef.Lang = lang
		}
		out = append(out, p.newBoard(vdef, VariantID(def.ID, key), generation(def)+"~"+key, mode))
	}
	return out
}

// nameAs returns name as a variant with name mode shows it: nothing,
// initials, or in full.
func nameAs(name, mode string) string {
	switch mode {
	case config.NamesNone:
		return ""
	case config.NamesInitials:
		var sb strings.Builder
		for _, w := range strings.Fields(name) {
			for _, r := range w {
				if unicode.IsLetter(r) || unicode.IsDigit(r) {
					sb.WriteRune(unicode.ToUpper(r))
					break
				}
			}
		}
		return sb.String()
	}
	return name
}
