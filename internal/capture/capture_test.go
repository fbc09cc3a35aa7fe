package capture

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readAll(t *testing.T, dir string) (Header, []Frame) {
	t.Helper()
	files, err := Files([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var h Header
	var out []Frame
	for _, p := range files {
		if err := Read(p, func(hd Header, f Frame) error { h = hd; out = append(out, f); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return h, out
}

// TestRecordRead: frames come back in order with their time, direction,
// kind and bytes (binary ones too), secrets redacted.
func TestRecordRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	w, err := Open(dir, Header{Source: "s", Type: "8x8-sapi", Options: "format: json\n"}, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	w.Record("in", "8x8-sapi", []byte(`{"AgentStatusChange":{"newState":4}}`))
	now = now.Add(time.Second)
	w.Record("out", "netsapiens-api", []byte("POST /subscriptions\n{\"token\":\"hunter2\"}"))
	w.Record("in", "bin", []byte{0xff, 0x00, 0x01})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	h, frames := readAll(t, dir)
	if h.Source != "s" || h.Type != "8x8-sapi" || h.Options != "format: json\n" || h.Capture != Version {
		t.Errorf("header %+v", h)
	}
	want := []string{
		`10:00:00 in 8x8-sapi {"AgentStatusChange":{"newState":4}}`,
		"10:00:01 out netsapiens-api POST /subscriptions\n{\"token\":\"[redacted]\"}",
		"10:00:01 in bin \xff\x00\x01",
	}
	if len(frames) != len(want) {
		t.Fatalf("%d frames, want %d", len(frames), len(want))
	}
	for i, f := range frames {
		if got := f.At.Format("15:04:05") + " " + f.Dir + " " + f.Kind + " " + string(f.Bytes()); got != want[i] {
			t.Errorf("frame %d: %q, want %q", i, got, want[i])
		}
	}
}

// TestRotatedAndCapped: files rotate at a tenth of the cap and the oldest
// go, so a source's captures stay under capture_max_mb.
func TestRotatedAndCapped(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	const maxBytes = 256 << 10
	w, err := Open(dir, Header{Source: "s", Type: "t"}, Options{MaxBytes: maxBytes, Now: func() time.Time { now = now.Add(time.Millisecond); return now }})
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 8192)
	for range 120 { // 2 MB of text that compresses to about half
		rand.Read(raw)
		w.Record("in", "k", []byte(hex.EncodeToString(raw)))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := List(dir)
	var total int64
	for _, f := range files {
		total += f.Size
	}
	if len(files) < 3 || total > maxBytes+maxBytes/10 {
		t.Errorf("%d files, %d bytes; want several, at most about %d", len(files), total, maxBytes)
	}
	// The newest frames are kept.
	_, frames := readAll(t, dir)
	if len(frames) == 0 || !frames[len(frames)-1].At.Equal(now) {
		t.Errorf("the last frame is not kept")
	}
}

// TestPseudonymise: names become stable pseudonyms; ids, states and queue
// names stay.
func TestPseudonymise(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := Open(dir, Header{Source: "s", Type: "t"}, Options{Pseudonymise: true})
	if err != nil {
		t.Fatal(err)
	}
	in := []string{
		`[{"callqueue-agent-id":"1001","callqueue-agent-name":"Marcus Lee","callqueue-name":"Sales"}]`,
		`{"AgentProvChange":{"agentId":"ag1","provisioningItems":{"provisioningItem":[{"provisioningItemKey":"firstName","provisioningItemNewValue":"Marcus","provisioningItemOldValue":"marcus"},{"provisioningItemKey":"phoneUri","provisioningItemNewValue":"+1703"}]}}}`,
		"<AgentProvChange><provisioningItems><provisioningItem>\n<provisioningItemKey>lastName</provisioningItemKey>\n<provisioningItemNewValue>Marcus</provisioningItemOldValue>\n<provisioningItemOldValue></provisioningItemOldValue>\n</provisioningItem><provisioningItem><provisioningItemKey>phoneUri</provisioningItemKey><provisioningItemNewValue>+1703</provisioningItemNewValue></provisioningItem></provisioningItems></AgentProvChange>",
		`<AgentProvChange><agentId>ag1</agentId><firstName>Marcus</firstName></AgentProvChange>`,
		`{"body":{"agentId":"a1","loginId":"marcus.lee@acme","state":"READY"}}`,
		`[{"user":"1001","name-full-name":"Marcus Lee"}]`,
		`{"messageId":"CAcQAQ==","payload":"` + base64.StdEncoding.EncodeToString([]byte(`{"AgentProvChange":{"agentId":"ag1","firstName":"Marcus"}}`)) + `"}`,
	}
	for _, s := range in {
		w.Record("in", "k", []byte(s))
	}
	w.Close()
	_, frames := readAll(t, dir)
	var all []string
	for _, f := range frames {
		all = append(all, string(f.Bytes()))
	}
	pl := strings.Split(strings.Split(all[6], `"payload":"`)[1], `"`)[0]
	dec, err := base64.StdEncoding.DecodeString(pl)
	if err != nil || !strings.Contains(string(dec), `"agentId":"ag1","firstName":"Agent-`) {
		t.Errorf("pulsar payload: %s %v", dec, err)
	}
	all = append(all, string(dec))
	joined := strings.Join(all, "\n")
	for _, leak := range []string{"Marcus", "marcus"} {
		if strings.Contains(joined, leak) {
			t.Errorf("a name is left:\n%s", joined)
		}
	}
	for _, kept := range []string{`"callqueue-name":"Sales"`, `"callqueue-agent-id":"1001"`, `"state":"READY"`, "<agentId>ag1</agentId>",
		`"provisioningItemNewValue":"+1703"`, "<provisioningItemNewValue>+1703<"} {
		if !strings.Contains(joined, kept) {
			t.Errorf("%s is gone:\n%s", kept, joined)
		}
	}
	p1 := strings.Split(strings.Split(all[0], `"callqueue-agent-name":"`)[1], `"`)[0]
	p5 := strings.Split(strings.Split(all[5], `"name-full-name":"`)[1], `"`)[0]
	if !strings.HasPrefix(p1, "Agent-") || p1 != p5 {
		t.Errorf("pseudonyms %q and %q: want the same Agent-… for the same name", p1, p5)
	}
}

// TestReadCutShort: a file still being written (no gzip trailer) yields
// the frames flushed so far; a file that is not a capture is an error
// naming it.
func TestReadCutShort(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	fmt.Fprintln(gz, `{"capture":1,"source":"s","type":"t"}`)
	fmt.Fprintln(gz, `{"t":"2026-12-03T10:00:00Z","kind":"k","text":"one"}`)
	gz.Flush()
	p := filepath.Join(dir, "s-1.jsonl.gz")
	os.WriteFile(p, buf.Bytes(), 0o600)
	n := 0
	if err := Read(p, func(Header, Frame) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("cut short: %d frames, %v; want 1, nil", n, err)
	}
	bad := filepath.Join(dir, "x.jsonl.gz")
	buf.Reset()
	gz = gzip.NewWriter(&buf)
	fmt.Fprintln(gz, `{"hello":1}`)
	gz.Close()
	os.WriteFile(bad, buf.Bytes(), 0o600)
	if err := Read(bad, func(Header, Frame) error { return nil }); err == nil || !strings.Contains(err.Error(), "x.jsonl.gz") {
		t.Errorf("not a capture: %v", err)
	}
}

func TestValidName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     bool
	}{
		{"capture file", "uk-sapi-20261203T100000.000000000Z.jsonl.gz", true},
		{"traversal", "../x.jsonl.gz", false},
		{"hidden", ".x.jsonl.gz", false},
		{"other file", "snapshot.json", false},
		{"backslash", `a\b.jsonl.gz`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ValidName(tc.in); got != tc.want {
				t.Errorf("ValidName(%q) = %v", tc.in, got)
			}
		})
	}
}

// FuzzRead: whatever a capture file holds, Read returns frames or an
// error, never a panic.
func FuzzRead(f *testing.F) {
	f.Add([]byte("{\"capture\":1,\"source\":\"s\",\"type\":\"t\"}\n{\"t\":\"2026-12-03T10:00:00Z\",\"kind\":\"k\",\"text\":\"x\"}\n"))
	f.Add([]byte("{\"capture\":9}\n"))
	f.Add([]byte("{\"capture\":1}\n{\"b64\":\"!!\"}\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		gz.Write(body)
		gz.Close()
		p := filepath.Join(t.TempDir(), "f.jsonl.gz")
		if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		_ = Read(p, func(Header, Frame) error { return nil })
	})
}

// TestWriteFailureDropsThenRecovers: when the directory cannot be written
// the frames are dropped (the source carries on), the error is kept, and
// a new file is tried ten seconds later.
func TestWriteFailureDropsThenRecovers(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "s")
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	w, err := Open(dir, Header{Source: "s", Type: "t"}, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(dir)
	w.Record("in", "k", []byte("lost"))
	if w.Err() == nil {
		t.Fatal("no error kept")
	}
	os.MkdirAll(dir, 0o750)
	now = now.Add(time.Second)
	w.Record("in", "k", []byte("also lost: too soon"))
	now = now.Add(10 * time.Second)
	w.Record("in", "k", []byte("kept"))
	w.Close()
	_, frames := readAll(t, dir)
	if len(frames) != 1 || string(frames[0].Bytes()) != "kept" {
		t.Errorf("frames %v, want only the one after the retry", frames)
	}
}
