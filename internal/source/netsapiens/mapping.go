package netsapiens

import (
	"strings"

	"github.com/wallboard/wallboard/internal/event"
)

// Field aliases, in normalized form (see Object): the v2 hyphenated name
// first, then the snake_case names older deployments post. NetSapiens has
// not published v2 sample payloads (PROTOCOLS.md §3), so every field is read
// tolerantly from several spellings.
var (
	fAgentID      = []string{"callqueue_agent_id", "agent_id", "device_aor", "sub_login", "user"}
	fAgentName    = []string{"callqueue_agent_name", "agent_name", "name_full_name", "sub_fullname", "full_name"}
	fAgentQueue   = []string{"callqueue", "callqueue_id", "queue", "huntgroup_name", "queue_name"}
	fQueueName    = []string{"callqueue_name", "callqueue_description", "huntgroup_description", "queue_description"}
	fAvailability = []string{"callqueue_agent_availability_type", "availability_type", "agent_availability_type", "entry_option"}
	fDispatch     = []string{"callqueue_agent_availability_for_dispatch", "availability_for_dispatch", "for_dispatch"}
	fActiveCalls  = []string{"active_calls_total_current", "callqueue_agent_active_calls", "session_count", "active_calls"}
	fAgentStatus  = []string{"callqueue_agent_status", "agent_status", "status", "status_message"}
	fRemove       = []string{"remove"}

	fOrigCallID = []string{"call_orig_call_id", "orig_callid", "orig_call_id", "call_id", "callid"}
	fTermCallID = []string{"call_term_call_id", "term_callid", "term_call_id"} // known, read by no mapping
	fCallQueue  = []string{"call_callqueue", "callqueue", "call_orig_to_user", "orig_to_user", "call_term_sub", "term_sub"}
	fTermUser   = []string{"call_term_user", "term_user"} // else the by-user (see callAgent)
	// A call may name its queue only in fields that also name other
	// things (PROTOCOLS.md §3 lists no call payload): the queue's own leg
	// (term user, dialed number) while the call waits, or the by-user with
	// by-action "callqueue" once an agent's phone rings. These count only
	// when they name a queue the agent model has named (see callQueue).
	fExplicitQueue = []string{"call_callqueue", "callqueue"}
	fByUser        = []string{"call_by_user", "by_user"}
	fByAction      = []string{"call_by_action", "by_action"}
	fQueueCands    = []string{"call_orig_to_user", "orig_to_user", "call_term_sub", "term_sub", "call_term_user", "term_user",
		"call_dialed_number", "dialed_number", "call_by_user", "by_user"}
	fStart    = []string{"call_start_datetime", "time_start", "call_orig_datetime", "start_datetime"}
	fAnswer   = []string{"call_answer_datetime", "time_answer", "answer_datetime"}
	fRelease  = []string{"call_release_datetime", "call_end_datetime", "time_release", "release_datetime"}
	fDuration = []string{"call_total_duration_seconds", "duration", "call_duration"}

	fPresUser   = []string{"user", "subscriber_login", "login", "presence_user", "aor"}
	fPresence   = []string{"presence", "subscriber_presence", "presence_status"}
	fPresStatus = []string{"message", "status_message", "subscriber_status_message", "status"}
)

// availabilityStates maps an agent entry's availability type to a state.
// "automatic" is only a starting point: calls and dispatch refine it to
// busy, offered or wrap_up (see derive).
var availabilityStates = map[string]event.State{
	"automatic":        event.StateAvailable,
	"offnet":           event.StateAvailable,
	"offnet-automatic": event.StateAvailable,
	"offnet_automatic": event.StateAvailable,
	"manual":           event.StateNotReady,
	"offnet-manual":    event.StateNotReady,
	"offnet_manual":    event.StateNotReady,
	"disabled":         event.StateLoggedOut,
	"logged_out":       event.StateLoggedOut,
	"offline":          event.StateLoggedOut,
	"online":           event.StateAvailable,
	"available":        event.StateAvailable,
	"unavailable":      event.StateNotReady,
	"immediate":        event.StateAvailable,
}

// presenceStates maps a presence value to a state, for agents the agent
// model says nothing about.
var presenceStates = map[string]event.State{
	"open":        event.StateAvailable,
	"available":   event.StateAvailable,
	"online":      event.StateAvailable,
	"alerting":    event.StateOffered,
	"ringing":     event.StateOffered,
	"inuse":       event.StateBusy,
	"in_use":      event.StateBusy,
	"in-use":      event.StateBusy,
	"busy":        event.StateBusy,
	"progressing": event.StateBusy,
	"held":        event.StateBusy,
	"talking":     event.StateBusy,
	"dnd":         event.StateNotReady,
	"away":        event.StateNotReady,
	"break":       event.StateNotReady,
	"closed":      event.StateLoggedOut,
	"offline":     event.StateLoggedOut,
	"inactive":    event.StateLoggedOut,
}

// AvailabilityState maps an availability type (case-insensitive).
func AvailabilityState(v string) (event.State, bool) {
	s, ok := availabilityStates[strings.ToLower(strings.TrimSpace(v))]
	return s, ok
}

// PresenceState maps a presence value (case-insensitive).
func PresenceState(v string) (event.State, bool) {
	s, ok := presenceStates[strings.ToLower(strings.TrimSpace(v))]
	return s, ok
}

// yes reports whether a NetSapiens flag is set ("yes", "true", "1").
func yes(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "y", "true", "1":
		return true
	}
	return false
}

// no reports whether a NetSapiens flag is explicitly unset.
func no(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "no", "n", "false", "0":
		return true
	}
	return false
}

// userID reduces the forms an agent id takes ("sip:1001@acme.service",
// "1001@acme.service", "1001") to the user part, so the agent model's
// entries and the call model's term users name the same agent.
func userID(v string) string {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(strings.TrimPrefix(v, "sip:"), "sips:")
	if i := strings.IndexByte(v, '@'); i > 0 {
		v = v[:i]
	}
	return v
}

// knownFields are the keys some reading uses, and those known to carry
// nothing a board shows.
var knownFields = func() map[string]bool {
	m := map[string]bool{"action": true, "object": true} // a legacy cdr's row operation and model
	for _, list := range [][]string{fAgentID, fAgentName, fAgentQueue, fQueueName, fAvailability, fDispatch, fActiveCalls,
		fAgentStatus, fRemove, fOrigCallID, fTermCallID, fCallQueue, fTermUser, fExplicitQueue, fByUser, fByAction,
		fQueueCands, fStart, fAnswer, fRelease, fDuration, fPresUser, fPresence, fPresStatus} {
		for _, k := range list {
			m[k] = true
		}
	}
	return m
}()

// stateLike reports whether a key's name suggests it carries a state.
func stateLike(k string) bool {
	for _, w := range []string{"state", "status", "presence", "availab", "action"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}
