package source

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Bounds on what unmapped values may keep: nothing from the network may
// grow memory without bound.
const (
	// MaxUnmappedKeys is how many distinct field=value pairs a source
	// keeps; further pairs are only counted (UnmappedOverflow).
	MaxUnmappedKeys = 100
	maxUnmappedLen  = 64  // bytes of a value kept in its key
	maxExampleLen   = 240 // bytes of the latest example kept
	maxFields       = 32  // distinct fields counted for the metric
)

// UnmappedValue is a vendor value that no mapping knows (a state code, a
// reason code without a label, an event type), how often it came, the
// option that would map it, and the latest frame that carried it.
type UnmappedValue struct {
	Field, Value string
	ConfigKey    string // e.g. "state_map"; "" when no option maps it (a code change is needed)
	Count        int64
	LastSeen     time.Time
	Example      string // a short excerpt of the frame, secrets redacted
}

// Key is the value's name in GET /api/v1/state: "{field}={value}".
func (u UnmappedValue) Key() string { return u.Field + "=" + u.Value }

type unmappedKey struct{ field, value string }

type unmappedEntry struct {
	configKey string
	count     int64
	lastSeen  time.Time
	exampleAt time.Time
	example   string
}

// Unmapped counts one value no mapping knows, seen in frame (which may be
// nil). The first time a value is seen it is logged; its example is the
// latest frame, refreshed at most once a second.
func (r *Reporter) Unmapped(field, value, configKey string, frame []byte) {
	if len(value) > maxUnmappedLen {
		value = value[:maxUnmappedLen]
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < 0x20 || c >= 0x7f {
			value = printable(value) // the key as kept (and shown)
			break
		}
	}
	now := time.Now()
	r.mu.Lock()
	if r.unmapped == nil {
		r.unmapped = map[unmappedKey]*unmappedEntry{}
		r.unmappedFields = map[string]int64{}
	}
	if _, ok := r.unmappedFields[field]; ok || len(r.unmappedFields) < maxFields {
		r.unmappedFields[field]++
	}
	e := r.unmapped[unmappedKey{field, value}]
	first := false
	switch {
	case e != nil:
		e.count++
		e.lastSeen = now
	case len(r.unmapped) < MaxUnmappedKeys:
		// Copies: value may alias a frame buffer the reader reuses.
		e = &unmappedEntry{configKey: configKey, count: 1, lastSeen: now}
		r.unmapped[unmappedKey{strings.Clone(field), strings.Clone(value)}] = e
		first = true
	default:
		r.unmappedOverflow++
	}
	if e != nil && (first || now.Sub(e.exampleAt) >= time.Second) && frame != nil {
		e.exampleAt, e.example = now, Excerpt(Redact(frame), maxExampleLen)
	}
	r.mu.Unlock()
	if first {
		r.log.Warn("vendor value no mapping knows", "field", field, "value", value, "config_key", configKey)
	}
}

// Unreadable counts a value that cannot be read at all (a state code that
// is no number) as an error, like a malformed frame.
func (r *Reporter) Unreadable(field, value string, frame []byte) {
	r.Malformed(field, frame, fmt.Errorf("cannot read %s %q", field, Excerpt([]byte(value), maxUnmappedLen)))
}

// unmappedStats copies the unmapped values, sorted by field and value;
// r.mu is held.
func (r *Reporter) unmappedStats() ([]UnmappedValue, int64, map[string]int64) {
	if len(r.unmapped) == 0 && r.unmappedOverflow == 0 {
		return nil, 0, nil
	}
	out := make([]UnmappedValue, 0, len(r.unmapped))
	for k, e := range r.unmapped {
		out = append(out, UnmappedValue{Field: k.field, Value: k.value, ConfigKey: e.configKey, Count: e.count,
			LastSeen: e.lastSeen, Example: e.example})
	}
	slices.SortFunc(out, func(a, b UnmappedValue) int {
		if c := strings.Compare(a.Field, b.Field); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	fields := make(map[string]int64, len(r.unmappedFields))
	for f, n := range r.unmappedFields {
		fields[f] = n
	}
	return out, r.unmappedOverflow, fields
}

func printable(s string) string { return Excerpt([]byte(s), maxUnmappedLen) }

// Notes passes what a translator could not map to a Reporter, quoting the
// frame being translated. A source sets the frame before each translation
// (no allocation); a nil *Notes ignores everything.
type Notes struct {
	r     *Reporter
	frame []byte
}

// NewNotes returns Notes reporting to r.
func NewNotes(r *Reporter) *Notes { return &Notes{r: r} }

// For reports whether n reports to r.
func (n *Notes) For(r *Reporter) bool { return n != nil && n.r == r }

// SetFrame names the frame that later notes quote (nil: none).
func (n *Notes) SetFrame(b []byte) {
	if n != nil {
		n.frame = b
	}
}

// Unmapped counts a value no mapping knows; configKey is the option that
// would map it.
func (n *Notes) Unmapped(field, value, configKey string) {
	if n != nil && n.r != nil {
		n.r.Unmapped(field, value, configKey, n.frame)
	}
}

// Unreadable counts a value that cannot be read at all as an error.
func (n *Notes) Unreadable(field, value string) {
	if n != nil && n.r != nil {
		n.r.Unreadable(field, value, n.frame)
	}
}

// secretJSON and secretXML find values of keys that carry credentials.
var (
	secretNames = `(?:[a-z_-]*token|api[_-]?key|x-api-key|apikey|app[_-]?key|appkey|authorization|client[_-]?secret|password|secret|x-correlation-id|subscription[_-]?id|subscriptionid|correlationid)`
	secretJSON  = regexp.MustCompile(`(?i)("` + secretNames + `"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	secretXML   = regexp.MustCompile(`(?i)(<(` + secretNames + `)>)[^<]*(</)`)
	secretQuery = regexp.MustCompile(`(?i)([?&]` + secretNames + `=)[^&\s"]*`)
	secretHead  = regexp.MustCompile(`(?im)^(` + secretNames + `:\s*).*$`)
)

// Redact returns b with the values of credential-like keys replaced by
// "[redacted]": JSON members and XML elements named like a token, key,
// secret, password, Authorization or subscription/correlation id, query
// parameters of that name, and header lines. It copies b only when it
// changes something.
func Redact(b []byte) []byte {
	if !mayHoldSecret(b) {
		return b
	}
	for _, re := range []*regexp.Regexp{secretJSON, secretXML, secretQuery, secretHead} {
		if re.Match(b) {
			switch re {
			case secretJSON:
				b = re.ReplaceAll(b, []byte(`$1"[redacted]"`))
			case secretXML:
				b = re.ReplaceAll(b, []byte(`${1}[redacted]$3`))
			default:
				b = re.ReplaceAll(b, []byte(`${1}[redacted]`))
			}
		}
	}
	return b
}

// Recorder records upstream frames as received (capture: true; see
// internal/capture). A transport holds one only while capture is on and
// calls it where it reads frames: a nil Recorder costs one comparison.
// dir is "in" (from the vendor) or "out" (a request wallboard sent, for
// request/response protocols); kind names the frame's decoder; b is not
// kept after the call.
type Recorder interface {
	Record(dir, kind string, b []byte)
}

// secretWords are in every name secretNames matches (case aside).
var secretWords = []string{"token", "key", "secret", "password", "authorization", "subscription", "correlation"}

// mayHoldSecret is Redact's quick test: most frames name no credential,
// and scanning them for a few words is much cheaper than the expressions.
func mayHoldSecret(b []byte) bool {
	for i := 0; i < len(b); i++ {
		c := b[i] | 0x20 // ASCII lower case
		for _, w := range secretWords {
			if c == w[0] && i+len(w) <= len(b) && hasFold(b[i:i+len(w)], w) {
				return true
			}
		}
	}
	return false
}

func hasFold(b []byte, w string) bool {
	for j := 0; j < len(w); j++ {
		if b[j]|0x20 != w[j] {
			return false
		}
	}
	return true
}
