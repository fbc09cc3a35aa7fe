// Package server is wallboard's HTTP face: the echo app with its routes,
// middleware and handlers for pages, event streams, the JSON API, webhooks and
// health. It reads the floor through small interfaces declared here and knows
// nothing of vendor protocols.
package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/hub"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/static"
	"github.com/wallboard/wallboard/templates"
)

// Floor reads the model.
type Floor interface {
	Snapshot(ctx context.Context) (*model.Snapshot, error)
	// AgentDay is an agent's day so far (console.go).
	AgentDay(ctx context.Context, k model.Key) (model.AgentDay, bool, error)
}

// Streams finds a board's event stream.
type Streams interface {
	Lookup(id string) (*hub.Topic, bool)
	Stats() hub.Stats
	Screens() []hub.Screen
}

// Options are the server's dependencies.
type Options struct {
	Config *config.Config
	// Boards, Tickers and Console render what the pages show
	// (board.Projector and its Console).
	Boards  BoardViews
	Tickers Tickers
	Console ConsoleViews
	Streams Streams
	Floor   Floor
	// Sources returns every source's status and counters.
	Sources func() []source.Stats
	// Hooks are the handlers of the sources that receive posts, by source
	// name: POST /hooks/{type}/{source} reaches them (hooks.go).
	Hooks map[string]http.Handler
	// AnonymousLoopback lets requests from loopback see boards without
	// signing in (wallboard demo).
	AnonymousLoopback bool
	// Extra registers more routes (the demo's control endpoint).
	Extra  func(e *echo.Echo)
	Logger *slog.Logger
	// Metrics serves /metrics; nil builds one over Sources and Streams.
	Metrics http.Handler
	// Operations tells the admin page the version and the snapshot's state.
	Operations func() Operations
	// Cluster reports the replicas (cluster.go); nil for a single process.
	Cluster func() ClusterStatus
	// BodyTimeout bounds the time to read a request's body on every route
	// but the event streams; default 10s (limits.go).
	BodyTimeout time.Duration
	// BoardStore keeps boards made through the API; nil: no boards API.
	BoardStore BoardStore
	// LiveBoards is the boards on screen (the file's and the database's)
	// and takes changes to them at once; nil: the file's boards only.
	LiveBoards LiveBoards
	// AuditLog serves GET /api/v1/audit; nil: no such route.
	AuditLog AuditLog
	// Captures is the directory of the sources' captures, one
	// subdirectory per source ("" when none).
	Captures string
	// Sessions keeps sign-in sessions (the database's store, so a restart
	// signs nobody out); nil: in memory.
	Sessions scs.Store
	// Users keeps the local users made in the browser (users.go); nil:
	// only the file's users.
	Users UserStore
	// Links keeps the TV links made in the browser or the API (links.go);
	// nil: only the file's links.
	Links LinkStore
	// History serves GET /api/v1/intervals (api_intervals.go), with the
	// interval still open from Open; nil History: no such route.
	History History
	Open    OpenIntervals
}

// Server is the HTTP application.
type Server struct {
	opts     Options
	cfg      *config.Config
	echo     *echo.Echo
	assets   *static.Assets
	sessions *scs.SessionManager
	log      *slog.Logger
	started  time.Time

	// sound: kiosk screens' sound reports (console.go).
	sound soundReports

	// Sign-in (auth.go, oidc.go).
	userLimit, addrLimit *limiter
	oidc                 *oidcClient
	dummyHash            []byte
	dummyOnce            sync.Once
	dummyLocal           []byte // noUserHash
	formKey              []byte // signs the sign-in form's CSRF token (csrf.go)
	bodyTimeout          time.Duration

	// watch ends signed-in streams with their session (streamwatch.go).
	watch streamWatch
	// links ends the streams of revoked TV links and records where the
	// links were seen (links.go).
	links linkWatch
}

// New builds the server and its routes.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Sources == nil {
		o.Sources = func() []source.Stats { return nil }
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = defaultBodyTimeout
	}
	s := &Server{opts: o, cfg: o.Config, assets: static.New(), log: o.Logger, started: time.Now(),
		bodyTimeout: o.BodyTimeout, formKey: newKey()}
	s.sessions = scs.New()
	s.sessions.Cookie.Name = "wallboard_session"
	s.sessions.Cookie.HttpOnly = true
	s.sessions.Cookie.SameSite = http.SameSiteLaxMode
	s.sessions.IdleTimeout = 12 * time.Hour
	s.sessions.Lifetime = 7 * 24 * time.Hour
	if o.Sessions != nil {
		s.sessions.Store = o.Sessions
	}
	s.setupAuth()
	s.watch = streamWatch{every: recheckEvery, check: s.recheckStreams}
	s.links = linkWatch{every: linkRecheckEvery, touchEvery: linkTouchEvery, store: o.Links, log: o.Logger}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	s.echo = e
	s.routes()
	if o.Extra != nil {
		o.Extra(e)
	}
	return s
}

// Close stops the server's timers and writes the TV links' last visits.
// Call it once the HTTP server has stopped, before the stores close.
func (s *Server) Close() { s.links.close() }

// ServeHTTP makes the server an http.Handler. HEAD is answered on every GET
// route (load balancers probe with it): the request is routed as the GET,
// and net/http, which still holds the HEAD, sends the head without the body.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		r = r.WithContext(context.WithValue(r.Context(), headKey{}, true))
		r.Method = http.MethodGet
	}
	s.echo.ServeHTTP(w, r)
}

type headKey struct{}

// isHead reports whether the request was a HEAD routed as a GET.
func isHead(c echo.Context) bool {
	v, _ := c.Request().Context().Value(headKey{}).(bool)
	return v
}

func (s *Server) templAssets() templates.Assets {
	return templates.Assets{CSS: s.assets.URL("app.css"), HTMX: s.assets.URL("vendor/htmx.min.js"),
		SSE: s.assets.URL("vendor/hx-sse.min.js"), Script: s.assets.URL("wallboard.js")}
}

// apiToken reports whether the request carries one of the configured bearer
// tokens.
func (s *Server) apiToken(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return false
	}
	match := 0
	for _, t := range s.cfg.APITokens {
		match |= subtle.ConstantTimeCompare([]byte(tok), []byte(t.Token.Reveal()))
	}
	return match == 1
}

// viewer reports whether the request may see boards without a kiosk token.
func (s *Server) viewer(r *http.Request) bool {
	_, ok := s.principal(r)
	return ok
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// LiveBoards is the set of boards on screen, the file's and the database's,
// and the one way to change it while running (board.Projector).
type LiveBoards interface {
	Board(id string) (*config.Board, bool)
	BoardDefs() []config.Board
	// HasStream reports whether a stream (a board's variant) is on screen.
	HasStream(id string) bool
	PutBoard(ctx context.Context, def config.Board) error
	RemoveBoard(ctx context.Context, id string) error
	// Preview is a board as a page would show it now (the editor).
	Preview(def config.Board) templates.Board
}

// board returns board id as it is on screen now: the file's or the
// database's.
func (s *Server) board(id string) (*config.Board, bool) {
	if s.opts.LiveBoards != nil {
		return s.opts.LiveBoards.Board(id)
	}
	return s.cfg.Board(id)
}

// boards returns the boards on screen now, the file's first.
func (s *Server) boards() []config.Board {
	if s.opts.LiveBoards != nil {
		return s.opts.LiveBoards.BoardDefs()
	}
	return s.cfg.Boards
}

// Errors the handlers return; handleError maps them to statuses.
var (
	ErrNotFound     = errors.New("not found")
	ErrUnauthorized = errors.New("sign-in required")
)
