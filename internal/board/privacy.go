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
// kiosk link's names: full, initials or none).
func VariantID(id, names string) string {
	if names == "" || names == config.NamesFull {
		return id
	}
	return id + "~" + names
}

// privacyVariants returns def's name-hiding variants: one per name mode of
// the kiosk links that show def, its own and those rotating through it.
func (p *Projector) privacyVariants(cfg *config.Config, def config.Board) []*Board {
	var modes []string
	for _, b := range cfg.Boards {
		for _, k := range b.Kiosk {
			if b.ID == def.ID || slices.Contains(k.Rotate, def.ID) {
				modes = append(modes, k.Names)
			}
		}
	}
	seen := map[string]bool{}
	var out []*Board
	for _, mode := range modes {
		if mode == "" || mode == config.NamesFull || seen[mode] {
			continue
		}
		seen[mode] = true
		out = append(out, p.newBoard(def, VariantID(def.ID, mode), generation(def)+mode[:1], mode))
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
