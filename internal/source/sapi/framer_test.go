package sapi

import (
	"strings"
	"testing"
)

// feed pushes chunks one at a time and collects frames and junk.
func feed(chunks ...string) (frames, junk []string) {
	f := newFramer()
	for _, c := range chunks {
		f.push([]byte(c))
		for {
			k, b := f.next()
			if k == itemNone {
				break
			}
			switch k {
			case itemFrame:
				frames = append(frames, string(b))
			case itemJunk:
				junk = append(junk, string(b))
			}
		}
	}
	return frames, junk
}

const (
	ev1 = `{"AgentStatusChange":{"agentId":"a","newState":4,"newReasonCodeUser":"x}{\"y"}}`
	ev2 = `{"Interaction":{"event":"InteractionQueued","attachedData":{"attachedDatum":[{"attachedDataKey":"k","attachedDataValue":"v"}]}}}`
	xe1 = `<AgentStatusChange><agentId>a</agentId><newState>4</newState></AgentStatusChange>`
	xe2 = `<Interaction><event>InteractionQueued</event><attachedData><attachedDatum><attachedDataKey>k</attachedDataKey></attachedDatum></attachedData></Interaction>`
)

func TestFramer(t *testing.T) {
	t.Parallel()
	pad := strings.Repeat(" ", 2048) + "\n"
	tests := []struct {
		name   string
		chunks []string
		frames []string
		junk   int
	}{
		{"padding then two events in one chunk", []string{pad + ev1 + "\n" + ev2 + "\n"}, []string{ev1, ev2}, 0},
		{"8192 padding without newline", []string{strings.Repeat(" ", 8192) + ev1 + "\n"}, []string{ev1}, 0},
		{"html comment padding", []string{"<!-- ------ -->\n<!-- ---", "--- -->\n<!-- EOD -->" + ev1 + "\n"}, []string{ev1}, 0},
		{"event split across chunks", []string{pad, ev1[:10], ev1[10:30], ev1[30:] + "\n" + ev2[:5], ev2[5:]}, []string{ev1, ev2}, 0},
		{"byte by byte", strings.Split(ev1+"\n"+ev2+"\n", ""), []string{ev1, ev2}, 0},
		{"heartbeats between and alone", []string{"X", ev1, "X", "\nX\n", ev2 + "X"}, []string{ev1, ev2}, 0},
		{"length prefix", []string{"79|" + ev1 + "12", "3|" + ev2}, []string{ev1, ev2}, 0},
		{"handshake with other heartbeat chars", []string{"3f2a-11|60000|H|" + ev1 + "H" + ev2}, []string{ev1, ev2}, 0},
		{"json without newlines", []string{ev1 + ev2}, []string{ev1, ev2}, 0},
		{"xml events with declarations", []string{pad + "<?xml version='1.0' encoding='UTF-8' ?>\n" + xe1 + "\n", xe2[:20], xe2[20:] + "\n"}, []string{xe1, xe2}, 0},
		{"xml split inside end tag", []string{xe1[:len(xe1)-3], xe1[len(xe1)-3:]}, []string{xe1}, 0},
		{"garbage line is junk", []string{"garbage\n" + ev1 + "\n"}, []string{ev1}, 1},
		{"cut-short object resyncs at next line", []string{`{"AgentStatusChange":{"agentId":"a"` + "\n" + ev2 + "\n"}, []string{ev2}, 1},
		{"self-closing xml", []string{"<AgentStatusChange/>\n"}, []string{"<AgentStatusChange/>"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			frames, junk := feed(tt.chunks...)
			if strings.Join(frames, "|||") != strings.Join(tt.frames, "|||") {
				t.Errorf("frames:\n got %q\nwant %q", frames, tt.frames)
			}
			if len(junk) != tt.junk {
				t.Errorf("junk = %q, want %d items", junk, tt.junk)
			}
		})
	}
}

// FuzzFramer feeds arbitrary bytes, split at an arbitrary point: nothing may
// panic, and every frame must start with '{' or '<'.
func FuzzFramer(f *testing.F) {
	f.Add([]byte(ev1+"\n"+ev2+"\n"), 7)
	f.Add([]byte("<!-- x -->"+xe1+xe2), 3)
	f.Add([]byte("12|{\"a\":\"}\\\"\"}X"), 1)
	f.Add([]byte("a|b|c|d|<x></x>"), 0)
	f.Fuzz(func(t *testing.T, b []byte, cut int) {
		if cut < 0 || cut > len(b) {
			cut = len(b) / 2
		}
		frames, _ := feed(string(b[:cut]), string(b[cut:]))
		for _, fr := range frames {
			if fr == "" || fr[0] != '{' && fr[0] != '<' {
				t.Fatalf("frame %q", fr)
			}
		}
	})
}
