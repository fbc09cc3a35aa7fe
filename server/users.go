package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/database"
	"github.com/wallboard/wallboard/templates"
)

// Local users made by admins in the browser live in the database, beside
// the file's users (read-only here). Their passwords are bcrypt hashes as
// the file's are. A session of such a user is checked against the
// database on every request: disabling the user, or changing their role or
// boards, applies at once; disabling also ends their sessions and their
// open streams.

// UserStore keeps local users (internal/database).
type UserStore interface {
	User(ctx context.Context, name string) (database.User, error)
	Users(ctx context.Context) ([]database.User, error)
	CreateUser(ctx context.Context, actor string, u database.User) (database.User, error)
	UpdateUser(ctx context.Context, actor, name string, version int64, ch database.UserChange) (database.User, error)
}

// passwordCost is the bcrypt cost of a password set here: that of
// `wallboard hash-password`. Tests lower it.
var passwordCost = bcrypt.DefaultCost + 2

// userNameRE is what a local user's name may be.
var userNameRE = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// localPrincipal is the signed-in local user name as the database has
// them now: not signed in when they are gone or disabled.
func (s *Server) localPrincipal(ctx context.Context, name string) (Principal, bool) {
	if s.opts.Users == nil {
		return Principal{}, false
	}
	u, err := s.opts.Users.User(ctx, name)
	if err != nil {
		if !errors.Is(err, database.ErrNotFound) {
			s.log.Warn("failed to read a signed-in user", "user", name, "error", err)
		}
		return Principal{}, false
	}
	if u.Disabled() {
		return Principal{}, false
	}
	role := u.Role
	if rank(role) < 0 {
		role = config.RoleViewer
	}
	return Principal{User: u.Name, Role: role, Boards: u.Boards, Local: true}, true
}

// localUser is the local user name for a sign-in, nil when there is none
// or they are disabled.
func (s *Server) localUser(ctx context.Context, name string) *config.User {
	if s.opts.Users == nil {
		return nil
	}
	u, err := s.opts.Users.User(ctx, name)
	if err != nil || u.Disabled() {
		return nil
	}
	return &config.User{Name: u.Name, PasswordHash: config.Secret(u.PasswordHash), Role: u.Role}
}

// adminActor checks that the request is an admin's and returns the actor
// the audit log names.
func (s *Server) adminActor(c echo.Context) (Principal, error) {
	p, ok := s.principal(c.Request())
	if !ok {
		return Principal{}, ErrUnauthorized
	}
	if !p.Has(config.RoleAdmin) {
		return Principal{}, ErrForbidden
	}
	if s.opts.Users == nil {
		return Principal{}, ErrNotFound
	}
	return p, nil
}

// allBoards lists every board's id and title: the file's, then the
// database's.
func (s *Server) allBoards(ctx context.Context) ([]templates.Choice, error) {
	var out []templates.Choice
	for _, b := range s.cfg.Boards {
		out = append(out, templates.Choice{Value: b.ID, Label: b.Title})
	}
	if s.opts.BoardStore == nil {
		return out, nil
	}
	stored, err := s.opts.BoardStore.Boards(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range stored {
		out = append(out, templates.Choice{Value: b.ID, Label: b.ID})
	}
	return out, nil
}

// userForm is an admin's form about a user.
type userForm struct {
	Name, Password, Role string
	Boards               []string
}

// checkUser validates f (newUser: a name and a password are needed).
func (s *Server) checkUser(ctx context.Context, f userForm, newUser bool) (fieldErrors, error) {
	errs := fieldErrors{}
	if newUser {
		switch {
		case f.Name == "":
			errs["name"] = "missing"
		case !userNameRE.MatchString(f.Name):
			errs["name"] = "may contain only letters, digits, '.', '_', '@' and '-' (at most 64)"
		case slices.ContainsFunc(s.cfg.Auth.Users, func(u config.User) bool { return u.Name == f.Name }):
			errs["name"] = "a user of the configuration file has this name"
		}
	}
	if newUser || f.Password != "" {
		if msg := passwordProblem(f.Password); msg != "" {
			errs["password"] = msg
		}
	}
	if !slices.Contains(config.Roles, f.Role) {
		errs["role"] = "must be viewer, supervisor or admin"
	}
	boards, err := s.allBoards(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range f.Boards {
		if !slices.ContainsFunc(boards, func(c templates.Choice) bool { return c.Value == b }) {
			errs["boards"] = fmt.Sprintf("no board has id %q", b)
		}
	}
	return errs, nil
}

// passwordProblem says what is wrong with a new password ("" if nothing),
// by the rules of `wallboard hash-password`.
func passwordProblem(pw string) string {
	switch {
	case pw == "":
		return "missing"
	case len(pw) < 8:
		return "must be at least 8 characters"
	case len(pw) > 72:
		return "must be at most 72 bytes (a bcrypt limit)"
	}
	return ""
}

func hashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), passwordCost)
	if err != nil {
		return "", fmt.Errorf("failed to hash a password: %w", err)
	}
	return string(h), nil
}

// usersPage renders the users page with status.
func (s *Server) usersPage(c echo.Context, status int, v templates.UsersView) error {
	ctx := c.Request().Context()
	for _, u := range s.cfg.Auth.Users {
		v.Users = append(v.Users, templates.UserRow{Name: u.Name, Role: u.Role, File: true})
	}
	users, err := s.opts.Users.Users(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		v.Users = append(v.Users, templates.UserRow{Name: u.Name, Role: u.Role, Boards: u.Boards, Disabled: u.Disabled(),
			URL: "/admin/users/" + url.PathEscape(u.Name)})
	}
	if v.Boards, err = s.allBoards(ctx); err != nil {
		return err
	}
	if v.Role == "" {
		v.Role = config.RoleViewer
	}
	v.CSRF = s.csrfToken(ctx)
	v.Assets = s.templAssets()
	return render(c, status, templates.UsersPage(v))
}

func (s *Server) handleUsersPage(c echo.Context) error {
	if _, err := s.adminActor(c); err != nil {
		return err
	}
	return s.usersPage(c, http.StatusOK, templates.UsersView{Message: savedMessage(c.QueryParam("saved"))})
}

// savedMessage says what the last form did, from the redirect's ?saved=.
func savedMessage(what string) string {
	switch what {
	case "created":
		return "User added."
	case "updated":
		return "Saved: the user's role and boards apply at once."
	case "disabled":
		return "User disabled: their sessions and open boards ended."
	case "enabled":
		return "User enabled: they may sign in again."
	case "password":
		return "Password reset: their sessions ended; they sign in with the new password."
	}
	return ""
}

func (s *Server) handleCreateUser(c echo.Context) error {
	p, err := s.adminActor(c)
	if err != nil {
		return err
	}
	r := c.Request()
	f := userForm{Name: r.PostFormValue("name"), Password: r.PostFormValue("password"), Role: r.PostFormValue("role"), Boards: r.PostForm["boards"]}
	v := templates.UsersView{Name: f.Name, Role: f.Role, Chosen: f.Boards}
	errs, err := s.checkUser(r.Context(), f, true)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		v.Errors = errs
		return s.usersPage(c, http.StatusBadRequest, v)
	}
	hash, err := hashPassword(f.Password)
	if err != nil {
		return err
	}
	_, err = s.opts.Users.CreateUser(r.Context(), "user:"+p.User, database.User{Name: f.Name, PasswordHash: hash, Role: f.Role, Boards: f.Boards})
	if errors.Is(err, database.ErrExists) {
		v.Errors = fieldErrors{"name": "a user has this name"}
		return s.usersPage(c, http.StatusConflict, v)
	}
	if err != nil {
		return err
	}
	s.log.Info("user created", "user", f.Name, "role", f.Role, "by", p.User)
	return c.Redirect(http.StatusSeeOther, "/admin/users?saved=created")
}

// userPage renders user name's page with status.
func (s *Server) userPage(c echo.Context, status int, u database.User, v templates.UserView) error {
	ctx := c.Request().Context()
	var err error
	if v.Boards, err = s.allBoards(ctx); err != nil {
		return err
	}
	v.Name, v.Version, v.Disabled = u.Name, u.Version, u.Disabled()
	if v.Role == "" {
		v.Role, v.Chosen = u.Role, u.Boards
	}
	v.UpdatedBy, v.UpdatedAt = u.UpdatedBy, u.UpdatedAt
	v.CSRF = s.csrfToken(ctx)
	v.Assets = s.templAssets()
	return render(c, status, templates.UserPage(v))
}

// userOf reads the user the route's :name names.
func (s *Server) userOf(c echo.Context) (database.User, error) {
	u, err := s.opts.Users.User(c.Request().Context(), c.Param("name"))
	if errors.Is(err, database.ErrNotFound) {
		return u, ErrNotFound
	}
	return u, err
}

func (s *Server) handleUserPage(c echo.Context) error {
	if _, err := s.adminActor(c); err != nil {
		return err
	}
	u, err := s.userOf(c)
	if err != nil {
		return err
	}
	return s.userPage(c, http.StatusOK, u, templates.UserView{Message: savedMessage(c.QueryParam("saved"))})
}

// handleUpdateUser applies one of the user page's forms: what (role and
// boards), disable, enable or password, at the version the page was read.
func (s *Server) handleUpdateUser(c echo.Context) error {
	p, err := s.adminActor(c)
	if err != nil {
		return err
	}
	u, err := s.userOf(c)
	if err != nil {
		return err
	}
	r := c.Request()
	what := c.Param("what")
	v := templates.UserView{}
	version, verr := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if verr != nil || version < 1 {
		v.Errors = fieldErrors{"version": "missing: reload the page and make the change again"}
		return s.userPage(c, http.StatusBadRequest, u, v)
	}
	var ch database.UserChange
	switch what {
	case "access":
		f := userForm{Role: r.PostFormValue("role"), Boards: r.PostForm["boards"]}
		v.Role, v.Chosen = f.Role, f.Boards
		errs, err := s.checkUser(r.Context(), f, false)
		if err != nil {
			return err
		}
		if f.Role != config.RoleAdmin && u.Name == p.User && p.Local {
			errs["role"] = "you cannot take the admin role from yourself: ask another admin"
		}
		if len(errs) > 0 {
			v.Errors = errs
			return s.userPage(c, http.StatusBadRequest, u, v)
		}
		boards := f.Boards
		if boards == nil {
			boards = []string{}
		}
		ch.Role, ch.Boards = &f.Role, &boards
	case "disable", "enable":
		if what == "disable" && u.Name == p.User && p.Local {
			v.Errors = fieldErrors{"disabled": "you cannot disable your own account"}
			return s.userPage(c, http.StatusBadRequest, u, v)
		}
		off := what == "disable"
		ch.Disabled = &off
	case "password":
		pw := r.PostFormValue("password")
		if msg := passwordProblem(pw); msg != "" {
			v.Errors = fieldErrors{"password": msg}
			return s.userPage(c, http.StatusBadRequest, u, v)
		}
		hash, err := hashPassword(pw)
		if err != nil {
			return err
		}
		ch.PasswordHash = &hash
	default:
		return ErrNotFound
	}
	after, err := s.opts.Users.UpdateUser(r.Context(), "user:"+p.User, u.Name, version, ch)
	var ce *database.ConflictError
	if errors.As(err, &ce) {
		cur, rerr := s.userOf(c)
		if rerr != nil {
			return rerr
		}
		v.Errors = fieldErrors{"version": fmt.Sprintf("changed by %s at %s, reload", ce.By, ce.At.UTC().Format("15:04"))}
		v.Role, v.Chosen = "", nil
		return s.userPage(c, http.StatusConflict, cur, v)
	}
	if errors.Is(err, database.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	saved := map[string]string{"access": "updated", "disable": "disabled", "enable": "enabled", "password": "password"}[what]
	if what == "disable" || what == "password" {
		if err := s.endUserSessions(r.Context(), after.Name); err != nil {
			return err
		}
	}
	s.log.Info("user changed", "user", after.Name, "change", what, "by", p.User)
	return c.Redirect(http.StatusSeeOther, "/admin/users/"+url.PathEscape(after.Name)+"?saved="+saved)
}

// endUserSessions ends every session of local user name and their open
// streams, now.
func (s *Server) endUserSessions(ctx context.Context, name string) error {
	var tokens []string
	err := s.sessions.Iterate(ctx, func(sctx context.Context) error {
		if s.sessions.GetString(sctx, keyUser) != name || !s.sessions.GetBool(sctx, keyLocal) {
			return nil
		}
		tokens = append(tokens, s.sessions.Token(sctx))
		return s.sessions.Destroy(sctx)
	})
	if err != nil {
		return fmt.Errorf("failed to end %s's sessions: %w", name, err)
	}
	for _, t := range tokens {
		s.watch.endSession(t)
	}
	s.watch.endUser(name)
	return nil
}
