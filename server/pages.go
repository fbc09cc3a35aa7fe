package server

import (
	"bytes"
	"net/http"
	"net/url"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/templates"
)

// render writes a templ component as the whole answer. It renders into a
// buffer first, so a failed render becomes a clean error page.
func render(c echo.Context, status int, t templ.Component) error {
	var buf bytes.Buffer
	if err := t.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set("Cache-Control", "no-store")
	return c.Blob(status, echo.MIMETextHTMLCharsetUTF8, buf.Bytes())
}

func (s *Server) handleIndex(c echo.Context) error {
	if !s.viewer(c.Request()) {
		return ErrUnauthorized
	}
	var links []templates.BoardLink
	for _, b := range s.opts.Projector.Boards() {
		agents, queues := s.opts.Projector.Counts(b.Def.ID)
		links = append(links, templates.BoardLink{ID: b.Def.ID, Title: b.Def.Title, URL: "/boards/" + url.PathEscape(b.Def.ID),
			Agents: agents, Queues: queues})
	}
	return render(c, http.StatusOK, templates.Index(links, s.templAssets()))
}

func (s *Server) handleBoardPage(c echo.Context) error {
	if !s.viewer(c.Request()) {
		return ErrUnauthorized
	}
	id := c.Param("id")
	return s.boardPage(c, id, "/boards/"+url.PathEscape(id)+"/events", false)
}

func (s *Server) handleKioskPage(c echo.Context) error {
	id, _, ok := s.kioskBoard(c.Param("token"))
	if !ok {
		return ErrNotFound
	}
	return s.boardPage(c, id, "/tv/"+url.PathEscape(c.Param("token"))+"/events", true)
}

// boardPage renders board id with the id of the stream's latest event, so
// the page's first connect continues exactly from what it shows.
func (s *Server) boardPage(c echo.Context, id, events string, kiosk bool) error {
	topic, ok := s.opts.Streams.Lookup(id)
	if !ok {
		return ErrNotFound
	}
	eventID := topic.EventID() // before the view: the view is at least as new
	view, ok := s.opts.Projector.View(id)
	if !ok {
		return ErrNotFound
	}
	view.Kiosk = kiosk
	view.EventsURL = events + "?since=" + url.QueryEscape(eventID)
	view.Heartbeat = s.cfg.Heartbeat.D()
	view.Assets = s.templAssets()
	return render(c, http.StatusOK, templates.BoardPage(view))
}
