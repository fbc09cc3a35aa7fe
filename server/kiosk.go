package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/wallboard/wallboard/internal/board"
	"github.com/wallboard/wallboard/internal/config"
	"github.com/wallboard/wallboard/internal/hub"
	"github.com/wallboard/wallboard/internal/i18n"
	"github.com/wallboard/wallboard/templates"
)

// TVs: /tv/{token} shows its board in kiosk layout with no sign-in and no
// cookies. The token grants that board (and the boards its rotation lists)
// and nothing else; removing it from the configuration revokes it. It never
// reaches the logs (redactPath).

// fileKiosk returns the board and kiosk link of the file a token opens,
// comparing it with every configured token in constant time.
func (s *Server) fileKiosk(token string) (*config.Board, *config.Kiosk, bool) {
	var b *config.Board
	var k *config.Kiosk
	for i := range s.cfg.Boards {
		for j := range s.cfg.Boards[i].Kiosk {
			kk := &s.cfg.Boards[i].Kiosk[j]
			if equal(token, kk.Token.Reveal()) && b == nil {
				b, k = &s.cfg.Boards[i], kk
			}
		}
	}
	return b, k, b != nil
}

// kioskScreen resolves a TV request: the board it shows now (screen=N of
// its rotation), the hub stream of that board with the link's name mode.
type kioskScreen struct {
	board    *config.Board
	kiosk    *config.Kiosk
	link     int64 // a database link's id (links.go); 0 for the file's
	index, n int
	stream   string
}

func (s *Server) kioskScreenOf(c echo.Context) (kioskScreen, error) {
	owner, k, link, err := s.kioskEntry(c.Request().Context(), c.Param("token")) // links.go
	if err != nil {
		return kioskScreen{}, err
	}
	ids := append([]string{owner.ID}, k.Rotate...)
	i, _ := strconv.Atoi(c.QueryParam("screen"))
	if i < 0 || i >= len(ids) {
		i = 0
	}
	b, ok := s.board(ids[i])
	if !ok {
		return kioskScreen{}, ErrNotFound
	}
	stream := board.VariantID(b.ID, board.VariantKey(k.Names, k.Lang, b.Lang))
	if _, ok := s.opts.Streams.Lookup(stream); !ok && stream != b.ID {
		// Never the board with names where the link hides them.
		return kioskScreen{}, ErrNotFound
	}
	return kioskScreen{board: b, kiosk: k, link: link, index: i, n: len(ids), stream: stream}, nil
}

func (s *Server) handleKioskPage(c echo.Context) error {
	ks, err := s.kioskScreenOf(c)
	if err != nil {
		return err
	}
	if ks.link != 0 {
		s.links.seen(ks.link, s.clientAddr(c.Request()), time.Now())
	}
	token := url.PathEscape(c.Param("token"))
	embed := c.QueryParam("embed") == "1"
	q := url.Values{}
	if ks.n > 1 {
		q.Set("screen", strconv.Itoa(ks.index))
	}
	return s.boardPage(c, ks.board.ID, ks.stream, "/tv/"+token+"/events", q, true, func(v *templates.Board) {
		k := ks.kiosk
		if ks.n > 1 {
			next := url.Values{"screen": {strconv.Itoa((ks.index + 1) % ks.n)}}
			if embed {
				next.Set("embed", "1")
			}
			v.Screen.NextURL = "/tv/" + token + "?" + next.Encode()
			v.Screen.RotateMs = k.RotateEvery.D().Milliseconds()
		}
		if k.PixelShift != nil {
			v.Screen.ShiftMs = k.PixelShift.D().Milliseconds()
		}
		if k.Sound {
			v.Screen.SoundURL = "/tv/" + token + "/sound" // console.go
		}
		if d := k.Dim; d != nil {
			v.Screen.DimFrom, v.Screen.DimTo = d.From, d.To
			v.Screen.Brightness = strconv.FormatFloat(d.Brightness, 'f', 2, 64)
			if s.cfg.Timezone != "Local" {
				v.Screen.TZ = s.cfg.Timezone
			}
		}
	})
}

func (s *Server) handleKioskEvents(c echo.Context) error {
	ks, err := s.kioskScreenOf(c)
	if err != nil {
		return err
	}
	info := hub.Info{Kiosk: ks.kiosk.Name}
	if ks.link != 0 {
		from := s.clientAddr(c.Request())
		s.links.seen(ks.link, from, time.Now())
		info.Bind = s.links.bind(ks.link, from) // linkwatch.go: revoking ends it
	}
	return s.stream(c, ks.stream, info)
}

// Ticker: a supervisor's message on every screen of a board at once.

// Tickers keeps the boards' ticker messages and sends a new one to every
// screen of its board (board.Projector).
type Tickers interface {
	Ticker(id string) string
	SetTicker(id, msg string) bool
}

// maxTicker is the longest ticker message, in characters.
const maxTicker = 280

func (s *Server) handleBoardSettings(c echo.Context) error {
	_, b, err := s.boardAccess(c, config.RoleSupervisor)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	saved := ""
	if c.QueryParam("saved") == "1" {
		saved = i18n.Key("Saved: every screen of this board shows it now.")
	}
	return render(c, http.StatusOK, templates.BoardSettings(b.ID, b.Title, s.opts.Tickers.Ticker(b.ID), s.csrfToken(ctx), saved, s.templAssets(), viewerLang(c.Request())))
}

func (s *Server) handleSetTicker(c echo.Context) error {
	p, b, err := s.boardAccess(c, config.RoleSupervisor)
	if err != nil {
		return err
	}
	msg := cleanTicker(c.FormValue("message"))
	if c.FormValue("clear") != "" {
		msg = ""
	}
	s.opts.Tickers.SetTicker(b.ID, msg)
	s.log.Info("ticker set", "board", b.ID, "user", p.User, "length", len([]rune(msg)))
	return c.Redirect(http.StatusSeeOther, "/boards/"+url.PathEscape(b.ID)+"/settings?saved=1")
}

// cleanTicker keeps a message to one line of printable text.
func cleanTicker(msg string) string {
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, msg)
	msg = strings.Join(strings.Fields(msg), " ")
	if r := []rune(msg); len(r) > maxTicker {
		msg = string(r[:maxTicker])
	}
	return msg
}
