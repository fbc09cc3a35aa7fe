package projection

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wallboard/wallboard/internal/config"
)

// DOMID builds a page mark: prefix-source-id, every character outside
// [A-Za-z0-9_-] replaced by '_'.
func DOMID(prefix string, parts ...string) string {
	var sb strings.Builder
	sb.WriteString(prefix)
	for _, p := range parts {
		sb.WriteByte('-')
		for _, r := range p {
			if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
				sb.WriteRune(r)
			} else {
				sb.WriteByte('_')
			}
		}
	}
	return sb.String()
}

// Elapsed is the clock text of time since start as the page computes it: from
// the whole-second timestamp the page is given (data-since), so a card the
// stream replaces never shows a clock behind the one it replaces.
func Elapsed(now, start time.Time) string { return Clock(now.Sub(start.Truncate(time.Second))) }

// Clock formats a duration as m:ss, or h:mm:ss from an hour.
func Clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	// strconv, not fmt: a full board renders a clock per card.
	b := make([]byte, 0, 12)
	if s >= 3600 {
		b = strconv.AppendInt(b, int64(s/3600), 10)
		b = append(b, ':', byte('0'+s/60%60/10), byte('0'+s/60%60%10))
	} else {
		b = strconv.AppendInt(b, int64(s/60), 10)
	}
	return string(append(b, ':', byte('0'+s%60/10), byte('0'+s%60%10)))
}

// Percent formats a fraction as a whole percentage.
func Percent(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }

// Secs is a configured duration in whole seconds (what the page's clocks
// compare with).
func Secs(d config.Duration) int { return int(d.D() / time.Second) }

// LevelAbove is alarm/warn when v reaches a level (0 disables a level).
func LevelAbove(v, warn, alarm float64) string {
	switch {
	case alarm > 0 && v >= alarm:
		return "alarm"
	case warn > 0 && v >= warn:
		return "warn"
	}
	return ""
}

// LevelBelow is alarm/warn when v falls below a level (0 disables a level).
func LevelBelow(v, warn, alarm float64) string {
	switch {
	case alarm > 0 && v < alarm:
		return "alarm"
	case warn > 0 && v < warn:
		return "warn"
	}
	return ""
}
