package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wallboard/wallboard/internal/vendorsim"
)

// boardQueue is the queue whose agents the load board shows; agents driven
// for ingest only serve otherQueue, so they never reach the board.
const (
	boardQueue = "qb"
	otherQueue = "qo"
)

// A change is one upstream agent state change. Board changes carry their
// sequence number in the not-ready reason code ("801=<seq>"), which the
// board shows raw, so a subscriber can tell exactly which change it got.
type change struct {
	agent int   // board agent index, or other agent index when other
	seq   int64 // board changes: 1, 2, 3…
	other bool
}

// driver feeds upstream changes to a target.
type driver interface {
	// provision creates the board's agents (and the others) before the run.
	provision(board, others int) error
	// send hands changes to the upstream now.
	send(cs []change) error
}

func boardAgentID(i int) string { return "b" + strconv.Itoa(100000 + i)[1:] }
func otherAgentID(i int) string { return "o" + strconv.Itoa(1000000 + i)[1:] }

// pulsarDriver publishes 8x8 events through the Event Streaming emulator:
// the real pulsar source reads them over its WebSocket, base64 and JSON.
type pulsarDriver struct {
	emu       *vendorsim.PulsarServer
	seq       atomic.Int64 // msgInfo sequenceId
	published atomic.Int64 // messages in the topic
}

// publish puts msgs in the topic; the source counts each as one message.
func (d *pulsarDriver) publish(msgs ...[]byte) {
	d.published.Add(int64(len(msgs)))
	d.emu.PublishRaw("", msgs...)
}

func (d *pulsarDriver) want() float64 { return float64(d.published.Load()) }

func (d *pulsarDriver) got(m map[string]float64) float64 { return m["wallboard_source_messages_total"] }

func (d *pulsarDriver) msgInfo(b []byte, now time.Time) []byte {
	b = append(b, `,"msgInfo":{"instanceId":"load","sequenceId":`...)
	b = strconv.AppendInt(b, d.seq.Add(1), 10)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	return append(b, "}}}"...)
}

func (d *pulsarDriver) status(agent string, state int, reason string, now time.Time) []byte {
	b := make([]byte, 0, 256)
	b = append(b, `{"AgentStatusChange":{"agentId":"`...)
	b = append(b, agent...)
	b = append(b, `","newState":`...)
	b = strconv.AppendInt(b, int64(state), 10)
	b = append(b, `,"newSubState":"none","newSubStateReason":"none","newReasonCodeUser":"`...)
	b = append(b, reason...)
	b = append(b, `","statusEventTS":`...)
	b = strconv.AppendInt(b, now.Unix(), 10)
	return d.msgInfo(b, now)
}

func (d *pulsarDriver) provision(board, others int) error {
	now := time.Now()
	var msgs [][]byte
	add := func(id, queue string, i int) {
		msgs = append(msgs, d.msgInfo(fmt.Appendf(nil, `{"AgentProvChange":{"agentId":%q,"numberofChangesThisTime":"1","provisioningItems":{"provisioningItem":{"provisioningItemKey":"agentName","provisioningItemNewValue":"Agent %d","provisioningItemOldValue":""}}`, id, i), now))
		msgs = append(msgs, d.msgInfo(fmt.Appendf(nil, `{"AgentProvChange":{"event":"AgentSkillCreated","agentId":%q,"enabled":"yes","skillId":%q,"tenantSkillId":%q,"tenantSkillName":"Queue %s"`, id, queue, queue, queue), now))
		msgs = append(msgs, d.status(id, 3, "801=0", now))
	}
	for i := range board {
		add(boardAgentID(i), boardQueue, i)
	}
	for i := range others {
		add(otherAgentID(i), otherQueue, i)
	}
	for len(msgs) > 0 {
		n := min(len(msgs), 1000)
		d.publish(msgs[:n]...)
		msgs = msgs[n:]
	}
	return nil
}

func (d *pulsarDriver) send(cs []change) error {
	now := time.Now()
	msgs := make([][]byte, len(cs))
	for i, c := range cs {
		if c.other {
			// Ingest traffic for agents off the board: not ready with a
			// changing reason, so every event changes the model.
			msgs[i] = d.status(otherAgentID(c.agent), 3, "802="+strconv.FormatInt(d.seq.Load()%1000, 10), now)
			continue
		}
		msgs[i] = d.status(boardAgentID(c.agent), 3, "801="+strconv.FormatInt(c.seq, 10), now)
	}
	d.publish(msgs...)
	return nil
}

// baselineDriver posts changes to the baseline server, in order, from one
// goroutine, so a slow answer never holds the pace (send times are taken
// before the post, so the wait counts in the latency).
type baselineDriver struct {
	url  string
	once sync.Once
	q    chan []byte
	done chan struct{}
}

func (d *baselineDriver) start() {
	d.once.Do(func() {
		d.q, d.done = make(chan []byte, 100000), make(chan struct{})
		go func() {
			defer close(d.done)
			for b := range d.q {
				_ = d.post(b)
			}
		}()
	})
}

// flush waits until every queued change is posted.
func (d *baselineDriver) flush() {
	d.start()
	close(d.q)
	<-d.done
}

func (d *baselineDriver) provision(board, others int) error {
	return d.post([]byte("agents " + strconv.Itoa(board) + "\n"))
}

func (d *baselineDriver) send(cs []change) error {
	var b []byte
	for _, c := range cs {
		if c.other {
			continue
		}
		b = strconv.AppendInt(b, int64(c.agent), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, c.seq, 10)
		b = append(b, '\n')
	}
	if len(b) == 0 {
		return nil
	}
	d.start()
	d.q <- b
	return nil
}

func (d *baselineDriver) post(b []byte) error {
	resp, err := http.Post(d.url, "text/plain", bytes.NewReader(b))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("baseline publish: %s", resp.Status)
	}
	return nil
}
