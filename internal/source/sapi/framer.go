package sapi

import (
	"bytes"
	"strings"
)

// itemKind is what the framer found at the head of the stream.
type itemKind uint8

const (
	itemNone      itemKind = iota // need more bytes
	itemFrame                     // one event, JSON object or XML element
	itemKeepalive                 // padding, heartbeat, handshake, length prefix
	itemJunk                      // bytes that are none of those: malformed
)

// maxItem bounds one event (and one run of junk) so that a stream that never
// closes its braces cannot grow the buffer without end.
const maxItem = 1 << 20

// framer splits the Atmosphere streaming body into events. TCP chunks do not
// line up with messages, so it buffers and cuts by structure rather than by
// newline: a JSON object ends where its braces balance, an XML event at its
// root's end tag. Between events it skips whitespace padding of any length,
// the older HTML-comment padding, XML declarations, heartbeat characters,
// the protocol handshake (uuid|interval|chars|) and <length>| prefixes.
type framer struct {
	buf       []byte
	heartbeat string // characters Atmosphere writes as a heartbeat
}

func newFramer() *framer { return &framer{heartbeat: "X"} }

func (f *framer) push(p []byte) { f.buf = append(f.buf, p...) }

// next returns the next item and its bytes (valid until the next push).
func (f *framer) next() (itemKind, []byte) {
	b := f.buf
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i > 0 {
		f.consume(i)
		return itemKeepalive, nil
	}
	if len(b) == 0 {
		return itemNone, nil
	}
	switch c := b[0]; {
	case c == '{':
		return f.jsonObject()
	case c == '<':
		return f.markup()
	case c >= '0' && c <= '9':
		if j := bytes.IndexByte(b, '|'); j > 0 && allDigits(b[:j]) {
			f.consume(j + 1) // <length>| prefix: structure frames the event anyway
			return itemKeepalive, nil
		} else if j < 0 && allDigits(b) && len(b) < 12 {
			return itemNone, nil // a prefix still arriving
		}
	}
	if strings.IndexByte(f.heartbeat, b[0]) >= 0 {
		j := 0
		for j < len(b) && strings.IndexByte(f.heartbeat, b[j]) >= 0 {
			j++
		}
		if j == len(b) || isDelim(b[j]) {
			f.consume(j)
			return itemKeepalive, nil
		}
	}
	// A token up to the next delimiter: the handshake, or junk.
	j := 0
	for j < len(b) && !isDelim(b[j]) {
		j++
	}
	if j == len(b) && j < 4096 {
		return itemNone, nil
	}
	tok := b[:j]
	if parts := strings.Split(string(tok), "|"); len(parts) >= 2 {
		// uuid|heartbeatMs|heartbeatChars| (2.2+) or uuid|timestamp (1.0).
		if len(parts) >= 4 && parts[2] != "" {
			f.heartbeat = parts[2]
		}
		f.consume(j)
		return itemKeepalive, nil
	}
	out := bytes.Clone(tok)
	f.consume(j)
	return itemJunk, out
}

func (f *framer) consume(n int) {
	f.buf = f.buf[n:]
	if len(f.buf) == 0 {
		f.buf = f.buf[:0:0] // let the old array go
	}
}

func (f *framer) take(n int, kind itemKind) (itemKind, []byte) {
	out := bytes.Clone(f.buf[:n])
	f.consume(n)
	return kind, out
}

// jsonObject frames a JSON object by balancing braces outside strings. A
// raw newline followed by '{' inside an unfinished object means the object
// was cut short (events are one per line): it is junk and framing restarts.
func (f *framer) jsonObject() (itemKind, []byte) {
	b := f.buf
	depth, inStr, esc := 0, false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\n' && i+1 < len(b) && b[i+1] == '{' {
			return f.take(i+1, itemJunk)
		}
		if i >= maxItem {
			return f.take(i, itemJunk)
		}
		switch {
		case esc:
			esc = false
		case inStr:
			switch c {
			case '\\':
				esc = true
			case '"':
				inStr = false
			case '\n':
				inStr = false // a raw newline cannot be inside a string
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return f.take(i+1, itemFrame)
			}
		}
	}
	return itemNone, nil
}

// markup handles what starts with '<': comments and declarations are
// skipped, an element is framed up to its matching end tag.
func (f *framer) markup() (itemKind, []byte) {
	b := f.buf
	if len(b) < 2 {
		return itemNone, nil
	}
	switch {
	case bytes.HasPrefix(b, []byte("<!--")):
		return f.skipTo("-->")
	case len(b) < 4 && bytes.HasPrefix([]byte("<!--"), b): //nolint:gocritic // argOrder: is b the start of a comment opener split by a read
		return itemNone, nil
	case b[1] == '?' || b[1] == '!':
		return f.skipTo(">")
	}
	// Root element name.
	j := 1
	for j < len(b) && !isSpace(b[j]) && b[j] != '>' && b[j] != '/' && b[j] != '<' {
		j++
	}
	if j == len(b) {
		return f.wait()
	}
	name := b[1:j]
	if len(name) == 0 || !isNameStart(name[0]) {
		// Not an element: junk up to the next '<' or newline.
		k := j
		for k < len(b) && b[k] != '<' && b[k] != '\n' {
			k++
		}
		return f.take(max(k, 1), itemJunk)
	}
	gt := bytes.IndexByte(b[j:], '>')
	if gt < 0 {
		return f.wait()
	}
	if b[j+gt-1] == '/' {
		return f.take(j+gt+1, itemFrame) // <Name/>
	}
	end := []byte("</" + string(name))
	from := j + gt + 1
	for {
		k := bytes.Index(b[from:], end)
		if k < 0 {
			return f.wait()
		}
		k += from + len(end)
		for k < len(b) && isSpace(b[k]) {
			k++
		}
		if k == len(b) {
			return f.wait()
		}
		if b[k] == '>' {
			return f.take(k+1, itemFrame)
		}
		from = k // </NameSuffix…>: keep looking
	}
}

func (f *framer) skipTo(end string) (itemKind, []byte) {
	k := bytes.Index(f.buf, []byte(end))
	if k < 0 {
		return f.wait()
	}
	f.consume(k + len(end))
	return itemKeepalive, nil
}

// wait asks for more bytes unless the item is already too big.
func (f *framer) wait() (itemKind, []byte) {
	if len(f.buf) > maxItem {
		return f.take(len(f.buf), itemJunk)
	}
	return itemNone, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func isDelim(c byte) bool { return isSpace(c) || c == '{' || c == '<' }

func isNameStart(c byte) bool { return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
