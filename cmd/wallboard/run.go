package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/wallboard/wallboard/internal/config"
)

// Version and Commit are stamped at build time with
// -ldflags "-X main.Version=… -X main.Commit=…".
var (
	Version = "dev"
	Commit  = ""
)

// errUsage is returned for a bad command line (exit 2).
var errUsage = errors.New("usage")

// exitError carries an exit code without a message of its own.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func exitCode(err error) int {
	var ee exitError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, errUsage):
		return 2
	}
	return 1
}

const usage = `wallboard: live contact-center wallboards

Usage:
  wallboard demo [--listen ADDR] [--agents N] [--queues N] [--capture DIR]
  wallboard replay [--listen ADDR] [--speed N] [--fixture DIR] FILE|DIR...
  wallboard serve --config FILE [--listen ADDR]
  wallboard check-config --config FILE
  wallboard backup --config FILE --to FILE   (a copy of the SQLite database, while it runs)
  wallboard export-boards --config FILE      (the database's boards as YAML for the file)
  wallboard hash-password   (reads a password from standard input, prints its hash)
  wallboard version
`

// run is the whole program; main only wires it to the process. Tests call it
// directly on 127.0.0.1:0.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "wallboard %s (commit %s) %s %s/%s\n", Version, commit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	case "check-config":
		fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
		fs.SetOutput(stderr)
		path := fs.String("config", "", "configuration file")
		if err := fs.Parse(rest); err != nil || *path == "" {
			fmt.Fprint(stderr, usage)
			return errUsage
		}
		cfg, err := loadConfig(*path, getenv, stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: valid (%d sources, %d boards)\n", *path, len(cfg.Sources), len(cfg.Boards))
		return nil
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(stderr)
		path := fs.String("config", "", "configuration file")
		listen := fs.String("listen", "", "listen address (overrides the file)")
		if err := fs.Parse(rest); err != nil || *path == "" {
			fmt.Fprint(stderr, usage)
			return errUsage
		}
		cfg, err := loadConfig(*path, getenv, stderr)
		if err != nil {
			return err
		}
		if *listen != "" {
			cfg.Listen = *listen
		}
		return serve(ctx, &cfg, appOptions{stdout: stdout, stderr: stderr})
	case "demo":
		return demo(ctx, rest, stdout, stderr)
	case "backup":
		return backup(ctx, rest, getenv, stdout, stderr)
	case "export-boards":
		return exportBoards(ctx, rest, getenv, stdout, stderr)
	case "replay":
		return replay(ctx, rest, stdout, stderr)
	case "hash-password":
		return hashPassword(rest, os.Stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
	return errUsage
}

// loadConfig loads the file at path; when it is invalid, it lists every
// problem as "path: message" on stderr and returns exit status 1.
func loadConfig(path string, getenv func(string) string, stderr io.Writer) (config.Config, error) {
	cfg, err := config.Load(path, getenv)
	var probs config.Problems
	if errors.As(err, &probs) {
		fmt.Fprintf(stderr, "%s: %d problem(s):\n", path, len(probs))
		for _, p := range probs {
			fmt.Fprintln(stderr, "  "+p)
		}
		return config.Config{}, exitError{1}
	}
	return cfg, err
}

func commit() string {
	if Commit != "" {
		return Commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return s.Value[:12]
			}
		}
	}
	return "unknown"
}
