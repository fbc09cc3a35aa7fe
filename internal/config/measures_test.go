package config

import (
	"encoding/json"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestMeasuresByNameOrMapping(t *testing.T) {
	t.Parallel()
	doc := `boards:
  - id: floor
    measures:
      - contactsQueueing
      - name: oldestContactWaitTime
        label: "Oldest wait"
        format: duration
      - name: serviceLevelPct
        format: percent
      - name: isDefaultQueue
        hidden: true
      - {name: handled, unit: calls, format: number}
`
	cfg, err := Parse([]byte(doc), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Boards[0].Measures
	want := []Measure{{Name: "contactsQueueing"}, {Name: "oldestContactWaitTime", Label: "Oldest wait", Format: "duration"},
		{Name: "serviceLevelPct", Format: "percent"}, {Name: "isDefaultQueue", Hidden: true}, {Name: "handled", Unit: "calls", Format: "number"}}
	if len(got) != len(want) {
		t.Fatalf("measures = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("measures[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Written back, a name-only measure stays a name.
	out, err := yaml.Marshal(got[:2])
	if err != nil || !strings.HasPrefix(string(out), "- contactsQueueing\n- name: oldestContactWaitTime\n") {
		t.Errorf("marshalled = %q, %v", out, err)
	}
	var fromJSON []Measure
	if err := json.Unmarshal([]byte(`["contactsQueueing", {"name": "x", "label": "X"}]`), &fromJSON); err != nil ||
		len(fromJSON) != 2 || fromJSON[0].Name != "contactsQueueing" || fromJSON[1].Label != "X" {
		t.Errorf("from JSON = %+v, %v", fromJSON, err)
	}
	if b, err := json.Marshal(fromJSON); err != nil || string(b) != `["contactsQueueing",{"name":"x","label":"X"}]` {
		t.Errorf("to JSON = %s, %v", b, err)
	}
}

func TestMeasureProblemsHaveTheirPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"unknown format", "boards:\n  - id: a\n    measures:\n      - {name: x, format: hours}\n",
			[]string{`boards[0].measures[0].format: unknown format "hours" (known: number, duration, duration_ms, percent, text)`}},
		{"missing name", "boards:\n  - id: a\n    measures:\n      - x\n      - {label: Y}\n", []string{"boards[0].measures[1].name: missing"}},
		{"listed twice", "boards:\n  - id: a\n    measures: [x, x]\n", []string{`boards[0].measures[1].name: "x" is listed twice`}},
		{"unknown key", "boards:\n  - id: a\n    measures:\n      - {name: x, colour: red}\n", []string{"boards[0].measures[0].colour: unknown key"}},
		{"long label", "boards:\n  - id: a\n    measures:\n      - {name: x, label: " + strings.Repeat("y", 41) + "}\n",
			[]string{"boards[0].measures[0].label: at most 40 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := strings.Join(problems(t, tt.doc, env(nil)), "\n")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("problems lack %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestMeasureResolved(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Measure
		want Measure
	}{
		{"known measure", Measure{Name: "contactsQueueing"}, Measure{Name: "contactsQueueing", Label: "Queueing", Format: "number"}},
		{"known, own label", Measure{Name: "oldestContactWaitTime", Label: "Longest (Avaya)"},
			Measure{Name: "oldestContactWaitTime", Label: "Longest (Avaya)", Format: "duration"}},
		{"unknown: the name in words", Measure{Name: "averageSpeedOfAnswer"}, Measure{Name: "averageSpeedOfAnswer", Label: "Average speed of answer", Format: "text"}},
		{"snake case", Measure{Name: "calls_in_queue", Format: "number"}, Measure{Name: "calls_in_queue", Label: "Calls in queue", Format: "number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.in.Resolved(); got != tt.want {
				t.Errorf("Resolved() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
