//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sys/unix"
)

// promptWriter is stderr for a prompt test: it tells when a prompt appears.
type promptWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	prompt chan string
}

func (w *promptWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for _, pr := range []string{"Password: ", "Again: "} {
		if strings.HasSuffix(string(p), pr) {
			w.prompt <- pr
		}
	}
	return len(p), nil
}

// TestHashPasswordTerminal types the password twice on a real terminal
// (a pseudo-terminal): it is asked for twice, never echoed, and hashed.
func TestHashPasswordTerminal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		first   string
		again   string
		wantErr string
	}{
		{name: "typed twice", first: "a good long password", again: "a good long password"},
		{name: "the two differ", first: "a good long password", again: "another long password", wantErr: "differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ptmx, tty, err := pty.Open()
			if err != nil {
				t.Skipf("no pseudo-terminal here: %v", err)
			}
			defer ptmx.Close()
			defer tty.Close()
			echoed := make(chan []byte, 1)
			go func() { b, _ := io.ReadAll(ptmx); echoed <- b }() // what the terminal shows

			stderr := &promptWriter{prompt: make(chan string, 2)}
			var out bytes.Buffer
			done := make(chan error, 1)
			go func() { done <- hashPassword(nil, tty, &out, stderr) }()
			for _, typed := range []string{tt.first, tt.again} {
				select {
				case <-stderr.prompt:
				case <-time.After(10 * time.Second):
					t.Fatal("no prompt within 10s")
				}
				waitEchoOff(t, tty) // the prompt comes first, then echo goes off: type only then
				if _, err := ptmx.Write([]byte(typed + "\n")); err != nil {
					t.Fatal(err)
				}
			}
			err = <-done
			tty.Close()
			shown := <-echoed
			if strings.Contains(string(shown), "password") {
				t.Errorf("the terminal echoed %q", shown)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			hash := strings.TrimSpace(out.String())
			if bcrypt.CompareHashAndPassword([]byte(hash), []byte(tt.first)) != nil {
				t.Errorf("printed %q does not match the password", hash)
			}
		})
	}
}

// waitEchoOff waits until the terminal no longer echoes what is typed.
func waitEchoOff(t *testing.T, tty *os.File) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
	}
	t.Fatal("the terminal still echoes after 10s")
}
