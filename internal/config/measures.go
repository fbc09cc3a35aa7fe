package config

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Measure is a vendor-computed figure shown on a board's queue tiles. In the
// file it is written as its name alone (the defaults of a known measure
// apply) or as a mapping:
//
//	measures:
//	  - contactsQueueing
//	  - name: oldestContactWaitTime
//	    label: "Oldest wait"
//	    format: duration
//	  - name: isDefaultQueue
//	    hidden: true
type Measure struct {
	Name   string `yaml:"name" json:"name"`
	Label  string `yaml:"label" json:"label,omitempty"`   // what people read; default: the known measure's label, else the name in words
	Unit   string `yaml:"unit" json:"unit,omitempty"`     // shown after a number or text value: "calls", "s"
	Format string `yaml:"format" json:"format,omitempty"` // number | duration | duration_ms | percent | text
	Hidden bool   `yaml:"hidden" json:"hidden,omitempty"` // received and kept (API), never shown on the board
}

// MeasureFormats are the formats a measure may name.
var MeasureFormats = []string{"number", "duration", "duration_ms", "percent", "text"}

// KnownMeasures are the vendors' measures wallboard knows how to show:
// Avaya Experience Platform's Analytics queue measures (Queue_itd).
var KnownMeasures = map[string]Measure{
	"contactsQueueing":       {Label: "Queueing", Format: "number"},
	"oldestContactWaitTime":  {Label: "Oldest wait", Format: "duration"},
	"offered":                {Label: "Offered", Format: "number"},
	"answered":               {Label: "Answered", Format: "number"},
	"abandoned":              {Label: "Abandoned", Format: "number"},
	"answeredInServiceLevel": {Label: "Answered in SL", Format: "number"},
}

// Resolved returns m with the defaults filled in: a known measure's label
// and format, else the name in words and format "text".
func (m Measure) Resolved() Measure {
	k, known := KnownMeasures[m.Name]
	if m.Label == "" {
		if known {
			m.Label = k.Label
		} else {
			m.Label = words(m.Name)
		}
	}
	if m.Format == "" {
		m.Format = "text"
		if known {
			m.Format = k.Format
		}
	}
	return m
}

// words turns a field name into words: "oldestContactWaitTime" → "Oldest
// contact wait time", "service_level" → "Service level".
func words(name string) string {
	var sb strings.Builder
	prevLower := false
	for i, r := range name {
		switch {
		case r == '_' || r == '-' || r == '.':
			sb.WriteByte(' ')
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			sb.WriteByte(' ')
			r = unicode.ToLower(r)
		case i == 0:
			r = unicode.ToUpper(r)
		}
		sb.WriteRune(r)
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	return sb.String()
}

// UnmarshalYAML accepts a measure's name alone or a mapping.
func (m *Measure) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*m = Measure{Name: n.Value}
		return nil
	}
	type plain Measure
	return n.Decode((*plain)(m))
}

// UnmarshalJSON accepts a measure's name alone or an object.
func (m *Measure) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err == nil {
		*m = Measure{Name: name}
		return nil
	}
	type plain Measure
	return json.Unmarshal(b, (*plain)(m))
}

// MarshalYAML writes a measure with nothing but a name as the name alone.
func (m Measure) MarshalYAML() (any, error) {
	if (m == Measure{Name: m.Name}) {
		return m.Name, nil
	}
	type plain Measure
	return plain(m), nil
}

// MarshalJSON writes a measure with nothing but a name as the name alone,
// as the file and older API clients have it.
func (m Measure) MarshalJSON() ([]byte, error) {
	if (m == Measure{Name: m.Name}) {
		return json.Marshal(m.Name)
	}
	type plain Measure
	return json.Marshal(plain(m))
}

// MeasureNames lists measures by name, for boards made in code.
func MeasureNames(names ...string) []Measure {
	out := make([]Measure, len(names))
	for i, n := range names {
		out[i] = Measure{Name: n}
	}
	return out
}

// validateMeasures checks a board's measures; path is "boards[i]".
func validateMeasures(path string, ms []Measure) Problems {
	var p Problems
	seen := map[string]bool{}
	for i, m := range ms {
		mp := fmt.Sprintf("%s.measures[%d]", path, i)
		switch {
		case strings.TrimSpace(m.Name) == "":
			p = append(p, mp+".name: missing")
		case seen[m.Name]:
			p = append(p, fmt.Sprintf("%s.name: %q is listed twice", mp, m.Name))
		}
		seen[m.Name] = true
		if m.Format != "" && !slices.Contains(MeasureFormats, m.Format) {
			p = append(p, fmt.Sprintf("%s.format: unknown format %q (known: %s)", mp, m.Format, strings.Join(MeasureFormats, ", ")))
		}
		if len([]rune(m.Label)) > 40 {
			p = append(p, mp+".label: at most 40 characters (a tile is narrow)")
		}
		if len([]rune(m.Unit)) > 12 {
			p = append(p, mp+".unit: at most 12 characters")
		}
	}
	return p
}
