package projection

import (
	"strings"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/model"
)

func TestThresholdLevels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		v, warn, alarm   float64
		above, wantLevel string
	}{
		{"below warn", 1, 2, 4, "above", ""},
		{"at warn", 2, 2, 4, "above", "warn"},
		{"at alarm", 4, 2, 4, "above", "alarm"},
		{"disabled", 9, 0, 0, "above", ""},
		{"service level fine", 0.9, 0.8, 0.6, "below", ""},
		{"service level warn", 0.7, 0.8, 0.6, "below", "warn"},
		{"service level alarm", 0.5, 0.8, 0.6, "below", "alarm"},
	}
	for _, tt := range tests {
		got := LevelAbove(tt.v, tt.warn, tt.alarm)
		if tt.above == "below" {
			got = LevelBelow(tt.v, tt.warn, tt.alarm)
		}
		if got != tt.wantLevel {
			t.Errorf("%s: level %q, want %q", tt.name, got, tt.wantLevel)
		}
	}
}

func TestDOMIDAndClock(t *testing.T) {
	t.Parallel()
	// 0.8 s after a state change at 10:00:00.7, the page (given 10:00:00)
	// shows 0:01: so must the server's rendering.
	if got := Elapsed(time.Date(2026, 1, 1, 10, 0, 1, 500e6, time.UTC), time.Date(2026, 1, 1, 10, 0, 0, 700e6, time.UTC)); got != "0:01" {
		t.Errorf("Elapsed = %q, want 0:01 like the page", got)
	}
	if got := DOMID("agent", "uk-sapi", "ag64o.x@y é"); got != "agent-uk-sapi-ag64o_x_y__" {
		t.Errorf("DOMID = %q", got)
	}
	for d, want := range map[time.Duration]string{0: "0:00", 65 * time.Second: "1:05", 3723 * time.Second: "1:02:03", -time.Second: "0:00"} {
		if got := Clock(d); got != want {
			t.Errorf("Clock(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestDefinitionsFollowSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    model.QueueSettings
		want string
	}{
		{"default", model.QueueSettings{SLThreshold: 20 * time.Second}, "within 20 seconds of entering the queue ÷ (contacts answered + contacts abandoned)."},
		{"short abandon", model.QueueSettings{SLThreshold: 20 * time.Second, ShortAbandon: 10 * time.Second}, "(contacts answered + contacts abandoned after waiting 10 seconds or more; shorter abandons are left out)."},
		{"abandons out", model.QueueSettings{SLThreshold: 60 * time.Second, ExcludeAbandons: true}, "within 60 seconds of entering the queue ÷ contacts answered (abandons are left out by this queue's settings)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Define("en", "service_level", "today", tt.s); !strings.HasSuffix(got, tt.want+" Shown as – before there is anything to divide.") {
				t.Errorf("got %q, want it to end %q", got, tt.want)
			}
		})
	}
}
