package board

import (
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/config"
)

// Each name mode a kiosk link uses gets its own stream, rendered with the
// names hidden: the full names never reach that stream.
func TestPrivacyVariantsHideNames(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Boards[0].Kiosk = []config.Kiosk{
		{Name: "lobby", Token: "tv-lobby-0123456789abcdef0123456789ab", KioskOptions: config.KioskOptions{Names: config.NamesInitials}},
		{Name: "street", Token: "tv-street-0123456789abcdef0123456789a", KioskOptions: config.KioskOptions{Names: config.NamesNone}},
		{Name: "office", Token: "tv-office-0123456789abcdef0123456789a", KioskOptions: config.KioskOptions{Names: config.NamesFull}},
	}
	p := NewProjector(cfg, Options{Now: func() time.Time { return now }})
	p.Apply(testDelta())
	tests := []struct {
		name, stream string
		want, never  []string
	}{
		{"the board shows names", "floor", []string{"Marcus Lee", "Tom &lt;Walsh&gt;"}, nil},
		{"initials", "floor~initials", []string{">ML<", ">TW<"}, []string{"Marcus", "Walsh"}},
		{"no names", "floor~none", []string{`id="agent-uk-ag64o_x_1"`}, []string{"Marcus", "Walsh", ">ML<"}},
	}
	for _, tt := range tests {
		if got := VariantID("floor", strings.TrimPrefix(strings.TrimPrefix(tt.stream, "floor"), "~")); got != tt.stream {
			t.Errorf("%s: VariantID = %q, want %q", tt.name, got, tt.stream)
		}
		html := string(p.Reset(tt.stream))
		if html == "" {
			t.Fatalf("%s: no stream %s", tt.name, tt.stream)
		}
		for _, w := range tt.want {
			if !strings.Contains(html, w) {
				t.Errorf("%s: reset lacks %s", tt.name, w)
			}
		}
		for _, w := range tt.never {
			if strings.Contains(html, w) {
				t.Errorf("%s: reset has %s", tt.name, w)
			}
		}
	}
	var ids []string
	for _, b := range p.Streams() {
		ids = append(ids, b.StreamID())
	}
	if got, want := strings.Join(ids, " "), "floor sales floor~initials floor~none floor~console sales~console"; got != want {
		t.Errorf("streams %q, want %q (full names need no variant)", got, want)
	}
}
