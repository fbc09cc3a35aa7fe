// Package capture records what a vendor really sends and reads it back:
// every upstream frame as received, with its time, direction and kind,
// secrets redacted (and agent names pseudonymised on request), as gzipped
// JSON lines under {state_dir}/captures/{source}/, rotated and capped in
// size. wallboard replay feeds the frames back through the same decoders
// and translators as live.
package capture

import (
	"bufio"
	"compress/gzip"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wallboard/wallboard/internal/source"
)

// Version is the format of the files this package writes.
const Version = 1

// Header is the first line of every capture file: which source recorded
// it, and the source's options without secrets (what replay needs to
// decode and translate as live did: formats, state maps, labels).
type Header struct {
	Capture int       `json:"capture"`
	Source  string    `json:"source"`
	Type    string    `json:"type"`
	Options string    `json:"options,omitempty"` // the source's configuration, YAML, secrets redacted
	Started time.Time `json:"started"`
}

// Frame is one recorded frame.
type Frame struct {
	At   time.Time `json:"t"`
	Dir  string    `json:"dir,omitempty"` // "in" (from the vendor), "out" (sent to it)
	Kind string    `json:"kind"`
	Text string    `json:"text,omitempty"` // the bytes, when they are UTF-8
	B64  []byte    `json:"b64,omitempty"`  // the bytes otherwise
}

// Bytes returns the frame's bytes.
func (f Frame) Bytes() []byte {
	if f.B64 != nil {
		return f.B64
	}
	return []byte(f.Text)
}

// Options configure a Writer.
type Options struct {
	MaxBytes     int64 // all files of the source together; default 100 MB
	Pseudonymise bool  // replace agent names
	Now          func() time.Time
	Log          *slog.Logger // told of the first write error; nil: nobody
}

// Writer records one source's frames. It is safe for concurrent use (a
// source's transports may read in several goroutines).
type Writer struct {
	dir  string
	head Header
	opts Options
	key  []byte // pseudonym key, random per Writer

	mu        sync.Mutex
	f         *os.File
	cw        *countWriter
	gz        *gzip.Writer
	enc       *json.Encoder
	opened    time.Time
	lastFlush time.Time
	err       error     // the last write error
	retryAt   time.Time // after a write error, when to try a new file
	logged    bool      // the first error was logged
}

// ext is the file name suffix of capture files.
const ext = ".jsonl.gz"

// Open returns a Writer for the source h names, writing under dir (which
// is created).
func Open(dir string, h Header, o Options) (*Writer, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 100 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("failed to create capture directory: %w", err)
	}
	h.Capture = Version
	w := &Writer{dir: dir, head: h, opts: o, key: make([]byte, 16)}
	_, _ = rand.Read(w.key)
	return w, nil
}

// fileMax is the size at which a file is closed and the next begun: a
// tenth of the cap, so rotation drops a tenth of the history at a time.
func (w *Writer) fileMax() int64 { return max(w.opts.MaxBytes/10, 64<<10) }

// Record writes one frame. Errors are kept (see Err) and the frame is
// dropped: recording must never stop a source.
func (w *Writer) Record(dir, kind string, b []byte) {
	now := w.opts.Now()
	b = source.Redact(b)
	if w.opts.Pseudonymise {
		b = w.pseudonymise(b)
	}
	fr := Frame{At: now.UTC(), Kind: kind}
	if dir != "in" {
		fr.Dir = dir
	}
	if utf8.Valid(b) {
		fr.Text = string(b)
	} else {
		fr.B64 = b
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gz == nil && now.Before(w.retryAt) {
		return // writing failed a moment ago (a full disk): the frame is dropped
	}
	if w.gz == nil || w.cw.n >= w.fileMax() || now.Sub(w.opened) >= time.Hour {
		if err := w.rotate(now); err != nil {
			w.fail(err, now)
			return
		}
	}
	if err := w.enc.Encode(fr); err != nil {
		w.fail(err, now)
		return
	}
	if now.Sub(w.lastFlush) >= time.Second {
		w.lastFlush = now
		if err := w.gz.Flush(); err != nil {
			w.fail(err, now)
		}
	}
}

// fail keeps err, logs the first one, and gives up the current file: the
// next file is tried ten seconds later. w.mu is held.
func (w *Writer) fail(err error, now time.Time) {
	if w.f != nil {
		_ = w.gz.Close()
		_ = w.f.Close()
		w.gz, w.f, w.enc = nil, nil, nil
	}
	w.retryAt = now.Add(10 * time.Second)
	w.err = err
	if !w.logged && w.opts.Log != nil {
		w.logged = true
		w.opts.Log.Error("capture stopped recording: frames are dropped until writing works again", "source", w.head.Source, "error", err)
	}
}

// Err returns the last write error, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// rotate closes the current file, removes the oldest files while the
// source's captures exceed the cap, and starts a new file.
func (w *Writer) rotate(now time.Time) error {
	if err := w.closeFile(); err != nil {
		return err
	}
	if err := w.trim(w.opts.MaxBytes - w.fileMax()); err != nil {
		return err
	}
	name := filepath.Join(w.dir, safeName(w.head.Source)+"-"+now.UTC().Format("20060102T150405.000000000Z")+ext)
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("failed to create capture file: %w", err)
	}
	w.f, w.cw = f, &countWriter{w: f}
	w.gz = gzip.NewWriter(w.cw)
	w.enc = json.NewEncoder(w.gz)
	w.enc.SetEscapeHTML(false)
	w.opened, w.lastFlush = now, now
	h := w.head
	h.Started = now.UTC()
	return w.enc.Encode(h)
}

func (w *Writer) closeFile() error {
	if w.gz == nil {
		return nil
	}
	err := errors.Join(w.gz.Close(), w.f.Close())
	w.gz, w.f, w.enc = nil, nil, nil
	if err != nil {
		return fmt.Errorf("failed to close capture file: %w", err)
	}
	return nil
}

// trim removes the oldest files until the rest take at most keep bytes.
func (w *Writer) trim(keep int64) error {
	files, err := List(w.dir)
	if err != nil {
		return err
	}
	var total int64
	for _, f := range files {
		total += f.Size
	}
	for _, f := range files { // oldest first
		if total <= keep {
			break
		}
		if err := os.Remove(filepath.Join(w.dir, f.Name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("failed to remove old capture: %w", err)
		}
		total -= f.Size
	}
	return nil
}

// Close finishes the current file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closeFile()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// File is one capture file of a source.
type File struct {
	Name    string
	Size    int64
	ModTime time.Time
}

// List returns the capture files in dir, oldest first (their names sort
// by the time they were begun). A missing dir has none.
func List(dir string) ([]File, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to list captures: %w", err)
	}
	var out []File
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ext) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, File{Name: e.Name(), Size: info.Size(), ModTime: info.ModTime()})
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// ValidName reports whether name can be a capture file's name (no path).
func ValidName(name string) bool {
	return strings.HasSuffix(name, ext) && name == filepath.Base(name) && !strings.HasPrefix(name, ".") &&
		!strings.ContainsAny(name, `/\`)
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// nameJSON finds the values of members that carry a person's name in the
// vendors' frames; nameItem finds 8x8's changed-field items naming one.
var (
	nameJSON = regexp.MustCompile(`(?i)("(?:first_?name|last_?name|full_?name|agent_?name|display_?name|login_?id|` +
		`callqueue[-_]agent[-_]name|name[-_]full[-_]name|sub_fullname|agentName|userName|user_name)"\s*:\s*)"((?:[^"\\]|\\.)*)"`)
	// 8x8's AgentProvChange lists changed fields as provisioningItem
	// objects (JSON) or elements (XML): key, new value, old value.
	nameItem    = regexp.MustCompile(`(?i)\{[^{}]*"provisioningItemKey"\s*:\s*"(?:firstName|lastName|name|agentName|fullName|displayName)"[^{}]*\}`)
	nameItemXML = regexp.MustCompile(`(?is)<provisioningItem>\s*<provisioningItemKey>\s*(?:firstName|lastName|name|agentName|fullName|displayName)\s*<.*?</provisioningItem>`)
	itemValue   = regexp.MustCompile(`(?i)("provisioningItem(?:New|Old)Value"\s*:\s*)"((?:[^"\\]|\\.)*)"`)
	itemValueX  = regexp.MustCompile(`(?i)(<provisioningItem(?:New|Old)Value>)([^<]*)(<)`)
	payloadB64  = regexp.MustCompile(`("payload"\s*:\s*")([A-Za-z0-9+/=]+)"`)
	nameXML     = regexp.MustCompile(`(?i)(<(firstName|lastName|fullName|agentName|displayName|loginId)>)([^<]*)(</)`)
)

// pseudonymise replaces names with "Agent-" and six hex digits of a keyed
// hash: the same name reads the same within one Writer's files, and
// nothing outside them can tell who it was.
func (w *Writer) pseudonymise(b []byte) []byte {
	// Pulsar frames carry the 8x8 event base64-encoded in "payload".
	b = payloadB64.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := payloadB64.FindSubmatch(m)
		raw, err := base64.StdEncoding.DecodeString(string(sub[2]))
		if err != nil {
			return m
		}
		enc := base64.StdEncoding.EncodeToString(w.pseudonymise(raw))
		return append(append(slices.Clone(sub[1]), enc...), '"')
	})
	b = nameJSON.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := nameJSON.FindSubmatch(m)
		return append(append(slices.Clone(sub[1]), '"'), append(w.pseudonym(sub[2]), '"')...)
	})
	b = nameItem.ReplaceAllFunc(b, func(m []byte) []byte {
		return itemValue.ReplaceAllFunc(m, func(v []byte) []byte {
			sub := itemValue.FindSubmatch(v)
			return append(append(slices.Clone(sub[1]), '"'), append(w.pseudonym(sub[2]), '"')...)
		})
	})
	b = nameItemXML.ReplaceAllFunc(b, func(m []byte) []byte {
		return itemValueX.ReplaceAllFunc(m, func(v []byte) []byte {
			sub := itemValueX.FindSubmatch(v)
			return append(append(slices.Clone(sub[1]), w.pseudonym(sub[2])...), sub[3]...)
		})
	})
	return nameXML.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := nameXML.FindSubmatch(m)
		out := append(slices.Clone(sub[1]), w.pseudonym(sub[3])...)
		return append(out, sub[4]...)
	})
}

func (w *Writer) pseudonym(name []byte) []byte {
	if len(name) == 0 {
		return nil
	}
	mac := hmac.New(sha256.New, w.key)
	mac.Write(name)
	return []byte("Agent-" + hex.EncodeToString(mac.Sum(nil)[:3]))
}

// maxLine bounds one line of a capture file when reading (a frame of a
// post up to the webhook's body limit, base64 and JSON-escaped).
const maxLine = 64 << 20

// Read calls fn with the header and every frame of the capture file at
// path, in order. A file cut short (still being written, or a crash)
// yields what it holds.
func Read(path string, fn func(Header, Frame) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("failed to open capture: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("failed to read capture %s: %w", path, err)
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var h Header
	for line := 1; sc.Scan(); line++ {
		if line == 1 {
			if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Capture == 0 {
				return fmt.Errorf("failed to read capture %s: line 1 is not a capture header", path)
			}
			if h.Capture > Version {
				return fmt.Errorf("failed to read capture %s: format %d is newer than this build's (%d)", path, h.Capture, Version)
			}
			continue
		}
		var fr Frame
		if err := json.Unmarshal(sc.Bytes(), &fr); err != nil {
			return fmt.Errorf("failed to read capture %s: line %d: %w", path, line, err)
		}
		if fr.Dir == "" {
			fr.Dir = "in"
		}
		if err := fn(h, fr); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("failed to read capture %s: %w", path, err)
	}
	return nil
}

// Files expands the arguments of wallboard replay: files as given, and
// the capture files of a directory and its subdirectories (one per
// source), each source's in order.
func Files(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		info, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("failed to read %s: %w", a, err)
		}
		if !info.IsDir() {
			out = append(out, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ext) {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("failed to read %s: %w", a, err)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no capture files (*" + ext + ") given")
	}
	slices.Sort(out)
	return out, nil
}
