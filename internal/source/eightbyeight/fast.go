package eightbyeight

import (
	"strings"

	"github.com/wallboard/wallboard/internal/source/eightbyeight/jsonscan"
)

// decodeStatusFast reads the most common event, {"AgentStatusChange":{…}}
// with plain keys and values, without reflection and with one allocation
// per field kept. It returns false for anything else — another wrapper, a
// second top-level key, an escaped string where a value is kept, a key that
// differs from a field's only in case (encoding/json would fill the field),
// a msgInfo that is not an object — and the general path decides, so both
// accept the same input and read it the same way
// (TestFastPathMatchesGeneralPath, FuzzFastPath).
func decodeStatusFast(b []byte) (Message, bool) {
	s := jsonscan.New(b)
	if !s.Begin() {
		return Message{}, false
	}
	key, more := s.Next()
	if !more || string(key) != KeyAgentStatus || !s.Enter() {
		return Message{}, false
	}
	st := new(AgentStatusChange)
	for {
		key, more := s.Next()
		if !more {
			break
		}
		var ok bool
		switch string(key) {
		case "agentId":
			ok = fastStr(&s, &st.AgentID)
		case "newState":
			ok = fastInt(&s, &st.NewState)
		case "newSubState":
			ok = fastStr(&s, &st.NewSubState)
		case "newSubStateReason":
			ok = fastStr(&s, &st.NewSubStateReason)
		case "newReasonCodeUser":
			ok = fastStr(&s, &st.NewReasonCodeUser)
		case "statusEventTS":
			ok = fastInt(&s, &st.StatusEventTS)
		case "msgInfo":
			ok = fastMsgInfo(&s, &st.MsgInfo)
		default:
			ok = skip(&s, key, statusFields)
		}
		if !ok {
			return Message{}, false
		}
	}
	if _, more := s.Next(); more || !s.End() {
		return Message{}, false
	}
	return Message{Kind: KindAgentStatus, Status: st}, true
}

var (
	statusFields  = []string{"agentId", "newState", "newSubState", "newSubStateReason", "newReasonCodeUser", "statusEventTS", "msgInfo"}
	msgInfoFields = []string{"instanceId", "sequenceId", "timestamp"}
)

// skip skips the value of an unknown key, unless encoding/json would match
// it to one of fields regardless of case.
func skip(s *jsonscan.Scanner, key []byte, fields []string) bool {
	for _, f := range fields {
		if strings.EqualFold(string(key), f) {
			return false
		}
	}
	k, _, _ := s.Value()
	return k != jsonscan.Bad
}

// fastStr reads a value as Str.UnmarshalJSON does.
func fastStr(s *jsonscan.Scanner, dst *Str) bool {
	k, raw, plain := s.Value()
	switch k {
	case jsonscan.String:
		if !plain {
			return false
		}
		*dst = Str(strings.TrimSpace(string(raw)))
	case jsonscan.Number:
		*dst = Str(raw)
	case jsonscan.True:
		*dst = "true"
	case jsonscan.False:
		*dst = "false"
	case jsonscan.Null, jsonscan.Object, jsonscan.Array:
		*dst = ""
	default:
		return false
	}
	return true
}

// fastInt reads a value as Int.UnmarshalJSON does.
func fastInt(s *jsonscan.Scanner, dst *Int) bool {
	k, raw, plain := s.Value()
	switch k {
	case jsonscan.Bad:
		return false
	case jsonscan.String:
		if !plain {
			return false
		}
	}
	dst.setBytes(raw)
	return true
}

// fastMsgInfo reads msgInfo into dst as encoding/json does: null leaves it
// alone, an object fills the fields it names; anything else is the general
// path's type error.
func fastMsgInfo(s *jsonscan.Scanner, dst *MsgInfo) bool {
	if s.Peek() == 'n' {
		k, _, _ := s.Value()
		return k == jsonscan.Null
	}
	if !s.Enter() {
		return false
	}
	for {
		key, more := s.Next()
		if !more {
			return s.OK()
		}
		var ok bool
		switch string(key) {
		case "instanceId":
			ok = fastStr(s, &dst.InstanceID)
		case "sequenceId":
			ok = fastInt(s, &dst.SequenceID)
		case "timestamp":
			ok = fastInt(s, &dst.Timestamp)
		default:
			ok = skip(s, key, msgInfoFields)
		}
		if !ok {
			return false
		}
	}
}
