// Package axp is the Avaya Experience Platform source: a Notification API
// client (OAuth2 client credentials with the appkey header, subscriptions
// created, renewed before they expire, recreated when the vendor forgets
// them, deleted on shutdown) and the WebSocket sessions of two families:
// Agent & Engagement events (avaya-engagement) and Analytics Realtime Data
// (avaya-analytics, one subscription per measure producer).
package axp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
)

// The subscription families.
const (
	FamilyEngagement = "AGENT_ENGAGEMENT"
	FamilyAnalytics  = "ANALYTICS"
)

// The authenticationResponse statuses.
const (
	StatusConfirmed           = "CONNECTION_CONFIRMED"
	StatusInvalidToken        = "CONNECTION_FAILED_INVALID_TOKEN"
	StatusUnknownSubscription = "CONNECTION_FAILED_UNKNOWN_SUBSCRIPTION"
	StatusInternalError       = "CONNECTION_FAILED_INTERNAL_SERVER_ERROR"
	StatusConstraintViolation = "CONNECTION_FAILED_CONSTRAINT_VIOLATION"
)

// knownEvents are the documented Agent & Engagement body events.
var knownEvents = setOf("AgentState", "AgentParticipant", "AutomationParticipant", "ExternalParticipant",
	"EngagementPrerouted", "InboundEngagementCreated", "MatchOffered", "OutboundEngagementCreated",
	"SingleStepTransfer", "SingleStepTransferError", "ChannelReady", "AfterContactWorkActivated",
	"AfterContactWorkCompleted")

// Counters are the source's own tallies beyond the Reporter's.
type Counters struct {
	UnknownEvents  int64 // notifications whose event this source does not know
	UnknownFields  int64 // fields this source does not know (tolerated)
	Renewals       int64 // successful :renew calls
	Creations      int64 // subscriptions created
	Reauths        int64 // authentications retried with a new token
	Snapshots      int64 // analytics snapshots applied
	Rereads        int64 // agent re-reads after the attached engagement source reconnected
	UnknownControl int64 // frames with an event name this source does not know
}

// Source is one avaya-engagement or avaya-analytics source.
type Source struct {
	name, typ string
	opts      Options
	api       *Client
	st        source.Store
	log       *slog.Logger
	feeds     []*feed

	rec         source.Recorder // nil unless capture is on
	replaySnaps map[string]*Snapshotter
	replayAt    time.Time // the recorded time of the last replayed measures frame

	unknownEvents, unknownFields, renewals, creations, reauths, snapshots, unknownControl, rereads atomic.Int64

	url      string                          // the configured url (attachKey)
	rep      atomic.Pointer[source.Reporter] // analytics with attach_to: while Run runs (reread.go)
	sessions atomic.Int64                    // engagement: sessions confirmed

	mu       sync.Mutex
	loggedUn map[string]bool
	mirror   map[string]map[string]map[string]string // agent producer → agent → mirrored measures (reread.go)
}

// feed is one subscription and its socket: the engagement source has one,
// the analytics source one per measure producer.
type feed struct {
	producer string
	sub      *Subscription
	tr       *Translator // engagement only; lives across reconnects
}

// New returns the source that cfg configures. st (may be nil) remembers
// subscription ids so that a restart after a crash deletes the orphans.
func New(cfg config.Source, st source.Store, log *slog.Logger) (*Source, error) {
	if cfg.Type != TypeEngagement && cfg.Type != TypeAnalytics {
		return nil, fmt.Errorf("failed to create avaya source %s: type %q is not an avaya type", cfg.Name, cfg.Type)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts, err := optionsOf(cfg)
	if err != nil {
		return nil, err
	}
	api, err := NewClient(ClientOptions{URL: cfg.URL, AccountID: opts.AccountID, ClientID: opts.ClientID,
		ClientSecret: string(opts.ClientSecret), AppKey: string(opts.AppKey), TokenURL: opts.TokenURL,
		Timeout: opts.RequestTimeout.D(), InsecureSkipVerify: cfg.InsecureSkipVerify})
	if err != nil {
		return nil, fmt.Errorf("failed to create avaya source %s: %w", cfg.Name, err)
	}
	s := &Source{name: cfg.Name, typ: cfg.Type, opts: opts, api: api, st: st, log: log.With("source", cfg.Name),
		loggedUn: map[string]bool{}, url: cfg.URL}
	if cfg.Type == TypeEngagement {
		s.feeds = []*feed{{tr: NewTranslator(opts.ReasonCodes)}}
	} else {
		if len(opts.MeasureProducers) == 0 {
			return nil, fmt.Errorf("failed to create avaya source %s: no measure_producers", cfg.Name)
		}
		for _, p := range opts.MeasureProducers {
			s.feeds = append(s.feeds, &feed{producer: p})
		}
	}
	return s, nil
}

// Name returns the configured name.
func (s *Source) Name() string { return s.name }

// Type returns avaya-engagement or avaya-analytics.
func (s *Source) Type() string { return s.typ }

// Counters returns the source's own tallies.
func (s *Source) Counters() Counters {
	return Counters{UnknownEvents: s.unknownEvents.Load(), UnknownFields: s.unknownFields.Load(),
		Renewals: s.renewals.Load(), Creations: s.creations.Load(), Reauths: s.reauths.Load(),
		Snapshots: s.snapshots.Load(), UnknownControl: s.unknownControl.Load(), Rereads: s.rereads.Load()}
}

// Run runs every feed until ctx ends or one fails; on a clean shutdown it
// deletes the subscriptions.
func (s *Source) Run(ctx context.Context, r *source.Reporter) error {
	defer s.attach(r)()
	var err error
	if len(s.feeds) == 1 {
		err = s.runFeed(ctx, r, s.feeds[0])
	} else {
		fctx, cancel := context.WithCancel(ctx)
		errs := make(chan error, len(s.feeds))
		for _, f := range s.feeds {
			go func() { errs <- s.runFeed(fctx, r, f) }()
		}
		for range s.feeds {
			if e := <-errs; e != nil && err == nil {
				err = e
				cancel() // one producer's failure restarts them all: simpler than partial health
			}
		}
		cancel()
	}
	if ctx.Err() != nil {
		s.deleteAll()
		return nil //nolint:nilerr // shut down: the feeds' errors are the cancellation
	}
	return err
}

// deleteAll deletes every subscription, with its own short deadline because
// the run's context is already done.
func (s *Source) deleteAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, f := range s.feeds {
		if f.sub == nil {
			continue
		}
		if err := s.api.Delete(ctx, f.sub.SubscriptionID); err != nil {
			s.log.Warn("failed to delete subscription on shutdown", "producer", f.producer, "error", err)
			continue
		}
		f.sub = nil
		s.forget(f)
	}
}

var unsafeKey = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (s *Source) storeKey(f *feed) string {
	k := "axp-" + s.name
	if f.producer != "" {
		k += "-" + f.producer
	}
	return unsafeKey.ReplaceAllString(k, "_") + ".subscription"
}

func (s *Source) forget(f *feed) {
	if s.st != nil {
		_ = s.st.Delete(s.storeKey(f))
	}
}

// ensureSubscription creates the feed's subscription when it has none
// (deleting one a crashed run left behind), and renews one that is due.
func (s *Source) ensureSubscription(ctx context.Context, f *feed) error {
	if f.sub != nil && !time.Now().Before(s.renewAt(f.sub)) {
		sub, err := s.api.Renew(ctx, f.sub.SubscriptionID)
		switch {
		case errors.Is(err, ErrUnknownSubscription):
			f.sub = nil
		case err != nil:
			return err
		default:
			s.renewals.Add(1)
			s.adopt(f, sub)
		}
	}
	if f.sub != nil {
		return nil
	}
	if s.st != nil {
		if old, err := s.st.Get(s.storeKey(f)); err == nil && len(old) > 0 {
			if err := s.api.Delete(ctx, string(old)); err != nil {
				s.log.Warn("failed to delete a previous run's subscription", "error", err)
			}
		}
	}
	events, ext := s.opts.Events, map[string]string(nil)
	family := FamilyEngagement
	if f.producer != "" {
		family, events, ext = FamilyAnalytics, []string{"ALL"}, map[string]string{"measureProducerId": f.producer}
	}
	sub, err := s.api.Create(ctx, family, events, ext)
	if err != nil {
		return err
	}
	s.creations.Add(1)
	f.sub = sub
	if s.st != nil {
		if err := s.st.Put(s.storeKey(f), []byte(sub.SubscriptionID)); err != nil {
			s.log.Warn("failed to remember subscription", "error", err)
		}
	}
	return nil
}

// adopt takes a renewal's answer, keeping the endpoint and lifetime already
// known when the answer leaves them out.
func (s *Source) adopt(f *feed, sub *Subscription) {
	if sub.SubscriptionID == "" {
		sub.SubscriptionID = f.sub.SubscriptionID
	}
	if sub.Transport.Endpoint == "" {
		sub.Transport = f.sub.Transport
	}
	if sub.Lifetime <= 0 {
		sub.Lifetime = f.sub.Lifetime
	}
	f.sub = sub
}

// renewAt is when a subscription is renewed: when RenewFraction of its
// lifetime remains (a third by default), or every five minutes when the
// vendor did not say how long it lives.
func (s *Source) renewAt(sub *Subscription) time.Time {
	if sub.Lifetime <= 0 {
		return sub.Received.Add(5 * time.Minute)
	}
	return sub.Received.Add(time.Duration(float64(sub.Lifetime) * (1 - s.opts.RenewFraction)))
}

// runFeed connects one feed (creating or renewing its subscription,
// authenticating, recovering from a rejected token or a forgotten
// subscription) and runs its session.
func (s *Source) runFeed(ctx context.Context, r *source.Reporter, f *feed) error {
	const attempts = 3
	for attempt := 1; ; attempt++ {
		if err := s.ensureSubscription(ctx, f); err != nil {
			return err
		}
		asked := time.Now()
		conn, resp, err := s.connect(ctx, f)
		if err != nil {
			return err
		}
		switch resp.Status {
		case StatusConfirmed:
			if f.producer == "" && s.sessions.Add(1) > 1 {
				// Again after a drop: what agents did meanwhile is not
				// replayed; an attached analytics source knows it.
				s.rereadAttached(ctx, asked)
			}
			return s.session(ctx, r, f, conn, resp)
		case StatusInvalidToken:
			conn.Close(websocket.StatusNormalClosure, "")
			s.api.InvalidateToken()
			s.reauths.Add(1)
			if attempt >= attempts {
				return source.Permanent("the notification websocket rejects every new access token ("+resp.Status+")", ErrUnauthorized)
			}
			s.log.Info("websocket rejected the access token; fetching a new one", "producer", f.producer)
		case StatusUnknownSubscription:
			conn.Close(websocket.StatusNormalClosure, "")
			// An INACTIVE subscription comes back with :renew; one the vendor
			// no longer knows answers 404 and is created again.
			s.log.Info("websocket does not know the subscription; renewing or creating it", "producer", f.producer)
			sub, err := s.api.Renew(ctx, f.sub.SubscriptionID)
			switch {
			case errors.Is(err, ErrUnknownSubscription):
				f.sub = nil
			case err != nil:
				return err
			case attempt == 1:
				s.renewals.Add(1)
				s.adopt(f, sub)
			default:
				// Renewed, yet still unknown to the socket: start afresh.
				if err := s.api.Delete(ctx, f.sub.SubscriptionID); err != nil {
					s.log.Debug("failed to delete the subscription", "error", err)
				}
				f.sub = nil
			}
			if attempt >= attempts {
				return fmt.Errorf("failed to authenticate: %s after creating the subscription again", resp.Status)
			}
		case StatusConstraintViolation:
			conn.Close(websocket.StatusNormalClosure, "")
			return source.Permanent("the notification websocket refused the subscription ("+resp.Status+")", nil)
		case StatusInternalError:
			conn.Close(websocket.StatusNormalClosure, "")
			return fmt.Errorf("failed to authenticate: %s (the vendor asks to retry later)", resp.Status)
		default:
			conn.Close(websocket.StatusNormalClosure, "")
			return fmt.Errorf("failed to authenticate: unexpected status %q", source.Excerpt([]byte(resp.Status), 60))
		}
	}
}

// connect dials the subscription's endpoint and sends the authentication
// frame first; it returns the authenticationResponse.
func (s *Source) connect(ctx context.Context, f *feed) (*websocket.Conn, Frame, error) {
	tok, err := s.api.Token(ctx)
	if err != nil {
		return nil, Frame{}, err
	}
	dctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout.D())
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, f.sub.Transport.Endpoint, &websocket.DialOptions{HTTPClient: s.api.HTTPClient()})
	if err != nil {
		if resp != nil && resp.StatusCode == 404 {
			f.sub = nil // the endpoint names the subscription; a 404 means it is gone
		}
		return nil, Frame{}, fmt.Errorf("failed to connect to the notification websocket: %w", scrub(err))
	}
	conn.SetReadLimit(4 << 20)
	auth, _ := json.Marshal(map[string]string{"event": "authentication", "subscriptionId": f.sub.SubscriptionID, "token": tok})
	if err := conn.Write(dctx, websocket.MessageText, auth); err != nil {
		conn.CloseNow()
		return nil, Frame{}, fmt.Errorf("failed to authenticate: %w", err)
	}
	for {
		_, b, err := conn.Read(dctx)
		if err != nil {
			conn.CloseNow()
			return nil, Frame{}, fmt.Errorf("failed to read the authentication response: %w", err)
		}
		kind, fr, err := frameKind(b)
		if err != nil || kind != "auth" {
			continue // nothing but the response is expected before it; skip anything else
		}
		fr.Status = strings.ToUpper(strings.TrimSpace(fr.Status))
		return conn, fr, nil
	}
}

// session reads one confirmed connection until it fails or ctx ends: it
// sends JSON and control pings, treats a missing pong as a dead connection,
// renews the subscription before it expires, and translates data frames.
func (s *Source) session(ctx context.Context, r *source.Reporter, f *feed, conn *websocket.Conn, auth Frame) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer conn.CloseNow()
	// The reader and the control pings end with the session, which returns
	// after them.
	var wg sync.WaitGroup
	defer func() {
		cancel()
		_ = conn.CloseNow()
		wg.Wait()
	}()
	r.Live()
	r.Message()

	if f.sub.Lifetime <= 0 && auth.Expires > 0 {
		f.sub.Received, f.sub.Lifetime = time.Now(), time.Duration(auth.Expires)*time.Second
	}
	pingInterval := time.Duration(auth.PingInterval) * time.Second
	if pingInterval <= 0 {
		pingInterval = time.Duration(f.sub.Transport.PingInterval) * time.Second
	}
	if pingInterval <= 0 {
		pingInterval = 300 * time.Second
	}
	pingEvery := min(s.opts.PingEvery.D(), pingInterval/3)
	pongTimeout := min(s.opts.PongTimeout.D(), pingEvery)

	frames := make(chan []byte)
	readErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			_, b, err := conn.Read(sctx)
			if err != nil {
				readErr <- err
				return
			}
			if s.rec != nil {
				s.rec.Record("in", "avaya:"+f.producer, b)
			}
			select {
			case frames <- b:
			case <-sctx.Done():
				return
			}
		}
	}()

	var snap *Snapshotter
	if f.producer != "" {
		defer s.mirrorDrop(f.producer)
	}
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	if f.producer != "" {
		snap = NewSnapshotter(f.producer)
		snap.Started = time.Now()
		settle.Reset(s.opts.InitSettle.D())
	}

	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	pongWait := time.NewTimer(time.Hour)
	pongWait.Stop()
	defer pongWait.Stop()
	waitingPong := false
	ctrlFail := make(chan error, 1)
	renew := time.NewTimer(max(time.Until(s.renewAt(f.sub)), 0))
	defer renew.Stop()

	for {
		select {
		case <-ctx.Done():
			conn.Close(websocket.StatusNormalClosure, "shutting down")
			return nil
		case err := <-readErr:
			return fmt.Errorf("failed to read from the notification websocket: %w", err)
		case err := <-ctrlFail:
			return fmt.Errorf("connection dead: %w", err)
		case <-pongWait.C:
			return fmt.Errorf("connection dead: no pong within %s", pongTimeout)
		case <-ping.C:
			msg, _ := json.Marshal(map[string]string{"event": "ping", "subscriptionId": f.sub.SubscriptionID})
			wctx, wcancel := context.WithTimeout(sctx, pongTimeout)
			err := conn.Write(wctx, websocket.MessageText, msg)
			wcancel()
			if err != nil {
				return fmt.Errorf("failed to send ping: %w", err)
			}
			if !waitingPong {
				waitingPong = true
				pongWait.Reset(pongTimeout)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				pctx, pcancel := context.WithTimeout(sctx, pongTimeout)
				defer pcancel()
				if err := conn.Ping(pctx); err != nil && sctx.Err() == nil {
					select {
					case ctrlFail <- err:
					default:
					}
				}
			}()
		case <-renew.C:
			next, err := s.renewNow(sctx, f)
			if err != nil {
				return err
			}
			renew.Reset(next)
		case <-settle.C:
			if snap != nil && snap.Pending() {
				if err := s.emitMeasures(ctx, r, snap.Started, snap.Flush()); err != nil {
					return nil
				}
			}
		case b := <-frames:
			r.Message()
			kind, fr, err := frameKind(b)
			if err != nil {
				r.Malformed("frame", b, err)
				continue
			}
			switch kind {
			case "pong":
				waitingPong = false
				pongWait.Stop()
			case "auth":
				if st := strings.ToUpper(fr.Status); st != StatusConfirmed {
					return fmt.Errorf("the vendor ended the session: %s", source.Excerpt([]byte(st), 60))
				}
			case "ping", "other":
				s.unknownControl.Add(1)
				s.noteUnknown("control frame " + source.Excerpt([]byte(fr.Event), 40))
			case "data":
				if snap != nil {
					if err := s.measureFrame(ctx, r, snap, settle, b); err != nil {
						return nil
					}
				} else if err := s.notification(ctx, r, f.tr, b); err != nil {
					return nil
				}
			}
		}
	}
}

// renewNow renews the feed's subscription and says when to renew next. A
// failed renewal is retried sooner while time remains; a forgotten
// subscription ends the session so that it is created again.
func (s *Source) renewNow(ctx context.Context, f *feed) (time.Duration, error) {
	sub, err := s.api.Renew(ctx, f.sub.SubscriptionID)
	switch {
	case errors.Is(err, ErrUnknownSubscription):
		f.sub = nil
		return 0, fmt.Errorf("failed to renew subscription: the vendor no longer knows it")
	case err != nil:
		left := time.Until(f.sub.Expiry())
		if left <= 0 {
			return 0, err
		}
		s.log.Warn("failed to renew subscription; retrying", "error", err)
		return max(left/4, 200*time.Millisecond), nil
	}
	s.renewals.Add(1)
	s.adopt(f, sub)
	return max(time.Until(s.renewAt(f.sub)), 0), nil
}

// notification decodes and translates one Agent & Engagement frame. It
// returns an error only when ctx ended while emitting.
func (s *Source) notification(ctx context.Context, r *source.Reporter, tr *Translator, b []byte) error {
	n, err := DecodeNotification(b)
	if errors.Is(err, ErrNotNotification) {
		s.unknownControl.Add(1)
		return nil
	}
	if err != nil {
		r.Malformed("notification", b, err)
		return nil
	}
	if len(n.Unknown) > 0 {
		s.unknownFields.Add(int64(len(n.Unknown)))
		for _, k := range n.Unknown {
			s.noteUnknown("field " + k)
			if stateLike(k) {
				r.Unmapped("field", k, "", b)
			}
		}
	}
	if !knownEvents[n.Body.Event] {
		s.unknownEvents.Add(1)
		s.noteUnknown("event " + source.Excerpt([]byte(n.Body.Event), 60))
		r.Unmapped("event", n.Body.Event, "", b)
	}
	if !tr.Notes.For(r) {
		tr.Notes = source.NewNotes(r)
	}
	tr.Notes.SetFrame(b)
	evs := tr.Translate(n)
	if len(evs) == 0 {
		return nil
	}
	return r.Emit(ctx, evs...)
}

// measureFrame decodes one analytics frame into the snapshotter.
func (s *Source) measureFrame(ctx context.Context, r *source.Reporter, snap *Snapshotter, settle *time.Timer, b []byte) error {
	f, err := DecodeMeasureFrame(b)
	if err != nil {
		r.Malformed("measures", b, err)
		return nil
	}
	started := snap.Started
	evs := snap.Apply(f)
	if snap.Pending() {
		settle.Reset(s.opts.InitSettle.D())
	}
	return s.emitMeasures(ctx, r, started, evs)
}

// emitMeasures hands measure events on; an agent producer's snapshot also
// resyncs the attached engagement source's agents (AgentResync), as of
// started, when the snapshot was asked for.
func (s *Source) emitMeasures(ctx context.Context, r *source.Reporter, started time.Time, evs []event.Event) error {
	if len(evs) == 0 {
		return nil
	}
	s.mirrorApply(evs)
	var resync []event.Event
	for i := range evs {
		if evs[i].MeasureOp == event.MeasureReplace {
			s.snapshots.Add(1)
			resync = append(resync, AgentResync(s.opts.AttachTo, started, evs[i])...)
		}
		// attach_to: the measures describe the agents and queues of an
		// engagement source (another subscription of the same account), so
		// they go onto that source's entities and its queue tiles.
		if s.opts.AttachTo != "" && evs[i].Kind == event.Measures {
			evs[i].Source = s.opts.AttachTo
		}
	}
	if len(resync) > 0 {
		evs = append(evs, resync...)
	}
	return r.Emit(ctx, evs...)
}

// stateLike reports whether an unknown field's name suggests it carries
// an agent's or a contact's state (worth showing as unmapped).
func stateLike(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"state", "status", "reason", "presence", "availab"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// noteUnknown logs each unknown name once (up to a bound) at debug level.
func (s *Source) noteUnknown(what string) {
	s.mu.Lock()
	first := !s.loggedUn[what] && len(s.loggedUn) < 256
	if first {
		s.loggedUn[what] = true
	}
	s.mu.Unlock()
	if first {
		s.log.Debug("tolerated unknown input", "what", what)
	}
}

// SetRecorder records every notification frame as read, per feed
// (capture: true). Call it before Run.
func (s *Source) SetRecorder(rec source.Recorder) { s.rec = rec }

// Replay feeds one recorded frame (kind "avaya:{producer}", "" for Agent &
// Engagement) through the decoder and translator as a session does.
func (s *Source) Replay(ctx context.Context, r *source.Reporter, dir, kind string, at time.Time, b []byte) error {
	producer, ok := strings.CutPrefix(kind, "avaya:")
	if !ok || dir != "in" {
		return nil
	}
	r.Message()
	fk, _, err := frameKind(b)
	if err != nil {
		r.Malformed("frame", b, err)
		return nil
	}
	if fk != "data" {
		return nil
	}
	if producer == "" {
		if len(s.feeds) == 0 || s.feeds[0].tr == nil {
			return nil // an analytics source has no Agent & Engagement feed
		}
		return s.notification(ctx, r, s.feeds[0].tr, b)
	}
	if s.replaySnaps == nil {
		s.replaySnaps = map[string]*Snapshotter{}
	}
	snap := s.replaySnaps[producer]
	if snap == nil {
		snap = NewSnapshotter(producer)
		s.replaySnaps[producer] = snap
	}
	f, err := DecodeMeasureFrame(b)
	if err != nil {
		r.Malformed("measures", b, err)
		return nil
	}
	s.replayAt = at // a replayed snapshot's agents are as of when it was recorded
	return s.emitMeasures(ctx, r, at, snap.Apply(f))
}

// ReplayDone hands on what the analytics feeds still hold (live, the
// settle timer would have).
func (s *Source) ReplayDone(ctx context.Context, r *source.Reporter) error {
	for _, snap := range s.replaySnaps {
		if snap.Pending() {
			if err := s.emitMeasures(ctx, r, s.replayAt, snap.Flush()); err != nil {
				return err
			}
		}
	}
	return nil
}
