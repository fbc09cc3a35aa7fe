// Package netsapiens reads NetSapiens API v2 event subscriptions: it keeps
// one subscription per configured model (agent, call, call_origid, cdr,
// presence) on the vendor's API, receives the vendor's webhook posts
// (POST /hooks/netsapiens/{source}, a JSON array of objects per post), and
// translates them into wallboard events.
package netsapiens

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Object is one element of a posted batch, with its keys normalized:
// lower case, '-' replaced by '_', so v2's "call-orig-call-id" and older
// deployments' "call_orig_call_id" read the same. Scalar values are kept as
// text (numbers as written, booleans as "true"/"false"); null and nested
// values are dropped.
type Object struct {
	Fields map[string]string
	// Nested lists the keys (normalized) whose values were objects or
	// arrays: nothing reads those, and a state field among them cannot
	// be read at all.
	Nested []string
}

// JSON renders the object's fields (an example for what no mapping knows).
func (o Object) JSON() []byte {
	b, _ := json.Marshal(o.Fields)
	return b
}

// ErrNotArray is returned for a body that is valid JSON but not an array.
var ErrNotArray = errors.New("body is not a JSON array")

// DecodeBatch decodes one webhook body. The body must be a JSON array; an
// element that is not an object is returned in bad (counted and skipped by
// the caller) rather than failing the whole post.
func DecodeBatch(body []byte) (objs []Object, bad int, err error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '[' {
		if json.Valid(body) {
			return nil, 0, ErrNotArray
		}
		return nil, 0, fmt.Errorf("failed to decode batch: invalid JSON")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, 0, fmt.Errorf("failed to decode batch: %w", err)
	}
	objs = make([]Object, 0, len(raw))
	for _, r := range raw {
		o, ok := decodeObject(r)
		if !ok {
			bad++
			continue
		}
		objs = append(objs, o)
	}
	return objs, bad, nil
}

func decodeObject(r json.RawMessage) (Object, bool) {
	dec := json.NewDecoder(bytes.NewReader(r))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return Object{}, false
	}
	f := make(map[string]string, len(m))
	var nested []string
	for k, v := range m {
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case json.Number:
			s = v.String()
		case bool:
			s = strconv.FormatBool(v)
		case nil:
			continue
		default: // objects, arrays: nothing the mapping reads
			nested = append(nested, normKey(k))
			continue
		}
		f[normKey(k)] = s
	}
	return Object{Fields: f, Nested: nested}, true
}

func normKey(k string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(k)), "-", "_")
}

// Get returns the first non-empty value among the keys (normalized form).
func (o Object) Get(keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(o.Fields[k]); v != "" {
			return v
		}
	}
	return ""
}

// Int returns the first of keys as an integer, or 0.
func (o Object) Int(keys ...string) int {
	n, err := strconv.ParseFloat(o.Get(keys...), 64)
	if err != nil {
		return 0
	}
	return int(n)
}

// Time returns the first of keys as a time; zero when absent or unset
// ("0000-00-00 00:00:00", "0").
func (o Object) Time(loc *time.Location, keys ...string) time.Time {
	for _, k := range keys {
		if t := ParseTime(o.Fields[k], loc); !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// ParseTime reads the datetimes NetSapiens writes: "YYYY-MM-DD HH:MM:SS"
// (in loc), ISO-8601 with an offset, or Unix seconds. Unset values
// ("0000-00-00 00:00:00", "0", "") give the zero time.
func ParseTime(s string, loc *time.Location) time.Time {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}
	}
	if loc == nil {
		loc = time.UTC
	}
	for _, layout := range []string{time.DateTime, "2006-01-02 15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && n < 1e11 {
		return time.Unix(n, 0)
	}
	return time.Time{}
}
