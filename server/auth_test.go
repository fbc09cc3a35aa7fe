package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wallboard/wallboard/internal/board"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/hub"
	"github.com/wallboard/wallboard/internal/model"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

const (
	password  = "correct horse battery"
	tvToken   = "tv-public-0123456789abcdef0123456789abcdef"
	tvRotate  = "tv-rotate-0123456789abcdef0123456789abcdef"
	tvHall    = "tv-hall-0123456789abcdef0123456789abcdef"
	portalURL = "https://intranet.example.com"
)

var testHash = func() config.Secret {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return config.Secret(h)
}()

// secConfig is a configuration with one account per role, a board everyone
// signed in may see (framed by the portal, two TV links) and a private one.
func secConfig() config.Config {
	cfg := config.Default()
	cfg.Sources = []config.Source{{Name: "s1", Type: vendorsim.TypeSimulation}}
	cfg.Auth.Users = []config.User{
		{Name: "vic", PasswordHash: testHash, Role: config.RoleViewer},
		{Name: "gina", PasswordHash: testHash, Role: config.RoleViewer, Groups: []string{"leads"}},
		{Name: "sue", PasswordHash: testHash, Role: config.RoleSupervisor},
		{Name: "ada", PasswordHash: testHash, Role: config.RoleAdmin},
	}
	cfg.Auth.SignInLimit = config.SignInLimit{PerUser: 3, PerAddress: 6, Window: config.Duration(time.Minute)}
	floor := config.Board{ID: "floor", Title: "Floor", Kiosk: []config.Kiosk{
		{Name: "lobby", Token: tvToken, KioskOptions: config.KioskOptions{Names: config.NamesInitials}},
		{Name: "wall", Token: tvRotate, KioskOptions: config.KioskOptions{Rotate: []string{"private"}}},
		{Name: "hall", Token: tvHall, KioskOptions: config.KioskOptions{Names: config.NamesInitials, Rotate: []string{"private"}}},
	}}
	floor.EmbedOrigins = []string{portalURL}
	private := config.Board{ID: "private", Title: "Private"}
	private.Access = config.Access{Users: []string{"sue"}, Groups: []string{"leads"}}
	cfg.Boards = []config.Board{floor, private}
	return cfg
}

type secServer struct {
	*httptest.Server
	srv  *Server
	proj *board.Projector
	loop *model.Loop
}

// newSecServer wires the real model loop, projector (with its name-hiding
// variants) and hub as cmd/wallboard does, around cfg.
func newSecServer(t *testing.T, cfg config.Config) *secServer {
	t.Helper()
	return newSecServerWith(t, cfg, nil)
}

// newSecServerWith is newSecServer with the server's options changed by opt.
func newSecServerWith(t *testing.T, cfg config.Config, opt func(*Options)) *secServer {
	t.Helper()
	if p := cfg.Validate(); len(p) > 0 {
		t.Fatal(p)
	}
	loop := model.NewLoop(model.New(model.Options{Sources: []string{"s1"}}), model.LoopOptions{Flush: 10 * time.Millisecond})
	h := hub.New(hub.Options{})
	h.Start()
	proj := board.NewProjector(&cfg, board.Options{})
	for _, b := range proj.Streams() {
		id, bid := b.StreamID(), b.Def.ID
		proj.Attach(id, h.Topic(id, b.Gen, func() []byte { return append(proj.Reset(id), proj.TickerFragment(bid)...) }))
	}
	proj.Open = func(b *board.Board) board.Topic {
		id, bid := b.StreamID(), b.Def.ID
		return h.Topic(id, b.Gen, func() []byte { return append(proj.Reset(id), proj.TickerFragment(bid)...) })
	}
	ctx, cancel := context.WithCancel(context.Background())
	go loop.Run(ctx)
	go proj.Run(ctx, loop.Deltas())
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	o := Options{Config: &cfg, Boards: proj, Tickers: proj, Console: proj.Console(), Streams: h, Floor: loop, Hooks: map[string]http.Handler{"ns": hook},
		Logger: slog.New(slog.DiscardHandler)}
	if opt != nil {
		opt(&o)
	}
	srv := New(o)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); h.Close(); cancel() })
	return &secServer{Server: ts, srv: srv, proj: proj, loop: loop}
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values, header ...string) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf reads the CSRF token from a page with a form.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	_, body := b.do("GET", path, nil)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("no csrf_token on %s: %.300s", path, body)
	}
	return m[1]
}

func (b *browser) login(user, pw string) *http.Response {
	b.t.Helper()
	resp, _ := b.do("POST", "/login", url.Values{"csrf_token": {b.csrf("/login")}, "username": {user}, "password": {pw}, "next": {"/"}})
	return resp
}

func signedIn(t *testing.T, base, user string) *browser {
	t.Helper()
	b := newBrowser(t, base)
	if resp := b.login(user, password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in as %s: %d", user, resp.StatusCode)
	}
	return b
}

func TestEveryAccessRule(t *testing.T) {
	t.Parallel()
	ts := newSecServer(t, secConfig())
	anon := newBrowser(t, ts.URL)
	vic, gina, sue, ada := signedIn(t, ts.URL, "vic"), signedIn(t, ts.URL, "gina"), signedIn(t, ts.URL, "sue"), signedIn(t, ts.URL, "ada")
	ticker := func(b *browser) url.Values {
		tok := "none"
		if b != anon {
			tok = b.csrf("/boards/floor") // the session's token, on any form
		}
		return url.Values{"csrf_token": {tok}, "message": {"hello"}}
	}
	tests := []struct {
		name   string
		b      *browser
		method string
		path   string
		form   url.Values
		want   int
	}{
		{"anonymous: no board list", anon, "GET", "/", nil, 401},
		{"anonymous: no board", anon, "GET", "/boards/floor", nil, 401},
		{"anonymous: no board stream", anon, "GET", "/boards/floor/events", nil, 401},
		{"anonymous: no settings", anon, "GET", "/boards/floor/settings", nil, 401},
		{"anonymous: no admin", anon, "GET", "/admin", nil, 401},
		{"anonymous: no state", anon, "GET", "/api/v1/state", nil, 401},
		{"anonymous: the sign-in page", anon, "GET", "/login", nil, 200},
		{"anonymous: kiosk token is enough", anon, "GET", "/tv/" + tvToken, nil, 200},
		{"viewer: open board", vic, "GET", "/boards/floor", nil, 200},
		{"viewer: its stream", vic, "GET", "/boards/floor/events?probe", nil, 200},
		{"viewer: state API", vic, "GET", "/api/v1/state", nil, 200},
		{"wrong board: viewer not on the list", vic, "GET", "/boards/private", nil, 403},
		{"wrong board: nor its stream", vic, "GET", "/boards/private/events", nil, 403},
		{"group on the list", gina, "GET", "/boards/private", nil, 200},
		{"user on the list", sue, "GET", "/boards/private", nil, 200},
		{"admin sees every board", ada, "GET", "/boards/private", nil, 200},
		{"wrong role: viewer cannot open settings", vic, "GET", "/boards/floor/settings", nil, 403},
		{"wrong role: viewer cannot set the ticker", vic, "POST", "/boards/floor/ticker", ticker(vic), 403},
		{"wrong role: group member is still a viewer", gina, "POST", "/boards/private/ticker", ticker(gina), 403},
		{"wrong role: supervisor is no admin", sue, "GET", "/admin", nil, 403},
		{"supervisor: settings", sue, "GET", "/boards/floor/settings", nil, 200},
		{"supervisor: ticker", sue, "POST", "/boards/floor/ticker", ticker(sue), 303},
		{"admin: admin page", ada, "GET", "/admin", nil, 200},
		{"anonymous: no capture download", anon, "GET", "/admin/captures/s1/s1-1.jsonl.gz", nil, 401},
		{"wrong role: supervisor cannot download captures", sue, "GET", "/admin/captures/s1/s1-1.jsonl.gz", nil, 403},
		{"admin: a capture that does not exist", ada, "GET", "/admin/captures/s1/s1-1.jsonl.gz", nil, 404},
		{"admin: any board's ticker", ada, "POST", "/boards/private/ticker", ticker(ada), 303},
		{"unknown board", ada, "GET", "/boards/nope", nil, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, path := tt.method, tt.path
			if strings.HasSuffix(path, "/events") || strings.HasSuffix(path, "?probe") {
				// A stream answers 200 and stays open: read only its status.
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, method, tt.b.base+strings.TrimSuffix(path, "?probe"), nil)
				resp, err := tt.b.c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != tt.want {
					t.Errorf("%s %s = %d, want %d", method, path, resp.StatusCode, tt.want)
				}
				return
			}
			if resp, body := tt.b.do(method, path, tt.form); resp.StatusCode != tt.want {
				t.Errorf("%s %s = %d, want %d: %.200s", method, path, resp.StatusCode, tt.want, body)
			}
		})
	}

	// The board list shows only what the user may open.
	if _, body := vic.do("GET", "/", nil); strings.Contains(body, "/boards/private") || !strings.Contains(body, "/boards/floor") {
		t.Errorf("viewer's board list: %.500s", body)
	}
	if _, body := gina.do("GET", "/", nil); !strings.Contains(body, "/boards/private") {
		t.Error("group member's board list lacks the private board")
	}
	// A browser is sent to the sign-in page and back.
	resp, _ := anon.do("GET", "/boards/floor", nil, "Accept", "text/html")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/login?next=%2Fboards%2Ffloor" {
		t.Errorf("browser without session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestKioskTokens(t *testing.T) {
	t.Parallel()
	ts := newSecServer(t, secConfig())
	// Revoked: the same token on a server whose configuration no longer has it.
	revoked := secConfig()
	revoked.Boards[0].Kiosk = revoked.Boards[0].Kiosk[1:]
	rv := newSecServer(t, revoked)
	tv := newBrowser(t, ts.URL)
	tests := []struct {
		name string
		base string
		path string
		want int
	}{
		{"token opens its board", ts.URL, "/tv/" + tvToken, 200},
		{"rotation: first board", ts.URL, "/tv/" + tvRotate, 200},
		{"rotation: the board it lists", ts.URL, "/tv/" + tvRotate + "?screen=1", 200},
		{"rotation: out of range is the first", ts.URL, "/tv/" + tvRotate + "?screen=7", 200},
		{"rotation with hidden names: the board it lists", ts.URL, "/tv/" + tvHall + "?screen=1", 200},
		{"rotation with hidden names: its stream", ts.URL, "/tv/" + tvHall + "/events?screen=1&probe", 200},
		{"revoked token", rv.URL, "/tv/" + tvToken, 404},
		{"revoked token's stream", rv.URL, "/tv/" + tvToken + "/events", 404},
		{"prefix of a token", ts.URL, "/tv/" + tvToken[:30], 404},
		{"a token is not a sign-in", ts.URL, "/boards/floor", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, tt.base)
			if strings.HasSuffix(tt.path, "&probe") { // a stream stays open: its status only
				lines := openStream(t, tt.base+tt.path)
				readUntil(t, lines, "retry:")
				return
			}
			resp, _ := b.do("GET", tt.path, nil)
			if resp.StatusCode != tt.want {
				t.Errorf("GET %s = %d, want %d", tt.path, resp.StatusCode, tt.want)
			}
			if len(resp.Header.Values("Set-Cookie")) > 0 {
				t.Errorf("GET %s set a cookie: %v", tt.path, resp.Header.Values("Set-Cookie"))
			}
		})
	}
	// The rotating link's second screen is the private board, and says where
	// to go next; a token never grants a board its rotation does not list.
	_, body := tv.do("GET", "/tv/"+tvRotate+"?screen=1", nil)
	if !strings.Contains(body, ">Private</h1>") || !strings.Contains(body, `data-next="/tv/`+tvRotate+`?screen=0"`) {
		t.Errorf("rotation screen 1: %.400s", body)
	}
	_, body = tv.do("GET", "/tv/"+tvToken+"?screen=1", nil)
	if strings.Contains(body, ">Private</h1>") {
		t.Error("a token without rotation opened another board")
	}
}

// Names hidden on a public screen are hidden in what the server sends that
// screen, page and stream, while the board itself keeps them.
func TestHiddenNamesAreNeverSent(t *testing.T) {
	t.Parallel()
	ts := newSecServer(t, secConfig())
	now := time.Now()
	send := func(agent, name string) {
		t.Helper()
		if err := ts.loop.Publish(context.Background(),
			event.Event{Kind: event.AgentInfo, Source: "s1", Agent: agent, Name: name, At: now},
			event.Event{Kind: event.AgentState, Source: "s1", Agent: agent, State: event.StateAvailable, At: now}); err != nil {
			t.Fatal(err)
		}
	}
	send("a1", "Marcus Lee")
	waitFor(t, func() bool { n, _ := ts.proj.Counts("floor"); return n == 1 })
	tv := newBrowser(t, ts.URL)
	_, page := tv.do("GET", "/tv/"+tvToken, nil)
	if strings.Contains(page, "Marcus") || !strings.Contains(page, `<span class="a-name">ML</span>`) {
		t.Errorf("kiosk page with initials: %s", excerpt(page, "a-name"))
	}
	sue := signedIn(t, ts.URL, "sue")
	if _, page := sue.do("GET", "/boards/floor", nil); !strings.Contains(page, "Marcus Lee") {
		t.Errorf("board page lacks the full name: %s", excerpt(page, "a-name"))
	}
	// The kiosk's stream: a new agent arrives with initials only.
	lines := openStream(t, ts.URL+"/tv/"+tvToken+"/events")
	send("a2", "Zoe Quinn")
	got := readUntil(t, lines, "ZQ")
	if strings.Contains(got, "Zoe") || strings.Contains(got, "Marcus") {
		t.Errorf("kiosk stream carried a name: %s", got)
	}
}

// waitFor polls cond (the projector is fed by the model's goroutine).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func excerpt(s, near string) string {
	i := strings.Index(s, near)
	if i < 0 {
		return "(" + near + " not found)"
	}
	return s[max(0, i-80):min(len(s), i+120)]
}

// openStream opens an event stream and returns its lines.
func openStream(t *testing.T, u string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d", u, resp.StatusCode)
	}
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("stream set a cookie: %v", c)
	}
	ch := make(chan string, 1024)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}()
	return ch
}

// readUntil reads stream lines until one contains want; it returns the
// frame (lines since the last blank line) that did.
func readUntil(t *testing.T, lines <-chan string, want string) string {
	t.Helper()
	timeout := time.After(5 * time.Second)
	var frame []string
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stream ended before %q", want)
			}
			if l == "" {
				frame = frame[:0]
				continue
			}
			frame = append(frame, l)
			if strings.Contains(l, want) {
				return strings.Join(frame, "\n")
			}
		case <-timeout:
			t.Fatalf("no %q on the stream within 5s", want)
		}
	}
}

func TestTickerReachesEveryScreenOfTheBoard(t *testing.T) {
	t.Parallel()
	ts := newSecServer(t, secConfig())
	initials := openStream(t, ts.URL+"/tv/"+tvToken+"/events")        // the initials variant
	full := openStream(t, ts.URL+"/tv/"+tvRotate+"/events")           // the board itself
	other := openStream(t, ts.URL+"/tv/"+tvRotate+"/events?screen=1") // the private board
	for _, l := range []<-chan string{initials, full, other} {
		readUntil(t, l, `id="ticker"`) // the reset carries the (empty) ticker
	}
	sue := signedIn(t, ts.URL, "sue")
	resp, _ := sue.do("POST", "/boards/floor/ticker", url.Values{"csrf_token": {sue.csrf("/boards/floor/settings")},
		"message": {"Fire drill at 3 <b>pm</b>\n"}})
	if resp.StatusCode != 303 {
		t.Fatalf("set ticker: %d", resp.StatusCode)
	}
	for name, l := range map[string]<-chan string{"initials": initials, "full": full} {
		frame := readUntil(t, l, "Fire drill")
		if !strings.Contains(frame, `hx-swap-oob="true"`) || !strings.Contains(frame, "Fire drill at 3 &lt;b&gt;pm&lt;/b&gt;") {
			t.Errorf("%s screen's ticker frame: %s", name, frame)
		}
	}
	if got := ts.proj.Ticker("private"); got != "" {
		t.Errorf("private board's ticker = %q", got)
	}
	// A screen that (re)connects later gets it with its reset.
	late := openStream(t, ts.URL+"/tv/"+tvToken+"/events")
	readUntil(t, late, "Fire drill")
	// And a page load shows it.
	if _, page := newBrowser(t, ts.URL).do("GET", "/tv/"+tvToken, nil); !strings.Contains(page, "Fire drill") {
		t.Error("kiosk page lacks the ticker")
	}
}

func TestCSRFAndSignIn(t *testing.T) {
	t.Parallel()
	ts := newSecServer(t, secConfig())
	sue := signedIn(t, ts.URL, "sue")
	good := sue.csrf("/boards/floor/settings")
	tests := []struct {
		name   string
		path   string
		form   url.Values
		header []string
		want   int
	}{
		{"ticker without token", "/boards/floor/ticker", url.Values{"message": {"x"}}, nil, 403},
		{"ticker with a wrong token", "/boards/floor/ticker", url.Values{"message": {"x"}, "csrf_token": {"AAAAAAAAAAAAAAAAAAAAAAAAAA"}}, nil, 403},
		{"ticker from another site", "/boards/floor/ticker", url.Values{"message": {"x"}, "csrf_token": {good}}, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"sign-out without token", "/logout", url.Values{}, nil, 403},
		{"sign-in without token", "/login", url.Values{"username": {"sue"}, "password": {password}}, nil, 403},
		{"token in the header", "/boards/floor/ticker", url.Values{"message": {"x"}}, []string{"X-CSRF-Token", good}, 303},
		{"vendor webhook needs none", "/hooks/netsapiens/ns", url.Values{}, nil, 202},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp, body := sue.do("POST", tt.path, tt.form, tt.header...); resp.StatusCode != tt.want {
				t.Errorf("POST %s = %d, want %d: %.200s", tt.path, resp.StatusCode, tt.want, body)
			}
		})
	}
	if got := ts.proj.Ticker("floor"); got != "x" {
		t.Errorf("ticker = %q after the one accepted post", got)
	}

	// A new session id on sign-in (here over a session of another
	// account); the old one is worth nothing.
	b := signedIn(t, ts.URL, "vic")
	u, _ := url.Parse(ts.URL)
	before := b.c.Jar.Cookies(u)
	resp := b.login("sue", password)
	ck := resp.Header.Get("Set-Cookie")
	if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") || strings.Contains(ck, "Secure") {
		t.Errorf("session cookie over plain HTTP: %s", ck)
	}
	after := b.c.Jar.Cookies(u)
	if len(before) != 1 || len(after) != 1 || before[0].Value == after[0].Value {
		t.Fatalf("session not renewed on sign-in: %v -> %v", before, after)
	}
	old := newBrowser(t, ts.URL)
	old.c.Jar.SetCookies(u, before)
	if resp, _ := old.do("GET", "/boards/floor", nil); resp.StatusCode != 401 {
		t.Errorf("the session id before the new sign-in still works: %d", resp.StatusCode)
	}
	// Sign-out ends the session.
	resp, _ = b.do("POST", "/logout", url.Values{"csrf_token": {b.csrf("/boards/floor/settings")}})
	if resp.StatusCode != 303 {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	stale := newBrowser(t, ts.URL)
	stale.c.Jar.SetCookies(u, after)
	if resp, _ := stale.do("GET", "/boards/floor", nil); resp.StatusCode != 401 {
		t.Errorf("session works after sign-out: %d", resp.StatusCode)
	}
}

func TestTooManySignInAttempts(t *testing.T) {
	t.Parallel()
	ts := newSecServer(t, secConfig()) // 3 per user, 6 per address, per minute
	b := newBrowser(t, ts.URL)
	try := func(user, pw string) (int, string) {
		resp, body := b.do("POST", "/login", url.Values{"csrf_token": {b.csrf("/login")}, "username": {user}, "password": {pw}})
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		return resp.StatusCode, body
	}
	steps := []struct {
		name, user, pw string
		want           int
	}{
		{"1st wrong password", "vic", "nope", 401},
		{"2nd", "vic", "nope", 401},
		{"3rd", "vic", "nope", 401},
		{"4th is refused", "vic", "nope", 429},
		{"even with the right password", "vic", password, 429},
		{"another user from the same address", "sue", password, 303},
		{"unknown users count for the address", "nobody1", "x", 401},
		{"...", "nobody2", "x", 401},
		{"... 6th failure from the address", "nobody3", "x", 401},
		{"the address is now refused", "ada", password, 429},
	}
	for _, st := range steps {
		code, body := try(st.user, st.pw)
		if code != st.want {
			t.Fatalf("%s: %d, want %d", st.name, code, st.want)
		}
		if code == 429 && !strings.Contains(body, "Too many failed sign-ins") {
			t.Errorf("%s: 429 without a clear message: %s", st.name, excerpt(body, "banner"))
		}
		if code == 401 && !strings.Contains(body, "Wrong user name or password.") {
			t.Errorf("%s: no message", st.name)
		}
	}
	// The limiter forgets after its window.
	l := newLimiter(2, time.Minute)
	now := time.Now()
	l.fail("k", now)
	l.fail("k", now.Add(time.Second))
	if w := l.wait("k", now.Add(2*time.Second)); w != 58*time.Second {
		t.Errorf("wait = %s, want 58s", w)
	}
	if w := l.wait("k", now.Add(time.Minute+time.Second)); w != 0 {
		t.Errorf("wait after the window = %s", w)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	plain := newSecServer(t, secConfig())
	proxied := secConfig()
	proxied.TLS.BehindProxy = true
	tlsSrv := newSecServer(t, proxied)
	nonce := regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9_-]{20,})'`)
	tests := []struct {
		name      string
		base      string
		user      string
		path      string
		ancestors string
		hsts      bool
	}{
		{"board with embed origins", plain.URL, "sue", "/boards/floor", "frame-ancestors " + portalURL, false},
		{"kiosk of that board", plain.URL, "", "/tv/" + tvToken + "?embed=1", "frame-ancestors " + portalURL, false},
		{"board without", plain.URL, "sue", "/boards/private", "frame-ancestors 'none'", false},
		{"sign-in page", plain.URL, "", "/login", "frame-ancestors 'none'", false},
		{"behind a TLS proxy", tlsSrv.URL, "sue", "/boards/private", "frame-ancestors 'none'", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, tt.base)
			if tt.user != "" {
				if tt.hsts {
					// A Secure cookie is not sent back over plain HTTP by the
					// jar; check the cookie and use the API token-free path.
					resp := b.login(tt.user, password)
					if ck := resp.Header.Get("Set-Cookie"); !strings.Contains(ck, "; Secure") {
						t.Errorf("cookie behind a TLS proxy is not Secure: %s", ck)
					}
					tt.path = "/login"
				} else {
					b = signedIn(t, tt.base, tt.user)
				}
			}
			resp, body := b.do("GET", tt.path, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s = %d", tt.path, resp.StatusCode)
			}
			h := resp.Header
			csp := h.Get("Content-Security-Policy")
			m := nonce.FindStringSubmatch(csp)
			if m == nil || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'unsafe-inline'") {
				t.Fatalf("CSP %q", csp)
			}
			if !strings.HasSuffix(csp, tt.ancestors) {
				t.Errorf("CSP %q does not end with %q", csp, tt.ancestors)
			}
			if n := strings.Count(body, `<script src=`); n == 0 || strings.Count(body, `nonce="`+m[1]+`"`) != n {
				t.Errorf("%d scripts, not all with this answer's nonce", n)
			}
			if (h.Get("X-Frame-Options") == "DENY") != strings.HasSuffix(tt.ancestors, "'none'") {
				t.Errorf("X-Frame-Options %q with %s", h.Get("X-Frame-Options"), tt.ancestors)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("nosniff/referrer: %v", h)
			}
			if got := h.Get("Strict-Transport-Security") != ""; got != tt.hsts {
				t.Errorf("HSTS sent = %v, want %v", got, tt.hsts)
			}
		})
	}
	// Nonces differ per answer.
	a, _ := newBrowser(t, plain.URL).do("GET", "/login", nil)
	b2, _ := newBrowser(t, plain.URL).do("GET", "/login", nil)
	if a.Header.Get("Content-Security-Policy") == b2.Header.Get("Content-Security-Policy") {
		t.Error("the same nonce twice")
	}
	// ?embed=1 leaves out the chrome.
	_, body := newBrowser(t, plain.URL).do("GET", "/tv/"+tvToken+"?embed=1", nil)
	if !strings.Contains(body, `class="board kiosk embed"`) {
		t.Errorf("embed layout: %s", excerpt(body, "<body"))
	}
	// Session timeouts come from the configuration.
	cfg := secConfig()
	cfg.Auth.Session = config.Session{IdleTimeout: config.Duration(20 * time.Minute), Lifetime: config.Duration(8 * time.Hour)}
	s := newSecServer(t, cfg).srv
	if s.sessions.IdleTimeout != 20*time.Minute || s.sessions.Lifetime != 8*time.Hour || !s.sessions.Cookie.HttpOnly {
		t.Errorf("sessions: idle %s, lifetime %s", s.sessions.IdleTimeout, s.sessions.Lifetime)
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"path", "/boards/floor", "/boards/floor"},
		{"empty", "", "/"},
		{"other site", "https://evil.example/", "/"},
		{"scheme-relative", "//evil.example/", "/"},
		{"backslash", "/\\evil.example", "/"},
	}
	for _, tt := range tests {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("%s: safeNext(%q) = %q", tt.name, tt.in, got)
		}
	}
}

// The board list leads each user to what they may use: console and settings
// for boards they supervise, the admin page for admins.
func TestBoardListLinksFollowRoles(t *testing.T) {
	t.Parallel()
	ts := newSecServer(t, secConfig())
	tests := []struct {
		user                     string
		console, settings, admin bool
	}{
		{"vic", false, false, false},
		{"sue", true, true, false},
		{"ada", true, true, true},
	}
	for _, tt := range tests {
		_, body := signedIn(t, ts.URL, tt.user).do("GET", "/", nil)
		if got := strings.Contains(body, `href="/boards/floor/console" data-testid="console-link"`); got != tt.console {
			t.Errorf("%s: console link %v, want %v", tt.user, got, tt.console)
		}
		if got := strings.Contains(body, `href="/boards/floor/settings" data-testid="settings-link"`); got != tt.settings {
			t.Errorf("%s: settings link %v, want %v", tt.user, got, tt.settings)
		}
		if got := strings.Contains(body, `data-testid="admin-link"`); got != tt.admin {
			t.Errorf("%s: admin link %v, want %v", tt.user, got, tt.admin)
		}
	}
}
