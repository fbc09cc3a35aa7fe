package server

import (
	"github.com/labstack/echo/v4"
)

// routes declares every route in one place.
func (s *Server) routes() {
	e := s.echo
	e.Use(s.accessLog, s.securityHeaders, s.limitBody, s.csrfProtect) // security.go, limits.go, csrf.go
	pages := e.Group("", echo.WrapMiddleware(s.sessions.LoadAndSave))

	// Boards, for signed-in users.
	pages.GET("/", s.handleIndex)
	pages.GET("/boards/:id", s.handleBoardPage)
	// Event streams: no session middleware here, it would buffer the stream.
	e.GET("/boards/:id/events", s.handleBoardEvents)

	// Sign-in (auth.go, oidc.go) and supervisors' board settings (kiosk.go).
	pages.GET("/login", s.handleLoginPage)
	pages.POST("/login", s.handleLogin)
	pages.POST("/logout", s.handleLogout)
	pages.GET("/auth/oidc/start", s.handleOIDCStart)
	pages.GET("/auth/oidc/callback", s.handleOIDCCallback)
	pages.GET("/boards/:id/settings", s.handleBoardSettings)
	pages.POST("/boards/:id/ticker", s.handleSetTicker)
	// A board's TV links (links.go): supervisors of the board and admins.
	pages.GET("/boards/:id/links", s.handleLinksPage)
	pages.POST("/boards/:id/links", s.handleCreateLinkForm)
	pages.POST("/boards/:id/links/:name/revoke", s.handleRevokeLinkForm)

	// Supervisors' console (console.go): agents table, queue drill-down,
	// agent's day; its stream, like the boards', without session middleware.
	pages.GET("/boards/:id/console", s.handleConsole)
	pages.GET("/boards/:id/console/queues/:source/:queue", s.handleConsoleQueue)
	pages.GET("/boards/:id/console/agents/:source/:agent", s.handleConsoleAgent)
	pages.GET("/boards/:id/console/agents/:source/:agent/day", s.handleConsoleAgentDay)
	e.GET("/boards/:id/console/events", s.handleConsoleEvents)

	// TV kiosk links: the token grants one board, no sign-in, no cookies.
	e.GET("/tv/:token", s.handleKioskPage)
	e.GET("/tv/:token/events", s.handleKioskEvents)
	e.POST("/tv/:token/sound", s.handleKioskSound) // console.go

	// Vendor webhooks.
	e.POST("/hooks/:type/:source", s.handleHook)

	// JSON API: bearer token or a signed-in session.
	pages.GET("/api/v1/state", s.handleState)
	pages.GET("/api/v1/cluster", s.handleCluster) // cluster.go
	if s.opts.History != nil {
		pages.GET("/api/v1/intervals", s.handleIntervals) // api_intervals.go: as the state API
		pages.GET("/boards/:id/day", s.handleBoardDay)    // day.go: the board's day, for its supervisors
	}
	// Boards (api_boards.go): API tokens; changes need scope admin.
	if s.opts.BoardStore != nil {
		e.GET("/api/v1/boards", s.handleListBoards)
		e.POST("/api/v1/boards", s.handleCreateBoard)
		e.GET("/api/v1/boards/:id", s.handleGetBoard)
		e.PUT("/api/v1/boards/:id", s.handleUpdateBoard)
		e.DELETE("/api/v1/boards/:id", s.handleDeleteBoard)
	}
	// The board editor (editor.go): supervisors and admins, with CSRF.
	if s.opts.BoardStore != nil && s.opts.LiveBoards != nil {
		pages.GET("/editor", s.handleEditorNew)
		pages.POST("/editor", s.handleEditorCreate)
		pages.GET("/editor/preview", s.handleEditorPreview)
		pages.GET("/boards/:id/edit", s.handleEditor)
		pages.POST("/boards/:id/edit", s.handleEditorSave)
		pages.GET("/boards/:id/delete", s.handleDeleteConfirm)
		pages.POST("/boards/:id/delete", s.handleDeleteBoardForm)
	}
	if s.opts.AuditLog != nil {
		e.GET("/api/v1/audit", s.handleAudit) // api_audit.go: admin-scope tokens
	}
	// TV links (links.go): admin-scope tokens, or a session of a supervisor
	// of the board or an admin (with the CSRF token).
	if s.opts.Links != nil {
		e.GET("/api/v1/boards/:id/links", s.handleAPIListLinks)
		e.POST("/api/v1/boards/:id/links", s.handleAPICreateLink)
		e.DELETE("/api/v1/boards/:id/links/:name", s.handleAPIRevokeLink)
	}

	// Operations.
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)
	e.GET("/metrics", echo.WrapHandler(s.metricsHandler()))
	pages.GET("/admin", s.handleAdmin)
	pages.GET("/admin/captures/:source/:file", s.handleCaptureDownload) // captures.go
	// Admins: local users (users.go) and the audit log (audit_page.go).
	pages.GET("/admin/users", s.handleUsersPage)
	pages.POST("/admin/users", s.handleCreateUser)
	pages.GET("/admin/users/:name", s.handleUserPage)
	pages.POST("/admin/users/:name/:what", s.handleUpdateUser)
	pages.GET("/admin/audit", s.handleAuditPage)

	// Assets, named by content hash.
	e.GET("/static/*", echo.WrapHandler(s.assets))
}
