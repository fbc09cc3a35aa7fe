package netsapiens_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/wallboard/wallboard/internal/event"
	"github.com/wallboard/wallboard/internal/source"
	"github.com/wallboard/wallboard/internal/source/netsapiens"
	"github.com/wallboard/wallboard/internal/vendorsim"
)

// TestWebhookAnswersOnlyDurable: with a journal, a post is answered 2xx
// only once its events are durable: until then the vendor must not take
// it as delivered.
func TestWebhookAnswersOnlyDurable(t *testing.T) {
	t.Parallel()
	r := newRig(t, vendorsim.NetSapiensOptions{})
	c := r.config("nsd")
	src, err := netsapiens.New(c, r.st, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.srcs[c.Name] = src
	r.mu.Unlock()
	sk := newSink()
	rep := source.NewReporter(c.Name, c.Type, sk, nil)
	d := source.NewDurable()
	rep.SetDurable(d)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		source.Supervise(ctx, src, rep, source.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond})
	}()
	defer func() { cancel(); <-done }()
	sk.WaitForAll(t, "live", func([]event.Event) bool { return rep.Stats().Status == event.StatusLive })

	call := subsByModel(r.emu)["call"].ID
	answered := make(chan vendorsim.NetSapiensPost, 1)
	go func() {
		answered <- r.emu.PostRaw(call, call, []byte(`[{"call-orig-call-id":"dur1","call-orig-to-user":"nsq100"}]`))
	}()
	sk.WaitForAll(t, "the post's events", func(evs []event.Event) bool { return countKind(evs, event.ContactQueued, "dur1") > 0 })
	select {
	case p := <-answered:
		t.Fatalf("answered %d before the events were durable", p.Status)
	case <-time.After(200 * time.Millisecond):
	}
	d.Advance(1 << 40)
	select {
	case p := <-answered:
		if p.Status != http.StatusOK {
			t.Fatalf("answered %d once durable, want 200", p.Status)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer after the events became durable")
	}
}

// TestResyncReadsQueueAgents: a change posted while wallboard could not
// receive it is not posted again; the next session reads the call queues'
// agents and hands their state on.
func TestResyncReadsQueueAgents(t *testing.T) {
	t.Parallel()
	r := newRig(t, vendorsim.NetSapiensOptions{})
	c := r.config("nsr")
	rn := r.start(t, c, r.st)
	rn.waitStatus(t, event.StatusLive)
	rn.stop()
	r.mu.Lock()
	delete(r.srcs, c.Name) // wallboard is down: posts fail
	r.mu.Unlock()
	agent := r.sim.Agents()[0].ID
	want := event.StateAvailable
	if r.sim.Truth().Agents[agent].State == event.StateAvailable {
		want = event.StateLoggedOut
	}
	r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: agent, State: want})
	time.Sleep(100 * time.Millisecond) // the emulator's post fails now

	rn2 := r.start(t, c, r.st)
	rn2.sink.WaitForAll(t, "the agent's change made while down", func(evs []event.Event) bool {
		return agentStates(evs)[agent].State == want
	})
}

// TestResyncAfterLostPosts: posts that fail (here refused for a wrong
// X-Correlation-ID) raise the subscription's error count; the next status
// check reads the call queues' agents, so the change they carried is not
// lost for good.
func TestResyncAfterLostPosts(t *testing.T) {
	t.Parallel()
	r := newRig(t, vendorsim.NetSapiensOptions{})
	rn := r.start(t, r.config("nsl"), r.st)
	rn.waitStatus(t, event.StatusLive)
	r.emu.SetFaults(vendorsim.NetSapiensFaults{WrongCorrelationID: true})
	agent := r.sim.Agents()[1].ID
	want := event.StateAvailable
	if r.sim.Truth().Agents[agent].State == event.StateAvailable {
		want = event.StateLoggedOut
	}
	r.sim.Do(vendorsim.Action{Kind: vendorsim.ActionAgentState, Agent: agent, State: want})
	deadline := time.Now().Add(5 * time.Second)
	for subsByModel(r.emu)["agent"].ErrorCount == 0 { // the post carrying the change was refused
		if time.Now().After(deadline) {
			t.Fatal("the emulator's post was not refused")
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.emu.SetFaults(vendorsim.NetSapiensFaults{})
	rn.sink.WaitForAll(t, "the change of the refused post", func(evs []event.Event) bool {
		return agentStates(evs)[agent].State == want
	})
}
