package netsapiens

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/wallboard/wallboard/internal/source"
)

// Errors of the subscriptions API that callers branch on.
var (
	// ErrNotFound: the subscription does not exist (any more).
	ErrNotFound = errors.New("subscription not found")
	// ErrConflict: the id or an identical parameter set already exists (409).
	ErrConflict = errors.New("identical subscription exists")
)

// Subscription is a v2 event subscription as the API writes it. Counters
// are read whether they come as numbers or strings.
type Subscription struct {
	ID              string  `json:"id,omitempty"`
	Model           string  `json:"model"`
	PostURL         string  `json:"post-url"`
	Domain          string  `json:"domain,omitempty"`
	User            string  `json:"user,omitempty"`
	Reseller        string  `json:"reseller,omitempty"`
	GeoSupport      string  `json:"subscription-geo-support,omitempty"`
	PreferredServer string  `json:"preferred-server,omitempty"`
	Expires         string  `json:"subscription-expires-datetime,omitempty"`
	Status          string  `json:"status,omitempty"`
	ErrorCount      flexInt `json:"error-count,omitempty"`
	PostsCount      flexInt `json:"posts-count,omitempty"`
	ActiveServer    string  `json:"current-active-server,omitempty"`
}

// flexInt reads a JSON number or a numeric string.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("failed to read count %q: %w", s, err)
	}
	*f = flexInt(n)
	return nil
}

// client calls the subscriptions endpoints of the NetSapiens API v2.
type client struct {
	base   string // https://host/ns-api/v2
	apiKey string
	http   *http.Client
	rec    source.Recorder // nil unless capture is on
}

// subID finds subscription ids in API bodies: they are the webhook's
// credential, so a capture never holds them.
var subID = regexp.MustCompile(`("(?:id|subscription_id|subscription-id)"\s*:\s*)"[^"]*"`)

// record keeps an API exchange for a capture, ids and paths redacted.
func (c *client) record(dir, method, path string, status int, b []byte) {
	if i := strings.Index(path, "/subscriptions/"); i >= 0 {
		path = path[:i] + "/subscriptions/[redacted]"
	}
	line := method + " " + path
	if status != 0 {
		line += " " + strconv.Itoa(status)
	}
	c.rec.Record(dir, "netsapiens-api", append([]byte(line+"\n"), subID.ReplaceAll(b, []byte(`$1"[redacted]"`))...))
}

// shownPath is path as errors name it: a subscription's id is the
// webhook's credential, so it never appears in an error (which may reach
// the admin page and the log).
func shownPath(path string) string {
	if i := strings.Index(path, "/subscriptions/"); i >= 0 {
		return path[:i] + "/subscriptions/{id}"
	}
	return path
}

func (c *client) do(ctx context.Context, method, fullPath string, body any, out any) error {
	path := shownPath(fullPath)
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("failed to encode request: %w", err)
		}
		rd = bytes.NewReader(b)
		if c.rec != nil {
			c.record("out", method, path, 0, b)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+fullPath, rd)
	if err != nil {
		return fmt.Errorf("failed to build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The url.Error names the whole URL, id included: keep its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("failed to call %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("failed to read %s %s: %w", method, path, err)
	}
	if c.rec != nil {
		c.record("in", method, path, resp.StatusCode, b)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return source.Permanent(fmt.Sprintf("NetSapiens API refused the API key (%d %s)", resp.StatusCode, path),
			fmt.Errorf("%s: %s", resp.Status, source.Excerpt(b, 120)))
	case resp.StatusCode == http.StatusNotFound:
		return ErrNotFound
	case resp.StatusCode == http.StatusConflict:
		return fmt.Errorf("%w: %s", ErrConflict, source.Excerpt(b, 120))
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("failed to call %s %s: %s: %s", method, path, resp.Status, source.Excerpt(b, 120))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("failed to decode %s %s: %w", method, path, err)
	}
	return nil
}

// one decodes a response that is an object or an array holding one.
type one struct{ Subscription }

func (o *one) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var list []Subscription
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		if len(list) == 0 {
			return ErrNotFound
		}
		o.Subscription = list[0]
		return nil
	}
	return json.Unmarshal(b, &o.Subscription)
}

func (c *client) create(ctx context.Context, s Subscription) (Subscription, error) {
	var out one
	err := c.do(ctx, http.MethodPost, "/subscriptions", s, &out)
	return out.Subscription, err
}

func (c *client) get(ctx context.Context, id string) (Subscription, error) {
	var out one
	err := c.do(ctx, http.MethodGet, "/subscriptions/"+url.PathEscape(id), nil, &out)
	if errors.Is(err, ErrNotFound) {
		return Subscription{}, ErrNotFound
	}
	return out.Subscription, err
}

func (c *client) list(ctx context.Context) ([]Subscription, error) {
	var out []Subscription
	err := c.do(ctx, http.MethodGet, "/subscriptions", nil, &out)
	return out, err
}

// remove deletes a subscription; the API requires the id and the domain in
// a JSON body as well as in the path.
func (c *client) remove(ctx context.Context, id, domain string) error {
	return c.do(ctx, http.MethodDelete, "/subscriptions/"+url.PathEscape(id),
		map[string]string{"subscription_id": id, "domain": domain}, nil)
}

// callQueues lists the domain's call queues (GET
// /domains/{domain}/callqueues): the queue ids.
func (c *client) callQueues(ctx context.Context, domain string) ([]string, error) {
	var out []map[string]any
	if err := c.do(ctx, http.MethodGet, "/domains/"+url.PathEscape(domain)+"/callqueues", nil, &out); err != nil {
		return nil, err
	}
	var ids []string
	for _, q := range out {
		for _, k := range []string{"callqueue", "callqueue-id", "queue", "user"} {
			if v, ok := q[k].(string); ok && v != "" {
				ids = append(ids, v)
				break
			}
		}
	}
	return ids, nil
}

// queueAgents reads a call queue's agents with their current availability
// (GET /domains/{domain}/callqueues/{queue}/agents): the same objects the
// agent model posts.
func (c *client) queueAgents(ctx context.Context, domain, queue string) ([]Object, error) {
	var raw json.RawMessage
	path := "/domains/" + url.PathEscape(domain) + "/callqueues/" + url.PathEscape(queue) + "/agents"
	if err := c.do(ctx, http.MethodGet, path, nil, &raw); err != nil {
		return nil, err
	}
	objs, _, err := DecodeBatch(raw)
	if err != nil {
		return nil, fmt.Errorf("failed to decode %s: %w", path, err)
	}
	return objs, nil
}
