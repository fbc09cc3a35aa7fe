package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/model"
)

// stateJSON is GET /api/v1/state, as CONTRACT.md defines it.
type stateJSON struct {
	GeneratedAt time.Time    `json:"generated_at"`
	Sources     []sourceJSON `json:"sources"`
	Agents      []agentJSON  `json:"agents"`
	Queues      []queueJSON  `json:"queues"`
}

type sourceJSON struct {
	Name          string     `json:"name"`
	Type          string     `json:"type"`
	Status        string     `json:"status"`
	LastMessageAt *time.Time `json:"last_message_at"`
	Messages      int64      `json:"messages"`
	Errors        int64      `json:"errors"`
	Reconnects    int64      `json:"reconnects"`
	Detail        string     `json:"detail"`
	// Unmapped counts vendor values no mapping knows, by "{field}={value}"
	// (at most source.MaxUnmappedKeys); UnmappedOverflow counts the
	// values seen beyond that bound.
	Unmapped         map[string]int64 `json:"unmapped"`
	UnmappedOverflow int64            `json:"unmapped_overflow"`
}

type agentJSON struct {
	Source     string            `json:"source"`
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	State      string            `json:"state"`
	Reason     string            `json:"reason"`
	StateSince *time.Time        `json:"state_since"`
	Queues     []string          `json:"queues"`
	Measures   map[string]string `json:"measures"`
}

type queueJSON struct {
	Source             string            `json:"source"`
	ID                 string            `json:"id"`
	Name               string            `json:"name"`
	Waiting            int               `json:"waiting"`
	OldestWaitingSince *time.Time        `json:"oldest_waiting_since"`
	Offered            int               `json:"offered"`
	Answered           int               `json:"answered"`
	AnsweredInSL       int               `json:"answered_within_sl"`
	Abandoned          int               `json:"abandoned"`
	ServiceLevel       *float64          `json:"service_level"`
	AverageHandleSec   *float64          `json:"average_handle_seconds"`
	Measures           map[string]string `json:"measures"`
}

func utc(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// handleState is the whole model for an API token (machines the admin
// trusts), and for a signed-in session what the boards it may see show.
func (s *Server) handleState(c echo.Context) error {
	r := c.Request()
	c.Response().Header().Set("Cache-Control", "no-store")
	token := s.apiToken(r)
	p, signedIn := s.principal(r)
	if !token && !signedIn {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="wallboard"`)
		return ErrUnauthorized
	}
	snap, err := s.opts.Floor.Snapshot(r.Context())
	if err != nil {
		return err
	}
	if !token {
		snap = s.visibleTo(p, snap)
	}
	return c.JSON(http.StatusOK, s.stateOf(snap))
}

// visibleTo keeps the agents and queues of snap that a board p may see
// shows (its agents as the console lists them, logged out included).
func (s *Server) visibleTo(p Principal, snap *model.Snapshot) *model.Snapshot {
	var boards []string
	for _, b := range s.boards() {
		if s.canSee(p, b.ID) {
			boards = append(boards, b.ID)
		}
	}
	queues := map[model.Key]bool{}
	for _, id := range boards {
		for _, q := range s.opts.Boards.BoardQueues(id) {
			queues[q.Key] = true
		}
	}
	out := &model.Snapshot{At: snap.At, Day: snap.Day, Sources: snap.Sources}
	for _, a := range snap.Agents {
		for _, id := range boards {
			if _, ok := s.opts.Console.Agent(id, a.Key); ok {
				out.Agents = append(out.Agents, a)
				break
			}
		}
	}
	for _, q := range snap.Queues {
		if queues[q.Key] {
			out.Queues = append(out.Queues, q)
		}
	}
	return out
}

func (s *Server) stateOf(snap *model.Snapshot) stateJSON {
	out := stateJSON{GeneratedAt: snap.At.UTC(), Sources: []sourceJSON{}, Agents: []agentJSON{}, Queues: []queueJSON{}}
	for _, st := range s.opts.Sources() {
		j := sourceJSON{Name: st.Name, Type: st.Type, Status: string(st.Status),
			LastMessageAt: utc(st.LastMessageAt), Messages: st.Messages, Errors: st.Errors, Reconnects: st.Reconnects,
			Detail: st.Summary, Unmapped: make(map[string]int64, len(st.Unmapped)), UnmappedOverflow: st.UnmappedOverflow}
		for _, u := range st.Unmapped {
			j.Unmapped[u.Key()] = u.Count
		}
		out.Sources = append(out.Sources, j)
	}
	for _, a := range snap.Agents {
		j := agentJSON{Source: a.Source, ID: a.ID, Name: a.Name, State: string(a.State), Reason: a.Reason,
			StateSince: utc(a.Since), Queues: a.Queues, Measures: a.Measures}
		if j.Queues == nil {
			j.Queues = []string{}
		}
		if j.Measures == nil {
			j.Measures = map[string]string{}
		}
		out.Agents = append(out.Agents, j)
	}
	for _, q := range snap.Queues {
		j := queueJSON{Source: q.Source, ID: q.ID, Name: q.Name, Waiting: q.Waiting, OldestWaitingSince: utc(q.OldestWaiting),
			Offered: q.Offered, Answered: q.Answered, AnsweredInSL: q.AnsweredInSL, Abandoned: q.Abandoned, Measures: q.Measures}
		if sl, ok := q.ServiceLevel(); ok {
			j.ServiceLevel = &sl
		}
		if d, ok := q.AverageHandle(); ok {
			secs := d.Seconds()
			j.AverageHandleSec = &secs
		}
		if j.Measures == nil {
			j.Measures = map[string]string{}
		}
		out.Queues = append(out.Queues, j)
	}
	return out
}
