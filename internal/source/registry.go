package source

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/store"
)

// Type is one kind of source a configuration may name: how its options are
// read and how the source is built. Each vendor package registers its types
// from init, so the configuration, the server and the tools know a type
// only by its name; internal/source/vendors imports every vendor package.
type Type struct {
	// Name is the value of a source's type key, like "8x8-sapi".
	Name string
	// Options returns a pointer to the type's zero options; the source's
	// keys other than the common ones (config.Source) are decoded into it,
	// and its Check fills in defaults and reports problems.
	Options func() config.SourceOptions
	// New builds the source that sc (validated, Options of this type)
	// describes. A source that receives posts from its vendor returns the
	// handler of those posts too (the server routes POST
	// /hooks/{type}/{name} to it), else nil.
	New func(sc config.Source, d Deps) (Source, http.Handler, error)
}

// Deps are what a source may need beyond its configuration.
type Deps struct {
	Store Store        // the state directory (nil: nothing kept across restarts)
	Log   *slog.Logger // never nil
}

// Store keeps what a source needs across restarts (subscription ids):
// the state directory (store.Dir), or with replicas the cluster's
// key-value bucket, so a new leader resumes the old one's subscriptions.
// Get returns store.ErrNotFound for a key never put.
type Store interface {
	Get(key string) ([]byte, error)
	Put(key string, value []byte) error
	Delete(key string) error
}

var _ Store = (*store.Dir)(nil)

var (
	typesMu sync.RWMutex
	types   = map[string]Type{}
)

// Register makes t known to the configuration and to New. It panics when
// the name is empty or taken, or a function is missing (a programming
// error, found at start-up).
func Register(t Type) {
	if t.Options == nil || t.New == nil {
		panic("source: Register " + t.Name + " without Options or New")
	}
	config.RegisterSourceType(t.Name, t.Options) // panics on an empty or repeated name
	typesMu.Lock()
	defer typesMu.Unlock()
	types[t.Name] = t
}

// New builds the source sc describes, through the factory of its type.
func New(sc config.Source, d Deps) (Source, http.Handler, error) {
	typesMu.RLock()
	t, ok := types[sc.Type]
	typesMu.RUnlock()
	if !ok {
		return nil, nil, fmt.Errorf("failed to build source %s: type %q is not available in this build", sc.Name, sc.Type)
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return t.New(sc, d)
}
