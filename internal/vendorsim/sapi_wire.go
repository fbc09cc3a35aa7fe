package vendorsim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// This file renders the simulation's actions as 8x8 events, the single-key
// wrappers that both the Streaming API (SAPI) and Event Streaming (Pulsar
// payloads) carry. Choices the vendor documents leave open, made once here:
//
//   - Agent state codes follow the Agent Status API enum: logged_out 1,
//     not_ready 3 (ON_BREAK, with newReasonCodeUser "801=<n>" from
//     EightByEightReasonCodes), available 4, offered 6, busy 7, wrap_up 8.
//   - A queued call is InteractionCreated then InteractionQueued; offered is
//     InteractionAssigned, rejected InteractionRejected, answered
//     InteractionAccepted, abandoned and ended both InteractionDeleted
//     (hangupInitiator CUSTOMER or AGENT). Every interaction event carries
//     the queue's name as attachedData tenantSkillName.
//   - Provisioning (sent to a new SAPI subscription, and at the start of the
//     Pulsar topic): per agent an AgentProvChange in the seed's older form
//     naming the agent (provisioningItems firstName/lastName), an
//     AgentSkillCreated per queue it serves (tenantSkillId = queue id, plus
//     tenantSkillName, which 8x8 does not document, to name queues before
//     their first call), and an AgentStatusChange with its current state.
//   - Quirks on purpose: inboundChannelid is "N/A", transactionNum and
//     priority are strings, enabled is "yes".

// EightByEightReasonCodes are the newReasonCodeUser codes the emulators
// send for the simulation's not-ready reasons; EightByEightReasonLabels is
// the reason_labels map that turns them back into names.
var EightByEightReasonCodes = map[string]string{"Break": "801=1", "Lunch": "801=2", "Training": "801=3",
	"Meeting": "801=4", "Coaching": "801=5", "Login": "801=6"}

// EightByEightReasonLabels maps EightByEightReasonCodes back to reasons.
func EightByEightReasonLabels() map[string]string {
	out := map[string]string{}
	for k, v := range EightByEightReasonCodes {
		out[v] = k
	}
	return out
}

// isEightReasonCode reports whether s has newReasonCodeUser's form,
// "<digits>=<digits>".
func isEightReasonCode(s string) bool {
	a, b, ok := strings.Cut(s, "=")
	return ok && allDigits(a) && allDigits(b)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var eightStateCodes = map[event.State]int64{event.StateLoggedOut: 1, event.StateNotReady: 3, event.StateAvailable: 4,
	event.StateOffered: 6, event.StateBusy: 7, event.StateWrapUp: 8, event.StateUnknown: 0}

// wnode is one field of a rendered event. v is a string, int64, bool,
// []wnode (an object) or [][]wnode (a repeated object / JSON array).
type wnode struct {
	k string
	v any
}

// e8Event is one rendered 8x8 event: its wrapper key and body.
type e8Event struct {
	key  string
	body []wnode
}

// JSON renders {"key":{…}} with fields in order.
func (e e8Event) JSON() []byte {
	var b bytes.Buffer
	b.WriteString(`{`)
	writeJSONString(&b, e.key)
	b.WriteString(`:`)
	writeJSONObject(&b, e.body)
	b.WriteString(`}`)
	return b.Bytes()
}

func writeJSONString(b *bytes.Buffer, s string) {
	j, _ := json.Marshal(s)
	b.Write(j)
}

func writeJSONObject(b *bytes.Buffer, fields []wnode) {
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, f.k)
		b.WriteByte(':')
		switch v := f.v.(type) {
		case string:
			writeJSONString(b, v)
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case []wnode:
			writeJSONObject(b, v)
		case [][]wnode:
			b.WriteByte('[')
			for j, o := range v {
				if j > 0 {
					b.WriteByte(',')
				}
				writeJSONObject(b, o)
			}
			b.WriteByte(']')
		}
	}
	b.WriteByte('}')
}

// XML renders <key>…</key>, repeated objects as repeated elements.
func (e e8Event) XML() []byte {
	var b bytes.Buffer
	writeXMLElement(&b, e.key, e.body)
	return b.Bytes()
}

func writeXMLElement(b *bytes.Buffer, name string, v any) {
	if list, ok := v.([][]wnode); ok {
		for _, o := range list {
			writeXMLElement(b, name, o)
		}
		return
	}
	b.WriteString("<" + name + ">")
	switch v := v.(type) {
	case string:
		_ = xml.EscapeText(b, []byte(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case []wnode:
		for _, f := range v {
			writeXMLElement(b, f.k, f.v)
		}
	}
	b.WriteString("</" + name + ">")
}

// eightRenderer turns actions into 8x8 events, numbering them in msgInfo.
type eightRenderer struct {
	instance string
	mu       sync.Mutex
	seq      int64
	queues   map[string]string // id → name
	odd      int               // the next odd agent states to send (under mu)
	oddCode  any               // what they carry as newState
}

// oddStates makes the next n agent state changes carry code as newState
// (a code no table knows, or text that is no number).
func (r *eightRenderer) oddStates(n int, code any) {
	if c, ok := code.(int); ok {
		code = int64(c) // the writers render int64 and string
	}
	r.mu.Lock()
	r.odd, r.oddCode = n, code
	r.mu.Unlock()
}

func newEightRenderer(instance string, queues []QueueInfo) *eightRenderer {
	r := &eightRenderer{instance: instance, queues: map[string]string{}}
	for _, q := range queues {
		r.queues[q.ID] = q.Name
	}
	return r
}

// msgInfo returns the next msgInfo; numbered is false for events outside
// the numbered stream (a SAPI subscription's provisioning prelude), which
// get 8x8's empty {} form.
func (r *eightRenderer) msgInfo(at time.Time, numbered bool) wnode {
	if !numbered {
		return wnode{"msgInfo", []wnode{}}
	}
	r.mu.Lock()
	r.seq++
	seq := r.seq
	r.mu.Unlock()
	return wnode{"msgInfo", []wnode{{"instanceId", r.instance}, {"sequenceId", seq}, {"timestamp", at.UnixMilli()}}}
}

func (r *eightRenderer) status(agent string, st event.State, reason string, at time.Time, numbered bool) e8Event {
	code, ok := eightStateCodes[st]
	if !ok {
		code = 0
	}
	rc := "none"
	if st == event.StateNotReady {
		rc = EightByEightReasonCodes[reason]
		switch {
		case rc != "":
		case isEightReasonCode(reason):
			// Already a code (the load tool numbers its changes "801=<n>"):
			// sent as it is, like any tenant's own codes.
			rc = reason
		default:
			rc = "801=99"
		}
	}
	var newState any = code
	r.mu.Lock()
	if r.odd > 0 {
		r.odd--
		newState = r.oddCode
	}
	r.mu.Unlock()
	return e8Event{"AgentStatusChange", []wnode{{"agentId", agent}, {"newState", newState}, {"newSubState", "none"},
		{"newSubStateReason", "none"}, {"newReasonCodeUser", rc}, {"statusEventTS", at.Unix()}, r.msgInfo(at, numbered)}}
}

func (r *eightRenderer) interaction(name, callState string, a Action, extra ...wnode) e8Event {
	body := []wnode{{"event", name}, {"callState", callState}, {"interactionGUID", a.Call}, {"direction", "in"},
		{"mediaType", "phone"}, {"inboundChannelid", "N/A"}, {"transactionNum", "1"}, {"queueId", a.Queue}}
	body = append(body, extra...)
	body = append(body, wnode{"eventTS", a.At.Unix()},
		wnode{"attachedData", []wnode{{"attachedDatum", [][]wnode{{{"attachedDataKey", "tenantSkillName"}, {"attachedDataValue", r.queues[a.Queue]}}}}}},
		r.msgInfo(a.At, true))
	return e8Event{"Interaction", body}
}

// render returns the events of one action.
func (r *eightRenderer) render(a Action) []e8Event {
	switch a.Kind {
	case ActionAgentState:
		return []e8Event{r.status(a.Agent, a.State, a.Reason, a.At, true)}
	case ActionCallQueued:
		qt := wnode{"queueTime", a.QueuedAt.Unix()}
		return []e8Event{
			r.interaction("InteractionCreated", "CS_QUEUED", a),
			r.interaction("InteractionQueued", "CS_QUEUED", a, qt, wnode{"priority", "5"}),
		}
	case ActionCallOffered:
		return []e8Event{r.interaction("InteractionAssigned", "CS_INPROGRESS", a, wnode{"agentId", a.Agent}, wnode{"promptingTimeout", "15"})}
	case ActionCallRejected:
		return []e8Event{r.interaction("InteractionRejected", "CS_QUEUED", a, wnode{"agentId", a.Agent},
			wnode{"queueTime", a.QueuedAt.Unix()}, wnode{"rejectReason", "timeout"})}
	case ActionCallAnswered:
		return []e8Event{r.interaction("InteractionAccepted", "CS_CONNECTED", a, wnode{"agentId", a.Agent})}
	case ActionCallAbandoned:
		return []e8Event{r.interaction("InteractionDeleted", "CS_DISCONNECTED", a, wnode{"hangupInitiator", "CUSTOMER"},
			wnode{"callHangupReason", "CEC_CUSTOMER_HANGUP"})}
	case ActionCallEnded:
		return []e8Event{r.interaction("InteractionDeleted", "CS_DISCONNECTED", a, wnode{"agentId", a.Agent},
			wnode{"hangupInitiator", "AGENT"}, wnode{"callHangupReason", "CEC_NORMAL"})}
	}
	return nil
}

// provisioning returns the agents' names, skills and current states.
func (r *eightRenderer) provisioning(agents []AgentInfo, truth Truth, numbered bool) []e8Event {
	var out []e8Event
	for _, a := range agents {
		first, last := a.Name, ""
		if i := bytes.IndexByte([]byte(a.Name), ' '); i > 0 {
			first, last = a.Name[:i], a.Name[i+1:]
		}
		now := truth.At
		out = append(out, e8Event{"AgentProvChange", []wnode{{"agentId", a.ID}, {"numberofChangesThisTime", "2"},
			{"provisioningItems", []wnode{{"provisioningItem", [][]wnode{
				{{"provisioningItemKey", "firstName"}, {"provisioningItemNewValue", first}, {"provisioningItemOldValue", ""}},
				{{"provisioningItemKey", "lastName"}, {"provisioningItemNewValue", last}, {"provisioningItemOldValue", ""}},
			}}}}, r.msgInfo(now, numbered)}})
		for _, q := range a.Queues {
			out = append(out, e8Event{"AgentProvChange", []wnode{{"event", "AgentSkillCreated"}, {"agentId", a.ID},
				{"enabled", "yes"}, {"skillId", q}, {"tenantSkillId", q}, {"tenantSkillName", r.queues[q]}, r.msgInfo(now, numbered)}})
		}
		if st, ok := truth.Agents[a.ID]; ok {
			out = append(out, r.status(a.ID, st.State, st.Reason, st.Since, numbered))
		}
	}
	return out
}

// simSeq returns the sequence number of the Sim's last action.
func simSeq(s *Sim) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}
