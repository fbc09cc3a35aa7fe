package server

import (
	"context"
	"sync"
	"time"
)

// A signed-in page's event stream lives as long as its session and the
// access it was opened with: sign-out ends the session's streams at once,
// and every recheckEvery the sessions that have streams open are read again
// from the session store, so a session that expired or was removed, or a
// user who lost the board or the role (a changed configuration, or later an
// account disabled in a user store), loses the stream within seconds. The
// cost is one session read per signed-in session with an open stream per
// round, in a timer that runs only while such streams are open; the hub's
// other streams (TVs) pay nothing. Kiosk streams have no session: removing
// their token from the configuration revokes them.

// recheckEvery is how often open streams' sessions are checked again.
const recheckEvery = 2 * time.Second

// watchedStream is one signed-in stream: its session, the board and role it
// needs, and how to end it.
type watchedStream struct {
	token, user, board, role string
	end                      func()
}

// streamWatch holds the open signed-in streams by session token.
type streamWatch struct {
	every time.Duration
	check func(token string, streams []*watchedStream) // ends those that lost their right

	mu      sync.Mutex
	byToken map[string]map[*watchedStream]struct{}
	timer   *time.Timer // armed while any stream is open
}

func (w *streamWatch) add(o *watchedStream) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byToken == nil {
		w.byToken = map[string]map[*watchedStream]struct{}{}
	}
	set := w.byToken[o.token]
	if set == nil {
		set = map[*watchedStream]struct{}{}
		w.byToken[o.token] = set
	}
	set[o] = struct{}{}
	if w.timer == nil {
		w.timer = time.AfterFunc(w.every, w.round)
	}
}

func (w *streamWatch) remove(o *watchedStream) {
	w.mu.Lock()
	defer w.mu.Unlock()
	set := w.byToken[o.token]
	delete(set, o)
	if len(set) == 0 {
		delete(w.byToken, o.token)
	}
}

// streams returns the open streams of token.
func (w *streamWatch) streams(token string) []*watchedStream {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]*watchedStream, 0, len(w.byToken[token]))
	for o := range w.byToken[token] {
		out = append(out, o)
	}
	return out
}

// endSession ends every stream of token now (sign-out).
func (w *streamWatch) endSession(token string) {
	for _, o := range w.streams(token) {
		o.end() // outside w.mu: ending a stream calls remove
	}
}

// endUser ends every stream of user's sessions now (the user was
// disabled, users.go).
func (w *streamWatch) endUser(user string) {
	w.mu.Lock()
	var ends []func()
	for _, set := range w.byToken {
		for o := range set {
			if o.user == user {
				ends = append(ends, o.end)
			}
		}
	}
	w.mu.Unlock()
	for _, end := range ends {
		end() // outside w.mu: ending a stream calls remove
	}
}

// round checks every session that has streams open, then arms the next
// round if any remain.
func (w *streamWatch) round() {
	w.mu.Lock()
	tokens := make([]string, 0, len(w.byToken))
	for t := range w.byToken {
		tokens = append(tokens, t)
	}
	w.mu.Unlock()
	for _, t := range tokens {
		w.check(t, w.streams(t))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.byToken) > 0 {
		w.timer.Reset(w.every)
	} else {
		w.timer = nil
	}
}

// watchStream returns the hub's Bind for a stream of board that needs role,
// opened on the session token (none in the demo's loopback access: nil).
func (s *Server) watchStream(token, user, board, role string) func(end func()) func() {
	if token == "" {
		return nil
	}
	return func(end func()) func() {
		o := &watchedStream{token: token, user: user, board: board, role: role, end: end}
		s.watch.add(o)
		return func() { s.watch.remove(o) }
	}
}

// recheckStreams ends the streams of token whose session has ended or
// whose user may no longer see their board with their role.
func (s *Server) recheckStreams(token string, streams []*watchedStream) {
	ctx, err := s.sessions.Load(context.Background(), token)
	p, ok := Principal{}, false
	if err == nil {
		p, ok = s.sessionPrincipal(ctx)
	}
	for _, o := range streams {
		if !ok || !p.Has(o.role) || !s.canSee(p, o.board) {
			s.log.Debug("stream ended with its session or access", "board", o.board)
			o.end()
		}
	}
}
