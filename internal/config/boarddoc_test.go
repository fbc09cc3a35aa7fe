package config

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBoardDocuments(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Sources = []Source{{Name: "s1", Type: "simulation"}}
	tests := []struct {
		name   string
		doc    string
		others []string
		want   []string // the problems expected, nil for a valid board
	}{
		{"minimal", `{"id":"annex"}`, nil, nil},
		{"every key", `{"id":"annex","title":"Annex","sources":["s1"],"queues":["Sales"],"tiles":["waiting"],"measures":["m"],
			"thresholds":{"waiting":{"warn":3,"alarm":6},"longest_wait":{"warn":"30s","alarm":60},"service_level":{"warn":0.8,"alarm":0.6}},
			"access":{"users":["sue"],"roles":["supervisor"],"groups":["g"]},"embed_origins":["https://intranet.example.com"]}`, nil, nil},
		{"YAML too", "id: annex\ntitle: Annex\n", nil, nil},
		{"unknown keys, nested too", `{"id":"a","colour":"red","thresholds":{"waiting":{"amber":1}}}`, nil,
			[]string{"colour: unknown key", "thresholds.waiting.amber: unknown key"}},
		{"no ${NAME} from the environment", `{"id":"a","title":"${HOME}"}`, nil, nil},
		{"duplicate id", `{"id":"a"}`, []string{"a"}, []string{`id: "a" is used by another board`}},
		{"wrong types", `{"id":"a","sources":"s1"}`, nil, []string{"(body): line 1: cannot unmarshal !!str `s1` into []string"}},
		{"a role that is not one", `{"id":"a","access":{"roles":["king"]}}`, nil, []string{`access.roles[0]: unknown role "king"`}},
		{"not an object", `"annex"`, nil, []string{"(body): must be an object with a board's keys"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, probs := ParseBoard([]byte(tt.doc))
			if len(probs) == 0 {
				b, probs = c.CheckBoard(b, tt.others)
			}
			if strings.Join(probs, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(probs, "\n"), strings.Join(tt.want, "\n"))
			}
			if len(probs) > 0 {
				return
			}
			if tt.name == "no ${NAME} from the environment" && b.Title != "${HOME}" {
				t.Errorf("title = %q", b.Title)
			}
			// What BoardJSON writes reads back as the same board.
			doc, err := BoardJSON(b)
			if err != nil {
				t.Fatal(err)
			}
			again, probs := ParseBoard(doc)
			if len(probs) > 0 {
				t.Fatalf("BoardJSON's output is refused: %v\n%s", probs, doc)
			}
			again, _ = c.CheckBoard(again, tt.others)
			doc2, _ := BoardJSON(again)
			if string(doc) != string(doc2) {
				t.Errorf("round trip changed the board:\n%s\n%s", doc, doc2)
			}
		})
	}
}

func TestBoardJSONLeavesOutKioskTokens(t *testing.T) {
	t.Parallel()
	doc, err := BoardJSON(Board{ID: "floor", Kiosk: []Kiosk{{Name: "tv", Token: "0123456789abcdef0123456789abcdef"}}})
	if err != nil || strings.Contains(string(doc), "kiosk") || strings.Contains(string(doc), "0123456789abcdef") {
		t.Errorf("%s %v", doc, err)
	}
}

// FuzzBoardDocument: a board document from the network (the API hands
// ParseBoard JSON it re-encoded) never panics, and a board that passes is
// written back as JSON that passes again.
func FuzzBoardDocument(f *testing.F) {
	for _, s := range []string{`{"id":"a"}`, `{"id":"a","thresholds":{"waiting":{"warn":3}}}`, `{"id":"a","tiles":["x"],"access":{"roles":["admin"]}}`,
		`{"id":"a","thresholds":{"longest_wait":{"warn":"1m"}}}`, `{}`, `[]`, `{"id":1e400}`} {
		f.Add([]byte(s))
	}
	c := Default()
	c.Sources = []Source{{Name: "s1", Type: "simulation"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m map[string]any
		if json.Unmarshal(data, &m) != nil || m == nil {
			return
		}
		clean, _ := json.Marshal(m)
		b, probs := ParseBoard(clean)
		if len(probs) > 0 {
			return
		}
		b, probs = c.CheckBoard(b, []string{"other"})
		if len(probs) > 0 {
			return
		}
		doc, err := BoardJSON(b)
		if err != nil {
			t.Fatalf("a valid board does not encode: %v", err)
		}
		if _, probs := ParseBoard(doc); len(probs) > 0 {
			t.Fatalf("BoardJSON wrote %s, refused: %v", doc, probs)
		}
	})
}
