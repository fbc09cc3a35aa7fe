package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/wallboard/wallboard/internal/event"
)

// A record on disk: length (4 bytes, little endian) and CRC-32C (4 bytes)
// of the body, then the body: its position (8 bytes) and the encoded batch.
// A torn or bit-flipped record fails the length or the CRC and is dropped,
// never decoded.
const (
	headerSize = 8
	posSize    = 8
	// maxRecord bounds one record's body, so a corrupt length cannot make
	// a reader allocate without bound.
	maxRecord = 64 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// segExt ends a segment file's name; the name before it is the position of
// the segment's first record, in 20 digits so names sort by position.
const segExt = ".seg"

// DefaultMaxPending bounds what waits in memory for a commit while the disk
// refuses writes (disk full). Past it the waiting records are dropped and
// nothing is acknowledged until a snapshot covers them.
const DefaultMaxPending = 64 << 20

// Options configure a File journal.
type Options struct {
	OnDurable  OnDurable
	Logger     *slog.Logger
	MaxPending int // bytes; default DefaultMaxPending

	// create opens a new segment file (tests put a failing writer here).
	create func(name string) (segmentFile, error)
}

// segmentFile is what the journal needs of an open segment.
type segmentFile interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
	Close() error
}

// recMeta is what a commit needs to know of a record it writes.
type recMeta struct {
	pos    Pos
	source string
	ticket uint64
}

// File is a journal in a directory of segment files.
type File struct {
	dir       string
	log       *slog.Logger
	onDurable OnDurable
	max       int
	create    func(name string) (segmentFile, error)

	// mu guards what Append touches: the records waiting for a commit.
	mu       sync.Mutex
	next     Pos // position of the next record
	replayed bool
	buf      []byte
	meta     []recMeta
	// lost: records up to this position were dropped unwritten (the disk
	// refused them for too long); nothing after it is written nor
	// acknowledged until a snapshot covers it.
	lost    Pos
	covered Pos
	durable Pos
	problem string
	// segCount, segBytes: the segments on disk, for Status, which must
	// not wait for a commit's fsync (cmu) on a slow disk.
	segCount int
	segBytes int64

	// cmu serializes commits and file handling.
	cmu      sync.Mutex
	f        segmentFile
	size     int64 // bytes written and synced into f
	segs     []segment
	rotate   bool
	spare    []byte
	spareMet []recMeta
	tickets  map[string]uint64 // reused per commit
	closed   bool
}

type segment struct {
	first, last Pos // last: 0 until known (replayed or written)
	name        string
	size        int64
}

// Open opens (creating) the journal directory. Call Replay before Append.
func Open(dir string, o Options) (*File, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("failed to create journal directory: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.create == nil {
		o.create = func(name string) (segmentFile, error) {
			return os.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
		}
	}
	j := &File{dir: dir, log: o.Logger, onDurable: o.OnDurable, max: o.MaxPending, create: o.create,
		next: 1, tickets: map[string]uint64{}}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("failed to read journal directory: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		first, ok := strings.CutSuffix(name, segExt)
		if !ok || e.IsDir() {
			continue
		}
		p, err := strconv.ParseUint(first, 10, 64)
		if err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("failed to read journal directory: %w", err)
		}
		j.segs = append(j.segs, segment{first: Pos(p), name: filepath.Join(dir, name), size: info.Size()})
	}
	sort.Slice(j.segs, func(a, b int) bool { return j.segs[a].first < j.segs[b].first })
	return j, nil
}

func segName(dir string, first Pos) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", uint64(first), segExt))
}

// Replay reads every segment in order and calls fn with each record after
// pos. A torn or corrupt record ends the journal there: the rest of its
// segment is cut off and later segments are set aside (renamed *.bad), so
// new records never follow bytes that cannot be read. An error from fn
// stops the replay and is returned.
func (j *File) Replay(after Pos, fn func(Pos, *event.Batch) error) (ReplayInfo, error) {
	j.cmu.Lock()
	defer j.cmu.Unlock()
	var info ReplayInfo
	last := Pos(0)
	for i := 0; i < len(j.segs); i++ {
		sg := j.segs[i]
		good, lastPos, n, ev, why, err := replaySegment(sg, after, last, fn)
		info.Records += n
		info.Events += ev
		if lastPos > 0 {
			last = lastPos
			j.segs[i].last = lastPos
		}
		if err != nil {
			return info, err
		}
		if why == "" {
			continue
		}
		info.Dropped = fmt.Sprintf("%s at byte %d: %s", filepath.Base(sg.name), good, why)
		j.log.Warn("journal: cut off an unreadable tail", "segment", filepath.Base(sg.name), "offset", good, "reason", why)
		if err := os.Truncate(sg.name, good); err != nil {
			return info, fmt.Errorf("failed to cut the journal's torn tail: %w", err)
		}
		j.segs[i].size = good
		for _, later := range j.segs[i+1:] {
			if err := os.Rename(later.name, later.name+".bad"); err != nil {
				return info, fmt.Errorf("failed to set a journal segment aside: %w", err)
			}
			j.log.Warn("journal: set a segment after the unreadable record aside", "segment", filepath.Base(later.name)+".bad")
		}
		j.segs = j.segs[:i+1]
		break
	}
	info.Last = last
	// Segments the snapshot holds entirely are of no more use.
	keep := j.segs[:0]
	for _, sg := range j.segs {
		if sg.last != 0 && sg.last <= after || sg.size == 0 {
			if err := os.Remove(sg.name); err != nil && !errors.Is(err, os.ErrNotExist) {
				return info, fmt.Errorf("failed to delete a covered journal segment: %w", err)
			}
			continue
		}
		keep = append(keep, sg)
	}
	j.segs = keep
	j.publishSegs()
	j.mu.Lock()
	j.next = max(last, after) + 1
	j.durable, j.covered = max(last, after), after
	j.replayed = true
	j.mu.Unlock()
	j.rotate = true // new records go to a new segment
	return info, nil
}

// replaySegment replays one segment; it returns the offset after the last
// good record and, when the segment ends in something unreadable, why.
func replaySegment(sg segment, after, prev Pos, fn func(Pos, *event.Batch) error) (good int64, last Pos, n, evs int, why string, err error) {
	f, err := os.Open(sg.name)
	if err != nil {
		return 0, 0, 0, 0, "", fmt.Errorf("failed to open journal segment: %w", err)
	}
	defer f.Close()
	r := NewReader(f)
	for {
		start := r.Offset()
		pos, body, rerr := r.Next()
		if errors.Is(rerr, io.EOF) {
			return start, last, n, evs, "", nil
		}
		if rerr != nil {
			return start, last, n, evs, rerr.Error(), nil
		}
		want := prev + 1
		if last == 0 {
			want = sg.first
		}
		// Positions follow each other; a segment may start after a gap
		// only where the snapshot holds what is missing (a snapshot
		// written ahead of the last commit, then a restart).
		gapOK := last == 0 && prev <= after && pos == after+1
		if pos != want || (prev != 0 && pos != prev+1 && !gapOK) {
			return start, last, n, evs, fmt.Sprintf("position %d where %d was expected", pos, want), nil
		}
		if pos > after {
			b, derr := DecodeBatch(body)
			if derr != nil {
				return start, last, n, evs, derr.Error(), nil
			}
			n++
			evs += len(b.Events)
			if err := fn(pos, &b); err != nil {
				return r.Offset(), pos, n, evs, "", err
			}
		}
		prev, last = pos, pos
	}
}

// Append encodes b into the next group commit.
func (j *File) Append(b *event.Batch) (Pos, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.replayed {
		return 0, errors.New("journal: Append before Replay")
	}
	pos := j.next
	j.next++
	start := len(j.buf)
	j.buf = append(j.buf, make([]byte, headerSize+posSize)...)
	binary.LittleEndian.PutUint64(j.buf[start+headerSize:], uint64(pos))
	j.buf = AppendBatch(j.buf, b)
	body := j.buf[start+headerSize:]
	binary.LittleEndian.PutUint32(j.buf[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(j.buf[start+4:], crc32.Checksum(body, crcTable))
	j.meta = append(j.meta, recMeta{pos: pos, source: b.Source, ticket: b.Ticket})
	if len(j.buf) > j.max {
		// The disk has refused commits for long enough: keep memory
		// bounded. These records are lost to the journal; nothing after
		// them is acknowledged until a snapshot covers them.
		j.lost = pos
		j.buf = j.buf[:0]
		j.meta = j.meta[:0]
		j.problem = fmt.Sprintf("journal: the disk refused writes until %d bytes waited; records up to position %d are not in the journal and nothing is acknowledged upstream until a snapshot covers them", j.max, pos)
		return pos, errors.New(j.problem)
	}
	return pos, nil
}

// Commit writes everything appended since the last commit in one write,
// syncs it, and reports the sources' durable tickets. On a write or sync
// error the records stay waiting for the next commit and nothing is
// reported durable.
func (j *File) Commit() error {
	j.cmu.Lock()
	defer j.cmu.Unlock()
	if j.closed {
		return errors.New("journal: closed")
	}
	j.mu.Lock()
	if j.lost != 0 {
		// Records before those waiting were dropped: writing these would
		// put a gap into the journal. They wait (bounded by MaxPending)
		// for a snapshot through the dropped ones.
		j.mu.Unlock()
		return errors.New("journal: waiting for a snapshot to cover dropped records")
	}
	buf, meta := j.buf, j.meta
	j.buf, j.meta = j.spare[:0], j.spareMet[:0]
	j.mu.Unlock()
	if len(meta) == 0 {
		j.spare, j.spareMet = buf, meta
		return nil
	}
	if err := j.write(buf, meta[0].pos); err != nil {
		// Put the records back in front of what was appended meanwhile.
		j.mu.Lock()
		if j.lost == 0 {
			j.buf = append(buf, j.buf...)
			j.meta = append(meta, j.meta...)
			if len(j.buf) > j.max {
				j.lost = j.meta[len(j.meta)-1].pos
				j.buf, j.meta = j.buf[:0], j.meta[:0]
			}
		}
		j.problem = "journal: " + err.Error() + ": nothing newer is acknowledged upstream until a write succeeds"
		j.mu.Unlock()
		return err
	}
	last := meta[len(meta)-1].pos
	j.segs[len(j.segs)-1].last = last
	j.mu.Lock()
	j.durable = max(j.durable, last)
	if j.lost == 0 {
		j.problem = ""
	}
	j.mu.Unlock()
	j.report(meta)
	j.spare, j.spareMet = buf[:0], meta[:0]
	return nil
}

// report calls OnDurable with each source's highest ticket in meta.
func (j *File) report(meta []recMeta) {
	if j.onDurable == nil {
		return
	}
	clear(j.tickets)
	for _, m := range meta {
		if m.ticket != 0 && m.ticket > j.tickets[m.source] {
			j.tickets[m.source] = m.ticket
		}
	}
	for s, t := range j.tickets {
		j.onDurable(s, t)
	}
}

// write appends buf (whose first record is at first) to the current
// segment, opening a new one when asked to rotate, and syncs it. A failed
// write is cut back off, so the segment never holds half a commit that a
// later commit would follow.
func (j *File) write(buf []byte, first Pos) error {
	if j.f == nil || j.rotate {
		if j.f != nil {
			if err := j.f.Close(); err != nil {
				j.log.Warn("journal: failed to close a segment", "error", err)
			}
			j.f = nil
		}
		name := segName(j.dir, first)
		f, err := j.create(name)
		if err != nil {
			return fmt.Errorf("failed to create segment: %w", err)
		}
		syncDir(j.dir)
		j.f, j.size, j.rotate = f, 0, false
		if n := len(j.segs); n > 0 && j.segs[n-1].first == first {
			j.segs[n-1] = segment{first: first, name: name} // a retry after a failed first write
		} else {
			j.segs = append(j.segs, segment{first: first, name: name})
		}
	}
	_, err := j.f.Write(buf)
	if err == nil {
		err = j.f.Sync()
		if err != nil {
			err = fmt.Errorf("failed to sync: %w", err)
		}
	} else {
		err = fmt.Errorf("failed to write: %w", err)
	}
	if err != nil {
		if terr := j.f.Truncate(j.size); terr != nil {
			// The file's end is unknown now: continue in a new segment.
			j.rotate = true
		} else if _, serr := j.f.Seek(j.size, io.SeekStart); serr != nil {
			j.rotate = true
		}
		return err
	}
	j.size += int64(len(buf))
	j.segs[len(j.segs)-1].size = j.size
	j.publishSegs()
	return nil
}

// Covered records that a snapshot through pos is written: every record up
// to pos is durable (reported to OnDurable), segments wholly behind it are
// deleted, and a journal that had dropped records resumes once pos covers
// them.
func (j *File) Covered(pos Pos) {
	j.cmu.Lock()
	defer j.cmu.Unlock()
	j.mu.Lock()
	if pos <= j.covered {
		j.mu.Unlock()
		return
	}
	j.covered = pos
	j.durable = max(j.durable, pos)
	// Records waiting for a commit that the snapshot already holds.
	var done []recMeta
	i := 0
	for i < len(j.meta) && j.meta[i].pos <= pos {
		i++
	}
	if i > 0 {
		done = append(done, j.meta[:i]...)
		if i == len(j.meta) {
			j.buf, j.meta = j.buf[:0], j.meta[:0]
		} else {
			// Cut the covered records off the front of the buffer.
			off := 0
			for range i {
				off += headerSize + int(binary.LittleEndian.Uint32(j.buf[off:]))
			}
			j.buf = append(j.buf[:0], j.buf[off:]...)
			j.meta = append(j.meta[:0], j.meta[i:]...)
		}
	}
	if j.lost != 0 && pos >= j.lost {
		j.lost, j.problem = 0, ""
		j.log.Info("journal: a snapshot covers the dropped records; acknowledging again")
	}
	j.mu.Unlock()
	j.report(done)

	// Every segment whose records the snapshot holds goes; new records go
	// to a new segment.
	keep := j.segs[:0]
	for i, sg := range j.segs {
		if sg.last == 0 || sg.last > pos {
			keep = append(keep, sg)
			continue
		}
		if j.f != nil && i == len(j.segs)-1 {
			if err := j.f.Close(); err != nil {
				j.log.Warn("journal: failed to close a segment", "error", err)
			}
			j.f = nil
		}
		if err := os.Remove(sg.name); err != nil && !errors.Is(err, os.ErrNotExist) {
			j.log.Warn("journal: failed to delete a covered segment", "error", err)
			keep = append(keep, sg)
		}
	}
	j.segs = keep
	j.publishSegs()
	j.rotate = true
}

// Status returns the journal's state. It never waits for a commit.
func (j *File) Status() Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	return Status{Appended: j.next - 1, Durable: j.durable, Covered: j.covered, Segments: j.segCount, Bytes: j.segBytes,
		Pending: len(j.buf), Problem: j.problem}
}

// Close commits what is pending and closes the segment.
func (j *File) Close() error {
	err := j.Commit()
	j.cmu.Lock()
	defer j.cmu.Unlock()
	j.closed = true
	if j.f != nil {
		if cerr := j.f.Close(); cerr != nil && err == nil {
			err = cerr
		}
		j.f = nil
	}
	return err
}

// publishSegs copies the segments' count and size for Status; call it
// with cmu held after changing j.segs.
func (j *File) publishSegs() {
	var n int
	var b int64
	for _, sg := range j.segs {
		n++
		b += sg.size
	}
	j.mu.Lock()
	j.segCount, j.segBytes = n, b
	j.mu.Unlock()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Reader reads framed records from a segment.
type Reader struct {
	r   io.Reader
	off int64
	hdr [headerSize]byte
	buf bytes.Buffer
}

// NewReader returns a reader of the records in r.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// Offset is the byte offset after the last record returned.
func (r *Reader) Offset() int64 { return r.off }

// errTorn describes a record that ends early or fails its check.
var errTorn = errors.New("torn or corrupt record")

// Next returns the next record's position and encoded batch (valid until
// the next call). It returns io.EOF at a clean end, and an error wrapping
// errTorn for a record cut short, with an impossible length or a CRC that
// does not match; Offset then still points at that record's start.
func (r *Reader) Next() (Pos, []byte, error) {
	n, err := io.ReadFull(r.r, r.hdr[:headerSize])
	if err == io.EOF {
		return 0, nil, io.EOF
	}
	if err != nil {
		return 0, nil, fmt.Errorf("%w: header cut short after %d bytes", errTorn, n)
	}
	size := binary.LittleEndian.Uint32(r.hdr[:4])
	sum := binary.LittleEndian.Uint32(r.hdr[4:8])
	if size < posSize || size > maxRecord {
		return 0, nil, fmt.Errorf("%w: length %d", errTorn, size)
	}
	// The body grows as it arrives: a corrupt length costs no more
	// memory than the bytes really there.
	r.buf.Reset()
	if n, err := io.CopyN(&r.buf, r.r, int64(size)); err != nil {
		return 0, nil, fmt.Errorf("%w: %d of %d bytes", errTorn, n, size)
	}
	body := r.buf.Bytes()
	if crc32.Checksum(body, crcTable) != sum {
		return 0, nil, fmt.Errorf("%w: checksum mismatch", errTorn)
	}
	r.off += headerSize + int64(size)
	return Pos(binary.LittleEndian.Uint64(body)), body[posSize:], nil
}
