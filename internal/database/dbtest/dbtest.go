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
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
	flag.Parse()
	if f := flag.Lookup("test.list"); f != nil && f.Value.String() != "" {
		return m.Run() // only listing the tests (web/test.sh looks for fuzz targets so): no server
	}
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
	for _, b := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return nil, fmt.Errorf("PostgreSQL's %s is not in %s: install PostgreSQL 15 (apt-get install postgresql-15; web/test.sh does it), "+
				"set %s to the directory of initdb and postgres, or set %s=postgres://… to use a server that you have", b, bin, EnvPostgresBin, EnvPostgres)
		}
	}
	reapStale()
	dir, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (func() error, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	// Whose cluster this is: a later run removes it if this process dies
	// without stopping it (a test that panics, a kill).
	if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fail(err)
	}
	// PostgreSQL refuses to run as root: run it as a user of its own.
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		if _, uid, gid, err = unprivileged(); err != nil {
			return fail(err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			return fail(err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "wallboard", "-A", "trust", "-E", "UTF8",
		"--no-sync", "--no-instructions")
	initdb.Dir, initdb.SysProcAttr = dir, procAttr(uid, gid)
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("failed to make a PostgreSQL cluster with %s: %w\n%s", initdb.Path, err, out))
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	// The server runs in the foreground as a child of the tests (not through
	// pg_ctl), so it dies with them: procAttr asks Linux to send it SIGQUIT
	// (immediate shutdown) when this process ends, whatever way it ends.
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		return fail(err)
	}
	pg := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	pg.Dir, pg.SysProcAttr, pg.Stdout, pg.Stderr = dir, procAttr(uid, gid), logf, logf
	// Linux sends the death signal when the *thread* that started the child
	// ends: start it from a goroutine locked to its thread, which waits for
	// the server and so keeps that thread as long as the server runs.
	started, exited := make(chan error, 1), make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		err := pg.Start()
		started <- err
		if err == nil {
			exited <- pg.Wait()
		}
		logf.Close()
	}()
	if err := <-started; err != nil {
		return fail(fmt.Errorf("failed to start PostgreSQL: %w", err))
	}
	stop = func() error {
		_ = pg.Process.Signal(syscall.SIGINT) // fast shutdown
		var werr error
		select {
		case err := <-exited:
			// A fast shutdown ends with status 0: anything else is worth saying.
			if err != nil {
				werr = fmt.Errorf("PostgreSQL exited with an error on shutdown: %w", err)
			}
		case <-time.After(30 * time.Second):
			_ = pg.Process.Kill()
			werr = fmt.Errorf("PostgreSQL did not stop within 30s of SIGINT and was killed: %w", <-exited)
		}
		return errors.Join(werr, os.RemoveAll(dir))
	}
	u := fmt.Sprintf("postgres://wallboard@/postgres?host=%s&port=%d&sslmode=disable", url.QueryEscape(dir), port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := connect(u)
		if err == nil {
			return stop, nil
		}
		select {
		case werr := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			os.RemoveAll(dir)
			if werr == nil {
				werr = errors.New("exit status 0")
			}
			return nil, fmt.Errorf("PostgreSQL stopped at start: %w\n%s", werr, log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			return nil, errors.Join(fmt.Errorf("%w\n%s", err, log), stop())
		}
	}
}

// tempPrefix names the clusters' temporary directories.
const tempPrefix = "wallboard-pg-"

// reapStale removes the clusters of test processes that died without
// stopping theirs (the server itself died with them, see procAttr).
func reapStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || alive(pid) {
			continue
		}
		if pm, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid")); err == nil {
			if p, err := strconv.Atoi(strings.SplitN(string(pm), "\n", 2)[0]); err == nil && p > 0 && alive(p) {
				continue // still shutting down; the next run removes it
			}
		}
		os.RemoveAll(d)
	}
}

// alive reports whether a process with pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
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
