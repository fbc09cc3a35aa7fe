package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Boards made outside the file (the API, the board editor) are documents
// with the file's keys: ParseBoard reads one (JSON is YAML), CheckBoard
// holds it to the rules check-config applies to the file's boards, and
// BoardJSON writes one back.

// ParseBoard decodes one board document (JSON or YAML with the keys of a
// board in the file). Unlike the file, it substitutes no ${NAME}: a
// document from the network must not read the environment. Problems have
// paths relative to the board ("thresholds.waiting.warn: …").
func ParseBoard(doc []byte) (Board, Problems) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return Board{}, Problems{"(body): " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return Board{}, Problems{"(body): must be an object with a board's keys"}
	}
	var probs Problems
	checkKeys(root.Content[0], reflect.TypeOf(Board{}), "", &probs)
	var b Board
	if err := root.Content[0].Decode(&b); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				probs = append(probs, "(body): "+e)
			}
		} else {
			probs = append(probs, "(body): "+err.Error())
		}
	}
	return b, probs
}

// CheckBoard validates b as check-config validates a board of the file:
// against c's sources, and beside the boards whose ids are in others. It
// returns b with its defaults filled in, and every problem with a path
// relative to the board.
func (c *Config) CheckBoard(b Board, others []string) (Board, Problems) {
	// A configuration of its own, so the check touches nothing that the
	// running server reads: stand-ins for the sources (only their names
	// matter to a board) and for the other boards (their ids).
	probe := Default()
	probe.Timezone = "UTC"
	for _, s := range c.Sources {
		probe.Sources = append(probe.Sources, Source{Name: s.Name, Type: s.Type, Options: s.Options}) // only the board's problems are kept
	}
	for _, id := range others {
		probe.Boards = append(probe.Boards, Board{ID: id})
	}
	i := len(probe.Boards)
	probe.Boards = append(probe.Boards, b)
	prefix := fmt.Sprintf("boards[%d]", i)
	var out Problems
	for _, p := range probe.Validate() {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			if strings.HasPrefix(rest, ":") {
				rest = "(body)" + rest
			}
			out = append(out, strings.TrimPrefix(rest, "."))
		}
	}
	return probe.Boards[i], out
}

// BoardJSON writes b as a JSON object with the file's keys. Kiosk links
// are left out: their tokens are secrets, and links made outside the file
// are kept apart from their board.
func BoardJSON(b Board) (json.RawMessage, error) {
	b.Kiosk = nil
	y, err := yaml.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("failed to encode board %s: %w", b.ID, err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(y, &m); err != nil {
		return nil, fmt.Errorf("failed to encode board %s: %w", b.ID, err)
	}
	delete(m, "kiosk")
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("failed to encode board %s: %w", b.ID, err)
	}
	return out, nil
}
