package server

import (
	"os"
	"path/filepath"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/capture"
	"github.com/wallboard/wallboard/templates"
)

// captures lists every source's capture files for the admin page.
func (s *Server) captures() []templates.AdminCapture {
	if s.opts.Captures == "" {
		return nil
	}
	var out []templates.AdminCapture
	for _, sc := range s.cfg.Sources {
		files, err := capture.List(filepath.Join(s.opts.Captures, sc.Name))
		if err != nil {
			s.log.Warn("failed to list captures", "source", sc.Name, "error", err)
			continue
		}
		for _, f := range files {
			out = append(out, templates.AdminCapture{Source: sc.Name, File: f.Name, Size: f.Size, Modified: f.ModTime})
		}
	}
	return out
}

// handleCaptureDownload sends one capture file, to admins only: captures
// are redacted, but they still show the floor's traffic.
func (s *Server) handleCaptureDownload(c echo.Context) error {
	if !s.canAdmin(c.Request()) {
		if s.viewer(c.Request()) {
			return ErrForbidden
		}
		return ErrUnauthorized
	}
	src, file := c.Param("source"), c.Param("file")
	known := false
	for _, sc := range s.cfg.Sources {
		known = known || sc.Name == src
	}
	if !known || !capture.ValidName(file) || s.opts.Captures == "" {
		return echo.ErrNotFound
	}
	path := filepath.Join(s.opts.Captures, src, file)
	if _, err := os.Stat(path); err != nil {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.File(path)
}
