// Package dbtest gives tests real databases of both kinds: a fresh SQLite
// file, and a fresh database on a throwaway PostgreSQL cluster that Main
// starts in a temporary directory for the whole test binary (or on the
// server that WALLBOARD_TEST_POSTGRES names). It never skips: without
// PostgreSQL the tests fail and say what to install.
//
//	func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }
//
//	for _, c := range dbtest.Open(t) {
//		t.Run(c.Name, func(t *testing.T) { … c.DB … })
//	}
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/wallboard/wallboard/internal/database"
)

// EnvPostgres names an existing PostgreSQL server to use instead of a
// throwaway cluster: a URL whose user may CREATE DATABASE.
const EnvPostgres = "WALLBOARD_TEST_POSTGRES"

// EnvPostgresBin overrides the directory of initdb and pg_ctl.
const EnvPostgresBin = "WALLBOARD_TEST_POSTGRES_BIN"

// DefaultBin is where Debian's postgresql-15 puts initdb and pg_ctl.
const DefaultBin = "/usr/lib/postgresql/15/bin"

var server struct {
	sync.Mutex
	url   string // the admin connection: postgres://…/postgres
	admin *sql.DB
	err   error
	n     int
}

// Main starts PostgreSQL, runs the tests and stops it; it returns the exit
// code for os.Exit.
func Main(m *testing.M) int {
	stop, err := start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		server.err = err
		return 1
	}
	code := m.Run()
	if server.admin != nil {
		server.admin.Close()
	}
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "dbtest: failed to stop PostgreSQL:", err)
	}
	return code
}

func start() (stop func() error, err error) {
	if u := os.Getenv(EnvPostgres); u != "" {
		return func() error { return nil }, connect(u)
	}
	bin := os.Getenv(EnvPostgresBin)
	if bin == "" {
		bin = DefaultBin
	}
	for _, b := range []string{"initdb", "pg_ctl"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return nil, fmt.Errorf("PostgreSQL's %s is not in %s: install PostgreSQL 15 (apt-get install postgresql-15; web/test.sh does it), "+
				"set %s to the directory of initdb and pg_ctl, or set %s=postgres://… to use a server that you have", b, bin, EnvPostgresBin, EnvPostgres)
		}
	}
	dir, err := os.MkdirTemp("", "wallboard-pg-")
	if err != nil {
		return nil, err
	}
	// PostgreSQL refuses to run as root: run it as a user of its own.
	var as []string
	if os.Geteuid() == 0 {
		name, uid, gid, err := unprivileged()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		as = []string{"runuser", "-u", name, "--"}
	}
	runAs := func(args ...string) error {
		args = append(as, args...)
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if err := runAs(filepath.Join(bin, "initdb"), "-D", data, "-U", "wallboard", "-A", "trust", "-E", "UTF8",
		"--no-sync", "--no-instructions"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("failed to make a PostgreSQL cluster: %w", err)
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", port, dir)
	if err := runAs(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("failed to start PostgreSQL: %w\n%s", err, log)
	}
	stop = func() error {
		err := runAs(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop")
		return errors.Join(err, os.RemoveAll(dir))
	}
	u := fmt.Sprintf("postgres://wallboard@/postgres?host=%s&port=%d&sslmode=disable", url.QueryEscape(dir), port)
	if err := connect(u); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// unprivileged returns the user PostgreSQL runs as when the tests run as
// root: "postgres" where the package made it, else "nobody".
func unprivileged() (string, int, int, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return name, uid, gid, nil
	}
	return "", 0, 0, errors.New("running as root, and there is no user postgres or nobody to run PostgreSQL as")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func connect(u string) error {
	db, err := sql.Open("pgx", u)
	if err != nil {
		return fmt.Errorf("failed to open %s: %w", redact(u), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("failed to connect to PostgreSQL at %s: %w", redact(u), err)
	}
	server.url, server.admin = u, db
	return nil
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return p.Redacted()
}

// PostgresURL makes an empty database on the test server and returns its
// URL; the database is dropped when t ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	server.Lock()
	admin, base, err := server.admin, server.url, server.err
	server.n++
	n := server.n
	server.Unlock()
	if err != nil {
		t.Fatalf("no PostgreSQL for the tests: %v", err)
	}
	if admin == nil {
		t.Fatal("no PostgreSQL for the tests: the package's TestMain must run dbtest.Main(m)")
	}
	name := fmt.Sprintf("wallboard_test_%d_%d_%s", os.Getpid(), n, strings.ToLower(rand.Text()[:6]))
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("failed to create a test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("failed to drop test database %s: %v", name, err)
		}
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}

// Case is one database to run a test on.
type Case struct {
	Name string // "sqlite" or "postgres"
	DB   *database.DB
	// URL is the configuration's `database` for it ("" for SQLite), and
	// StateDir its state directory.
	URL, StateDir string
}

// Open returns a fresh, migrated database of each kind, closed when t ends.
func Open(t testing.TB) []Case {
	t.Helper()
	var out []Case
	for _, c := range []Case{{Name: "sqlite"}, {Name: "postgres", URL: PostgresURL(t)}} {
		c.StateDir = t.TempDir()
		db, err := database.Open(context.Background(), database.Options{URL: c.URL, StateDir: c.StateDir})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		t.Cleanup(func() { db.Close() })
		c.DB = db
		out = append(out, c)
	}
	return out
}
