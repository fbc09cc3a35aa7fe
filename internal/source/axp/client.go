package axp

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/wallboard/wallboard/internal/source"
)

// ErrUnknownSubscription is returned when the vendor no longer knows a
// subscription (404), so it must be created again.
var ErrUnknownSubscription = errors.New("unknown subscription")

// ErrUnauthorized is returned when the vendor rejected the access token.
var ErrUnauthorized = errors.New("access token rejected")

// APIError is a failed Notification API or token call, with the vendor's
// problem+json title and detail (never a request body or a token).
type APIError struct {
	Op     string
	Status int
	Title  string
	Detail string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("failed to %s: %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Title != "" && e.Title != http.StatusText(e.Status) {
		s += ": " + e.Title
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// problem is an RFC 7807 body.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	// The token endpoint answers in OAuth2 form.
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// apiError builds an APIError from a response body, keeping only the
// problem's title and detail, shortened and made printable.
func apiError(op string, status int, body []byte) *APIError {
	e := &APIError{Op: op, Status: status}
	var p problem
	if json.Unmarshal(body, &p) == nil {
		e.Title, e.Detail = p.Title, p.Detail
		if e.Title == "" {
			e.Title = p.Error
		}
		if e.Detail == "" {
			e.Detail = p.ErrorDescription
		}
	}
	e.Title, e.Detail = source.Excerpt([]byte(e.Title), 120), source.Excerpt([]byte(e.Detail), 200)
	return e
}

// appKeyTransport adds the appkey header that every AXP call needs,
// including the token call.
type appKeyTransport struct {
	key  string
	base http.RoundTripper
}

func (t *appKeyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("appkey", t.key)
	return t.base.RoundTrip(r)
}

// Subscription is the Notification API's view of a subscription.
type Subscription struct {
	SubscriptionID string            `json:"subscriptionId"`
	CreatedAt      string            `json:"createdAt,omitempty"`
	ExpiresAt      string            `json:"expiresAt,omitempty"`
	ExpiresIn      int64             `json:"expiresIn,omitempty"`
	Status         string            `json:"status,omitempty"`
	Family         string            `json:"family"`
	Events         []string          `json:"events"`
	Extensions     map[string]string `json:"extensions,omitempty"`
	Transport      struct {
		Type         string `json:"type"`
		Endpoint     string `json:"endpoint,omitempty"`
		PingInterval int64  `json:"pingInterval,omitempty"`
	} `json:"transport"`

	// Received is when this view arrived; Expiry is when the subscription
	// expires by our clock (received + expiresIn, or expiresAt).
	Received time.Time     `json:"-"`
	Lifetime time.Duration `json:"-"`
}

// Expiry returns when the subscription expires by our clock.
func (s *Subscription) Expiry() time.Time {
	return s.Received.Add(s.Lifetime)
}

// Client is a Notification API client for one account: OAuth2 client
// credentials with the appkey header, tokens refreshed before they expire,
// and the subscription calls.
type Client struct {
	base    string // https://{region}.api.avayacloud.com/api/notification/v1/accounts/{accountId}
	http    *http.Client
	creds   *clientcredentials.Config
	timeout time.Duration

	mu    sync.Mutex
	token *oauth2.Token
	got   time.Time
}

// ClientOptions configure a Client.
type ClientOptions struct {
	URL, AccountID, ClientID, ClientSecret, AppKey string
	TokenURL                                       string // default {URL}/api/auth/v1/{AccountID}/protocol/openid-connect/token
	Timeout                                        time.Duration
	InsecureSkipVerify                             bool
}

// NewClient returns a client for the account.
func NewClient(o ClientOptions) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(o.URL, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("failed to parse url %q", o.URL)
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	root := u.String()
	tokenURL := o.TokenURL
	if tokenURL == "" {
		tokenURL = root + "/api/auth/v1/" + url.PathEscape(o.AccountID) + "/protocol/openid-connect/token"
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	if o.InsecureSkipVerify {
		base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // an explicit lab-only option
	}
	hc := &http.Client{Transport: &appKeyTransport{key: o.AppKey, base: base}, Timeout: o.Timeout}
	return &Client{
		base:    root + "/api/notification/v1/accounts/" + url.PathEscape(o.AccountID),
		http:    hc,
		timeout: o.Timeout,
		creds: &clientcredentials.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, TokenURL: tokenURL,
			AuthStyle: oauth2.AuthStyleInParams},
	}, nil
}

// HTTPClient returns the client's HTTP client (with the appkey header), for
// the WebSocket dial.
func (c *Client) HTTPClient() *http.Client { return c.http }

// Token returns a valid access token, fetching a new one when none is held
// or the held one is within a third of its lifetime (at most a minute) of
// expiring.
func (c *Client) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != nil && time.Now().Before(c.refreshAt()) {
		return c.token.AccessToken, nil
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.http)
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	got := time.Now()
	tok, err := c.creds.Token(ctx)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			e := apiError("get an access token", re.Response.StatusCode, re.Body)
			if re.Response.StatusCode == http.StatusBadRequest || re.Response.StatusCode == http.StatusUnauthorized ||
				re.Response.StatusCode == http.StatusForbidden {
				return "", source.Permanent("credentials rejected: "+e.Error(), ErrUnauthorized)
			}
			return "", e
		}
		return "", fmt.Errorf("failed to get an access token: %w", scrub(err))
	}
	c.token, c.got = tok, got
	return tok.AccessToken, nil
}

// refreshAt is when the held token should be replaced.
func (c *Client) refreshAt() time.Time {
	if c.token.Expiry.IsZero() {
		return c.got.Add(5 * time.Minute)
	}
	life := c.token.Expiry.Sub(c.got)
	early := min(life/3, time.Minute)
	return c.token.Expiry.Add(-early)
}

// InvalidateToken drops the held token so the next call fetches a new one
// (the vendor rejected it).
func (c *Client) InvalidateToken() {
	c.mu.Lock()
	c.token = nil
	c.mu.Unlock()
}

// scrub removes a URL's query from an error (it never carries secrets here,
// but a proxy's error might echo one).
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, strings.SplitN(ue.URL, "?", 2)[0], ue.Err)
	}
	return err
}

// do sends one authenticated JSON call and decodes a 2xx answer into out. A
// 401 fetches a new token and tries once more.
func (c *Client) do(ctx context.Context, op, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("failed to %s: %w", op, err)
		}
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.Token(ctx)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("failed to %s: %w", op, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("failed to %s: %w", op, scrub(err))
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("failed to %s: %w", op, err)
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			c.InvalidateToken()
			continue
		case resp.StatusCode/100 == 2:
			if out != nil && len(bytes.TrimSpace(b)) > 0 {
				if err := json.Unmarshal(b, out); err != nil {
					return fmt.Errorf("failed to %s: failed to decode answer: %w", op, err)
				}
			}
			return nil
		}
		e := apiError(op, resp.StatusCode, b)
		switch resp.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %w", ErrUnknownSubscription, e)
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusBadRequest:
			// Credentials, app key, account or request that retrying will not fix.
			return source.Permanent(e.Error(), e)
		}
		return e
	}
}

// Create creates a WebSocket subscription of family (with events and
// extensions).
func (c *Client) Create(ctx context.Context, family string, events []string, ext map[string]string) (*Subscription, error) {
	in := Subscription{Family: family, Events: events, Extensions: ext}
	in.Transport.Type = "WEBSOCKET"
	var out Subscription
	if err := c.do(ctx, "create subscription", http.MethodPost, "/subscriptions", in, &out); err != nil {
		return nil, err
	}
	if out.SubscriptionID == "" || out.Transport.Endpoint == "" {
		return nil, errors.New("failed to create subscription: the answer has no subscriptionId or transport.endpoint")
	}
	c.stamp(&out)
	return &out, nil
}

// Renew renews subscription id and returns its new view.
func (c *Client) Renew(ctx context.Context, id string) (*Subscription, error) {
	var out Subscription
	if err := c.do(ctx, "renew subscription", http.MethodPost, "/subscriptions/"+url.PathEscape(id)+":renew", nil, &out); err != nil {
		return nil, err
	}
	c.stamp(&out)
	return &out, nil
}

// Get returns subscription id.
func (c *Client) Get(ctx context.Context, id string) (*Subscription, error) {
	var out Subscription
	if err := c.do(ctx, "get subscription", http.MethodGet, "/subscriptions/"+url.PathEscape(id), nil, &out); err != nil {
		return nil, err
	}
	c.stamp(&out)
	return &out, nil
}

// Delete deletes subscription id; an unknown subscription is not an error.
func (c *Client) Delete(ctx context.Context, id string) error {
	err := c.do(ctx, "delete subscription", http.MethodDelete, "/subscriptions/"+url.PathEscape(id), nil, nil)
	if errors.Is(err, ErrUnknownSubscription) {
		return nil
	}
	return err
}

// stamp records when the view arrived and how long the subscription lives,
// preferring expiresIn (relative, immune to clock skew) over expiresAt.
func (c *Client) stamp(s *Subscription) {
	s.Received = time.Now()
	switch {
	case s.ExpiresIn > 0:
		s.Lifetime = time.Duration(s.ExpiresIn) * time.Second
	case s.ExpiresAt != "":
		if t, err := time.Parse(time.RFC3339Nano, s.ExpiresAt); err == nil {
			s.Lifetime = t.Sub(s.Received)
		}
	}
}
