package projection

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/templates"
)

// The figures' definitions in plain words: a board's tiles and KPIs and the
// console's panels show them on hover, so what a number counts is never a
// guess. Each is in a board's or console's language (internal/i18n).

// secsText is a threshold in words ("20 seconds").
func secsText(lang string, d time.Duration) string {
	if d%time.Second == 0 {
		n := int(d / time.Second)
		if n == 1 {
			return i18n.T(lang, "1 second")
		}
		return i18n.T(lang, "%d seconds", n)
	}
	return d.String()
}

// SettingsText says a queue's service-level settings in words, in lang.
func SettingsText(lang string, s model.QueueSettings) string {
	out := i18n.T(lang, "Service level threshold %s", secsText(lang, s.SLThreshold))
	if s.ShortAbandon > 0 {
		out += i18n.T(lang, "; abandons within %s are short abandons, not counted against service level", secsText(lang, s.ShortAbandon))
	} else {
		out += i18n.T(lang, "; no short-abandon threshold")
	}
	if s.ExcludeAbandons {
		out += i18n.T(lang, "; abandons are not in the service-level denominator.")
	} else {
		out += i18n.T(lang, "; abandons count in the service-level denominator.")
	}
	return out
}

// slFormula is the service level's formula under s.
func slFormula(lang string, s model.QueueSettings) string {
	switch {
	case s.ExcludeAbandons:
		return i18n.T(lang, "contacts answered within %s of entering the queue ÷ contacts answered (abandons are left out by this queue's settings)",
			secsText(lang, s.SLThreshold))
	case s.ShortAbandon > 0:
		return i18n.T(lang, "contacts answered within %s of entering the queue ÷ (contacts answered + contacts abandoned after waiting %s or more; shorter abandons are left out)",
			secsText(lang, s.SLThreshold), secsText(lang, s.ShortAbandon))
	}
	return i18n.T(lang, "contacts answered within %s of entering the queue ÷ (contacts answered + contacts abandoned)", secsText(lang, s.SLThreshold))
}

// Define is the definition of figure over win (Floor.PeriodText) under
// settings s, in plain words in lang: what counts, which period, which
// settings.
func Define(lang, figure, win string, s model.QueueSettings) string {
	switch figure {
	case "offered":
		return i18n.T(lang, "Offered %s: contacts that entered this queue (a contact transferred into another queue counts there too).", win)
	case "answered":
		return i18n.T(lang, "Answered %s: contacts an agent accepted, counted when answered.", win)
	case "abandoned":
		out := i18n.T(lang, "Abandoned %s: contacts that ended while waiting or ringing, never answered; a contact the platform took out of the queue (timeout, overflow) is not an abandon.", win)
		if s.ShortAbandon > 0 {
			out += " " + i18n.T(lang, "Short abandons (within %s) are included here and shown in brackets.", secsText(lang, s.ShortAbandon))
		}
		return out
	case "service_level":
		return i18n.T(lang, "Service level %s: %s. Shown as – before there is anything to divide.", win, slFormula(lang, s))
	case "aht":
		return i18n.T(lang, "Average handle time %s: from answer to end of contact (talk and hold, not wrap-up), averaged over the contacts that ended in that period.", win)
	}
	return ""
}

// defCache keeps the tiles' definitions by language and queue settings: a
// board renders a queue's tile on every change of the queue, and the words
// change only with its settings. Bounded: beyond maxDefs, definitions are
// made each time.
type defCache struct {
	m sync.Map // defKey → templates.TileDefs
	n atomic.Int32
}

type defKey struct {
	lang string
	span time.Duration
	s    model.QueueSettings
}

const maxDefs = 256

// Defs are the definitions of queue q's figures over a period (span 0:
// today, else a rolling window of span; PeriodText), in lang.
func (f *Floor) Defs(lang string, span time.Duration, q model.Queue) templates.TileDefs {
	st := f.Settings(q)
	k := defKey{lang, span, st}
	if v, ok := f.defs.m.Load(k); ok {
		return v.(templates.TileDefs)
	}
	win := f.PeriodText(lang, span)
	d := templates.TileDefs{Offered: Define(lang, "offered", win, st), Answered: Define(lang, "answered", win, st),
		Abandoned: Define(lang, "abandoned", win, st), ServiceLevel: Define(lang, "service_level", win, st),
		AverageHandle: Define(lang, "aht", win, st)}
	if f.defs.n.Add(1) <= maxDefs {
		f.defs.m.Store(k, d)
	}
	return d
}
