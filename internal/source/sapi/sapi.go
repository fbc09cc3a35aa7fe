// Package sapi reads 8x8's legacy Streaming API (SAPI): an Atmosphere HTTP
// streaming response that carries 8x8's single-key event wrappers as
// newline-delimited JSON or XML. It translates them with package
// eightbyeight.
//
// Sessions end every 60 minutes and connections drop; the source then
// reconnects at once with the same subscription id, and 8x8 replays what
// the subscription missed (two hours of it). Replayed events are recognized
// by their msgInfo ids and dropped. What the subscription does not replay
// (a new one, a gap past two hours, the last flush tick before a crash)
// the agents' states are read back from 8x8's Agent Status API after a
// start or a long disconnection (eightbyeight.Resyncer).
package sapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"crypto/tls"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/eightbyeight"
)

// Source is one 8x8-sapi subscription.
type Source struct {
	cfg    settings
	client *http.Client
	log    *slog.Logger
	tr     *eightbyeight.Translator
	seen   *eightbyeight.Seen
	notes  *source.Notes          // values the mapping does not know, quoting the event
	rec    source.Recorder        // nil unless capture is on
	replay *framer                // wallboard replay's framer
	resync *eightbyeight.Resyncer // nil without agent_status_url

	mu       sync.Mutex
	tracking string // Atmosphere tracking id the server assigned
}

// settings are the source's common keys and its own options.
type settings struct {
	config.Source
	Options
}

// New returns the source for sc, an 8x8-sapi configuration.
func New(sc config.Source, log *slog.Logger) (*Source, error) {
	if sc.Type != Type {
		return nil, fmt.Errorf("failed to create 8x8-sapi source %s: type is %q", sc.Name, sc.Type)
	}
	o, err := optionsOf(sc)
	if err != nil {
		return nil, err
	}
	cfg := settings{sc, o}
	m, err := eightbyeight.NewMapping(cfg.StateMap, cfg.ReasonLabels)
	if err != nil {
		return nil, fmt.Errorf("failed to create 8x8-sapi source %s: %w", cfg.Name, err)
	}
	if _, err := url.Parse(cfg.URL); err != nil {
		return nil, fmt.Errorf("failed to create 8x8-sapi source %s: %w", cfg.Name, err)
	}
	rs, err := eightbyeight.NewResyncer(cfg.Options.Options, cfg.Tenant, cfg.InsecureSkipVerify, m)
	if err != nil {
		return nil, fmt.Errorf("failed to create 8x8-sapi source %s: %w", cfg.Name, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = cfg.ConnectTimeout.D()
	if cfg.InsecureSkipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // lab use, documented
	}
	return &Source{cfg: cfg, client: &http.Client{Transport: tr}, log: log,
		tr: eightbyeight.NewTranslator(m), seen: eightbyeight.NewSeen(20000), tracking: "0", resync: rs}, nil
}

// Name returns the configured name.
func (s *Source) Name() string { return s.cfg.Name }

// Type returns "8x8-sapi".
func (s *Source) Type() string { return Type }

// subscribeURL builds the vendor's subscribe URL.
func (s *Source) subscribeURL() string {
	format := "NEWLINE_JSON"
	if s.cfg.Format == "xml" {
		format = "NEWLINE_XML"
	}
	s.mu.Lock()
	tracking := s.tracking
	s.mu.Unlock()
	q := url.Values{}
	q.Set("desiredOutputType", format)
	q.Set("tenantId", s.cfg.Tenant)
	q.Set("subsId", s.cfg.SubscriptionID)
	q.Set("X-Atmosphere-Transport", "streaming")
	q.Set("X-Atmosphere-Framework", "2.3.2-javascript")
	q.Set("X-Atmosphere-tracking-id", tracking)
	return strings.TrimRight(s.cfg.URL, "/") + "/api/streaming/v1/clientconnect/subscribe/TenantUpdates-" +
		url.PathEscape(s.cfg.Tenant) + "-" + url.PathEscape(s.cfg.SubscriptionID) + "?" + q.Encode()
}

// authorization returns the Authorization header: 8x8's token is the
// Basic credential itself, so it is sent as "Basic <token>" unless the
// configured value already names its scheme.
func (s *Source) authorization() string {
	t := s.cfg.Token.Reveal()
	if strings.HasPrefix(t, "Basic ") || strings.HasPrefix(t, "Bearer ") {
		return t
	}
	return "Basic " + t
}

// Run holds one streaming session until it ends, fails or ctx is done.
func (s *Source) Run(ctx context.Context, r *source.Reporter) error {
	s.notes = source.NewNotes(r)
	s.tr.SetNotes(s.notes)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.subscribeURL(), nil)
	if err != nil {
		return source.Permanent("invalid url", err)
	}
	req.Header.Set("Authorization", s.authorization())
	req.Header.Set("Accept", "text/plain, */*")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("failed to subscribe: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return refusal(resp)
	}
	if id := resp.Header.Get("X-Atmosphere-tracking-id"); id != "" {
		s.mu.Lock()
		s.tracking = id
		s.mu.Unlock()
	}
	r.Live()
	r.Detail("")
	// The subscription keeps (and replays) two hours of what it missed,
	// but nothing older, and a new one nothing at all: after a start or a
	// long gap, the agents' current states come from the agent status
	// API, beside the stream.
	var resyncing sync.WaitGroup
	defer func() {
		cancel(nil)
		resyncing.Wait()
		s.resync.Ended(time.Now())
	}()
	if s.resync.Due(time.Now()) {
		resyncing.Add(1)
		go func() {
			defer resyncing.Done()
			s.resync.Run(ctx, r.Logger(), source.NewNotes(r), r.Emit)
		}()
	}

	idle := s.cfg.IdleTimeout.D()
	errIdle := fmt.Errorf("no data or heartbeat for %s", idle)
	watchdog := time.AfterFunc(idle, func() { cancel(errIdle) })
	defer watchdog.Stop()

	fr := newFramer()
	buf := make([]byte, 32<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			watchdog.Reset(idle)
			r.Touch()
			if s.rec != nil {
				s.rec.Record("in", "8x8-sapi", buf[:n])
			}
			fr.push(buf[:n])
			if err := s.drain(ctx, r, fr); err != nil {
				return err
			}
		}
		if rerr != nil {
			if cause := context.Cause(ctx); cause != nil && errors.Is(cause, errIdle) {
				return cause
			}
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(rerr, io.EOF) {
				return nil // the session ended (8x8 ends them every 60 minutes)
			}
			return fmt.Errorf("failed to read stream: %w", rerr)
		}
	}
}

// drain handles every complete item in the framer.
func (s *Source) drain(ctx context.Context, r *source.Reporter, fr *framer) error {
	for {
		kind, b := fr.next()
		switch kind {
		case itemNone:
			return nil
		case itemKeepalive:
			continue
		case itemJunk:
			r.Malformed("sapi-bytes", b, errors.New("not an event"))
			continue
		}
		r.Message()
		msg, err := eightbyeight.Decode(b)
		if errors.Is(err, eightbyeight.ErrUnknownWrapper) {
			s.log.Debug("ignored 8x8 event", "error", err)
			continue
		}
		if err != nil {
			r.Malformed("sapi-event", b, err)
			continue
		}
		id := eightbyeight.EventID(msg.MsgInfo())
		if !s.seen.Add(id) {
			continue // a replay of an event already handled
		}
		s.notes.SetFrame(b)
		if evs := s.tr.Translate(msg, id); len(evs) > 0 {
			if err := r.Emit(ctx, evs...); err != nil {
				return err
			}
		}
	}
}

// refusal turns a non-200 answer into an error: credentials and the
// three-listener limit are permanent (retrying in a loop cannot help and
// would hold a listener slot), the rest is retried with backoff.
func refusal(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	text := strings.ToLower(string(body))
	err := fmt.Errorf("HTTP %d", resp.StatusCode)
	limit := resp.StatusCode == http.StatusTooManyRequests ||
		resp.StatusCode >= 400 && resp.StatusCode < 500 && (strings.Contains(text, "maximum") ||
			strings.Contains(text, "limit") || strings.Contains(text, "too many") || strings.Contains(text, "listeners"))
	switch {
	case limit:
		return source.Permanent(fmt.Sprintf("8x8 refused the subscription (HTTP %d): at most three listeners per tenant may be connected", resp.StatusCode), err)
	case resp.StatusCode == http.StatusUnauthorized:
		return source.Permanent("8x8 rejected the token (HTTP 401): check the SAPI token", err)
	case resp.StatusCode == http.StatusForbidden:
		return source.Permanent("8x8 refused access (HTTP 403): check the token and tenant", err)
	case resp.StatusCode == http.StatusNotFound:
		return source.Permanent("8x8 does not know this subscribe URL (HTTP 404): check url and tenant", err)
	case resp.StatusCode == http.StatusNotImplemented:
		return source.Permanent("8x8 refused the Atmosphere protocol version (HTTP 501)", err)
	}
	return fmt.Errorf("failed to subscribe: %w", err)
}

// SetRecorder records every chunk of the stream as read (capture: true).
// Call it before Run.
func (s *Source) SetRecorder(rec source.Recorder) { s.rec = rec }

// Replay feeds one recorded chunk through the framer, decoder and
// translator as live reading does.
func (s *Source) Replay(ctx context.Context, r *source.Reporter, dir, kind string, _ time.Time, b []byte) error {
	if kind != "8x8-sapi" || dir != "in" {
		return nil
	}
	if s.replay == nil {
		s.replay = newFramer()
		s.notes = source.NewNotes(r)
		s.tr.SetNotes(s.notes)
	}
	r.Touch()
	s.replay.push(b)
	return s.drain(ctx, r, s.replay)
}
