package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alexedwards/scs/v2/memstore"
	"golang.org/x/crypto/bcrypt"

	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/event"
)

// Tests of the holes found when the server was attacked from outside
// (issue 18), each through real HTTP requests against the real server.

// multipartBody is a form with a csrf field and a file part of n bytes.
func multipartBody(t *testing.T, n int) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("username", "vic")
	fw, err := mw.CreateFormFile("f", "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(bytes.Repeat([]byte("x"), n))
	_ = mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// Every form route takes a small body whatever carries the CSRF token,
// refuses multipart (415) and larger bodies (413), and leaves no file.
// Not parallel: it points TMPDIR, where multipart parts would be spooled,
// at a directory of its own.
func TestFormBodiesAreSmall(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ts := newSecServer(t, secConfig())
	anon := newBrowser(t, ts.URL)
	loginTok := anon.csrf("/login")
	sue := signedIn(t, ts.URL, "sue")
	tok := sue.csrf("/boards/floor/settings")
	mpType, mpBody := multipartBody(t, 40<<20) // beyond the standard library's 32 MB in memory
	smallType, smallBody := multipartBody(t, 10)
	tests := []struct {
		name   string
		b      *browser
		path   string
		ctype  string
		body   []byte
		chunk  bool // no Content-Length: the limit must hold while reading
		header []string
		want   int
	}{
		{"sign-in: 40 MB multipart, token in the header", anon, "/login", mpType, mpBody, false, []string{"X-CSRF-Token", loginTok}, 415},
		{"sign-in: small multipart", anon, "/login", smallType, smallBody, false, []string{"X-CSRF-Token", loginTok}, 415},
		{"sign-in: 12 MB urlencoded", anon, "/login", "application/x-www-form-urlencoded",
			[]byte("csrf_token=" + loginTok + "&username=vic&password=" + strings.Repeat("a", 12<<20)), false, nil, 413},
		{"sign-in: 200 KB chunked, token in the header", anon, "/login", "application/x-www-form-urlencoded",
			[]byte("username=vic&password=" + strings.Repeat("a", 200<<10)), true, []string{"X-CSRF-Token", loginTok}, 413},
		{"ticker: 40 MB multipart, token in the header", sue, "/boards/floor/ticker", mpType, mpBody, false, []string{"X-CSRF-Token", tok}, 415},
		{"ticker: 200 KB chunked, token in the header", sue, "/boards/floor/ticker", "application/x-www-form-urlencoded",
			[]byte("message=" + strings.Repeat("a", 200<<10)), true, []string{"X-CSRF-Token", tok}, 413},
		{"ticker: 200 KB, token in the form", sue, "/boards/floor/ticker", "application/x-www-form-urlencoded",
			[]byte("csrf_token=" + tok + "&message=" + strings.Repeat("a", 200<<10)), false, nil, 413},
		{"ticker: 60 KB passes", sue, "/boards/floor/ticker", "application/x-www-form-urlencoded",
			[]byte("csrf_token=" + tok + "&message=" + strings.Repeat("a", 60<<10)), false, nil, 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(tt.body)
			if tt.chunk {
				body = io.MultiReader(body) // hides the length: chunked
			}
			req, _ := http.NewRequest("POST", ts.URL+tt.path, body)
			req.Header.Set("Content-Type", tt.ctype)
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Set(tt.header[i], tt.header[i+1])
			}
			resp, err := tt.b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("POST %s = %d, want %d", tt.path, resp.StatusCode, tt.want)
			}
		})
	}
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		t.Errorf("left behind: %s", e.Name())
	}
}

// A redirect after sign-in stays on this site, whatever the browser would
// drop from the target.
func TestSignInRedirectStaysHere(t *testing.T) {
	t.Parallel()
	ts := newSecServer(t, secConfig())
	tests := []struct{ name, next, want string }{
		{"a path", "/boards/floor", "/boards/floor"},
		{"tab before a second slash", "/\t/evil.example", "/"},
		{"newline", "/\n/evil.example", "/"},
		{"space", "/ /evil.example", "/"},
		{"no-break space", "/\u00a0/evil.example", "/"},
		{"backslash", "/\\evil.example", "/"},
		{"scheme-relative", "//evil.example", "/"},
		{"DEL", "/\x7f/evil.example", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBrowser(t, ts.URL)
			_, page := b.do("GET", "/login?next="+url.QueryEscape(tt.next), nil)
			if tt.want == "/" && strings.Contains(page, "evil.example") {
				t.Errorf("sign-in page carries the target: %s", excerpt(page, `name="next"`))
			}
			resp, _ := b.do("POST", "/login", url.Values{"csrf_token": {b.csrf("/login")}, "username": {"vic"},
				"password": {password}, "next": {tt.next}})
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tt.want {
				t.Errorf("after sign-in: %d to %q, want %q", resp.StatusCode, resp.Header.Get("Location"), tt.want)
			}
		})
	}
}

// apiState reads /api/v1/state as b (or with the token) and returns the ids.
func apiState(t *testing.T, b *browser, header ...string) (agents, queues []string, resp *http.Response) {
	t.Helper()
	resp, body := b.do("GET", "/api/v1/state", nil, header...)
	if resp.StatusCode != 200 {
		t.Fatalf("state: %d %s", resp.StatusCode, body)
	}
	var st stateJSON
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	for _, a := range st.Agents {
		agents = append(agents, a.ID)
	}
	for _, q := range st.Queues {
		queues = append(queues, q.ID)
	}
	return agents, queues, resp
}

// With a session, the API gives what the boards that session may see
// show; a token gives the whole model.
func TestStateFollowsBoardAccess(t *testing.T) {
	t.Parallel()
	cfg := secConfig()
	cfg.APITokens = []config.APIToken{{Name: "t", Token: "api-0123456789abcdef"}}
	cfg.Boards[0].Queues = []string{"q-floor"}
	cfg.Boards[1].Queues = []string{"q-private"}
	ts := newSecServer(t, cfg)
	now := time.Now()
	err := ts.loop.Publish(context.Background(),
		event.Event{Kind: event.QueueInfo, Source: "s1", Queue: "q-floor", Name: "Floor queue", At: now},
		event.Event{Kind: event.QueueInfo, Source: "s1", Queue: "q-private", Name: "Private queue", At: now},
		event.Event{Kind: event.AgentInfo, Source: "s1", Agent: "a-floor", Name: "Ann Floor", Queues: []string{"q-floor"}, At: now},
		event.Event{Kind: event.AgentState, Source: "s1", Agent: "a-floor", State: event.StateAvailable, At: now},
		event.Event{Kind: event.AgentInfo, Source: "s1", Agent: "a-private", Name: "Pat Private", Queues: []string{"q-private"}, At: now},
		event.Event{Kind: event.AgentState, Source: "s1", Agent: "a-private", State: event.StateAvailable, At: now})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { n, _ := ts.proj.Counts("private"); return n == 1 })
	tests := []struct {
		name           string
		b              *browser
		header         []string
		agents, queues string
	}{
		{"viewer refused the private board", signedIn(t, ts.URL, "vic"), nil, "a-floor", "q-floor"},
		{"group member", signedIn(t, ts.URL, "gina"), nil, "a-floor a-private", "q-floor q-private"},
		{"admin", signedIn(t, ts.URL, "ada"), nil, "a-floor a-private", "q-floor q-private"},
		{"API token", newBrowser(t, ts.URL), []string{"Authorization", "Bearer api-0123456789abcdef"}, "a-floor a-private", "q-floor q-private"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agents, queues, resp := apiState(t, tt.b, tt.header...)
			if got := strings.Join(sorted(agents), " "); got != tt.agents {
				t.Errorf("agents %q, want %q", got, tt.agents)
			}
			if got := strings.Join(sorted(queues), " "); got != tt.queues {
				t.Errorf("queues %q, want %q", got, tt.queues)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
		})
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// Parallel wrong passwords for one account cannot pass its limit: each
// attempt counts before its password is checked.
func TestParallelGuessesCountBeforeTheCheck(t *testing.T) {
	t.Parallel()
	cfg := secConfig() // 3 per user, 6 per address
	// A hash of a few ms, so that the guesses overlap.
	slow, err := bcrypt.GenerateFromPassword([]byte(password), 7)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Auth.Users {
		cfg.Auth.Users[i].PasswordHash = config.Secret(slow)
	}
	ts := newSecServer(t, cfg)
	const n = 12
	tokens := make([]*browser, n)
	forms := make([]url.Values, n)
	for i := range tokens {
		tokens[i] = newBrowser(t, ts.URL)
		tokens[i].c.Timeout = time.Minute // the race detector slows bcrypt down
		forms[i] = url.Values{"csrf_token": {tokens[i].csrf("/login")}, "username": {"vic"}, "password": {"wrong"}}
	}
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, _ := tokens[i].do("POST", "/login", forms[i])
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	checked := 0
	for _, c := range codes {
		switch c {
		case 401:
			checked++
		case 429:
		default:
			t.Errorf("answer %d", c)
		}
	}
	if checked > 3 {
		t.Errorf("%d passwords checked against a limit of 3: %v", checked, codes)
	}
}

// rawRequest sends head and the first bytes of a body that never comes in
// full, and returns how the server answered (its status line, or "closed")
// within wait.
func rawRequest(t *testing.T, base, head string, wait time.Duration) string {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, head+"abc"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return "still open"
		}
		return "closed"
	}
	return strings.TrimSpace(line)
}

// A body that never arrives in full does not hold its connection: the
// server gives up after the body timeout, on every route but the streams,
// which keep going.
func TestSlowBodiesAreCut(t *testing.T) {
	t.Parallel()
	ts := newSecServerWith(t, secConfig(), func(o *Options) { o.BodyTimeout = 500 * time.Millisecond })
	tests := []struct{ name, head string }{
		{"sign-in", "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n"},
		{"webhook", "POST /hooks/netsapiens/ns HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: wrong\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"},
		{"webhook of an unknown source", "POST /hooks/netsapiens/nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"},
		{"a page that reads no body", "GET /login HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := rawRequest(t, ts.URL, tt.head, 5*time.Second); got == "still open" {
				t.Errorf("connection still open after 5 s")
			}
		})
	}
	// The streams outlive the body timeout.
	lines := openStream(t, ts.URL+"/tv/"+tvToken+"/events")
	readUntil(t, lines, "retry:")
	time.Sleep(time.Second)
	if err := ts.loop.Publish(context.Background(),
		event.Event{Kind: event.AgentInfo, Source: "s1", Agent: "late", Name: "Lou Late", At: time.Now()},
		event.Event{Kind: event.AgentState, Source: "s1", Agent: "late", State: event.StateAvailable, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, lines, "LL")
}

// An anonymous visitor to the sign-in page leaves no session on the
// server: the form's token is bound to a cookie, and the session is made
// at sign-in.
func TestSignInPageKeepsNoState(t *testing.T) {
	t.Parallel()
	ts := newSecServer(t, secConfig())
	store, ok := ts.srv.sessions.Store.(*memstore.MemStore)
	if !ok {
		t.Fatalf("session store %T", ts.srv.sessions.Store)
	}
	count := func() int {
		all, err := store.All()
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	for range 50 {
		resp, _ := newBrowser(t, ts.URL).do("GET", "/login", nil)
		for _, ck := range resp.Cookies() {
			if ck.Name == "wallboard_session" {
				t.Fatalf("GET /login set a session cookie")
			}
		}
		if resp.StatusCode != 200 {
			t.Fatalf("GET /login = %d", resp.StatusCode)
		}
	}
	if n := count(); n != 0 {
		t.Errorf("%d sessions kept for anonymous visitors", n)
	}
	// The form's token works only with its own cookie.
	a, b := newBrowser(t, ts.URL), newBrowser(t, ts.URL)
	tokA := a.csrf("/login")
	b.csrf("/login")
	if resp, _ := b.do("POST", "/login", url.Values{"csrf_token": {tokA}, "username": {"vic"}, "password": {password}}); resp.StatusCode != 403 {
		t.Errorf("another browser's token: %d", resp.StatusCode)
	}
	if resp, _ := newBrowser(t, ts.URL).do("POST", "/login", url.Values{"csrf_token": {tokA}, "username": {"vic"}, "password": {password}}); resp.StatusCode != 403 {
		t.Errorf("a token without its cookie: %d", resp.StatusCode)
	}
	if resp, _ := a.do("POST", "/login", url.Values{"csrf_token": {tokA}, "username": {"vic"}, "password": {password}}); resp.StatusCode != 303 {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	if n := count(); n != 1 {
		t.Errorf("%d sessions after one sign-in", n)
	}
	resp, _ := newBrowser(t, ts.URL).do("GET", "/login", nil)
	var login *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == loginCookie {
			login = ck
		}
	}
	if login == nil || !login.HttpOnly || login.SameSite != http.SameSiteLaxMode || login.Path != "/login" {
		t.Errorf("sign-in cookie %+v", login)
	}
}

// streamOf opens a stream as b (with its cookies).
func streamOf(t *testing.T, b *browser, path string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", b.base+path, nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d", path, resp.StatusCode)
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

// waitClosed waits until the stream's lines end.
func waitClosed(t *testing.T, lines <-chan string, within time.Duration) {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatalf("stream still open after %s", within)
		}
	}
}

// An event stream ends with its session: at sign-out, and when the session
// expires.
func TestStreamsEndWithTheirSession(t *testing.T) {
	t.Parallel()
	t.Run("sign-out", func(t *testing.T) {
		t.Parallel()
		ts := newSecServer(t, secConfig())
		sue := signedIn(t, ts.URL, "sue")
		board := streamOf(t, sue, "/boards/floor/events")
		console := streamOf(t, sue, "/boards/floor/console/events")
		readUntil(t, board, "retry:")
		readUntil(t, console, "retry:")
		other := signedIn(t, ts.URL, "sue") // another session of the same user keeps its stream
		kept := streamOf(t, other, "/boards/floor/events")
		readUntil(t, kept, "retry:")
		if resp, _ := sue.do("POST", "/logout", url.Values{"csrf_token": {sue.csrf("/boards/floor/settings")}}); resp.StatusCode != 303 {
			t.Fatalf("sign-out: %d", resp.StatusCode)
		}
		waitClosed(t, board, 5*time.Second)
		waitClosed(t, console, 5*time.Second)
		ts.proj.SetTicker("floor", "still here")
		readUntil(t, kept, "still here")
	})
	t.Run("expiry", func(t *testing.T) {
		t.Parallel()
		ts := newSecServer(t, secConfig())
		ts.srv.sessions.Lifetime = 2 * time.Second // before any request
		vic := signedIn(t, ts.URL, "vic")
		board := streamOf(t, vic, "/boards/floor/events")
		readUntil(t, board, "retry:")
		waitClosed(t, board, 8*time.Second)
		if resp, _ := vic.do("GET", "/boards/floor", nil); resp.StatusCode != 401 {
			t.Errorf("board after expiry: %d", resp.StatusCode)
		}
	})
}

// HEAD answers on every GET route, with the GET's status and no body.
func TestHeadOnEveryGetRoute(t *testing.T) {
	t.Parallel()
	cfg := secConfig()
	cfg.APITokens = []config.APIToken{{Name: "t", Token: "api-0123456789abcdef"}}
	ts := newSecServer(t, cfg)
	sue := signedIn(t, ts.URL, "sue")
	anon := newBrowser(t, ts.URL)
	tests := []struct {
		name   string
		b      *browser
		path   string
		header []string
		want   int
	}{
		{"health", anon, "/healthz", nil, 200},
		{"readiness", anon, "/readyz", nil, 200},
		{"sign-in page", anon, "/login", nil, 200},
		{"board", sue, "/boards/floor", nil, 200},
		{"board stream", sue, "/boards/floor/events", nil, 200},
		{"kiosk", anon, "/tv/" + tvToken, nil, 200},
		{"kiosk stream", anon, "/tv/" + tvToken + "/events", nil, 200},
		{"state", anon, "/api/v1/state", []string{"Authorization", "Bearer api-0123456789abcdef"}, 200},
		{"metrics", anon, "/metrics", nil, 200},
		{"still refused without sign-in", anon, "/boards/floor", nil, 401},
		{"unknown", anon, "/nope", nil, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tt.b.do("HEAD", tt.path, nil, tt.header...)
			if resp.StatusCode != tt.want || body != "" {
				t.Errorf("HEAD %s = %d with %d bytes, want %d and none", tt.path, resp.StatusCode, len(body), tt.want)
			}
		})
	}
}

// The provider's error text never reaches the sign-in page.
func TestOIDCErrorTextIsNotShown(t *testing.T) {
	t.Parallel()
	idp := newTestIdP(t)
	ts := newSecServer(t, oidcConfig(idp.URL))
	b := newBrowser(t, ts.URL)
	resp, _ := b.do("GET", "/auth/oidc/start", nil)
	for _, ck := range resp.Cookies() {
		if ck.Name == "wallboard_session" {
			t.Error("starting a provider sign-in made a session")
		}
	}
	u, _ := url.Parse(resp.Header.Get("Location"))
	state := u.Query().Get("state")
	resp, body := b.do("GET", "/auth/oidc/callback?"+url.Values{"state": {state},
		"error": {"Your account is locked. Call +1 555 0100 to unlock it"}}.Encode(), nil)
	if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "555 0100") || !strings.Contains(body, "The identity provider refused the sign-in.") {
		t.Errorf("callback with an error: %d %s", resp.StatusCode, excerpt(body, "login-error"))
	}
}

// Over the address's limit, a sign-in is refused before its form is read:
// a body that never arrives gets its 429 at once.
func TestSignInLimitBeforeTheForm(t *testing.T) {
	t.Parallel()
	ts := newSecServer(t, secConfig()) // 6 per address
	b := newBrowser(t, ts.URL)
	for i := range 6 {
		resp, _ := b.do("POST", "/login", url.Values{"csrf_token": {b.csrf("/login")}, "username": {fmt.Sprint("nobody", i)}, "password": {"x"}})
		if resp.StatusCode != 401 {
			t.Fatalf("attempt %d: %d", i, resp.StatusCode)
		}
	}
	head := "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
	if got := rawRequest(t, ts.URL, head, 3*time.Second); !strings.Contains(got, " 429 ") {
		t.Errorf("over the limit, with the form still coming: %q", got)
	}
}

// safeNext never returns a target that leaves this site: whatever comes
// in, the answer is "/" or a path that starts with a single "/" and holds
// no backslash, control character or white space that a browser would
// drop or read as another host.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/boards/floor", "//evil.example", "/\t/evil.example", "/\\evil", "https://evil.example",
		"/\u00a0/x", "/\u2028/x", "/%09/x", "/\x00", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := safeNext(in)
		if out == "/" {
			return
		}
		if out != in || !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.ContainsRune(out, '\\') {
			t.Fatalf("safeNext(%q) = %q", in, out)
		}
		for _, r := range out {
			if r <= ' ' || r == 0x7f || unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
				t.Fatalf("safeNext(%q) = %q keeps %U", in, out, r)
			}
		}
		if u, err := url.Parse(out); err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("safeNext(%q) = %q parses as %+v, %v", in, out, u, err)
		}
	})
}
