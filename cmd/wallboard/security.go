package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

	"github.com/wallboard/wallboard/internal/config"
)

// setupTLS loads the certificate named in the configuration, if any, so the
// server speaks HTTPS (HTTP/2 included).
func setupTLS(cfg *config.Config, srv *http.Server) error {
	if !cfg.TLS.Enabled() {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
	if err != nil {
		return fmt.Errorf("failed to load the TLS certificate: %w", err)
	}
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return nil
}

// serveHTTP serves plain HTTP, or HTTPS when setupTLS configured it.
func serveHTTP(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}

// scheme is how browsers reach the listener.
func scheme(cfg *config.Config) string {
	if cfg.TLS.Enabled() {
		return "https"
	}
	return "http"
}

// hashPassword reads a password from stdin (without echo on a terminal) and
// prints its bcrypt hash for auth.users[].password_hash. Passwords are never
// taken from flags: they would be visible in the process list and history.
func hashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cost := bcrypt.DefaultCost + 2
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: wallboard hash-password   (reads the password from standard input)")
		return errUsage
	}
	var pw string
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		a, err := readNoEcho(f)
		fmt.Fprintln(stderr)
		if err != nil {
			return err
		}
		fmt.Fprint(stderr, "Again: ")
		b, err := readNoEcho(f)
		fmt.Fprintln(stderr)
		if err != nil {
			return err
		}
		if a != b {
			return errors.New("the passwords differ")
		}
		pw = a
	} else {
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("failed to read the password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if len(pw) < 8 {
		return errors.New("the password must be at least 8 characters")
	}
	if len(pw) > 72 {
		return errors.New("the password must be at most 72 bytes (a bcrypt limit)")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return fmt.Errorf("failed to hash the password: %w", err)
	}
	fmt.Fprintln(stdout, string(h))
	return nil
}

// readNoEcho reads one line from the terminal f with echo turned off.
func readNoEcho(f *os.File) (string, error) {
	b, err := term.ReadPassword(int(f.Fd()))
	if err != nil {
		return "", fmt.Errorf("failed to read the password: %w", err)
	}
	return string(b), nil
}
