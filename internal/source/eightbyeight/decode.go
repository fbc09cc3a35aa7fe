package eightbyeight

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Kind says which wrapper a Message holds.
type Kind uint8

// The 8x8 wrappers.
const (
	KindAgentStatus Kind = iota + 1
	KindAgentProv
	KindInteraction
)

// The wrapper keys.
const (
	KeyAgentStatus = "AgentStatusChange"
	KeyAgentProv   = "AgentProvChange"
	KeyInteraction = "Interaction"
)

// ErrUnknownWrapper is returned for a well-formed event whose wrapper key is
// none of the three we read. Callers count it as a message, not as malformed:
// 8x8 adds event types without notice.
var ErrUnknownWrapper = errors.New("unknown 8x8 event wrapper")

// Message is one decoded 8x8 event: exactly one of the pointers is set.
type Message struct {
	Kind        Kind
	Status      *AgentStatusChange
	Prov        *AgentProvChange
	Interaction *Interaction
}

// MsgInfo returns the event's msgInfo.
func (m *Message) MsgInfo() MsgInfo {
	switch {
	case m.Status != nil:
		return m.Status.MsgInfo
	case m.Prov != nil:
		return m.Prov.MsgInfo
	case m.Interaction != nil:
		return m.Interaction.MsgInfo
	}
	return MsgInfo{}
}

// maxFrame bounds one event; a bigger one is malformed, not a memory sink.
const maxFrame = 1 << 20

// Decode decodes one event, JSON or XML (told apart by the first
// non-space byte).
func Decode(b []byte) (Message, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return Message{}, errors.New("empty event")
	}
	if len(b) > maxFrame {
		return Message{}, fmt.Errorf("event of %d bytes is too large", len(b))
	}
	if b[0] == '<' {
		return DecodeXML(b)
	}
	return DecodeJSON(b)
}

// DecodeJSON decodes {"<Wrapper>":{…}}. Other keys beside a known wrapper
// are ignored.
func DecodeJSON(b []byte) (Message, error) {
	if m, ok := decodeStatusFast(b); ok {
		return m, nil
	}
	if m, ok := decodeOneWrapper(b); ok {
		return m, nil
	}
	return decodeAnyWrapper(b)
}

// decodeAnyWrapper is the general path: any keys, the known wrapper wins.
func decodeAnyWrapper(b []byte) (Message, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return Message{}, fmt.Errorf("failed to decode JSON event: %w", err)
	}
	var m Message
	var err error
	switch {
	case top[KeyAgentStatus] != nil:
		m.Kind, m.Status = KindAgentStatus, new(AgentStatusChange)
		err = unmarshalObject(top[KeyAgentStatus], m.Status)
	case top[KeyAgentProv] != nil:
		m.Kind, m.Prov = KindAgentProv, new(AgentProvChange)
		err = unmarshalObject(top[KeyAgentProv], m.Prov)
	case top[KeyInteraction] != nil:
		m.Kind, m.Interaction = KindInteraction, new(Interaction)
		err = unmarshalObject(top[KeyInteraction], m.Interaction)
	default:
		return Message{}, fmt.Errorf("%w: keys %s", ErrUnknownWrapper, keys(top))
	}
	if err != nil {
		return Message{}, fmt.Errorf("failed to decode JSON event: %w", err)
	}
	return m, nil
}

// decodeOneWrapper is the fast path for the usual shape, {"<Wrapper>":{…}}
// with one key: the body is decoded in one pass instead of two. Any other
// shape, or any error, returns false and the general path decides (and
// reports errors), so both paths accept exactly the same input.
func decodeOneWrapper(b []byte) (Message, bool) {
	b = bytes.TrimSpace(b)
	if len(b) < 4 || b[0] != '{' || b[len(b)-1] != '}' {
		return Message{}, false
	}
	rest := bytes.TrimLeft(b[1:len(b)-1], " \t\r\n")
	if len(rest) < 2 || rest[0] != '"' {
		return Message{}, false
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 {
		return Message{}, false
	}
	key := rest[1 : 1+end]
	rest = bytes.TrimLeft(rest[2+end:], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return Message{}, false
	}
	body := rest[1:] // a second key would make it invalid JSON: the general path takes over
	var m Message
	var err error
	switch string(key) {
	case KeyAgentStatus:
		m.Kind, m.Status = KindAgentStatus, new(AgentStatusChange)
		err = unmarshalObject(body, m.Status)
	case KeyAgentProv:
		m.Kind, m.Prov = KindAgentProv, new(AgentProvChange)
		err = unmarshalObject(body, m.Prov)
	case KeyInteraction:
		m.Kind, m.Interaction = KindInteraction, new(Interaction)
		err = unmarshalObject(body, m.Interaction)
	default:
		return Message{}, false
	}
	return m, err == nil
}

func unmarshalObject(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("wrapper value is not an object")
	}
	return json.Unmarshal(raw, v)
}

// keys lists m's keys for an error message, sorted so the same event
// always gives the same message.
func keys(m map[string]json.RawMessage) string {
	out := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if len(out) == 5 {
			out = append(out, "…")
			break
		}
		if len(k) > 40 {
			k = k[:40]
		}
		out = append(out, fmt.Sprintf("%q", k))
	}
	return "[" + strings.Join(out, " ") + "]"
}

// DecodeXML decodes <Wrapper>…</Wrapper>, after an optional XML declaration
// and comments. The decoder is not strict: the vendor's own samples close
// elements with the wrong tag.
func DecodeXML(b []byte) (Message, error) {
	d := xml.NewDecoder(bytes.NewReader(repairLeaves(b)))
	d.Strict = false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return Message{}, errors.New("no XML element")
		}
		if err != nil {
			return Message{}, fmt.Errorf("failed to decode XML event: %w", err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue // declaration, comment, whitespace
		}
		var m Message
		switch start.Name.Local {
		case KeyAgentStatus:
			m.Kind, m.Status = KindAgentStatus, new(AgentStatusChange)
			err = d.DecodeElement(m.Status, &start)
		case KeyAgentProv:
			m.Kind, m.Prov = KindAgentProv, new(AgentProvChange)
			err = d.DecodeElement(m.Prov, &start)
		case KeyInteraction:
			m.Kind, m.Interaction = KindInteraction, new(Interaction)
			err = d.DecodeElement(m.Interaction, &start)
		default:
			name := start.Name.Local
			if len(name) > 40 {
				name = name[:40]
			}
			return Message{}, fmt.Errorf("%w: <%s>", ErrUnknownWrapper, name)
		}
		if err != nil {
			return Message{}, fmt.Errorf("failed to decode XML event: %w", err)
		}
		return m, nil
	}
}

var leafRE = regexp.MustCompile(`<([A-Za-z_][\w.-]*)>([^<]*)</([A-Za-z_][\w.-]*)>`)

// repairLeaves rewrites a text-only element closed with the wrong name,
// <a>text</b>, as <a>text</a>: the vendor's own provisioning sample does that,
// and a non-strict decoder would otherwise lose the siblings that follow.
func repairLeaves(b []byte) []byte {
	return leafRE.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := leafRE.FindSubmatch(m)
		if bytes.Equal(sub[1], sub[3]) {
			return m
		}
		out := make([]byte, 0, len(m))
		out = append(out, m[:len(m)-len(sub[3])-1]...)
		out = append(out, sub[1]...)
		return append(out, '>')
	})
}
