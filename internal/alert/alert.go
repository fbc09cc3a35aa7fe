// Package alert sends queue alarms out of the building: a webhook POST with
// a JSON body when an alarm starts and when it clears, retried with backoff.
// Nothing here blocks the model: a Watcher reads copies of the queues once
// a second, and a Notifier sends from its own goroutine, dropping (and
// counting) notifications when its bounded queue is full.
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/model"
)

// Events of a notification.
const (
	Started = "alarm_started"
	Cleared = "alarm_cleared"
)

// Alarms a queue can raise.
const (
	Waiting      = "waiting"
	LongestWait  = "longest_wait"
	ServiceLevel = "service_level"
)

// Notification is the JSON body of one webhook POST.
type Notification struct {
	Event     string    `json:"event"` // alarm_started or alarm_cleared
	Alarm     string    `json:"alarm"` // waiting, longest_wait or service_level
	Board     string    `json:"board"`
	Queue     QueueRef  `json:"queue"`
	Value     float64   `json:"value"`     // contacts, seconds, or a fraction (0.55)
	Threshold float64   `json:"threshold"` // the board's alarm level, same unit
	Text      string    `json:"text"`      // the same in words, for chat channels
	At        time.Time `json:"at"`
}

// QueueRef names a queue.
type QueueRef struct {
	Source string `json:"source"`
	ID     string `json:"id"`
	Name   string `json:"name"`
}

// Options configure a Notifier.
type Options struct {
	URL      string
	Headers  map[string]string
	Timeout  time.Duration // one attempt; default 5s
	Attempts int           // default 6
	// MinBackoff and MaxBackoff bound the wait between attempts (doubling);
	// defaults 1s and 1m.
	MinBackoff, MaxBackoff time.Duration
	Queue                  int // notifications waiting to be sent; default 256
	Client                 *http.Client
	Logger                 *slog.Logger
}

// Notifier POSTs notifications in order from one goroutine (Run).
type Notifier struct {
	o   Options
	in  chan Notification
	log *slog.Logger

	sent, failed, dropped atomic.Int64
}

// New returns a notifier; call Run to start sending.
func New(o Options) *Notifier {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 6
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(time.Minute, o.MinBackoff)
	}
	if o.Queue <= 0 {
		o.Queue = 256
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{o: o, in: make(chan Notification, o.Queue), log: o.Logger}
}

// FromConfig builds a notifier for the configured webhook (nil when none).
func FromConfig(w *config.Webhook, log *slog.Logger) *Notifier {
	if w == nil {
		return nil
	}
	h := map[string]string{}
	for k, v := range w.Headers {
		h[k] = v.Reveal()
	}
	return New(Options{URL: w.URL, Headers: h, Timeout: w.Timeout.D(), Attempts: w.Attempts, Logger: log})
}

// Notify queues n without waiting; it reports false (and counts a drop)
// when the queue is full.
func (n *Notifier) Notify(x Notification) bool {
	select {
	case n.in <- x:
		return true
	default:
		n.dropped.Add(1)
		n.log.Warn("alert webhook queue full: notification dropped", "alarm", x.Alarm, "board", x.Board, "queue", x.Queue.ID)
		return false
	}
}

// Stats are the notifier's counters.
type Stats struct{ Sent, Failed, Dropped int64 }

// Stats returns the counters.
func (n *Notifier) Stats() Stats {
	return Stats{Sent: n.sent.Load(), Failed: n.failed.Load(), Dropped: n.dropped.Load()}
}

// Run sends until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case x := <-n.in:
			n.send(ctx, x)
		}
	}
}

// send tries x up to Attempts times, waiting MinBackoff, then twice as long
// each time (up to MaxBackoff), between attempts.
func (n *Notifier) send(ctx context.Context, x Notification) {
	body, err := json.Marshal(x)
	if err != nil {
		n.failed.Add(1)
		return
	}
	wait := n.o.MinBackoff
	for attempt := 1; ; attempt++ {
		err := n.post(ctx, body)
		if err == nil {
			n.sent.Add(1)
			return
		}
		if attempt >= n.o.Attempts || ctx.Err() != nil {
			n.failed.Add(1)
			n.log.Warn("alert webhook failed", "alarm", x.Alarm, "event", x.Event, "board", x.Board, "queue", x.Queue.ID,
				"attempts", attempt, "error", err)
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			n.failed.Add(1)
			return
		case <-t.C:
		}
		wait = min(wait*2, n.o.MaxBackoff)
	}
}

func (n *Notifier) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, n.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.o.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wallboard-alert")
	for k, v := range n.o.Headers {
		req.Header.Set(k, v)
	}
	resp, err := n.o.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// BoardQueues are one board's alarm levels and its queues (copies).
type BoardQueues struct {
	Board      string
	Thresholds config.Thresholds
	Queues     []model.Queue
}

// Watcher turns queue states into alarm starts and clears.
type Watcher struct {
	n      *Notifier
	active map[string]Notification // board, queue, alarm → the start sent
}

// NewWatcher returns a watcher that notifies n.
func NewWatcher(n *Notifier) *Watcher {
	return &Watcher{n: n, active: map[string]Notification{}}
}

// Run checks the boards read() returns every interval until ctx ends.
func (w *Watcher) Run(ctx context.Context, interval time.Duration, read func() []BoardQueues) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			w.Check(read(), now)
		}
	}
}

// Check compares the boards' queues at now with the alarms already started:
// it notifies each alarm that starts and each that clears (a queue gone from
// a board clears its alarms too).
func (w *Watcher) Check(boards []BoardQueues, now time.Time) {
	seen := map[string]bool{}
	for _, b := range boards {
		for _, q := range b.Queues {
			for _, a := range alarms(b, q, now) {
				key := b.Board + "\x00" + q.Source + "\x00" + q.ID + "\x00" + a.Alarm
				seen[key] = true
				if _, on := w.active[key]; on {
					continue
				}
				a.Event = Started
				w.active[key] = a
				w.n.Notify(a)
			}
		}
	}
	var gone []string
	for key := range w.active {
		if !seen[key] {
			gone = append(gone, key)
		}
	}
	sort.Strings(gone)
	for _, key := range gone {
		x := w.active[key]
		delete(w.active, key)
		x.Event, x.At = Cleared, now
		x.Value, x.Text = current(boards, x, now), x.Queue.Name+": "+x.Alarm+" alarm cleared"
		w.n.Notify(x)
	}
}

// alarms lists the alarms queue q is in on board b at now.
func alarms(b BoardQueues, q model.Queue, now time.Time) []Notification {
	th := b.Thresholds
	ref := QueueRef{Source: q.Source, ID: q.ID, Name: q.Name}
	var out []Notification
	if al := th.Waiting.Alarm; al > 0 && q.Waiting >= al {
		out = append(out, Notification{Alarm: Waiting, Board: b.Board, Queue: ref, Value: float64(q.Waiting), Threshold: float64(al), At: now,
			Text: fmt.Sprintf("%s: %d waiting (alarm at %d)", q.Name, q.Waiting, al)})
	}
	if al := th.LongestWait.Alarm.D(); al > 0 && !q.OldestWaiting.IsZero() && now.Sub(q.OldestWaiting) >= al {
		w := now.Sub(q.OldestWaiting).Truncate(time.Second)
		out = append(out, Notification{Alarm: LongestWait, Board: b.Board, Queue: ref, Value: w.Seconds(), Threshold: al.Seconds(), At: now,
			Text: fmt.Sprintf("%s: longest wait %s (alarm at %s)", q.Name, w, al)})
	}
	if al := th.ServiceLevel.Alarm; al > 0 {
		if sl, ok := q.ServiceLevel(); ok && sl < al {
			out = append(out, Notification{Alarm: ServiceLevel, Board: b.Board, Queue: ref, Value: sl, Threshold: al, At: now,
				Text: fmt.Sprintf("%s: service level %.0f%% today (alarm below %.0f%%)", q.Name, sl*100, al*100)})
		}
	}
	return out
}

// current is the alarm's figure now, for a clear (0 when the queue is gone).
func current(boards []BoardQueues, x Notification, now time.Time) float64 {
	for _, b := range boards {
		if b.Board != x.Board {
			continue
		}
		for _, q := range b.Queues {
			if q.Source != x.Queue.Source || q.ID != x.Queue.ID {
				continue
			}
			switch x.Alarm {
			case Waiting:
				return float64(q.Waiting)
			case LongestWait:
				if q.OldestWaiting.IsZero() {
					return 0
				}
				return now.Sub(q.OldestWaiting).Truncate(time.Second).Seconds()
			case ServiceLevel:
				sl, _ := q.ServiceLevel()
				return sl
			}
		}
	}
	return 0
}
