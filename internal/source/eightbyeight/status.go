package eightbyeight

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// This file reads 8x8's Agent Status API, the one place 8x8 offers every
// agent's current state (docs: "CC Managing Agent Status"):
//
//	GET {agent_status_url}/api/v1/tenants/{tenant}/agentstatus/agents
//	Authorization: Basic base64({username}:{Action Request Token})
//	→ {"data":[{"agent-id":"…","agent-status":5,"status-code-list-id":801,
//	   "status-code-item-id":1726,"status-code-item-short-code":"Train",
//	   "name":"Padma Othertask","agent-sub-status":"none"},…]}
//
// Neither transport replays what happened while nobody listened beyond
// its own window (SAPI two hours per subscription id, Event Streaming the
// topic's retention), and a new SAPI subscription or a reader starting at
// "latest" learns an agent only when it next changes. A resync asks this
// API after a start and after a long disconnection (ResyncAfter).

// maxStatusBody bounds the listing read (10,000 agents are about 2 MB).
const maxStatusBody = 32 << 20

// AgentStatus is one agent of the Agent Status API's listing.
type AgentStatus struct {
	AgentID   Str `json:"agent-id"`
	Status    Int `json:"agent-status"`
	ListID    Int `json:"status-code-list-id"`
	ItemID    Int `json:"status-code-item-id"`
	ShortCode Str `json:"status-code-item-short-code"`
	Name      Str `json:"name"`
	SubStatus Str `json:"agent-sub-status"`
}

// StatusClient reads the Agent Status API of one tenant.
type StatusClient struct {
	endpoint string
	auth     string
	client   *http.Client
}

// NewStatusClient returns the client that o configures for tenant, or nil
// when o names no agent_status_url (no resync). insecure skips TLS
// verification (the source's insecure_skip_verify).
func NewStatusClient(o Options, tenant string, insecure bool) (*StatusClient, error) {
	if o.AgentStatusURL == "" {
		return nil, nil
	}
	u, err := url.Parse(o.AgentStatusURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("failed to read agent_status_url: %q is not an absolute http(s) URL", o.AgentStatusURL)
	}
	user := o.AgentStatusUser
	if user == "" {
		user = tenant
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// A read after a start or a long disconnection, minutes apart at most:
	// no idle connection (and its two goroutines) is kept between them.
	tr.DisableKeepAlives = true
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // lab use, documented
	}
	timeout := o.AgentStatusTimeout.D()
	if timeout <= 0 {
		timeout = DefaultAgentStatusTimeout
	}
	return &StatusClient{
		endpoint: strings.TrimRight(o.AgentStatusURL, "/") + "/api/v1/tenants/" + url.PathEscape(tenant) + "/agentstatus/agents",
		auth:     "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+o.AgentStatusToken.Reveal())),
		client:   &http.Client{Transport: tr, Timeout: timeout},
	}, nil
}

// ErrStatusRefused wraps an answer that retrying will not change (401,
// 403: the credentials, or the API not enabled for the tenant).
var ErrStatusRefused = errors.New("the agent status API refused the request")

// Agents reads every agent's current status.
func (c *StatusClient) Agents(ctx context.Context) ([]AgentStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to read the agents' status: %w", err)
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to read the agents' status: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return nil, fmt.Errorf("failed to read the agents' status: HTTP %d (check agent_status_user and agent_status_token; 8x8 enables the API on request): %w",
				resp.StatusCode, ErrStatusRefused)
		}
		return nil, fmt.Errorf("failed to read the agents' status: HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxStatusBody+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read the agents' status: %w", err)
	}
	if len(b) > maxStatusBody {
		return nil, fmt.Errorf("failed to read the agents' status: the listing is larger than %d MiB", maxStatusBody>>20)
	}
	return DecodeAgentStatus(b)
}

// DecodeAgentStatus decodes the listing's body: {"data":[…]}, or a bare
// array, or one agent's object (the single-agent form).
func DecodeAgentStatus(b []byte) ([]AgentStatus, error) {
	b = []byte(strings.TrimSpace(string(b)))
	if len(b) == 0 {
		return nil, errors.New("failed to decode the agents' status: empty body")
	}
	switch b[0] {
	case '[':
		var list []AgentStatus
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("failed to decode the agents' status: %w", err)
		}
		return list, nil
	case '{':
		var w struct {
			Data *[]AgentStatus `json:"data"`
		}
		if err := json.Unmarshal(b, &w); err != nil {
			return nil, fmt.Errorf("failed to decode the agents' status: %w", err)
		}
		if w.Data != nil {
			return *w.Data, nil
		}
		var one AgentStatus
		if err := json.Unmarshal(b, &one); err != nil || one.AgentID == "" {
			return nil, errors.New("failed to decode the agents' status: no \"data\" list and no \"agent-id\"")
		}
		return []AgentStatus{one}, nil
	}
	return nil, fmt.Errorf("failed to decode the agents' status: not JSON (starts with %q)", string(b[:min(len(b), 20)]))
}

// Resync turns a listing taken at at into events: each logged-in agent's
// name and state (a not-ready reason labelled as the stream's are), then
// an AgentRoster of those agents, which logs out every other agent of the
// source that the model still shows logged in. Agents listed as logged out
// or never logged in (status 0) are not created; a status that is missing,
// unreadable or one the mapping does not know keeps the agent as it is
// (in the roster, no state). notes (may
// be nil) hears of codes the mapping does not know. Events get their
// Source from the Reporter.
func Resync(m *Mapping, notes Noter, list []AgentStatus, at time.Time) []event.Event {
	roster := []string{}
	var out []event.Event
	for _, a := range list {
		id := strings.TrimSpace(string(a.AgentID))
		if id == "" {
			continue
		}
		if !a.Status.Valid { // missing or unreadable: keep the agent as it is
			roster = append(roster, id)
			if a.Status.Bad && notes != nil {
				notes.Unreadable("agent-status", "")
			}
			continue
		}
		row, known := m.states[a.Status.V]
		if !known {
			if a.Status.V != 0 { // 0: "generally the agent has never logged in"
				roster = append(roster, id)
				if notes != nil {
					notes.Unmapped("agent-status", fmt.Sprint(a.Status.V), "state_map")
				}
			}
			continue
		}
		switch row.State {
		case event.StateLoggedOut:
			continue
		case event.StateUnknown:
			if a.Status.V != 0 {
				roster = append(roster, id)
			}
			continue
		}
		roster = append(roster, id)
		if name := strings.TrimSpace(string(a.Name)); name != "" {
			out = append(out, event.Event{Kind: event.AgentInfo, Agent: id, Name: name})
		}
		e := event.Event{Kind: event.AgentState, Agent: id, State: row.State, At: at}
		if row.State == event.StateNotReady {
			code := ""
			if a.ListID.Valid && a.ItemID.Valid {
				code = fmt.Sprintf("%d=%d", a.ListID.V, a.ItemID.V)
			}
			var labelled bool
			e.Reason, labelled = m.reason(code)
			if !labelled && notes != nil {
				notes.Unmapped("status-code-item-id", e.Reason, "reason_labels")
			}
			if e.Reason == "" {
				e.Reason = strings.TrimSpace(string(a.ShortCode))
			}
			if e.Reason == "" {
				e.Reason = row.Reason
			}
		}
		out = append(out, e)
	}
	return append(out, event.Event{Kind: event.AgentRoster, Roster: roster, At: at})
}

// Resyncer asks the Agent Status API for every agent's state when a
// session starts after the source's start, after a disconnection of at
// least ResyncAfter, or after a resync that failed; safe for concurrent
// use.
type Resyncer struct {
	c     *StatusClient
	m     *Mapping
	after time.Duration

	mu      sync.Mutex
	pending bool      // a resync is owed (start, gap, failure)
	ended   time.Time // when the last session ended
	resyncs int64     // resyncs done
}

// NewResyncer returns the resyncer o configures for tenant, or nil when o
// names no agent_status_url.
func NewResyncer(o Options, tenant string, insecure bool, m *Mapping) (*Resyncer, error) {
	c, err := NewStatusClient(o, tenant, insecure)
	if c == nil || err != nil {
		return nil, err
	}
	after := o.ResyncAfter.D()
	if after <= 0 {
		after = DefaultResyncAfter
	}
	return &Resyncer{c: c, m: m, after: after, pending: true}, nil
}

// Due reports whether a session that starts at now should resync, and
// records that one is owed.
func (r *Resyncer) Due(now time.Time) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.ended.IsZero() && now.Sub(r.ended) >= r.after {
		r.pending = true
	}
	return r.pending
}

// Ended records that a session ended at now (a later Due measures the
// disconnection from it).
func (r *Resyncer) Ended(now time.Time) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.ended = now
	r.mu.Unlock()
}

// Resyncs returns how many resyncs were handed on.
func (r *Resyncer) Resyncs() int64 {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.resyncs
}

// Run reads the listing (up to three attempts, a second or two apart) and
// hands its events to emit, as of when it was asked for, to the second:
// 8x8's own events carry whole seconds, so one from the same second as
// the listing (possibly newer) still applies after it, and one from an
// earlier second arriving late (a replay) is older and does not undo it.
// A failure is logged and leaves the resync owed to the next session.
func (r *Resyncer) Run(ctx context.Context, log *slog.Logger, notes Noter, emit func(context.Context, ...event.Event) error) {
	for attempt := 1; ; attempt++ {
		at := time.Now().Truncate(time.Second)
		list, err := r.c.Agents(ctx)
		if err == nil {
			evs := Resync(r.m, notes, list, at)
			if err := emit(ctx, evs...); err != nil {
				return
			}
			r.mu.Lock()
			r.pending = false
			r.resyncs++
			r.mu.Unlock()
			log.Info("resynced agents from the agent status API", "agents", len(list), "logged_in", len(evs[len(evs)-1].Roster))
			return
		}
		if ctx.Err() != nil {
			return
		}
		if attempt >= 3 || errors.Is(err, ErrStatusRefused) {
			log.Warn("resync: failed to read the agent status API; agents show their next change", "error", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(attempt) * time.Second):
		}
	}
}
