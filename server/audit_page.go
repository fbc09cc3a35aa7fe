package server

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/templates"
)

// auditPageSize is how many entries the audit page shows at once.
const auditPageSize = 100

// handleAuditPage is the admins' audit page: every change, newest first,
// filtered by who, what, which and when (the filters of GET
// /api/v1/audit); "Older" pages on by id.
func (s *Server) handleAuditPage(c echo.Context) error {
	p, ok := s.principal(c.Request())
	if !ok {
		return ErrUnauthorized
	}
	if !p.Has("admin") {
		return ErrForbidden
	}
	if s.opts.AuditLog == nil {
		return ErrNotFound
	}
	q := c.QueryParams()
	v := templates.AuditView{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"),
		Since: q.Get("since"), Until: q.Get("until"), Assets: s.templAssets()}
	f := database.AuditFilter{Actor: v.Actor, Action: v.Action, Target: v.Target, Limit: auditPageSize + 1}
	errs := fieldErrors{}
	for _, d := range []struct {
		name, value string
		to          *time.Time
	}{{"since", v.Since, &f.Since}, {"until", v.Until, &f.Until}} {
		if d.value == "" {
			continue
		}
		t, err := parseWhen(d.value)
		if err != nil {
			errs[d.name] = "must be a time like 2026-12-03T09:00 (UTC) or 2026-12-03T09:00:00Z"
			continue
		}
		*d.to = t
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			errs["before"] = "must be a positive integer (an entry's number)"
		}
		f.Before = n
	}
	if len(errs) > 0 {
		v.Errors = errs
		return render(c, http.StatusBadRequest, templates.AuditPage(v))
	}
	entries, err := s.opts.AuditLog.Audit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		older := url.Values{}
		for _, k := range []string{"actor", "action", "target", "since", "until"} {
			if q.Get(k) != "" {
				older.Set(k, q.Get(k))
			}
		}
		older.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		v.OlderURL = "/admin/audit?" + older.Encode()
	}
	for _, e := range entries {
		v.Entries = append(v.Entries, templates.AuditRow{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target,
			Before: string(e.Before), After: string(e.After)})
	}
	return render(c, http.StatusOK, templates.AuditPage(v))
}

// parseWhen reads a filter's time: RFC 3339, or what a datetime-local
// field sends (taken as UTC).
func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &time.ParseError{Value: s}
}
