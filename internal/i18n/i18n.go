// Package i18n holds the message catalogues of what screens say (English,
// German, French, Spanish) and formats numbers for a language, with
// golang.org/x/text. A message's key is its English text; a message missing
// from a language falls back to English, never to a key.
package i18n

import (
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
	"golang.org/x/text/number"
)

// Langs are the languages with a catalogue; English is the fallback.
var Langs = []string{"en", "de", "fr", "es"}

var (
	once     sync.Once
	cat      *catalog.Builder
	printers map[string]*message.Printer
	matcher  language.Matcher
)

func load() {
	cat = catalog.NewBuilder(catalog.Fallback(language.English))
	for key := range messages {
		_ = cat.SetString(language.English, key, key)
	}
	for lang, msgs := range translations {
		tag := language.Make(lang)
		for key, msg := range msgs {
			_ = cat.SetString(tag, key, msg)
		}
	}
	printers = map[string]*message.Printer{}
	tags := make([]language.Tag, len(Langs))
	for i, l := range Langs {
		tags[i] = language.Make(l)
		printers[l] = message.NewPrinter(tags[i], message.Catalog(cat))
	}
	matcher = language.NewMatcher(tags)
}

// Printer returns the printer of lang ("" or an unknown language: English).
func Printer(lang string) *message.Printer {
	once.Do(load)
	if p, ok := printers[lang]; ok {
		return p
	}
	return printers["en"]
}

// plain caches messages without arguments: a board renders a state's
// label for every card.
var plain sync.Map // lang + "\x00" + key → string

// T is message key in lang, formatted with args (Sprintf verbs).
func T(lang, key string, args ...any) string {
	if len(args) > 0 {
		return Printer(lang).Sprintf(key, args...)
	}
	ck := lang + "\x00" + key
	if v, ok := plain.Load(ck); ok {
		return v.(string)
	}
	v := Printer(lang).Sprintf(key)
	if _, known := messages[key]; known { // bounded: only catalogue keys are kept
		plain.Store(ck, v)
	}
	return v
}

// Text is s in lang when s is a message of the catalogues, else s as it is
// (never read as a format): for words that come from elsewhere, like an
// error page's message, which may be a catalogue key or not.
func Text(lang, s string) string {
	once.Do(load)
	if _, ok := messages[s]; !ok {
		return s
	}
	return T(lang, s)
}

// Key returns key unchanged: it marks a message that is translated later,
// through T with a variable (a navigation label, a state's name), so the
// catalogue test (TestKeysTranslated) finds it like a literal given to T.
func Key(key string) string { return key }

// Int formats n for lang: 12,345 / 12.345 / 12 345.
func Int(lang string, n int) string { return Printer(lang).Sprintf("%d", n) }

// Percent formats a fraction as a whole percentage for lang: 86% / 86 %.
func Percent(lang string, f float64) string {
	return Printer(lang).Sprint(number.Percent(f, number.MaxFractionDigits(0)))
}

// Match picks the best of Langs for an Accept-Language header ("en" when
// none fits).
func Match(acceptLanguage string) string {
	once.Do(load)
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return "en"
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return "en"
	}
	return Langs[i]
}

// Lang is lang when it has a catalogue, else "en": the page's <html lang>.
func Lang(lang string) string {
	for _, l := range Langs {
		if l == lang {
			return l
		}
	}
	return "en"
}
