package pulsar

import (
	"encoding/json"
	"strings"

	"github.com/wallboard/wallboard/internal/source/eightbyeight/jsonscan"
)

// frame is what the source uses of a proxy frame: a message, or (no
// MessageID) a control reply.
type frame struct {
	MessageID   string
	Payload     []byte // base64, as sent; it may point into the frame's bytes
	PublishTime []byte // likewise
	Type        string
	EndOfTopic  json.RawMessage
}

// frameJSON is the frame for encoding/json, the general path.
type frameJSON struct {
	MessageID       string          `json:"messageId"`
	Payload         string          `json:"payload"`
	PublishTime     string          `json:"publishTime"`
	RedeliveryCount int             `json:"redeliveryCount"`
	EndOfTopic      json.RawMessage `json:"endOfTopic"`
	Type            string          `json:"type"`
}

// frameFields are the keys encoding/json would match to frameJSON's fields,
// regardless of case.
var frameFields = []string{"messageId", "payload", "publishTime", "redeliveryCount", "endOfTopic", "type"}

// parseFrame reads a proxy frame. The usual message frame is read in one
// pass without reflection (parseFrameFast); any other shape goes to
// encoding/json, so both accept and read the same frames
// (TestParseFrameFastMatchesJSON, FuzzParseFrame).
func parseFrame(b []byte) (frame, error) {
	if f, ok := parseFrameFast(b); ok {
		return f, nil
	}
	var j frameJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return frame{}, err
	}
	return frame{MessageID: j.MessageID, Payload: []byte(j.Payload), PublishTime: []byte(j.PublishTime),
		Type: j.Type, EndOfTopic: j.EndOfTopic}, nil
}

// parseFrameFast reads a frame whose used strings are plain and which has
// no endOfTopic; it skips properties, key, eventTime and whatever else the
// proxy adds. It returns false for anything else.
func parseFrameFast(b []byte) (frame, bool) {
	var f frame
	s := jsonscan.New(b)
	if !s.Begin() {
		return f, false
	}
	for {
		key, more := s.Next()
		if !more {
			break
		}
		switch string(key) {
		case "messageId", "payload", "publishTime", "type":
			k, raw, plain := s.Value()
			if k == jsonscan.Null {
				continue // encoding/json leaves a string alone for null
			}
			if k != jsonscan.String || !plain {
				return f, false
			}
			switch string(key) {
			case "messageId":
				f.MessageID = string(raw)
			case "payload":
				f.Payload = raw
			case "publishTime":
				f.PublishTime = raw
			case "type":
				f.Type = string(raw)
			}
		case "redeliveryCount":
			k, raw, _ := s.Value()
			if k != jsonscan.Null && (k != jsonscan.Number || !plainInt(raw)) {
				return f, false // a fraction or a huge number is the general path's type error
			}
		default:
			for _, name := range frameFields {
				if strings.EqualFold(string(key), name) {
					return f, false // endOfTopic, or a key encoding/json matches regardless of case
				}
			}
			if k, _, _ := s.Value(); k == jsonscan.Bad {
				return f, false
			}
		}
	}
	if !s.End() {
		return f, false
	}
	return f, true
}

// plainInt reports whether b is an optional '-' and 1 to 18 digits without a
// leading zero, an int that encoding/json reads without error.
func plainInt(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
