package board

import (
	"bytes"
	"context"
	"sync"

	"github.com/wallboard/wallboard/templates"
)

// The ticker: a supervisor's message along the bottom of every screen of a
// board, whatever its stream (the board, its variants, its console).

// tickers are the boards' ticker messages, by board id.
type tickers struct {
	mu  sync.RWMutex
	msg map[string]string
}

// Ticker returns the ticker message of the board of stream id ("" for none).
func (p *Projector) Ticker(id string) string {
	if b := p.set.Load().byID[id]; b != nil {
		id = b.Def.ID
	}
	p.tickers.mu.RLock()
	defer p.tickers.mu.RUnlock()
	return p.tickers.msg[id]
}

// SetTicker sets board id's ticker message and sends it to every stream of
// the board, in one frame each. It reports false when id is not a board.
func (p *Projector) SetTicker(id, msg string) bool {
	set := p.set.Load()
	if b := set.byID[id]; b == nil || b.id != b.Def.ID {
		return false
	}
	p.tickers.mu.Lock()
	defer p.tickers.mu.Unlock() // held while publishing: a reset cannot interleave
	if p.tickers.msg == nil {
		p.tickers.msg = map[string]string{}
	}
	p.tickers.msg[id] = msg
	frag := p.tickerFragment(msg)
	for _, b := range set.streams {
		if b.Def.ID == id && b.pub != nil {
			b.pub.Publish(frag)
		}
	}
	return true
}

// TickerFragment is the ticker of the board of stream id as an out-of-band
// swap, for resets.
func (p *Projector) TickerFragment(id string) []byte {
	return p.tickerFragment(p.Ticker(id))
}

func (p *Projector) tickerFragment(msg string) []byte {
	var buf bytes.Buffer
	if err := templates.Ticker(msg, true).Render(context.Background(), &buf); err != nil {
		p.log.Error("failed to render ticker", "error", err)
	}
	return buf.Bytes()
}
