package server

import (
	"bytes"
	"net/http"
	"net/url"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/board"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/templates"
)

// BoardViews renders boards for page loads (board.Projector).
type BoardViews interface {
	// View is board stream id (a board, or a variant hiding names) as a
	// page shows it.
	View(stream string) (templates.Board, bool)
	// Counts is how many agents and queues board id shows.
	Counts(id string) (agents, queues int)
	// Summary is board id's live state in a few figures (the board list),
	// formatted for lang.
	Summary(id, lang string) templates.BoardSummary
	// Ticker is the ticker message of the board of stream id.
	Ticker(id string) string
	// BoardQueues is the queues board id shows.
	BoardQueues(id string) []model.Queue
}

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
	p, ok := s.principal(c.Request())
	if !ok {
		return ErrUnauthorized
	}
	lang := viewerLang(c.Request())
	var links []templates.BoardLink
	for _, b := range s.boards() {
		if !s.canSee(p, b.ID) {
			continue
		}
		agents, queues := s.opts.Boards.Counts(b.ID)
		base := "/boards/" + url.PathEscape(b.ID)
		link := templates.BoardLink{ID: b.ID, Title: b.Title, URL: base, Agents: agents, Queues: queues,
			Live: s.opts.Boards.Summary(b.ID, lang)}
		for _, k := range b.Kiosk {
			link.TVs = append(link.TVs, k.Name)
		}
		if s.opts.Links != nil { // the TV links made in the browser (links.go)
			ls, err := s.opts.Links.Links(c.Request().Context(), b.ID)
			if err != nil {
				return err
			}
			for _, l := range ls {
				link.TVs = append(link.TVs, l.Name)
			}
		}
		if s.canSupervise(c.Request(), b.ID) {
			link.Console, link.Settings, link.Links = base+"/console", base+"/settings", base+"/links"
			if s.editorOn() {
				link.Edit = base + "/edit"
			}
		}
		links = append(links, link)
	}
	page := templates.IndexPage{Boards: links, Lang: lang}
	if s.isAdmin(c.Request()) {
		page.Admin = "/admin"
	}
	if s.editorOn() && p.Has(config.RoleSupervisor) {
		page.NewBoard = "/editor"
	}
	return render(c, http.StatusOK, templates.Index(page, s.templAssets()))
}

// viewerLang is the language of a page that is not a board (board list,
// console, admin, settings, sign-in, errors): the best of the catalogues
// for the browser's Accept-Language, English when none fits.
func viewerLang(r *http.Request) string { return i18n.Match(r.Header.Get("Accept-Language")) }

func (s *Server) handleBoardPage(c echo.Context) error {
	r := c.Request()
	p, b, err := s.boardAccess(c, config.RoleViewer)
	if err != nil {
		return err
	}
	id := b.ID
	stream, lang := s.viewerStream(c, b, i18n.Match(r.Header.Get("Accept-Language")))
	q := url.Values{}
	if stream != id {
		q.Set("lang", lang)
	}
	return s.boardPage(c, id, stream, "/boards/"+url.PathEscape(id)+"/events", q, false, func(v *templates.Board) {
		ctx := r.Context()
		if s.sessions.GetString(ctx, keyUser) == "" {
			return // the demo's loopback visitor: no account, no bar
		}
		v.Chrome = templates.Chrome{User: p.Name(), Role: p.Role, CSRF: s.csrfToken(ctx)}
		if p.Has(config.RoleSupervisor) {
			v.Chrome.SettingsURL = "/boards/" + url.PathEscape(id) + "/settings"
		}
	})
}

// viewerStream is the stream of board b in the language a viewer asks for
// (?lang=, else the browser's preferred one, fallback): a variant the board
// renders in that language (langs, or a TV link's lang), else the board.
func (s *Server) viewerStream(c echo.Context, b *config.Board, fallback string) (stream, lang string) {
	lang = c.QueryParam("lang")
	if lang == "" {
		lang = fallback
	}
	if key := board.VariantKey("", lang, b.Lang); key != "" {
		_, ok := s.opts.Streams.Lookup(board.VariantID(b.ID, key))
		if ok && s.opts.LiveBoards != nil {
			ok = s.opts.LiveBoards.HasStream(board.VariantID(b.ID, key)) // a language a changed board no longer has
		}
		if ok {
			return board.VariantID(b.ID, key), lang
		}
	}
	return b.ID, b.Lang
}

// boardPage renders board id from hub stream (the board, or a variant with
// hidden names) with the id of the stream's latest event, so the page's
// first connect continues exactly from what it shows. The board's embed
// origins may frame it; ?embed=1 leaves out the page chrome.
func (s *Server) boardPage(c echo.Context, id, stream, events string, q url.Values, kiosk bool, extra func(*templates.Board)) error {
	b, ok := s.board(id)
	if !ok {
		return ErrNotFound
	}
	topic, ok := s.opts.Streams.Lookup(stream)
	if !ok {
		return ErrNotFound
	}
	eventID := topic.EventID() // before the view: the view is at least as new
	view, ok := s.opts.Boards.View(stream)
	if !ok {
		return ErrNotFound
	}
	view.Kiosk = kiosk
	view.Embed = c.QueryParam("embed") == "1"
	q.Set("since", eventID)
	view.EventsURL = events + "?" + q.Encode()
	view.Ticker = s.opts.Boards.Ticker(id)
	view.Heartbeat = s.cfg.Heartbeat.D()
	view.Assets = s.templAssets()
	if extra != nil {
		extra(&view)
	}
	var origins []string
	for _, o := range b.EmbedOrigins {
		origins = append(origins, config.Origin(o))
	}
	allowFraming(c, origins)
	return render(c, http.StatusOK, templates.BoardPage(view))
}

// editorOn reports whether boards can be made and changed in the browser.
func (s *Server) editorOn() bool { return s.opts.BoardStore != nil && s.opts.LiveBoards != nil }
