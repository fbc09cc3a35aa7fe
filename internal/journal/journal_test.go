package journal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

var t0 = time.Date(2026, 12, 3, 9, 30, 0, 123456789, time.UTC)

// sample returns a batch of source src with n events of several kinds.
func sample(src string, ticket uint64, n int) event.Batch {
	b := event.Batch{Source: src, Cursor: fmt.Sprintf("cursor-%d", ticket), Ticket: ticket}
	for i := range n {
		b.Events = append(b.Events, event.Event{Kind: event.AgentState, Source: src, ID: fmt.Sprintf("e%d-%d", ticket, i),
			At: t0.Add(time.Duration(i) * time.Second), Agent: fmt.Sprintf("a%d", i), State: event.StateNotReady, Reason: "Lunch"})
	}
	return b
}

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		b    event.Batch
	}{
		{name: "empty", b: event.Batch{Source: "s"}},
		{name: "agent state", b: sample("uk", 7, 3)},
		{name: "every field", b: event.Batch{Source: "uk", Cursor: "CAEQAA==", Ticket: 1 << 40, Events: []event.Event{{
			Kind: event.ContactCompleted, Source: "other", ID: "id", At: t0, Agent: "ag", Queue: "q", Interaction: "i",
			State: event.StateBusy, Reason: "r", Name: "n", Queues: []string{"q1", "", "q2"}, QueuedAt: t0.Add(-time.Minute),
			Answered: true, AnsweredAt: t0.Add(-30 * time.Second), Status: event.StatusLive, Detail: "d",
			Roster: []string{"ag1", "ag2"},
		}}}},
		{name: "empty queue list is not nil", b: event.Batch{Source: "s", Events: []event.Event{{Kind: event.AgentInfo, Source: "s", Agent: "a", Queues: []string{}}}}},
		{name: "measures", b: event.Batch{Source: "av", Events: []event.Event{
			{Kind: event.Measures, Source: "av", MeasureOp: event.MeasureUpsert, Producer: "p",
				Set: event.MeasureSet{Target: event.TargetQueue, ID: "q", Name: "Q", Values: map[string]string{"b": "2", "a": "1"}}},
			{Kind: event.Measures, Source: "av", MeasureOp: event.MeasureReplace, Producer: "p", Snapshot: []event.MeasureSet{
				{Target: event.TargetAgent, ID: "x"}, {Target: event.TargetQueue, ID: "y", Values: map[string]string{}}}},
		}}},
		{name: "times before 1970 and far ahead", b: event.Batch{Source: "s", Events: []event.Event{
			{Kind: event.AgentState, Source: "s", At: time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC), QueuedAt: time.Date(3000, 1, 1, 0, 0, 0, 999999999, time.UTC)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := AppendBatch(nil, &tt.b)
			got, err := DecodeBatch(p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.b) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, tt.b)
			}
			for i := range len(p) - 1 { // every truncation is refused, never misread
				if _, err := DecodeBatch(p[:i]); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%d of %d bytes: err %v", i, len(p), err)
				}
			}
		})
	}
}

// durables collects what OnDurable reports.
type durables struct {
	mu sync.Mutex
	m  map[string]uint64
}

func (d *durables) on(src string, t uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[string]uint64{}
	}
	if t <= d.m[src] {
		panic(fmt.Sprintf("ticket of %s went from %d to %d", src, d.m[src], t))
	}
	d.m[src] = t
}

func (d *durables) get() map[string]uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]uint64{}
	for k, v := range d.m {
		out[k] = v
	}
	return out
}

func open(t *testing.T, dir string, o Options) *File {
	t.Helper()
	j, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// replayAll replays after pos and returns the positions and batches seen.
func replayAll(t *testing.T, j *File, after Pos) ([]Pos, []event.Batch, ReplayInfo) {
	t.Helper()
	var ps []Pos
	var bs []event.Batch
	info, err := j.Replay(after, func(p Pos, b *event.Batch) error {
		ps = append(ps, p)
		bs = append(bs, *b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ps, bs, info
}

func TestAppendCommitReplay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var d durables
	j := open(t, dir, Options{OnDurable: d.on})
	replayAll(t, j, 0)
	var want []event.Batch
	for i := 1; i <= 5; i++ {
		b := sample("uk", uint64(i), i)
		want = append(want, b)
		if p, err := j.Append(&b); err != nil || p != Pos(i) {
			t.Fatalf("append %d: pos %d, %v", i, p, err)
		}
		if i == 3 {
			if got := d.get(); len(got) != 0 {
				t.Fatalf("durable before any commit: %v", got)
			}
			if err := j.Commit(); err != nil {
				t.Fatal(err)
			}
			if got := d.get(); got["uk"] != 3 {
				t.Fatalf("after the first commit: %v, want uk:3", got)
			}
		}
	}
	other := sample("us", 9, 1)
	if _, err := j.Append(&other); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if got := d.get(); got["uk"] != 5 || got["us"] != 9 {
		t.Fatalf("after close: %v", got)
	}
	want = append(want, other)

	j = open(t, dir, Options{})
	ps, bs, info := replayAll(t, j, 0)
	if !reflect.DeepEqual(bs, want) || info.Last != 6 || info.Records != 6 || info.Dropped != "" {
		t.Fatalf("replayed %v (%+v), want 6 batches", ps, info)
	}
	// Positions go on after a restart.
	b := sample("uk", 6, 1)
	if p, _ := j.Append(&b); p != 7 {
		t.Fatalf("first position after the restart %d, want 7", p)
	}
	j.Close()
	j = open(t, dir, Options{})
	ps, _, _ = replayAll(t, j, 4)
	if fmt.Sprint(ps) != "[5 6 7]" {
		t.Fatalf("replay after 4: %v", ps)
	}
}

// lastSegment returns the newest segment file of dir.
func lastSegment(t *testing.T, dir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*"+segExt))
	if len(m) == 0 {
		t.Fatal("no segment")
	}
	sort.Strings(m)
	return m[len(m)-1]
}

func TestTornTail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		damage func(b []byte, lastStart int) []byte
		keep   int // records still readable
	}{
		{name: "cut in the last record's body", damage: func(b []byte, s int) []byte { return b[:len(b)-3] }, keep: 3},
		{name: "cut in the last record's header", damage: func(b []byte, s int) []byte { return b[:s+5] }, keep: 3},
		{name: "flipped bit in the last record", damage: func(b []byte, s int) []byte { b[len(b)-2] ^= 0x10; return b }, keep: 3},
		{name: "flipped bit in the length", damage: func(b []byte, s int) []byte { b[s+1] ^= 0x01; return b }, keep: 3},
		{name: "zeros after the last record (preallocated)", damage: func(b []byte, s int) []byte { return append(b, make([]byte, 100)...) }, keep: 4},
		{name: "flipped bit in the third record", damage: func(b []byte, s int) []byte { b[s-2] ^= 0x80; return b }, keep: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			j := open(t, dir, Options{})
			replayAll(t, j, 0)
			var lastStart int
			for i := 1; i <= 4; i++ {
				if i == 4 {
					j.Commit()
					lastStart = int(j.Status().Bytes)
				}
				b := sample("uk", uint64(i), 1)
				j.Append(&b)
			}
			j.Close()
			name := lastSegment(t, dir)
			raw, _ := os.ReadFile(name)
			os.WriteFile(name, tt.damage(raw, lastStart), 0o640)

			j = open(t, dir, Options{})
			ps, bs, info := replayAll(t, j, 0)
			if len(ps) != tt.keep {
				t.Fatalf("replayed %v, want %d records", ps, tt.keep)
			}
			for i, b := range bs {
				if b.Ticket != uint64(i+1) {
					t.Fatalf("record %d has ticket %d", i, b.Ticket)
				}
			}
			if tt.keep < 4 && info.Dropped == "" {
				t.Error("the damage was not reported")
			}
			// The journal goes on after what it could read; a restart
			// reads the old records and the new one.
			b := sample("uk", 9, 1)
			p, _ := j.Append(&b)
			if p != Pos(tt.keep+1) {
				t.Fatalf("next position %d, want %d", p, tt.keep+1)
			}
			j.Close()
			j = open(t, dir, Options{})
			ps, _, info = replayAll(t, j, 0)
			if len(ps) != tt.keep+1 || info.Dropped != "" {
				t.Fatalf("after the repair: %v %+v", ps, info)
			}
			j.Close()
		})
	}
}

func TestCorruptSegmentSetsLaterOnesAside(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := open(t, dir, Options{})
	replayAll(t, j, 0)
	for i := 1; i <= 6; i++ {
		b := sample("uk", uint64(i), 1)
		j.Append(&b)
		if i%2 == 0 {
			j.Commit()
			j.rotate = true // three segments of two records
		}
	}
	j.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segExt))
	if len(segs) != 3 {
		t.Fatalf("segments %v", segs)
	}
	sort.Strings(segs)
	raw, _ := os.ReadFile(segs[1])
	raw[len(raw)-1] ^= 1
	os.WriteFile(segs[1], raw, 0o640)
	j = open(t, dir, Options{})
	ps, _, info := replayAll(t, j, 0)
	if fmt.Sprint(ps) != "[1 2 3]" || !strings.Contains(info.Dropped, "checksum") {
		t.Fatalf("replayed %v, %+v", ps, info)
	}
	if _, err := os.Stat(segs[2] + ".bad"); err != nil {
		t.Errorf("the segment after the damage was not set aside: %v", err)
	}
}

func TestCoveredDeletesSegments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var d durables
	j := open(t, dir, Options{OnDurable: d.on})
	replayAll(t, j, 0)
	for i := 1; i <= 4; i++ {
		b := sample("uk", uint64(i), 2)
		j.Append(&b)
		j.Commit()
	}
	b := sample("uk", 5, 2)
	j.Append(&b) // not committed: a snapshot through 5 makes it durable
	j.Covered(5)
	if got := d.get(); got["uk"] != 5 {
		t.Errorf("durable after a snapshot through 5: %v", got)
	}
	if st := j.Status(); st.Segments != 0 || st.Pending != 0 {
		t.Errorf("after Covered(5): %+v", st)
	}
	b = sample("uk", 6, 2)
	j.Append(&b)
	j.Close()
	j = open(t, dir, Options{})
	ps, _, _ := replayAll(t, j, 5)
	if fmt.Sprint(ps) != "[6]" {
		t.Fatalf("replay after the snapshot: %v", ps)
	}
}

// failingFile is a segment whose writes fail while full is set, after
// writing half of what they were given (as a disk that fills up does).
type failingFile struct {
	*os.File
	full *bool
}

func (f failingFile) Write(p []byte) (int, error) {
	if *f.full {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, syscall.ENOSPC
	}
	return f.File.Write(p)
}

func TestDiskFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var d durables
	full := false
	j := open(t, dir, Options{OnDurable: d.on, MaxPending: 4096, create: func(name string) (segmentFile, error) {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
		return failingFile{f, &full}, err
	}})
	replayAll(t, j, 0)
	b := sample("uk", 1, 1)
	j.Append(&b)
	if err := j.Commit(); err != nil {
		t.Fatal(err)
	}
	full = true
	b = sample("uk", 2, 1)
	j.Append(&b)
	err := j.Commit()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("commit on a full disk: %v", err)
	}
	if got := d.get(); got["uk"] != 1 {
		t.Fatalf("durable while the disk is full: %v, want uk:1", got)
	}
	if st := j.Status(); !strings.Contains(st.Problem, "no space left") || st.Durable != 1 {
		t.Fatalf("status %+v", st)
	}
	// Space again: the waiting record is written whole, once.
	full = false
	b = sample("uk", 3, 1)
	j.Append(&b)
	if err := j.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := d.get(); got["uk"] != 3 || j.Status().Problem != "" {
		t.Fatalf("after space came back: %v %+v", got, j.Status())
	}

	// Full for long: past MaxPending the journal drops what waits and
	// acknowledges nothing until a snapshot covers it.
	full = true
	var last Pos
	for i := uint64(4); j.Status().Problem == "" || !strings.Contains(j.Status().Problem, "snapshot"); i++ {
		b = sample("uk", i, 5)
		last, _ = j.Append(&b)
		j.Commit()
		if i > 1000 {
			t.Fatal("never dropped")
		}
	}
	full = false
	b = sample("uk", 9999, 1)
	after, _ := j.Append(&b)
	if err := j.Commit(); err == nil {
		t.Fatal("a commit after dropped records succeeded: the journal would have a gap")
	}
	if got := d.get(); got["uk"] != 3 {
		t.Fatalf("acknowledged during the gap: %v", got)
	}
	j.Covered(last)
	if err := j.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := d.get(); got["uk"] != 9999 || j.Status().Problem != "" {
		t.Fatalf("after the snapshot: %v %+v", got, j.Status())
	}
	j.Close()
	j = open(t, dir, Options{})
	ps, _, info := replayAll(t, j, last)
	if fmt.Sprint(ps) != fmt.Sprint([]Pos{after}) || info.Dropped != "" {
		t.Fatalf("replay after the snapshot: %v %+v", ps, info)
	}
}

func FuzzReader(f *testing.F) {
	var buf bytes.Buffer
	dir := f.TempDir()
	j, _ := Open(dir, Options{})
	j.Replay(0, func(Pos, *event.Batch) error { return nil })
	for i := 1; i <= 3; i++ {
		b := sample("uk", uint64(i), i)
		j.Append(&b)
	}
	j.Close()
	m, _ := filepath.Glob(filepath.Join(dir, "*"+segExt))
	raw, _ := os.ReadFile(m[0])
	buf.Write(raw)
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()-1])
	f.Add([]byte{})
	f.Add([]byte{255, 255, 255, 255, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		for range 1000 {
			_, body, err := r.Next()
			if err != nil {
				return
			}
			b, err := DecodeBatch(body)
			if err != nil {
				continue
			}
			// What decodes encodes back to the same bytes.
			if again := AppendBatch(nil, &b); !bytes.Equal(again, body) {
				b2, _ := DecodeBatch(again)
				if !reflect.DeepEqual(b, b2) {
					t.Fatalf("round trip changed the batch")
				}
			}
		}
	})
}

func FuzzDecodeBatch(f *testing.F) {
	for i := range 3 {
		b := sample("uk", uint64(i), i)
		f.Add(AppendBatch(nil, &b))
	}
	f.Add([]byte{1, 0, 0, 0, 200, 1})
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := DecodeBatch(p)
		if err != nil {
			return
		}
		b2, err := DecodeBatch(AppendBatch(nil, &b))
		if err != nil || !reflect.DeepEqual(b, b2) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// TestSnapshotAheadOfJournal: a snapshot written through records that
// were never committed (the process died before the commit, after the
// snapshot): the next start goes on after the snapshot, and the start
// after that still reads what came next.
func TestSnapshotAheadOfJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := open(t, dir, Options{})
	replayAll(t, j, 0)
	for i := 1; i <= 5; i++ {
		b := sample("uk", uint64(i), 1)
		j.Append(&b)
		if i == 3 {
			j.Commit()
		}
	}
	// Killed: records 4 and 5 were never written; the snapshot holds 5.
	j = open(t, dir, Options{})
	ps, _, _ := replayAll(t, j, 5)
	if len(ps) != 0 {
		t.Fatalf("replayed %v after a snapshot through 5", ps)
	}
	b := sample("uk", 6, 1)
	if p, _ := j.Append(&b); p != 6 {
		t.Fatalf("next position %d, want 6", p)
	}
	j.Commit() // killed again, before the next snapshot
	j = open(t, dir, Options{})
	ps, _, info := replayAll(t, j, 5)
	if fmt.Sprint(ps) != "[6]" || info.Dropped != "" {
		t.Fatalf("replayed %v (%+v), want [6]", ps, info)
	}
}
