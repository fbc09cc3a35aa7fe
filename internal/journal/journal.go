// Package journal keeps what the model has applied across a kill -9: every
// batch of normalized events is appended before anything upstream is
// acknowledged or a source's cursor moves past it. Appends are buffered and
// written in group commits (one write and one fsync per Commit, which the
// caller runs once per flush tick), off the path from an event to a screen;
// only acknowledgements wait for them, through the OnDurable callback.
//
// A start restores the model's snapshot, which records the position it
// covers, then replays the journal after that position. A written snapshot
// makes the journal behind it unnecessary (Covered), and its segment files
// are deleted.
//
// The Journal interface is what the model's loop needs; File is the
// implementation on a local directory. A replicated log stands in its place
// with the same calls: for a JetStream stream, Append publishes the encoded
// batch (AppendBatch) asynchronously and returns the next sequence the
// publisher expects (the stream's own with an expected-last-sequence
// header, so a gap fails the publish), Commit waits for the outstanding
// publish acknowledgements and reports them through OnDurable, Replay is
// an ordered consumer from after+1, Covered purges up to the position, and
// Status reports the connection. The record framing (length, CRC) is the
// file's own; a stream message carries the batch alone.
package journal

import "github.com/wallboard/wallboard/internal/event"

// Pos is a record's position: 1 for the first record ever, then one more
// per record, across restarts and truncations. 0 means "before anything".
type Pos uint64

// Journal is an append-only log of event batches.
type Journal interface {
	// Append adds b to the next group commit and returns its position.
	// It does not wait for the disk; it is called on the model's goroutine.
	Append(b *event.Batch) (Pos, error)
	// Commit writes and syncs what was appended, then reports durable
	// tickets through the OnDurable callback.
	Commit() error
	// Covered tells the journal that a snapshot through pos is written:
	// records up to pos are durable without it and may be dropped.
	Covered(pos Pos)
	// Replay calls fn with every record after pos, in order, and sets the
	// position of the next Append. Call it once, before the first Append.
	Replay(after Pos, fn func(Pos, *event.Batch) error) (ReplayInfo, error)
	// Status is what operators see (/admin, /readyz).
	Status() Status
	// Close commits what is pending and releases the files.
	Close() error
}

// OnDurable is called after a commit, once per source whose batches became
// durable, with the highest such ticket. It runs on the committing
// goroutine and must not block.
type OnDurable func(source string, ticket uint64)

// ReplayInfo says what Replay found.
type ReplayInfo struct {
	Records int // records replayed (after the snapshot's position)
	Events  int
	Last    Pos // the last good record's position (0: none)
	// Dropped describes a torn or corrupt tail that was cut off (empty:
	// none). A torn last record is what a power cut leaves.
	Dropped string
}

// Status is the journal's state for operators.
type Status struct {
	Appended Pos    // last position appended
	Durable  Pos    // last position written and synced (or covered by a snapshot)
	Covered  Pos    // last position a snapshot covers
	Segments int    // segment files on disk
	Bytes    int64  // their size
	Pending  int    // bytes waiting for the next commit
	Problem  string // why nothing is being acknowledged (disk full, …); empty when healthy
}
