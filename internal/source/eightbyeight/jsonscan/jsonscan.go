// Package jsonscan reads, without reflection, the flat JSON objects the 8x8
// sources see millions of times a day: Pulsar proxy frames and 8x8 status
// events. It accepts a strict subset of JSON — keys and the string values a
// caller uses must be plain (printable ASCII, no escapes) — and reports
// anything else as not OK, so that the caller falls back to encoding/json,
// which then decides, errors included. Everything it accepts is valid JSON
// that encoding/json reads the same way; values it only skips are checked
// with json.Valid.
package jsonscan

import (
	"encoding/json"
)

// Kind is the kind of a value.
type Kind uint8

// The kinds of value.
const (
	Bad Kind = iota
	String
	Number
	True
	False
	Null
	Object
	Array
)

// Scanner walks one JSON document. The zero value is not usable; see New.
type Scanner struct {
	b     []byte
	i     int
	bad   bool
	first bool // just inside '{': no ',' before the first member
}

// New returns a scanner of b.
func New(b []byte) Scanner { return Scanner{b: b} }

// OK reports whether everything so far was in the subset.
func (s *Scanner) OK() bool { return !s.bad }

func (s *Scanner) fail() bool {
	s.bad = true
	return false
}

func (s *Scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// Begin reads the '{' that opens the document's object.
func (s *Scanner) Begin() bool {
	s.ws()
	return s.Enter()
}

// Enter reads the '{' of the object value at the scanner, for Next.
func (s *Scanner) Enter() bool {
	if s.bad || s.i >= len(s.b) || s.b[s.i] != '{' {
		return s.fail()
	}
	s.i++
	s.first = true
	return true
}

// Next moves to the next member of the object last opened with Begin or
// Enter whose members are not all read: it returns the member's plain key,
// with the scanner before its value, and more = true; at the object's
// closing '}' it returns more = false. Not OK after either means: fall
// back. (Objects are read one at a time: a nested object is read to its
// end before its parent's next member.)
func (s *Scanner) Next() (key []byte, more bool) {
	if s.bad {
		return nil, false
	}
	s.ws()
	if s.i >= len(s.b) {
		s.fail()
		return nil, false
	}
	first := s.first
	s.first = false
	switch {
	case s.b[s.i] == '}':
		s.i++
		return nil, false
	case first:
	case s.b[s.i] == ',':
		s.i++
		s.ws()
	default:
		s.fail()
		return nil, false
	}
	k, ok := s.plainString()
	if !ok {
		s.fail()
		return nil, false
	}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		s.fail()
		return nil, false
	}
	s.i++
	s.ws()
	return k, true
}

// plainString reads a string made only of printable ASCII without escapes
// and returns its contents.
func (s *Scanner) plainString() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		c := s.b[j]
		if c == '"' {
			s.i = j + 1
			return s.b[start:j], true
		}
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return nil, false
		}
	}
	return nil, false
}

// Value reads the value at the scanner. For a plain String it returns the
// contents without quotes; for a string that is not plain (escapes,
// non-ASCII) it returns the quoted string and plain = false, already
// checked to be valid JSON (so a caller may skip it); for Number, True,
// False and Null the literal; for Object and Array the whole text, checked
// to be valid JSON. Bad, with the scanner not OK, for anything else.
func (s *Scanner) Value() (k Kind, raw []byte, plain bool) {
	if s.bad || s.i >= len(s.b) {
		s.fail()
		return Bad, nil, false
	}
	start := s.i
	switch c := s.b[s.i]; {
	case c == '"':
		if v, ok := s.plainString(); ok {
			return String, v, true
		}
		end, ok := s.stringEnd(start)
		if !ok || !json.Valid(s.b[start:end]) {
			s.fail()
			return Bad, nil, false
		}
		s.i = end
		return String, s.b[start:end], false
	case c == '-' || (c >= '0' && c <= '9'):
		if !s.number() {
			s.fail()
			return Bad, nil, false
		}
		return Number, s.b[start:s.i], true
	case c == 't':
		return s.literal("true", True)
	case c == 'f':
		return s.literal("false", False)
	case c == 'n':
		return s.literal("null", Null)
	case c == '{' || c == '[':
		end, ok := s.compositeEnd(start)
		if !ok || !json.Valid(s.b[start:end]) {
			s.fail()
			return Bad, nil, false
		}
		s.i = end
		if c == '{' {
			return Object, s.b[start:end], true
		}
		return Array, s.b[start:end], true
	}
	s.fail()
	return Bad, nil, false
}

// Peek returns the first byte of the value at the scanner (0 at the end).
func (s *Scanner) Peek() byte {
	if s.bad || s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *Scanner) literal(lit string, k Kind) (Kind, []byte, bool) {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		s.fail()
		return Bad, nil, false
	}
	start := s.i
	s.i += len(lit)
	return k, s.b[start:s.i], true
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *Scanner) number() bool {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	s.i = i
	return true
}

// stringEnd returns the index after the string starting at start,
// honouring escapes (validity is json.Valid's job).
func (s *Scanner) stringEnd(start int) (int, bool) {
	for j := start + 1; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// compositeEnd returns the index after the object or array starting at
// start, by counting brackets outside strings (validity is json.Valid's
// job).
func (s *Scanner) compositeEnd(start int) (int, bool) {
	depth := 0
	for j := start; j < len(s.b); j++ {
		switch s.b[j] {
		case '"':
			end, ok := s.stringEnd(j)
			if !ok {
				return 0, false
			}
			j = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, true
			}
		}
	}
	return 0, false
}

// End reports whether the document ends here (only whitespace follows)
// and everything was in the subset.
func (s *Scanner) End() bool {
	s.ws()
	return !s.bad && s.i == len(s.b)
}
