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

func (s *Server) handleState(c echo.Context) error {
	r := c.Request()
	if !s.apiToken(r) && !s.viewer(r) {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="wallboard"`)
		return ErrUnauthorized
	}
	snap, err := s.opts.Floor.Snapshot(r.Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.stateOf(snap))
}

func (s *Server) stateOf(snap *model.Snapshot) stateJSON {
	out := stateJSON{GeneratedAt: snap.At.UTC(), Sources: []sourceJSON{}, Agents: []agentJSON{}, Queues: []queueJSON{}}
	for _, st := range s.opts.Sources() {
		j := sourceJSON{Name: st.Name, Type: st.Type, Status: string(st.Status),
			LastMessageAt: utc(st.LastMessageAt), Messages: st.Messages, Errors: st.Errors, Reconnects: st.Reconnects,
			Detail: st.Detail, Unmapped: make(map[string]int64, len(st.Unmapped)), UnmappedOverflow: st.UnmappedOverflow}
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
