package netsapiens

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
)

// HookPath is the webhook route the server must send to ServeHTTP; the
// source's name replaces {source}.
const HookPath = "/hooks/netsapiens/{source}"

// Source is one netsapiens source: its subscriptions on the vendor's API
// and the receiver of the vendor's posts. The server routes
// POST /hooks/netsapiens/{name} to ServeHTTP; Run keeps the subscriptions
// and hands the accepted posts to the model.
type Source struct {
	cfg     config.Source
	opts    Options
	api     *client
	st      source.Store
	log     *slog.Logger
	postURL string

	posts    chan post                         // accepted, waiting for Run
	ids      atomic.Pointer[map[string]string] // subscription id → model
	rep      atomic.Pointer[source.Reporter]   // set while Run runs
	lastPost atomic.Int64                      // unix nanos of the last accepted post

	// Owned by Run (one at a time under Supervise).
	tr       *Translator
	queues   int        // how many queues the state directory keeps
	mu       sync.Mutex // guards subs for Status
	subs     map[string]*Subscription
	baseline map[string]int64 // error-count when posts were last seen flowing
	seenErrs map[string]int64 // error-count at the last watch (a rise: posts were lost)

	rec source.Recorder // nil unless capture is on (set before Run)
}

type post struct {
	model string
	objs  []Object
	at    time.Time
	// written, when a journal runs, receives the ticket of the post's
	// events once Run has handed them on (0: none), or is closed when
	// they could not be: the handler answers 2xx only once they are
	// durable.
	written chan uint64
}

// DurableWait bounds how long a post waits for its events to be written to
// the journal before it is answered 503 (the vendor counts it failed).
const DurableWait = 3 * time.Second

// stored is what the state directory keeps per model.
type stored struct {
	ID      string `json:"id"`
	PostURL string `json:"post_url"`
	Domain  string `json:"domain"`
}

// New returns the source for cfg (type netsapiens). st keeps the
// subscription ids across restarts (nil: not kept).
func New(cfg config.Source, st source.Store, log *slog.Logger) (*Source, error) {
	if cfg.Type != Type {
		return nil, fmt.Errorf("failed to create netsapiens source %q: type is %q", cfg.Name, cfg.Type)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o, err := optionsOf(cfg)
	if err != nil {
		return nil, err
	}
	if o.PublicURL == "" || o.Domain == "" || cfg.URL == "" {
		return nil, source.Permanent("url, domain and public_url are required", nil)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.InsecureSkipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // lab use, opt-in
	}
	s := &Source{
		cfg: cfg, opts: o, st: st, log: log.With("source", cfg.Name),
		api: &client{base: strings.TrimRight(cfg.URL, "/") + "/ns-api/v2", apiKey: o.APIKey.Reveal(),
			http: &http.Client{Timeout: o.APITimeout.D(), Transport: tr}},
		postURL:  strings.TrimRight(o.PublicURL, "/") + "/hooks/netsapiens/" + cfg.Name,
		posts:    make(chan post, o.WebhookQueue),
		tr:       NewTranslator(cfg.Name, time.UTC),
		subs:     map[string]*Subscription{},
		baseline: map[string]int64{},
		seenErrs: map[string]int64{},
	}
	if slices.Contains(o.Models, "agent") {
		s.tr.ExpectAgentModel()
	}
	// Ids kept from the last run authenticate posts at once, even before
	// Run has checked them with the API.
	s.publishIDs()
	s.loadQueues()
	return s, nil
}

// Name returns the configured source name.
func (s *Source) Name() string { return s.cfg.Name }

// Type returns "netsapiens".
func (s *Source) Type() string { return Type }

// PostURL is the post-url the subscriptions carry.
func (s *Source) PostURL() string { return s.postURL }

func (s *Source) storeKey(model string) string { return "netsapiens-" + s.cfg.Name + "-" + model }

func (s *Source) load(model string) (stored, bool) {
	if s.st == nil {
		return stored{}, false
	}
	b, err := s.st.Get(s.storeKey(model))
	if err != nil {
		return stored{}, false
	}
	var rec stored
	if json.Unmarshal(b, &rec) != nil || rec.ID == "" {
		return stored{}, false
	}
	return rec, true
}

// queuesKey keeps the queue ids the agent model has named.
func (s *Source) queuesKey() string { return "netsapiens-" + s.cfg.Name + ".queues" }

func (s *Source) loadQueues() {
	if s.st == nil {
		return
	}
	var ids []string
	if b, err := s.st.Get(s.queuesKey()); err == nil && json.Unmarshal(b, &ids) == nil {
		s.tr.KnowQueues(ids)
		s.queues = len(s.tr.Queues())
	}
}

// saveQueues keeps the known queue ids when the agent model named a new one.
func (s *Source) saveQueues() {
	ids := s.tr.Queues()
	if s.st == nil || len(ids) == s.queues {
		return
	}
	s.queues = len(ids)
	b, _ := json.Marshal(ids)
	if err := s.st.Put(s.queuesKey(), b); err != nil {
		s.log.Warn("failed to keep the known queues", "error", err)
	}
}

func (s *Source) save(model, id string) {
	if s.st == nil {
		return
	}
	b, _ := json.Marshal(stored{ID: id, PostURL: s.postURL, Domain: s.opts.Domain})
	if err := s.st.Put(s.storeKey(model), b); err != nil {
		s.log.Warn("failed to keep subscription id", "model", model, "error", err)
	}
}

// Run keeps one subscription per model, hands accepted posts to the model
// and watches the subscriptions' status until ctx ends.
func (s *Source) Run(ctx context.Context, r *source.Reporter) error {
	s.rep.Store(r)
	defer s.rep.CompareAndSwap(r, nil)
	s.redactIDs()
	s.tr.SetNotes(source.NewNotes(r))
	if s.lastPost.Load() == 0 {
		s.lastPost.Store(time.Now().UnixNano())
	}
	for _, m := range s.opts.Models {
		if err := s.ensure(ctx, m, r); err != nil {
			return err
		}
	}
	// What the vendor posted while wallboard could not receive it is not
	// posted again: read the agents' current state.
	s.resync(ctx, r)
	if !s.quietWithErrors() {
		// Subscriptions are in place and the vendor reports no failing
		// posts: the pipe works even if nothing happened yet.
		r.Live()
		s.showDetail(r)
	}
	tick := time.NewTicker(s.opts.StatusInterval.D())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s.cleanup(r)
			return nil
		case p := <-s.posts:
			evs, skipped := s.tr.Translate(p.model, p.objs, p.at)
			if p.model == "agent" {
				s.saveQueues()
			}
			if skipped > 0 {
				r.Malformed("netsapiens "+p.model+" object", nil, fmt.Errorf("%d object(s) without an id", skipped))
			}
			if r.Stats().Status != event.StatusLive {
				r.Live() // clears the detail: show the counters again
				s.showDetail(r)
			}
			var ticket uint64
			if len(evs) > 0 {
				t, err := r.EmitCursor(ctx, "", evs...)
				if err != nil {
					if p.written != nil {
						close(p.written)
					}
					if ctx.Err() != nil {
						s.cleanup(r)
						return nil
					}
					return fmt.Errorf("failed to hand events to the model: %w", err)
				}
				ticket = t
			}
			if p.written != nil {
				p.written <- ticket
			}
		case <-tick.C:
			if err := s.watch(ctx, r); err != nil {
				return err
			}
		}
	}
}

// ensure finds this source's subscription for model (kept id checked with
// GET, or an identical one after a 409) or creates it.
func (s *Source) ensure(ctx context.Context, model string, r *source.Reporter) error {
	cctx, cancel := context.WithTimeout(ctx, s.opts.APITimeout.D())
	defer cancel()
	if rec, ok := s.load(model); ok {
		sub, err := s.api.get(cctx, rec.ID)
		switch {
		case err == nil && s.matches(sub, model):
			s.setSub(model, sub)
			return nil
		case err == nil:
			// Ours, but for another post-url or domain (configuration
			// changed): replace it.
			r.Logger().Info("replacing subscription whose parameters changed", "model", model)
			if err := s.api.remove(cctx, rec.ID, s.opts.Domain); err != nil && !errors.Is(err, ErrNotFound) {
				r.Logger().Warn("failed to delete outdated subscription", "model", model, "error", err)
			}
		case errors.Is(err, ErrNotFound):
			r.Logger().Info("kept subscription is gone; creating a new one", "model", model)
		default:
			return fmt.Errorf("failed to check %s subscription: %w", model, err)
		}
	}
	return s.create(cctx, model, r)
}

func (s *Source) create(ctx context.Context, model string, r *source.Reporter) error {
	want := Subscription{Model: model, PostURL: s.postURL, Domain: s.opts.Domain, User: s.opts.SubscriptionUser,
		Reseller: "*", GeoSupport: s.opts.GeoSupport, PreferredServer: s.opts.PreferredServer}
	sub, err := s.api.create(ctx, want)
	if errors.Is(err, ErrConflict) {
		// An identical subscription exists (ours from a lost state
		// directory, or a create that timed out after succeeding): reuse it.
		list, lerr := s.api.list(ctx)
		if lerr != nil {
			return fmt.Errorf("failed to find the existing %s subscription: %w", model, lerr)
		}
		found := false
		for _, c := range list {
			if s.matches(c, model) {
				sub, found = c, true
				break
			}
		}
		if !found {
			return fmt.Errorf("failed to create %s subscription: %w (and none matches post-url %s)", model, err, s.postURL)
		}
		r.Logger().Info("reusing identical subscription", "model", model)
	} else if err != nil {
		return fmt.Errorf("failed to create %s subscription: %w", model, err)
	}
	if sub.ID == "" {
		return fmt.Errorf("failed to create %s subscription: the answer carries no id", model)
	}
	if sub.Model == "" {
		sub.Model = model
	}
	// Accept its posts first: the vendor may post as soon as it answered,
	// and keeping the id (an fsync) takes a while.
	s.setSub(model, sub)
	s.save(model, sub.ID)
	return nil
}

func (s *Source) matches(sub Subscription, model string) bool {
	return sub.Model == model && sub.PostURL == s.postURL &&
		(sub.Domain == "" || strings.EqualFold(sub.Domain, s.opts.Domain))
}

// setSub records model's subscription and accepts posts carrying its id
// at once: the vendor may post before the other models are set up.
func (s *Source) setSub(model string, sub Subscription) {
	s.mu.Lock()
	old := s.subs[model]
	s.subs[model] = &sub
	s.mu.Unlock()
	if old == nil || old.ID != sub.ID {
		s.publishIDs()
	}
}

// publishIDs makes the current subscription ids the ones ServeHTTP accepts.
func (s *Source) publishIDs() {
	ids := map[string]string{}
	have := map[string]bool{}
	s.mu.Lock()
	for m, sub := range s.subs {
		ids[sub.ID], have[m] = m, true
	}
	s.mu.Unlock()
	// Kept ids of models not checked yet stay accepted meanwhile.
	for _, m := range s.opts.Models {
		if !have[m] {
			if rec, ok := s.load(m); ok {
				ids[rec.ID] = m
			}
		}
	}
	s.ids.Store(&ids)
	s.redactIDs()
}

// redactIDs tells the running reporter the subscription ids: they are the
// webhook's credential and must appear in no detail, error or log.
func (s *Source) redactIDs() {
	r, ids := s.rep.Load(), s.ids.Load()
	if r == nil || ids == nil {
		return
	}
	for id := range *ids {
		r.Redact(id)
	}
}

// watch reads every subscription back, recreates vanished ones, updates the
// detail, and fails the session when posts stopped while the vendor
// reports errors (the supervisor then shows the source degraded).
func (s *Source) watch(ctx context.Context, r *source.Reporter) error {
	postedSince := time.Since(time.Unix(0, s.lastPost.Load())) < s.opts.StatusInterval.D()
	lost := false
	for _, m := range s.opts.Models {
		s.mu.Lock()
		id := s.subs[m].ID
		s.mu.Unlock()
		cctx, cancel := context.WithTimeout(ctx, s.opts.APITimeout.D())
		sub, err := s.api.get(cctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			r.Logger().Warn("subscription disappeared; recreating it", "model", m)
			err = s.create(cctx, m, r)
			cancel()
			if err != nil {
				return err
			}
			continue
		case err != nil:
			cancel()
			return fmt.Errorf("failed to read %s subscription status: %w", m, err)
		}
		cancel()
		if sub.Model == "" {
			sub.Model = m
		}
		s.setSub(m, sub)
		if postedSince {
			s.baseline[m] = int64(sub.ErrorCount)
		}
		if int64(sub.ErrorCount) > s.seenErrs[m] {
			lost = true
		}
		s.seenErrs[m] = int64(sub.ErrorCount)
	}
	if lost {
		// Posts failed since the last look: whatever they carried is gone.
		s.resync(ctx, r)
	}
	s.showDetail(r)
	if s.quietWithErrors() {
		return fmt.Errorf("no posts for %s while the vendor reports failing posts: %s", s.opts.QuietPeriod.D(), s.detail())
	}
	return nil
}

// resync reads every call queue's agents with their current availability
// and hands them on as the agent model posts them, so that an agent whose
// change was posted while wallboard could not receive it (stopped,
// unreachable) is right within a status interval. It runs when a session
// starts and when the vendor's error count shows lost posts. A vendor that
// does not offer the listing is logged and skipped: agents then show their
// next change.
func (s *Source) resync(ctx context.Context, r *source.Reporter) {
	if !slices.Contains(s.opts.Models, "agent") {
		return
	}
	// The listing is as of when it was asked for: a post received
	// meanwhile (queued for Run, translated after this) is newer and wins.
	at := time.Now()
	cctx, cancel := context.WithTimeout(ctx, s.opts.APITimeout.D())
	defer cancel()
	queues, err := s.api.callQueues(cctx, s.opts.Domain)
	if err != nil {
		r.Logger().Warn("resync: failed to list the call queues; agents show their next change", "error", err)
		return
	}
	var objs []Object
	for _, q := range queues {
		o, err := s.api.queueAgents(cctx, s.opts.Domain, q)
		if err != nil {
			r.Logger().Warn("resync: failed to read a call queue's agents", "queue", q, "error", err)
			return
		}
		objs = append(objs, o...)
	}
	evs, _ := s.tr.Translate("agent", objs, at)
	// A listing says logged out, not ready, available or on a call; an
	// agent neither dispatchable nor on a call may be ringing or in
	// wrap-up, which only the call events tell apart: the model keeps
	// what it knows of those.
	evs = slices.DeleteFunc(evs, func(e event.Event) bool { return e.Kind == event.AgentState && e.State == event.StateWrapUp })
	s.saveQueues()
	if len(evs) > 0 {
		if _, err := r.EmitCursor(ctx, "", evs...); err != nil {
			return
		}
	}
	r.Logger().Info("resynced agents from the call queues", "queues", len(queues), "entries", len(objs))
}

// quietWithErrors: no post for the quiet period, and a subscription is in
// error or its error-count grew since posts last flowed.
func (s *Source) quietWithErrors() bool {
	if time.Since(time.Unix(0, s.lastPost.Load())) < s.opts.QuietPeriod.D() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for m, sub := range s.subs {
		if strings.EqualFold(sub.Status, "error") || int64(sub.ErrorCount) > s.baseline[m] {
			return true
		}
	}
	return false
}

func (s *Source) detail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	parts := make([]string, 0, len(s.opts.Models))
	for _, m := range s.opts.Models {
		sub := s.subs[m]
		if sub == nil {
			continue
		}
		st := sub.Status
		if st == "" {
			st = "unknown"
		}
		parts = append(parts, fmt.Sprintf("%s: %s, posts %d, errors %d", m, st, sub.PostsCount, sub.ErrorCount))
	}
	return strings.Join(parts, "; ")
}

func (s *Source) showDetail(r *source.Reporter) { r.Detail(s.detail()) }

// cleanup deletes the subscriptions when configured to; by default they are
// kept so that the next start reuses them.
func (s *Source) cleanup(r *source.Reporter) {
	if !s.opts.CleanupOnShutdown {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.APITimeout.D())
	defer cancel()
	s.mu.Lock()
	subs := make(map[string]string, len(s.subs))
	for m, sub := range s.subs {
		subs[m] = sub.ID
	}
	s.mu.Unlock()
	for m, id := range subs {
		if err := s.api.remove(ctx, id, s.opts.Domain); err != nil && !errors.Is(err, ErrNotFound) {
			r.Logger().Warn("failed to delete subscription", "model", m, "error", err)
			continue
		}
		if s.st != nil {
			_ = s.st.Delete(s.storeKey(m))
		}
		s.mu.Lock()
		delete(s.subs, m)
		s.mu.Unlock()
	}
	s.publishIDs()
}

// ServeHTTP receives the vendor's posts. It answers fast: the post is
// authenticated by its X-Correlation-ID, size-limited, decoded and queued
// for Run (the vendor counts an answer above 302 or a timeout as a failed
// post). With a journal, the 200 waits until Run has handed the post's
// events on and they are durable (one group commit: a flush tick and an
// fsync), so a post the vendor takes as delivered survives a crash.
func (s *Source) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	model, ok := s.authenticate(req.Header.Get("X-Correlation-ID"))
	if !ok {
		s.malformed("unauthenticated post", nil, errors.New("X-Correlation-ID is not one of this source's subscription ids"))
		http.Error(w, "unknown subscription", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.malformed("oversized post", body, fmt.Errorf("body over %d bytes", s.opts.MaxBodyBytes))
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "failed to read body", http.StatusBadRequest)
		return
	}
	if s.rec != nil {
		s.rec.Record("in", "netsapiens:"+model, body)
	}
	objs, bad, err := DecodeBatch(body)
	if err != nil {
		s.malformed("post", body, err)
		http.Error(w, "body must be a JSON array of objects", http.StatusBadRequest)
		return
	}
	if bad > 0 {
		s.malformed(model+" element", body, fmt.Errorf("%d element(s) are not objects", bad))
	}
	now := time.Now()
	p := post{model: model, objs: objs, at: now}
	r := s.rep.Load()
	var durable *source.Durable
	if r != nil {
		durable = r.Durable()
	}
	if durable != nil {
		p.written = make(chan uint64, 1)
	}
	select {
	case s.posts <- p:
	default:
		// Run is far behind: refuse rather than hold the vendor's post.
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	s.lastPost.Store(now.UnixNano())
	if r != nil {
		r.Message()
	}
	if durable != nil && !s.waitWritten(req.Context(), p.written, durable) {
		// Not written (disk full, shutting down): the vendor must not
		// take this post as delivered.
		http.Error(w, "not yet written", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// waitWritten waits, at most DurableWait, until Run has handed the post's
// events on and the journal reports them durable.
func (s *Source) waitWritten(ctx context.Context, written chan uint64, d *source.Durable) bool {
	ctx, cancel := context.WithTimeout(ctx, DurableWait)
	defer cancel()
	select {
	case t, ok := <-written:
		if !ok {
			return false
		}
		return d.Wait(ctx, t) == nil
	case <-ctx.Done():
		return false
	}
}

// authenticate returns the model of the subscription whose id equals cid.
// Every id is compared in constant time.
func (s *Source) authenticate(cid string) (string, bool) {
	if cid == "" {
		return "", false
	}
	model, ok := "", false
	for id, m := range *s.ids.Load() {
		if subtle.ConstantTimeCompare([]byte(id), []byte(cid)) == 1 {
			model, ok = m, true
		}
	}
	return model, ok
}

func (s *Source) malformed(kind string, body []byte, err error) {
	if r := s.rep.Load(); r != nil {
		r.Malformed(kind, body, err)
		return
	}
	s.log.Warn("skipped malformed post", "kind", kind, "error", err, "excerpt", source.Excerpt(body, 120))
}

// SetRecorder records every authenticated post and every API exchange
// (capture: true). Call it before Run.
func (s *Source) SetRecorder(rec source.Recorder) {
	s.rec = rec
	s.api.rec = rec
}

// Replay feeds one recorded frame through the decoder and translator as a
// post of its model would go (kind "netsapiens:{model}"); API exchanges
// are skipped.
func (s *Source) Replay(ctx context.Context, r *source.Reporter, dir, kind string, _ time.Time, b []byte) error {
	model, ok := strings.CutPrefix(kind, "netsapiens:")
	if !ok || dir != "in" {
		return nil
	}
	s.tr.SetNotes(source.NewNotes(r))
	r.Message()
	objs, bad, err := DecodeBatch(b)
	if err != nil {
		r.Malformed("post", b, err)
		return nil
	}
	if bad > 0 {
		r.Malformed(model+" element", b, fmt.Errorf("%d element(s) are not objects", bad))
	}
	evs, skipped := s.tr.Translate(model, objs, time.Now())
	if skipped > 0 {
		r.Malformed("netsapiens "+model+" object", nil, fmt.Errorf("%d object(s) without an id", skipped))
	}
	if len(evs) == 0 {
		return nil
	}
	return r.Emit(ctx, evs...)
}
