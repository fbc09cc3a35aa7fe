package i18n

import "testing"

func TestMessagesAndNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, got, want string
	}{
		{"german state", T("de", "Not ready"), "Nicht bereit"},
		{"french with an argument", T("fr", "target %s", "80 %"), "objectif 80 %"},
		{"english is the key", T("en", "Longest wait"), "Longest wait"},
		{"unknown language falls back to English", T("xx", "Ringing"), "Ringing"},
		{"missing message falls back to English", T("de", "A message nobody translated"), "A message nobody translated"},
		{"missing message with an argument falls back to English, formatted", T("fr", "%d messages nobody translated", 3), "3 messages nobody translated"},
		{"page message", T("es", "Sign in"), "Iniciar sesión"},
		{"page message with an argument", T("de", "Queue %s", "Sales"), "Warteschlange Sales"},
		{"text of a message", Text("fr", "Not found"), "Introuvable"},
		{"text that is no message stays as given, never read as a format", Text("de", "100% sure"), "100% sure"},
		{"key is the key", Key("Boards"), "Boards"},
		{"english number", Int("en", 12345), "12,345"},
		{"german number", Int("de", 12345), "12.345"},
		{"french percent (a no-break space)", Percent("fr", 0.862), "86\u00a0%"},
		{"english percent", Percent("en", 0.862), "86%"},
		{"accept-language picks german", Match("de-CH,de;q=0.9,en;q=0.5"), "de"},
		{"accept-language without a catalogue", Match("ja-JP"), "en"},
		{"bad accept-language", Match(";;;"), "en"},
		{"html lang", Lang("es"), "es"},
		{"html lang of an unknown", Lang("pt"), "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// Every language has every message: a gap shows in English on screens, so
// it is caught here.
func TestCataloguesComplete(t *testing.T) {
	t.Parallel()
	for lang, msgs := range translations {
		for key := range messages {
			if _, ok := msgs[key]; !ok {
				t.Errorf("%s lacks %q", lang, key)
			}
		}
	}
}
