package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/database"
)

// openDatabase opens the configuration's database (the SQLite file in
// state_dir, or PostgreSQL) and migrates it. A schema newer than this
// binary stops the start.
func openDatabase(ctx context.Context, cfg *config.Config, log *slog.Logger) (*database.DB, error) {
	db, err := database.Open(ctx, database.Options{URL: cfg.DatabaseURL(), StateDir: cfg.StateDir, Logger: log})
	if err != nil {
		return nil, err
	}
	where := db.Path()
	if where == "" {
		where = "postgresql"
	}
	log.Info("database open", "dialect", db.Dialect(), "at", where)
	return db, nil
}

// storedBoards reads the database's boards for the screens, each checked
// with the configuration's rules as of now. A board that no longer passes
// (a source it names left the file) or whose id the file now uses stays in
// the database, is logged, and is not shown.
func storedBoards(ctx context.Context, cfg *config.Config, db *database.DB, log *slog.Logger) ([]config.Board, error) {
	rows, err := db.Boards(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, b := range cfg.Boards {
		ids = append(ids, b.ID)
	}
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	var out []config.Board
	for _, r := range rows {
		if _, ok := cfg.Board(r.ID); ok {
			log.Warn("board kept in the database not shown: the configuration file has a board of that id", "board", r.ID)
			continue
		}
		b, probs := config.ParseBoard(r.Document)
		if len(probs) == 0 {
			b, probs = cfg.CheckBoard(b, slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == r.ID }))
		}
		if len(probs) > 0 {
			log.Warn("board kept in the database not shown: it breaks the configuration's rules", "board", r.ID, "problems", strings.Join(probs, "; "))
			continue
		}
		out = append(out, b)
	}
	return out, nil
}

// sessionCleanupInterval is how often expired sessions are deleted.
const sessionCleanupInterval = 5 * time.Minute

// backup is `wallboard backup --config FILE --to FILE`: a consistent copy of
// the SQLite database, taken while wallboard runs.
func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file")
	to := fs.String("to", "", "the backup file to write (must not exist)")
	if err := fs.Parse(args); err != nil || *path == "" || *to == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cfg, err := loadConfig(*path, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL() != "" {
		fmt.Fprintln(stderr, "the database is PostgreSQL: back it up with pg_dump, for example\n"+
			"  pg_dump --format=custom --file=wallboard.dump \"$DATABASE_URL\"\n"+
			"and restore it with pg_restore (docs/operations.md).")
		return exitError{1}
	}
	// As it is: a backup never creates or migrates a database.
	db, err := database.Open(ctx, database.Options{StateDir: cfg.StateDir, NoMigrate: true})
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("there is no database to back up in %s (wallboard makes it at its first start)", cfg.StateDir)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, *to); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", db.Path(), *to)
	return nil
}

// exportBoards is `wallboard export-boards --config FILE`: the database's
// boards as YAML for the configuration file's boards: list, so boards made
// in the browser or the API can be kept in the file (and in code).
func exportBoards(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export-boards", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file")
	if err := fs.Parse(args); err != nil || *path == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cfg, err := loadConfig(*path, getenv, stderr)
	if err != nil {
		return err
	}
	db, err := database.Open(ctx, database.Options{URL: cfg.DatabaseURL(), StateDir: cfg.StateDir, NoMigrate: true})
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("there is no database in %s (wallboard makes it at its first start)", cfg.StateDir)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	boards, err := db.Boards(ctx)
	if err != nil {
		return err
	}
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, b := range boards {
		var m map[string]any
		if err := json.Unmarshal(b.Document, &m); err != nil {
			return fmt.Errorf("failed to read board %s: %w", b.ID, err)
		}
		n := &yaml.Node{}
		if err := n.Encode(pruneEmpty(m)); err != nil {
			return fmt.Errorf("failed to write board %s: %w", b.ID, err)
		}
		idFirst(n)
		list.Content = append(list.Content, n)
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "boards"}, list}}
	fmt.Fprintf(stdout, "# %d board(s) kept in the database, as the configuration file writes them.\n"+
		"# To keep one in the file: add it under the file's boards:, delete it from the database\n"+
		"# (DELETE /api/v1/boards/{id}), and restart.\n", len(boards))
	enc := yaml.NewEncoder(stdout)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

// pruneEmpty drops what the file may leave out: empty lists and objects,
// "", 0, "0s" and false (each of them means "none" or the default).
func pruneEmpty(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			e = pruneEmpty(e)
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = e
		}
		if len(x) == 0 {
			return nil
		}
		return x
	case []any:
		if len(x) == 0 {
			return nil
		}
		return x
	case string:
		if x == "" || x == "0s" {
			return nil
		}
	case float64:
		if x == 0 {
			return nil
		}
	case bool:
		if !x {
			return nil
		}
	}
	return v
}

// idFirst moves a board's id and title to the top of its mapping node.
func idFirst(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return
	}
	var head, rest []*yaml.Node
	for _, key := range []string{"id", "title"} {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				head = append(head, n.Content[i], n.Content[i+1])
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k != "id" && k != "title" {
			rest = append(rest, n.Content[i], n.Content[i+1])
		}
	}
	n.Content = slices.Concat(head, rest)
}
