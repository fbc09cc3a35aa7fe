package main

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/wallboard/wallboard/internal/capture"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/source"
)

// captureDir is where a source's captures go.
func captureDir(root, name string) string { return filepath.Join(root, name) }

// startCapture opens the recorder of a source with capture: true and hands
// it to the source's transport. The caller closes the Writer on shutdown.
func startCapture(root string, sc config.Source, src source.Source, log *slog.Logger) (*capture.Writer, error) {
	rs, ok := src.(interface{ SetRecorder(source.Recorder) })
	if !ok {
		return nil, fmt.Errorf("failed to capture %s: a %s source has no wire to record", sc.Name, sc.Type)
	}
	opts, err := yaml.Marshal(sc) // secrets print as [redacted]
	if err != nil {
		return nil, fmt.Errorf("failed to capture %s: %w", sc.Name, err)
	}
	w, err := capture.Open(captureDir(root, sc.Name), capture.Header{Source: sc.Name, Type: sc.Type, Options: string(opts)},
		capture.Options{MaxBytes: int64(max(sc.CaptureMaxMB, 0)) << 20, Pseudonymise: sc.CapturePseudonymise, Log: log})
	if err != nil {
		return nil, fmt.Errorf("failed to capture %s: %w", sc.Name, err)
	}
	rs.SetRecorder(w)
	log.Info("capturing the vendor's traffic", "source", sc.Name, "dir", captureDir(root, sc.Name))
	return w, nil
}
