package board

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"unicode"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/templates"
)

// Variants: a TV on a public wall may hide agents' names. Names are hidden
// where fragments are rendered, never by the page, so they never reach that
// screen. Each board has one variant per name mode its kiosk links use
// ("floor~initials"); a variant is a Board of its own with its own hub topic,
// rendered once per tick like any board, so the cost is one render per
// variant per tick, not per screen.

// VariantID is the id of board id's stream with names shown as mode, or,
// for a key made by VariantKey, with names and a language of its own.
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

// addVariants adds def's name-hiding variants to p: one per name mode of
// the kiosk links that show def, its own and those rotating through it.
func (p *Projector) addVariants(cfg *config.Config, def config.Board) {
	seen := map[string]bool{}
	var keys []string
	for _, b := range cfg.Boards {
		for _, k := range b.Kiosk {
			if b.ID == def.ID || slices.Contains(k.Rotate, def.ID) {
				keys = append(keys, VariantKey(k.Names, k.Lang, def.Lang))
			}
		}
	}
	for _, l := range def.Langs {
		keys = append(keys, VariantKey("", l, def.Lang))
	}
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
		b := &Board{Def: vdef, Gen: generation(def) + "~" + key, names: mode, variant: key, primary: def.ID}
		p.variants = append(p.variants, b)
		p.byID[VariantID(def.ID, key)] = b
	}
}

// Streams returns every board and variant: each needs its own hub topic.
func (p *Projector) Streams() []*Board {
	return append(append([]*Board(nil), p.boards...), p.variants...)
}

// StreamID is the id of b's hub topic.
func (b *Board) StreamID() string {
	if b.console {
		return ConsoleID(b.Def.ID) // console.go
	}
	return VariantID(b.Def.ID, b.variant)
}

// showName returns name as a board with name mode shows it.
func showName(name, mode string) string {
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

// Ticker returns board id's ticker message ("" for none).
func (p *Projector) Ticker(id string) string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.tickers[p.primaryID(id)]
}

func (p *Projector) primaryID(id string) string {
	if b := p.byID[id]; b != nil && b.primary != "" {
		return b.primary
	}
	return id
}

// SetTicker sets board id's ticker message and sends it to every screen of
// the board, whatever their variant, in one frame each.
func (p *Projector) SetTicker(id, msg string) bool {
	if b := p.byID[id]; b == nil || b.primary != "" {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock() // held while publishing: a reset cannot interleave
	if p.tickers == nil {
		p.tickers = map[string]string{}
	}
	p.tickers[id] = msg
	frag := p.tickerFragment(msg)
	for _, b := range p.Streams() {
		if b.Def.ID == id && b.pub != nil {
			b.pub.Publish(frag)
		}
	}
	return true
}

// TickerFragment is board id's ticker as an out-of-band swap, for resets.
func (p *Projector) TickerFragment(id string) []byte {
	return p.tickerFragment(p.Ticker(id))
}

func (p *Projector) tickerFragment(msg string) []byte {
	var buf bytes.Buffer
	if err := templates.Ticker(msg, true).Render(context.Background(), &buf); err != nil {
		p.log.Error("failed to render ticker", "error", err)
	}
	return buf.Bytes()
}
