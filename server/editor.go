package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/templates"
)

// The board editor: supervisors (for the boards they may see) and admins
// make, change and delete the database's boards in the browser. The form's
// field names are the board's keys (thresholds.waiting.warn), so a problem
// that check-config's rules find lands beside its field. A save goes to the
// database with the version the form was read at, then on screen at once
// (LiveBoards); the database writes the audit log.

// thresholdKind is how a threshold's levels are written.
type thresholdKind int

const (
	levelCount    thresholdKind = iota // a whole number
	levelDuration                      // "30s", "5m" (or seconds)
	levelFraction                      // "80%" or 0.8
)

var thresholdRows = []struct {
	key, label string
	kind       thresholdKind
}{
	{"waiting", "Contacts waiting", levelCount},
	{"longest_wait", "Longest wait", levelDuration},
	{"service_level", "Service level (alarm below)", levelFraction},
	{"not_ready", "Agent not ready for", levelDuration},
	{"wrap_up", "Agent in wrap-up for", levelDuration},
	{"abandon_rate", "Abandon rate", levelFraction},
	{"speed_of_answer", "Average speed of answer", levelDuration},
}

var unitOf = map[thresholdKind]string{levelCount: "contacts", levelDuration: "30s, 5m", levelFraction: "80% or 0.8"}

var tileLabels = map[string]string{"waiting": "Waiting", "longest_wait": "Longest wait", "offered": "Offered", "answered": "Answered",
	"abandoned": "Abandoned", "service_level": "Service level", "aht": "Average handle time", "available": "Available",
	"busy": "On contacts", "not_ready": "Not ready", "abandon_rate": "Abandon rate", "asa": "Average speed of answer",
	"agents_by_state": "Agents by state"}

// editorFields are the form's fields by name; a problem whose path is none
// of them goes to the nearest one above it, else to the top of the form.
var editorFields = func() []string {
	f := []string{"id", "title", "sources", "queues", "tiles", "measures", "targets", "sort", "group_by", "theme", "clock",
		"lang", "langs", "access.users", "access.roles", "access.groups", "embed_origins"}
	for _, r := range thresholdRows {
		f = append(f, "thresholds."+r.key+".warn", "thresholds."+r.key+".alarm")
	}
	return f
}()

var indexRE = regexp.MustCompile(`\[\d+\]`)

// fieldOf is the form field a problem's path belongs to ("" for none).
func fieldOf(path string) string {
	p := indexRE.ReplaceAllString(path, "")
	for p != "" {
		for _, f := range editorFields {
			if f == p || strings.HasPrefix(f, p+".") {
				return f
			}
		}
		i := strings.LastIndex(p, ".")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return ""
}

// list splits a comma- or line-separated field into its items.
func list(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
}

func trimmed(vs []string) []string {
	out := []string{}
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// boardValues writes b as the editor's form values.
func boardValues(b config.Board) url.Values {
	v := url.Values{"id": {b.ID}, "title": {b.Title}, "sources": b.Sources, "queues": b.Queues, "tiles": b.Tiles,
		"sort": {b.Sort}, "group_by": {b.GroupBy}, "theme": {b.Theme}, "clock": {b.Clock}, "lang": {b.Lang}, "langs": b.Langs,
		"access.users": {strings.Join(b.Access.Users, ", ")}, "access.roles": {strings.Join(b.Access.Roles, ", ")},
		"access.groups": {strings.Join(b.Access.Groups, ", ")}, "embed_origins": {strings.Join(b.EmbedOrigins, "\n")}}
	for i, t := range b.Tiles {
		v.Set("tile_pos."+t, strconv.Itoa(i+1))
	}
	var names []string
	for _, m := range b.Measures {
		names = append(names, m.Name)
	}
	v.Set("measures", strings.Join(names, ", "))
	if b.Targets {
		v.Set("targets", "true")
	}
	th := b.Thresholds
	set := func(key string, warn, alarm string) {
		v.Set("thresholds."+key+".warn", warn)
		v.Set("thresholds."+key+".alarm", alarm)
	}
	count := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	dur := func(d config.Duration) string {
		if d == 0 {
			return ""
		}
		return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "m0") // 1m0s → 1m
	}
	frac := func(f float64) string {
		if f == 0 {
			return ""
		}
		return strconv.FormatFloat(f*100, 'f', -1, 64) + "%"
	}
	set("waiting", count(th.Waiting.Warn), count(th.Waiting.Alarm))
	set("longest_wait", dur(th.LongestWait.Warn), dur(th.LongestWait.Alarm))
	set("service_level", frac(th.ServiceLevel.Warn), frac(th.ServiceLevel.Alarm))
	set("not_ready", dur(th.NotReady.Warn), dur(th.NotReady.Alarm))
	set("wrap_up", dur(th.WrapUp.Warn), dur(th.WrapUp.Alarm))
	set("abandon_rate", frac(th.AbandonRate.Warn), frac(th.AbandonRate.Alarm))
	set("speed_of_answer", dur(th.SpeedOfAnswer.Warn), dur(th.SpeedOfAnswer.Alarm))
	return v
}

// boardDoc builds a board document from the form's values. base is the
// board as stored (its measures keep the labels and formats the form does
// not show); problems of a value that is not even of its type come with
// the field's path.
func boardDoc(v url.Values, base config.Board) (map[string]any, config.Problems) {
	var probs config.Problems
	doc := map[string]any{"id": strings.TrimSpace(v.Get("id")), "title": strings.TrimSpace(v.Get("title")),
		"sources": trimmed(v["sources"]), "queues": trimmed(v["queues"]), "sort": v.Get("sort"), "group_by": v.Get("group_by"),
		"theme": v.Get("theme"), "clock": v.Get("clock"), "lang": v.Get("lang"), "langs": trimmed(v["langs"]),
		"targets": v.Get("targets") == "true", "embed_origins": trimmed(list(v.Get("embed_origins"))),
		"access": map[string]any{"users": trimmed(list(v.Get("access.users"))), "roles": trimmed(list(v.Get("access.roles"))),
			"groups": trimmed(list(v.Get("access.groups")))}}
	// Figures in the order of their places; a figure without one goes last.
	tiles := trimmed(v["tiles"])
	pos := func(t string) int {
		if n, err := strconv.Atoi(strings.TrimSpace(v.Get("tile_pos." + t))); err == nil {
			return n
		}
		return 1 << 20
	}
	sort.SliceStable(tiles, func(i, j int) bool { return pos(tiles[i]) < pos(tiles[j]) })
	doc["tiles"] = tiles
	kept := map[string]config.Measure{}
	for _, m := range base.Measures {
		kept[m.Name] = m
	}
	measures := []any{}
	for _, name := range trimmed(list(v.Get("measures"))) {
		if m, ok := kept[name]; ok {
			measures = append(measures, m)
		} else {
			measures = append(measures, name)
		}
	}
	doc["measures"] = measures
	th := map[string]any{}
	for _, r := range thresholdRows {
		lv := map[string]any{}
		for _, level := range []string{"warn", "alarm"} {
			path := "thresholds." + r.key + "." + level
			s := strings.TrimSpace(v.Get(path))
			if s == "" {
				continue
			}
			switch r.kind {
			case levelCount:
				n, err := strconv.Atoi(s)
				if err != nil {
					probs = append(probs, path+": must be a whole number, not "+strconv.Quote(s))
					continue
				}
				lv[level] = n
			case levelDuration:
				if _, err := strconv.ParseFloat(s, 64); err != nil {
					if _, err := time.ParseDuration(s); err != nil {
						probs = append(probs, path+": "+strconv.Quote(s)+" is not a duration (like 30s or 5m)")
						continue
					}
				}
				lv[level] = s
			case levelFraction:
				pct := strings.HasSuffix(s, "%")
				f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
				if err != nil {
					probs = append(probs, path+": must be a percentage like 80% (or a fraction like 0.8), not "+strconv.Quote(s))
					continue
				}
				if pct || f > 1 {
					f /= 100
				}
				lv[level] = f
			}
		}
		th[r.key] = lv
	}
	doc["thresholds"] = th
	return doc, probs
}

// checkForm turns the form into a board checked with check-config's rules,
// with its document for the database. others are the ids of the other
// boards.
func (s *Server) checkForm(v url.Values, base config.Board, others []string) (config.Board, json.RawMessage, config.Problems) {
	doc, probs := boardDoc(v, base)
	raw, err := json.Marshal(doc)
	if err != nil {
		return config.Board{}, nil, config.Problems{"(body): " + err.Error()}
	}
	b, more := config.ParseBoard(raw)
	probs = append(probs, more...)
	if len(probs) > 0 {
		return b, nil, probs
	}
	b, probs = s.cfg.CheckBoard(b, others)
	if len(probs) > 0 {
		return b, nil, probs
	}
	out, err := config.BoardJSON(b)
	if err != nil {
		return b, nil, config.Problems{"(body): " + err.Error()}
	}
	return b, out, nil
}

// otherIDs are the ids of every board but id: the file's and the database's.
func (s *Server) otherIDs(ctx context.Context, id string) ([]string, error) {
	var out []string
	for _, b := range s.cfg.Boards {
		if b.ID != id {
			out = append(out, b.ID)
		}
	}
	stored, err := s.opts.BoardStore.Boards(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range stored {
		if b.ID != id {
			out = append(out, b.ID)
		}
	}
	return out, nil
}

// editorView is the editor's page for the form values v.
func (s *Server) editorView(c echo.Context, v url.Values, isNew, readOnly bool, version int64) templates.BoardEditor {
	id := v.Get("id")
	e := templates.BoardEditor{New: isNew, ReadOnly: readOnly, ID: id, Version: version, Title: v.Get("title"),
		Measures: v.Get("measures"), Targets: v.Get("targets") == "true", Sort: v.Get("sort"), GroupBy: v.Get("group_by"),
		Theme: v.Get("theme"), Clock: v.Get("clock"), Lang: v.Get("lang"), EmbedOrigins: v.Get("embed_origins"),
		AccessUsers: v.Get("access.users"), AccessRoles: v.Get("access.roles"), AccessGroups: v.Get("access.groups"),
		Errors: map[string]string{}, CSRF: s.csrfToken(c.Request().Context()), Assets: s.templAssets(),
		Script: s.assets.URL("editor.js"), PreviewURL: "/editor/preview?" + v.Encode(), Action: "/editor"}
	if !isNew {
		base := "/boards/" + url.PathEscape(id)
		e.Action, e.BoardURL = base+"/edit", base
		if !readOnly {
			e.DeleteURL = base + "/delete"
		}
	}
	picked := func(key string) map[string]bool {
		m := map[string]bool{}
		for _, x := range v[key] {
			m[x] = true
		}
		return m
	}
	// Sources and queues: what the model knows now, and what the board
	// names that it does not (kept, so a save loses nothing).
	srcs := picked("sources")
	status := map[string]string{}
	for _, st := range s.opts.Sources() {
		status[st.Name] = string(st.Status)
	}
	for _, sc := range s.cfg.Sources {
		label := sc.Name + " (" + sc.Type
		if st := status[sc.Name]; st != "" {
			label += ", " + st
		}
		e.Sources = append(e.Sources, templates.EditorChoice{Value: sc.Name, Label: label + ")", Checked: srcs[sc.Name]})
		delete(srcs, sc.Name)
	}
	for _, name := range slices.Sorted(mapKeys(srcs)) {
		e.Sources = append(e.Sources, templates.EditorChoice{Value: name, Label: name + " (unknown)", Checked: true})
	}
	qs := picked("queues")
	if s.opts.Floor != nil {
		if snap, err := s.opts.Floor.Snapshot(c.Request().Context()); err == nil {
			for _, q := range snap.Queues {
				name := q.Name
				if name == "" {
					name = q.ID
				}
				e.Queues = append(e.Queues, templates.EditorChoice{Value: q.ID, Label: name + " (" + q.Source + ")", Checked: qs[q.ID] || qs[q.Name]})
				delete(qs, q.ID)
				delete(qs, q.Name)
			}
		}
	}
	for _, name := range slices.Sorted(mapKeys(qs)) {
		e.Queues = append(e.Queues, templates.EditorChoice{Value: name, Label: name + " (not seen yet)", Checked: true})
	}
	// Figures: the board's in their order, then the others.
	on := trimmed(v["tiles"])
	for _, t := range on {
		e.Tiles = append(e.Tiles, templates.TileChoice{Name: t, Label: tileLabels[t], On: true, Pos: v.Get("tile_pos." + t)})
	}
	for _, t := range config.KnownTiles {
		if !slices.Contains(on, t) {
			e.Tiles = append(e.Tiles, templates.TileChoice{Name: t, Label: tileLabels[t], Pos: v.Get("tile_pos." + t)})
		}
	}
	for _, r := range thresholdRows {
		e.Thresholds = append(e.Thresholds, templates.ThresholdRow{Key: r.key, Label: r.label, Unit: unitOf[r.kind],
			Warn: v.Get("thresholds." + r.key + ".warn"), Alarm: v.Get("thresholds." + r.key + ".alarm")})
	}
	langs := picked("langs")
	for _, l := range []struct{ v, label string }{{"en", "English"}, {"de", "Deutsch"}, {"fr", "Français"}, {"es", "Español"}} {
		e.Langs = append(e.Langs, templates.EditorChoice{Value: l.v, Label: l.label, Checked: langs[l.v]})
	}
	return e
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// withProblems puts each problem beside its field.
func withProblems(e *templates.BoardEditor, probs config.Problems) {
	for _, p := range probs {
		path, msg, _ := strings.Cut(p, ": ")
		if f := fieldOf(path); f != "" {
			if e.Errors[f] == "" {
				e.Errors[f] = msg
			}
			continue
		}
		e.General = append(e.General, p)
	}
}

// renderEditor answers with the editor; its page frames the preview.
func (s *Server) renderEditor(c echo.Context, status int, e templates.BoardEditor) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", csp(templ.GetNonce(c.Request().Context()), nil)+"; frame-src 'self'")
	return render(c, status, templates.Editor(e))
}

// editorUser is the signed-in supervisor or admin making a new board.
func (s *Server) editorUser(c echo.Context) (Principal, error) {
	p, ok := s.principal(c.Request())
	if !ok {
		return Principal{}, ErrUnauthorized
	}
	if !p.Has(config.RoleSupervisor) {
		return p, ErrForbidden
	}
	return p, nil
}

// newBoardValues are a new board's defaults.
func newBoardValues() url.Values {
	v := boardValues(config.Board{Tiles: config.DefaultTiles, Sort: "name", Theme: "dark", Clock: "24h", Lang: "en"})
	return v
}

func (s *Server) handleEditorNew(c echo.Context) error {
	if _, err := s.editorUser(c); err != nil {
		return err
	}
	return s.renderEditor(c, http.StatusOK, s.editorView(c, newBoardValues(), true, false, 0))
}

func (s *Server) handleEditorCreate(c echo.Context) error {
	p, err := s.editorUser(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	v, _ := c.FormParams()
	others, err := s.otherIDs(ctx, "")
	if err != nil {
		return err
	}
	b, doc, probs := s.checkForm(v, config.Board{}, others)
	e := s.editorView(c, v, true, false, 0)
	if len(probs) > 0 {
		withProblems(&e, probs)
		return s.renderEditor(c, http.StatusBadRequest, e)
	}
	if _, err := s.opts.BoardStore.CreateBoard(ctx, "user:"+p.User, b.ID, doc); err != nil {
		if errors.Is(err, database.ErrExists) {
			withProblems(&e, config.Problems{"id: a board with id " + b.ID + " exists"})
			return s.renderEditor(c, http.StatusConflict, e)
		}
		return err
	}
	s.log.Info("board created", "board", b.ID, "by", p.User)
	s.onScreen(c, b, "")
	return c.Redirect(http.StatusSeeOther, "/boards/"+url.PathEscape(b.ID)+"/edit?saved=1")
}

// editedBoard resolves the board of the route's :id for its editor: the
// user must supervise it. A board of the file is found with stored false.
func (s *Server) editedBoard(c echo.Context) (Principal, *config.Board, *database.Board, error) {
	p, b, err := s.boardAccess(c, config.RoleSupervisor)
	if err != nil {
		return p, nil, nil, err
	}
	if _, ok := s.cfg.Board(b.ID); ok {
		return p, b, nil, nil
	}
	stored, err := s.opts.BoardStore.Board(c.Request().Context(), b.ID)
	if errors.Is(err, database.ErrNotFound) {
		return p, nil, nil, ErrNotFound
	}
	if err != nil {
		return p, nil, nil, err
	}
	return p, b, &stored, nil
}

func (s *Server) handleEditor(c echo.Context) error {
	_, b, stored, err := s.editedBoard(c)
	if err != nil {
		return err
	}
	var e templates.BoardEditor
	if stored == nil {
		e = s.editorView(c, boardValues(*b), false, true, 0)
	} else {
		e = s.editorView(c, boardValues(*b), false, false, stored.Version)
	}
	if c.QueryParam("saved") == "1" {
		e.Saved = "Saved: every screen of this board shows it now."
	}
	return s.renderEditor(c, http.StatusOK, e)
}

// changedBy is the version rule's answer in words.
func (s *Server) changedBy(ce *database.ConflictError) string {
	loc := s.cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	return fmt.Sprintf("Changed by %s at %s, reload: your changes are still in this form; reload the board in another tab, then apply them again.",
		strings.TrimPrefix(ce.By, "user:"), ce.At.In(loc).Format("15:04"))
}

func (s *Server) handleEditorSave(c echo.Context) error {
	p, b, stored, err := s.editedBoard(c)
	if err != nil {
		return err
	}
	if stored == nil {
		return &pageError{status: http.StatusConflict, title: "Defined in the configuration file",
			msg: "Board " + b.ID + " is defined in the configuration file: change it there."}
	}
	ctx := c.Request().Context()
	v, _ := c.FormParams()
	v.Set("id", b.ID) // a board cannot be renamed
	version, _ := strconv.ParseInt(v.Get("version"), 10, 64)
	others, err := s.otherIDs(ctx, b.ID)
	if err != nil {
		return err
	}
	nb, doc, probs := s.checkForm(v, *b, others)
	e := s.editorView(c, v, false, false, version)
	if len(probs) > 0 {
		withProblems(&e, probs)
		return s.renderEditor(c, http.StatusBadRequest, e)
	}
	saved, err := s.opts.BoardStore.UpdateBoard(ctx, "user:"+p.User, b.ID, version, doc)
	var ce *database.ConflictError
	if errors.As(err, &ce) {
		e.Conflict = s.changedBy(ce)
		return s.renderEditor(c, http.StatusConflict, e)
	}
	if errors.Is(err, database.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	s.log.Info("board changed", "board", b.ID, "by", p.User, "version", saved.Version)
	s.onScreen(c, nb, "")
	return c.Redirect(http.StatusSeeOther, "/boards/"+url.PathEscape(b.ID)+"/edit?saved=1")
}

// handleEditorPreview renders the board of the form's values (its query)
// as a page would show it now, without a stream, for the editor's frame.
func (s *Server) handleEditorPreview(c echo.Context) error {
	if _, err := s.editorUser(c); err != nil {
		return err
	}
	v := c.QueryParams()
	if strings.TrimSpace(v.Get("id")) == "" {
		v.Set("id", "preview")
	}
	b, _, _ := s.checkForm(v, config.Board{}, nil)
	if len(b.Tiles) == 0 {
		b.Tiles = config.DefaultTiles
	}
	view := s.opts.LiveBoards.Preview(b)
	view.Preview = true
	view.Heartbeat = s.cfg.Heartbeat.D()
	view.Assets = s.templAssets()
	allowFraming(c, []string{"'self'"})
	return render(c, http.StatusOK, templates.BoardPage(view))
}

func (s *Server) handleDeleteConfirm(c echo.Context) error {
	_, b, stored, err := s.editedBoard(c)
	if err != nil {
		return err
	}
	if stored == nil {
		return &pageError{status: http.StatusConflict, title: "Defined in the configuration file",
			msg: "Board " + b.ID + " is defined in the configuration file: remove it there."}
	}
	return render(c, http.StatusOK, templates.DeleteBoard(templates.BoardDelete{ID: b.ID, Title: b.Title, Version: stored.Version,
		CSRF: s.csrfToken(c.Request().Context()), Assets: s.templAssets()}))
}

func (s *Server) handleDeleteBoardForm(c echo.Context) error {
	p, b, stored, err := s.editedBoard(c)
	if err != nil {
		return err
	}
	if stored == nil {
		return &pageError{status: http.StatusConflict, title: "Defined in the configuration file",
			msg: "Board " + b.ID + " is defined in the configuration file: remove it there."}
	}
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	if version < 1 {
		version = stored.Version
	}
	err = s.opts.BoardStore.DeleteBoard(c.Request().Context(), "user:"+p.User, b.ID, version)
	var ce *database.ConflictError
	if errors.As(err, &ce) {
		return &pageError{status: http.StatusConflict, title: "Changed meanwhile", msg: s.changedBy(ce)}
	}
	if err != nil && !errors.Is(err, database.ErrNotFound) {
		return err
	}
	s.log.Info("board deleted", "board", b.ID, "by", p.User)
	s.onScreen(c, config.Board{}, b.ID)
	return c.Redirect(http.StatusSeeOther, "/")
}
