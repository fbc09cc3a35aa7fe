package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/database"
)

// BoardStore keeps the boards made through the API (internal/database).
type BoardStore interface {
	Boards(ctx context.Context) ([]database.Board, error)
	Board(ctx context.Context, id string) (database.Board, error)
	CreateBoard(ctx context.Context, actor, id string, doc json.RawMessage) (database.Board, error)
	UpdateBoard(ctx context.Context, actor, id string, version int64, doc json.RawMessage) (database.Board, error)
	DeleteBoard(ctx context.Context, actor, id string, version int64) error
}

// Boards through the API: GET for any API token, changes for admin-scope
// tokens. The file's boards are listed with "origin": "file" and cannot be
// changed here.

// maxBoardBody bounds a board document in a request.
const maxBoardBody = 64 << 10

// apiCaller returns the API token a request carries: its name, scope and
// whether there is one. Every configured token is compared, in constant time.
func (s *Server) apiCaller(r *http.Request) (config.APIToken, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return config.APIToken{}, false
	}
	var found config.APIToken
	match := 0
	for _, t := range s.cfg.APITokens {
		if subtle.ConstantTimeCompare([]byte(tok), []byte(t.Token.Reveal())) == 1 {
			found, match = t, 1
		}
	}
	return found, match == 1
}

// bearerAPI reports whether r is an API call that carries a bearer token:
// its credential is that token, which no browser sends by itself, so it
// needs no CSRF token (an invalid one is refused by the handler).
func bearerAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// boardsCaller authorizes a request to the boards API: admin for changes.
func (s *Server) boardsCaller(c echo.Context, change bool) (string, error) {
	t, ok := s.apiCaller(c.Request())
	if !ok {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="wallboard"`)
		return "", ErrUnauthorized
	}
	if change && !t.Admin() {
		return "", apiError(http.StatusForbidden, "this API token may only read: changes need a token with scope: admin")
	}
	return "token:" + t.Name, nil
}

// apiErr is an API answer other than success: {"error": …}, with more fields.
type apiErr struct {
	status int
	body   map[string]any
}

func (e *apiErr) Error() string { return fmt.Sprint(e.body["error"]) }

func apiError(status int, msg string) *apiErr {
	return &apiErr{status: status, body: map[string]any{"error": msg}}
}

// problemsError is the 400 of a board that breaks check-config's rules.
func problemsError(probs config.Problems) *apiErr {
	type item struct {
		Path    string `json:"path"`
		Message string `json:"message"`
	}
	items := []item{}
	for _, p := range probs {
		path, msg, _ := strings.Cut(p, ": ")
		items = append(items, item{path, msg})
	}
	return &apiErr{status: http.StatusBadRequest, body: map[string]any{"error": "invalid board", "errors": items}}
}

// answer writes err as the API's JSON, or hands other errors on.
func answer(c echo.Context, err error) error {
	var ae *apiErr
	if errors.As(err, &ae) {
		return c.JSON(ae.status, ae.body)
	}
	return err
}

// boardOut is a board as the API shows it: the file's keys, origin and
// version.
func boardOut(doc json.RawMessage, origin string, version int64) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("failed to read a stored board: %w", err)
	}
	m["origin"], m["version"] = origin, version
	return m, nil
}

func (s *Server) fileBoardOut(b config.Board) (map[string]any, error) {
	doc, err := config.BoardJSON(b)
	if err != nil {
		return nil, err
	}
	return boardOut(doc, "file", 0)
}

func (s *Server) handleListBoards(c echo.Context) error {
	if _, err := s.boardsCaller(c, false); err != nil {
		return answer(c, err)
	}
	out := []map[string]any{}
	for _, b := range s.cfg.Boards {
		m, err := s.fileBoardOut(b)
		if err != nil {
			return err
		}
		out = append(out, m)
	}
	stored, err := s.opts.BoardStore.Boards(c.Request().Context())
	if err != nil {
		return err
	}
	for _, b := range stored {
		m, err := boardOut(b.Document, b.Origin(), b.Version)
		if err != nil {
			return err
		}
		out = append(out, m)
	}
	return c.JSON(http.StatusOK, map[string]any{"boards": out})
}

func (s *Server) handleGetBoard(c echo.Context) error {
	if _, err := s.boardsCaller(c, false); err != nil {
		return answer(c, err)
	}
	id := c.Param("id")
	if b, ok := s.cfg.Board(id); ok {
		m, err := s.fileBoardOut(*b)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, m)
	}
	b, err := s.opts.BoardStore.Board(c.Request().Context(), id)
	if errors.Is(err, database.ErrNotFound) {
		return answer(c, apiError(http.StatusNotFound, "no board has id "+id))
	}
	if err != nil {
		return err
	}
	m, err := boardOut(b.Document, b.Origin(), b.Version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

// readBoard reads and checks a board document from the request body. Keys
// the API adds ("origin", "version") are taken out first; version is
// returned (0 when absent).
func (s *Server) readBoard(c echo.Context, id string) (config.Board, json.RawMessage, int64, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxBoardBody))
	if err != nil {
		return config.Board{}, nil, 0, apiError(http.StatusRequestEntityTooLarge, fmt.Sprintf("a board is at most %d KB", maxBoardBody>>10))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return config.Board{}, nil, 0, problemsError(config.Problems{"(body): must be a JSON object with a board's keys"})
	}
	var version int64
	if v, ok := m["version"]; ok {
		if err := json.Unmarshal(v, &version); err != nil || version < 1 {
			return config.Board{}, nil, 0, problemsError(config.Problems{"version: must be the integer version the board was read at"})
		}
	}
	delete(m, "version")
	delete(m, "origin")
	if _, ok := m["kiosk"]; ok {
		return config.Board{}, nil, 0, problemsError(config.Problems{"kiosk: TV links of a board made here are made with POST /api/v1/boards/{id}/links"})
	}
	if id != "" { // PUT: the id is the path's
		if raw, ok := m["id"]; ok {
			var bid string
			if json.Unmarshal(raw, &bid) != nil || bid != id {
				return config.Board{}, nil, 0, problemsError(config.Problems{"id: must be the board's id, " + id + " (a board cannot be renamed)"})
			}
		}
		m["id"], _ = json.Marshal(id)
	}
	clean, _ := json.Marshal(m)
	b, probs := config.ParseBoard(clean)
	if len(probs) > 0 {
		return config.Board{}, nil, 0, problemsError(probs)
	}
	if _, ok := s.cfg.Board(b.ID); ok {
		return config.Board{}, nil, 0, fileBoardError(b.ID)
	}
	// The other boards' ids: the file's and the stored ones.
	var others []string
	for _, fb := range s.cfg.Boards {
		others = append(others, fb.ID)
	}
	stored, err := s.opts.BoardStore.Boards(c.Request().Context())
	if err != nil {
		return config.Board{}, nil, 0, err
	}
	for _, sb := range stored {
		if sb.ID != b.ID {
			others = append(others, sb.ID)
		}
	}
	b, probs = s.cfg.CheckBoard(b, others)
	if len(probs) > 0 {
		return config.Board{}, nil, 0, problemsError(probs)
	}
	doc, err := config.BoardJSON(b)
	if err != nil {
		return config.Board{}, nil, 0, err
	}
	return b, doc, version, nil
}

func fileBoardError(id string) *apiErr {
	e := apiError(http.StatusConflict, "board "+id+" is defined in the configuration file: change it there")
	e.body["origin"] = "file"
	return e
}

func conflictError(err error) error {
	var ce *database.ConflictError
	if errors.As(err, &ce) {
		e := apiError(http.StatusConflict, fmt.Sprintf("changed by %s at %s, reload", ce.By, ce.At.UTC().Format("15:04")))
		e.body["changed_by"], e.body["changed_at"], e.body["version"] = ce.By, ce.At.UTC().Format(time.RFC3339), ce.Version
		return e
	}
	return err
}

func (s *Server) handleCreateBoard(c echo.Context) error {
	actor, err := s.boardsCaller(c, true)
	if err != nil {
		return answer(c, err)
	}
	b, doc, _, err := s.readBoard(c, "")
	if err != nil {
		return answer(c, err)
	}
	stored, err := s.opts.BoardStore.CreateBoard(c.Request().Context(), actor, b.ID, doc)
	if errors.Is(err, database.ErrExists) {
		return answer(c, apiError(http.StatusConflict, "a board with id "+b.ID+" exists"))
	}
	if err != nil {
		return err
	}
	s.log.Info("board created", "board", b.ID, "by", actor)
	s.onScreen(c, b, "")
	m, err := boardOut(stored.Document, stored.Origin(), stored.Version)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/boards/"+b.ID)
	return c.JSON(http.StatusCreated, m)
}

func (s *Server) handleUpdateBoard(c echo.Context) error {
	actor, err := s.boardsCaller(c, true)
	if err != nil {
		return answer(c, err)
	}
	id := c.Param("id")
	if _, ok := s.cfg.Board(id); ok {
		return answer(c, fileBoardError(id))
	}
	b, doc, version, err := s.readBoard(c, id)
	if err != nil {
		return answer(c, err)
	}
	if version == 0 {
		return answer(c, problemsError(config.Problems{"version: missing: send the version the board was read at"}))
	}
	stored, err := s.opts.BoardStore.UpdateBoard(c.Request().Context(), actor, b.ID, version, doc)
	if errors.Is(err, database.ErrNotFound) {
		return answer(c, apiError(http.StatusNotFound, "no board has id "+id))
	}
	if err != nil {
		return answer(c, conflictError(err))
	}
	s.log.Info("board changed", "board", id, "by", actor, "version", stored.Version)
	s.onScreen(c, b, "")
	m, err := boardOut(stored.Document, stored.Origin(), stored.Version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

func (s *Server) handleDeleteBoard(c echo.Context) error {
	actor, err := s.boardsCaller(c, true)
	if err != nil {
		return answer(c, err)
	}
	id := c.Param("id")
	if _, ok := s.cfg.Board(id); ok {
		return answer(c, fileBoardError(id))
	}
	// ?version=N deletes only that version; without it, whatever is stored.
	var version int64
	if v := c.QueryParam("version"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return answer(c, problemsError(config.Problems{"version: must be a positive integer"}))
		}
		version = n
	}
	err = s.opts.BoardStore.DeleteBoard(c.Request().Context(), actor, id, version)
	if errors.Is(err, database.ErrNotFound) {
		return answer(c, apiError(http.StatusNotFound, "no board has id "+id))
	}
	if err != nil {
		return answer(c, conflictError(err))
	}
	s.log.Info("board deleted", "board", id, "by", actor)
	s.onScreen(c, config.Board{}, id)
	return c.NoContent(http.StatusNoContent)
}

// onScreen applies a change the database has taken to the screens at once:
// b made or changed, or board removed taken off. The change is kept even
// when the client has gone meanwhile; should the screens not take it (the
// server is stopping), the next start shows what the database holds.
func (s *Server) onScreen(c echo.Context, b config.Board, removed string) {
	if s.opts.LiveBoards == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 10*time.Second)
	defer cancel()
	var err error
	if removed != "" {
		err = s.opts.LiveBoards.RemoveBoard(ctx, removed)
	} else {
		err = s.opts.LiveBoards.PutBoard(ctx, b)
	}
	if err != nil {
		s.log.Error("failed to apply a board change to the screens", "board", b.ID+removed, "error", err)
	}
}
