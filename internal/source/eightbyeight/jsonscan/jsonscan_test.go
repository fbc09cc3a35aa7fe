package jsonscan

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// walk reads the document's value with the scanner into what
// encoding/json (with UseNumber) would make of it.
func walk(s *Scanner) (any, bool) {
	if s.Peek() == '{' {
		if !s.Enter() {
			return nil, false
		}
		m := map[string]any{}
		for {
			k, more := s.Next()
			if !more {
				return m, s.OK()
			}
			v, ok := walk(s)
			if !ok {
				return nil, false
			}
			m[string(k)] = v
		}
	}
	k, raw, plain := s.Value()
	switch k {
	case String:
		if plain {
			return string(raw), true
		}
		var v string
		err := json.Unmarshal(raw, &v)
		return v, err == nil
	case Number:
		return json.Number(raw), true
	case True:
		return true, true
	case False:
		return false, true
	case Null:
		return nil, true
	case Array:
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		err := d.Decode(&v)
		return v, err == nil
	}
	return nil, false
}

func std(b []byte) (any, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, json.Unmarshal(b, &v) // the trailing-data error
	}
	return v, nil
}

// check: whatever the scanner accepts, encoding/json accepts and reads
// the same.
func check(t *testing.T, b []byte) (accepted bool) {
	t.Helper()
	s := New(b)
	s.ws()
	if s.Peek() != '{' {
		return false
	}
	got, ok := walk(&s)
	if !ok || !s.End() {
		return false
	}
	if !json.Valid(b) {
		t.Fatalf("scanner accepted invalid JSON %q", b)
	}
	want, err := std(b)
	if err != nil {
		t.Fatalf("scanner accepted %q, encoding/json: %v", b, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n scanner %#v\nencoding/json %#v", b, got, want)
	}
	return true
}

func TestScanner(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		ok   bool // the scanner must accept it
	}{
		{"flat", `{"a":"x","b":1,"c":-0.5e+3,"d":true,"e":false,"f":null}`, true},
		{"nested", ` {"a" : {"b":{"c":[1,{"d":"\u00e9"}]}} , "e":"y"}` + "\n", true},
		{"empty", `{}`, true},
		{"empty nested", `{"a":{},"b":[]}`, true},
		{"skipped string with escape", `{"a":"x\"y\\z"}`, true},
		{"skipped non-ascii string", `{"a":"é"}`, true},
		{"escaped key", `{"\u0061":1}`, false},
		{"trailing comma", `{"a":1,}`, false},
		{"leading comma", `{,"a":1}`, false},
		{"missing comma", `{"a":1 "b":2}`, false},
		{"missing colon", `{"a" 1}`, false},
		{"leading zero", `{"a":01}`, false},
		{"bare dot", `{"a":1.}`, false},
		{"bare exponent", `{"a":1e}`, false},
		{"minus alone", `{"a":-}`, false},
		{"truncated", `{"a":"x"`, false},
		{"trailing data", `{"a":1}x`, false},
		{"two documents", `{"a":1}{"b":2}`, false},
		{"bad nested", `{"a":{"b":}}`, false},
		{"bad array", `{"a":[1,]}`, false},
		{"control char", "{\"a\":\"x\ty\"}", false},
		{"tru", `{"a":tru}`, false},
		{"unterminated nested string", `{"a":{"b":"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := check(t, []byte(tt.in)); got != tt.ok {
				t.Errorf("accepted = %v, want %v", got, tt.ok)
			}
		})
	}
}

// FuzzScanner: anything the scanner accepts is valid JSON that
// encoding/json reads the same way.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{`{"a":"x","b":1,"c":{"d":[true,null]}}`, `{"messageId":"CAAQAw==","payload":"e30=","properties":{}}`,
		`{"a":"\u00e9\n","b":-1.5E-3}`, `{}`, `{"a":{"b":{}},"c":[]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { check(t, b) })
}
