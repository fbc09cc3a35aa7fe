package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/wallboard/wallboard/internal/event"
)

// codecVersion is the first byte of every encoded batch; a reader refuses
// any other rather than guess at its meaning.
const codecVersion = 1

// ErrCorrupt is returned (wrapped) for bytes that are not an encoded batch.
var ErrCorrupt = errors.New("journal record is corrupt")

// Which optional fields of an event follow its kind (a bit each).
const (
	fSource uint32 = 1 << iota // the event's Source differs from the batch's
	fID
	fAt
	fAgent
	fQueue
	fInteraction
	fState
	fReason
	fName
	fQueues
	fQueuedAt
	fAnswered
	fAnsweredAt
	fMeasureOp
	fProducer
	fSet
	fSnapshot
	fStatus
	fDetail
	fSentAt // retired: no longer written; skipped when read (older journals)
	fRoster
)

// AppendBatch appends the compact binary form of b to dst: a version byte,
// the batch's ticket, source and cursor, then each event as its kind, a
// bit set of the fields present and those fields (strings length-prefixed,
// times as seconds and nanoseconds). Zero fields cost nothing.
func AppendBatch(dst []byte, b *event.Batch) []byte {
	dst = append(dst, codecVersion)
	dst = binary.AppendUvarint(dst, b.Ticket)
	dst = appendString(dst, b.Source)
	dst = appendString(dst, b.Cursor)
	dst = binary.AppendUvarint(dst, uint64(len(b.Events)))
	for i := range b.Events {
		dst = appendEvent(dst, &b.Events[i], b.Source)
	}
	return dst
}

func appendEvent(dst []byte, e *event.Event, source string) []byte {
	var f uint32
	set := func(bit uint32, on bool) {
		if on {
			f |= bit
		}
	}
	set(fSource, e.Source != source)
	set(fID, e.ID != "")
	set(fAt, !e.At.IsZero())
	set(fAgent, e.Agent != "")
	set(fQueue, e.Queue != "")
	set(fInteraction, e.Interaction != "")
	set(fState, e.State != "")
	set(fReason, e.Reason != "")
	set(fName, e.Name != "")
	set(fQueues, e.Queues != nil)
	set(fQueuedAt, !e.QueuedAt.IsZero())
	set(fAnswered, e.Answered)
	set(fAnsweredAt, !e.AnsweredAt.IsZero())
	set(fMeasureOp, e.MeasureOp != 0)
	set(fProducer, e.Producer != "")
	set(fSet, e.Set.Target != 0 || e.Set.ID != "" || e.Set.Name != "" || e.Set.Values != nil)
	set(fSnapshot, e.Snapshot != nil)
	set(fStatus, e.Status != "")
	set(fDetail, e.Detail != "")
	set(fRoster, e.Roster != nil)

	dst = append(dst, byte(e.Kind))
	dst = binary.AppendUvarint(dst, uint64(f))
	if f&fSource != 0 {
		dst = appendString(dst, e.Source)
	}
	if f&fID != 0 {
		dst = appendString(dst, e.ID)
	}
	if f&fAt != 0 {
		dst = appendTime(dst, e.At)
	}
	if f&fAgent != 0 {
		dst = appendString(dst, e.Agent)
	}
	if f&fQueue != 0 {
		dst = appendString(dst, e.Queue)
	}
	if f&fInteraction != 0 {
		dst = appendString(dst, e.Interaction)
	}
	if f&fState != 0 {
		dst = appendString(dst, string(e.State))
	}
	if f&fReason != 0 {
		dst = appendString(dst, e.Reason)
	}
	if f&fName != 0 {
		dst = appendString(dst, e.Name)
	}
	if f&fQueues != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(e.Queues)))
		for _, q := range e.Queues {
			dst = appendString(dst, q)
		}
	}
	if f&fQueuedAt != 0 {
		dst = appendTime(dst, e.QueuedAt)
	}
	if f&fAnsweredAt != 0 {
		dst = appendTime(dst, e.AnsweredAt)
	}
	if f&fMeasureOp != 0 {
		dst = append(dst, byte(e.MeasureOp))
	}
	if f&fProducer != 0 {
		dst = appendString(dst, e.Producer)
	}
	if f&fSet != 0 {
		dst = appendSet(dst, &e.Set)
	}
	if f&fSnapshot != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(e.Snapshot)))
		for i := range e.Snapshot {
			dst = appendSet(dst, &e.Snapshot[i])
		}
	}
	if f&fStatus != 0 {
		dst = appendString(dst, string(e.Status))
	}
	if f&fDetail != 0 {
		dst = appendString(dst, e.Detail)
	}
	if f&fRoster != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(e.Roster)))
		for _, a := range e.Roster {
			dst = appendString(dst, a)
		}
	}
	return dst
}

func appendSet(dst []byte, s *event.MeasureSet) []byte {
	dst = append(dst, byte(s.Target))
	dst = appendString(dst, s.ID)
	dst = appendString(dst, s.Name)
	if s.Values == nil {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	keys := make([]string, 0, len(s.Values))
	for k := range s.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same set encodes to the same bytes
	dst = binary.AppendUvarint(dst, uint64(len(keys)))
	for _, k := range keys {
		dst = appendString(dst, k)
		dst = appendString(dst, s.Values[k])
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

// DecodeBatch decodes what AppendBatch wrote. Bytes that are not such a
// batch return an error wrapping ErrCorrupt; nothing in them can make it
// allocate more than a small multiple of their length.
func DecodeBatch(p []byte) (event.Batch, error) {
	d := decoder{p: p}
	var b event.Batch
	if v := d.byte(); v != codecVersion {
		if d.err == nil {
			d.fail("version %d, this build reads %d", v, codecVersion)
		}
		return b, d.err
	}
	b.Ticket = d.uvarint()
	b.Source = d.string()
	b.Cursor = d.string()
	n := d.count(2) // an event is at least its kind and its bit set
	if d.err == nil && n > 0 {
		b.Events = make([]event.Event, n)
		for i := range b.Events {
			d.event(&b.Events[i], b.Source)
		}
	}
	if d.err == nil && len(d.p) != 0 {
		d.fail("%d bytes after the last event", len(d.p))
	}
	if d.err != nil {
		return event.Batch{}, d.err
	}
	return b, nil
}

type decoder struct {
	p   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	d.p = nil
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.p) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.p[0]
	d.p = d.p[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.p)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.p = d.p[n:]
	return v
}

// count reads a number of items each at least least bytes long, refusing
// one the remaining bytes cannot hold.
func (d *decoder) count(least int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.p)/least) {
		d.fail("count %d exceeds the record", n)
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.p)) {
		d.fail("string of %d bytes exceeds the record", n)
		return ""
	}
	s := string(d.p[:n])
	d.p = d.p[n:]
	return s
}

func (d *decoder) time() time.Time {
	sec := d.varint()
	ns := d.uvarint()
	if d.err != nil {
		return time.Time{}
	}
	if ns >= 1e9 {
		d.fail("nanoseconds %d", ns)
		return time.Time{}
	}
	return time.Unix(sec, int64(ns)).UTC()
}

func (d *decoder) event(e *event.Event, source string) {
	e.Kind = event.Kind(d.byte())
	f64 := d.uvarint()
	if d.err != nil {
		return
	}
	if f64 >= uint64(fRoster)<<1 {
		d.fail("unknown fields %#x", f64)
		return
	}
	f := uint32(f64)
	e.Source = source
	if f&fSource != 0 {
		e.Source = d.string()
	}
	if f&fID != 0 {
		e.ID = d.string()
	}
	if f&fAt != 0 {
		e.At = d.time()
	}
	if f&fAgent != 0 {
		e.Agent = d.string()
	}
	if f&fQueue != 0 {
		e.Queue = d.string()
	}
	if f&fInteraction != 0 {
		e.Interaction = d.string()
	}
	if f&fState != 0 {
		e.State = event.State(d.string())
	}
	if f&fReason != 0 {
		e.Reason = d.string()
	}
	if f&fName != 0 {
		e.Name = d.string()
	}
	if f&fQueues != 0 {
		n := d.count(1)
		e.Queues = make([]string, 0, n)
		for range n {
			e.Queues = append(e.Queues, d.string())
		}
	}
	if f&fQueuedAt != 0 {
		e.QueuedAt = d.time()
	}
	e.Answered = f&fAnswered != 0
	if f&fAnsweredAt != 0 {
		e.AnsweredAt = d.time()
	}
	if f&fMeasureOp != 0 {
		e.MeasureOp = event.MeasureOp(d.byte())
	}
	if f&fProducer != 0 {
		e.Producer = d.string()
	}
	if f&fSet != 0 {
		d.set(&e.Set)
	}
	if f&fSnapshot != 0 {
		n := d.count(4)
		e.Snapshot = make([]event.MeasureSet, n)
		for i := range e.Snapshot {
			d.set(&e.Snapshot[i])
		}
	}
	if f&fStatus != 0 {
		e.Status = event.Status(d.string())
	}
	if f&fDetail != 0 {
		e.Detail = d.string()
	}
	if f&fSentAt != 0 {
		_ = d.time() // a field older versions wrote
	}
	if f&fRoster != 0 {
		n := d.count(1)
		e.Roster = make([]string, 0, n)
		for range n {
			e.Roster = append(e.Roster, d.string())
		}
	}
}

func (d *decoder) set(s *event.MeasureSet) {
	s.Target = event.TargetKind(d.byte())
	s.ID = d.string()
	s.Name = d.string()
	switch d.byte() {
	case 0:
	case 1:
		n := d.count(2)
		s.Values = make(map[string]string, n)
		for range n {
			k := d.string()
			s.Values[k] = d.string()
		}
	default:
		d.fail("bad measure values marker")
	}
}
