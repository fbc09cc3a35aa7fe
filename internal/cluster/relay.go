package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// Webhooks may reach any replica, but only the leader's source knows its
// subscriptions and translates posts (a translator keeps state across
// posts, so one must see them all). A replica that does not lead relays a
// post to the leader over NATS request-reply and answers the vendor what
// the leader answered; without a leader the vendor gets 503 and posts
// again.

// ErrNoLeader is returned by Relay when no replica takes relayed posts.
var ErrNoLeader = errors.New("no replica leads: nobody takes the post")

// relayHeaders are the request headers a relayed post carries.
var relayHeaders = []string{"Content-Type", "X-Correlation-ID"}

// hdrStatus carries the leader's HTTP status in the reply.
const hdrStatus = "Wallboard-Status"

// RelayTimeout bounds one relayed post (a source may wait for durability).
const RelayTimeout = 5 * time.Second

func (n *Node) relaySubject(source string) string { return n.o.Prefix + ".hooks." + source }

// Relay hands a post for source to the leader and returns its answer.
func (n *Node) Relay(ctx context.Context, source string, h http.Header, body []byte) (int, []byte, error) {
	select {
	case <-n.ready:
	default:
		return 0, nil, errNotRunning
	}
	m := &nats.Msg{Subject: n.relaySubject(source), Data: body, Header: nats.Header{}}
	for _, k := range relayHeaders {
		if v := h.Get(k); v != "" {
			m.Header.Set(k, v)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, RelayTimeout)
	defer cancel()
	reply, err := n.nc.RequestMsgWithContext(ctx, m)
	if errors.Is(err, nats.ErrNoResponders) {
		return 0, nil, ErrNoLeader
	}
	if err != nil {
		return 0, nil, fmt.Errorf("failed to relay the post to the leader: %w", err)
	}
	status, err := strconv.Atoi(reply.Header.Get(hdrStatus))
	if err != nil || status < 100 || status > 599 {
		return 0, nil, fmt.Errorf("failed to relay the post to the leader: a reply without a status")
	}
	return status, reply.Data, nil
}

// ServeRelays answers the posts other replicas relay, with handle, until
// ctx ends; the leader calls it while it leads.
func (n *Node) ServeRelays(ctx context.Context, handle func(source string, h http.Header, body []byte) (int, []byte)) error {
	sub, err := n.nc.Subscribe(n.o.Prefix+".hooks.*", func(m *nats.Msg) {
		source := m.Subject[len(n.o.Prefix+".hooks."):]
		h := http.Header{}
		for _, k := range relayHeaders {
			if v := m.Header.Get(k); v != "" {
				h.Set(k, v)
			}
		}
		status, body := handle(source, h, m.Data)
		r := &nats.Msg{Data: body, Header: nats.Header{}}
		r.Header.Set(hdrStatus, strconv.Itoa(status))
		_ = m.RespondMsg(r)
	})
	if err != nil {
		return fmt.Errorf("failed to take relayed posts: %w", err)
	}
	<-ctx.Done()
	return sub.Unsubscribe()
}
