package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wallboard/wallboard/internal/capture"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/source"
)

// replayer is a vendor source that can take recorded frames instead of its
// wire: the same framer, decoder and translator as live.
type replayer interface {
	Replay(ctx context.Context, r *source.Reporter, dir, kind string, at time.Time, b []byte) error
}

// replaySource feeds a source's capture files through its vendor source,
// at the recorded pace times speed (0: as fast as possible), once; then it
// stays live with what it fed until it is stopped.
type replaySource struct {
	src   source.Source
	files []string
	speed float64
	clock *replayClock // told each frame's recorded time
	done  func()
	once  sync.Once
}

func (s *replaySource) Name() string { return s.src.Name() }
func (s *replaySource) Type() string { return s.src.Type() }

func (s *replaySource) Run(ctx context.Context, r *source.Reporter) error {
	rp, ok := s.src.(replayer)
	if !ok {
		return source.Permanent("a "+s.src.Type()+" source cannot replay", nil)
	}
	fed := false
	s.once.Do(func() {
		fed = true
		if s.done != nil {
			defer s.done() // also when stopped before the last frame
		}
		r.Live()
		var prev time.Time
		for _, path := range s.files {
			err := capture.Read(path, func(_ capture.Header, f capture.Frame) error {
				if s.speed > 0 && !prev.IsZero() && f.At.After(prev) {
					t := time.NewTimer(time.Duration(float64(f.At.Sub(prev)) / s.speed))
					select {
					case <-ctx.Done():
						t.Stop()
						return ctx.Err()
					case <-t.C:
					}
				}
				prev = f.At
				if s.clock != nil {
					s.clock.fed(f.At)
				}
				return rp.Replay(ctx, r, f.Dir, f.Kind, f.At, f.Bytes())
			})
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				r.Detail("replay: " + err.Error())
				r.Logger().Error("replay stopped", "file", path, "error", err)
				break
			}
		}
		if d, ok := s.src.(interface {
			ReplayDone(context.Context, *source.Reporter) error
		}); ok {
			_ = d.ReplayDone(ctx, r)
		}
	})
	if !fed {
		r.Live()
	}
	<-ctx.Done() // replayed once: the board keeps what it showed
	return nil
}

// replayPlan reads the capture files' headers: which sources they hold,
// with each source's recorded configuration (secrets redacted) and files.
func replayPlan(paths []string) ([]config.Source, map[string][]string, error) {
	byName := map[string][]string{}
	cfgs := map[string]config.Source{}
	for _, p := range paths {
		var h capture.Header
		errStop := errors.New("header read")
		err := capture.Read(p, func(hd capture.Header, _ capture.Frame) error { h = hd; return errStop })
		if err != nil && !errors.Is(err, errStop) {
			return nil, nil, err
		}
		if h.Source == "" { // a file with a header and no frame
			if err := capture.Read(p, func(capture.Header, capture.Frame) error { return nil }); err != nil {
				return nil, nil, err
			}
			continue
		}
		sc, err := recordedSource(h)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to read the configuration recorded in %s: %w", p, err)
		}
		sc.Name, sc.Type, sc.Capture = h.Source, h.Type, false
		cfgs[sc.Name] = sc
		byName[sc.Name] = append(byName[sc.Name], p)
	}
	if len(cfgs) == 0 {
		return nil, nil, errors.New("the capture files hold no frame")
	}
	names := make([]string, 0, len(cfgs))
	for n := range cfgs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]config.Source, 0, len(names))
	for _, n := range names {
		slices.Sort(byName[n])
		out = append(out, cfgs[n])
	}
	return out, byName, nil
}

// replay is `wallboard replay [--listen ADDR] [--speed N] FILE|DIR…`.
func replay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "listen address")
	speed := fs.Float64("speed", 1, "pace: 1 = as recorded, 2 = twice as fast, 0 = as fast as possible")
	fixture := fs.String("fixture", "", "write a regression-test fixture into this directory (the captures and the final model) and exit")
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 || *speed < 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	paths, err := capture.Files(fs.Args())
	if err != nil {
		return err
	}
	if *fixture != "" {
		return writeFixture(ctx, *fixture, paths, stdout, stderr)
	}
	srcs, files, err := replayPlan(paths)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "wallboard-replay-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg, apiToken, err := replayConfig(srcs, dir, *listen)
	if err != nil {
		return err
	}
	return serve(ctx, &cfg, appOptions{stdout: stdout, stderr: stderr, anonymousLoopback: true, replay: files, replaySpeed: *speed,
		replayClock: newReplayClock(firstFrameTime(paths)),
		ready: func(url string) {
			fmt.Fprintf(stdout, "wallboard replay is running (%d sources).\n\n  Board:      %s/boards/floor\n  State API:  curl -H 'Authorization: Bearer %s' %s/api/v1/state\n\nPress Ctrl+C to stop.\n",
				len(srcs), url, apiToken, url)
		}})
}

// replayConfig is the configuration replay serves: the recorded sources
// and one board showing them all, like the demo's floor. It is validated
// like a file's, which decodes each source's recorded options.
func replayConfig(srcs []config.Source, stateDir, listen string) (config.Config, string, error) {
	cfg := config.Default()
	cfg.Listen, cfg.StateDir = listen, stateDir
	apiToken := randomToken()
	cfg.APITokens = []config.APIToken{{Name: "replay", Token: config.Secret(apiToken)}}
	cfg.Sources = srcs
	cfg.Boards = []config.Board{{ID: "floor", Title: "Replay"}}
	if p := cfg.Validate(); len(p) > 0 {
		return cfg, "", fmt.Errorf("the configuration recorded in the captures is not valid: %w", p)
	}
	return cfg, apiToken, nil
}

// recordedSource is the source configuration a capture's header recorded.
// Captures of older versions recorded every vendor's keys at once: only the
// keys the type knows are kept.
func recordedSource(h capture.Header) (config.Source, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(h.Options), &n); err != nil {
		return config.Source{}, err
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = *n.Content[0]
	}
	if allowed := config.AllowedKeys(h.Type); n.Kind == yaml.MappingNode && allowed != nil {
		var keep []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if allowed[n.Content[i].Value] {
				keep = append(keep, n.Content[i], n.Content[i+1])
			}
		}
		n.Content = keep
	}
	var sc config.Source
	if err := n.Decode(&sc); err != nil {
		return config.Source{}, err
	}
	return sc, nil
}

// replayClock is the model's clock in a replay: the recorded time of the
// latest frame fed, moving on with the wall clock from there, so "today",
// the rolling windows and the day's rollover are those of the recorded day.
type replayClock struct {
	mu    sync.Mutex
	at    time.Time // the latest recorded time fed
	fedAt time.Time // when it was fed (wall clock)
}

func newReplayClock(start time.Time) *replayClock {
	return &replayClock{at: start, fedAt: time.Now()}
}

// nowFunc is c's now, or nil (the wall clock) for no replay clock.
func (c *replayClock) nowFunc() func() time.Time {
	if c == nil {
		return nil
	}
	return c.now
}

func (c *replayClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at.Add(time.Since(c.fedAt))
}

func (c *replayClock) fed(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.at.Add(time.Since(c.fedAt))) {
		c.at, c.fedAt = t, time.Now()
	}
}

// firstFrameTime is the earliest recorded time in the capture files (zero
// when none holds a frame).
func firstFrameTime(paths []string) time.Time {
	var first time.Time
	errStop := errors.New("first frame read")
	for _, p := range paths {
		_ = capture.Read(p, func(_ capture.Header, f capture.Frame) error {
			if first.IsZero() || f.At.Before(first) {
				first = f.At
			}
			return errStop
		})
	}
	return first
}
