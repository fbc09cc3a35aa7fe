package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/database"
)

// AuditLog reads the log of changes (internal/database).
type AuditLog interface {
	Audit(ctx context.Context, f database.AuditFilter) ([]database.AuditEntry, error)
}

type auditEntryJSON struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail struct {
		Before json.RawMessage `json:"before"`
		After  json.RawMessage `json:"after"`
	} `json:"detail"`
}

// handleAudit is GET /api/v1/audit: admin-scope tokens; newest first,
// filtered by actor, action ("board." for every board action), target,
// since and until (RFC 3339), with before (an id) and limit to page.
func (s *Server) handleAudit(c echo.Context) error {
	if _, err := s.boardsCaller(c, true); err != nil {
		return answer(c, err)
	}
	q := c.QueryParams()
	f := database.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	var probs config.Problems
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				probs = append(probs, p.name+": must be an RFC 3339 time like 2026-12-03T09:00:00Z")
			}
			*p.to = t
		}
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			probs = append(probs, "before: must be a positive integer (an entry's id)")
		}
		f.Before = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			probs = append(probs, "limit: must be between 1 and 1000")
		}
		f.Limit = n
	}
	if len(probs) > 0 {
		e := problemsError(probs)
		e.body["error"] = "invalid query"
		return answer(c, e)
	}
	entries, err := s.opts.AuditLog.Audit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := []auditEntryJSON{}
	for _, e := range entries {
		j := auditEntryJSON{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Action: e.Action, Target: e.Target}
		j.Detail.Before, j.Detail.After = orNull(e.Before), orNull(e.After)
		out = append(out, j)
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": out})
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}
