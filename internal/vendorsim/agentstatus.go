package vendorsim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/wallboard/wallboard/internal/event"
)

// agentStatusAPI emulates 8x8's Agent Status API (docs: "CC Managing Agent
// Status"), the read side only, over the simulation's ground truth:
//
//	GET /api/v1/tenants/{tenant}/agentstatus/agents[/{agentId}]
//	Authorization: Basic base64({user}:{Action Request Token})
//
// The listing is {"data":[{"agent-id","agent-status","name",…}]}, one
// agent's answer that object alone. Status codes follow the API's enum
// (eightStateCodes); a not-ready agent carries its reason as
// status-code-list-id/status-code-item-id (EightByEightReasonCodes) and
// status-code-item-short-code. Both 8x8 emulators serve it beside their
// stream, as 8x8 serves it beside SAPI and Event Streaming.
type agentStatusAPI struct {
	sim          *Sim
	tenant, user string
	token        string
	refuse       atomic.Int32
	reads        atomic.Int64
}

const agentStatusPrefix = "/api/v1/tenants/"

// serve answers req if it is for the agent status API and reports whether
// it was.
func (a *agentStatusAPI) serve(w http.ResponseWriter, req *http.Request) bool {
	rest, ok := strings.CutPrefix(req.URL.Path, agentStatusPrefix)
	if !ok {
		return false
	}
	tenant, rest, _ := strings.Cut(rest, "/")
	rest, ok = strings.CutPrefix(rest, "agentstatus/agents")
	if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
		http.NotFound(w, req)
		return true
	}
	agentID := strings.TrimPrefix(rest, "/")
	if req.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return true
	}
	if st := a.refuse.Load(); st != 0 {
		xmlError(w, int(st))
		return true
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(a.user+":"+a.token))
	if req.Header.Get("Authorization") != want {
		xmlError(w, http.StatusUnauthorized)
		return true
	}
	if tenant != a.tenant {
		xmlError(w, http.StatusForbidden)
		return true
	}
	a.reads.Add(1)
	truth := a.sim.Truth()
	var list []map[string]any
	for _, ag := range a.sim.Agents() {
		if agentID != "" && ag.ID != agentID {
			continue
		}
		list = append(list, agentStatusEntry(ag, truth.Agents[ag.ID]))
	}
	w.Header().Set("Content-Type", "application/json")
	if agentID != "" {
		if len(list) == 0 {
			xmlError(w, http.StatusNotFound)
			return true
		}
		_ = json.NewEncoder(w).Encode(list[0])
		return true
	}
	if list == nil {
		list = []map[string]any{}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": list})
	return true
}

// agentStatusEntry is one agent as the API lists it.
func agentStatusEntry(ag AgentInfo, st TruthAgent) map[string]any {
	code, ok := eightStateCodes[st.State]
	if !ok {
		code = 0
	}
	e := map[string]any{"agent-id": ag.ID, "agent-status": code, "name": ag.Name}
	if st.State == event.StateNotReady {
		rc := EightByEightReasonCodes[st.Reason]
		if rc == "" && isEightReasonCode(st.Reason) {
			rc = st.Reason
		}
		if rc == "" {
			rc = "801=99"
		}
		list, item, _ := strings.Cut(rc, "=")
		l, _ := strconv.Atoi(list)
		i, _ := strconv.Atoi(item)
		e["status-code-list-id"], e["status-code-item-id"] = l, i
		e["status-code-item-short-code"] = st.Reason
		e["agent-sub-status"] = "none"
	}
	return e
}

// xmlError answers status in the form 8x8 documents for the API's errors
// (<API><Error>403 - Forbidden.</Error></API>).
func xmlError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<API><Error>" + strconv.Itoa(status) + " - " + http.StatusText(status) + ".</Error></API>"))
}
