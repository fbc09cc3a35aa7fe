package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/console"
	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/projection"
	"github.com/wallboard/wallboard/templates"
)

// The supervisor's console (internal/console renders it): the agents table
// of a board, a queue's drill-down and an agent's day, for the board's
// supervisors and admins, live over the board's console stream.

// ConsoleViews renders the console's pages (console.Views).
type ConsoleViews interface {
	// View is board id's console in lang: every queue panel and agent row.
	View(id, lang string) (templates.Console, bool)
	// Queue finds board id's queue by its page mark.
	Queue(id, mark string) (model.Key, string, bool)
	// Agent reports whether board id's console shows agent k, and its name.
	Agent(id string, k model.Key) (string, bool)
	// Day is an agent's day at now, in lang.
	Day(d model.AgentDay, now time.Time, lang string) templates.AgentDayView
}

// consoleAccess checks that r may see board id's console: signed in (401),
// a supervisor or admin who may see the board (403).
func (s *Server) consoleAccess(c echo.Context) (string, error) {
	_, b, err := s.boardAccess(c, config.RoleSupervisor)
	if err != nil {
		return "", err
	}
	return b.ID, nil
}

// consoleLang is the language of board id's console for c: ?lang= or the
// browser's Accept-Language when the board is rendered in it (its lang or
// langs: a console stream each), else the board's lang.
func (s *Server) consoleLang(c echo.Context, id string) string {
	b, ok := s.board(id)
	if !ok {
		return "en"
	}
	lang := c.QueryParam("lang")
	if lang == "" {
		lang = viewerLang(c.Request())
	}
	if _, ok := s.opts.Streams.Lookup(console.LangStreamID(id, lang, b.Lang)); ok {
		return lang
	}
	return b.Lang
}

// consoleView is the common part of every console page of board id, in
// the viewer's language (consoleLang).
func (s *Server) consoleView(c echo.Context, id string) (templates.Console, error) {
	b, _ := s.board(id)
	lang := s.consoleLang(c, id)
	v, ok := s.opts.Console.View(id, lang)
	if !ok || b == nil {
		return v, ErrNotFound
	}
	stream := console.LangStreamID(id, lang, b.Lang)
	topic, ok := s.opts.Streams.Lookup(stream)
	if !ok {
		return v, ErrNotFound
	}
	esc := url.PathEscape(id)
	q := url.Values{"since": {topic.EventID()}}
	if stream != console.StreamID(id) {
		q.Set("lang", lang)
	}
	v.EventsURL = "/boards/" + esc + "/console/events?" + q.Encode()
	v.BoardURL, v.ConsoleURL = "/boards/"+esc, "/boards/"+esc+"/console"
	v.Heartbeat = s.cfg.Heartbeat.D()
	v.Assets = s.templAssets()
	v.Script = s.assets.URL("console.js")
	return v, nil
}

// handleConsole is the agents table of a board, with its queues.
func (s *Server) handleConsole(c echo.Context) error {
	id, err := s.consoleAccess(c)
	if err != nil {
		return err
	}
	v, err := s.consoleView(c, id)
	if err != nil {
		return err
	}
	v.Mode, v.Heading = "agents", i18n.T(v.Lang, "Agents and queues")
	return render(c, http.StatusOK, templates.ConsolePage(v))
}

// handleConsoleQueue is one queue's drill-down: its panel with waiting
// contacts and windows, and the agents table filtered to it.
func (s *Server) handleConsoleQueue(c echo.Context) error {
	id, err := s.consoleAccess(c)
	if err != nil {
		return err
	}
	mark := projection.DOMID("queue", c.Param("source"), c.Param("queue"))
	_, name, ok := s.opts.Console.Queue(id, mark)
	if !ok {
		return ErrNotFound
	}
	v, err := s.consoleView(c, id)
	if err != nil {
		return err
	}
	v.Mode, v.Focus, v.Heading = "queue", mark, i18n.T(v.Lang, "Queue %s", name)
	var qs []templates.ConsoleQueue
	for _, q := range v.Queues {
		if q.DOMID == mark {
			qs = append(qs, q)
		}
	}
	v.Queues = qs
	return render(c, http.StatusOK, templates.ConsolePage(v))
}

// agentOf resolves the agent of a console request on board id.
func (s *Server) agentOf(c echo.Context, id string) (model.Key, string, error) {
	k := model.Key{Source: c.Param("source"), ID: c.Param("agent")}
	name, ok := s.opts.Console.Agent(id, k)
	if !ok {
		return k, "", ErrNotFound
	}
	return k, name, nil
}

// agentDay finds the agent the route names on board id, and its day.
func (s *Server) agentDay(c echo.Context, id string) (model.Key, string, model.AgentDay, error) {
	k, name, err := s.agentOf(c, id)
	if err != nil {
		return k, "", model.AgentDay{}, err
	}
	day, ok, err := s.opts.Floor.AgentDay(c.Request().Context(), k)
	if err == nil && !ok {
		err = ErrNotFound
	}
	return k, name, day, err
}

// handleConsoleAgent is one agent's day: its live row, timeline, contacts
// handled, average handle time and time in each state.
func (s *Server) handleConsoleAgent(c echo.Context) error {
	id, err := s.consoleAccess(c)
	if err != nil {
		return err
	}
	k, name, day, err := s.agentDay(c, id)
	if err != nil {
		return err
	}
	v, err := s.consoleView(c, id)
	if err != nil {
		return err
	}
	mark := projection.DOMID("agent", k.Source, k.ID)
	v.Mode, v.Focus, v.Heading = "agent", mark, name
	var rows []templates.ConsoleRow
	for _, r := range v.Rows {
		if r.DOMID == mark {
			rows = append(rows, r)
		}
	}
	v.Rows, v.Queues = rows, nil
	dv := s.opts.Console.Day(day, time.Now(), v.Lang)
	v.Day = &dv
	v.TimelineURL = console.AgentURL(id, k) + "/day"
	return render(c, http.StatusOK, templates.ConsolePage(v))
}

// handleConsoleAgentDay is the agent's day as a fragment: the page fetches
// it again when the agent's row changes (not on a timer).
func (s *Server) handleConsoleAgentDay(c echo.Context) error {
	id, err := s.consoleAccess(c)
	if err != nil {
		return err
	}
	_, _, day, err := s.agentDay(c, id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.AgentDayFragment(s.opts.Console.Day(day, time.Now(), s.consoleLang(c, id))))
}

// handleConsoleEvents is the board's console stream.
func (s *Server) handleConsoleEvents(c echo.Context) error {
	id, err := s.consoleAccess(c)
	if err != nil {
		return err
	}
	b, _ := s.board(id)
	return s.signedInStream(c, console.LangStreamID(id, s.consoleLang(c, id), b.Lang), id, config.RoleSupervisor)
}

// Kiosk sound: a kiosk page whose link has sound reports whether the
// browser lets it play (after the one-time tap); the admin page lists the
// reports. The report is a POST without a session, so it is exempt from
// CSRF only when its path carries a valid kiosk token (kioskReport).

// soundReports are the latest report of each kiosk screen (by link name and
// address), bounded.
type soundReports struct {
	mu sync.Mutex
	m  map[string]templates.AdminSound
}

const maxSoundReports = 1000

func (r *soundReports) put(x templates.AdminSound) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]templates.AdminSound{}
	}
	k := x.Kiosk + "\x00" + x.Remote
	if _, ok := r.m[k]; !ok && len(r.m) >= maxSoundReports {
		var oldest string
		for key, v := range r.m {
			if oldest == "" || v.At.Before(r.m[oldest].At) {
				oldest = key
			}
		}
		delete(r.m, oldest)
	}
	r.m[k] = x
}

func (r *soundReports) list() []templates.AdminSound {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]templates.AdminSound, 0, len(r.m))
	for _, v := range r.m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kiosk != out[j].Kiosk {
			return out[i].Kiosk < out[j].Kiosk
		}
		return out[i].Remote < out[j].Remote
	})
	return out
}

// kioskReport reports whether path is a sound report carrying a valid
// kiosk token (/tv/{token}/sound).
func (s *Server) kioskReport(path string) bool {
	rest, ok := strings.CutPrefix(path, "/tv/")
	if !ok {
		return false
	}
	token, ok := strings.CutSuffix(rest, "/sound")
	if !ok || strings.Contains(token, "/") {
		return false
	}
	_, k, ok := s.fileKiosk(token)
	return ok && k.Sound
}

// handleKioskSound takes a kiosk screen's sound report: {"state": "enabled"
// | "blocked" | "unsupported"}.
func (s *Server) handleKioskSound(c echo.Context) error {
	_, k, ok := s.fileKiosk(c.Param("token"))
	if !ok || !k.Sound {
		return ErrNotFound
	}
	var req struct {
		State string `json:"state"`
	}
	r := c.Request()
	if err := json.NewDecoder(http.MaxBytesReader(c.Response(), r.Body, 1024)).Decode(&req); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "invalid JSON")
	}
	if !slices.Contains([]string{i18n.Key("enabled"), i18n.Key("blocked"), i18n.Key("unsupported")}, req.State) {
		return echo.NewHTTPError(http.StatusBadRequest, "state must be enabled, blocked or unsupported")
	}
	s.sound.put(templates.AdminSound{Kiosk: k.Name, Remote: s.clientAddr(r), State: req.State, At: time.Now()})
	return c.NoContent(http.StatusNoContent)
}
