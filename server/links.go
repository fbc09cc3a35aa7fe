package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/templates"
)

// TV links made in the browser or the API live in the database: only a
// hash of the token is kept, the token is shown once (with a QR code to
// open it on a TV), and revoking a link ends its open streams at once
// (linkwatch.go). The file's links (kiosk: in YAML) keep working and are
// listed beside them, read-only.

// LinkStore keeps TV links (internal/database).
type LinkStore interface {
	CreateLinkNames(ctx context.Context, actor, board, name, names string) (database.Link, string, error)
	LinkByToken(ctx context.Context, token string) (database.Link, error)
	Links(ctx context.Context, board string) ([]database.Link, error)
	RevokeLink(ctx context.Context, actor, board, name string) (database.Link, error)
	TouchLinks(ctx context.Context, visits []database.LinkVisit) error
	RevokedLinks(ctx context.Context, ids []int64) ([]int64, error)
}

// linkNameRE is what a link's name may be: it is a part of the API's paths.
var linkNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// nameModes are the ways a TV shows agents' names.
var nameModes = []string{config.NamesFull, config.NamesInitials, config.NamesNone}

// errRevoked answers a revoked TV link: the TV's page says so (the page
// script reloads into it when its stream is refused, wallboard.js).
var errRevoked = &pageError{status: http.StatusNotFound, title: "This link was revoked",
	msg: "This TV link was revoked by a supervisor or an administrator. Ask them for a new link."}

// kioskEntry returns the board and kiosk link a token opens: a link of the
// file (compared in constant time with every configured token), else one
// of the database (by the hash of the token), with its id.
func (s *Server) kioskEntry(ctx context.Context, token string) (*config.Board, *config.Kiosk, int64, error) {
	if b, k, ok := s.fileKiosk(token); ok {
		return b, k, 0, nil
	}
	if s.opts.Links == nil || token == "" || len(token) > 256 {
		return nil, nil, 0, ErrNotFound
	}
	l, err := s.opts.Links.LinkByToken(ctx, token)
	switch {
	case errors.Is(err, database.ErrRevoked):
		return nil, nil, 0, errRevoked
	case errors.Is(err, database.ErrNotFound):
		return nil, nil, 0, ErrNotFound
	case err != nil:
		return nil, nil, 0, err
	}
	b, ok := s.board(l.Board) // the file's or the database's, as on screen now
	if !ok {
		return nil, nil, 0, ErrNotFound
	}
	shift := config.Duration(2 * time.Minute) // the file's defaults (config.validateSecurity)
	k := &config.Kiosk{Name: l.Name, KioskOptions: config.KioskOptions{Names: l.Names, RotateEvery: config.Duration(30 * time.Second), PixelShift: &shift}}
	return b, k, l.ID, nil
}

// linkCaller authorizes a change to board id's links: an admin-scope API
// token, an admin, or a supervisor who may see the board. It returns the
// actor the audit log names; as for boards, an unknown board is a 404 once
// the caller is known (notFound).
func (s *Server) linkCaller(c echo.Context, id string, notFound error) (string, error) {
	r := c.Request()
	known, err := s.boardKnown(r.Context(), id)
	if err != nil {
		return "", err
	}
	if bearerAPI(r) {
		t, ok := s.apiCaller(r)
		if !ok {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="wallboard"`)
			return "", ErrUnauthorized
		}
		if !t.Admin() {
			return "", apiError(http.StatusForbidden, "this API token may only read: TV links need a token with scope: admin")
		}
		if !known {
			return "", notFound
		}
		return "token:" + t.Name, nil
	}
	p, ok := s.principal(r)
	if !ok {
		return "", ErrUnauthorized
	}
	if !known {
		return "", notFound
	}
	if !p.Has(config.RoleAdmin) && !(p.Has(config.RoleSupervisor) && s.canSee(p, id)) {
		return "", ErrForbidden
	}
	return "user:" + p.User, nil
}

// boardKnown reports whether board id exists: in the file or, made in the
// browser or the API, in the database.
func (s *Server) boardKnown(ctx context.Context, id string) (bool, error) {
	if _, ok := s.cfg.Board(id); ok {
		return true, nil
	}
	if s.opts.BoardStore == nil {
		return false, nil
	}
	_, err := s.opts.BoardStore.Board(ctx, id)
	if errors.Is(err, database.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// linkRow is a link as the API and the page show it.
type linkRow struct {
	Name         string     `json:"name"`
	Names        string     `json:"names"`
	Origin       string     `json:"origin"` // file | database
	CreatedAt    *time.Time `json:"created_at"`
	CreatedBy    string     `json:"created_by"`
	LastSeenAt   *time.Time `json:"last_seen_at"`
	LastSeenFrom string     `json:"last_seen_from"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// boardLinks lists board id's links: the file's, then the database's.
func (s *Server) boardLinks(ctx context.Context, id string) ([]linkRow, error) {
	out := []linkRow{}
	if b, ok := s.cfg.Board(id); ok {
		for _, k := range b.Kiosk {
			names := k.Names
			if names == "" {
				names = config.NamesFull
			}
			out = append(out, linkRow{Name: k.Name, Names: names, Origin: "file"})
		}
	}
	if s.opts.Links == nil {
		return out, nil
	}
	links, err := s.opts.Links.Links(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		out = append(out, linkRow{Name: l.Name, Names: l.Names, Origin: "database", CreatedAt: timePtr(l.CreatedAt),
			CreatedBy: l.CreatedBy, LastSeenAt: timePtr(l.LastSeenAt), LastSeenFrom: l.LastSeenFrom})
	}
	return out, nil
}

// linkForm is a new link's fields.
type linkForm struct {
	Name  string `json:"name"`
	Names string `json:"names"`
}

// fieldErrors are a form's problems by field.
type fieldErrors map[string]string

// checkLink validates f beside board id's links; it fills the default names.
func (s *Server) checkLink(ctx context.Context, id string, f *linkForm) (fieldErrors, error) {
	errs := fieldErrors{}
	if f.Names == "" {
		f.Names = config.NamesFull
	}
	switch {
	case f.Name == "":
		errs["name"] = "missing: name the screen, for example reception-tv"
	case !linkNameRE.MatchString(f.Name):
		errs["name"] = "may contain only letters, digits, '_' and '-' (at most 64)"
	}
	if !slices.Contains(nameModes, f.Names) {
		errs["names"] = "must be full, initials or none"
	}
	if len(errs) > 0 {
		return errs, nil
	}
	rows, err := s.boardLinks(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Name == f.Name {
			errs["name"] = fmt.Sprintf("this board has a link named %s: choose another name, or revoke that one first", f.Name)
			if r.Origin == "file" {
				errs["name"] = fmt.Sprintf("this board has a link named %s in the configuration file: choose another name", f.Name)
			}
			return errs, errExists
		}
	}
	return errs, nil
}

// errExists: the name is taken (409).
var errExists = errors.New("exists")

// createLink makes the link f of board id and returns its token and URL.
func (s *Server) createLink(c echo.Context, actor, id string, f linkForm) (token, u string, err error) {
	_, token, err = s.opts.Links.CreateLinkNames(c.Request().Context(), actor, id, f.Name, f.Names)
	if err != nil {
		return "", "", err
	}
	s.log.Info("TV link created", "board", id, "link", f.Name, "by", actor)
	return token, s.baseURL(c) + "/tv/" + url.PathEscape(token), nil
}

// baseURL is this server's address as the browser reached it.
func (s *Server) baseURL(c echo.Context) string {
	scheme := "http"
	if s.cfg.TLS.Secure() || c.Request().TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request().Host
}

// revokeLink revokes board id's link name and ends its open streams.
func (s *Server) revokeLink(ctx context.Context, actor, id, name string) error {
	l, err := s.opts.Links.RevokeLink(ctx, actor, id, name)
	if err != nil {
		return err
	}
	s.links.endLink(l.ID)
	s.log.Info("TV link revoked", "board", id, "link", name, "by", actor)
	return nil
}

// isFileLink reports whether board id has a link of the file named name.
func (s *Server) isFileLink(id, name string) bool {
	b, ok := s.cfg.Board(id)
	return ok && slices.ContainsFunc(b.Kiosk, func(k config.Kiosk) bool { return k.Name == name })
}

// The links API: /api/v1/boards/{id}/links.

// linksAPI resolves the caller and the board of a links API request.
func (s *Server) linksAPI(c echo.Context) (string, string, error) {
	id := c.Param("id")
	actor, err := s.linkCaller(c, id, apiError(http.StatusNotFound, "no board has id "+id))
	if err != nil {
		return "", "", err
	}
	return actor, id, nil
}

func (s *Server) handleAPIListLinks(c echo.Context) error {
	_, id, err := s.linksAPI(c)
	if err != nil {
		return answer(c, err)
	}
	rows, err := s.boardLinks(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"links": rows})
}

func (s *Server) handleAPICreateLink(c echo.Context) error {
	actor, id, err := s.linksAPI(c)
	if err != nil {
		return answer(c, err)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, 4<<10))
	if err != nil {
		return answer(c, apiError(http.StatusRequestEntityTooLarge, "a link is at most 4 KB"))
	}
	var f linkForm
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return answer(c, formProblems("invalid link", fieldErrors{"(body)": `must be a JSON object: {"name": "reception-tv", "names": "full"} (` + err.Error() + ")"}))
	}
	errs, err := s.checkLink(c.Request().Context(), id, &f)
	if errors.Is(err, errExists) {
		e := formProblems("link exists", errs)
		e.status = http.StatusConflict
		return answer(c, e)
	}
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return answer(c, formProblems("invalid link", errs))
	}
	token, u, err := s.createLink(c, actor, id, f)
	if errors.Is(err, database.ErrExists) {
		return answer(c, apiError(http.StatusConflict, "this board has a link named "+f.Name))
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]string{"name": f.Name, "names": f.Names, "token": token, "url": u})
}

func (s *Server) handleAPIRevokeLink(c echo.Context) error {
	actor, id, err := s.linksAPI(c)
	if err != nil {
		return answer(c, err)
	}
	name := c.Param("name")
	if s.isFileLink(id, name) {
		e := apiError(http.StatusConflict, "link "+name+" is defined in the configuration file: remove it there")
		e.body["origin"] = "file"
		return answer(c, e)
	}
	err = s.revokeLink(c.Request().Context(), actor, id, name)
	if errors.Is(err, database.ErrNotFound) {
		return answer(c, apiError(http.StatusNotFound, "board "+id+" has no link named "+name))
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// formProblems is the 400 of a form or body with problems by field.
func formProblems(msg string, errs fieldErrors) *apiErr {
	type item struct {
		Path    string `json:"path"`
		Message string `json:"message"`
	}
	items := []item{}
	for _, k := range sortedKeys(errs) {
		items = append(items, item{k, errs[k]})
	}
	return &apiErr{status: http.StatusBadRequest, body: map[string]any{"error": msg, "errors": items}}
}

func sortedKeys(m fieldErrors) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// The TV links page: /boards/{id}/links.

// linksPage renders board id's links page with status.
func (s *Server) linksPage(c echo.Context, status int, id string, v templates.LinksView) error {
	ctx := c.Request().Context()
	rows, err := s.boardLinks(ctx, id)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, r := range rows {
		row := templates.LinkRow{Name: r.Name, Names: r.Names, File: r.Origin == "file", CreatedBy: r.CreatedBy, LastSeenFrom: r.LastSeenFrom}
		if r.CreatedAt != nil {
			row.CreatedAt = *r.CreatedAt
		}
		if r.LastSeenAt != nil {
			row.LastSeen = templates.Ago(now, *r.LastSeenAt)
		}
		v.Links = append(v.Links, row)
	}
	v.BoardID = id
	v.Title = id
	if b, ok := s.board(id); ok {
		v.Title = b.Title
	}
	v.CSRF = s.csrfToken(ctx)
	v.Admin = s.isAdmin(c.Request())
	v.Editable = s.opts.Links != nil
	v.Assets = s.templAssets()
	return render(c, status, templates.LinksPage(v))
}

// linksPageAccess checks a page request on board id's links.
func (s *Server) linksPageAccess(c echo.Context) (string, string, error) {
	id := c.Param("id")
	actor, err := s.linkCaller(c, id, ErrNotFound)
	if err != nil {
		return "", "", err
	}
	return actor, id, nil
}

func (s *Server) handleLinksPage(c echo.Context) error {
	_, id, err := s.linksPageAccess(c)
	if err != nil {
		return err
	}
	v := templates.LinksView{Names: config.NamesFull}
	if n := c.QueryParam("revoked"); n != "" && linkNameRE.MatchString(n) {
		v.Message = "Link " + n + " was revoked: its screens show that it was."
	}
	return s.linksPage(c, http.StatusOK, id, v)
}

func (s *Server) handleCreateLinkForm(c echo.Context) error {
	actor, id, err := s.linksPageAccess(c)
	if err != nil {
		return err
	}
	if s.opts.Links == nil {
		return ErrNotFound
	}
	f := linkForm{Name: c.FormValue("name"), Names: c.FormValue("names")}
	v := templates.LinksView{Name: f.Name, Names: f.Names}
	errs, err := s.checkLink(c.Request().Context(), id, &f)
	status := http.StatusBadRequest
	if errors.Is(err, errExists) {
		status = http.StatusConflict
	} else if err != nil {
		return err
	}
	if len(errs) > 0 {
		v.Errors = errs
		return s.linksPage(c, status, id, v)
	}
	_, u, err := s.createLink(c, actor, id, f)
	if errors.Is(err, database.ErrExists) {
		v.Errors = fieldErrors{"name": "this board has a link named " + f.Name}
		return s.linksPage(c, http.StatusConflict, id, v)
	}
	if err != nil {
		return err
	}
	qr, err := qrDataURI(u)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.linksPage(c, http.StatusCreated, id, templates.LinksView{Names: config.NamesFull,
		Created: &templates.NewLink{Name: f.Name, URL: u, QR: qr}})
}

func (s *Server) handleRevokeLinkForm(c echo.Context) error {
	actor, id, err := s.linksPageAccess(c)
	if err != nil {
		return err
	}
	if s.opts.Links == nil {
		return ErrNotFound
	}
	name := c.Param("name")
	if s.isFileLink(id, name) {
		return &pageError{status: http.StatusConflict, title: "Defined in the configuration file",
			msg: "Link " + name + " is defined in the configuration file: remove it there, then restart wallboard."}
	}
	err = s.revokeLink(c.Request().Context(), actor, id, name)
	if errors.Is(err, database.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/boards/"+url.PathEscape(id)+"/links?revoked="+url.QueryEscape(name))
}

// qrDataURI is a QR code of u as a PNG data URI, for a phone or the TV's
// own camera to open it.
func qrDataURI(u string) (string, error) {
	png, err := qrcode.Encode(u, qrcode.Medium, 320)
	if err != nil {
		return "", fmt.Errorf("failed to make the QR code: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png), nil
}
