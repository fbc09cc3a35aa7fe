// Package eightbyeight decodes the 8x8 contact-center event wrappers that
// both 8x8 transports carry — the legacy Streaming API (SAPI, HTTP streaming)
// and Event Streaming (Pulsar WebSocket payloads) — and translates them into
// wallboard's event vocabulary.
//
// Every 8x8 event is a single-key wrapper, {"AgentStatusChange":{…}},
// {"AgentProvChange":{…}} or {"Interaction":{…}}, in JSON or XML. 8x8 is
// loose with types: numbers arrive as strings, "N/A" stands where a number
// is expected, booleans come as true, "true" or "yes". The field types below
// accept all of those so a quirk never turns a whole event into an error.
package eightbyeight

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strconv"
	"strings"
)

// Int is a number that 8x8 may send as a JSON number, a string of digits,
// "N/A" or an empty string. Valid is false when no number was given; Bad
// is true when something else was given (text that is no number at all).
type Int struct {
	V     int64
	Valid bool
	Bad   bool
}

func (n *Int) set(s string) {
	s = strings.TrimSpace(s)
	*n = Int{}
	if v, ok := plainInt(s); ok {
		*n = Int{V: v, Valid: true}
		return
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = Int{V: v, Valid: true}
		return
	}
	// Some fields carry a fraction ("1669235544.917"); keep the whole part.
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > -9e18 && f < 9e18 {
		*n = Int{V: int64(f), Valid: true}
		return
	}
	switch strings.ToLower(s) {
	case "", "n/a", "na", "null", "none", "-":
	default:
		n.Bad = true
	}
}

// setBytes is set for bytes, without a copy for the usual plain integer.
func (n *Int) setBytes(b []byte) {
	if v, ok := plainInt(b); ok {
		*n = Int{V: v, Valid: true}
		return
	}
	n.set(string(b))
}

// plainInt parses an optional '-' and up to 18 decimal digits (no overflow
// possible), the form nearly every 8x8 number has; anything else is left
// to strconv.
func plainInt[T string | []byte](s T) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	i := 0
	if neg {
		i = 1
	}
	if len(s) == i || len(s)-i > 18 {
		return 0, false
	}
	var v int64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// UnmarshalJSON accepts a number, a numeric string, "N/A", "" or null.
func (n *Int) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	n.set(s)
	return nil
}

// UnmarshalXML reads the element's text.
func (n *Int) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var s string
	if err := d.DecodeElement(&s, &start); err != nil {
		return err
	}
	n.set(s)
	return nil
}

// Str is text that 8x8 may send as a JSON string, number or boolean
// (queueId is a number in some samples and a string in others).
type Str string

// UnmarshalJSON accepts a string, a number, a boolean or null.
func (s *Str) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = Str(strings.TrimSpace(v))
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		*s = "" // an object where text was expected: ignore the field, keep the event
	default:
		*s = Str(b)
	}
	return nil
}

// UnmarshalXML reads the element's text, trimmed (the vendor's samples
// wrap long ids onto a new line).
func (s *Str) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var v string
	if err := d.DecodeElement(&v, &start); err != nil {
		return err
	}
	*s = Str(strings.TrimSpace(v))
	return nil
}

// Bool is a boolean sent as true/false, "true"/"false", "yes"/"no" or 1/0.
type Bool struct {
	V     bool
	Valid bool
}

func (v *Bool) set(s string) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "1", "on", "enabled":
		*v = Bool{V: true, Valid: true}
	case "false", "no", "n", "0", "off", "disabled":
		*v = Bool{V: false, Valid: true}
	default:
		*v = Bool{}
	}
}

// UnmarshalJSON accepts booleans, strings and numbers.
func (v *Bool) UnmarshalJSON(b []byte) error {
	var s Str
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	v.set(string(s))
	return nil
}

// UnmarshalXML reads the element's text.
func (v *Bool) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var s string
	if err := d.DecodeElement(&s, &start); err != nil {
		return err
	}
	v.set(s)
	return nil
}

// List is a JSON array that XML-to-JSON converters send as a bare object
// when it has one element.
type List[T any] []T

// UnmarshalJSON accepts an array, a single object or null.
func (l *List[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*l = nil
		return nil
	case b[0] == '[':
		var v []T
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*l = v
		return nil
	default:
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*l = List[T]{v}
		return nil
	}
}

// MsgInfo identifies an event on the vendor side; it may be {} or absent.
type MsgInfo struct {
	InstanceID Str `json:"instanceId" xml:"instanceId"`
	SequenceID Int `json:"sequenceId" xml:"sequenceId"`
	Timestamp  Int `json:"timestamp" xml:"timestamp"` // milliseconds
}

// AgentStatusChange is an agent's state change.
type AgentStatusChange struct {
	AgentID           Str     `json:"agentId" xml:"agentId"`
	NewState          Int     `json:"newState" xml:"newState"`
	NewSubState       Str     `json:"newSubState" xml:"newSubState"`
	NewSubStateReason Str     `json:"newSubStateReason" xml:"newSubStateReason"`
	NewReasonCodeUser Str     `json:"newReasonCodeUser" xml:"newReasonCodeUser"` // "listId=itemId"
	StatusEventTS     Int     `json:"statusEventTS" xml:"statusEventTS"`         // seconds
	MsgInfo           MsgInfo `json:"msgInfo" xml:"msgInfo"`
}

// ProvItem is one changed provisioning field (the older AgentProvChange form).
type ProvItem struct {
	Key      Str `json:"provisioningItemKey" xml:"provisioningItemKey"`
	NewValue Str `json:"provisioningItemNewValue" xml:"provisioningItemNewValue"`
	OldValue Str `json:"provisioningItemOldValue" xml:"provisioningItemOldValue"`
}

// ProvItems wraps the repeated provisioningItem.
type ProvItems struct {
	Items List[ProvItem] `json:"provisioningItem" xml:"provisioningItem"`
}

// AgentProvChange is a provisioning change: skills (AgentSkillCreated,
// AgentSkillChanged, …) or, in the older form, a list of changed fields.
type AgentProvChange struct {
	Event         Str  `json:"event" xml:"event"`
	AgentID       Str  `json:"agentId" xml:"agentId"`
	Enabled       Bool `json:"enabled" xml:"enabled"`
	SkillID       Str  `json:"skillId" xml:"skillId"`
	TenantSkillID Str  `json:"tenantSkillId" xml:"tenantSkillId"`
	// TenantSkillName is not in 8x8's catalogue for provisioning events; it
	// is read when present (our emulator sends it) to name the queue early.
	TenantSkillName Str       `json:"tenantSkillName" xml:"tenantSkillName"`
	Changes         Int       `json:"numberofChangesThisTime" xml:"numberofChangesThisTime"`
	Items           ProvItems `json:"provisioningItems" xml:"provisioningItems"`
	MsgInfo         MsgInfo   `json:"msgInfo" xml:"msgInfo"`
}

// Datum is one attached-data pair.
type Datum struct {
	Key   Str `json:"attachedDataKey" xml:"attachedDataKey"`
	Value Str `json:"attachedDataValue" xml:"attachedDataValue"`
}

// AttachedData wraps the repeated attachedDatum.
type AttachedData struct {
	Datum List[Datum] `json:"attachedDatum" xml:"attachedDatum"`
}

// Get returns the value of key (case-insensitive), or "".
func (a AttachedData) Get(key string) string {
	for _, d := range a.Datum {
		if strings.EqualFold(string(d.Key), key) {
			return string(d.Value)
		}
	}
	return ""
}

// Interaction is any interaction event; Event names it (InteractionQueued…).
type Interaction struct {
	Event            Str          `json:"event" xml:"event"`
	CallState        Str          `json:"callState" xml:"callState"`
	InteractionGUID  Str          `json:"interactionGUID" xml:"interactionGUID"`
	QueueID          Str          `json:"queueId" xml:"queueId"`
	QueueTime        Int          `json:"queueTime" xml:"queueTime"` // seconds
	EventTS          Int          `json:"eventTS" xml:"eventTS"`     // seconds
	AgentID          Str          `json:"agentId" xml:"agentId"`
	Direction        Str          `json:"direction" xml:"direction"`
	MediaType        Str          `json:"mediaType" xml:"mediaType"`
	InboundChannelID Str          `json:"inboundChannelid" xml:"inboundChannelid"`
	Priority         Int          `json:"priority" xml:"priority"`
	HangupInitiator  Str          `json:"hangupInitiator" xml:"hangupInitiator"`
	Status           Bool         `json:"status" xml:"status"`
	AttachedData     AttachedData `json:"attachedData" xml:"attachedData"`
	MsgInfo          MsgInfo      `json:"msgInfo" xml:"msgInfo"`
}
